"""Serving a WebhookReceiver on a loopback port for the tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
from aiohttp import web

from whop_dm.webhooks import WebhookReceiver

Serve = Callable[[WebhookReceiver], Awaitable[str]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Start a receiver's app on 127.0.0.1; gives its URL. Stopped (and drained) after the test."""
    runners: list[web.AppRunner] = []

    async def start(receiver: WebhookReceiver) -> str:
        runner = web.AppRunner(receiver.app(), access_log=None, shutdown_timeout=5)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = runner.addresses[0][1]
        return f"http://127.0.0.1:{port}/webhooks/whop"

    yield start
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
