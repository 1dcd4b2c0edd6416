"""Retries of the new calls: PATCH and DELETE follow GET's policy; POSTs are retried with their key.

aiohttp itself silently resends a GET or DELETE once when the connection
drops (its own idempotent set, not PATCH); the ``on_retry`` hook fires only for
the client's retries, so the tests count its events rather than only requests.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from whop_dm import (
    APIConnectionError,
    APITimeoutError,
    AsyncClient,
    NotFoundError,
    RetryEvent,
    RetryPolicy,
)
from whop_dm.testing import FakeWhop

pytest_plugins = ["surface_support"]

MakeClient = Callable[..., AsyncClient]


def recorder() -> tuple[list[RetryEvent], Callable[[RetryEvent], None]]:
    events: list[RetryEvent] = []
    return events, events.append


async def new_channel(owner: AsyncClient) -> str:
    return (await owner.dm_channels.create(with_user_ids=["user_bob"])).id


async def test_a_patch_whose_answer_is_lost_is_retried(
    owner: AsyncClient, make_client: MakeClient, surface_fake: FakeWhop
) -> None:
    channel_id = await new_channel(owner)
    events, hook = recorder()
    client = make_client(on_retry=hook)
    surface_fake.drop_next(path="/dm_channels/{id}", method="PATCH", after=True)

    channel = await client.dm_channels.update(channel_id, custom_name="renamed")

    assert channel.name == "renamed"
    assert [(e.method, e.attempt, type(e.cause)) for e in events] == [
        ("PATCH", 1, APIConnectionError)
    ]
    assert len([r for r in surface_fake.requests if r.method == "PATCH"]) == 2


async def test_a_patch_whose_answer_is_lost_fails_without_retries(
    owner: AsyncClient, make_client: MakeClient, surface_fake: FakeWhop
) -> None:
    channel_id = await new_channel(owner)
    client = make_client(retry=RetryPolicy.disabled())
    surface_fake.drop_next(path="/dm_channels/{id}", method="PATCH", after=True)
    with pytest.raises(APIConnectionError):
        await client.dm_channels.update(channel_id, custom_name="renamed")


async def test_a_patch_that_times_out_is_retried(
    owner: AsyncClient, make_client: MakeClient, surface_fake: FakeWhop
) -> None:
    channel_id = await new_channel(owner)
    members = surface_fake.members_of(channel_id)
    events, hook = recorder()
    # The PATCH carries an Idempotency-Key: until the slow first attempt is
    # handled, a resend is answered 409, so the backoff must really outlast it.
    policy = RetryPolicy(initial_backoff=1.2, jitter=0.0)
    client = make_client(timeout=0.5, on_retry=hook, retry=policy)
    surface_fake.delay_next(1, 1.5, path="/dm_members/{id}", method="PATCH")

    member = await client.dm_members.update(members[1].id, status="hidden")

    assert member.status == "hidden"
    assert [(e.method, type(e.cause)) for e in events] == [("PATCH", APITimeoutError)]


@pytest.mark.parametrize("method", ["DELETE", "GET"])
async def test_delete_and_get_are_retried_alike_when_the_connection_drops(
    owner: AsyncClient, make_client: MakeClient, surface_fake: FakeWhop, method: str
) -> None:
    message = await owner.messages.create(channel_id=await new_channel(owner), content="hi")
    events, hook = recorder()
    client = make_client(on_retry=hook)
    # Two drops: one may be absorbed by aiohttp's own resend, the other reaches the client.
    surface_fake.drop_next(2, path="/messages/{id}", method=method)

    if method == "DELETE":
        assert await client.messages.delete(message.id) is True
        assert surface_fake.messages == []
    else:
        assert (await client.messages.retrieve(message.id)).id == message.id
    assert events
    assert {(e.method, type(e.cause)) for e in events} == {(method, APIConnectionError)}


async def test_a_dropped_delete_fails_without_the_clients_retries(
    owner: AsyncClient, make_client: MakeClient, surface_fake: FakeWhop
) -> None:
    message = await owner.messages.create(channel_id=await new_channel(owner), content="hi")
    client = make_client(retry=RetryPolicy.disabled())
    surface_fake.drop_next(2, path="/messages/{id}", method="DELETE")
    with pytest.raises(APIConnectionError):
        await client.messages.delete(message.id)


async def test_a_delete_answered_503_is_retried(
    owner: AsyncClient, make_client: MakeClient, surface_fake: FakeWhop
) -> None:
    channel_id = await new_channel(owner)
    events, hook = recorder()
    client = make_client(on_retry=hook)
    surface_fake.fail_next(1, 503, path="/dm_channels/{id}", method="DELETE")
    assert await client.dm_channels.delete(channel_id) is True
    assert [e.cause.status_code for e in events] == [503]  # type: ignore[attr-defined]


async def test_a_not_found_is_not_retried(make_client: MakeClient, surface_fake: FakeWhop) -> None:
    events, hook = recorder()
    client = make_client(on_retry=hook)
    with pytest.raises(NotFoundError):
        await client.messages.delete("msg_doesnotexist")
    assert events == []
    assert len(surface_fake.requests) == 1


async def test_a_message_whose_answer_is_lost_is_resent_with_its_key_and_posted_once(
    owner: AsyncClient, make_client: MakeClient, surface_fake: FakeWhop
) -> None:
    channel_id = await new_channel(owner)
    events, hook = recorder()
    client = make_client(on_retry=hook)
    surface_fake.clear_requests()
    surface_fake.drop_next(path="/messages", method="POST", after=True)

    message = await client.messages.create(channel_id=channel_id, content="only once")

    assert [m.id for m in surface_fake.messages] == [message.id]
    posts = [r for r in surface_fake.requests if r.method == "POST"]
    assert len(posts) == 2
    keys = {r.headers["Idempotency-Key"] for r in posts}
    assert len(keys) == 1
    assert [e.method for e in events] == ["POST"]
