"""The retry policy (a frozen record) and the one place that decides
"retry or not, and how long to wait", run by tenacity.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from ._errors import APIConnectionError, APIError, RateLimitError, WhopError
from ._log import fields, logger

if TYPE_CHECKING:
    import tenacity

    from ._transport import Request

__all__ = ["RetryEvent", "RetryPolicy", "with_retries"]


T = TypeVar("T")

DEFAULT_RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})


async def _no_sleep(_: float) -> None:
    # Still a checkpoint, so a cancellation lands here as it would in a real sleep.
    await asyncio.sleep(0)


def _positive(_: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"RetryPolicy.{attribute.name} must be a number")
    if value < 0 or not math.isfinite(value):
        raise ValueError(f"RetryPolicy.{attribute.name} must be a finite number >= 0")


def _attempts(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("RetryPolicy.max_attempts must be an int")
    if value < 1:
        raise ValueError("RetryPolicy.max_attempts must be at least 1")


def _deadline(_: object, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None:
        _positive(_, attribute, value)
        if value == 0:
            raise ValueError("RetryPolicy.deadline must be above 0 (or None for no deadline)")


def _statuses(value: Iterable[int]) -> frozenset[int]:
    statuses = frozenset(value)
    if not all(isinstance(s, int) and 100 <= s <= 599 for s in statuses):
        raise ValueError("RetryPolicy.retry_statuses must hold HTTP status codes")
    return statuses


@attrs.frozen
class RetryPolicy:
    """When and how a failed call is tried again.

    The defaults: up to 3 attempts; exponential backoff from 0.5 s doubling
    to at most 8 s, plus up to 0.5 s of random jitter; at most 60 s for the
    whole call including waits; retry on 408, 409, 429, 500, 502, 503, 504
    and on connection failures and timeouts. A server-given wait
    (``retry-after-ms``, ``Retry-After``, or Whop's "Try again in N seconds.")
    replaces the backoff; when it is longer than ``max_retry_after`` the call
    raises `RateLimitError` at once instead of sleeping.

    400, 401, 403, 404 and 422 are never retried (they are not in
    ``retry_statuses`` by default; a request that was refused would be refused
    again). A timeout or dropped connection is retried too: every request
    this library sends is safe to send twice (a GET by nature; a POST,
    PATCH or DELETE carries one ``Idempotency-Key`` on all its attempts).

    ``sleep`` is the coroutine used for every wait (retry backoff and the
    rate-limit pacing and pauses); tests replace it, see `instant`.

    Example:
        >>> RetryPolicy(max_attempts=5, deadline=30.0).max_attempts
        5
    """

    max_attempts: int = attrs.field(default=3, validator=_attempts)
    initial_backoff: float = attrs.field(default=0.5, validator=_positive)
    max_backoff: float = attrs.field(default=8.0, validator=_positive)
    jitter: float = attrs.field(default=0.5, validator=_positive)
    deadline: float | None = attrs.field(default=60.0, validator=_deadline)
    retry_statuses: frozenset[int] = attrs.field(
        default=DEFAULT_RETRY_STATUSES, converter=_statuses
    )
    max_retry_after: float = attrs.field(default=60.0, validator=_positive)
    sleep: Callable[[float], Awaitable[None]] = attrs.field(
        default=asyncio.sleep, eq=False, repr=False
    )

    @classmethod
    def disabled(cls) -> RetryPolicy:
        """One attempt, no retries."""
        return cls(max_attempts=1)

    @classmethod
    def instant(cls, **changes: Any) -> RetryPolicy:
        """The same decisions with no real waiting: for tests.

        Waits are computed (and reported to ``on_retry`` hooks and logs) but
        not slept.
        """
        return cls(**{"sleep": _no_sleep, **changes})

    def backoff(self, attempt: int) -> float:
        """The wait after failed attempt number ``attempt`` (1-based), jitter included."""
        base = min(self.max_backoff, self.initial_backoff * (2 ** (attempt - 1)))
        return float(base + random.uniform(0, self.jitter))

    def decide(self, exc: BaseException, attempt: int) -> float | None:
        """Seconds to wait before retrying after ``exc``, or None to give up now.

        The single place where "retry or not, and how long" is decided; it
        runs once per failed attempt. A timeout or dropped connection is
        always worth another attempt: every request this library sends may
        be sent twice (GETs by nature, everything else carries an
        ``Idempotency-Key`` reused on every attempt).
        """
        if isinstance(exc, APIError):
            if exc.status_code not in self.retry_statuses:
                return None
            if exc.retry_after is not None:
                if exc.retry_after > self.max_retry_after:
                    return None
                return exc.retry_after
            return self.backoff(attempt)
        if isinstance(exc, APIConnectionError):
            return self.backoff(attempt)
        return None


@attrs.frozen
class RetryEvent:
    """What ``on_retry`` hooks receive before each wait.

    Attributes:
        method: the HTTP method.
        path: the API path (``/dm_members``).
        attempt: the number of the attempt that failed (1-based).
        wait: seconds until the next attempt.
        cause: the error of the failed attempt.
        operation: what Whop counts its rate limit on: the method and the
            route template (``POST /dm_members``, ``GET /dm_channels/{id}``).
        held: seconds the failed attempt was held by the rate limit before
            it was sent (0.0 when it went at once). After a 429, ``wait`` is
            how long the operation is held now.
    """

    method: str
    path: str
    attempt: int
    wait: float
    cause: WhopError
    operation: str = ""
    held: float = 0.0


def _log_retry(event: RetryEvent, operation: str) -> None:
    cause = event.cause
    # A 429 is logged once per pause by the pacer, not once per refused request.
    level = logging.DEBUG if isinstance(cause, RateLimitError) else logging.WARNING
    logger.log(
        level,
        "retrying %s %s in %.2fs after attempt %d failed: %s",
        event.method,
        event.path,
        event.wait,
        event.attempt,
        cause,
        extra=fields(
            operation=operation,
            status=cause.status_code if isinstance(cause, APIError) else None,
            request_id=cause.request_id if isinstance(cause, APIError) else None,
            attempt=event.attempt,
            wait=event.wait,
        ),
    )


class _Attempts:
    """Tenacity's strategies for one logical call, deciding once per failed attempt.

    ``retry`` asks the policy and keeps its answer; ``wait`` hands that
    answer back, so the decision and the wait can never disagree.
    """

    __slots__ = ("_decided", "held", "hook", "policy", "request")

    def __init__(
        self,
        policy: RetryPolicy,
        request: Request,
        hook: Callable[[RetryEvent], None] | None,
        held: list[float] | None = None,
    ) -> None:
        self.held = held
        self.policy = policy
        self.request = request
        self.hook = hook
        self._decided: float | None = None

    def retry(self, state: tenacity.RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        if exc is None:
            return False
        self._decided = self.policy.decide(exc, state.attempt_number)
        return self._decided is not None

    def wait(self, state: tenacity.RetryCallState) -> float:
        return float(self._decided or 0.0)

    def stop(self, state: tenacity.RetryCallState) -> bool:
        if state.attempt_number >= self.policy.max_attempts:
            return True
        deadline = self.policy.deadline
        if deadline is None:
            return False
        # Give up now rather than sleep past the deadline.
        started = self.request.started
        if self.held is not None:
            started += self.held[1]  # time held by the rate limit is not counted
        return time.monotonic() - started + state.upcoming_sleep >= deadline

    def before_sleep(self, state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        assert isinstance(exc, WhopError)
        request = self.request
        event = RetryEvent(
            request.method,
            request.path,
            state.attempt_number,
            state.upcoming_sleep,
            exc,
            request.operation,
            0.0 if self.held is None else self.held[0],
        )
        _log_retry(event, request.operation)
        if self.hook is not None:
            self.hook(event)


async def with_retries(
    policy: RetryPolicy,
    request: Request,
    attempt: Callable[[int], Awaitable[T]],
    hook: Callable[[RetryEvent], None] | None = None,
    held: list[float] | None = None,
) -> T:
    """Run ``attempt(number)`` in tenacity's loop until it returns or the policy gives up.

    Every attempt runs in the loop, the first included; when the policy gives
    up, the last error is raised as is.
    """
    # Imported on the first call rather than with the package: a program that
    # never sends a request should not pay for it at import time.
    import tenacity

    strategy = _Attempts(policy, request, hook, held)
    retrying = tenacity.AsyncRetrying(
        retry=strategy.retry,
        wait=strategy.wait,
        stop=strategy.stop,
        sleep=policy.sleep,
        before_sleep=strategy.before_sleep,
        reraise=True,
    )

    async def numbered() -> T:
        return await attempt(retrying.statistics["attempt_number"])

    try:
        return await retrying(numbered)
    finally:
        # A finished AsyncRetrying refers to itself: its iteration state keeps
        # its own bound methods. Cleared, reference counting frees the call's
        # objects (the Request among them) at once; left, each call leaves a
        # cycle of about 30 objects that a long bulk run's cyclic collector
        # reaches late (14 MB of peak memory over 90,000 calls).
        retrying.iter_state.reset()
