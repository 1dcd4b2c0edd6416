"""OpenTelemetry spans: one per logical call, an event per attempt, the bulk job as parent.

Spans are read back through the SDK's in-memory exporter. The global tracer
provider can be set only once per process, so the tests that need a global
one put theirs in place of ``get_tracer_provider`` for the test's duration.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.instrumentation.aiohttp_client import create_trace_config
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from scripted import MEMBER, ScriptedServer, json_answer

import whop_dm
import whop_dm._tracing
from whop_dm.testing import FakeWhop

DOWN = {"error": {"type": "internal_server_error", "message": "An unexpected error occurred"}}


class Traces:
    """A tracer provider of the SDK whose finished spans stay in memory."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider()
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))

    @property
    def spans(self) -> tuple[ReadableSpan, ...]:
        return self.exporter.get_finished_spans()

    def named(self, name: str) -> list[ReadableSpan]:
        return [s for s in self.spans if s.name == name]


@pytest.fixture
def traces() -> Iterator[Traces]:
    recorded = Traces()
    yield recorded
    recorded.provider.shutdown()


def answer(payload: Any, status: int = 200, request_id: str = "req_1") -> Any:
    return json_answer(payload, status, {"x-request-id": request_id})


async def test_a_call_is_one_client_span_named_by_its_route(
    scripted_server: ScriptedServer, traces: Traces
) -> None:
    scripted_server.answer(answer(MEMBER, request_id="req_ok"))
    async with scripted_server.client(tracer_provider=traces.provider) as client:
        await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    (span,) = traces.spans
    assert span.name == "POST /dm_members"
    assert span.kind is trace.SpanKind.CLIENT
    attributes = dict(span.attributes or {})
    port = int(scripted_server.base_url.split(":")[2].split("/")[0])
    assert attributes == {
        "http.request.method": "POST",
        "url.full": f"{scripted_server.base_url}/dm_members",
        "url.template": "/dm_members",
        "http.route": "/dm_members",
        "server.address": "127.0.0.1",
        "server.port": port,
        "http.response.status_code": 200,
        "whop_dm.request_id": "req_ok",
    }
    assert span.status.status_code is trace.StatusCode.UNSET
    assert span.instrumentation_scope is not None
    assert span.instrumentation_scope.name == "whop_dm"
    assert span.instrumentation_scope.version == whop_dm.__version__


async def test_retries_stay_in_one_span_with_an_event_per_attempt(
    scripted_server: ScriptedServer, traces: Traces
) -> None:
    scripted_server.answer(
        answer(DOWN, 503, "req_1"), answer(DOWN, 503, "req_2"), answer(MEMBER, 200, "req_3")
    )
    async with scripted_server.client(tracer_provider=traces.provider) as client:
        await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    (span,) = traces.spans
    events = [(e.name, dict(e.attributes or {})) for e in span.events]
    assert [name for name, _ in events] == ["whop_dm.attempt"] * 3
    assert [a["whop_dm.attempt"] for _, a in events] == [1, 2, 3]
    assert [a["http.response.status_code"] for _, a in events] == [503, 503, 200]
    assert [a.get("error.type") for _, a in events] == ["503", "503", None]
    assert [a["whop_dm.request_id"] for _, a in events] == ["req_1", "req_2", "req_3"]
    assert (span.attributes or {})["http.request.resend_count"] == 2
    assert span.status.status_code is trace.StatusCode.UNSET


async def test_a_failed_call_ends_its_span_in_error(
    scripted_server: ScriptedServer, traces: Traces
) -> None:
    scripted_server.answer(answer(DOWN, 503))
    async with scripted_server.client(tracer_provider=traces.provider) as client:
        with pytest.raises(whop_dm.InternalServerError):
            await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    (span,) = traces.spans
    assert span.status.status_code is trace.StatusCode.ERROR
    attributes = span.attributes or {}
    assert attributes["error.type"] == "503"
    assert attributes["http.response.status_code"] == 503
    assert len(span.events) == 3 + 1  # three attempts, and the exception
    assert span.events[-1].name == "exception"


async def test_a_call_that_got_no_answer_names_the_error_class(
    whop_fake: FakeWhop, whop_api_key: str, traces: Traces
) -> None:
    whop_fake.add_user("user_bob")
    async with whop_dm.AsyncClient(
        whop_api_key,
        base_url=whop_fake.base_url,
        retry=whop_dm.RetryPolicy.instant(max_attempts=1),
        tracer_provider=traces.provider,
    ) as client:
        whop_fake.drop_next(1, path="/dm_channels")
        with pytest.raises(whop_dm.APIConnectionError):
            await client.dm_channels.create(with_user_ids=["user_bob"])
    (span,) = traces.spans
    attributes = span.attributes or {}
    assert attributes["error.type"] == "whop_dm.APIConnectionError"
    assert "http.response.status_code" not in attributes
    (attempt, _exception) = span.events
    assert "http.response.status_code" not in (attempt.attributes or {})


async def test_the_route_template_names_the_span_not_the_id(
    whop_fake: FakeWhop, whop_api_key: str, traces: Traces
) -> None:
    whop_fake.add_user("user_bob")
    async with whop_dm.AsyncClient(
        whop_api_key, base_url=whop_fake.base_url, tracer_provider=traces.provider
    ) as client:
        channel = await client.dm_channels.create(with_user_ids=["user_bob"])
        await client.dm_channels.retrieve(channel.id)
    names = [s.name for s in traces.spans]
    assert names == ["POST /dm_channels", "GET /dm_channels/{id}"]
    retrieved = traces.spans[1].attributes or {}
    assert retrieved["http.route"] == "/dm_channels/{id}"
    assert str(retrieved["url.full"]).endswith(f"/dm_channels/{channel.id}")


async def test_the_global_tracer_provider_is_used_without_opt_in(
    scripted_server: ScriptedServer, traces: Traces, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: traces.provider)
    scripted_server.answer(answer(MEMBER))
    async with scripted_server.client() as client:
        await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    assert [s.name for s in traces.spans] == ["POST /dm_members"]


async def test_the_tracer_provider_argument_overrides_the_global_one(
    scripted_server: ScriptedServer, traces: Traces, monkeypatch: pytest.MonkeyPatch
) -> None:
    global_one = Traces()
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: global_one.provider)
    scripted_server.answer(answer(MEMBER))
    async with scripted_server.client(tracer_provider=traces.provider) as client:
        await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    assert len(traces.spans) == 1
    assert global_one.spans == ()
    global_one.provider.shutdown()


async def test_spans_nest_under_the_callers_current_span(
    scripted_server: ScriptedServer, traces: Traces
) -> None:
    scripted_server.answer(answer(MEMBER))
    tracer = traces.provider.get_tracer("the app")
    async with scripted_server.client(tracer_provider=traces.provider) as client:
        with tracer.start_as_current_span("handle webhook"):
            await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    (call,) = traces.named("POST /dm_members")
    (outer,) = traces.named("handle webhook")
    assert call.parent is not None
    assert call.parent.span_id == outer.context.span_id


async def test_aiohttp_instrumentation_spans_are_children_of_the_call_span(
    scripted_server: ScriptedServer, traces: Traces
) -> None:
    scripted_server.answer(answer(DOWN, 503), answer(MEMBER))
    config = create_trace_config(tracer_provider=traces.provider)
    async with scripted_server.client(
        tracer_provider=traces.provider, trace_configs=[config]
    ) as client:
        await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    (call,) = traces.named("POST /dm_members")
    sends = [s for s in traces.spans if s is not call]
    assert len(sends) == 2  # one per attempt
    assert all(s.parent is not None and s.parent.span_id == call.context.span_id for s in sends)


async def test_a_bulk_job_is_the_parent_of_its_calls(
    whop_fake: FakeWhop, whop_api_key: str, traces: Traces
) -> None:
    users = [f"user_{n}" for n in range(5)]
    for user in ["user_host", *users]:
        whop_fake.add_user(user)
    async with whop_dm.AsyncClient(
        whop_api_key, base_url=whop_fake.base_url, tracer_provider=traces.provider
    ) as client:
        channel = await client.dm_channels.create(with_user_ids=["user_host"])
        result = await client.dm_members.bulk_create(
            [(channel.id, user) for user in users], concurrency=2
        )
    assert len(result.added) == 5
    (job,) = traces.named("dm_members.bulk_create")
    calls = traces.named("POST /dm_members")
    assert len(calls) == 5
    assert all(c.parent is not None and c.parent.span_id == job.context.span_id for c in calls)
    (channel_call,) = traces.named("POST /dm_channels")
    assert channel_call.parent is None
    assert (job.attributes or {})["whop_dm.bulk.total"] == 5


async def test_no_span_is_made_while_no_sdk_is_set_up(
    scripted_server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The API's placeholder provider: a span from it would record nothing.
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: trace.ProxyTracerProvider())

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a tracer was asked for")

    monkeypatch.setattr(trace.ProxyTracerProvider, "get_tracer", refuse)
    scripted_server.answer(answer(MEMBER))
    async with scripted_server.client() as client:
        member = await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    assert member.id == "dmm_1"


async def test_an_sdk_set_up_after_the_first_calls_is_picked_up(
    scripted_server: ScriptedServer, traces: Traces, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A client looks for a newly set up SDK once a second; here at every call.
    monkeypatch.setattr(whop_dm._tracing, "_LOOK_AGAIN", 0.0)
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: trace.ProxyTracerProvider())
    scripted_server.answer(answer(MEMBER))
    async with scripted_server.client() as client:
        await client.dm_members.create(channel_id="feed_1", user_id="user_c")
        assert traces.spans == ()
        monkeypatch.setattr(trace, "get_tracer_provider", lambda: traces.provider)
        await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    assert [s.name for s in traces.spans] == ["POST /dm_members"]


def test_import_whop_dm_and_a_call_do_not_import_opentelemetry() -> None:
    code = (
        "import sys, whop_dm\n"
        "from whop_dm.testing import FakeWhop\n"
        "with FakeWhop.in_thread() as fake:\n"
        "    fake.add_user('user_bob')\n"
        "    key = fake.add_api_key('whop_k', user_id='user_bob')\n"
        "    with whop_dm.Client(key, base_url=fake.base_url) as client:\n"
        "        client.dm_channels.create(with_user_ids=['user_bob'])\n"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))\n"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter, our own code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"


def test_a_tracer_provider_that_is_not_one_is_refused() -> None:
    with pytest.raises(TypeError, match="tracer_provider"):
        whop_dm.AsyncClient("k", tracer_provider=object())  # type: ignore[arg-type]


def test_a_blocking_call_nests_under_the_callers_span(traces: Traces) -> None:
    tracer = traces.provider.get_tracer("the app")
    with FakeWhop.in_thread() as fake:
        fake.add_user("user_bob")
        key = fake.add_api_key("whop_sync_key", user_id="user_bob")
        client = whop_dm.Client(key, base_url=fake.base_url, tracer_provider=traces.provider)
        with client, tracer.start_as_current_span("a web view"):
            client.dm_channels.create(with_user_ids=["user_bob"])
    (call,) = traces.named("POST /dm_channels")
    (view,) = traces.named("a web view")
    assert call.parent is not None
    assert call.parent.span_id == view.context.span_id
