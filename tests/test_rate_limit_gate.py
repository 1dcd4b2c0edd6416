"""The client-wide pause after a 429, and the optional ``rate_limit=`` cap, over FakeWhop.

No test here measures elapsed time: waits are handed to an injected sleep that
records them (and, where a test must look inside the pause, holds them until
the test lets go), and what reached the server is read from the fake's record.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

import whop_dm
from whop_dm import AsyncClient, RetryPolicy
from whop_dm._gate import RateLimitGate
from whop_dm.testing import FakeWhop

OWNER_KEY = "key_owner"
USERS = [f"user_{n}" for n in range(100)]


class HeldSleep:
    """Records each wait, then holds the sleeper until ``release`` is set."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.release = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await self.release.wait()


class RecordedSleep:
    """Records each wait and returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(0)


@pytest.fixture
async def fake() -> AsyncIterator[FakeWhop]:
    async with FakeWhop(max_channel_members=None) as server:
        server.add_user("user_owner")
        for user in USERS:
            server.add_user(user)
        server.add_api_key(OWNER_KEY, user_id="user_owner")
        yield server


def client_on(fake: FakeWhop, **options: Any) -> AsyncClient:
    return AsyncClient(api_key=OWNER_KEY, base_url=fake.base_url, **options)


def member_posts(fake: FakeWhop) -> list[Any]:
    return [r for r in fake.requests if r.method == "POST" and r.api_path == "/dm_members"]


async def wait_for(condition: Any, *, rounds: int = 3000) -> None:
    """Let the loop run until ``condition()`` holds (bounded; fails rather than hangs)."""
    for _ in range(rounds):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


async def settle(rounds: int = 30) -> None:
    """Give anything that would wrongly go ahead every chance to do so."""
    for _ in range(rounds):
        await asyncio.sleep(0.01)


async def test_a_429_holds_every_call_not_yet_on_the_wire_until_its_wait_has_passed(
    fake: FakeWhop,
) -> None:
    held = HeldSleep()
    async with client_on(fake, max_connections=5, retry=RetryPolicy(sleep=held)) as client:
        channel = (await client.dm_channels.create(with_user_ids=["user_0"])).id
        fake.fail_next(1, status=429, retry_after=1, path="/dm_members")
        calls = asyncio.gather(
            *(client.dm_members.create(channel_id=channel, user_id=u) for u in USERS)
        )
        # The retry of the limited call, and the five calls that got a connection
        # after the 429, all sleep; the other 94 queue behind those five.
        await wait_for(lambda: len(held.waits) == 6)
        await settle()
        posts = member_posts(fake)
        # Only the calls already on the wire when the 429 came reached the server.
        assert len(posts) == 5
        assert len(held.waits) == 6
        assert all(0 < wait <= 1.0 for wait in held.waits)

        held.release.set()
        members = await calls
    assert [m.user_id for m in members] == USERS
    assert len(member_posts(fake)) == 101
    assert len(fake.members_of(channel)) == 101


@pytest.mark.parametrize(
    ("fault", "longest"),
    [
        ({"retry_after": 60}, 60.0),  # Retry-After: 60
        ({"retry_after": 60, "header": False}, 60.0),  # only "Try again in 60 seconds."
        ({"retry_after_ms": 45_000}, 45.0),  # retry-after-ms: 45000
    ],
)
async def test_the_pause_lasts_as_long_as_the_server_said(
    fake: FakeWhop, fault: dict[str, Any], longest: float
) -> None:
    recorded = RecordedSleep()
    policy = RetryPolicy(sleep=recorded, max_attempts=1)
    async with client_on(fake, retry=policy) as client:
        channel = (await client.dm_channels.create(with_user_ids=["user_0"])).id
        fake.fail_next(1, status=429, path="/dm_members", **fault)
        with pytest.raises(whop_dm.RateLimitError):
            await client.dm_members.create(channel_id=channel, user_id="user_1")
        assert recorded.waits == []
        await client.dm_members.create(channel_id=channel, user_id="user_1")
    # The next call, of any kind, sat out what was left of the server's wait.
    (wait,) = recorded.waits
    assert longest - 10 < wait <= longest
    assert len(member_posts(fake)) == 2


async def test_a_longer_429_during_the_pause_makes_the_waiters_sleep_again() -> None:
    waits: list[float] = []
    gate: RateLimitGate

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 1:
            gate.pause(120.0)  # another call's 429, arriving while we sleep

    gate = RateLimitGate(sleep)
    gate.pause(10.0)
    await gate.wait()
    assert len(waits) == 2
    assert 0 < waits[0] <= 10.0
    assert 110.0 < waits[1] <= 120.0


async def test_an_open_gate_and_a_sleep_that_does_not_sleep_never_spin() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    gate = RateLimitGate(sleep)
    assert not gate.may_block
    await gate.wait()
    assert waits == []
    gate.pause(30.0)
    assert gate.may_block
    await gate.wait()
    assert len(waits) == 1  # one sleep, even though no time passed


async def test_rate_limit_lets_one_request_through_then_holds_the_next(fake: FakeWhop) -> None:
    # One request per 100 s: the second cannot go within this test, whatever the machine.
    async with client_on(fake, rate_limit=0.01, retry=RetryPolicy.instant()) as client:
        calls = [
            asyncio.ensure_future(client.dm_members.create(channel_id="feed_x", user_id=u))
            for u in USERS[:3]
        ]
        await wait_for(lambda: len(fake.requests) == 1)
        await settle()
        assert len(fake.requests) == 1
        for call in calls:
            call.cancel()
        outcomes = await asyncio.gather(*calls, return_exceptions=True)
    # The one that went got its answer (404: no such channel); the others never went.
    assert sum(isinstance(o, whop_dm.NotFoundError) for o in outcomes) == 1
    assert sum(isinstance(o, asyncio.CancelledError) for o in outcomes) == 2


async def test_rate_limit_allows_a_burst_of_one_seconds_worth(fake: FakeWhop) -> None:
    async with client_on(fake, rate_limit=20, retry=RetryPolicy.instant()) as client:
        outcomes = await asyncio.gather(
            *(client.dm_members.create(channel_id="feed_x", user_id=u) for u in USERS[:20]),
            return_exceptions=True,
        )
    assert all(isinstance(o, whop_dm.NotFoundError) for o in outcomes)
    assert len(fake.requests) == 20


@pytest.mark.parametrize("rate", [0.01, 0.5, 1, 7.5, 600 / 60])
async def test_any_positive_rate_builds_a_working_limiter(rate: float) -> None:
    gate = RateLimitGate(asyncio.sleep, rate)
    assert gate.may_block
    await gate.wait()  # the first request never waits
