"""client.messages: create, list in both directions, retrieve, update, delete."""

from __future__ import annotations

from datetime import timezone

import pytest

from whop_dm import (
    AsyncClient,
    Message,
    MessageType,
    MessageUser,
    NotFoundError,
    PermissionDeniedError,
    PollOption,
)
from whop_dm.testing import FakeWhop

pytest_plugins = ["surface_support"]


@pytest.fixture
async def channel_id(owner: AsyncClient) -> str:
    return (await owner.dm_channels.create(with_user_ids=["user_bob"])).id


async def post(client: AsyncClient, channel_id: str, *texts: str) -> list[str]:
    return [(await client.messages.create(channel_id=channel_id, content=t)).id for t in texts]


async def test_create_returns_the_message_as_posted(
    bob: AsyncClient, channel_id: str, surface_fake: FakeWhop
) -> None:
    message = await bob.messages.create(channel_id=channel_id, content="Hello **world**")
    assert isinstance(message, Message)
    assert message.id.startswith("msg_")
    assert message.content == "Hello **world**"
    assert message.user == MessageUser(id="user_bob", username="bob", name="Bob")
    assert message.message_type is MessageType.REGULAR
    assert (message.is_edited, message.is_pinned) == (False, False)
    assert message.replying_to_message_id is None
    assert message.created_at.tzinfo is timezone.utc
    assert message.updated_at == message.created_at
    request = surface_fake.requests[-1]
    assert request.json == {"channel_id": channel_id, "content": "Hello **world**"}
    assert request.headers.get("Idempotency-Key")


async def test_create_replying_to_a_message(owner: AsyncClient, channel_id: str) -> None:
    (first,) = await post(owner, channel_id, "question?")
    reply = await owner.messages.create(
        channel_id=channel_id, content="answer", replying_to_message_id=first
    )
    assert reply.replying_to_message_id == first


async def test_create_sends_the_given_idempotency_key_and_a_repeat_posts_once(
    owner: AsyncClient, channel_id: str, surface_fake: FakeWhop
) -> None:
    one = await owner.messages.create(channel_id=channel_id, content="once", idempotency_key="k-1")
    two = await owner.messages.create(channel_id=channel_id, content="once", idempotency_key="k-1")
    assert one == two
    assert len(surface_fake.messages) == 1
    assert surface_fake.requests[-1].headers["Idempotency-Key"] == "k-1"


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"content": ""}, ValueError),
        ({"content": "   "}, ValueError),
        ({"content": None}, TypeError),
        ({"content": "hi", "channel_id": ""}, ValueError),
        ({"content": "hi", "replying_to_message_id": ""}, ValueError),
        ({"content": "hi", "idempotency_key": "has space"}, ValueError),
    ],
)
async def test_create_refuses_bad_arguments_before_sending(
    owner: AsyncClient, surface_fake: FakeWhop, arguments: dict[str, object], error: type[Exception]
) -> None:
    arguments = {"channel_id": "feed_x", **arguments}
    with pytest.raises(error):
        await owner.messages.create(**arguments)  # type: ignore[arg-type]
    assert surface_fake.requests == []


async def test_list_is_oldest_first_by_default_across_pages(
    owner: AsyncClient, channel_id: str, surface_fake: FakeWhop
) -> None:
    ids = await post(owner, channel_id, "a", "b", "c", "d", "e")
    surface_fake.clear_requests()
    seen = [m.id async for m in owner.messages.list(channel_id=channel_id, page_size=2)]
    assert seen == ids
    assert len(surface_fake.requests) == 3
    assert "direction" not in surface_fake.requests[0].query


async def test_list_desc_is_newest_first_across_pages(
    owner: AsyncClient, channel_id: str, surface_fake: FakeWhop
) -> None:
    ids = await post(owner, channel_id, "a", "b", "c", "d", "e")
    surface_fake.clear_requests()
    seen = [
        m.content
        async for m in owner.messages.list(channel_id=channel_id, direction="desc", page_size=2)
    ]
    assert seen == ["e", "d", "c", "b", "a"]
    assert len(ids) == 5
    assert {r.query["direction"] for r in surface_fake.requests} == {"desc"}


async def test_list_asc_sends_the_direction(
    owner: AsyncClient, channel_id: str, surface_fake: FakeWhop
) -> None:
    await post(owner, channel_id, "a", "b")
    page = await owner.messages.list(channel_id=channel_id, direction="asc").first_page()
    assert [m.content for m in page.data] == ["a", "b"]
    assert surface_fake.requests[-1].query["direction"] == "asc"


@pytest.mark.parametrize(
    ("direction", "error"), [("up", ValueError), ("ASC", ValueError), (1, TypeError)]
)
def test_list_refuses_an_unknown_direction_at_call_time(
    owner: AsyncClient, direction: object, error: type[Exception]
) -> None:
    with pytest.raises(error, match="direction"):
        owner.messages.list(channel_id="feed_x", direction=direction)  # type: ignore[arg-type]


async def test_retrieve_returns_the_message(owner: AsyncClient, channel_id: str) -> None:
    created = await owner.messages.create(channel_id=channel_id, content="keep me")
    assert await owner.messages.retrieve(created.id) == created


async def test_retrieve_of_an_unknown_id_raises_not_found(owner: AsyncClient) -> None:
    with pytest.raises(NotFoundError):
        await owner.messages.retrieve("msg_doesnotexist")


async def test_update_edits_the_content(
    owner: AsyncClient, channel_id: str, surface_fake: FakeWhop
) -> None:
    created = await owner.messages.create(channel_id=channel_id, content="teh typo")
    edited = await owner.messages.update(created.id, content="the typo")
    assert edited.content == "the typo"
    assert edited.is_edited is True
    assert edited.updated_at >= created.updated_at
    assert surface_fake.requests[-1].json == {"content": "the typo"}


async def test_update_pins_and_unpins(
    owner: AsyncClient, bob: AsyncClient, channel_id: str, surface_fake: FakeWhop
) -> None:
    (message_id,) = await post(bob, channel_id, "pin me")
    pinned = await owner.messages.update(message_id, is_pinned=True)  # owner is the admin
    assert pinned.is_pinned is True
    assert pinned.is_edited is False
    assert surface_fake.requests[-1].json == {"is_pinned": True}
    assert (await bob.messages.update(message_id, is_pinned=False)).is_pinned is False


async def test_only_the_author_may_edit_the_content(
    owner: AsyncClient, bob: AsyncClient, channel_id: str
) -> None:
    (message_id,) = await post(owner, channel_id, "mine")
    with pytest.raises(PermissionDeniedError):
        await bob.messages.update(message_id, content="yours")


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({}, ValueError),
        ({"content": ""}, ValueError),
        ({"is_pinned": 1}, TypeError),
        ({"content": 5}, TypeError),
    ],
)
async def test_update_refuses_bad_arguments_before_sending(
    owner: AsyncClient, surface_fake: FakeWhop, changes: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        await owner.messages.update("msg_x", **changes)  # type: ignore[arg-type]
    assert surface_fake.requests == []


async def test_delete_removes_the_message(
    owner: AsyncClient, channel_id: str, surface_fake: FakeWhop
) -> None:
    kept, gone = await post(owner, channel_id, "keep", "drop")
    assert await owner.messages.delete(gone) is True
    assert [m.id for m in surface_fake.messages] == [kept]
    with pytest.raises(NotFoundError):
        await owner.messages.retrieve(gone)
    assert [m.id async for m in owner.messages.list(channel_id=channel_id)] == [kept]


async def test_a_member_who_is_neither_author_nor_admin_cannot_delete(
    owner: AsyncClient, bob: AsyncClient, channel_id: str
) -> None:
    (message_id,) = await post(owner, channel_id, "the owner's")
    with pytest.raises(PermissionDeniedError):
        await bob.messages.delete(message_id)


async def test_a_user_who_is_not_a_member_sees_no_messages(
    owner: AsyncClient, dave: AsyncClient, channel_id: str
) -> None:
    (message_id,) = await post(owner, channel_id, "private")
    with pytest.raises(NotFoundError):
        await dave.messages.retrieve(message_id)
    with pytest.raises(NotFoundError):
        await dave.messages.list(channel_id=channel_id).first_page()
    with pytest.raises(NotFoundError):
        await dave.messages.create(channel_id=channel_id, content="let me in")
    with pytest.raises(NotFoundError):
        await dave.messages.update(message_id, is_pinned=True)
    with pytest.raises(NotFoundError):
        await dave.messages.delete(message_id)


async def test_create_sends_attachments_as_file_references_and_the_fake_keeps_them(
    owner: AsyncClient, channel_id: str, surface_fake: FakeWhop
) -> None:
    await owner.messages.create(
        channel_id=channel_id, content="files", attachments=["file_a", "file_b"]
    )
    [request] = [r for r in surface_fake.requests if r.method == "POST"][-1:]
    assert request.json["attachments"] == [{"id": "file_a"}, {"id": "file_b"}]
    assert surface_fake.messages[-1].attachment_ids == ("file_a", "file_b")


async def test_create_sends_auto_detect_links(
    owner: AsyncClient, channel_id: str, surface_fake: FakeWhop
) -> None:
    await owner.messages.create(
        channel_id=channel_id, content="see https://example.com", auto_detect_links=False
    )
    assert surface_fake.requests[-1].json["auto_detect_links"] is False


async def test_create_with_a_poll_numbers_its_options_and_answers_the_poll(
    owner: AsyncClient, channel_id: str, surface_fake: FakeWhop
) -> None:
    message = await owner.messages.create(
        channel_id=channel_id, content="Lunch?", poll=["Tea", "Soup"]
    )
    assert surface_fake.requests[-1].json["poll"] == {
        "options": [{"id": "1", "text": "Tea"}, {"id": "2", "text": "Soup"}]
    }
    assert message.poll is not None
    assert message.poll.options == (PollOption(id="1", text="Tea"), PollOption(id="2", text="Soup"))


async def test_update_replaces_the_attachments(
    owner: AsyncClient, channel_id: str, surface_fake: FakeWhop
) -> None:
    [message_id] = await post(owner, channel_id, "files")
    await owner.messages.update(message_id, attachments=["file_c"])
    assert surface_fake.requests[-1].json == {"attachments": [{"id": "file_c"}]}
    await owner.messages.update(message_id, attachments=[])
    assert surface_fake.messages[-1].attachment_ids == ()


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"attachments": "file_a"}, TypeError),
        ({"attachments": [""]}, ValueError),
        ({"attachments": [3]}, TypeError),
        ({"auto_detect_links": "yes"}, TypeError),
        ({"poll": []}, ValueError),
        ({"poll": "Tea"}, TypeError),
        ({"poll": ["Tea", " "]}, ValueError),
    ],
)
async def test_create_refuses_bad_attachments_links_or_poll_before_sending(
    owner: AsyncClient, surface_fake: FakeWhop, arguments: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        await owner.messages.create(channel_id="feed_x", content="x", **arguments)  # type: ignore[arg-type]
    assert surface_fake.requests == []
