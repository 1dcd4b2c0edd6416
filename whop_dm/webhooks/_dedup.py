"""Remembering which ``webhook-id`` values were handled, to drop repeated deliveries.

Whop delivers at least once, and every retry of an event has the same
``webhook-id``. The receiver claims each id in a `DedupStore` before it
queues the handlers: the first claim wins, later ones are duplicates.
`MemoryDedupStore` serves one process; `RedisDedupStore` lets several
receiver processes behind a load balancer share the claims.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any, Protocol, runtime_checkable

__all__ = ["DEFAULT_TTL", "DedupStore", "MemoryDedupStore", "RedisDedupStore"]

# Whop retries a failing event for about 71 hours; remembering ids for 72
# covers every retry of an event whose first answer was lost.
DEFAULT_TTL = 72 * 3600.0


@runtime_checkable
class DedupStore(Protocol):
    """Where handled ``webhook-id`` values are kept for a while.

    ``claim`` returns True for the first claim of an id (handle the event)
    and False while the id is remembered (a duplicate). ``release`` forgets an
    id, so that a retry of an event that could not be queued is handled.
    """

    async def claim(self, key: str) -> bool: ...

    async def release(self, key: str) -> None: ...


class MemoryDedupStore:
    """Ids kept in this process, each for ``ttl`` seconds, at most ``max_entries`` of them.

    When full, the oldest id is forgotten first. Safe to share between the
    tasks of one event loop.
    """

    def __init__(self, *, ttl: float = DEFAULT_TTL, max_entries: int = 100_000) -> None:
        if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or not ttl > 0:
            raise ValueError("ttl must be a number of seconds above 0")
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise ValueError("max_entries must be an int of 1 or more")
        self._ttl = float(ttl)
        self._max = max_entries
        # id -> expiry on the monotonic clock; insertion order is expiry order,
        # since every id gets the same ttl.
        self._expiry: OrderedDict[str, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._expiry)

    def _purge(self, now: float) -> None:
        while self._expiry:
            oldest, expires = next(iter(self._expiry.items()))
            if expires > now:
                return
            del self._expiry[oldest]

    async def claim(self, key: str) -> bool:
        now = time.monotonic()
        self._purge(now)
        if key in self._expiry:
            return False
        while len(self._expiry) >= self._max:
            self._expiry.popitem(last=False)
        self._expiry[key] = now + self._ttl
        return True

    async def release(self, key: str) -> None:
        self._expiry.pop(key, None)

    def __repr__(self) -> str:
        return f"<MemoryDedupStore {len(self._expiry)}/{self._max} ids, ttl={self._ttl:g} s>"


class RedisDedupStore:
    """Ids kept in Redis with ``SET key NX EX ttl``, shared by every process using it.

    Args:
        redis: a ``redis.asyncio.Redis`` client (from redis-py) of yours; the
            store never closes it.
        ttl: seconds an id is remembered.
        prefix: put before each id to make its key.

    Only the ``webhook-id`` goes into the key, never a secret.
    """

    def __init__(
        self,
        redis: Any,
        *,
        ttl: float = DEFAULT_TTL,
        prefix: str = "whop_dm:webhook:",
    ) -> None:
        if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or not ttl >= 1:
            raise ValueError("ttl must be a number of seconds, at least 1")
        if not isinstance(prefix, str):
            raise TypeError("prefix must be a string")
        self._redis = redis
        self._ttl = max(1, round(ttl))
        self._prefix = prefix

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> RedisDedupStore:
        """A store on a new ``redis.asyncio`` client for ``url`` (needs the redis package)."""
        from redis.asyncio import Redis

        return cls(Redis.from_url(url), **kwargs)

    async def claim(self, key: str) -> bool:
        created = await self._redis.set(self._prefix + key, b"1", nx=True, ex=self._ttl)
        return bool(created)

    async def release(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)

    def __repr__(self) -> str:
        return f"<RedisDedupStore prefix={self._prefix!r} ttl={self._ttl} s>"
