"""Fixtures for the tests of the DM surface (``tests/test_surface_*.py``).

Loaded with ``pytest_plugins = ["surface_support"]`` (not imported: pytest
must load it itself to rewrite its asserts). Built on the project's own pytest
plugin (``whop_fake`` with ``user_owner`` and its key), plus three more users
with keys, and clients that retry without sleeping.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from typing import Any

import pytest

from whop_dm import AsyncClient, RetryPolicy
from whop_dm.testing import FakeWhop

OTHER_USERS = {
    "user_bob": ("bob", "Bob"),
    "user_carol": ("carol", None),
    "user_dave": ("dave", "Dave"),
}


def key_of(user_id: str) -> str:
    return f"key_{user_id}"


def client_for(fake: FakeWhop, api_key: str, **options: Any) -> AsyncClient:
    """A client on the fake whose retries never sleep."""
    options.setdefault("retry", RetryPolicy.instant())
    return AsyncClient(api_key=api_key, base_url=fake.base_url, **options)


@pytest.fixture
async def surface_fake(whop_fake: FakeWhop) -> FakeWhop:
    for user_id, (username, name) in OTHER_USERS.items():
        whop_fake.add_user(user_id, username=username, name=name)
        whop_fake.add_api_key(key_of(user_id), user_id=user_id)
    return whop_fake


@pytest.fixture
async def owner(surface_fake: FakeWhop, whop_api_key: str) -> AsyncIterator[AsyncClient]:
    """The client of ``user_owner``, who creates the channels in these tests."""
    async with client_for(surface_fake, whop_api_key) as client:
        yield client


@pytest.fixture
async def bob(surface_fake: FakeWhop) -> AsyncIterator[AsyncClient]:
    async with client_for(surface_fake, key_of("user_bob")) as client:
        yield client


@pytest.fixture
async def dave(surface_fake: FakeWhop) -> AsyncIterator[AsyncClient]:
    """A user who belongs to no channel unless a test adds him."""
    async with client_for(surface_fake, key_of("user_dave")) as client:
        yield client


@pytest.fixture
async def make_client(surface_fake: FakeWhop) -> AsyncIterator[Callable[..., AsyncClient]]:
    """``make_client(user_id, **options)``: a client for that user, closed after the test."""
    async with AsyncExitStack() as stack:

        def make(user_id: str = "user_owner", **options: Any) -> AsyncClient:
            api_key = "whop_fake_key_owner" if user_id == "user_owner" else key_of(user_id)
            client = client_for(surface_fake, api_key, **options)
            stack.push_async_callback(client.aclose)
            return client

        yield make
