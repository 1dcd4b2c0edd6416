"""Fixtures shared by the whole suite.

- ``mock_http``: an ``aioresponses`` mocker made to work on aiohttp >= 3.14 (see
  :func:`_aioresponses_compat`).
- ``scripted_server``: a real aiohttp server on loopback whose answers each test
  scripts, for end-to-end checks of the transport.
- ``sleeps``: a retry policy whose waits are recorded instead of slept.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import attrs
import pytest
from scripted import ScriptedServer, start_scripted_server

import whop_dm

# -- aioresponses on aiohttp >= 3.14 -----------------------------------------------------
#
# aiohttp 3.14 (a security release, so we cannot stay below it) made
# ``stream_writer`` a required argument of ``ClientResponse.__init__``;
# aioresponses 0.7.9 builds its fake responses without it and fails with a
# TypeError (pnuckowski/aioresponses#289). Until a fixed release exists, the
# ``mock_http`` fixture swaps in a ClientResponse subclass that supplies a
# writer stand-in whose only used attribute is ``output_size``. Remove this
# once aioresponses handles the new signature.


class _NoStreamWriter:
    output_size = 0


def _needs_stream_writer() -> bool:
    return "stream_writer" in inspect.signature(aiohttp.ClientResponse.__init__).parameters


class _CompatClientResponse(aiohttp.ClientResponse):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if _needs_stream_writer():
            kwargs.setdefault("stream_writer", _NoStreamWriter())
        super().__init__(*args, **kwargs)


@pytest.fixture
def mock_http(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """An active ``aioresponses`` mocker (every request of every session is mocked)."""
    import aioresponses.core
    from aioresponses import aioresponses as Mocker

    monkeypatch.setattr(aioresponses.core, "ClientResponse", _CompatClientResponse)
    with Mocker() as mocked:
        yield mocked


@pytest.fixture
async def scripted_server() -> AsyncIterator[ScriptedServer]:
    """A loopback server answering as the test scripts it (see ``tests/scripted.py``)."""
    server, runner = await start_scripted_server()
    try:
        yield server
    finally:
        await runner.cleanup()


# -- a recorded sleep ----------------------------------------------------------------------


@attrs.define
class Sleeps:
    """Every wait the client asked for, in order; none is slept."""

    waits: list[float] = attrs.Factory(list)

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(0)

    def policy(self, **changes: Any) -> whop_dm.RetryPolicy:
        return whop_dm.RetryPolicy(sleep=self, **changes)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


# -- the Redis tests -------------------------------------------------------------------
#
# tests/redis_store/ runs against a real redis-server that its fixture starts. It is
# collected only with ``--redis`` (the nox session "redis", part of the default
# run), so a checkout without a redis-server still runs the rest of the suite;
# with ``--redis`` and no server to be found, the run fails and says how to get one.


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--redis",
        action="store_true",
        help="also run tests/redis_store against a real redis-server (see `nox -s redis`)",
    )


def pytest_ignore_collect(collection_path: Any, config: pytest.Config) -> bool | None:
    if collection_path.name == "redis_store" and collection_path.parent.name == "tests":
        return None if config.getoption("--redis") else True
    return None
