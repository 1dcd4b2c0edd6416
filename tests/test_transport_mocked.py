"""Transport unit tests on aioresponses (no sockets): mapping of aiohttp failures."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from scripted import MEMBER

import whop_dm
from whop_dm import _transport

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


# -- the JSON body of a success --------------------------------------------------------

BODIES = [
    b'{"a":1}',
    '{"name":"caf\u00e9 \u2603"}'.encode(),
    b'\xef\xbb\xbf{"a":1}',  # UTF-8 with a byte order mark
    '{"a":1}'.encode("utf-16"),
    '{"a":1}'.encode("utf-16-le"),
    '{"a":1}'.encode("utf-32"),
    b'{"s":"\\ud800"}',  # an escaped lone surrogate
    b'"\xed\xa0\x80"',  # a raw lone surrogate
    b"[1, 2,]",
    b"\xff\xfe\x00",
    b"",
    b"nul\x00",
]


@pytest.mark.parametrize("raw", BODIES, ids=range(len(BODIES)))
def test_a_body_parses_exactly_as_json_loads_would(raw: bytes) -> None:
    # The transport's fast path must give json.loads' answer, or its error.
    try:
        expected: object = json.loads(raw)
    except ValueError as exc:
        with pytest.raises(type(exc)):
            _transport._parse_json(raw)
    else:
        assert _transport._parse_json(raw) == expected


async def test_a_utf16_success_body_decodes(mock_http: Any) -> None:
    mock_http.post(URL, body=json.dumps(MEMBER).encode("utf-16"), content_type="application/json")
    async with client() as c:
        member = await c.dm_members.create(channel_id="feed_1", user_id="user_c")
    assert member.id == MEMBER["id"]
