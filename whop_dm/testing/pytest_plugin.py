"""Pytest fixtures for testing code that talks to Whop DMs; loaded through ``pytest11``.

- ``whop_fake``: a started ``FakeWhop`` with the user ``user_owner``
  (username ``owner``, email ``owner@example.com``) and a key with every scope;
- ``whop_api_key``: that key;
- ``whop_client``: a ``whop_dm.AsyncClient`` on the fake, opened and closed
  around the test.

The fixtures are async and work in pytest-asyncio's auto and strict modes.
This module is loaded by every pytest run once whop-dm is installed, so it
imports nothing heavy until a fixture is used, and without
pytest-asyncio it still loads (the fixtures then fail with pytest's own
message about async fixtures).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
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


@_fixture
async def whop_fake() -> AsyncIterator[FakeWhop]:
    """A started fake Whop server with one user, ``user_owner``, and a key."""
    from whop_dm.testing import FakeWhop

    async with FakeWhop() as fake:
        fake.add_user(OWNER_ID, username="owner", email="owner@example.com", name="Owner")
        fake.add_api_key(OWNER_KEY, user_id=OWNER_ID)
        yield fake


@_fixture
async def whop_api_key(whop_fake: FakeWhop) -> str:
    """The key of ``user_owner`` on ``whop_fake``, with every scope."""
    return OWNER_KEY


@_fixture
async def whop_client(whop_fake: FakeWhop, whop_api_key: str) -> AsyncIterator[Any]:
    """A ``whop_dm.AsyncClient`` pointed at ``whop_fake``."""
    from whop_dm import AsyncClient  # type: ignore[attr-defined,unused-ignore]

    async with AsyncClient(api_key=whop_api_key, base_url=whop_fake.base_url) as client:
        yield client
