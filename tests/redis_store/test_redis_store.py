"""``RedisStore`` against a real redis-server: the shared budget, pauses and learning.

Store-level tests pass a clock the test moves (the scripts then use it
instead of Redis's ``TIME``), so nothing here sleeps on a timer.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
import redis.asyncio

from whop_dm import RateLimits, RedisStore
from whop_dm._pacing import ANSWER, SLOW, Lease, OpRules, key_scope

from .conftest import RedisServer

MEMBERS = "POST /dm_members"
MESSAGES = "POST /messages"
KEY = "apik_redis_secret_key_0001"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def clock() -> Clock:
    return Clock()


@pytest.fixture
async def store(redis_url: str, clock: Clock) -> AsyncIterator[RedisStore]:
    made = RedisStore(redis_url, clock=clock)
    yield made
    await made.aclose()


def rules(limits: RateLimits, operation: str = MEMBERS) -> OpRules:
    return limits.rules_for(operation)


async def test_two_clients_of_one_key_share_one_budget(store: RedisStore) -> None:
    limits = RateLimits(per_operation=3, window=10.0)
    first, second = store.bind(key_scope(KEY)), store.bind(key_scope(KEY))
    got = [
        await first.try_acquire(MEMBERS, rules(limits)),
        await second.try_acquire(MEMBERS, rules(limits)),
        await first.try_acquire(MEMBERS, rules(limits)),
    ]
    assert all(isinstance(lease, Lease) for lease in got)
    assert await second.try_acquire(MEMBERS, rules(limits)) == ANSWER


async def test_another_key_has_a_budget_of_its_own(store: RedisStore) -> None:
    limits = RateLimits(per_operation=1, window=10.0)
    assert isinstance(await store.bind(key_scope(KEY)).try_acquire(MEMBERS, rules(limits)), Lease)
    other = store.bind(key_scope(KEY + "_other"))
    assert isinstance(await other.try_acquire(MEMBERS, rules(limits)), Lease)


async def test_a_shared_slot_frees_one_window_after_its_answer(
    store: RedisStore, clock: Clock
) -> None:
    limits = RateLimits(per_operation=1, window=10.0)
    first, second = store.bind(key_scope(KEY)), store.bind(key_scope(KEY))
    lease = await first.try_acquire(MEMBERS, rules(limits))
    assert isinstance(lease, Lease)
    clock.now += 2.0
    await first.settle(lease, True)
    clock.now += 9.0
    assert await second.try_acquire(MEMBERS, rules(limits)) == pytest.approx(1.0)
    clock.now += 1.0
    assert isinstance(await second.try_acquire(MEMBERS, rules(limits)), Lease)


async def test_a_429_seen_by_one_client_holds_the_others_on_that_operation_only(
    store: RedisStore, clock: Clock
) -> None:
    limits = RateLimits.off()
    first, second = store.bind(key_scope(KEY)), store.bind(key_scope(KEY))
    lease = await first.try_acquire(MEMBERS, rules(limits))
    assert isinstance(lease, Lease)
    assert await first.refuse(lease, 7.0, True, None) == pytest.approx(7.0)
    assert await second.try_acquire(MEMBERS, rules(limits)) == pytest.approx(7.0)
    assert isinstance(await second.try_acquire(MESSAGES, rules(limits, MESSAGES)), Lease)


async def test_only_the_429_that_starts_a_pause_reports_it(store: RedisStore) -> None:
    limits = RateLimits.off()
    first, second = store.bind(key_scope(KEY)), store.bind(key_scope(KEY))
    one = await first.try_acquire(MEMBERS, rules(limits))
    two = await second.try_acquire(MEMBERS, rules(limits))
    assert isinstance(one, Lease)
    assert isinstance(two, Lease)
    assert await first.refuse(one, 5.0, True, None) == pytest.approx(5.0)
    assert await second.refuse(two, 5.0, True, None) == 0.0


async def test_the_slow_start_is_shared(store: RedisStore) -> None:
    limits = RateLimits.adaptive()
    first, second = store.bind(key_scope(KEY)), store.bind(key_scope(KEY))
    for bound in (first, second, first):
        assert isinstance(await bound.try_acquire(MEMBERS, rules(limits)), Lease)
    assert await second.try_acquire(MEMBERS, rules(limits)) == SLOW


async def test_a_429_teaches_every_client_the_limit(
    store: RedisStore, clock: Clock, redis_url: str
) -> None:
    limits = RateLimits.adaptive()
    first, second = store.bind(key_scope(KEY)), store.bind(key_scope(KEY))
    for _ in range(4):
        lease = await first.try_acquire(MEMBERS, rules(limits))
        assert isinstance(lease, Lease)
        clock.now += 0.1
        await first.settle(lease, True)
    refused = await second.try_acquire(MEMBERS, rules(limits))
    assert isinstance(refused, Lease)
    await second.refuse(refused, 10.0, True, None)
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        state = await client.hgetall(f"whop_dm:rl:{key_scope(KEY)}:{MEMBERS}:state")
    finally:
        await client.aclose()
    # "Try again in 10 seconds." 0.4 s after the oldest went: a 10-s window.
    assert int(state[b"limit"]) == 4
    assert float(state[b"window"]) == 10.0
    clock.now += 9.5
    # Paused until 10.1 s: the oldest answer (0.1 s) leaves the 10-s window
    # then, sooner than the rounded-up "10 seconds" from 0.4 s.
    assert await first.try_acquire(MEMBERS, rules(limits)) == pytest.approx(0.2)
    # Another operation starts from the learned limit, not from the slow start.
    leases = [await second.try_acquire(MESSAGES, rules(limits, MESSAGES)) for _ in range(5)]
    assert [isinstance(lease, Lease) for lease in leases] == [True] * 4 + [False]


async def test_keys_hold_a_digest_of_the_api_key_and_expire(
    store: RedisStore, redis_url: str
) -> None:
    limits = RateLimits(per_operation=5, window=10.0)
    bound = store.bind(key_scope(KEY))
    lease = await bound.try_acquire(MEMBERS, rules(limits))
    assert isinstance(lease, Lease)
    await bound.settle(lease, True)
    await bound.refuse(await bound.try_acquire(MEMBERS, rules(limits)), 3.0, True, 10.0)  # type: ignore[arg-type]
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        keys = [key.decode() for key in await client.keys("*")]
        assert keys
        for key in keys:
            assert KEY not in key
            assert "secret" not in key
            assert key.startswith("whop_dm:rl:" + key_scope(KEY))
            assert 0 < await client.ttl(key) <= 3600
    finally:
        await client.aclose()


async def test_a_client_of_ones_own_is_used_and_left_open(redis_url: str) -> None:
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        store = RedisStore(client)
        bound = store.bind(key_scope(KEY))
        lease = await bound.try_acquire(MEMBERS, rules(RateLimits()))
        assert isinstance(lease, Lease)
        await store.aclose()
        assert await client.ping()
    finally:
        await client.aclose()


def test_the_store_repr_never_shows_the_url() -> None:
    store = RedisStore("redis://:hunter2@127.0.0.1:1/0")
    assert "hunter2" not in repr(store)


def test_a_store_needs_a_url_or_a_client() -> None:
    with pytest.raises(TypeError):
        RedisStore(42)  # type: ignore[arg-type]


async def test_when_redis_goes_away_pacing_goes_on_in_process_with_one_warning(
    redis_server: RedisServer, redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = RedisStore(redis_url)
    limits = RateLimits(per_operation=2, window=10.0)
    bound = store.bind(key_scope(KEY))
    try:
        assert isinstance(await bound.try_acquire(MEMBERS, rules(limits)), Lease)
        redis_server.stop()
        with caplog.at_level(logging.WARNING, logger="whop_dm"):
            fallback = [await bound.try_acquire(MEMBERS, rules(limits)) for _ in range(3)]
        # The in-process budget takes over: two slots, then a wait.
        assert [isinstance(lease, Lease) for lease in fallback] == [True, True, False]
        for lease in fallback:
            if isinstance(lease, Lease):
                await bound.settle(lease, True)
        warnings = [r for r in caplog.records if "Redis unreachable" in r.getMessage()]
        assert len(warnings) == 1
    finally:
        redis_server.start()
        await store.aclose()


async def test_a_process_takes_the_free_slots_of_its_queue_in_one_round_trip(
    store: RedisStore,
) -> None:
    limits = RateLimits(per_operation=3, window=10.0)
    bound = store.bind(key_scope(KEY))
    leases = await bound.try_acquire_many(MEMBERS, rules(limits), 5)
    assert isinstance(leases, list)
    assert len(leases) == 3
    assert len({lease.token for lease in leases}) == 3
    assert await bound.try_acquire(MEMBERS, rules(limits)) == ANSWER
    for lease in leases:
        await bound.settle(lease, False)
    assert isinstance(await bound.try_acquire(MEMBERS, rules(limits)), Lease)
