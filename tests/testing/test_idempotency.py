"""Idempotency-Key: replay, refusal of another body, 409 while in flight."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from whop_dm.testing import FakeWhop

from ._api import Api

BODY = {"with_user_ids": ["user_bob"], "custom_name": "Once"}


async def test_same_key_and_body_replays_the_first_answer(alice: Api, fake: FakeWhop) -> None:
    key = {"Idempotency-Key": "k-1"}
    first = await alice.post("/dm_channels", BODY, headers=key)
    # the state moves on, but the replay must still be the first answer
    await alice.patch(f"/dm_channels/{first.json['id']}", {"custom_name": "Later"})
    again = await alice.post("/dm_channels", BODY, headers=key)
    assert (again.status, again.text) == (first.status, first.text)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(fake.channels) == 1


async def test_a_4xx_answer_is_replayed_too(alice: Api, fake: FakeWhop) -> None:
    key = {"Idempotency-Key": "k-404"}
    body = {"with_user_ids": ["user_zed"]}
    first = await alice.post("/dm_channels", body, headers=key)
    assert first.status == 404
    fake.add_user("user_zed")
    again = await alice.post("/dm_channels", body, headers=key)
    assert (again.status, again.text) == (404, first.text)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert fake.channels == {}


async def test_same_idempotency_key_with_other_body_is_refused(alice: Api, fake: FakeWhop) -> None:
    key = {"Idempotency-Key": "k-2"}
    await alice.post("/dm_channels", BODY, headers=key)
    other = await alice.post("/dm_channels", {"with_user_ids": ["user_carol"]}, headers=key)
    assert other.status == 400
    assert other.error["type"] == "invalid_request_error"
    assert "same" in other.error["message"]
    assert len(fake.channels) == 1


async def test_same_key_on_another_path_is_refused(alice: Api) -> None:
    key = {"Idempotency-Key": "k-3"}
    channel = (await alice.post("/dm_channels", BODY, headers=key)).json
    other = await alice.post(
        "/messages", {"channel_id": channel["id"], "content": "x"}, headers=key
    )
    assert other.status == 400


async def test_same_json_written_differently_is_the_same_request(alice: Api) -> None:
    key = {"Idempotency-Key": "k-4"}
    first = await alice.call(
        "POST", "/dm_channels", data=b'{"with_user_ids":["user_bob"]}', headers=key
    )
    again = await alice.call(
        "POST", "/dm_channels", data=b'{ "with_user_ids" : [ "user_bob" ] }', headers=key
    )
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json == first.json


async def test_keys_belong_to_their_api_key(alice: Api, bob: Api, fake: FakeWhop) -> None:
    key = {"Idempotency-Key": "shared"}
    await alice.post("/dm_channels", {"with_user_ids": ["user_carol"]}, headers=key)
    answer = await bob.post("/dm_channels", {"with_user_ids": ["user_dave"]}, headers=key)
    assert answer.status == 200
    assert "Idempotent-Replayed" not in answer.headers
    assert len(fake.channels) == 2


async def test_same_key_while_the_first_is_in_flight_is_409(alice: Api, fake: FakeWhop) -> None:
    # Held long enough that the second request surely arrives meanwhile.
    fake.delay_next(1, 1.5, path="/dm_channels")
    key = {"Idempotency-Key": "k-slow"}
    slow = asyncio.create_task(alice.post("/dm_channels", BODY, headers=key))
    for _ in range(100):  # until the first request is held by the fake
        if fake.requests:
            break
        await asyncio.sleep(0.01)
    second = await alice.post("/dm_channels", BODY, headers=key)
    assert second.status == 409
    assert second.error["type"] == "idempotency_error"
    first = await asyncio.wait_for(slow, 5)
    assert first.status == 200
    assert len(fake.channels) == 1


async def test_key_longer_than_255_bytes_is_refused(alice: Api, fake: FakeWhop) -> None:
    answer = await alice.post("/dm_channels", BODY, headers={"Idempotency-Key": "k" * 256})
    assert (answer.status, answer.error["param"]) == (400, "Idempotency-Key")
    assert fake.channels == {}
    ok = await alice.post("/dm_channels", BODY, headers={"Idempotency-Key": "k" * 255})
    assert ok.status == 200


async def test_answer_lost_after_handling_is_replayed_on_retry(alice: Api, fake: FakeWhop) -> None:
    fake.drop_next(1, path="/dm_members", after=True)
    channel = await alice.channel("user_bob")
    body = {"channel_id": channel["id"], "user_id": "user_carol"}
    key = {"Idempotency-Key": "k-lost"}
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await alice.post("/dm_members", body, headers=key)
    assert len(fake.members_of(channel["id"])) == 3  # handled all the same
    retry = await alice.post("/dm_members", body, headers=key)
    assert retry.status == 200
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert len(fake.members_of(channel["id"])) == 3
