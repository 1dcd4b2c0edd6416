"""The fault matrix: each fault end to end against FakeWhop, with its expected outcome.

Every row ends with the same checks (:func:`faultkit.assert_clean`): no
connection left checked out, the client closed, every server connection wound
down, no task left pending; and, for adds, no duplicate membership in the fake
and one ``Idempotency-Key`` per logical call. Warnings fail the run
(``filterwarnings = error``), so an unclosed session or transport fails the row.

Waits are computed but not slept (``RetryPolicy.instant``) except in the rows
about timeouts, where a real server-side delay is the fault.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import attrs
import pytest
from aiohttp.abc import AbstractResolver, ResolveResult
from faultkit import (
    CLOSE_AFTER,
    HTML_502,
    KEY,
    TRUNCATED,
    FaultProxy,
    assert_clean,
    assert_no_duplicates,
    client_for,
    fake_runner,
    keys_per_call,
    seeded_fake,
    server_connections,
    settle,
)

import whop_dm
from whop_dm.testing import FakeWhop

ATTEMPTS = 3
# A guard against hangs, far above any retry deadline used here: "no hang", not "fast".
NO_HANG = 60.0


@attrs.define
class RecordedSleep:
    waits: list[float] = attrs.Factory(list)

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(0)


@attrs.define
class Row:
    fake: FakeWhop
    tasks_before: set[asyncio.Task[Any]]
    channel_id: str = ""


@pytest.fixture
async def row() -> AsyncIterator[Row]:
    async with seeded_fake(["user_a", "user_b", "user_c"]) as fake:
        async with client_for(fake.base_url) as setup:
            channel = await setup.dm_channels.create(with_user_ids=["user_a"])
        fake.clear_requests()
        yield Row(fake, set(asyncio.all_tasks()), channel.id)


async def add(client: whop_dm.AsyncClient, row: Row, user: str = "user_b") -> whop_dm.DmMember:
    return await asyncio.wait_for(
        client.dm_members.create(channel_id=row.channel_id, user_id=user), NO_HANG
    )


def added(row: Row, user: str = "user_b") -> int:
    return sum(1 for m in row.fake.members_of(row.channel_id) if m.user_id == user)


def one_key_for_every_attempt(row: Row) -> int:
    """The number of attempts of the one logical add; fails if they used several keys."""
    keys = keys_per_call(row.fake, "POST", "/dm_members")
    assert len(keys) == 1, keys
    (attempts,) = keys.values()
    return attempts


async def finish(client: whop_dm.AsyncClient, row: Row, *runners: Any) -> None:
    assert_no_duplicates(row.fake)
    await assert_clean(client, row.tasks_before, fake_runner(row.fake), *runners)


# -- 429 ----------------------------------------------------------------------------------


async def test_429_with_retry_after_waits_that_long_and_recovers(row: Row) -> None:
    sleep = RecordedSleep()
    row.fake.fail_next(1, status=429, retry_after=2, path="/dm_members")
    client = client_for(row.fake.base_url, retry=whop_dm.RetryPolicy(sleep=sleep))
    member = await add(client, row)
    assert member.user_id == "user_b"
    assert 2.0 in sleep.waits
    assert one_key_for_every_attempt(row) == 2
    assert added(row) == 1
    await finish(client, row)


async def test_429_without_retry_after_header_takes_the_wait_from_the_body(row: Row) -> None:
    sleep = RecordedSleep()
    row.fake.fail_next(1, status=429, retry_after=3, header=False, path="/dm_members")
    client = client_for(row.fake.base_url, retry=whop_dm.RetryPolicy(sleep=sleep))
    await add(client, row)
    assert 3.0 in sleep.waits  # "Try again in 3 seconds."
    assert one_key_for_every_attempt(row) == 2
    assert added(row) == 1
    await finish(client, row)


async def test_429_with_no_wait_at_all_backs_off_and_recovers(row: Row) -> None:
    sleep = RecordedSleep()
    row.fake.fail_next(1, status=429, path="/dm_members")  # "Try again in 0 seconds.", no header
    client = client_for(row.fake.base_url, retry=whop_dm.RetryPolicy(sleep=sleep))
    await add(client, row)
    assert one_key_for_every_attempt(row) == 2
    assert added(row) == 1
    await finish(client, row)


async def test_429_asking_longer_than_the_cap_raises_at_once(row: Row) -> None:
    row.fake.fail_next(1, status=429, retry_after=600, path="/dm_members")
    client = client_for(row.fake.base_url)
    with pytest.raises(whop_dm.RateLimitError) as caught:
        await add(client, row)
    assert caught.value.retry_after == 600.0
    assert one_key_for_every_attempt(row) == 1
    assert added(row) == 0
    await finish(client, row)


async def test_429_burst_longer_than_the_budget_raises_rate_limit_error(row: Row) -> None:
    row.fake.fail_next(ATTEMPTS, status=429, retry_after=1, path="/dm_members")
    client = client_for(row.fake.base_url, retry=whop_dm.RetryPolicy.instant(max_attempts=ATTEMPTS))
    with pytest.raises(whop_dm.RateLimitError):
        await add(client, row)
    assert one_key_for_every_attempt(row) == ATTEMPTS
    assert added(row) == 0
    await finish(client, row)


# -- 5xx bursts ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_5xx_burst_shorter_than_the_budget_recovers(row: Row, status: int) -> None:
    row.fake.fail_next(ATTEMPTS - 1, status=status, path="/dm_members")
    client = client_for(row.fake.base_url, retry=whop_dm.RetryPolicy.instant(max_attempts=ATTEMPTS))
    member = await add(client, row)
    assert member.channel_id == row.channel_id
    assert one_key_for_every_attempt(row) == ATTEMPTS
    assert added(row) == 1
    await finish(client, row)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_5xx_burst_longer_than_the_budget_raises_internal_server_error(
    row: Row, status: int
) -> None:
    row.fake.fail_next(ATTEMPTS + 2, status=status, path="/dm_members")
    client = client_for(row.fake.base_url, retry=whop_dm.RetryPolicy.instant(max_attempts=ATTEMPTS))
    with pytest.raises(whop_dm.InternalServerError) as caught:
        await add(client, row)
    assert caught.value.status_code == status
    assert one_key_for_every_attempt(row) == ATTEMPTS
    assert added(row) == 0
    # The client is still usable once the server is back.
    row.fake.reset_faults()
    await add(client, row)
    assert added(row) == 1
    await finish(client, row)


# -- dropped connections ------------------------------------------------------------------


async def test_connection_dropped_before_the_answer_recovers(row: Row) -> None:
    row.fake.drop_next(1, path="/dm_members")
    client = client_for(row.fake.base_url)
    await add(client, row)
    assert one_key_for_every_attempt(row) == 2
    assert added(row) == 1
    await finish(client, row)


async def test_connection_dropped_after_handling_replays_instead_of_adding_twice(
    row: Row,
) -> None:
    row.fake.drop_next(1, path="/dm_members", after=True)
    client = client_for(row.fake.base_url)
    member = await add(client, row)
    # The first attempt was handled (the membership exists) and its answer lost;
    # the retry carried the same key and got the first answer replayed.
    assert one_key_for_every_attempt(row) == 2
    assert added(row) == 1
    assert member.id == row.fake.members_of(row.channel_id)[-1].id
    await finish(client, row)


async def test_connection_dropped_on_every_attempt_raises_api_connection_error(row: Row) -> None:
    row.fake.drop_next(ATTEMPTS + 2, path="/dm_members")
    client = client_for(row.fake.base_url, retry=whop_dm.RetryPolicy.instant(max_attempts=ATTEMPTS))
    with pytest.raises(whop_dm.APIConnectionError) as caught:
        await add(client, row)
    assert not isinstance(caught.value, whop_dm.APITimeoutError)
    assert one_key_for_every_attempt(row) == ATTEMPTS
    assert added(row) == 0
    await finish(client, row)


async def test_connection_refused_raises_api_connection_error_marked_not_sent(row: Row) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    # Nothing listens on `port` now: every connect is refused.
    client = client_for(f"http://127.0.0.1:{port}/api/v1")
    with pytest.raises(whop_dm.APIConnectionError) as caught:
        await add(client, row)
    assert caught.value.request_not_sent
    assert added(row) == 0
    await finish(client, row)


# -- slow answers -------------------------------------------------------------------------


async def test_an_add_slower_than_the_timeout_recovers_without_a_duplicate(row: Row) -> None:
    # The first attempt times out while the fake still holds it; retries with the
    # same key get 409 (in progress) until it is handled, then its answer replayed.
    row.fake.delay_next(1, 1.5, path="/dm_members")
    policy = whop_dm.RetryPolicy(
        max_attempts=30, initial_backoff=0.1, max_backoff=0.5, jitter=0.0, deadline=NO_HANG
    )
    client = client_for(row.fake.base_url, timeout=whop_dm.Timeout(total=0.3), retry=policy)
    member = await add(client, row)
    assert member.user_id == "user_b"
    assert one_key_for_every_attempt(row) >= 2
    assert added(row) == 1
    await finish(client, row)


async def test_a_read_slower_than_the_timeout_on_every_attempt_raises_timeout(row: Row) -> None:
    row.fake.delay_next(ATTEMPTS, 2.0, path="/dm_channels/{id}")
    client = client_for(
        row.fake.base_url,
        timeout=whop_dm.Timeout(total=0.2),
        retry=whop_dm.RetryPolicy.instant(max_attempts=ATTEMPTS),
    )
    with pytest.raises(whop_dm.APITimeoutError):
        await asyncio.wait_for(client.dm_channels.retrieve(row.channel_id), NO_HANG)
    gets = [r for r in row.fake.requests if r.method == "GET"]
    assert len(gets) == ATTEMPTS
    await finish(client, row)


async def test_a_read_slower_than_the_timeout_once_recovers(row: Row) -> None:
    row.fake.delay_next(1, 2.0, path="/dm_channels/{id}")
    client = client_for(row.fake.base_url, timeout=whop_dm.Timeout(total=0.2))
    channel = await asyncio.wait_for(client.dm_channels.retrieve(row.channel_id), NO_HANG)
    assert channel.id == row.channel_id
    await finish(client, row)


async def test_the_retry_deadline_bounds_a_call_whose_every_attempt_times_out(row: Row) -> None:
    row.fake.delay_next(50, 2.0, path="/dm_channels/{id}")
    policy = whop_dm.RetryPolicy(max_attempts=50, initial_backoff=0.01, jitter=0.0, deadline=1.0)
    client = client_for(row.fake.base_url, timeout=whop_dm.Timeout(total=0.3), retry=policy)
    with pytest.raises(whop_dm.APITimeoutError):
        await asyncio.wait_for(client.dm_channels.retrieve(row.channel_id), NO_HANG)
    gets = [r for r in row.fake.requests if r.method == "GET"]
    assert 1 <= len(gets) < 50
    row.fake.reset_faults()
    await finish(client, row)


# -- bodies that are not what was promised --------------------------------------------------


async def test_a_200_that_is_not_json_raises_decode_error_and_changes_nothing(row: Row) -> None:
    row.fake.malformed_next(1, path="/dm_members", body=b"<html>OK</html>")
    client = client_for(row.fake.base_url)
    with pytest.raises(whop_dm.ResponseDecodeError) as caught:
        await add(client, row)
    assert caught.value.status_code == 200
    assert "<html>OK</html>" in caught.value.body
    assert one_key_for_every_attempt(row) == 1  # a decode error is not retried
    assert added(row) == 0
    await finish(client, row)


async def test_a_200_cut_off_after_handling_is_safe_to_repeat_with_the_same_key(row: Row) -> None:
    row.fake.malformed_next(1, path="/dm_members", after=True)
    client = client_for(row.fake.base_url)
    call = {"channel_id": row.channel_id, "user_id": "user_b", "idempotency_key": "add-b-once"}
    with pytest.raises(whop_dm.ResponseDecodeError):
        await client.dm_members.create(**call)
    assert added(row) == 1
    member = await client.dm_members.create(**call)  # the caller's own retry
    assert member.id == row.fake.members_of(row.channel_id)[-1].id
    assert added(row) == 1
    await finish(client, row)


# -- through a misbehaving proxy ------------------------------------------------------------


@pytest.fixture
async def proxy(row: Row) -> AsyncIterator[FaultProxy]:
    async with FaultProxy(row.fake.base_url) as running:
        yield running


async def test_a_truncated_body_once_is_retried_and_replayed(row: Row, proxy: FaultProxy) -> None:
    proxy.script(TRUNCATED)
    client = client_for(proxy.base_url)
    member = await add(client, row)
    assert member.user_id == "user_b"
    assert proxy.kinds_served[TRUNCATED] == 1
    assert one_key_for_every_attempt(row) == 2
    assert added(row) == 1
    await finish(client, row, proxy.runner)


async def test_a_body_truncated_on_every_attempt_raises_api_connection_error(
    row: Row, proxy: FaultProxy
) -> None:
    proxy.script(TRUNCATED, ATTEMPTS)
    client = client_for(proxy.base_url, retry=whop_dm.RetryPolicy.instant(max_attempts=ATTEMPTS))
    with pytest.raises(whop_dm.APIConnectionError):
        await add(client, row)
    assert one_key_for_every_attempt(row) == ATTEMPTS
    assert added(row) == 1  # handled once, then replayed: never twice
    await finish(client, row, proxy.runner)


async def test_an_html_502_from_a_proxy_is_retried_and_recovers(
    row: Row, proxy: FaultProxy
) -> None:
    proxy.script(HTML_502, ATTEMPTS - 1)
    client = client_for(proxy.base_url, retry=whop_dm.RetryPolicy.instant(max_attempts=ATTEMPTS))
    await add(client, row)
    assert proxy.kinds_served[HTML_502] == ATTEMPTS - 1
    assert added(row) == 1
    await finish(client, row, proxy.runner)


async def test_an_html_502_on_every_attempt_raises_internal_server_error_with_the_page(
    row: Row, proxy: FaultProxy
) -> None:
    proxy.script(HTML_502, ATTEMPTS)
    client = client_for(proxy.base_url, retry=whop_dm.RetryPolicy.instant(max_attempts=ATTEMPTS))
    with pytest.raises(whop_dm.InternalServerError) as caught:
        await add(client, row)
    error = caught.value
    assert error.status_code == 502
    assert error.type is None
    assert error.code is None
    assert "Bad Gateway" in error.message
    assert isinstance(error.body, str)
    assert "<html>" in error.body
    assert added(row) == 0
    await finish(client, row, proxy.runner)


async def test_a_server_closing_idle_keep_alive_connections_between_calls(row: Row) -> None:
    async with FaultProxy(row.fake.base_url, keepalive_timeout=0.05) as proxy:
        client = client_for(proxy.base_url)
        for user in ("user_b", "user_c", "user_a"):
            await add(client, row, user)
            # Wait (bounded) until the proxy has hung up the idle connection.
            assert await settle(lambda: server_connections(proxy.runner) == 0)
        assert len(proxy.peers) == 3  # each call came on a fresh connection
        assert {m.user_id for m in row.fake.members_of(row.channel_id)} >= {"user_b", "user_c"}
        await finish(client, row, proxy.runner)


async def test_a_server_hanging_up_right_after_each_answer(row: Row, proxy: FaultProxy) -> None:
    proxy.script(CLOSE_AFTER, 3)
    client = client_for(proxy.base_url)
    for user in ("user_b", "user_c"):
        await add(client, row, user)
    channel = await asyncio.wait_for(client.dm_channels.retrieve(row.channel_id), NO_HANG)
    assert channel.id == row.channel_id
    assert proxy.kinds_served[CLOSE_AFTER] == 3
    assert len(proxy.peers) >= 3  # a hung-up connection was never reused
    assert added(row, "user_b") == 1
    assert added(row, "user_c") == 1
    await finish(client, row, proxy.runner)


# -- name resolution ----------------------------------------------------------------------


class RefusingResolver(AbstractResolver):
    """Fails every lookup locally, as getaddrinfo does for an unknown name: no query leaves."""

    def __init__(self) -> None:
        self.hosts: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.hosts.append(host)
        raise OSError(socket.EAI_NONAME, "Name or service not known")

    async def close(self) -> None:
        return None


async def test_an_unresolvable_host_raises_api_connection_error_and_sends_nothing(
    row: Row,
) -> None:
    resolver = RefusingResolver()
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=resolver))
    try:
        client = whop_dm.AsyncClient(
            KEY,
            base_url="https://api.whop.invalid/api/v1",
            session=session,
            retry=whop_dm.RetryPolicy.instant(max_attempts=ATTEMPTS),
        )
        with pytest.raises(whop_dm.APIConnectionError) as caught:
            await add(client, row)
        assert caught.value.request_not_sent
        assert resolver.hosts == ["api.whop.invalid"] * ATTEMPTS
        assert KEY not in str(caught.value)
        await finish(client, row)
    finally:
        await session.close()
    assert row.fake.requests == []
