"""Fixtures for the fake server's own tests: a started fake with four users,
and clients for them that validate every answer against the spec's schemas."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from whop_dm.testing import FakeWhop

from ._api import Api


def pytest_configure(config: pytest.Config) -> None:
    # The plugin comes through the pytest11 entry point once whop-dm is installed;
    # from a bare checkout, register it here.
    from whop_dm.testing import pytest_plugin

    if not config.pluginmanager.is_registered(pytest_plugin):
        config.pluginmanager.register(pytest_plugin, "whop_dm")


USERS = {
    "user_alice": ("alice", "alice@example.com", "Alice"),
    "user_bob": ("bob", "bob@example.com", "Bob"),
    "user_carol": ("carol", "carol@example.com", None),
    "user_dave": ("dave", "dave@example.com", None),
}


def populate(fake: FakeWhop) -> None:
    for user_id, (username, email, name) in USERS.items():
        fake.add_user(user_id, username=username, email=email, name=name)
        fake.add_api_key(f"key_{username}", user_id=user_id)


@pytest.fixture
async def fake() -> AsyncIterator[FakeWhop]:
    async with FakeWhop(seed=1) as server:
        populate(server)
        yield server


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    # force_close: one connection per request, so a dropped connection is seen
    # as such (aiohttp silently retries a GET that failed on a reused connection).
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as s:
        yield s


@pytest.fixture
def alice(session: aiohttp.ClientSession, fake: FakeWhop) -> Api:
    return Api(session, fake, "key_alice")


@pytest.fixture
def bob(alice: Api) -> Api:
    return alice.as_key("key_bob")


@pytest.fixture
def carol(alice: Api) -> Api:
    return alice.as_key("key_carol")
