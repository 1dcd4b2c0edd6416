"""Cancellation at random points (seeded, so every case repeats) of single calls,
``asyncio.gather`` and ``bulk_create``.

Each case scripts some faults (delays, 5xx, answers lost after handling) from
its seed, starts the work, lets the loop turn a seeded number of times and
cancels it, wherever it then is: waiting for a slot, connecting, sending,
reading, sleeping before a retry, or between bulk pairs. Afterwards: the task
is done, no connection is checked out of the pool, no task it started is left
pending, nothing was added twice, and the same client then finishes the same
work, ending with every pair exactly once.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import attrs
import pytest
from faultkit import (
    acquired_connections,
    assert_clean,
    assert_no_duplicates,
    client_for,
    fake_runner,
    memberships_by_pair,
    pending_tasks,
    seeded_fake,
    settle,
)

import whop_dm
from whop_dm.testing import FakeWhop

USERS = [f"user_{n}" for n in range(40)]
SINGLE_SEEDS = range(40)
GATHER_SEEDS = range(25)
BULK_SEEDS = range(25)


@attrs.define
class Stage:
    fake: FakeWhop
    channels: list[str]
    tasks_before: set[asyncio.Task[Any]]


@pytest.fixture
async def stage() -> AsyncIterator[Stage]:
    async with seeded_fake(USERS) as fake:
        async with client_for(fake.base_url) as setup:
            channels = [
                (await setup.dm_channels.create(with_user_ids=[user])).id for user in USERS[:2]
            ]
        yield Stage(fake, channels, set(asyncio.all_tasks()))


def script_faults(fake: FakeWhop, rng: random.Random) -> None:
    """A few faults for the next requests, drawn from the case's seed."""
    for _ in range(rng.randrange(0, 4)):
        kind = rng.choice(["delay", "503", "lost", "drop", "none"])
        count = rng.randrange(1, 4)
        if kind == "delay":
            fake.delay_next(count, rng.choice([0.001, 0.01, 0.05]), path="/dm_members")
        elif kind == "503":
            fake.fail_next(count, status=503, path="/dm_members")
        elif kind == "lost":
            fake.drop_next(count, path="/dm_members", after=True)
        elif kind == "drop":
            fake.drop_next(count, path="/dm_members")


def policy() -> whop_dm.RetryPolicy:
    # Real (tiny) sleeps, so a cancel can land inside a retry wait too.
    return whop_dm.RetryPolicy(
        max_attempts=8, initial_backoff=0.001, max_backoff=0.005, jitter=0.001, deadline=None
    )


async def cancel_at_random(work: Awaitable[Any], rng: random.Random) -> asyncio.Task[Any]:
    task = asyncio.ensure_future(work)
    for _ in range(rng.randrange(0, 80)):
        if task.done():
            break
        await asyncio.sleep(0)
    task.cancel()
    # Every loop in the suite is bounded; so is this wait.
    await asyncio.wait({task}, timeout=60)
    assert task.done(), "a cancelled call did not finish"
    if not task.cancelled():
        task.exception()  # read it, so none is reported as never retrieved
    return task


async def after_cancel(
    client: whop_dm.AsyncClient,
    stage: Stage,
    redo: Callable[[], Awaitable[Any]],
    expected: set[tuple[str, str]],
) -> None:
    # Nothing held once the cancelled work has finished ...
    assert acquired_connections(client) == 0
    assert_no_duplicates(stage.fake)
    # ... and the same client finishes the same work.
    stage.fake.reset_faults()
    await asyncio.wait_for(redo(), 60)
    counts = memberships_by_pair(stage.fake)
    assert all(counts[pair] == 1 for pair in expected), counts
    await assert_clean(client, stage.tasks_before, fake_runner(stage.fake))


@pytest.mark.parametrize("seed", SINGLE_SEEDS)
async def test_a_single_add_cancelled_anywhere_leaks_nothing(stage: Stage, seed: int) -> None:
    rng = random.Random(seed)
    script_faults(stage.fake, rng)
    client = client_for(stage.fake.base_url, retry=policy())
    channel, user = stage.channels[0], rng.choice(USERS[2:])

    def add() -> Awaitable[whop_dm.DmMember]:
        return client.dm_members.create(channel_id=channel, user_id=user)

    await cancel_at_random(add(), rng)
    await after_cancel(client, stage, add, {(channel, user)})


@pytest.mark.parametrize("seed", SINGLE_SEEDS)
async def test_a_single_read_cancelled_anywhere_leaks_nothing(stage: Stage, seed: int) -> None:
    rng = random.Random(seed)
    stage.fake.delay_next(rng.randrange(1, 3), rng.choice([0.001, 0.02]))
    stage.fake.fail_next(rng.randrange(1, 3), status=502, method="GET")
    client = client_for(stage.fake.base_url, retry=policy())

    async def read() -> None:
        await client.dm_channels.retrieve(stage.channels[0])
        async for _ in client.dm_members.list(channel_id=stage.channels[0], page_size=1):
            pass

    await cancel_at_random(read(), rng)
    await after_cancel(client, stage, read, set())


def pairs_for(stage: Stage, rng: random.Random, count: int) -> list[tuple[str, str]]:
    everyone = [(channel, user) for channel in stage.channels for user in USERS[2:]]
    return rng.sample(everyone, count)


@pytest.mark.parametrize("seed", GATHER_SEEDS)
async def test_a_gather_of_adds_cancelled_anywhere_leaks_nothing(stage: Stage, seed: int) -> None:
    rng = random.Random(seed)
    script_faults(stage.fake, rng)
    pairs = pairs_for(stage, rng, 40)
    client = client_for(stage.fake.base_url, retry=policy(), max_connections=rng.choice([2, 8]))

    def add_all() -> Awaitable[list[whop_dm.DmMember]]:
        return asyncio.gather(
            *(client.dm_members.create(channel_id=c, user_id=u) for c, u in pairs)
        )

    task = await cancel_at_random(add_all(), rng)
    if not task.cancelled():
        # A cancelled gather may end with CancelledError set as its exception.
        error = task.exception()
        assert error is None or isinstance(error, (whop_dm.WhopError, asyncio.CancelledError))
    # gather cancels its children; none may linger.
    assert await settle(lambda: acquired_connections(client) == 0)
    await after_cancel(client, stage, add_all, set(pairs))


@pytest.mark.parametrize("seed", BULK_SEEDS)
async def test_a_bulk_create_cancelled_anywhere_leaks_nothing(stage: Stage, seed: int) -> None:
    rng = random.Random(seed)
    script_faults(stage.fake, rng)
    pairs = pairs_for(stage, rng, 40)
    client = client_for(stage.fake.base_url, retry=policy())
    concurrency = rng.choice([1, 4, 16])

    def bulk() -> Awaitable[Any]:
        return client.dm_members.bulk_create(pairs, concurrency=concurrency)

    task = await cancel_at_random(bulk(), rng)
    # bulk_create awaits its workers before it returns or re-raises the cancel:
    # none is left, and no connection is held (the fake may still be finishing
    # a handler of its own, which is not the client's).
    workers = [t for t in pending_tasks(stage.tasks_before) if "worker" in repr(t.get_coro())]
    assert workers == []
    assert acquired_connections(client) == 0
    if not task.cancelled():
        assert task.result().total == len(pairs)

    async def redo() -> None:
        again = await bulk()
        assert again.ok, again.failed
        assert len(again.added) == len(pairs)

    await after_cancel(client, stage, redo, set(pairs))
