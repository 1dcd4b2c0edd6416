"""The sliding-window rate limit, per operation and key."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from whop_dm.testing import FakeWhop

from ._api import Api
from .conftest import populate


@pytest.fixture
async def limited() -> AsyncIterator[FakeWhop]:
    async with FakeWhop(rate_limit_per_minute=3, rate_limit_window=0.5) as fake:
        populate(fake)
        yield fake


async def test_limit_refuses_past_n_requests_with_whops_429(
    limited: FakeWhop, session: aiohttp.ClientSession
) -> None:
    api = Api(session, limited, "key_alice")
    statuses = [(await api.get("/dm_channels")).status for _ in range(3)]
    refused = await api.get("/dm_channels")
    assert statuses == [200, 200, 200]
    assert refused.status == 429
    assert refused.error["type"] == "rate_limit_exceeded"
    assert refused.error["message"] == "Try again in 1 seconds."
    assert "Retry-After" not in refused.headers


async def test_limit_is_per_operation_and_per_key(
    limited: FakeWhop, session: aiohttp.ClientSession
) -> None:
    alice, bob = Api(session, limited, "key_alice"), Api(session, limited, "key_bob")
    for _ in range(3):
        await alice.get("/dm_channels")
    assert (await alice.get("/dm_channels")).status == 429
    assert (await bob.get("/dm_channels")).status == 200
    assert (await alice.post("/dm_channels", {"with_user_ids": ["user_bob"]})).status == 200


async def test_window_slides_and_lets_requests_through_again(
    limited: FakeWhop, session: aiohttp.ClientSession
) -> None:
    api = Api(session, limited, "key_alice")
    for _ in range(3):
        await api.get("/dm_channels")
    assert (await api.get("/dm_channels")).status == 429
    await asyncio.sleep(0.55)
    assert (await api.get("/dm_channels")).status == 200


async def test_retry_after_header_only_when_configured(session: aiohttp.ClientSession) -> None:
    async with FakeWhop(rate_limit_per_minute=1, rate_limit_retry_after_header=True) as fake:
        populate(fake)
        api = Api(session, fake, "key_alice")
        await api.get("/dm_channels")
        refused = await api.get("/dm_channels")
        assert refused.status == 429
        # a 60 s window: the wait is the real remainder, rounded up
        assert refused.headers["Retry-After"] in {"59", "60"}
        assert refused.error["message"] == f"Try again in {refused.headers['Retry-After']} seconds."


async def test_no_limit_by_default(alice: Api) -> None:
    assert all([(await alice.get("/dm_channels")).status == 200 for _ in range(30)])


async def test_the_fake_counts_429s_and_their_exact_waits_per_operation(
    limited: FakeWhop, session: aiohttp.ClientSession
) -> None:
    api = Api(session, limited, "key_alice")
    for _ in range(5):
        await api.get("/dm_channels")
    await api.get("/dm_members")
    assert limited.rate_limited == {"GET /dm_channels": 2}
    assert limited.rate_limit_allowed == {"GET /dm_channels": 3, "GET /dm_members": 1}
    waits = limited.rate_limit_waits["GET /dm_channels"]
    assert len(waits) == 2
    assert all(0 < wait <= 0.5 for wait in waits)
    limited.reset_rate_limit_counts()
    assert limited.rate_limited == {}


async def test_a_fake_without_a_limit_counts_nothing() -> None:
    async with FakeWhop() as fake:
        assert fake.rate_limited == {}
        assert fake.rate_limit_waits == {}
