"""Whop's per-operation rate limit: N requests per window, per credential."""

from __future__ import annotations

import math
import time
from collections import Counter, deque


class SlidingWindow:
    """A true sliding window: a request is allowed while fewer than ``limit``
    requests of the same operation and key were allowed in the last ``window``
    seconds. Refused requests do not count.

    It also counts, per operation, the requests it allowed and refused, and
    keeps the exact wait (before rounding) of each refusal, for tests and
    benchmarks to read.
    """

    def __init__(self, limit: int, window: float) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a rate limit needs limit >= 1 and a positive window")
        self._limit = limit
        self._window = window
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self.allowed: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self.waits: dict[str, list[float]] = {}

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
            self.allowed[operation] += 1
            return None
        exact = hits[0] + self._window - now
        self.refused[operation] += 1
        self.waits.setdefault(operation, []).append(exact)
        # Whop says "Try again in N seconds." in whole seconds: rounded up, so
        # a client that waits as told is never early.
        return max(1, math.ceil(exact))

    def reset_counts(self) -> None:
        self.allowed.clear()
        self.refused.clear()
        self.waits.clear()
