"""Shared pieces of the reliability suite: a seeded fake, hygiene checks, a fault proxy.

Imported as a sibling module (``import faultkit``): ``tests/reliability`` has no
``__init__.py``, so pytest puts this directory on ``sys.path``.

- :func:`seeded_fake`: a started ``FakeWhop`` with an owner, a key and users.
- :func:`assert_clean`: after a row, no task of ours is left pending, the
  client holds no connection, and the server has seen every connection closed.
- :class:`FaultProxy`: an aiohttp server in front of the fake that forwards
  requests and, on demand, answers the way misbehaving proxies and servers do
  (an HTML 502, a body cut short of its ``Content-Length``, a connection closed
  after the answer). It also counts the TCP connections it accepted.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from typing import Any

import aiohttp
from aiohttp import web

import whop_dm
from whop_dm.testing import FakeWhop

KEY = "sk_reliability_0123456789abcdef_SECRET"
OWNER = "user_owner"

# How many event-loop turns a check may wait for connections and tasks to wind
# down (each turn sleeps 10 ms): a bound on a loop, not a timing assertion.
SETTLE_TURNS = 1000


def user_ids(count: int, prefix: str = "user_") -> list[str]:
    return [f"{prefix}{index}" for index in range(count)]


@contextlib.asynccontextmanager
async def seeded_fake(users: Iterable[str] = (), **kwargs: Any) -> AsyncIterator[FakeWhop]:
    """A started FakeWhop with ``user_owner`` (key :data:`KEY`) and ``users``."""
    async with FakeWhop(**kwargs) as fake:
        fake.add_user(OWNER)
        fake.add_api_key(KEY, user_id=OWNER)
        for user in users:
            fake.add_user(user)
        yield fake


def client_for(base_url: str, **kwargs: Any) -> whop_dm.AsyncClient:
    kwargs.setdefault("retry", whop_dm.RetryPolicy.instant())
    return whop_dm.AsyncClient(KEY, base_url=base_url, **kwargs)


def acquired_connections(client: whop_dm.AsyncClient) -> int:
    """Connections the client's pool has handed out and not taken back."""
    session = client._transport._session
    if session is None or session.closed:
        return 0
    connector = session.connector
    assert connector is not None
    return len(connector._acquired)  # type: ignore[attr-defined]


def server_connections(runner: web.BaseRunner | None) -> int:
    if runner is None or runner.server is None:
        return 0
    return len(runner.server.connections)


def fake_runner(fake: FakeWhop) -> web.BaseRunner | None:
    return fake._runner


async def settle(condition: Any) -> bool:
    """Give the loop turns until ``condition()`` holds (bounded); return whether it did."""
    for _ in range(SETTLE_TURNS):
        if condition():
            return True
        await asyncio.sleep(0.01)
    return bool(condition())


def pending_tasks(before: set[asyncio.Task[Any]]) -> set[asyncio.Task[Any]]:
    current = asyncio.current_task()
    return {t for t in asyncio.all_tasks() if t not in before and t is not current and not t.done()}


async def assert_clean(
    client: whop_dm.AsyncClient,
    tasks_before: set[asyncio.Task[Any]],
    *runners: web.BaseRunner | None,
) -> None:
    """Close ``client`` and check it left nothing behind.

    In use at this point means leaked: every call has returned or raised.
    Then, once closed, every server side connection winds down and no task
    started since ``tasks_before`` is still pending (server handlers included:
    a held request finishes, a dropped one ends).
    """
    assert acquired_connections(client) == 0, "a connection is still checked out of the pool"
    await client.aclose()
    assert client.is_closed
    assert client._transport._session is None
    for runner in runners:
        assert await settle(lambda r=runner: server_connections(r) == 0), (
            f"{server_connections(runner)} connection(s) still open on the server"
        )
    assert await settle(lambda: not pending_tasks(tasks_before)), pending_tasks(tasks_before)


def memberships_by_pair(fake: FakeWhop) -> Counter[tuple[str, str]]:
    return Counter((m.channel_id, m.user_id) for m in fake.memberships)


def assert_no_duplicates(fake: FakeWhop) -> None:
    counts = memberships_by_pair(fake)
    duplicated = {pair: n for pair, n in counts.items() if n > 1}
    assert not duplicated, duplicated


def keys_per_call(fake: FakeWhop, method: str, path: str) -> Counter[str]:
    """How many times each Idempotency-Key reached the fake for ``method path``."""
    return Counter(
        r.headers.get("Idempotency-Key", "")
        for r in fake.requests
        if r.method == method and r.path.endswith(path)
    )


# -- a proxy that misbehaves on demand ---------------------------------------------------

PASS = "pass"
HTML_502 = "html_502"  # a proxy's own error page, before the API sees the request
TRUNCATED = "truncated"  # forwarded and handled; the answer is cut short on the wire
CLOSE_AFTER = "close_after"  # forwarded and answered, then the connection is closed

_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "content-encoding"}
)

HTML_PAGE = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


class FaultProxy:
    """Forwards ``/api/v1/...`` to an upstream, misbehaving as scripted.

    ``script(kind, count)`` queues ``count`` answers of one kind for the next
    requests; without a script it forwards faithfully. ``keepalive_timeout``
    makes it close idle keep-alive connections after that many seconds.
    ``peers`` holds the client address of every connection a request came on
    (one ephemeral port per TCP connection).
    """

    def __init__(self, upstream: str, *, keepalive_timeout: float = 75.0) -> None:
        self._upstream = upstream.rstrip("/")
        self._keepalive = keepalive_timeout
        self._queue: list[str] = []
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.base_url = ""
        self.kinds_served: Counter[str] = Counter()
        self.peers: set[tuple[str, int]] = set()

    @property
    def runner(self) -> web.AppRunner | None:
        return self._runner

    def script(self, kind: str, count: int = 1) -> None:
        self._queue.extend([kind] * count)

    async def __aenter__(self) -> FaultProxy:
        # One connection per forwarded request, so none lingers on the upstream.
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True))
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, keepalive_timeout=self._keepalive
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}/api/v1"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _forward(self, request: web.Request) -> tuple[int, dict[str, str], bytes]:
        assert self._session is not None
        prefix = "/api/v1"
        tail = request.raw_path[len(prefix) :] if request.raw_path.startswith(prefix) else ""
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        body = await request.read()
        async with self._session.request(
            request.method,
            self._upstream + tail,
            headers=headers,
            data=body or None,
            allow_redirects=False,
        ) as answer:
            payload = await answer.read()
            kept = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP}
            return answer.status, kept, payload

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        kind = self._queue.pop(0) if self._queue else PASS
        peer = request.transport.get_extra_info("peername") if request.transport else None
        if peer is not None:
            self.peers.add((peer[0], peer[1]))
        self.kinds_served[kind] += 1
        if kind == HTML_502:
            await request.read()
            return web.Response(body=HTML_PAGE, status=502, content_type="text/html")
        status, headers, payload = await self._forward(request)
        if kind == TRUNCATED:
            response = web.StreamResponse(status=status, headers=headers)
            response.content_length = len(payload) + 512
            await response.prepare(request)
            await response.write(payload[: max(1, len(payload) // 2)])
            transport = request.transport
            if transport is not None:
                transport.close()
            return response
        response = web.Response(body=payload, status=status, headers=headers)
        if kind == CLOSE_AFTER:
            # Answer in full, keep-alive promised, then hang up before the next request.
            await response.prepare(request)
            await response.write_eof()
            transport = request.transport
            if transport is not None:
                asyncio.get_running_loop().call_soon(transport.close)
        return response


# -- a FakeWhop in its own process --------------------------------------------------------

_FAKE_PROCESS = r"""
import asyncio, json, sys
from whop_dm.testing import FakeWhop

async def main(key, owner, users):
    async with FakeWhop(record_requests=False, max_channel_members=50) as fake:
        fake.add_user(owner)
        fake.add_api_key(key, user_id=owner)
        for user in users:
            fake.add_user(user)
        print(fake.base_url, flush=True)
        loop = asyncio.get_running_loop()
        while True:
            line = (await loop.run_in_executor(None, sys.stdin.readline)).split()
            if not line or line[0] == "quit":
                return
            if line[0] == "chaos":
                fake.chaos(float(line[1]), seed=int(line[2]), retry_after=0)
                print("ok", flush=True)
            elif line[0] == "memberships":
                rows = [[m.channel_id, m.user_id] for m in fake.memberships]
                print(json.dumps(rows), flush=True)

asyncio.run(main(sys.argv[1], sys.argv[2], sys.stdin.readline().split()))
"""


class FakeProcess:
    """A FakeWhop (no request recording, 50 members a channel) in a child process.

    So that the test process's memory is the client's alone. Controlled over
    stdin: ``chaos(rate, seed)`` and ``memberships()`` (``(channel, user)`` rows).
    """

    def __init__(self, users: Iterable[str]) -> None:
        self._users = list(users)
        self._process: asyncio.subprocess.Process | None = None
        self.base_url = ""

    async def _line(self) -> str:
        assert self._process is not None
        assert self._process.stdout is not None
        line = await asyncio.wait_for(self._process.stdout.readline(), 60)
        assert line, "the fake's process ended"
        return line.decode().strip()

    async def _send(self, text: str) -> None:
        assert self._process is not None
        assert self._process.stdin is not None
        self._process.stdin.write(text.encode() + b"\n")
        await self._process.stdin.drain()

    async def __aenter__(self) -> FakeProcess:
        import sys

        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _FAKE_PROCESS,
            KEY,
            OWNER,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            # 64 MiB lines: the memberships of a soak come back as one JSON line.
            limit=64 * 2**20,
        )
        await self._send(" ".join(self._users))
        self.base_url = await self._line()
        return self

    async def chaos(self, rate: float, seed: int = 0) -> None:
        await self._send(f"chaos {rate} {seed}")
        assert await self._line() == "ok"

    async def memberships(self) -> list[tuple[str, str]]:
        import json

        await self._send("memberships")
        return [(c, u) for c, u in json.loads(await self._line())]

    async def __aexit__(self, *exc: object) -> None:
        process = self._process
        if process is None:
            return
        if process.returncode is None:
            with contextlib.suppress(ConnectionError):
                await self._send("quit")
            try:
                await asyncio.wait_for(process.wait(), 30)
            except asyncio.TimeoutError:
                process.kill()
                await process.wait()
