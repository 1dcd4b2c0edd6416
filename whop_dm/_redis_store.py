"""``RedisStore``: the per-operation budget shared through Redis.

Every client that uses the same key and the same Redis shares one count per
operation, and the pauses after a 429, whether the clients sit in one
process, in many, or on many machines. Each step (take a slot, stamp an
answer, record a 429) is one Lua script, so it is atomic, and all of them
read the time from Redis (``TIME``), so machines with different clocks agree.

Keys hold a digest of the API key, never the key, and expire after an hour
unused.

If Redis cannot be reached, the store paces in-process (as without Redis),
logs one WARNING, and tries Redis again every few seconds; it logs once more
when Redis is back. A job is never stopped by Redis: at worst, processes
stop sharing the budget for a while and the server refuses a few more
requests, which are retried as usual.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._log import logger
from ._pacing import (
    ANSWER,
    LOG_CAP,
    SLOW,
    SLOW_START,
    SLOW_START_GROWTH,
    STALE_AFTER,
    Lease,
    MemoryStore,
    OpRules,
    Pause,
)

if TYPE_CHECKING:
    import redis.asyncio

__all__ = ["RedisStore"]

# How long the store paces in-process before trying an unreachable Redis again.
RETRY_REDIS_AFTER = 5.0
# Connections to Redis per event loop, and how long a script may queue for one.
POOL_SIZE = 16
POOL_TIMEOUT = 10.0
# Keys unused this long disappear (at least two windows are always kept).
KEY_TTL = 3600

_COMMON = """
local function now_()
  if ARGV[1] ~= '' then return tonumber(ARGV[1]) end
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local function num(value)
  if value == false or value == nil then return nil end
  return tonumber(value)
end
local function fmt(x) return string.format('%.6f', x) end
local function touch(ttl)
  for _, key in ipairs(KEYS) do redis.call('EXPIRE', key, ttl) end
end
"""

# KEYS: state, flight, log, prior.
# ARGV: now ('' = Redis TIME), token, limit, window, slow_start, pacing, stale,
# ttl, then the tokens of more requests of this process waiting behind it.
# Returns {1, grant time, how many tokens got a slot} or {0, wait} (wait -1:
# until an answer arrives; -2: the same, in the slow start; {0, wait, 1}: a pause).
_ACQUIRE = (
    _COMMON
    + f"""
local state, flight, log, prior = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now = now_()
local paused = num(redis.call('HGET', state, 'paused')) or 0
if now < paused then return {{0, fmt(paused - now), 1}} end
redis.call('ZREMRANGEBYSCORE', flight, '-inf', now - tonumber(ARGV[7]))
local in_flight = redis.call('ZCARD', flight)
local want = #ARGV - 7
local room = want
if ARGV[6] == '1' then
  local limit, window = num(ARGV[3]), num(ARGV[4])
  local learned = num(redis.call('HGET', state, 'limit'))
  if learned then
    if limit then limit = math.min(limit, learned) else limit = learned end
    if not window then window = num(redis.call('HGET', state, 'window')) end
  elseif not limit then
    limit = num(redis.call('HGET', prior, 'limit'))
    window = num(redis.call('HGET', prior, 'window'))
  end
  if limit and window then
    redis.call('ZREMRANGEBYSCORE', log, '-inf', now - window)
    room = limit - in_flight - redis.call('ZCARD', log)
    if room <= 0 then
      if in_flight < limit then
        local oldest = redis.call('ZRANGE', log, 0, 0, 'WITHSCORES')
        if oldest[2] then return {{0, fmt(tonumber(oldest[2]) + window - now)}} end
      end
      return {{0, '-1'}}
    end
  elseif ARGV[5] == '1' then
    local ok = num(redis.call('HGET', state, 'ok')) or 0
    room = math.max({SLOW_START}, math.floor(ok / {SLOW_START_GROWTH})) - in_flight
    if room <= 0 then
      return {{0, '-2'}}
    end
  end
end
local granted = math.min(want, room)
redis.call('ZADD', flight, now, ARGV[2])
for i = 2, granted do redis.call('ZADD', flight, now, ARGV[7 + i]) end
touch(tonumber(ARGV[8]))
return {{1, fmt(now), granted}}
"""
)

# KEYS: state, flight, log, prior.  ARGV: now, token, grant, counted, ttl.
_SETTLE = (
    _COMMON
    + f"""
local state, flight, log = KEYS[1], KEYS[2], KEYS[3]
if redis.call('ZREM', flight, ARGV[2]) == 0 then return 0 end
if ARGV[4] == '1' then
  redis.call('HINCRBY', state, 'ok', 1)
  redis.call('ZADD', log, now_(), ARGV[3] .. '|' .. ARGV[2])
  redis.call('ZREMRANGEBYRANK', log, 0, -{LOG_CAP + 1})
end
touch(tonumber(ARGV[5]))
return 1
"""
)

# KEYS: state, flight, log, prior.
# ARGV: now, token, grant, retry_after, learn, window hint ('' none), ttl.
# Returns the length of the pause this refusal started ('0': one was running).
_REFUSE = (
    _COMMON
    + """
local state, flight, log, prior = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now = now_()
local grant, retry_after = tonumber(ARGV[3]), tonumber(ARGV[4])
local removed = redis.call('ZREM', flight, ARGV[2])
local paused = num(redis.call('HGET', state, 'paused')) or 0
if removed == 1 and ARGV[5] == '1' and retry_after > 0 then
  local window = num(ARGV[6])
  local oldest = redis.call('ZRANGE', log, 0, 0, 'WITHSCORES')
  local learned_window = false
  if not window and oldest[1] then
    -- As window_bounds, guess_window and _learn in _pacing.py: every 429 of
    -- the key narrows one pair of bounds on the window.
    local upper = retry_after + now - tonumber(string.match(oldest[1], '^[^|]+'))
    local lower = retry_after - 1 + grant - tonumber(oldest[2])
    local low, high = num(redis.call('HGET', prior, 'wlo')), num(redis.call('HGET', prior, 'whi'))
    if low then
      low, high = math.max(low, lower), math.min(high, upper)
      if low < high then lower, upper = low, high end
    end
    redis.call('HSET', prior, 'wlo', fmt(lower), 'whi', fmt(upper))
    local whole = math.floor(upper)
    if whole > lower and whole > 0 then window = whole else window = upper end
    redis.call('HSET', state, 'window', fmt(window))
    learned_window = true
  elseif not window then
    window = num(redis.call('HGET', state, 'window')) or num(redis.call('HGET', prior, 'window'))
  end
  if window then
    local counted = redis.call('ZCOUNT', log, '(' .. fmt(now - window), '+inf')
      + redis.call('ZCOUNT', flight, '-inf', '(' .. ARGV[3])
    if counted >= 1 then
      local learned = num(redis.call('HGET', state, 'limit'))
      if not learned or counted < learned then
        redis.call('HSET', state, 'limit', counted)
      end
      if redis.call('HEXISTS', prior, 'limit') == 0 then
        redis.call('HSET', prior, 'limit', redis.call('HGET', state, 'limit'),
          'window', fmt(window))
      elseif learned_window then
        redis.call('HSET', prior, 'window', fmt(window))
      end
    end
  end
end
-- As _shorter_pause in _pacing.py: once the window is known, the pause ends
-- when the oldest counted request leaves it, not at the rounded-up wait.
local pause = retry_after
if removed == 1 and ARGV[5] == '1' and retry_after > 0 then
  local window = num(ARGV[6]) or num(redis.call('HGET', state, 'window'))
  if window then
    local oldest = redis.call('ZRANGEBYSCORE', log, '(' .. fmt(now - window), '+inf',
      'WITHSCORES', 'LIMIT', 0, 1)
    if oldest[2] then
      local exact = tonumber(oldest[2]) + window - now
      if exact > 0 and exact < retry_after then pause = exact end
    end
  end
end
local reopens = math.max(paused, now + pause)
redis.call('HSET', state, 'paused', fmt(reopens))
touch(tonumber(ARGV[7]))
if removed == 1 and now >= paused then return fmt(reopens - now) end
return '0'
"""
)


def _redis_errors() -> tuple[type[BaseException], ...]:
    import redis.exceptions

    return (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


class RedisStore:
    """Shares the rate-limit budget through Redis (needs ``whop-dm[redis]``).

    Pass it as ``RateLimits(..., store=whop_dm.RedisStore("redis://host:6379/0"))``.
    Every client using the same API key and the same Redis then shares one
    count per operation and the pauses after a 429, across processes and
    machines.

    Args:
        redis: a URL for ``redis.asyncio.Redis.from_url``, or a
            ``redis.asyncio.Redis`` client of yours (used as is, never
            closed by whop-dm). From a URL, one connection pool is made per
            event loop and closed with it.
        namespace: the prefix of every key (default ``"whop_dm:rl"``).
        clock: for tests only: a function giving the time in seconds, used
            instead of Redis's own clock.

    If Redis cannot be reached, requests are paced in-process, one WARNING
    is logged, and Redis is tried again every few seconds.
    """

    is_shared = True

    def __init__(
        self,
        redis: str | redis.asyncio.Redis,
        *,
        namespace: str = "whop_dm:rl",
        clock: Callable[[], float] | None = None,
    ) -> None:
        import redis.asyncio as redis_asyncio

        if isinstance(redis, str):
            self._url: str | None = redis
            self._client: redis_asyncio.Redis | None = None
        elif isinstance(redis, redis_asyncio.Redis):
            self._url = None
            self._client = redis
        else:
            raise TypeError("RedisStore takes a redis:// URL or a redis.asyncio.Redis client")
        if not isinstance(namespace, str) or not namespace:
            raise ValueError("namespace must be a non-empty string")
        self._namespace = namespace
        self._clock = clock
        self._per_loop: dict[asyncio.AbstractEventLoop, redis_asyncio.Redis] = {}
        self._scripts: dict[int, tuple[Any, Any, Any]] = {}
        self._fallback = MemoryStore()
        self._down_until = 0.0
        self._warned = False
        self._errors = _redis_errors()

    def __repr__(self) -> str:
        # The URL may carry a password: never shown.
        return f"<whop_dm.RedisStore namespace={self._namespace!r}>"

    def bind(self, scope: str) -> _RedisScope:
        """This store's view for one API key (``scope`` is the key's digest)."""
        return _RedisScope(self, scope)

    def client(self) -> redis.asyncio.Redis:
        """The Redis client this store uses on the running event loop; do not close it.

        For other parts of whop-dm that keep state in the same Redis, such as
        the webhook receiver's ``RedisDedupStore``.
        """
        return self._redis()

    def _redis(self) -> redis.asyncio.Redis:
        if self._client is not None:
            return self._client
        loop = asyncio.get_running_loop()
        client = self._per_loop.get(loop)
        if client is None:
            import redis.asyncio as redis_asyncio

            assert self._url is not None
            # A blocking pool: hundreds of requests asking at once queue for a
            # connection instead of failing with MaxConnectionsError.
            pool = redis_asyncio.BlockingConnectionPool.from_url(
                self._url, max_connections=POOL_SIZE, timeout=POOL_TIMEOUT
            )
            client = redis_asyncio.Redis(connection_pool=pool)
            self._per_loop[loop] = client
        return client

    def _scripts_now(self) -> tuple[Any, Any, Any]:
        client = self._redis()
        found = self._scripts.get(id(client))
        if found is None:
            found = (
                client.register_script(_ACQUIRE),
                client.register_script(_SETTLE),
                client.register_script(_REFUSE),
            )
            self._scripts[id(client)] = found
        return found

    def _now_arg(self) -> str:
        return "" if self._clock is None else f"{self._clock():.6f}"

    @property
    def _down(self) -> bool:
        return time.monotonic() < self._down_until

    def _went_down(self, error: BaseException) -> None:
        self._down_until = time.monotonic() + RETRY_REDIS_AFTER
        if not self._warned:
            self._warned = True
            logger.warning(
                "Redis unreachable for the rate-limit store (%s); pacing in this "
                "process only until it is back",
                type(error).__name__,
            )

    def _came_back(self) -> None:
        if self._warned:
            self._warned = False
            logger.warning("Redis is reachable again; the rate-limit budget is shared again")

    async def aclose(self) -> None:
        """Close the connection pools this store made from its URL."""
        clients, self._per_loop = list(self._per_loop.values()), {}
        self._scripts.clear()
        for client in clients:
            await client.aclose()
            await client.connection_pool.disconnect()


class _RedisScope:
    """One API key's view of a `RedisStore`."""

    def __init__(self, store: RedisStore, scope: str) -> None:
        self._store = store
        self._prefix = f"{store._namespace}:{scope}"
        self._fallback = store._fallback.bind(scope)
        self._keys: dict[str, list[str]] = {}
        self._paused: dict[str, float] = {}

    def keys(self, operation: str) -> list[str]:
        keys = self._keys.get(operation)
        if keys is None:
            base = f"{self._prefix}:{operation}"
            keys = self._keys[operation] = [
                f"{base}:state",
                f"{base}:flight",
                f"{base}:log",
                f"{self._prefix}:prior",
            ]
        return keys

    def local_pause(self, operation: str) -> float:
        reopens = self._paused.get(operation, 0.0)
        return max(0.0, reopens - time.monotonic())

    def _ttl(self, rules: OpRules | None) -> int:
        window = rules.window if rules is not None and rules.window else 0.0
        return int(max(KEY_TTL, 2 * window))

    async def try_acquire(self, operation: str, rules: OpRules) -> Lease | float:
        got = await self.try_acquire_many(operation, rules, 1)
        return got[0] if isinstance(got, list) else got

    async def try_acquire_many(
        self, operation: str, rules: OpRules, want: int
    ) -> list[Lease] | float:
        """Slots for up to ``want`` requests in one round trip (at least one), or a wait.

        A process with many requests of an operation waiting takes the free
        slots for all of them at once, rather than one round trip each.
        """
        store = self._store
        if store._down:
            got = self._fallback.grant(operation, rules)
            return [got] if isinstance(got, Lease) else got
        tokens = [uuid.uuid4().hex for _ in range(max(1, want))]
        token = tokens[0]
        try:
            acquire = store._scripts_now()[0]
            got = await acquire(
                keys=self.keys(operation),
                args=[
                    store._now_arg(),
                    token,
                    "" if rules.limit is None else rules.limit,
                    "" if rules.window is None else repr(rules.window),
                    int(rules.slow_start),
                    int(rules.pacing),
                    STALE_AFTER,
                    self._ttl(rules),
                    *tokens[1:],
                ],
            )
        except self._store._errors as error:
            store._went_down(error)
            fallback = self._fallback.grant(operation, rules)
            return [fallback] if isinstance(fallback, Lease) else fallback
        store._came_back()
        if int(got[0]) == 1:
            granted = float(got[1])
            return [Lease(operation, granted, 0.0, t) for t in tokens[: int(got[2])]]
        wait = float(got[1])
        if len(got) > 2:
            return Pause(wait)
        if wait == SLOW:
            return SLOW
        return ANSWER if wait < 0 else wait

    async def settle(self, lease: Lease, counted: bool) -> None:
        if not lease.token or not lease.token.isalnum() or len(lease.token) != 32:
            self._fallback.done(lease, counted)
            return
        store = self._store
        try:
            settle = store._scripts_now()[1]
            await settle(
                keys=self.keys(lease.operation),
                args=[store._now_arg(), lease.token, f"{lease.granted:.6f}", int(counted), KEY_TTL],
            )
        except self._store._errors as error:
            # Its slot in Redis ages out on its own (STALE_AFTER).
            store._went_down(error)

    async def refuse(
        self, lease: Lease, retry_after: float, learn: bool, window: float | None
    ) -> float:
        self._paused[lease.operation] = max(
            self._paused.get(lease.operation, 0.0), time.monotonic() + retry_after
        )
        if not lease.token or len(lease.token) != 32:
            return self._fallback.refused(lease, retry_after, learn, window)
        store = self._store
        try:
            refuse = store._scripts_now()[2]
            started = await refuse(
                keys=self.keys(lease.operation),
                args=[
                    store._now_arg(),
                    lease.token,
                    f"{lease.granted:.6f}",
                    repr(float(retry_after)),
                    int(learn),
                    "" if window is None else repr(window),
                    int(max(KEY_TTL, 2 * (window or 0.0))),
                ],
            )
        except self._store._errors as error:
            store._went_down(error)
            return 0.0
        return float(started)
