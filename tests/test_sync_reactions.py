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


def test_a_backward_list_yields_the_records_from_the_last_to_the_first(
    client: Client, fake: FakeWhop
) -> None:
    channel = client.dm_channels.create(with_user_ids=["user_bob"])
    posted = [client.messages.create(channel_id=channel.id, content=f"m{n}").id for n in range(5)]

    pager = client.messages.list(channel_id=channel.id, last=2)

    assert pager.backwards
    assert [m.id for m in pager] == posted[::-1]
    assert [[m.id for m in page.data] for page in pager.pages()] == [
        posted[3:],
        posted[1:3],
        posted[:1],
    ]
