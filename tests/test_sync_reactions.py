"""The blocking client's reactions and the new message and channel arguments."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from whop_dm import Client, Reaction, Reactions, RetryPolicy, SyncPager
from whop_dm.testing import FakeWhop

KEY = "whop_test_key_sync_owner"


@pytest.fixture
def fake() -> Iterator[FakeWhop]:
    with FakeWhop.in_thread(seed=3) as server:
        server.add_user("user_owner", username="owner")
        server.add_user("user_bob", username="bob")
        server.add_api_key(KEY, user_id="user_owner")
        yield server


@pytest.fixture
def client(fake: FakeWhop) -> Iterator[Client]:
    with Client(KEY, base_url=fake.base_url, retry=RetryPolicy.instant()) as c:
        yield c


def test_reactions_work_blocking_end_to_end(client: Client, fake: FakeWhop) -> None:
    assert isinstance(client.reactions, Reactions)
    channel = client.dm_channels.create(
        with_user_ids=["user_bob"], account_id="biz_9", notifications_enabled=True
    )
    poll = client.messages.create(
        channel_id=channel.id, content="Lunch?", poll=["Tea", "Soup"], attachments=["file_1"]
    )

    heart = client.reactions.create(resource_id=poll.id, emoji=":heart:")
    vote = client.reactions.create(resource_id=poll.id, poll_option_id="1")
    assert isinstance(heart, Reaction)
    assert client.reactions.retrieve(heart.id) == heart

    pager = client.reactions.list(resource_id=poll.id)
    assert isinstance(pager, SyncPager)
    assert [r.id for r in pager] == [vote.id, heart.id]
    assert [r.id for r in client.reactions.list(resource_id=poll.id, last=1)] == [heart.id, vote.id]

    assert client.reactions.delete(poll.id, emoji=":heart:") is True
    assert client.reactions.delete(vote.id) is True
    assert fake.reactions == []
    assert fake.messages[0].attachment_ids == ("file_1",)


def test_reactions_check_arguments_in_the_calling_thread(client: Client, fake: FakeWhop) -> None:
    with pytest.raises(ValueError, match="emoji or poll_option_id"):
        client.reactions.create(resource_id="msg_1")
    assert fake.requests == []
