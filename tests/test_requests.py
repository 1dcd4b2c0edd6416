"""What goes on the wire: paths, bodies exactly as the spec has them, headers."""

from __future__ import annotations

import platform

import aiohttp
import pytest
from scripted import API_KEY, CHANNEL, MEMBER, ScriptedServer, json_answer

import whop_dm


async def test_create_channel_sends_exactly_the_spec_body(scripted_server: ScriptedServer) -> None:
    scripted_server.answer(json_answer(CHANNEL))
    async with scripted_server.client() as client:
        channel = await client.dm_channels.create(
            with_user_ids=["user_a", "bob@example.com"], company_id="biz_1", custom_name="Team"
        )
    seen = scripted_server.seen[0]
    assert (seen.method, seen.path) == ("POST", "/api/v1/dm_channels")
    assert seen.json == {
        "with_user_ids": ["user_a", "bob@example.com"],
        "company_id": "biz_1",
        "custom_name": "Team",
    }
    assert seen.headers["Content-Type"] == "application/json"
    assert channel.name == "Launch team"


async def test_omitted_optionals_are_left_out_not_sent_as_null(
    scripted_server: ScriptedServer,
) -> None:
    scripted_server.answer(json_answer(CHANNEL))
    async with scripted_server.client() as client:
        await client.dm_channels.create(with_user_ids=("user_a",))
    assert scripted_server.seen[0].json == {"with_user_ids": ["user_a"]}


async def test_create_member_sends_exactly_the_spec_body(scripted_server: ScriptedServer) -> None:
    scripted_server.answer(json_answer(MEMBER))
    async with scripted_server.client() as client:
        member = await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    seen = scripted_server.seen[0]
    assert (seen.method, seen.path) == ("POST", "/api/v1/dm_members")
    assert seen.json == {"channel_id": "feed_1", "user_id": "user_c"}
    assert member.user_id == "user_c"


async def test_every_request_carries_auth_user_agent_and_an_idempotency_key(
    scripted_server: ScriptedServer,
) -> None:
    scripted_server.answer(json_answer(MEMBER))
    async with scripted_server.client(api_version="2025-01-01") as client:
        await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    headers = scripted_server.seen[0].headers
    assert headers["Authorization"] == f"Bearer {API_KEY}"
    python = ".".join(platform.python_version_tuple()[:2])
    assert headers["User-Agent"] == (
        f"whop-dm/{whop_dm.__version__} python/{python} aiohttp/{aiohttp.__version__}"
    )
    assert headers["Api-Version-Date"] == "2025-01-01"
    assert len(headers["Idempotency-Key"]) == 36  # a uuid4


async def test_extra_headers_are_sent(scripted_server: ScriptedServer) -> None:
    scripted_server.answer(json_answer(MEMBER))
    async with scripted_server.client(headers={"X-Team": "growth"}) as client:
        await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    assert scripted_server.seen[0].headers["X-Team"] == "growth"


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"with_user_ids": []}, ValueError, "with_user_ids"),
        ({"with_user_ids": "user_a"}, TypeError, "with_user_ids"),
        ({"with_user_ids": ["user_a", ""]}, ValueError, r"with_user_ids\[1\]"),
        ({"with_user_ids": ["  "]}, ValueError, "with_user_ids"),
        ({"with_user_ids": [7]}, TypeError, "with_user_ids"),
        ({"with_user_ids": None}, TypeError, "with_user_ids"),
        ({"with_user_ids": ["a"], "company_id": ""}, ValueError, "company_id"),
        ({"with_user_ids": ["a"], "company_id": 5}, TypeError, "company_id"),
        ({"with_user_ids": ["a"], "custom_name": 5}, TypeError, "custom_name"),
        ({"with_user_ids": ["a\r\nX-Evil: 1"]}, ValueError, "with_user_ids"),
        ({"with_user_ids": ["a"], "idempotency_key": "has space"}, ValueError, "idempotency"),
        ({"with_user_ids": ["a"], "idempotency_key": "k" * 256}, ValueError, "idempotency"),
    ],
)
async def test_bad_channel_arguments_raise_before_anything_is_sent(
    scripted_server: ScriptedServer, kwargs: dict[str, object], error: type[Exception], name: str
) -> None:
    scripted_server.answer(json_answer(CHANNEL))
    async with scripted_server.client() as client:
        with pytest.raises(error, match=name):
            await client.dm_channels.create(**kwargs)  # type: ignore[arg-type]
    assert scripted_server.seen == []


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"channel_id": "", "user_id": "u"}, ValueError, "channel_id"),
        ({"channel_id": "c", "user_id": " "}, ValueError, "user_id"),
        ({"channel_id": None, "user_id": "u"}, TypeError, "channel_id"),
        ({"channel_id": "c", "user_id": 12}, TypeError, "user_id"),
        ({"channel_id": "c\n", "user_id": "u"}, ValueError, "channel_id"),
        ({"channel_id": "c", "user_id": "u\x00"}, ValueError, "user_id"),
    ],
)
async def test_bad_member_arguments_raise_before_anything_is_sent(
    scripted_server: ScriptedServer, kwargs: dict[str, object], error: type[Exception], name: str
) -> None:
    scripted_server.answer(json_answer(MEMBER))
    async with scripted_server.client() as client:
        with pytest.raises(error, match=name):
            await client.dm_members.create(**kwargs)  # type: ignore[arg-type]
    assert scripted_server.seen == []


async def test_unicode_survives_the_round_trip(scripted_server: ScriptedServer) -> None:
    scripted_server.answer(json_answer(CHANNEL))
    async with scripted_server.client() as client:
        await client.dm_channels.create(with_user_ids=["user_a"], custom_name="Équipe 🚀")
    assert scripted_server.seen[0].json["custom_name"] == "Équipe 🚀"


def test_generated_idempotency_keys_are_random_uuid4s() -> None:
    import uuid

    from whop_dm._transport import new_idempotency_key

    keys = {new_idempotency_key() for _ in range(1000)}
    assert len(keys) == 1000
    for key in list(keys)[:50]:
        parsed = uuid.UUID(key)
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
        assert str(parsed) == key
