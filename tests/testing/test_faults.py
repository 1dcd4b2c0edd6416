"""Injected faults: scripted failures, drops, delays, malformed bodies, chaos."""

from __future__ import annotations

import json
import time

import aiohttp
import pytest

from whop_dm.testing import FakeWhop

from ._api import Api

BODY = {"with_user_ids": ["user_bob"]}


async def test_fail_next_answers_the_status_with_the_envelope(alice: Api) -> None:
    alice.fake.fail_next(2, status=503)
    for _ in range(2):
        answer = await alice.post("/dm_channels", BODY)
        assert answer.status == 503
        assert answer.error["type"] == "service_unavailable"
        assert "Retry-After" not in answer.headers
    assert (await alice.post("/dm_channels", BODY)).status == 200


async def test_fail_next_429_says_the_wait_in_body_and_header(alice: Api) -> None:
    alice.fake.fail_next(1, status=429, retry_after=3)
    answer = await alice.post("/dm_channels", BODY)
    assert answer.status == 429
    assert answer.json == {
        "error": {
            "type": "rate_limit_exceeded",
            "message": "Try again in 3 seconds.",
            "code": None,
            "param": None,
        }
    }
    assert answer.headers["Retry-After"] == "3"


async def test_fail_next_429_without_header_keeps_the_wait_in_the_message(alice: Api) -> None:
    alice.fake.fail_next(1, status=429, retry_after=7, header=False)
    answer = await alice.post("/dm_channels", BODY)
    assert answer.error["message"] == "Try again in 7 seconds."
    assert "Retry-After" not in answer.headers


async def test_fail_next_can_send_retry_after_ms(alice: Api) -> None:
    alice.fake.fail_next(1, status=503, retry_after_ms=250)
    answer = await alice.post("/dm_channels", BODY)
    assert answer.headers["retry-after-ms"] == "250"


async def test_fault_before_handling_leaves_state_unchanged(alice: Api, fake: FakeWhop) -> None:
    fake.fail_next(1, status=500)
    fake.malformed_next(1)
    fake.drop_next(1)
    assert (await alice.post("/dm_channels", BODY)).status == 500
    async with alice.session.post(
        fake.base_url + "/dm_channels", json=BODY, headers={"Authorization": "Bearer key_alice"}
    ) as response:
        assert response.status == 200  # malformed: not validated on purpose
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await alice.post("/dm_channels", BODY)
    assert fake.channels == {}
    assert len(fake.requests) == 3  # faulted requests are recorded all the same


async def test_fail_after_handling_keeps_the_state_change(alice: Api, fake: FakeWhop) -> None:
    fake.fail_next(1, status=502, after=True)
    answer = await alice.post("/dm_channels", BODY)
    assert answer.status == 502
    assert len(fake.channels) == 1


@pytest.mark.parametrize("path", ["/dm_members", "/api/v1/dm_members", "dm_members"])
async def test_faults_scoped_to_a_path_spare_the_others(alice: Api, path: str) -> None:
    alice.fake.fail_next(1, status=500, path=path)
    channel = await alice.channel("user_bob")  # not faulted
    answer = await alice.post("/dm_members", {"channel_id": channel["id"], "user_id": "user_carol"})
    assert answer.status == 500


async def test_faults_may_name_a_route_template(alice: Api) -> None:
    channel = await alice.channel("user_bob")
    alice.fake.fail_next(1, status=500, path="/dm_channels/{id}")
    assert (await alice.get("/dm_channels")).status == 200
    assert (await alice.get(f"/dm_channels/{channel['id']}")).status == 500


async def test_faults_may_name_a_method(alice: Api) -> None:
    alice.fake.fail_next(1, status=500, method="GET")
    assert (await alice.post("/dm_channels", BODY)).status == 200
    assert (await alice.get("/dm_channels")).status == 500


async def test_drop_next_closes_the_connection_without_an_answer(alice: Api) -> None:
    # POST: aiohttp itself retries a GET or DELETE once on a dropped connection.
    alice.fake.drop_next(1)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await alice.post("/dm_channels", BODY)
    assert (await alice.post("/dm_channels", BODY)).status == 200


async def test_delay_next_holds_the_request(alice: Api) -> None:
    alice.fake.delay_next(1, 1.0)
    started = time.monotonic()
    assert (await alice.post("/dm_channels", BODY)).status == 200
    assert time.monotonic() - started >= 1.0
    # Only the next one: a held call would take a second; a loaded machine
    # answers a loopback GET well within that.
    started = time.monotonic()
    await alice.get("/dm_channels")
    assert time.monotonic() - started < 1.0


async def test_delay_combines_with_a_failure(alice: Api) -> None:
    alice.fake.delay_next(1, 0.15)
    alice.fake.fail_next(1, status=503)
    started = time.monotonic()
    assert (await alice.post("/dm_channels", BODY)).status == 503
    assert time.monotonic() - started >= 0.15


async def test_malformed_next_answers_200_with_a_body_that_is_not_json(alice: Api) -> None:
    alice.fake.malformed_next(1)
    async with alice.session.get(
        alice.fake.base_url + "/dm_channels", headers={"Authorization": "Bearer key_alice"}
    ) as response:
        assert response.status == 200
        assert response.content_type == "application/json"
        with pytest.raises(ValueError, match="char"):
            json.loads(await response.text())


async def test_reset_faults_forgets_every_script(alice: Api) -> None:
    alice.fake.fail_next(5)
    alice.fake.chaos(1.0)
    alice.fake.reset_faults()
    assert (await alice.get("/dm_channels")).status == 200


async def _chaos_run(session: aiohttp.ClientSession, seed: int) -> list[str]:
    outcomes = []
    async with FakeWhop() as fake:
        fake.add_user("user_a")
        fake.add_user("user_bob")
        fake.add_api_key("k", user_id="user_a")
        fake.chaos(0.5, seed=seed)
        api = Api(session, fake, "k")
        for _ in range(40):
            try:
                answer = await api.post("/dm_channels", BODY)
            except aiohttp.ServerDisconnectedError:
                outcomes.append("drop")
            else:
                outcomes.append(str(answer.status))
                if answer.status == 429:
                    assert answer.headers["Retry-After"] == "0"
    return outcomes


async def test_chaos_is_repeatable_by_seed(session: aiohttp.ClientSession) -> None:
    first = await _chaos_run(session, seed=7)
    assert first == await _chaos_run(session, seed=7)
    assert first != await _chaos_run(session, seed=8)
    assert {"200", "429", "drop"} <= set(first)
    assert any(o.startswith("5") for o in first)


async def test_chaos_zero_turns_it_off(alice: Api) -> None:
    alice.fake.chaos(1.0, seed=1, kinds=("5xx",))
    assert (await alice.get("/dm_channels")).status >= 500
    alice.fake.chaos(0)
    assert all([(await alice.get("/dm_channels")).status == 200 for _ in range(5)])


def test_bad_fault_arguments_are_refused() -> None:
    fake = FakeWhop()
    with pytest.raises(ValueError, match="count"):
        fake.fail_next(0)
    with pytest.raises(ValueError, match="status"):
        fake.fail_next(1, status=200)
    with pytest.raises(ValueError, match="rate"):
        fake.chaos(1.5)


async def test_malformed_after_handling_keeps_the_state_change(alice: Api, fake: FakeWhop) -> None:
    fake.malformed_next(1, path="/dm_channels", after=True)
    async with alice.session.post(
        fake.base_url + "/dm_channels", json=BODY, headers={"Authorization": "Bearer key_alice"}
    ) as response:
        assert response.status == 200
        assert not (await response.text()).endswith("}")
    assert len(fake.channels) == 1
