"""Refusing a blocking call to a server that only the calling thread could run.

A server running in this process on an event loop (``whop_dm.testing.FakeWhop``)
says here where it listens and on which loop. Before the blocking `Client`
hands a call over, it asks whether the server it is about to call is served
by a loop that nothing but the calling thread can run:

- the loop this thread is running right now (async code, such as an async
  test using the ``whop_fake`` fixture, calling the blocking client); or
- a loop this thread started the server on and is not running now (a
  synchronous pytest test using an async fixture: pytest-asyncio runs the
  fixture on the test's loop, then leaves that loop stopped while the test
  body runs).

Either way the server cannot answer until the call gives up, after its
timeout. The call raises ``RuntimeError`` at once instead, saying what to use.

Only servers that say where they listen are known: a server of the caller's
own on the same loop still makes the call wait for its timeout. This module
imports nothing of the client, so the testing package may use it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import threading
import weakref
from collections.abc import Callable
from urllib.parse import urlsplit

__all__ = ["refuse_call_to_own_loop", "register_server"]

# (host, port) -> the loop serving it, and the thread that started it there.
_Served = tuple["weakref.ref[asyncio.AbstractEventLoop]", int]
_servers: dict[tuple[str, int], _Served] = {}
_lock = threading.Lock()

_MESSAGE = (
    "whop_dm.Client cannot call {url}: the FakeWhop there is served by this thread's "
    "event loop, which cannot answer while this thread waits, so the call would only "
    "time out. In a synchronous test, use the whop_fake_thread and whop_sync_client "
    "fixtures (or FakeWhop.in_thread()); in async code, use whop_dm.AsyncClient with "
    "await, or run the blocking code in another thread (asyncio.to_thread)."
)


def _address(url: str) -> tuple[str, int] | None:
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if host == "localhost":
        return "loopback", port
    try:
        if ipaddress.ip_address(host).is_loopback:
            return "loopback", port
    except ValueError:
        pass
    return host, port


def register_server(url: str, loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
    """Note that ``loop``, run by this thread, serves ``url``; returns the undo.

    Call it on the serving loop, as the server starts.
    """
    address = _address(url)
    if address is None:
        return _nothing
    entry: _Served = (weakref.ref(loop), threading.get_ident())
    with _lock:
        _servers[address] = entry

    def forget() -> None:
        with _lock:
            if _servers.get(address) is entry:
                del _servers[address]

    return forget


def refuse_call_to_own_loop(url: str) -> None:
    """Raise ``RuntimeError`` if a blocking call to ``url`` from this thread could only time out."""
    if not _servers:  # no in-process server: the usual case outside tests
        return
    address = _address(url)
    entry = _servers.get(address) if address is not None else None
    if entry is None:
        return
    loop, starter = entry[0](), entry[1]
    if loop is None or loop.is_closed():
        return
    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    stalled_here = not loop.is_running() and starter == threading.get_ident()
    if running is loop or stalled_here:
        raise RuntimeError(_MESSAGE.format(url=url))


def _nothing() -> None:
    pass
