"""A minimal, fast HTTP/1.1 stand-in for the two Whop DM endpoints the benchmarks call.

It is a raw ``asyncio.Protocol`` rather than ``aiohttp.web``: on a 2-core machine the
server shares the CPU with the client under test, so every microsecond the server
spends is taken from the client. It still speaks real HTTP/1.1 with keep-alive (and
pipelining), so the clients go through their whole HTTP stack.

Routes (anything else is a 404 in Whop's error envelope):

- ``POST /api/v1/dm_members``  -> a DmMember echoing ``channel_id`` and ``user_id``;
- ``POST /api/v1/dm_channels`` -> a DmChannel.

Requests without a bearer token get a 401, bodies that are not a JSON object a 400.
Run it as ``python -m benchmarks.stub_server [--port 0]``: it prints ``port=N`` once
it listens, and exits on SIGTERM, after ``--max-seconds``, or (with ``--watch-stdin``)
when its stdin pipe closes.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import signal
import sys
import time

_PREFIX = b"/api/v1/"
_MAX_HEADER_BYTES = 16 * 1024
_MAX_BODY_BYTES = 1024 * 1024
_REASONS = {
    200: b"OK",
    400: b"Bad Request",
    401: b"Unauthorized",
    404: b"Not Found",
    411: b"Length Required",
}
# Millisecond timestamps are strings in Whop's answers (see the spec's DmChannel).
_CREATED_AT = str(int(time.time() * 1000))


# Ids of created records: unique within one server process.
_next_id = itertools.count(1)


def _error(status: int, type_: str, message: str, code: str | None = None) -> tuple[int, bytes]:
    body = {"error": {"type": type_, "message": message, "code": code, "param": None}}
    return status, json.dumps(body).encode()


def _dm_member(payload: dict[str, object]) -> tuple[int, bytes]:
    channel_id = payload.get("channel_id")
    user_id = payload.get("user_id")
    if not isinstance(channel_id, str) or not isinstance(user_id, str):
        return _error(400, "invalid_request_error", "channel_id and user_id are required.")
    member = {
        "id": f"dmm_{next(_next_id):012d}",
        "user_id": user_id,
        "channel_id": channel_id,
        "status": "accepted",
        "last_viewed_at": None,
        "notification_preference": "all",
    }
    return 200, json.dumps(member).encode()


def _dm_channel(payload: dict[str, object]) -> tuple[int, bytes]:
    name = payload.get("custom_name")
    channel = {
        "id": f"feed_{next(_next_id):012d}",
        "created_at": _CREATED_AT,
        "name": name if isinstance(name, str) else None,
        "last_message_at": None,
    }
    return 200, json.dumps(channel).encode()


_ROUTES = {b"dm_members": _dm_member, b"dm_channels": _dm_channel}


def _route(method: bytes, target: bytes, authorized: bool, body: bytes) -> tuple[int, bytes]:
    path = target.split(b"?", 1)[0]
    handler = _ROUTES.get(path[len(_PREFIX) :]) if path.startswith(_PREFIX) else None
    if handler is None or method != b"POST":
        return _error(404, "not_found", "Resource not found")
    if not authorized:
        return _error(401, "unauthorized", "Invalid or missing API key")
    try:
        payload = json.loads(body)
    except ValueError:
        return _error(400, "invalid_request_error", "Body is not JSON.", "invalid_json")
    if not isinstance(payload, dict):
        return _error(400, "invalid_request_error", "Body is not an object.", "invalid_json")
    return handler(payload)


class _HttpProtocol(asyncio.Protocol):
    """One connection: parse requests as they complete, answer each in order."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        # Bounded: each pass consumes one whole request or stops.
        while self._transport is not None and self._handle_one():
            pass

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None

    def _handle_one(self) -> bool:
        buffer = self._buffer
        head_end = buffer.find(b"\r\n\r\n")
        if head_end < 0:
            if len(buffer) > _MAX_HEADER_BYTES:
                self._reply(400, b'{"error":{"type":"bad_request","message":"Header too large"}}')
                self._close()
            return False
        lines = bytes(buffer[:head_end]).split(b"\r\n")
        method, target, version = [*lines[0].split(b" ", 2), b"", b""][:3]
        length = 0
        authorized = False
        keep_alive = version != b"HTTP/1.0"
        chunked = False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"authorization":
                authorized = value.strip().lower().startswith(b"bearer ")
            elif name == b"connection":
                token = value.strip().lower()
                keep_alive = token == b"keep-alive" or (keep_alive and token != b"close")
            elif name == b"transfer-encoding":
                chunked = True
        if chunked or length > _MAX_BODY_BYTES:
            # Every client measured sends a Content-Length; refuse rather than guess.
            self._reply(411, b'{"error":{"type":"bad_request","message":"Length required"}}')
            self._close()
            return False
        body_start = head_end + 4
        if len(buffer) < body_start + length:
            return False
        body = bytes(buffer[body_start : body_start + length])
        del buffer[: body_start + length]
        status, payload = _route(method, target, authorized, body)
        self._reply(status, payload)
        if not keep_alive:
            self._close()
            return False
        return True

    def _reply(self, status: int, payload: bytes) -> None:
        if self._transport is None:
            return
        head = b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (
            status,
            _REASONS.get(status, b"Error"),
            len(payload),
        )
        self._transport.write(head + payload)

    def _close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None


def stop_event(watch_stdin: bool) -> asyncio.Event:
    """An event set by SIGTERM, SIGINT or (``watch_stdin``) EOF on the stdin pipe."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if watch_stdin:
        # The parent closing our stdin pipe (or dying) also ends the server.
        loop.add_reader(sys.stdin.fileno(), lambda: stop.set() if not sys.stdin.read(1) else None)
    return stop


async def serve(port: int, max_seconds: float, watch_stdin: bool = False) -> None:
    """Listen on 127.0.0.1:``port`` until stopped; print ``port=N`` once listening."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_HttpProtocol, "127.0.0.1", port, backlog=1024)
    stop = stop_event(watch_stdin)
    bound = server.sockets[0].getsockname()[1]
    print(f"port={bound}", flush=True)
    async with server:
        try:
            await asyncio.wait_for(stop.wait(), timeout=max_seconds)
        except asyncio.TimeoutError:
            print("stub server: --max-seconds reached, exiting", file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.stub_server")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--max-seconds", type=float, default=3 * 3600)
    parser.add_argument(
        "--watch-stdin", action="store_true", help="exit when stdin (a pipe) reaches EOF"
    )
    args = parser.parse_args(argv)
    asyncio.run(serve(args.port, args.max_seconds, args.watch_stdin))


if __name__ == "__main__":
    main()
