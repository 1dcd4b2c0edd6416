"""The official SDK (``whop-sdk``) against FakeWhop: every DM operation of the
spec is served in a form the SDK decodes into its own models.

The SDK is generated from Whop's API definition by another party, so it is an
independent reading of the same contract: if the fake answered a shape Whop
does not, the SDK's pydantic models would refuse it here. Each test calls one
SDK method over real HTTP on loopback and checks the decoded answer against
the fake's state.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from whop_sdk import Whop
from whop_sdk.environment import WhopEnvironment
from whop_sdk.messages.types.create_messages_request_attachments_item import (
    CreateMessagesRequestAttachmentsItem,
)
from whop_sdk.messages.types.create_messages_request_poll import CreateMessagesRequestPoll
from whop_sdk.messages.types.create_messages_request_poll_options_item import (
    CreateMessagesRequestPollOptionsItem,
)
from whop_sdk.messages.types.update_messages_request_attachments_item import (
    UpdateMessagesRequestAttachmentsItem,
)
from whop_sdk.types.dm_channel import DmChannel
from whop_sdk.types.dm_member import DmMember
from whop_sdk.types.message import Message
from whop_sdk.types.reaction import Reaction

from whop_dm.testing import FakeWhop

from .operations import SDK_METHODS, Operation, spec_operations

OWNER_KEY = "whop_sdk_owner_key"
BOB_KEY = "whop_sdk_bob_key"


@dataclass
class World:
    fake: FakeWhop
    owner: Whop
    bob: Whop
    channel_id: str
    message_id: str  # the owner's, with a poll of two options
    reaction_id: str  # Bob's :heart: on it


def sdk(fake: FakeWhop, key: str, http: httpx.Client) -> Whop:
    environment = WhopEnvironment(api=fake.base_url, vault=fake.base_url)
    return Whop(environment=environment, token=key, max_retries=0, httpx_client=http)


@contextlib.contextmanager
def make_world() -> Iterator[World]:
    """A fake with a channel (the owner and Bob), a poll message and Bob's reaction."""
    # Our own httpx client, closed after the test (the SDK's would be left open).
    with FakeWhop.in_thread(seed=5) as fake, httpx.Client(timeout=10) as http:
        fake.add_user("user_owner", username="owner", name="Owner")
        fake.add_user("user_bob", username="bob")
        fake.add_user("user_carol", username="carol")
        fake.add_api_key(OWNER_KEY, user_id="user_owner")
        fake.add_api_key(BOB_KEY, user_id="user_bob")
        owner, bob = sdk(fake, OWNER_KEY, http), sdk(fake, BOB_KEY, http)
        channel = owner.dm_channels.create(with_user_ids=["user_bob"])
        poll = CreateMessagesRequestPoll(
            options=[
                CreateMessagesRequestPollOptionsItem(id="1", text="Tea"),
                CreateMessagesRequestPollOptionsItem(id="2", text="Soup"),
            ]
        )
        message = owner.messages.create(channel_id=channel.id, content="Lunch?", poll=poll)
        reaction = bob.reactions.create(resource_id=message.id, emoji=":heart:")
        fake.clear_requests()
        yield World(fake, owner, bob, channel.id, message.id, reaction.id)


@pytest.fixture
def world() -> Iterator[World]:
    with make_world() as made:
        yield made


def create_dm_channel(w: World) -> None:
    channel = w.owner.dm_channels.create(
        with_user_ids=["carol"],
        account_id="biz_sdk",
        custom_name="Support",
        notifications_enabled=False,
    )
    assert isinstance(channel, DmChannel)
    held = w.fake.channels[channel.id]
    assert (channel.name, held.company_id, held.notifications_enabled) == (
        "Support",
        "biz_sdk",
        False,
    )
    assert held.participants == {"user_owner", "user_carol"}


def list_dm_channel(w: World) -> None:
    newer = w.owner.dm_channels.create(with_user_ids=["user_carol"])
    listed = [channel.id for channel in w.owner.dm_channels.list(first=1)]
    assert listed == [newer.id, w.channel_id]  # most recently active first, one per page
    scoped = w.owner.dm_channels.create(with_user_ids=["user_carol"], account_id="biz_x")
    assert [c.id for c in w.owner.dm_channels.list(account_id="biz_x")] == [scoped.id]


def retrieve_dm_channel(w: World) -> None:
    channel = w.owner.dm_channels.retrieve(w.channel_id)
    assert isinstance(channel, DmChannel)
    assert channel.id == w.channel_id
    assert channel.last_message_at is not None


def update_dm_channel(w: World) -> None:
    channel = w.owner.dm_channels.update(w.channel_id, custom_name="Renamed")
    assert channel.name == "Renamed" == w.fake.channels[w.channel_id].name


def delete_dm_channel(w: World) -> None:
    assert w.owner.dm_channels.delete(w.channel_id) is True
    assert w.channel_id not in w.fake.channels


def create_dm_member(w: World) -> None:
    member = w.owner.dm_members.create(channel_id=w.channel_id, user_id="user_carol")
    assert isinstance(member, DmMember)
    assert (member.user_id, member.channel_id, member.status) == (
        "user_carol",
        w.channel_id,
        "accepted",
    )


def list_dm_member(w: World) -> None:
    members = list(w.owner.dm_members.list(channel_id=w.channel_id))
    assert [m.user_id for m in members] == ["user_owner", "user_bob"]


def _bobs_membership(w: World) -> str:
    [member] = [m for m in w.fake.members_of(w.channel_id) if m.user_id == "user_bob"]
    return member.id


def retrieve_dm_member(w: World) -> None:
    member = w.owner.dm_members.retrieve(_bobs_membership(w))
    assert isinstance(member, DmMember)
    assert member.user_id == "user_bob"


def update_dm_member(w: World) -> None:
    member = w.bob.dm_members.update(
        _bobs_membership(w), notification_preference="mentions", status="archived"
    )
    assert (member.notification_preference, member.status) == ("mentions", "archived")


def delete_dm_member(w: World) -> None:
    assert w.bob.dm_members.delete(_bobs_membership(w)) is True
    assert w.fake.channels[w.channel_id].participants == {"user_owner"}


def create_message(w: World) -> None:
    message = w.bob.messages.create(
        channel_id=w.channel_id,
        content="Soup, @owner",
        replying_to_message_id=w.message_id,
        attachments=[CreateMessagesRequestAttachmentsItem(id="file_1")],
        auto_detect_links=True,
    )
    assert isinstance(message, Message)
    assert (message.content, message.replying_to_message_id) == ("Soup, @owner", w.message_id)
    assert message.mentions == ["user_owner"]
    assert message.user.username == "bob"
    assert w.fake.messages[-1].attachment_ids == ("file_1",)


def list_message(w: World) -> None:
    w.owner.messages.create(channel_id=w.channel_id, content="second")
    listed = [m.content for m in w.owner.messages.list(channel_id=w.channel_id, direction="desc")]
    assert listed == ["second", "Lunch?"]
    newest = w.owner.messages.list(channel_id=w.channel_id, last=1)
    assert [m.content for m in newest.items or []] == ["second"]


def retrieve_message(w: World) -> None:
    message = w.owner.messages.retrieve(w.message_id)
    assert isinstance(message, Message)
    assert message.poll is not None
    assert [(o.id, o.text) for o in message.poll.options or []] == [("1", "Tea"), ("2", "Soup")]
    assert [(c.emoji, c.count) for c in message.reaction_counts] == [(":heart:", 1)]


def update_message(w: World) -> None:
    message = w.owner.messages.update(
        w.message_id,
        content="Lunch at 1?",
        is_pinned=True,
        attachments=[UpdateMessagesRequestAttachmentsItem(id="file_2")],
    )
    assert (message.content, message.is_edited, message.is_pinned) == ("Lunch at 1?", True, True)
    assert w.fake.messages[0].attachment_ids == ("file_2",)


def delete_message(w: World) -> None:
    assert w.owner.messages.delete(w.message_id) is True
    assert w.fake.messages == []


def create_reaction(w: World) -> None:
    vote = w.owner.reactions.create(resource_id=w.message_id, poll_option_id="2")
    assert isinstance(vote, Reaction)
    assert (vote.resource_id, vote.emoji, vote.user.id) == (w.message_id, None, "user_owner")
    votes = w.owner.messages.retrieve(w.message_id).poll_votes
    assert [(v.option_id, v.count) for v in votes] == [("2", 1)]


def list_reaction(w: World) -> None:
    fire = w.owner.reactions.create(resource_id=w.message_id, emoji=":fire:")
    listed = [r.id for r in w.owner.reactions.list(resource_id=w.message_id)]
    assert listed == [fire.id, w.reaction_id]  # most recent first


def retrieve_reaction(w: World) -> None:
    reaction = w.owner.reactions.retrieve(w.reaction_id)
    assert isinstance(reaction, Reaction)
    assert (reaction.emoji, reaction.user.username) == (":heart:", "bob")


def delete_reaction(w: World) -> None:
    assert w.bob.reactions.delete(w.message_id, emoji=":heart:") is True
    assert w.fake.reactions == []
    again = w.bob.reactions.create(resource_id=w.message_id, emoji=":wave:")
    assert w.owner.reactions.delete(again.id) is True  # the admin removes Bob's


SDK_CALLS: dict[str, Callable[[World], None]] = {
    "createDmChannel": create_dm_channel,
    "listDmChannel": list_dm_channel,
    "retrieveDmChannel": retrieve_dm_channel,
    "updateDmChannel": update_dm_channel,
    "deleteDmChannel": delete_dm_channel,
    "createDmMember": create_dm_member,
    "listDmMember": list_dm_member,
    "retrieveDmMember": retrieve_dm_member,
    "updateDmMember": update_dm_member,
    "deleteDmMember": delete_dm_member,
    "createMessage": create_message,
    "listMessage": list_message,
    "retrieveMessage": retrieve_message,
    "updateMessage": update_message,
    "deleteMessage": delete_message,
    "createReaction": create_reaction,
    "listReaction": list_reaction,
    "retrieveReaction": retrieve_reaction,
    "deleteReaction": delete_reaction,
}
OPERATIONS = spec_operations()


def test_every_operation_of_the_spec_has_an_sdk_call() -> None:
    assert {op.operation_id for op in OPERATIONS} == set(SDK_CALLS)


def check_operation(operation: Operation, world: World) -> None:
    """Call the SDK's method for ``operation`` against the fake; raise if anything is off."""
    SDK_CALLS[operation.operation_id](world)
    # The call reached the operation it is named for (the SDK's own method).
    sent = {(r.method, _template(r.api_path)) for r in world.fake.requests}
    assert (operation.method, operation.path) in sent, SDK_METHODS[operation.operation_id]


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.operation_id)
def test_the_fake_serves_the_operation_in_a_form_the_sdk_decodes(
    operation: Operation, world: World
) -> None:
    check_operation(operation, world)


def _template(api_path: str) -> str:
    collection, _, rest = api_path.lstrip("/").partition("/")
    return f"/{collection}/{{id}}" if rest else f"/{collection}"
