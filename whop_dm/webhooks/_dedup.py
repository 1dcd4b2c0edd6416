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
        redis: a `whop_dm.RedisStore` (the rate-limit store: its Redis and
            connection pools are reused), a ``redis://`` URL, or a
            ``redis.asyncio.Redis`` client of yours (never closed by whop-dm).
            Needs the ``redis`` extra (``pip install "whop-dm[redis]"``).
        ttl: seconds an id is remembered (whole seconds, at least 1).
        prefix: put before each id to make its key.

    Only the ``webhook-id`` goes into the key, never a secret. A store made
    from a URL holds connections: close it with `aclose` when done.
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
        from .._redis_store import RedisStore

        # A URL gets a RedisStore of its own (one pool per event loop), closed by aclose.
        self._owned = isinstance(redis, str)
        if isinstance(redis, str):
            redis = RedisStore(redis)
        if isinstance(redis, RedisStore):
            self._store: RedisStore | None = redis
            self._client: Any = None
        elif callable(getattr(redis, "set", None)) and callable(getattr(redis, "delete", None)):
            self._store = None
            self._client = redis
        else:
            raise TypeError(
                "RedisDedupStore takes a whop_dm.RedisStore, a redis:// URL or a "
                "redis.asyncio.Redis client"
            )
        self._ttl = max(1, round(ttl))
        self._prefix = prefix

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> RedisDedupStore:
        """A store on the Redis at ``url`` (the same as passing the URL)."""
        return cls(url, **kwargs)

    def _redis(self) -> Any:
        return self._store.client() if self._store is not None else self._client

    async def claim(self, key: str) -> bool:
        created = await self._redis().set(self._prefix + key, b"1", nx=True, ex=self._ttl)
        return bool(created)

    async def release(self, key: str) -> None:
        await self._redis().delete(self._prefix + key)

    async def aclose(self) -> None:
        """Close the connections made from a URL; a store or client passed in is left open."""
        if self._owned and self._store is not None:
            await self._store.aclose()

    def __repr__(self) -> str:
        # The URL may carry a password: never shown.
        return f"<RedisDedupStore prefix={self._prefix!r} ttl={self._ttl} s>"
