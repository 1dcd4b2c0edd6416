"""The optional client-wide cap on requests per second (``rate_limit=``).

Whop's own limit is per operation and is paced by `whop_dm.RateLimits`
(see ``_pacing``); this cap is the older, simpler knob, kept as documented:
at most ``rate`` requests a second from one client, whatever the operation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiolimiter import AsyncLimiter

__all__ = ["RequestRateCap"]


class RequestRateCap:
    """An aiolimiter leaky bucket spacing out every request of one client."""

    __slots__ = ("_limiter",)

    def __init__(self, rate: float) -> None:
        # Imported only when asked for: it costs import time otherwise.
        from aiolimiter import AsyncLimiter

        self._limiter: AsyncLimiter
        if rate >= 1:
            # A bucket of one second's worth of requests: bursts up to `rate`.
            self._limiter = AsyncLimiter(max_rate=rate, time_period=1.0)
        else:
            # aiolimiter cannot acquire more than max_rate at once, so a rate
            # below one per second is one request per 1/rate seconds.
            self._limiter = AsyncLimiter(max_rate=1, time_period=1.0 / rate)

    async def wait(self) -> None:
        """Return when the cap lets one more request go."""
        await self._limiter.acquire()
