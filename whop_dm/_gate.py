"""Client-wide pacing: the pause after a 429, and an optional request rate cap."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiolimiter import AsyncLimiter

__all__ = ["RateLimitGate"]


class RateLimitGate:
    """Holds every request of one client while the server has asked us to wait.

    When any request gets a 429 with a known wait, `pause` moves the
    reopening time forward; every request then passes `wait` once it
    holds a connection slot and right before it is sent, so hundreds of
    concurrent tasks sit out the same window instead of each discovering the
    limit with a request of its own, and requests queued for a connection
    wait too. Requests already on the wire cannot be held back.

    With ``rate`` set (requests per second), an aiolimiter leaky bucket also
    spaces requests out before they are sent.
    """

    __slots__ = ("_limiter", "_reopens_at", "_sleep")

    def __init__(self, sleep: Callable[[float], Awaitable[None]], rate: float | None = None):
        self._sleep = sleep
        self._reopens_at = 0.0
        self._limiter: AsyncLimiter | None = None
        if rate is not None:
            # Imported only when asked for: it costs import time otherwise.
            from aiolimiter import AsyncLimiter

            if rate >= 1:
                # A bucket of one second's worth of requests: bursts up to `rate`.
                self._limiter = AsyncLimiter(max_rate=rate, time_period=1.0)
            else:
                # aiolimiter cannot acquire more than max_rate at once, so a rate
                # below one per second is one request per 1/rate seconds.
                self._limiter = AsyncLimiter(max_rate=1, time_period=1.0 / rate)

    @property
    def may_block(self) -> bool:
        """False when `wait` would return at once (no cap, no pause ever set)."""
        return self._limiter is not None or self._reopens_at > 0.0

    @property
    def paused_for(self) -> float:
        """Seconds until requests may go again (0.0 when open)."""
        return max(0.0, self._reopens_at - time.monotonic())

    def pause(self, seconds: float) -> None:
        """Hold new requests for ``seconds`` from now (never shortens a pause)."""
        self._reopens_at = max(self._reopens_at, time.monotonic() + seconds)

    async def wait(self) -> None:
        """Return when a request may be sent."""
        target = self._reopens_at
        while True:
            delay = target - time.monotonic()
            if delay > 0:
                await self._sleep(delay)
            # Sleep again only if another 429 pushed the reopening later while
            # we slept: each extra round answers one real 429, so a test's
            # no-op sleep cannot make this spin.
            if self._reopens_at <= target:
                break
            target = self._reopens_at
        if self._limiter is not None:
            await self._limiter.acquire()
