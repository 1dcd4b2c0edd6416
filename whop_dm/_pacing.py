"""Per-operation pacing: Whop's budget of requests per operation and key.

Whop counts requests per operation (method and route template, such as
``POST /dm_members``) and credential in a sliding window: 600 a minute by
default. This module keeps a count of the same kind on our side, so that a
request waits here rather than draws a 429, and so that a 429 holds only its
own operation.

The counting rule, which makes pacing exact for a sliding window: a request
takes a slot when it is sent and keeps it while it is in flight; once its
answer arrives the slot is stamped with the time of that answer and frees a
window later. The server counted the request somewhere between our sending
it and its answer arriving, so the server's slot always frees before ours:
as long as the numbers are right, no request is refused.

The counts live in a store: `MemoryStore` (in-process, the default, one per
client) or ``RedisStore`` (shared by every process that uses it).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType
from typing import Any, Protocol

import attrs

from ._errors import RateLimitError
from ._log import fields, logger

__all__ = [
    "ANSWER",
    "Lease",
    "MemoryStore",
    "OpRules",
    "Pacer",
    "RateLimits",
    "Store",
    "key_scope",
]

# While the limit of an operation is unknown, it starts with this many
# requests in flight, and the allowance doubles each time the number of
# answered requests doubles (one more in flight per GROWTH answers). When the
# limit is finally met, at most about (limit / GROWTH) requests are in flight,
# so few are refused; against a server that never refuses, the allowance
# passes any connection pool within a few hundred requests.
SLOW_START = 3
SLOW_START_GROWTH = 32
# Answered requests kept per operation while its limit is unknown (what the
# first 429 is read against). Bounds the memory of a long job.
LOG_CAP = 4096
# A grant never answered (its process died) stops counting after this long.
STALE_AFTER = 300.0
# How often a request waiting for an answer asks a shared store again.
SHARED_POLL = 0.01
# The wait hints meaning "until one of the requests in flight is answered":
# for a full budget, and for the slow start's allowance (not reported as held
# by the rate limit: nothing was refused or counted full yet).
ANSWER = -1.0
SLOW = -2.0


class Pause(float):
    """A wait that is a pause asked by the server (a 429), not the budget's."""

    __slots__ = ()


def window_bounds(
    retry_after: float, sent: float, answered: float, oldest_sent: float, oldest_answered: float
) -> tuple[float, float]:
    """What a 429 tells of the window: ``lower < window <= upper``.

    The server says when its oldest counted request leaves the window, in
    whole seconds rounded up (``retry_after``). That request, taken as our
    oldest answered one, reached the server between ``oldest_sent`` and
    ``oldest_answered``; the refused one between ``sent`` and ``answered``.
    """
    upper = retry_after + answered - oldest_sent
    lower = retry_after - 1.0 + sent - oldest_answered
    return lower, upper


def guess_window(lower: float, upper: float) -> float:
    """The window to pace by, from its bounds: never shorter than it may be.

    Windows are whole seconds in practice (Whop's is 60), and the bounds are
    about a second apart: the largest whole number within them is then the
    window itself, where the upper bound alone would overshoot by up to a
    second per window. A window that is not whole gets the upper bound.
    """
    whole = float(math.floor(upper))
    return whole if whole > lower and whole > 0 else upper


def key_scope(api_key: str) -> str:
    """A digest naming the credential in the stores; the key itself never leaves."""
    return hashlib.sha256(b"whop-dm rate limits\x00" + api_key.encode()).hexdigest()[:24]


def _check_count(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"RateLimits.{name} must be an int")
    if value < 1:
        raise ValueError(f"RateLimits.{name} must be at least 1")


def _per_operation(_: object, attribute: attrs.Attribute[Any], value: int | None) -> None:
    if value is not None:
        _check_count(attribute.name, value)


def _window(_: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError("RateLimits.window must be a number of seconds")
    if not (value > 0 and math.isfinite(value)):
        raise ValueError("RateLimits.window must be a finite number of seconds above 0")


def _overrides(value: Mapping[str, int] | None) -> Mapping[str, int]:
    checked: dict[str, int] = {}
    for operation, limit in dict(value or {}).items():
        if not isinstance(operation, str):
            raise TypeError("RateLimits.overrides keys are operations like 'POST /messages'")
        method, _, route = operation.strip().partition(" ")
        if not method.isalpha() or not route.startswith("/"):
            raise ValueError(
                f"RateLimits.overrides: {operation!r} is not an operation "
                "like 'POST /messages' or 'PATCH /dm_channels/{id}'"
            )
        _check_count(f"overrides[{operation!r}]", limit)
        checked[f"{method.upper()} {route}"] = limit
    return MappingProxyType(checked)


@attrs.frozen
class OpRules:
    """The numbers one operation is paced by (``limit`` None: unknown yet)."""

    limit: int | None
    window: float | None
    slow_start: bool
    pacing: bool


@attrs.frozen
class RateLimits:
    """How requests are paced before Whop would refuse them.

    Whop allows a number of requests per operation (the method and the route
    template, like ``POST /dm_members``; ids are not part of it) and API key
    within a sliding window: 600 a minute by default. Each operation is
    paced on its own, and a 429 holds only its own operation.

    ``RateLimits()`` is Whop's documented limit, ``per_operation=600`` in a
    ``window`` of 60 s (also `RateLimits.whop`): up to 600 requests go at
    once, then each waits for a slot to leave the window. ``overrides`` sets
    the limit of single operations, ``{"POST /messages": 300}``.
    ``per_operation=None`` means "unknown": start slowly and learn the limit
    from the first 429 (`RateLimits.adaptive`, the client's default).
    `RateLimits.off` turns pacing off; only the pause after a 429 remains.

    ``store`` holds the counts: in-process by default; a
    ``whop_dm.RedisStore`` shares them (and the pauses) between every
    client, process and machine using the same key and store.

    Example:
        >>> RateLimits(per_operation=600, window=60.0) == RateLimits.whop()
        True
        >>> RateLimits(overrides={"POST /messages": 300}).limit_for("POST /messages")
        300
    """

    per_operation: int | None = attrs.field(default=600, validator=_per_operation)
    window: float = attrs.field(default=60.0, validator=_window)
    overrides: Mapping[str, int] = attrs.field(
        factory=dict, converter=_overrides, hash=False, repr=lambda m: repr(dict(m))
    )
    store: Store | None = attrs.field(default=None, eq=False, repr=False)
    pacing: bool = True

    @classmethod
    def whop(cls, *, store: Store | None = None) -> RateLimits:
        """Whop's documented limit: 600 requests per operation and minute."""
        return cls(per_operation=600, window=60.0, store=store)

    @classmethod
    def adaptive(cls, *, store: Store | None = None) -> RateLimits:
        """The client's default: the limit is learned, not assumed.

        Each operation starts with three requests in flight, one more
        for every 32 answered, so a server that never refuses is not slowed
        past the first few hundred requests. The first 429's "Try again in N
        seconds." then tells how many requests the window holds and how long
        it is, and the operation is paced exactly from there on.
        """
        return cls(per_operation=None, store=store)

    @classmethod
    def off(cls) -> RateLimits:
        """No pacing; a 429 still holds its own operation for the wait it asks."""
        return cls(per_operation=None, pacing=False)

    def limit_for(self, operation: str) -> int | None:
        """The configured limit of ``operation`` (None: learned from 429s)."""
        return self.overrides.get(operation, self.per_operation)

    def rules_for(self, operation: str) -> OpRules:
        """The numbers ``operation`` is paced by, as the pacer reads them."""
        limit = self.limit_for(operation)
        if not self.pacing:
            return OpRules(None, None, slow_start=False, pacing=False)
        if limit is None:
            return OpRules(None, None, slow_start=True, pacing=True)
        return OpRules(limit, float(self.window), slow_start=False, pacing=True)


@attrs.define(eq=False, slots=True)
class Lease:
    """One request's slot in its operation's budget, from send to answer.

    ``held``: seconds the request waited because of the rate limit (a full
    budget or a pause); ``waited``: all its time in the pacer, the slow
    start's turns included.
    """

    operation: str
    granted: float
    held: float
    token: str = ""
    waited: float = 0.0


class Store(Protocol):
    """Where the counts and pauses of the operations live (see `MemoryStore`)."""

    @property
    def is_shared(self) -> bool: ...

    def bind(self, scope: str) -> BoundStore: ...


class BoundStore(Protocol):
    """A store's view for one API key."""

    async def try_acquire(self, operation: str, rules: OpRules) -> Lease | float: ...

    async def settle(self, lease: Lease, counted: bool) -> None: ...

    async def refuse(
        self, lease: Lease, retry_after: float, learn: bool, window: float | None
    ) -> float: ...

    def local_pause(self, operation: str) -> float: ...


@attrs.define(eq=False, slots=True)
class _Op:
    """The in-process state of one operation."""

    limit: int | None = None
    window: float | None = None
    paused_until: float = 0.0
    flight: int = 0
    ok: int = 0
    # Answered, counted requests: (granted, answered) times, oldest first.
    log: collections.deque[tuple[float, float]] = attrs.field(
        factory=lambda: collections.deque(maxlen=LOG_CAP)
    )
    # Grant times of the requests in flight, for learning from a 429.
    inflight: dict[int, float] = attrs.field(factory=dict)
    answered: asyncio.Event | None = None


class MemoryStore:
    """Counts and pauses kept in this process (the default, one per client).

    ``clock`` gives the time in seconds (``time.monotonic`` by default);
    tests pass a clock of their own.
    """

    is_shared = False

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._scopes: dict[str, _MemoryScope] = {}

    def bind(self, scope: str) -> _MemoryScope:
        """This store's view for one API key (``scope`` is the key's digest)."""
        bound = self._scopes.get(scope)
        if bound is None:
            bound = self._scopes[scope] = _MemoryScope(self._clock)
        return bound


class _MemoryScope:
    """One API key's operations in a `MemoryStore`."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.ops: dict[str, _Op] = {}
        # A limit learned on one operation: the first guess for the others,
        # since Whop documents one default for every operation.
        self.prior: tuple[int, float] | None = None
        # What the 429s so far tell of the window: lower < window <= upper.
        self.bounds: tuple[float, float] | None = None
        self._ids = 0

    def op(self, operation: str) -> _Op:
        state = self.ops.get(operation)
        if state is None:
            state = self.ops[operation] = _Op()
        return state

    def local_pause(self, operation: str) -> float:
        state = self.ops.get(operation)
        if state is None:
            return 0.0
        return max(0.0, state.paused_until - self.clock())

    def effective(self, state: _Op, rules: OpRules) -> tuple[int | None, float | None]:
        limit, window = rules.limit, rules.window
        if state.limit is not None:
            # Learned: only ever lower than the configured numbers.
            limit = state.limit if limit is None else min(limit, state.limit)
            window = state.window if window is None else window
        elif limit is None and self.prior is not None and rules.pacing:
            limit, window = self.prior
        return limit, window

    def grant(self, operation: str, rules: OpRules, now: float | None = None) -> Lease | float:
        """A lease, or how long to wait (`ANSWER`: until an answer arrives)."""
        if now is None:
            now = self.clock()
        state = self.op(operation)
        if now < state.paused_until:
            return Pause(state.paused_until - now)
        if rules.pacing:
            limit, window = self.effective(state, rules)
            log = state.log
            if limit is not None and window is not None:
                horizon = now - window
                while log and log[0][1] <= horizon:
                    log.popleft()
                if state.flight + len(log) >= limit:
                    if log and state.flight < limit:
                        return log[0][1] + window - now
                    return ANSWER
            elif rules.slow_start and state.flight >= max(
                SLOW_START, state.ok // SLOW_START_GROWTH
            ):
                return SLOW
        state.flight += 1
        self._ids += 1
        state.inflight[self._ids] = now
        return Lease(operation, now, 0.0, str(self._ids))

    async def try_acquire(self, operation: str, rules: OpRules) -> Lease | float:
        return self.grant(operation, rules)

    def done(self, lease: Lease, counted: bool, now: float | None = None) -> None:
        if now is None:
            now = self.clock()
        state = self.op(lease.operation)
        if state.inflight.pop(int(lease.token), None) is None:
            return
        state.flight -= 1
        if counted:
            state.ok += 1
            state.log.append((lease.granted, now))
        event = state.answered
        if event is not None:
            state.answered = None
            event.set()

    async def settle(self, lease: Lease, counted: bool) -> None:
        self.done(lease, counted)

    def refused(
        self,
        lease: Lease,
        retry_after: float,
        learn: bool,
        window: float | None = None,
        now: float | None = None,
    ) -> float:
        """Record a 429 for ``lease``; return the new pause of its operation (seconds)."""
        if now is None:
            now = self.clock()
        state = self.op(lease.operation)
        if state.inflight.pop(int(lease.token), None) is None:
            return max(0.0, state.paused_until - now)
        state.flight -= 1
        pause = retry_after
        if learn and retry_after > 0:
            self._learn(state, lease, retry_after, window, now)
            pause = self._shorter_pause(state, retry_after, window, now)
        started = now >= state.paused_until
        state.paused_until = max(state.paused_until, now + pause)
        event = state.answered
        if event is not None:
            state.answered = None
            event.set()
        return (state.paused_until - now) if started else 0.0

    def _shorter_pause(
        self, state: _Op, retry_after: float, window: float | None, now: float
    ) -> float:
        """The pause after a 429, ended as soon as the oldest counted request
        leaves the window as we know it.

        The server's "Try again in N seconds." is rounded up to whole seconds;
        once the window is known, the count frees the slot at the exact
        time, up to a second earlier.
        """
        if window is None:
            window = state.window
        if window is None:
            return retry_after
        horizon = now - window
        oldest = next((answered for _, answered in state.log if answered > horizon), None)
        if oldest is None:
            return retry_after
        exact = oldest + window - now
        return exact if 0 < exact < retry_after else retry_after

    def _learn(
        self, state: _Op, lease: Lease, retry_after: float, window: float | None, now: float
    ) -> None:
        log = state.log
        learned_window = window is None and bool(log)
        if learned_window:
            # Whop documents one window for every operation: each 429, on any
            # operation of the key, narrows the same bounds.
            lower, upper = window_bounds(retry_after, lease.granted, now, *log[0])
            if self.bounds is not None:
                low, high = max(self.bounds[0], lower), min(self.bounds[1], upper)
                # Bounds that no longer meet (a window that is not what we
                # took our oldest request for): start again from this 429.
                lower, upper = (low, high) if low < high else (lower, upper)
            self.bounds = (lower, upper)
            window = state.window = guess_window(lower, upper)
        elif window is None:
            window = state.window if state.window is not None else (self.prior or (0, None))[1]
        if window is None:
            return
        horizon = now - window
        counted = sum(1 for _, answered in log if answered > horizon)
        # Requests sent before this one and still unanswered were counted first.
        counted += sum(1 for granted in state.inflight.values() if granted < lease.granted)
        if counted < 1:
            return
        if state.limit is None or counted < state.limit:
            state.limit = counted
        if self.prior is None:
            self.prior = (state.limit, window)
        elif learned_window:
            self.prior = (self.prior[0], window)

    async def refuse(
        self, lease: Lease, retry_after: float, learn: bool, window: float | None
    ) -> float:
        return self.refused(lease, retry_after, learn, window)

    def answered_event(self, operation: str) -> asyncio.Event:
        state = self.op(operation)
        if state.answered is None:
            state.answered = asyncio.Event()
        return state.answered


class Pacer:
    """Paces the requests of one client by operation, over a store.

    Waits go through ``sleep`` (the retry policy's, so a test's no-op sleep
    reaches the pacer too). A wait longer than ``max_wait`` raises
    `RateLimitError` at once instead of sleeping.
    """

    def __init__(
        self,
        limits: RateLimits,
        api_key: str,
        *,
        sleep: Callable[[float], Awaitable[None]],
        max_wait: float,
    ) -> None:
        self.limits = limits
        store: Store = limits.store if limits.store is not None else MemoryStore()
        self._store = store.bind(key_scope(api_key))
        self._local = self._store if isinstance(self._store, _MemoryScope) else None
        self._sleep = sleep
        self._max_wait = max_wait
        self._rules: dict[str, OpRules] = {}
        # Time the operations spent held: (holding count, since, total).
        self._holding: dict[str, list[float]] = {}
        # A sleep that returns early (a test's) is taken to have waited anyway.
        self._skipped = 0.0
        # Shared stores: wakes the requests of this process waiting for an answer.
        self._answered: dict[str, asyncio.Event] = {}
        # The queue of each operation's waiting requests (see `acquire`), how
        # many are in it, and slots a shared store granted ahead for them.
        self._turns: dict[str, asyncio.Lock] = {}
        self._queued: dict[str, int] = {}
        self._stash: dict[str, collections.deque[Lease]] = {}

    @property
    def shared(self) -> bool:
        return self._local is None

    def held(self) -> dict[str, float]:
        """Seconds each operation has spent held so far (wall time, not summed per request)."""
        now = time.monotonic()
        out: dict[str, float] = {}
        for operation, (count, since, total) in self._holding.items():
            out[operation] = total + (now - since if count > 0 else 0.0)
        return out

    def _hold_start(self, operation: str) -> None:
        entry = self._holding.get(operation)
        if entry is None:
            entry = self._holding[operation] = [0.0, 0.0, 0.0]
        if entry[0] == 0:
            entry[1] = time.monotonic()
        entry[0] += 1

    def _hold_end(self, operation: str) -> None:
        entry = self._holding[operation]
        entry[0] -= 1
        if entry[0] == 0:
            entry[2] += time.monotonic() - entry[1]

    def rules(self, operation: str) -> OpRules:
        rules = self._rules.get(operation)
        if rules is None:
            rules = self._rules[operation] = self.limits.rules_for(operation)
        return rules

    def paused_for(self, operation: str) -> float:
        """Seconds this process knows ``operation`` is paused for (0.0 when open)."""
        local = self._local
        if local is None:
            return self._store.local_pause(operation)
        state = local.ops.get(operation)
        if state is None:
            return 0.0
        return max(0.0, state.paused_until - (local.clock() + self._skipped))

    def try_now(self, operation: str) -> Lease | None:
        """A lease at once when the in-process store grants one, else None.

        The transport's fast path: no coroutine for a request that does not wait.
        """
        local = self._local
        if local is None:
            return None
        turn = self._turns.get(operation)
        if turn is not None and turn.locked():
            return None  # others are waiting: join the queue, do not pass them
        rules = self._rules.get(operation)
        if rules is None:
            rules = self.rules(operation)
        got = local.grant(operation, rules, local.clock() + self._skipped)
        return got if isinstance(got, Lease) else None

    def settle_now(self, lease: Lease, counted: bool) -> bool:
        """`settle` without a coroutine for the in-process store; False when shared."""
        local = self._local
        if local is None:
            return False
        local.done(lease, counted, local.clock() + self._skipped)
        return True

    async def acquire(self, operation: str) -> Lease:
        """Wait until ``operation`` may send; the lease says how long that took.

        The requests of one operation wait in turn, first come first served:
        only the one at the head of the queue asks the store (and sleeps, or
        polls a shared store), the others wait for their turn. Hundreds of
        waiting tasks thus cost one sleeper each, not hundreds of wake-ups or
        calls to Redis.
        """
        rules = self.rules(operation)
        turn = self._turns.get(operation)
        if turn is None:
            turn = self._turns[operation] = asyncio.Lock()
        entered = time.monotonic()
        held_before = self._held_of(operation, entered)
        self._queued[operation] = self._queued.get(operation, 0) + 1
        try:
            async with turn:
                stash = self._stash.get(operation)
                if stash:
                    lease = stash.popleft()
                else:
                    got = await self._ask(operation, rules)
                    if not isinstance(got, Lease):
                        got = await self._wait(operation, rules, got)
                    lease = got
        finally:
            self._queued[operation] -= 1
        left = time.monotonic()
        lease.waited = left - entered
        # Held: the time the operation spent held while this request waited,
        # whether it was the one sleeping or queued behind it.
        lease.held = min(lease.waited, self._held_of(operation, left) - held_before)
        return lease

    async def _ask(self, operation: str, rules: OpRules) -> Lease | float:
        """One request to the store: a lease, or how long to wait."""
        local = self._local
        if local is not None:
            return local.grant(operation, rules, local.clock() + self._skipped)
        many = getattr(self._store, "try_acquire_many", None)
        if many is None:
            return await self._store.try_acquire(operation, rules)
        # A shared store grants the slots of the requests queued behind this
        # one in the same round trip; they take theirs from the stash.
        got: list[Lease] | float = await many(operation, rules, self._queued.get(operation, 1))
        if not isinstance(got, list):
            return got
        if len(got) > 1:
            self._stash.setdefault(operation, collections.deque()).extend(got[1:])
        return got[0]

    async def aclose(self) -> None:
        """Give back the slots granted ahead for requests that never came."""
        stashes, self._stash = self._stash, {}
        for stash in stashes.values():
            for lease in stash:
                await self.settle(lease, counted=False)

    def _held_of(self, operation: str, now: float) -> float:
        entry = self._holding.get(operation)
        if entry is None:
            return 0.0
        count, since, total = entry
        return total + (now - since if count > 0 else 0.0)

    async def _wait(self, operation: str, rules: OpRules, wait: float) -> Lease:
        started = 0.0
        try:
            # Each round either sleeps a computed wait or waits for an answer
            # in flight, so the loop ends once the budget frees.
            while True:
                # Only a server's pause fails fast: a wait for the budget is
                # at most a window, and is what pacing is for.
                if isinstance(wait, Pause) and wait > self._max_wait:
                    raise RateLimitError(
                        f"{operation} not sent: the server asked to hold it for another "
                        f"{wait:.0f}s, longer than max_retry_after",
                        status_code=429,
                        type="rate_limit_exceeded",
                        retry_after=wait,
                    )
                if not started and wait != SLOW:
                    started = time.monotonic()
                    self._hold_start(operation)
                if wait in (ANSWER, SLOW):
                    await self._until_answer(operation)
                else:
                    before = time.monotonic()
                    await self._sleep(wait)
                    if self._local is not None:
                        self._skipped += max(0.0, wait - (time.monotonic() - before))
                got = await self._ask(operation, rules)
                if isinstance(got, Lease):
                    return got
                wait = got
        finally:
            if started:
                self._hold_end(operation)

    async def _until_answer(self, operation: str) -> None:
        local = self._local
        if local is not None:
            await local.answered_event(operation).wait()
            return
        # An answer in this process, or, as other processes' answers free
        # slots too, a short poll of the shared store: whichever comes first.
        event = self._answered.get(operation)
        if event is None:
            event = self._answered[operation] = asyncio.Event()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(event.wait(), SHARED_POLL)

    def _wake(self, operation: str) -> None:
        event = self._answered.pop(operation, None)
        if event is not None:
            event.set()

    async def settle(self, lease: Lease, counted: bool) -> None:
        """The request got an answer (or failed): its slot starts to age out."""
        local = self._local
        if local is not None:
            local.done(lease, counted, local.clock() + self._skipped)
        else:
            await self._store.settle(lease, counted)
            self._wake(lease.operation)

    async def refuse(self, lease: Lease, retry_after: float, *, learn: bool) -> None:
        """A 429 answered ``lease``: hold its operation ``retry_after`` seconds.

        With ``learn`` (the wait came from the server), the refusal also
        corrects the operation's budget. Logs one line per pause, not per
        refused request.
        """
        local = self._local
        window = self.rules(lease.operation).window
        if local is not None:
            started = local.refused(
                lease, retry_after, learn, window, local.clock() + self._skipped
            )
        else:
            started = await self._store.refuse(lease, retry_after, learn, window)
            self._wake(lease.operation)
        if started > 0:
            logger.warning(
                "%s: rate limited by the server; holding this operation for %.1fs",
                lease.operation,
                started,
                extra=fields(operation=lease.operation, status=429, wait=started),
            )
