"""A real aiohttp server on loopback whose answers each test scripts, and
sample bodies from the spec, for end-to-end checks of the transport."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
from aiohttp import web

import whop_dm

API_KEY = "sk_test_0123456789abcdef_SECRET"


# -- a scripted server on loopback -------------------------------------------------------


@attrs.define
class Seen:
    """One request the scripted server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@attrs.define
class ScriptedServer:
    """Answers each request with the next scripted handler (the last one repeats)."""

    base_url: str = ""
    script: list[Handler] = attrs.Factory(list)
    seen: list[Seen] = attrs.Factory(list)

    def answer(self, *handlers: Handler) -> None:
        self.script = list(handlers)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.seen.append(Seen(request.method, request.path_qs, dict(request.headers), body))
        if not self.script:
            return web.json_response({"error": {"type": "x", "message": "unscripted"}}, status=500)
        handler = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        return await handler(request)

    def client(self, **kwargs: Any) -> whop_dm.AsyncClient:
        kwargs.setdefault("retry", whop_dm.RetryPolicy.instant())
        return whop_dm.AsyncClient(API_KEY, base_url=self.base_url, **kwargs)


async def start_scripted_server() -> tuple[ScriptedServer, web.AppRunner]:
    server = ScriptedServer()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    server.base_url = f"http://127.0.0.1:{port}/api/v1"
    return server, runner


def json_answer(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Handler:
    """A handler that answers ``payload`` as JSON."""

    async def handler(_: web.Request) -> web.StreamResponse:
        return web.json_response(payload, status=status, headers=headers)

    return handler


def raw_answer(
    body: bytes, status: int = 200, content_type: str = "application/json", **headers: str
) -> Handler:
    """A handler that answers ``body`` verbatim."""

    async def handler(_: web.Request) -> web.StreamResponse:
        return web.Response(body=body, status=status, content_type=content_type, headers=headers)

    return handler


def slow_answer(seconds: float, payload: Any) -> Handler:
    async def handler(_: web.Request) -> web.StreamResponse:
        await asyncio.sleep(seconds)
        return web.json_response(payload)

    return handler


MEMBER = {
    "id": "dmm_1",
    "user_id": "user_c",
    "channel_id": "feed_1",
    "status": "accepted",
    "last_viewed_at": None,
    "notification_preference": "all",
}
CHANNEL = {
    "id": "feed_1",
    "created_at": "123.45",
    "name": "Launch team",
    "last_message_at": "2023-12-01T05:00:00.401Z",
}
