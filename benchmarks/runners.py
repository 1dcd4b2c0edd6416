"""Runner processes: one client, one workload, and a clock around the calls only.

The suite starts each runner as its own process
(``python -m benchmarks.runners RUNNER --base-url ... --n ...``), so clients never
share an interpreter, a garbage collector or an event loop. A runner

1. imports its client, builds it and makes ``--warmup`` calls (connections opened,
   caches filled, code paths warmed) -- none of it timed;
2. reads the clock (wall and this process's CPU time), makes ``--n`` calls, reads it
   again;
3. checks every answer after the clock has stopped: each pair came back exactly once,
   with its ``user_id`` and ``channel_id`` echoed;
4. prints one line ``RESULT {json}`` on stdout.

A runner whose client is not there yet (``whop_dm`` is still being written) prints
``RESULT {"unavailable": "..."}`` instead of failing.

Pairs are numbered: pair ``i`` adds user ``user_<tag>_<i>`` to channel number
``i // per_channel``. Against the stub any channel id will do; against the fake server
the runner creates the channels first (untimed), so no channel passes its member cap.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import resource
import sys
import time
import traceback
import urllib.request
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

RESULT_PREFIX = "RESULT "
T = TypeVar("T")


class Unavailable(Exception):
    """The client (or the piece of it) this runner measures does not exist yet."""


@dataclass
class Context:
    """What a runner needs to know, and the measurements it collects."""

    base_url: str
    api_key: str
    n: int
    concurrency: int
    warmup: int
    tag: str
    per_channel: int
    fake: bool
    server_pid: int | None
    channel_ids: list[str] = field(default_factory=list)
    measured: dict[str, Any] = field(default_factory=dict)
    # Called just inside the clock (the profiling mode hangs a profiler here).
    on_clock_start: Callable[[], None] | None = None
    on_clock_stop: Callable[[], None] | None = None

    # -- the workload ---------------------------------------------------------------

    @property
    def user_prefix(self) -> str:
        # The fake knows only the users its launcher seeded (benchmarks.fake_server);
        # the stub takes any id, so each run gets its own.
        return "user_bench_" if self.fake else f"user_{self.tag}_"

    def user_id(self, i: int) -> str:
        return f"{self.user_prefix}{i:08d}"

    def channel_id(self, i: int) -> str:
        k = i // self.per_channel
        return self.channel_ids[k] if self.channel_ids else f"feed_{self.tag}_{k:06d}"

    def pairs(self) -> Iterator[tuple[str, str]]:
        """The timed pairs, lazily (the memory runner never holds them all)."""
        return ((self.channel_id(i), self.user_id(i)) for i in range(self.n))

    def warmup_pairs(self) -> list[tuple[str, str]]:
        return [(self.channel_id(i), self.user_id(i)) for i in range(self.n, self.n + self.warmup)]

    def prepare(self) -> None:
        """Against the fake server, create the channels the pairs will fill."""
        if not self.fake:
            return
        count = (self.n + self.warmup) // self.per_channel + 1
        for k in range(count):
            # The same participants would get the same channel back; a company id of
            # its own makes each channel new. The key's owner is the channel's admin.
            answer = _post_json(
                self.base_url + "/dm_channels",
                self.api_key,
                {"with_user_ids": [self.user_id(0)], "company_id": f"biz_{self.tag}_{k:06d}"},
            )
            self.channel_ids.append(str(answer["id"]))

    # -- the clock ------------------------------------------------------------------

    @contextlib.contextmanager
    def clock(self) -> Iterator[None]:
        server = _process_cpu(self.server_pid)
        if self.on_clock_start is not None:
            self.on_clock_start()
        wall0, cpu0 = time.perf_counter(), time.process_time()
        yield
        wall1, cpu1 = time.perf_counter(), time.process_time()
        if self.on_clock_stop is not None:
            self.on_clock_stop()
        self.measured.update(wall_s=wall1 - wall0, cpu_s=cpu1 - cpu0)
        if server is not None:
            self.measured["server_cpu_s"] = server.cpu() - server.start

    # -- the check ------------------------------------------------------------------

    def check(self, answers: Iterable[tuple[str, str]]) -> None:
        """Every timed pair answered exactly once, with its ids echoed."""
        seen = bytearray(self.n)
        prefix = self.user_prefix
        count = 0
        for channel_id, user_id in answers:
            if not user_id.startswith(prefix):
                raise AssertionError(f"unexpected user_id in an answer: {user_id!r}")
            i = int(user_id[len(prefix) :])
            if not 0 <= i < self.n or seen[i]:
                raise AssertionError(f"user_id answered twice or not asked: {user_id!r}")
            if channel_id != self.channel_id(i):
                raise AssertionError(f"channel_id not echoed for {user_id!r}: {channel_id!r}")
            seen[i] = 1
            count += 1
        if count != self.n:
            raise AssertionError(f"{count} answers for {self.n} calls")
        self.measured["checked"] = count


@dataclass
class _ProcessCpu:
    process: Any
    start: float

    def cpu(self) -> float:
        times = self.process.cpu_times()
        return float(times.user + times.system)


def _process_cpu(pid: int | None) -> _ProcessCpu | None:
    """The server's CPU-time reader, or None without a pid or psutil."""
    if pid is None:
        return None
    try:
        import psutil
    except ImportError:
        return None
    reader = _ProcessCpu(psutil.Process(pid), 0.0)
    reader.start = reader.cpu()
    return reader


def _post_json(url: str, api_key: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 -- always http://127.0.0.1
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        answer: dict[str, Any] = json.load(response)
        return answer


def _ids(answer: Any) -> tuple[str, str]:
    if isinstance(answer, dict):
        return answer["channel_id"], answer["user_id"]
    return answer.channel_id, answer.user_id


async def gather_bounded(
    call: Callable[[str, str], Awaitable[T]], pairs: Iterable[tuple[str, str]], limit: int
) -> list[T]:
    """``asyncio.gather`` over every pair, at most ``limit`` calls in flight.

    The same helper drives raw aiohttp, whop_dm's AsyncClient and the official SDK,
    so the harness costs each of them the same: one task per call, one semaphore.
    """
    semaphore = asyncio.Semaphore(limit)

    async def one(channel_id: str, user_id: str) -> T:
        async with semaphore:
            return await call(channel_id, user_id)

    return await asyncio.gather(*(one(c, u) for c, u in pairs))


async def _sequential(
    call: Callable[[str, str], Awaitable[T]], pairs: Iterable[tuple[str, str]]
) -> list[T]:
    return [await call(c, u) for c, u in pairs]


# -- raw aiohttp: the baseline -------------------------------------------------------


async def _raw_aiohttp(ctx: Context, concurrent: bool) -> None:
    import aiohttp

    url = ctx.base_url + "/dm_members"
    headers = {"Authorization": f"Bearer {ctx.api_key}"}
    connector = aiohttp.TCPConnector(limit=100)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def call(channel_id: str, user_id: str) -> dict[str, Any]:
            body = {"channel_id": channel_id, "user_id": user_id}
            async with session.post(url, json=body, headers=headers) as response:
                if response.status != 200:
                    raise AssertionError(f"HTTP {response.status}")
                answer: dict[str, Any] = await response.json()
                return answer

        await _drive(ctx, call, concurrent)


async def _drive(
    ctx: Context, call: Callable[[str, str], Awaitable[Any]], concurrent: bool
) -> None:
    """Warm up, then time the calls, then check the answers."""
    if concurrent:
        await gather_bounded(call, ctx.warmup_pairs(), ctx.concurrency)
        with ctx.clock():
            answers = await gather_bounded(call, ctx.pairs(), ctx.concurrency)
    else:
        await _sequential(call, ctx.warmup_pairs())
        with ctx.clock():
            answers = await _sequential(call, ctx.pairs())
    ctx.check(map(_ids, answers))


# -- whop_dm ---------------------------------------------------------------------------


def _import_whop_dm(*names: str) -> Any:
    try:
        import whop_dm
    except ImportError as exc:
        raise Unavailable(f"import whop_dm failed: {exc}") from exc
    for name in names:
        if not hasattr(whop_dm, name):
            raise Unavailable(f"whop_dm.{name} does not exist yet")
    return whop_dm


def _async_client(ctx: Context) -> Any:
    whop_dm = _import_whop_dm("AsyncClient")
    # The default retry policy stays on: it is what users get, and the issue forbids
    # loosening it to win a benchmark. On success it costs no sleep, only bookkeeping.
    return whop_dm.AsyncClient(api_key=ctx.api_key, base_url=ctx.base_url, max_connections=100)


async def _whop_dm_create(ctx: Context, concurrent: bool) -> None:
    client = _async_client(ctx)
    async with client:

        async def call(channel_id: str, user_id: str) -> Any:
            return await client.dm_members.create(channel_id=channel_id, user_id=user_id)

        await _drive(ctx, call, concurrent)


async def _whop_dm_bulk_create(ctx: Context) -> None:
    client = _async_client(ctx)
    async with client:
        if not hasattr(client.dm_members, "bulk_create"):
            raise Unavailable("AsyncClient.dm_members.bulk_create does not exist yet")
        warm = await client.dm_members.bulk_create(ctx.warmup_pairs(), concurrency=ctx.concurrency)
        _expect_ok(warm, ctx.warmup)
        with ctx.clock():
            result = await client.dm_members.bulk_create(ctx.pairs(), concurrency=ctx.concurrency)
    _expect_ok(result, ctx.n)
    ctx.check(map(_ids, result.added))


async def _whop_dm_bulk_rss(ctx: Context) -> None:
    """Peak RSS of one ``bulk_create`` over a generator of ``--n`` pairs."""
    client = _async_client(ctx)
    async with client:
        if not hasattr(client.dm_members, "bulk_create"):
            raise Unavailable("AsyncClient.dm_members.bulk_create does not exist yet")
        await client.dm_members.bulk_create(ctx.warmup_pairs(), concurrency=ctx.concurrency)
        ctx.measured["rss_before_mb"] = _peak_rss_mb()
        with ctx.clock():
            result = await client.dm_members.bulk_create(ctx.pairs(), concurrency=ctx.concurrency)
        ctx.measured["peak_rss_mb"] = _peak_rss_mb()
    _expect_ok(result, ctx.n)
    ctx.check(map(_ids, result.added))


def _expect_ok(result: Any, n: int) -> None:
    if not result.ok or len(result.added) != n:
        raise AssertionError(
            f"bulk_create: ok={result.ok}, {len(result.added)} added of {n}, "
            f"{len(result.failed)} failed, {len(result.skipped)} skipped"
        )


def _whop_dm_sync(ctx: Context) -> None:
    whop_dm = _import_whop_dm("Client")
    with whop_dm.Client(api_key=ctx.api_key, base_url=ctx.base_url) as client:
        create = client.dm_members.create
        for c, u in ctx.warmup_pairs():
            create(channel_id=c, user_id=u)
        with ctx.clock():
            answers = [create(channel_id=c, user_id=u) for c, u in ctx.pairs()]
    ctx.check(map(_ids, answers))


# -- the official SDK (whop-sdk on PyPI) -----------------------------------------------


def _sdk_environment(ctx: Context) -> Any:
    try:
        from whop_sdk.environment import WhopEnvironment
    except ImportError as exc:
        raise Unavailable(f"whop-sdk is not installed ({exc}); pip install -e .[bench]") from exc
    return WhopEnvironment(api=ctx.base_url, vault=ctx.base_url)


async def _sdk_async(ctx: Context, concurrent: bool) -> None:
    environment = _sdk_environment(ctx)
    import httpx
    from whop_sdk import AsyncWhop

    # The same httpx client AsyncWhop builds by default (60 s timeout, redirects
    # followed, httpx's default pool), passed in only so it can be closed at the end.
    async with httpx.AsyncClient(timeout=60, follow_redirects=True) as http:
        client = AsyncWhop(environment=environment, token=ctx.api_key, httpx_client=http)

        async def call(channel_id: str, user_id: str) -> Any:
            return await client.dm_members.create(channel_id=channel_id, user_id=user_id)

        await _drive(ctx, call, concurrent)


def _sdk_sync(ctx: Context) -> None:
    environment = _sdk_environment(ctx)
    import httpx
    from whop_sdk import Whop

    with httpx.Client(timeout=60, follow_redirects=True) as http:
        client = Whop(environment=environment, token=ctx.api_key, httpx_client=http)
        create = client.dm_members.create
        for c, u in ctx.warmup_pairs():
            create(channel_id=c, user_id=u)
        with ctx.clock():
            answers = [create(channel_id=c, user_id=u) for c, u in ctx.pairs()]
    ctx.check(map(_ids, answers))


# -- the registry ----------------------------------------------------------------------


def _run_async(
    factory: Callable[[Context], Coroutine[Any, Any, None]],
) -> Callable[[Context], None]:
    return lambda ctx: asyncio.run(factory(ctx))


RUNNERS: dict[str, Callable[[Context], None]] = {
    "bulk.raw_aiohttp": _run_async(lambda ctx: _raw_aiohttp(ctx, concurrent=True)),
    "bulk.async_gather": _run_async(lambda ctx: _whop_dm_create(ctx, concurrent=True)),
    "bulk.bulk_create": _run_async(_whop_dm_bulk_create),
    "bulk.sdk_async": _run_async(lambda ctx: _sdk_async(ctx, concurrent=True)),
    "sequential.raw_aiohttp": _run_async(lambda ctx: _raw_aiohttp(ctx, concurrent=False)),
    "sequential.async": _run_async(lambda ctx: _whop_dm_create(ctx, concurrent=False)),
    "sequential.sync": _whop_dm_sync,
    "sequential.sdk_sync": _sdk_sync,
    "sequential.sdk_async": _run_async(lambda ctx: _sdk_async(ctx, concurrent=False)),
    "rss.bulk_create": _run_async(_whop_dm_bulk_rss),
}

from .journal import journal_runners  # noqa: E402 - the journal's runners, in their own module

RUNNERS.update(journal_runners(_run_async))


def _peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    per_mb = 1024 * 1024 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / per_mb


def run(name: str, ctx: Context) -> dict[str, Any]:
    """Run one runner in this process; the result as the suite records it."""
    try:
        ctx.prepare()
        RUNNERS[name](ctx)
    except Unavailable as exc:
        return {"runner": name, "unavailable": str(exc)}
    except NotImplementedError as exc:
        # A stub that landed before its body (the contract first, the code after).
        return {"runner": name, "unavailable": f"not implemented yet: {exc}"}
    m = ctx.measured
    m.update(runner=name, n=ctx.n, concurrency=ctx.concurrency)
    m["ops_per_s"] = ctx.n / m["wall_s"]
    m["cpu_ms_per_call"] = 1000 * m["cpu_s"] / ctx.n
    m.setdefault("peak_rss_mb", _peak_rss_mb())
    if "server_cpu_s" in m:
        # The server process answers this runner only, so its CPU is all for these calls.
        m["server_cpu_ms_per_call"] = 1000 * m["server_cpu_s"] / ctx.n
    return m


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.runners")
    parser.add_argument("runner", choices=sorted(RUNNERS))
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--api-key", default="bench_key")
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--tag", default="b")
    parser.add_argument("--per-channel", type=int, default=40)
    parser.add_argument("--fake", action="store_true", help="the target is whop_dm.testing")
    parser.add_argument("--server-pid", type=int, help="read the server's CPU time (psutil)")
    args = parser.parse_args(argv)
    ctx = Context(
        base_url=args.base_url.rstrip("/"),
        api_key=args.api_key,
        n=args.n,
        concurrency=args.concurrency,
        warmup=args.warmup,
        tag=args.tag,
        per_channel=args.per_channel,
        fake=args.fake,
        server_pid=args.server_pid,
    )
    try:
        result = run(args.runner, ctx)
    except Exception as exc:
        traceback.print_exc()
        result = {"runner": args.runner, "failed": f"{type(exc).__name__}: {exc}"}
    print(RESULT_PREFIX + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
