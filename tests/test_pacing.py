"""The per-operation budget of the in-process store, on a clock the test moves.

No test sleeps or measures time: the store is asked at given instants, and
the pacer's waits go to a sleep that advances the same clock.
"""

from __future__ import annotations

import asyncio

import pytest

from whop_dm import RateLimitError, RateLimits
from whop_dm._pacing import (
    ANSWER,
    SLOW,
    Lease,
    MemoryStore,
    Pacer,
    guess_window,
    key_scope,
    window_bounds,
)

MEMBERS = "POST /dm_members"
MESSAGES = "POST /messages"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def scope_of(limits: RateLimits, clock: Clock) -> tuple[object, MemoryStore]:
    store = MemoryStore(clock)
    return store.bind("k"), store


def take(bound: object, operation: str, limits: RateLimits) -> Lease | float:
    return bound.grant(operation, limits.rules_for(operation))  # type: ignore[attr-defined,no-any-return]


def test_whop_limits_are_the_defaults_of_the_record() -> None:
    assert RateLimits() == RateLimits.whop() == RateLimits(per_operation=600, window=60.0)


def test_overrides_set_the_limit_of_one_operation() -> None:
    limits = RateLimits(overrides={"post /messages": 300})
    assert limits.limit_for(MESSAGES) == 300
    assert limits.limit_for(MEMBERS) == 600


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"per_operation": 0}, ValueError),
        ({"per_operation": True}, TypeError),
        ({"window": 0}, ValueError),
        ({"window": float("inf")}, ValueError),
        ({"overrides": {"messages": 3}}, ValueError),
        ({"overrides": {MESSAGES: 0}}, ValueError),
    ],
)
def test_bad_numbers_are_refused(changes: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        RateLimits(**changes)  # type: ignore[arg-type]


def test_a_known_limit_admits_a_burst_up_to_the_limit_then_waits() -> None:
    clock = Clock()
    limits = RateLimits(per_operation=3, window=10.0)
    bound, _ = scope_of(limits, clock)
    leases = [take(bound, MEMBERS, limits) for _ in range(3)]
    assert all(isinstance(lease, Lease) for lease in leases)
    # All three slots are in flight: the next waits for an answer, not a time.
    assert take(bound, MEMBERS, limits) == ANSWER


def test_a_slot_frees_one_window_after_its_answer_arrives_not_after_it_was_sent() -> None:
    clock = Clock()
    limits = RateLimits(per_operation=1, window=10.0)
    bound, _ = scope_of(limits, clock)
    lease = take(bound, MEMBERS, limits)
    assert isinstance(lease, Lease)
    clock.now += 2.0  # the answer takes two seconds
    bound.done(lease, True)  # type: ignore[attr-defined]
    clock.now += 9.0
    assert take(bound, MEMBERS, limits) == pytest.approx(1.0)
    clock.now += 1.0
    assert isinstance(take(bound, MEMBERS, limits), Lease)


def test_a_refused_request_gives_its_slot_back() -> None:
    clock = Clock()
    limits = RateLimits(per_operation=1, window=10.0)
    bound, _ = scope_of(limits, clock)
    lease = take(bound, MEMBERS, limits)
    assert isinstance(lease, Lease)
    bound.done(lease, False)  # type: ignore[attr-defined]
    assert isinstance(take(bound, MEMBERS, limits), Lease)


def test_a_429_holds_only_its_own_operation() -> None:
    clock = Clock()
    limits = RateLimits.off()
    bound, _ = scope_of(limits, clock)
    lease = take(bound, MEMBERS, limits)
    assert isinstance(lease, Lease)
    assert bound.refused(lease, 7.0, True) == 7.0  # type: ignore[attr-defined]
    assert take(bound, MEMBERS, limits) == pytest.approx(7.0)
    assert isinstance(take(bound, MESSAGES, limits), Lease)


def test_a_second_429_during_a_pause_does_not_start_another() -> None:
    clock = Clock()
    bound, _ = scope_of(RateLimits.off(), clock)
    first = take(bound, MEMBERS, RateLimits.off())
    second = take(bound, MEMBERS, RateLimits.off())
    assert bound.refused(first, 5.0, True) == 5.0  # type: ignore[attr-defined]
    assert bound.refused(second, 5.0, True) == 0.0  # type: ignore[attr-defined]


def test_off_never_holds_a_request_before_any_429() -> None:
    clock = Clock()
    limits = RateLimits.off()
    bound, _ = scope_of(limits, clock)
    assert all(isinstance(take(bound, MEMBERS, limits), Lease) for _ in range(1000))


def test_an_unknown_limit_starts_with_three_in_flight() -> None:
    clock = Clock()
    limits = RateLimits.adaptive()
    bound, _ = scope_of(limits, clock)
    for _ in range(3):
        assert isinstance(take(bound, MEMBERS, limits), Lease)
    assert take(bound, MEMBERS, limits) == SLOW


def test_the_slow_start_allowance_doubles_as_the_answers_double() -> None:
    clock = Clock()
    limits = RateLimits.adaptive()
    bound, _ = scope_of(limits, clock)
    for _ in range(32 * 64):
        lease = take(bound, MEMBERS, limits)
        assert isinstance(lease, Lease)
        bound.done(lease, True)  # type: ignore[attr-defined]
    in_flight = []
    while isinstance(lease := take(bound, MEMBERS, limits), Lease):
        in_flight.append(lease)
    assert len(in_flight) == 64


def test_the_first_429_teaches_the_limit_and_the_window() -> None:
    clock = Clock()
    limits = RateLimits.adaptive()
    bound, _ = scope_of(limits, clock)
    for _ in range(5):
        lease = take(bound, MEMBERS, limits)
        clock.now += 0.1
        bound.done(lease, True)  # type: ignore[attr-defined]
    refused = take(bound, MEMBERS, limits)
    clock.now += 0.1
    # The server's window is 10 s; its oldest counted request leaves it in
    # 10 - 0.6 = 9.4 s, said in whole seconds.
    bound.refused(refused, 10.0, True)  # type: ignore[attr-defined]
    state = bound.ops[MEMBERS]  # type: ignore[attr-defined]
    assert state.limit == 5
    assert 10.0 <= state.window <= 10.6 + 1e-9


def test_a_limit_learned_on_one_operation_paces_the_others() -> None:
    clock = Clock()
    limits = RateLimits.adaptive()
    bound, _ = scope_of(limits, clock)
    for _ in range(2):
        lease = take(bound, MEMBERS, limits)
        bound.done(lease, True)  # type: ignore[attr-defined]
    bound.refused(take(bound, MEMBERS, limits), 10.0, True)  # type: ignore[attr-defined]
    # A fresh operation now allows two at once: the learned limit, not the
    # slow start's three.
    leases = [take(bound, MESSAGES, limits) for _ in range(3)]
    assert [isinstance(lease, Lease) for lease in leases] == [True, True, False]


def test_a_429_below_a_configured_limit_lowers_it() -> None:
    clock = Clock()
    limits = RateLimits(per_operation=10, window=10.0)
    bound, _ = scope_of(limits, clock)
    for _ in range(4):
        bound.done(take(bound, MEMBERS, limits), True)  # type: ignore[attr-defined]
    bound.refused(take(bound, MEMBERS, limits), 10.0, True)  # type: ignore[attr-defined]
    assert bound.ops[MEMBERS].limit == 4  # type: ignore[attr-defined]
    clock.now += 5.0
    # Half a window on: the four answers still fill the learned budget of four.
    bound.ops[MEMBERS].paused_until = 0.0  # type: ignore[attr-defined]
    assert take(bound, MEMBERS, limits) == pytest.approx(5.0)


def test_the_scope_of_a_key_does_not_contain_the_key() -> None:
    key = "apik_secret_value_1234"
    scope = key_scope(key)
    assert key not in scope
    assert "secret" not in scope
    assert scope == key_scope(key)
    assert scope != key_scope(key + "x")


async def test_the_pacer_reports_how_long_a_request_was_held() -> None:
    clock = Clock()

    async def sleep(seconds: float) -> None:
        clock.now += seconds
        await asyncio.sleep(0)

    limits = RateLimits(per_operation=1, window=5.0, store=MemoryStore(clock))
    pacer = Pacer(limits, "key", sleep=sleep, max_wait=60.0)
    first = await pacer.acquire(MEMBERS)
    assert first.held == 0.0
    await pacer.settle(first, counted=True)
    second = await pacer.acquire(MEMBERS)
    assert clock.now == pytest.approx(1005.0)
    await pacer.settle(second, counted=True)
    assert MEMBERS in pacer.held()


async def test_a_wait_longer_than_max_wait_fails_at_once() -> None:
    clock = Clock()
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    limits = RateLimits.off()
    pacer = Pacer(
        RateLimits(per_operation=None, pacing=False, store=MemoryStore(clock)),
        "key",
        sleep=sleep,
        max_wait=30.0,
    )
    lease = await pacer.acquire(MEMBERS)
    await pacer.refuse(lease, 120.0, learn=True)
    with pytest.raises(RateLimitError) as caught:
        await pacer.acquire(MEMBERS)
    assert caught.value.retry_after == pytest.approx(120.0)
    assert slept == []
    assert isinstance(await pacer.acquire(MESSAGES), Lease)
    assert limits.pacing is False


async def test_a_full_flight_waits_for_an_answer_then_goes() -> None:
    clock = Clock()

    async def sleep(seconds: float) -> None:
        clock.now += seconds

    pacer = Pacer(
        RateLimits(per_operation=1, window=5.0, store=MemoryStore(clock)),
        "key",
        sleep=sleep,
        max_wait=60.0,
    )
    first = await pacer.acquire(MEMBERS)
    waiter = asyncio.ensure_future(pacer.acquire(MEMBERS))
    await asyncio.sleep(0)
    assert not waiter.done()
    await pacer.settle(first, counted=False)
    second = await waiter
    assert isinstance(second, Lease)


def test_a_whole_second_window_is_read_exactly_from_a_rounded_wait() -> None:
    # The oldest request went at 0.0 (answered 0.01); the refused one at 4.2
    # (answered 4.21). A 20-s window leaves 15.8 s, said as 16: the bounds
    # are (19.19, 20.21], and the whole second within them is the window.
    lower, upper = window_bounds(16.0, 4.2, 4.21, 0.0, 0.01)
    assert lower < 20.0 <= upper
    assert guess_window(lower, upper) == 20.0


def test_a_window_that_is_not_whole_gets_its_upper_bound() -> None:
    assert guess_window(9.4, 9.9) == 9.9


def test_a_learned_window_that_proves_too_short_grows() -> None:
    clock = Clock()
    limits = RateLimits.adaptive()
    bound, _ = scope_of(limits, clock)
    for _ in range(3):
        bound.done(take(bound, MEMBERS, limits), True)  # type: ignore[attr-defined]
    bound.refused(take(bound, MEMBERS, limits), 5.0, True)  # type: ignore[attr-defined]
    state = bound.ops[MEMBERS]  # type: ignore[attr-defined]
    assert state.window == 5.0
    # Three seconds on, a request sent as the count allowed is refused, and
    # the server still holds the oldest for 5 s: the window is about 8 s.
    clock.now += 3.0
    lease = Lease(MEMBERS, clock.now, 0.0, "99")
    state.inflight[99] = clock.now
    state.flight += 1
    bound.refused(lease, 5.0, True)  # type: ignore[attr-defined]
    assert state.window == pytest.approx(8.0)


def test_once_the_window_is_known_the_pause_ends_when_the_oldest_leaves_it() -> None:
    clock = Clock()
    limits = RateLimits.adaptive()
    bound, _ = scope_of(limits, clock)
    lease = take(bound, MEMBERS, limits)
    clock.now += 0.1
    bound.done(lease, True)  # type: ignore[attr-defined]
    clock.now += 0.3
    # A 20-s window: the oldest (answered at 0.1 s) leaves at 20.1 s, said as 20.
    pause = bound.refused(take(bound, MEMBERS, limits), 20.0, True)  # type: ignore[attr-defined]
    assert pause == pytest.approx(19.7)
