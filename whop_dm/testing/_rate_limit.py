"""Whop's per-operation rate limit: N requests per window, per credential."""

from __future__ import annotations

import math
import time
from collections import deque


class SlidingWindow:
    """A true sliding window: a request is allowed while fewer than ``limit``
    requests of the same operation and key were allowed in the last ``window``
    seconds. Refused requests do not count."""

    def __init__(self, limit: int, window: float) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a rate limit needs limit >= 1 and a positive window")
        self._limit = limit
        self._window = window
        self._hits: dict[tuple[str, str], deque[float]] = {}

    def check(self, operation: str, key: str) -> int | None:
        """None if allowed (and counted); else the seconds until it would be, rounded up."""
        now = time.monotonic()
        hits = self._hits.get((operation, key))
        if hits is None:
            hits = self._hits[(operation, key)] = deque()
        horizon = now - self._window
        while hits and hits[0] <= horizon:
            hits.popleft()
        if len(hits) < self._limit:
            hits.append(now)
            return None
        return max(1, math.ceil(hits[0] + self._window - now))
