"""``on_request`` / ``on_response`` hooks and ``trace_configs``: what they see, in what order."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
import attrs
import pytest
from scripted import API_KEY, MEMBER, ScriptedServer, json_answer

import whop_dm
from whop_dm.testing import FakeWhop

DOWN = {"error": {"type": "internal_server_error", "message": "An unexpected error occurred"}}
LIMITED = {"error": {"type": "rate_limit_exceeded", "message": "Too many requests."}}


@attrs.define
class Recorder:
    """Every event both hooks received, in the order they came."""

    events: list[whop_dm.RequestEvent | whop_dm.ResponseEvent] = attrs.Factory(list)

    def hooks(self) -> dict[str, Any]:
        return {"on_request": self.events.append, "on_response": self.events.append}

    def summary(self) -> list[tuple[str, int, int | None]]:
        return [(type(e).__name__, e.attempt, getattr(e, "status", None)) for e in self.events]


def numbered(payload: Any, status: int, request_id: str, **headers: str) -> Any:
    """A handler answering ``payload`` with an ``x-request-id``."""
    return json_answer(payload, status, {"x-request-id": request_id, **headers})


async def test_a_call_answered_at_once_gives_one_event_of_each(
    scripted_server: ScriptedServer,
) -> None:
    scripted_server.answer(numbered(MEMBER, 200, "req_a"))
    seen = Recorder()
    async with scripted_server.client(**seen.hooks()) as client:
        await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    request, response = seen.events
    assert isinstance(request, whop_dm.RequestEvent)
    assert isinstance(response, whop_dm.ResponseEvent)
    assert (request.operation, request.attempt, request.request_id) == ("POST /dm_members", 1, None)
    assert request.held == 0.0
    assert request.elapsed >= 0.0
    assert (response.operation, response.attempt, response.status) == ("POST /dm_members", 1, 200)
    assert response.request_id == "req_a"
    assert response.elapsed >= 0.0
    assert response.held == 0.0


async def test_events_have_exactly_the_documented_fields() -> None:
    assert [f.name for f in attrs.fields(whop_dm.RequestEvent)] == [
        "operation",
        "attempt",
        "request_id",
        "elapsed",
        "held",
    ]
    assert [f.name for f in attrs.fields(whop_dm.ResponseEvent)] == [
        "operation",
        "attempt",
        "status",
        "request_id",
        "elapsed",
        "held",
    ]


async def test_each_retry_gives_a_request_then_a_response_event(
    scripted_server: ScriptedServer,
) -> None:
    scripted_server.answer(
        numbered(DOWN, 503, "req_1"), numbered(DOWN, 503, "req_2"), numbered(MEMBER, 200, "req_3")
    )
    seen = Recorder()
    async with scripted_server.client(**seen.hooks()) as client:
        await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    assert seen.summary() == [
        ("RequestEvent", 1, None),
        ("ResponseEvent", 1, 503),
        ("RequestEvent", 2, None),
        ("ResponseEvent", 2, 503),
        ("RequestEvent", 3, None),
        ("ResponseEvent", 3, 200),
    ]
    responses = [e for e in seen.events if isinstance(e, whop_dm.ResponseEvent)]
    assert [e.request_id for e in responses] == ["req_1", "req_2", "req_3"]


async def test_a_later_attempt_reports_the_time_since_the_call_began(
    scripted_server: ScriptedServer,
) -> None:
    scripted_server.answer(numbered(DOWN, 503, "req_1"), numbered(MEMBER, 200, "req_2"))
    seen = Recorder()
    async with scripted_server.client(**seen.hooks()) as client:
        await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    first, answer, second, _ = seen.events
    assert isinstance(answer, whop_dm.ResponseEvent)
    # The second attempt starts after the first one's answer came.
    assert second.elapsed >= first.elapsed + answer.elapsed


async def _short_sleep(seconds: float) -> None:
    # Real, but short: enough for the hold to be measured, not enough to slow the suite.
    await asyncio.sleep(min(seconds, 0.02))


async def test_a_429_is_reported_and_the_next_attempt_was_held(
    scripted_server: ScriptedServer,
) -> None:
    scripted_server.answer(
        numbered(LIMITED, 429, "req_1", **{"Retry-After": "1"}), numbered(MEMBER, 200, "req_2")
    )
    seen = Recorder()
    retry = whop_dm.RetryPolicy(sleep=_short_sleep)
    async with scripted_server.client(retry=retry, **seen.hooks()) as client:
        await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    assert seen.summary() == [
        ("RequestEvent", 1, None),
        ("ResponseEvent", 1, 429),
        ("RequestEvent", 2, None),
        ("ResponseEvent", 2, 200),
    ]
    first, first_answer, second, second_answer = seen.events
    assert first.held == 0.0
    assert first_answer.held == 0.0
    # The client-wide pause set by the 429 held the retry before it went out.
    assert second.held > 0.0
    assert second_answer.held == second.held


async def test_a_call_that_got_no_answer_reports_status_none(
    whop_fake: FakeWhop, whop_api_key: str
) -> None:
    whop_fake.add_user("user_bob")
    seen = Recorder()
    async with whop_dm.AsyncClient(
        whop_api_key,
        base_url=whop_fake.base_url,
        retry=whop_dm.RetryPolicy.instant(),
        **seen.hooks(),
    ) as client:
        whop_fake.drop_next(1, path="/dm_channels")
        await client.dm_channels.create(with_user_ids=["user_bob"])
    assert seen.summary() == [
        ("RequestEvent", 1, None),
        ("ResponseEvent", 1, None),
        ("RequestEvent", 2, None),
        ("ResponseEvent", 2, 200),
    ]
    dropped = seen.events[1]
    assert isinstance(dropped, whop_dm.ResponseEvent)
    assert dropped.request_id is None


async def test_a_refused_call_reports_its_status_and_request_id(
    scripted_server: ScriptedServer,
) -> None:
    refused = {"error": {"type": "not_found", "message": "No such channel."}}
    scripted_server.answer(numbered(refused, 404, "req_404"))
    seen = Recorder()
    async with scripted_server.client(**seen.hooks()) as client:
        with pytest.raises(whop_dm.NotFoundError):
            await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    assert seen.summary() == [("RequestEvent", 1, None), ("ResponseEvent", 1, 404)]
    assert seen.events[1].request_id == "req_404"


async def test_a_raising_request_hook_is_logged_and_the_call_goes_on(
    scripted_server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    scripted_server.answer(numbered(MEMBER, 200, "req_a"))

    def broken(event: whop_dm.RequestEvent) -> None:
        raise RuntimeError("metrics backend down")

    with caplog.at_level(logging.ERROR, logger="whop_dm"):
        async with scripted_server.client(on_request=broken) as client:
            member = await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    assert member.id == "dmm_1"
    (record,) = [r for r in caplog.records if r.name == "whop_dm"]
    assert "on_request" in record.getMessage()
    assert record.exc_info is not None
    assert record.exc_info[0] is RuntimeError
    assert record.__dict__["operation"] == "POST /dm_members"
    assert record.__dict__["attempt"] == 1


async def test_a_raising_response_hook_is_logged_and_retries_go_on(
    scripted_server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    scripted_server.answer(numbered(DOWN, 503, "req_1"), numbered(MEMBER, 200, "req_2"))
    calls: list[int] = []

    def broken(event: whop_dm.ResponseEvent) -> None:
        calls.append(event.attempt)
        raise ValueError("bad hook")

    with caplog.at_level(logging.ERROR, logger="whop_dm"):
        async with scripted_server.client(on_response=broken) as client:
            member = await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    assert member.id == "dmm_1"
    assert calls == [1, 2]
    failures = [r for r in caplog.records if "on_response" in r.getMessage()]
    assert [(r.__dict__["attempt"], r.__dict__["status"]) for r in failures] == [
        (1, 503),
        (2, 200),
    ]


def test_a_hook_that_cannot_be_called_is_refused_before_any_request() -> None:
    with pytest.raises(TypeError, match="on_request"):
        whop_dm.AsyncClient(API_KEY, on_request="print")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="on_response"):
        whop_dm.AsyncClient(API_KEY, on_response=42)  # type: ignore[arg-type]


def test_the_sync_client_calls_the_hooks_too(whop_fake_in_thread: FakeWhop) -> None:
    whop_fake_in_thread.add_user("user_bob")
    key = whop_fake_in_thread.add_api_key("whop_sync_key", user_id="user_bob")
    seen = Recorder()
    with whop_dm.Client(
        key,
        base_url=whop_fake_in_thread.base_url,
        retry=whop_dm.RetryPolicy.instant(),
        **seen.hooks(),
    ) as client:
        client.dm_channels.create(with_user_ids=["user_bob"])
    assert seen.summary() == [("RequestEvent", 1, None), ("ResponseEvent", 1, 200)]
    assert seen.events[0].operation == "POST /dm_channels"


# -- trace_configs ------------------------------------------------------------------------


def _counting_trace_config(starts: list[str]) -> aiohttp.TraceConfig:
    async def on_request_start(
        session: aiohttp.ClientSession, context: Any, params: aiohttp.TraceRequestStartParams
    ) -> None:
        starts.append(params.method)

    config = aiohttp.TraceConfig()
    config.on_request_start.append(on_request_start)
    return config


async def test_trace_configs_see_every_attempt(scripted_server: ScriptedServer) -> None:
    scripted_server.answer(numbered(DOWN, 503, "req_1"), numbered(MEMBER, 200, "req_2"))
    starts: list[str] = []
    config = _counting_trace_config(starts)
    async with scripted_server.client(trace_configs=[config]) as client:
        await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    assert starts == ["POST", "POST"]


def test_the_sync_client_passes_trace_configs(whop_fake_in_thread: FakeWhop) -> None:
    whop_fake_in_thread.add_user("user_bob")
    key = whop_fake_in_thread.add_api_key("whop_sync_key", user_id="user_bob")
    starts: list[str] = []
    with whop_dm.Client(
        key,
        base_url=whop_fake_in_thread.base_url,
        trace_configs=[_counting_trace_config(starts)],
    ) as client:
        client.dm_channels.create(with_user_ids=["user_bob"])
    assert starts == ["POST"]


async def test_trace_configs_with_an_own_session_are_refused() -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(ValueError, match="trace_configs"):
            whop_dm.AsyncClient(API_KEY, session=session, trace_configs=[aiohttp.TraceConfig()])


def test_trace_configs_must_be_trace_configs() -> None:
    with pytest.raises(TypeError, match="trace_configs"):
        whop_dm.AsyncClient(API_KEY, trace_configs=aiohttp.TraceConfig())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="trace_configs"):
        whop_dm.AsyncClient(API_KEY, trace_configs=[object()])  # type: ignore[list-item]


@pytest.fixture
def whop_fake_in_thread() -> Any:
    with FakeWhop.in_thread() as fake:
        yield fake
