"""client.reactions: emoji reactions and poll votes, over HTTP against the fake."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from whop_dm import (
    AsyncClient,
    BadRequestError,
    MessageUser,
    NotFoundError,
    PermissionDeniedError,
    Reaction,
    ReactionCount,
)
from whop_dm.testing import FakeWhop

pytest_plugins = ["surface_support"]


@pytest.fixture
async def message_id(owner: AsyncClient) -> str:
    """A message of the owner's, in a channel with Bob."""
    channel = await owner.dm_channels.create(with_user_ids=["user_bob"])
    return (await owner.messages.create(channel_id=channel.id, content="Ship it?")).id


async def test_create_answers_the_reaction_by_the_caller(
    bob: AsyncClient, message_id: str, surface_fake: FakeWhop
) -> None:
    reaction = await bob.reactions.create(resource_id=message_id, emoji=":heart:")
    assert isinstance(reaction, Reaction)
    assert reaction.resource_id == message_id
    assert reaction.emoji == ":heart:"
    assert reaction.user == MessageUser(id="user_bob", username="bob", name="Bob")
    assert surface_fake.requests[-1].json == {"resource_id": message_id, "emoji": ":heart:"}
    assert "Idempotency-Key" in surface_fake.requests[-1].headers


async def test_a_reaction_shows_in_the_messages_counts(
    owner: AsyncClient, bob: AsyncClient, message_id: str
) -> None:
    await bob.reactions.create(resource_id=message_id, emoji=":fire:")
    message = await owner.messages.retrieve(message_id)
    assert message.reaction_counts == (ReactionCount(emoji=":fire:", count=1),)


async def test_a_poll_vote_is_cast_with_poll_option_id(
    owner: AsyncClient, bob: AsyncClient, surface_fake: FakeWhop
) -> None:
    channel = await owner.dm_channels.create(with_user_ids=["user_bob"])
    poll = await owner.messages.create(
        channel_id=channel.id, content="Lunch?", poll=["Tea", "Soup"]
    )
    vote = await bob.reactions.create(resource_id=poll.id, poll_option_id="2")
    assert vote.emoji is None
    counted = await owner.messages.retrieve(poll.id)
    assert [(v.option_id, v.count) for v in counted.poll_votes] == [("2", 1)]
    assert surface_fake.requests[-2].json == {"resource_id": poll.id, "poll_option_id": "2"}


async def test_a_vote_for_an_option_that_does_not_exist_is_a_bad_request(
    bob: AsyncClient, message_id: str
) -> None:
    with pytest.raises(BadRequestError):
        await bob.reactions.create(resource_id=message_id, poll_option_id="9")


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({}, ValueError),
        ({"emoji": ":x:", "poll_option_id": "1"}, ValueError),
        ({"emoji": ""}, ValueError),
        ({"emoji": 3}, TypeError),
        ({"poll_option_id": ""}, ValueError),
    ],
)
async def test_create_refuses_bad_arguments_before_sending(
    owner: AsyncClient, surface_fake: FakeWhop, arguments: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        await owner.reactions.create(resource_id="msg_x", **arguments)  # type: ignore[arg-type]
    assert surface_fake.requests == []


async def test_list_is_most_recent_first_across_pages(
    owner: AsyncClient, bob: AsyncClient, message_id: str
) -> None:
    made = [
        (await client.reactions.create(resource_id=message_id, emoji=emoji)).id
        for client, emoji in ((bob, ":a:"), (owner, ":b:"), (bob, ":c:"))
    ]
    listed = [r.id async for r in owner.reactions.list(resource_id=message_id, page_size=2)]
    assert listed == made[::-1]
    oldest_first = [r.id async for r in owner.reactions.list(resource_id=message_id, last=2)]
    assert oldest_first == made


async def test_retrieve_returns_the_reaction(
    owner: AsyncClient, bob: AsyncClient, message_id: str
) -> None:
    reaction = await bob.reactions.create(resource_id=message_id, emoji=":wave:")
    assert await owner.reactions.retrieve(reaction.id) == reaction
    with pytest.raises(NotFoundError):
        await owner.reactions.retrieve("reac_unknown")


async def test_delete_by_reaction_id(
    bob: AsyncClient, message_id: str, surface_fake: FakeWhop
) -> None:
    reaction = await bob.reactions.create(resource_id=message_id, emoji=":wave:")
    assert await bob.reactions.delete(reaction.id) is True
    assert surface_fake.reactions == []
    assert "emoji" not in surface_fake.requests[-1].query


async def test_delete_by_message_id_with_the_emoji_removes_the_callers_reaction(
    owner: AsyncClient, bob: AsyncClient, message_id: str, surface_fake: FakeWhop
) -> None:
    await owner.reactions.create(resource_id=message_id, emoji=":heart:")
    await bob.reactions.create(resource_id=message_id, emoji=":heart:")
    assert await bob.reactions.delete(message_id, emoji=":heart:") is True
    assert surface_fake.requests[-1].query == {"emoji": ":heart:"}
    assert [r.user_id for r in surface_fake.reactions] == ["user_owner"]


async def test_delete_by_message_id_without_an_emoji_is_a_bad_request(
    bob: AsyncClient, message_id: str
) -> None:
    await bob.reactions.create(resource_id=message_id, emoji=":heart:")
    with pytest.raises(BadRequestError):
        await bob.reactions.delete(message_id)


async def test_only_the_author_or_an_admin_removes_a_reaction(
    owner: AsyncClient, make_client: Callable[..., AsyncClient]
) -> None:
    channel = await owner.dm_channels.create(with_user_ids=["user_bob", "user_carol"])
    message = await owner.messages.create(channel_id=channel.id, content="x")
    bob = make_client("user_bob")
    carol = make_client("user_carol")
    by_carol = await carol.reactions.create(resource_id=message.id, emoji=":ok:")
    with pytest.raises(PermissionDeniedError):
        await bob.reactions.delete(by_carol.id)
    assert await owner.reactions.delete(by_carol.id) is True


async def test_a_stranger_cannot_react(dave: AsyncClient, message_id: str) -> None:
    with pytest.raises(NotFoundError):
        await dave.reactions.create(resource_id=message_id, emoji=":eyes:")
