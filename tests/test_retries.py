"""The retry policy end to end: what is retried, how long it waits, when it stops."""

from __future__ import annotations

import email.utils
import socket
import time
from typing import Any

import pytest
from conftest import Sleeps
from scripted import CHANNEL, MEMBER, ScriptedServer, json_answer, slow_answer

import whop_dm

DOWN = {"error": {"type": "internal_server_error", "message": "An unexpected error occurred"}}
LIMITED = {"error": {"type": "rate_limit_exceeded", "message": "Too many requests."}}


async def test_503_503_200_succeeds_on_the_third_attempt(
    scripted_server: ScriptedServer, sleeps: Sleeps
) -> None:
    scripted_server.answer(json_answer(DOWN, 503), json_answer(DOWN, 503), json_answer(MEMBER))
    async with scripted_server.client(retry=sleeps.policy()) as client:
        member = await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    assert member.id == "dmm_1"
    assert len(scripted_server.seen) == 3
    assert len(sleeps.waits) == 2
    # Exponential backoff: 0.5 then 1.0, each plus up to 0.5 of jitter.
    assert 0.5 <= sleeps.waits[0] <= 1.0
    assert 1.0 <= sleeps.waits[1] <= 1.5


async def test_the_last_error_is_raised_when_attempts_run_out(
    scripted_server: ScriptedServer, sleeps: Sleeps
) -> None:
    scripted_server.answer(json_answer(DOWN, 503))
    async with scripted_server.client(retry=sleeps.policy(max_attempts=4)) as client:
        with pytest.raises(whop_dm.InternalServerError):
            await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    assert len(scripted_server.seen) == 4


async def test_429_with_retry_after_waits_that_long(
    scripted_server: ScriptedServer, sleeps: Sleeps
) -> None:
    scripted_server.answer(json_answer(LIMITED, 429, {"Retry-After": "1"}), json_answer(MEMBER))
    async with scripted_server.client(retry=sleeps.policy()) as client:
        await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    # The retry waits what the header says (the client-wide pause then has
    # nothing left to hold, except in this test where no time really passes).
    assert sleeps.waits[0] == 1.0
    assert len(scripted_server.seen) == 2


async def test_an_http_date_retry_after_is_honoured(
    scripted_server: ScriptedServer, sleeps: Sleeps
) -> None:
    when = email.utils.formatdate(time.time() + 5, usegmt=True)
    scripted_server.answer(json_answer(LIMITED, 429, {"Retry-After": when}), json_answer(MEMBER))
    async with scripted_server.client(retry=sleeps.policy()) as client:
        await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    assert 3.0 <= sleeps.waits[0] <= 5.0


async def test_retry_after_ms_is_honoured(scripted_server: ScriptedServer, sleeps: Sleeps) -> None:
    scripted_server.answer(
        json_answer(LIMITED, 429, {"retry-after-ms": "1500"}), json_answer(MEMBER)
    )
    async with scripted_server.client(retry=sleeps.policy()) as client:
        await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    assert sleeps.waits[0] == 1.5


async def test_a_retry_after_longer_than_the_cap_raises_at_once(
    scripted_server: ScriptedServer, sleeps: Sleeps
) -> None:
    scripted_server.answer(json_answer(LIMITED, 429, {"Retry-After": "3600"}), json_answer(MEMBER))
    async with scripted_server.client(retry=sleeps.policy()) as client:
        with pytest.raises(whop_dm.RateLimitError) as caught:
            await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    assert caught.value.retry_after == 3600.0
    assert sleeps.waits == []
    assert len(scripted_server.seen) == 1


async def test_whops_try_again_message_gives_the_wait_when_no_header(
    scripted_server: ScriptedServer, sleeps: Sleeps
) -> None:
    body = {"error": {"type": "rate_limit_exceeded", "message": "Try again in 1 seconds."}}
    scripted_server.answer(json_answer(body, 429), json_answer(MEMBER))
    async with scripted_server.client(retry=sleeps.policy()) as client:
        await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    assert sleeps.waits[0] == 1.0


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
async def test_refusals_are_sent_once(
    scripted_server: ScriptedServer, sleeps: Sleeps, status: int
) -> None:
    scripted_server.answer(json_answer({"error": {"type": "x", "message": "no"}}, status))
    async with scripted_server.client(retry=sleeps.policy()) as client:
        with pytest.raises(whop_dm.APIError):
            await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    assert len(scripted_server.seen) == 1
    assert sleeps.waits == []


def _refusing_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_refused_connection_is_an_api_connection_error_after_max_attempts(
    sleeps: Sleeps,
) -> None:
    base = f"http://127.0.0.1:{_refusing_port()}/api/v1"
    async with whop_dm.AsyncClient("k", base_url=base, retry=sleeps.policy()) as client:
        with pytest.raises(whop_dm.APIConnectionError) as caught:
            await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    assert not isinstance(caught.value, whop_dm.APITimeoutError)
    assert caught.value.__cause__ is not None
    assert len(sleeps.waits) == 2  # three attempts


async def test_a_server_slower_than_the_timeout_gives_api_timeout_error(
    scripted_server: ScriptedServer, sleeps: Sleeps
) -> None:
    scripted_server.answer(slow_answer(2.0, MEMBER))
    async with scripted_server.client(
        retry=sleeps.policy(max_attempts=2), timeout=whop_dm.Timeout(total=0.2)
    ) as client:
        with pytest.raises(whop_dm.APITimeoutError) as caught:
            await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    assert isinstance(caught.value, whop_dm.APIConnectionError)
    assert caught.value.__cause__ is not None
    assert len(scripted_server.seen) == 2


async def test_the_idempotency_key_is_the_same_across_attempts_of_one_call(
    scripted_server: ScriptedServer,
) -> None:
    scripted_server.answer(json_answer(DOWN, 503), json_answer(DOWN, 500), json_answer(MEMBER))
    async with scripted_server.client() as client:
        await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    keys = {seen.headers["Idempotency-Key"] for seen in scripted_server.seen}
    assert len(scripted_server.seen) == 3
    assert len(keys) == 1


async def test_the_idempotency_key_differs_between_calls(scripted_server: ScriptedServer) -> None:
    scripted_server.answer(json_answer(CHANNEL))
    async with scripted_server.client() as client:
        for _ in range(3):
            await client.dm_channels.create(with_user_ids=["user_b"])
    keys = [seen.headers["Idempotency-Key"] for seen in scripted_server.seen]
    assert len(set(keys)) == 3


async def test_a_callers_idempotency_key_is_sent_on_every_attempt(
    scripted_server: ScriptedServer,
) -> None:
    scripted_server.answer(json_answer(DOWN, 502), json_answer(MEMBER))
    async with scripted_server.client() as client:
        await client.dm_members.create(channel_id="c", user_id="u", idempotency_key="job-7-item-3")
    assert [s.headers["Idempotency-Key"] for s in scripted_server.seen] == ["job-7-item-3"] * 2


async def test_409_while_the_first_request_runs_is_retried(
    scripted_server: ScriptedServer,
) -> None:
    busy = {"error": {"type": "idempotency_error", "message": "still processing"}}
    scripted_server.answer(json_answer(busy, 409), json_answer(MEMBER))
    async with scripted_server.client() as client:
        member = await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    assert member.id == "dmm_1"


async def test_disabled_policy_makes_one_attempt(scripted_server: ScriptedServer) -> None:
    scripted_server.answer(json_answer(DOWN, 503), json_answer(MEMBER))
    async with scripted_server.client(retry=whop_dm.RetryPolicy.disabled()) as client:
        with pytest.raises(whop_dm.InternalServerError):
            await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    assert len(scripted_server.seen) == 1


async def test_the_deadline_stops_retries_that_would_sleep_past_it(
    scripted_server: ScriptedServer, sleeps: Sleeps
) -> None:
    scripted_server.answer(json_answer(LIMITED, 429, {"Retry-After": "30"}), json_answer(MEMBER))
    policy = sleeps.policy(max_attempts=5, deadline=10.0)
    async with scripted_server.client(retry=policy) as client:
        with pytest.raises(whop_dm.RateLimitError):
            await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    assert len(scripted_server.seen) == 1


async def test_each_retry_is_reported_to_on_retry_and_logged(
    scripted_server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    events: list[whop_dm.RetryEvent] = []
    scripted_server.answer(json_answer(DOWN, 503), json_answer(MEMBER))
    async with scripted_server.client(on_retry=events.append) as client:
        with caplog.at_level("WARNING", logger="whop_dm"):
            await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    assert [(e.method, e.path, e.attempt) for e in events] == [("POST", "/dm_members", 1)]
    assert isinstance(events[0].cause, whop_dm.InternalServerError)
    assert any("retrying POST /dm_members" in r.getMessage() for r in caplog.records)


def test_policy_values_are_checked() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        whop_dm.RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="initial_backoff"):
        whop_dm.RetryPolicy(initial_backoff=-1)
    with pytest.raises(ValueError, match="retry_statuses"):
        whop_dm.RetryPolicy(retry_statuses={99})


def test_the_default_policy_is_the_documented_one() -> None:
    policy = whop_dm.RetryPolicy()
    assert policy.max_attempts == 3
    assert policy.initial_backoff == 0.5
    assert policy.max_backoff == 8.0
    assert policy.deadline == 60.0
    assert policy.max_retry_after == 60.0
    assert policy.retry_statuses == {408, 409, 429, 500, 502, 503, 504}
    assert whop_dm.RetryPolicy.disabled().max_attempts == 1


async def test_after_a_too_long_retry_after_other_calls_fail_without_a_request(
    scripted_server: ScriptedServer, sleeps: Sleeps
) -> None:
    scripted_server.answer(json_answer(LIMITED, 429, {"Retry-After": "3600"}), json_answer(MEMBER))
    async with scripted_server.client(retry=sleeps.policy()) as client:
        with pytest.raises(whop_dm.RateLimitError):
            await client.dm_members.create(channel_id="feed_1", user_id="user_c")
        with pytest.raises(whop_dm.RateLimitError) as caught:
            await client.dm_members.create(channel_id="feed_1", user_id="user_d")
    assert caught.value.retry_after is not None
    assert caught.value.retry_after > 3000
    assert len(scripted_server.seen) == 1
    assert sleeps.waits == []


# -- one decision per error, one loop per call -------------------------------------------


async def test_the_policy_decides_once_per_failed_attempt(
    scripted_server: ScriptedServer, sleeps: Sleeps, monkeypatch: pytest.MonkeyPatch
) -> None:
    decided: list[tuple[type[BaseException], int]] = []
    decide = whop_dm.RetryPolicy.decide

    def counting(self: whop_dm.RetryPolicy, exc: BaseException, attempt: int) -> float | None:
        decided.append((type(exc), attempt))
        return decide(self, exc, attempt)

    monkeypatch.setattr(whop_dm.RetryPolicy, "decide", counting)
    scripted_server.answer(json_answer(DOWN, 503), json_answer(LIMITED, 429), json_answer(MEMBER))
    async with scripted_server.client(retry=sleeps.policy()) as client:
        await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    assert decided == [(whop_dm.InternalServerError, 1), (whop_dm.RateLimitError, 2)]


async def test_a_refusal_is_decided_once_and_raised(
    scripted_server: ScriptedServer, sleeps: Sleeps, monkeypatch: pytest.MonkeyPatch
) -> None:
    decided: list[int] = []
    decide = whop_dm.RetryPolicy.decide

    def counting(self: whop_dm.RetryPolicy, exc: BaseException, attempt: int) -> float | None:
        decided.append(attempt)
        return decide(self, exc, attempt)

    monkeypatch.setattr(whop_dm.RetryPolicy, "decide", counting)
    scripted_server.answer(json_answer({"error": {"type": "x", "message": "no"}}, 404))
    async with scripted_server.client(retry=sleeps.policy()) as client:
        with pytest.raises(whop_dm.NotFoundError):
            await client.dm_members.retrieve("dmm_1")
    assert decided == [1]


def test_a_dropped_connection_is_retried_for_every_method() -> None:
    # Every request may be sent twice: GETs by nature, the rest with an
    # Idempotency-Key that is the same on every attempt.
    policy = whop_dm.RetryPolicy(jitter=0.0)
    assert policy.decide(whop_dm.APIConnectionError("reset"), 1) == 0.5
    assert policy.decide(whop_dm.APITimeoutError("slow"), 2) == 1.0


def test_a_retry_after_past_the_cap_is_given_up_at_once() -> None:
    policy = whop_dm.RetryPolicy(max_retry_after=10.0)
    limited = whop_dm.RateLimitError("slow down", status_code=429, retry_after=11.0)
    assert policy.decide(limited, 1) is None


async def test_each_attempt_carries_the_operation_template(
    scripted_server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from whop_dm._transport import Request, Transport

    seen: list[tuple[str, str, int]] = []
    attempt = Transport._attempt

    async def recording(self: Transport, request: Request, number: int, *rest: Any) -> object:
        seen.append((request.operation, request.path, number))
        return await attempt(self, request, number, *rest)

    monkeypatch.setattr(Transport, "_attempt", recording)
    scripted_server.answer(json_answer(DOWN, 503), json_answer(MEMBER), json_answer(MEMBER))
    async with scripted_server.client() as client:
        await client.dm_members.create(channel_id="feed_1", user_id="user_c")
        await client.dm_members.retrieve("dmm/1")
    assert seen == [
        ("POST /dm_members", "/dm_members", 1),
        ("POST /dm_members", "/dm_members", 2),
        ("GET /dm_members/{id}", "/dm_members/dmm%2F1", 1),
    ]


async def test_a_call_leaves_no_reference_cycle_behind() -> None:
    # Each call's tenacity loop and Request are freed by reference counting as
    # soon as the call returns, not left for the cyclic collector: a long bulk
    # run would otherwise carry them until a full collection (memory grows with n).
    import gc

    from whop_dm._transport import Request
    from whop_dm.testing import FakeWhop

    async with FakeWhop() as fake:
        fake.add_user("user_owner")
        fake.add_user("user_bob")
        fake.add_api_key("key_owner", user_id="user_owner")
        async with whop_dm.AsyncClient("key_owner", base_url=fake.base_url) as client:
            channel = await client.dm_channels.create(with_user_ids=["user_bob"])
            gc.collect()
            gc.set_debug(gc.DEBUG_SAVEALL)
            try:
                for _ in range(20):
                    await client.dm_channels.retrieve(channel.id)
                    await client.dm_members.create(channel_id=channel.id, user_id="user_bob")
                gc.collect()
                # This test's calls only: garbage another test left may be
                # collected here too.
                ours = [
                    o
                    for o in gc.garbage
                    if isinstance(o, Request)
                    and (channel.id in o.path or channel.id.encode() in (o.body or b""))
                ]
            finally:
                gc.set_debug(0)
                gc.garbage.clear()
    assert ours == []
