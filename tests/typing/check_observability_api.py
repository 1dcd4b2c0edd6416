"""Type-checked only (``mypy``), never run: the observability options as a user sees them."""

from __future__ import annotations

import aiohttp
from opentelemetry.trace import TracerProvider
from typing_extensions import assert_type

import whop_dm


def on_request(event: whop_dm.RequestEvent) -> None:
    assert_type(event.operation, str)
    assert_type(event.attempt, int)
    assert_type(event.request_id, str | None)
    assert_type(event.elapsed, float)
    assert_type(event.held, float)


def on_response(event: whop_dm.ResponseEvent) -> None:
    assert_type(event.status, int | None)


def clients(provider: TracerProvider, config: aiohttp.TraceConfig) -> None:
    whop_dm.AsyncClient(
        "key",
        on_request=on_request,
        on_response=on_response,
        trace_configs=[config],
        tracer_provider=provider,
    )
    whop_dm.Client(
        "key",
        on_request=on_request,
        on_response=on_response,
        trace_configs=[config],
        tracer_provider=provider,
    )
    # A hook for the other event is refused.
    whop_dm.AsyncClient("key", on_request=on_response)  # type: ignore[arg-type]
