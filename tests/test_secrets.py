"""The API key never shows in a repr, an error, or a log line."""

from __future__ import annotations

import logging

import pytest
from scripted import API_KEY, MEMBER, ScriptedServer, json_answer, raw_answer

import whop_dm


async def test_the_key_is_absent_from_client_repr_and_str() -> None:
    client = whop_dm.AsyncClient(API_KEY, base_url="http://127.0.0.1:9/api/v1")
    assert API_KEY not in repr(client)
    assert API_KEY not in str(client)
    await client.aclose()


async def test_the_key_is_absent_from_errors_even_when_the_server_echoes_it(
    scripted_server: ScriptedServer,
) -> None:
    echoed = f'{{"error": {{"type": "unauthorized", "message": "bad key {API_KEY}"}}}}'
    scripted_server.answer(raw_answer(echoed.encode(), 401))
    async with scripted_server.client() as client:
        with pytest.raises(whop_dm.AuthenticationError) as caught:
            await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    error = caught.value
    for text in (str(error), repr(error), error.message, repr(error.body)):
        assert API_KEY not in text
    assert "***" in error.message


async def test_the_key_is_absent_from_a_malformed_success_body(
    scripted_server: ScriptedServer,
) -> None:
    scripted_server.answer(raw_answer(f"<oops {API_KEY}".encode()))
    async with scripted_server.client() as client:
        with pytest.raises(whop_dm.ResponseDecodeError) as caught:
            await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    assert API_KEY not in caught.value.body
    assert API_KEY not in str(caught.value)


async def test_debug_and_warning_logs_never_carry_the_key(
    scripted_server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    down = {"error": {"type": "internal_server_error", "message": "down"}}
    scripted_server.answer(json_answer(down, 503), json_answer(MEMBER))
    with caplog.at_level(logging.DEBUG):
        async with scripted_server.client() as client:
            await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    lines = [record.getMessage() for record in caplog.records]
    assert any("POST /dm_members -> 503" in line for line in lines)
    assert any("retrying" in line for line in lines)
    assert all(API_KEY not in line for line in lines)


def test_a_bad_key_is_refused_without_echoing_it() -> None:
    with pytest.raises(ValueError, match="line breaks") as caught:
        whop_dm.AsyncClient("sk_live_abc\n123")
    assert "sk_live_abc" not in str(caught.value)
