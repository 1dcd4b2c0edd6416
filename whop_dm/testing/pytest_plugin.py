"""Pytest fixtures for testing code that talks to Whop DMs; loaded through ``pytest11``.

For async code (they need pytest-asyncio, in auto or strict mode):

- ``whop_fake``: a started ``FakeWhop`` on the test's event loop, with the
  user ``user_owner`` (username ``owner``, email ``owner@example.com``) and a
  key with every scope;
- ``whop_client``: a ``whop_dm.AsyncClient`` on ``whop_fake``, opened and
  closed around the test.

For blocking code (a plain ``def`` test, the sync ``whop_dm.Client``):

- ``whop_fake_thread``: the same fake, seeded the same way, on its own event
  loop in a daemon thread, so it answers while the test blocks;
- ``whop_sync_client``: a ``whop_dm.Client`` on ``whop_fake_thread``.

And for both: ``whop_api_key``, the key of ``user_owner``.

``whop_fake`` serves on the test's event loop, which cannot answer a blocking
call made on it: the sync ``Client`` then raises ``RuntimeError`` at once,
naming the blocking fixtures, rather than waiting for its timeout.

This module is loaded by every pytest run once whop-dm is installed, so it
imports nothing heavy until a fixture is used, and without
pytest-asyncio it still loads (the async fixtures then fail with pytest's own
message about async fixtures; the blocking ones work).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar, cast

import pytest

if TYPE_CHECKING:
    from whop_dm.testing import FakeWhop

OWNER_ID = "user_owner"
OWNER_KEY = "whop_fake_key_owner"

F = TypeVar("F", bound=Callable[..., Any])

try:
    from pytest_asyncio import fixture as _asyncio_fixture
except ImportError:  # pragma: no cover - depends on the user's environment
    _asyncio_fixture = None  # type: ignore[assignment]


def _fixture(func: F) -> F:
    if _asyncio_fixture is None:  # pragma: no cover
        # pytest then reports that an async fixture needs an async plugin.
        return cast(F, pytest.fixture(func))
    return cast(F, _asyncio_fixture(func))


def _seed(fake: FakeWhop) -> None:
    fake.add_user(OWNER_ID, username="owner", email="owner@example.com", name="Owner")
    fake.add_api_key(OWNER_KEY, user_id=OWNER_ID)


@_fixture
async def whop_fake() -> AsyncIterator[FakeWhop]:
    """A started fake Whop server on the test's event loop, with ``user_owner`` and a key.

    For async tests. A blocking ``whop_dm.Client`` cannot use it (it raises
    ``RuntimeError``): use ``whop_fake_thread`` and ``whop_sync_client``.
    """
    from whop_dm.testing import FakeWhop

    async with FakeWhop() as fake:
        _seed(fake)
        yield fake


@pytest.fixture
def whop_api_key() -> str:
    """The key of ``user_owner`` on ``whop_fake`` and ``whop_fake_thread``, with every scope."""
    return OWNER_KEY


@_fixture
async def whop_client(whop_fake: FakeWhop, whop_api_key: str) -> AsyncIterator[Any]:
    """A ``whop_dm.AsyncClient`` pointed at ``whop_fake``."""
    from whop_dm import AsyncClient  # type: ignore[attr-defined,unused-ignore]

    async with AsyncClient(api_key=whop_api_key, base_url=whop_fake.base_url) as client:
        yield client


@pytest.fixture
def whop_fake_thread() -> Iterator[FakeWhop]:
    """A fake Whop server on its own thread, with ``user_owner`` and a key: for blocking code.

    Its controls (``add_user``, ``fail_next``, ``channels``, ...) work from
    the test's thread. Needs no pytest-asyncio.
    """
    from whop_dm.testing import FakeWhop

    with FakeWhop.in_thread() as fake:
        _seed(fake)
        yield fake


@pytest.fixture
def whop_sync_client(whop_fake_thread: FakeWhop, whop_api_key: str) -> Iterator[Any]:
    """A blocking ``whop_dm.Client`` pointed at ``whop_fake_thread``, closed after the test."""
    from whop_dm import Client  # type: ignore[attr-defined,unused-ignore]

    with Client(whop_api_key, base_url=whop_fake_thread.base_url) as client:
        yield client
