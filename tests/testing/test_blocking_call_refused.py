"""The sync ``Client`` refuses at once a call that only its own thread's event loop
could answer (the fake of ``whop_fake`` in a test), instead of timing out."""

from __future__ import annotations

import asyncio

import pytest

import whop_dm
from whop_dm.testing import FakeWhop

# Short, so that a call the client failed to refuse fails the test quickly
# (with APITimeoutError) instead of waiting for the default timeout.
SHORT = 2.0


def test_blocking_call_in_a_sync_test_on_whop_fake_raises_at_once(
    whop_fake: FakeWhop, whop_api_key: str
) -> None:
    whop_fake.add_user("user_alice")
    with whop_dm.Client(whop_api_key, base_url=whop_fake.base_url, timeout=SHORT) as client:
        with pytest.raises(RuntimeError, match="whop_fake_thread and whop_sync_client"):
            client.dm_channels.create(with_user_ids=["user_alice"])
        # Pagers too: the first page is a blocking call like any other.
        with pytest.raises(RuntimeError, match="this thread's event loop"):
            list(client.dm_channels.list())
    assert whop_fake.requests == []


async def test_blocking_call_in_an_async_test_on_whop_fake_raises_at_once(
    whop_fake: FakeWhop, whop_api_key: str
) -> None:
    whop_fake.add_user("user_alice")
    client = whop_dm.Client(whop_api_key, base_url=whop_fake.base_url, timeout=SHORT)
    try:
        with pytest.raises(RuntimeError, match=r"AsyncClient with await"):
            client.dm_channels.create(with_user_ids=["user_alice"])
    finally:
        await asyncio.to_thread(client.close)
    assert whop_fake.requests == []


async def test_blocking_code_in_another_thread_may_call_whop_fake(
    whop_fake: FakeWhop, whop_api_key: str
) -> None:
    # The test's loop keeps running while the worker thread blocks: no refusal.
    whop_fake.add_user("user_alice")

    def blocking_code() -> str:
        with whop_dm.Client(whop_api_key, base_url=whop_fake.base_url, timeout=SHORT) as client:
            return client.dm_channels.create(with_user_ids=["user_alice"]).id

    channel_id = await asyncio.to_thread(blocking_code)
    assert channel_id in whop_fake.channels


async def test_a_closed_fake_is_forgotten(whop_api_key: str) -> None:
    async with FakeWhop() as fake:
        base_url = fake.base_url
    client = whop_dm.Client(whop_api_key, base_url=base_url, timeout=SHORT)
    try:
        # Nobody listens any more: a connection error, not the refusal.
        with pytest.raises(whop_dm.APIConnectionError):
            client.dm_channels.list().first_page()
    finally:
        await asyncio.to_thread(client.close)
