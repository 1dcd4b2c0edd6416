"""Transport unit tests on aioresponses (no sockets): mapping of aiohttp failures."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from scripted import MEMBER

import whop_dm

BASE = "http://127.0.0.1:9/api/v1"
URL = BASE + "/dm_members"


def client(**kwargs: Any) -> whop_dm.AsyncClient:
    kwargs.setdefault("retry", whop_dm.RetryPolicy.instant())
    return whop_dm.AsyncClient("sk_unit", base_url=BASE, **kwargs)


async def test_a_mocked_success_decodes(mock_http: Any) -> None:
    mock_http.post(URL, payload=MEMBER)
    async with client() as c:
        member = await c.dm_members.create(channel_id="feed_1", user_id="user_c")
    assert member.channel_id == "feed_1"


async def test_a_server_disconnect_is_retried_then_succeeds(mock_http: Any) -> None:
    mock_http.post(URL, exception=aiohttp.ServerDisconnectedError())
    mock_http.post(URL, payload=MEMBER)
    async with client() as c:
        member = await c.dm_members.create(channel_id="feed_1", user_id="user_c")
    assert member.id == "dmm_1"


async def test_a_payload_error_ends_as_api_connection_error(mock_http: Any) -> None:
    for _ in range(3):
        mock_http.post(URL, exception=aiohttp.ClientPayloadError("truncated"))
    async with client() as c:
        with pytest.raises(whop_dm.APIConnectionError) as caught:
            await c.dm_members.create(channel_id="feed_1", user_id="user_c")
    assert isinstance(caught.value.__cause__, aiohttp.ClientPayloadError)


async def test_an_asyncio_timeout_ends_as_api_timeout_error(mock_http: Any) -> None:
    for _ in range(3):
        mock_http.post(URL, exception=asyncio.TimeoutError())
    async with client() as c:
        with pytest.raises(whop_dm.APITimeoutError):
            await c.dm_members.create(channel_id="feed_1", user_id="user_c")


async def test_a_redirect_is_not_followed(mock_http: Any) -> None:
    mock_http.post(URL, status=307, headers={"Location": "https://elsewhere.example/steal"})
    async with client() as c:
        with pytest.raises(whop_dm.APIError) as caught:
            await c.dm_members.create(channel_id="feed_1", user_id="user_c")
    assert caught.value.status_code == 307


async def test_a_502_then_success_is_invisible_to_the_caller(mock_http: Any) -> None:
    mock_http.post(URL, status=502, body="<html>bad gateway</html>", content_type="text/html")
    mock_http.post(URL, payload=MEMBER)
    async with client() as c:
        member = await c.dm_members.create(channel_id="feed_1", user_id="user_c")
    assert member.status is whop_dm.MemberStatus.ACCEPTED
