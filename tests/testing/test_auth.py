"""Keys and scopes."""

from __future__ import annotations

import pytest

from whop_dm.testing import FakeWhop

from ._api import Api

UNAUTHORIZED = {
    "error": {
        "type": "unauthorized",
        "message": "Invalid or missing API key",
        "code": None,
        "param": None,
    }
}


@pytest.mark.parametrize("key", [None, "key_unknown"])
async def test_missing_or_unknown_key_is_401_with_the_envelope(alice: Api, key: str | None) -> None:
    answer = await alice.as_key(key).post("/dm_channels", {"with_user_ids": ["user_bob"]})
    assert (answer.status, answer.json) == (401, UNAUTHORIZED)


async def test_key_without_bearer_scheme_is_401(alice: Api) -> None:
    answer = await alice.as_key(None).call(
        "GET", "/dm_channels", headers={"Authorization": "key_alice"}
    )
    assert answer.status == 401


@pytest.mark.parametrize(
    ("method", "path", "body", "scope"),
    [
        ("POST", "/dm_channels", {"with_user_ids": ["user_bob"]}, "dms:channel:manage"),
        (
            "POST",
            "/dm_members",
            {"channel_id": "feed_x", "user_id": "user_bob"},
            "dms:channel:manage",
        ),
        ("POST", "/messages", {"channel_id": "feed_x", "content": "hi"}, "dms:message:manage"),
        ("GET", "/dm_channels", None, "dms:read"),
        ("DELETE", "/dm_channels/feed_x", None, "dms:channel:manage"),
        ("PATCH", "/messages/msg_x", {"content": "x"}, "dms:message:manage"),
    ],
)
async def test_key_lacking_the_scope_is_403(
    alice: Api, fake: FakeWhop, method: str, path: str, body: object, scope: str
) -> None:
    others = {"dms:read", "dms:channel:manage", "dms:message:manage"} - {scope}
    fake.add_api_key("key_narrow", user_id="user_alice", scopes=others)
    answer = await alice.as_key("key_narrow").call(method, path, json_body=body)
    assert answer.status == 403
    assert answer.error["type"] == "forbidden"
    assert scope in answer.error["message"]


async def test_read_only_key_reads_but_does_not_write(alice: Api, fake: FakeWhop) -> None:
    channel = await alice.channel("user_bob")
    fake.add_api_key("key_reader", user_id="user_alice", scopes=["dms:read"])
    reader = alice.as_key("key_reader")
    assert (await reader.get(f"/dm_channels/{channel['id']}")).status == 200
    assert (
        await reader.post("/messages", {"channel_id": channel["id"], "content": "x"})
    ).status == 403
    assert fake.messages == []


async def test_unknown_endpoint_answers_404_with_the_envelope(alice: Api) -> None:
    answer = await alice.call("PUT", "/dm_channels")
    assert answer.status == 404
    assert answer.error["type"] == "not_found"


async def test_every_answer_carries_a_request_id(alice: Api) -> None:
    ok = await alice.get("/dm_channels")
    bad = await alice.as_key(None).get("/dm_channels")
    assert ok.headers["x-request-id"] != bad.headers["x-request-id"]
