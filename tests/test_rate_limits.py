"""Pacing per operation, end to end over FakeWhop: ``RateLimits`` and the 429 pause.

Most tests hand waits to an injected sleep that records them (and, where a
test must look inside a pause, holds them until the test lets go); what
reached the server is read from the fake. The few that pace against the
fake's real sliding window use windows of a second and assert counts of
429s, never durations.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

import whop_dm
from whop_dm import AsyncClient, RateLimits, RetryEvent, RetryPolicy
from whop_dm._gate import RequestRateCap
from whop_dm._pacing import MemoryStore, Pacer
from whop_dm.testing import FakeWhop

OWNER_KEY = "key_owner"
USERS = [f"user_{n}" for n in range(100)]
MEMBERS = "POST /dm_members"


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


def seed(server: FakeWhop) -> None:
    server.add_user("user_owner")
    for user in USERS:
        server.add_user(user)
    server.add_api_key(OWNER_KEY, user_id="user_owner")


@pytest.fixture
async def fake() -> AsyncIterator[FakeWhop]:
    async with FakeWhop(max_channel_members=None) as server:
        seed(server)
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


# -- the pause after a 429 ------------------------------------------------------------


async def test_a_429_holds_every_call_of_its_operation_not_yet_on_the_wire(
    fake: FakeWhop,
) -> None:
    held = HeldSleep()
    async with client_on(
        fake, max_connections=5, retry=RetryPolicy(sleep=held), rate_limits=RateLimits.off()
    ) as client:
        channel = (await client.dm_channels.create(with_user_ids=["user_0"])).id
        fake.fail_next(1, status=429, retry_after=1, path="/dm_members")
        calls = asyncio.gather(
            *(client.dm_members.create(channel_id=channel, user_id=u) for u in USERS)
        )
        await wait_for(lambda: len(held.waits) >= 2)
        await settle()
        # Only the calls already on the wire when the 429 came reached the server;
        # every other call of the operation sleeps out the pause.
        assert len(member_posts(fake)) <= 5
        assert all(0 < wait <= 1.0 for wait in held.waits)
        held.release.set()
        members = await calls
    assert [m.user_id for m in members] == USERS
    assert len(fake.members_of(channel)) == 101


async def test_a_429_on_one_operation_never_holds_another(fake: FakeWhop) -> None:
    held = HeldSleep()
    async with client_on(fake, retry=RetryPolicy(sleep=held)) as client:
        channel = (await client.dm_channels.create(with_user_ids=["user_0"])).id
        fake.fail_next(1, status=429, retry_after=30, path="/dm_members")
        member = asyncio.ensure_future(
            client.dm_members.create(channel_id=channel, user_id="user_1")
        )
        await wait_for(lambda: len(held.waits) == 1)
        # Members are held for 30 s; messages and channels go at once.
        message = await client.messages.create(channel_id=channel, content="hello")
        other = await client.dm_channels.create(with_user_ids=["user_2"])
        assert message.content == "hello"
        assert other.id != channel
        assert not member.done()
        held.release.set()
        assert (await member).user_id == "user_1"


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
    # The next call of the operation sat out what was left of the server's wait.
    (wait,) = recorded.waits
    assert longest - 10 < wait <= longest
    assert len(member_posts(fake)) == 2


async def test_a_wait_past_max_retry_after_fails_its_operation_at_once(fake: FakeWhop) -> None:
    recorded = RecordedSleep()
    async with client_on(fake, retry=RetryPolicy(sleep=recorded, max_retry_after=30)) as client:
        channel = (await client.dm_channels.create(with_user_ids=["user_0"])).id
        fake.fail_next(1, status=429, retry_after=120, path="/dm_members")
        with pytest.raises(whop_dm.RateLimitError):
            await client.dm_members.create(channel_id=channel, user_id="user_1")
        with pytest.raises(whop_dm.RateLimitError) as again:
            await client.dm_members.create(channel_id=channel, user_id="user_2")
        assert "not sent" in str(again.value)
        await client.messages.create(channel_id=channel, content="still goes")
    assert len(member_posts(fake)) == 1
    assert recorded.waits == []


async def test_a_longer_429_during_the_pause_makes_the_waiters_sleep_again() -> None:
    waits: list[float] = []
    store = MemoryStore()
    pacer: Pacer

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 1:  # another call's 429, arriving while we sleep
            await pacer.refuse(other, 120.0, learn=False)

    limits = RateLimits(per_operation=None, pacing=False, store=store)
    pacer = Pacer(limits, "key", sleep=sleep, max_wait=600.0)
    first = await pacer.acquire(MEMBERS)
    other = await pacer.acquire(MEMBERS)
    await pacer.refuse(first, 10.0, learn=False)
    await pacer.acquire(MEMBERS)
    assert len(waits) == 2
    assert 0 < waits[0] <= 10.0
    assert 100.0 < waits[1] <= 120.0


async def test_a_sleep_that_does_not_sleep_never_spins() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    pacer = Pacer(RateLimits.off(), "key", sleep=sleep, max_wait=600.0)
    lease = await pacer.acquire(MEMBERS)
    await pacer.refuse(lease, 30.0, learn=False)
    await pacer.acquire(MEMBERS)
    assert len(waits) == 1  # one sleep, even though no time passed


async def test_one_warning_per_pause_not_per_refused_request(
    fake: FakeWhop, caplog: pytest.LogCaptureFixture
) -> None:
    held = HeldSleep()
    async with client_on(
        fake, retry=RetryPolicy(sleep=held), rate_limits=RateLimits.off()
    ) as client:
        channel = (await client.dm_channels.create(with_user_ids=["user_0"])).id
        # Ten calls on the wire at once, all refused with the same wait.
        fake.delay_next(10, 1.0, path="/dm_members")
        fake.fail_next(10, status=429, retry_after=1, path="/dm_members")
        with caplog.at_level(logging.DEBUG, logger="whop_dm"):
            calls = asyncio.gather(
                *(client.dm_members.create(channel_id=channel, user_id=u) for u in USERS[:10])
            )
            await wait_for(lambda: len(held.waits) == 10)
            held.release.set()
            await calls
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert "POST /dm_members" in warnings[0].getMessage()
    assert "holding this operation" in warnings[0].getMessage()


async def test_retry_events_name_the_operation_and_how_long_it_was_held(fake: FakeWhop) -> None:
    events: list[RetryEvent] = []
    async with client_on(fake, retry=RetryPolicy.instant(), on_retry=events.append) as client:
        channel = (await client.dm_channels.create(with_user_ids=["user_0"])).id
        fake.fail_next(1, status=429, retry_after=3, path=f"/dm_channels/{channel}")
        await client.dm_channels.retrieve(channel)
    (event,) = events
    assert event.operation == "GET /dm_channels/{id}"
    assert event.wait == 3.0
    assert event.held == 0.0
    # The retry then waited out the operation's pause: it shows as held.
    assert set(client.rate_limit_held()) == {"GET /dm_channels/{id}"}


# -- pacing against the fake's sliding window -------------------------------------------


async def test_limits_that_match_the_server_draw_no_429() -> None:
    async with FakeWhop(
        max_channel_members=None, rate_limit_per_minute=5, rate_limit_window=1.0
    ) as limited:
        seed(limited)
        async with client_on(
            limited, rate_limits=RateLimits(per_operation=5, window=1.0)
        ) as client:
            channel = (await client.dm_channels.create(with_user_ids=["user_0"])).id
            result = await client.dm_members.bulk_create(
                [(channel, u) for u in USERS[:12]], concurrency=8
            )
            held = client.rate_limit_held()
        assert result.ok
        assert limited.rate_limited == {}
        assert held[MEMBERS] > 0


async def test_the_default_learns_the_limit_from_the_first_429() -> None:
    async with FakeWhop(
        max_channel_members=None, rate_limit_per_minute=6, rate_limit_window=1.0
    ) as limited:
        seed(limited)
        async with client_on(limited) as client:
            channel = (await client.dm_channels.create(with_user_ids=["user_0"])).id
            members = await asyncio.gather(
                *(client.dm_members.create(channel_id=channel, user_id=u) for u in USERS[:20])
            )
        assert len(members) == 20
        # The slow start keeps three in flight until the limit is known: the
        # first time it is met costs at most those three.
        assert limited.rate_limited.get(MEMBERS, 0) <= 3


async def test_whop_limits_let_a_burst_within_the_limit_go_at_once_without_a_429() -> None:
    # The bulk guide's advice (RateLimits.whop()) at Whop's own numbers; the
    # test above shows the same pacing holding a job past the limit, at a
    # scale a test can wait for.
    async with FakeWhop(
        max_channel_members=None, rate_limit_per_minute=600, rate_limit_window=60.0
    ) as limited:
        seed(limited)
        async with client_on(limited, rate_limits=RateLimits.whop()) as client:
            channel = (await client.dm_channels.create(with_user_ids=["user_0"])).id
            result = await client.dm_members.bulk_create(
                [(channel, u) for u in USERS], concurrency=32
            )
        assert result.ok
        assert limited.rate_limited == {}


# -- the old client-wide cap ---------------------------------------------------------


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
    async with client_on(
        fake, rate_limit=20, retry=RetryPolicy.instant(), rate_limits=RateLimits.off()
    ) as client:
        outcomes = await asyncio.gather(
            *(client.dm_members.create(channel_id="feed_x", user_id=u) for u in USERS[:20]),
            return_exceptions=True,
        )
    assert all(isinstance(o, whop_dm.NotFoundError) for o in outcomes)
    assert len(fake.requests) == 20


@pytest.mark.parametrize("rate", [0.01, 0.5, 1, 7.5, 600 / 60])
async def test_any_positive_rate_builds_a_working_limiter(rate: float) -> None:
    cap = RequestRateCap(rate)
    await cap.wait()  # the first request never waits


async def test_bulk_progress_reports_the_time_held_by_the_rate_limit() -> None:
    reports: list[whop_dm.Progress] = []
    async with FakeWhop(
        max_channel_members=None, rate_limit_per_minute=5, rate_limit_window=1.0
    ) as limited:
        seed(limited)
        async with client_on(
            limited, rate_limits=RateLimits(per_operation=5, window=1.0)
        ) as client:
            channel = (await client.dm_channels.create(with_user_ids=["user_0"])).id
            result = await client.dm_members.bulk_create(
                [(channel, u) for u in USERS[:12]], concurrency=8, on_progress=reports.append
            )
    assert result.ok
    # Twelve adds at five a second: the run waited for the window at least once.
    assert reports[0].held == 0.0
    assert reports[-1].held > 0


def test_import_whop_dm_and_pacing_import_no_redis() -> None:
    import subprocess
    import sys

    code = (
        "import sys, whop_dm\n"
        "client = whop_dm.AsyncClient(api_key='k', rate_limits=whop_dm.RateLimits.whop())\n"
        "assert 'redis' not in sys.modules, 'redis imported'\n"
        "whop_dm.RedisStore\n"  # the name alone still imports nothing of redis
        "assert 'redis' not in sys.modules, 'redis imported by the name'\n"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
