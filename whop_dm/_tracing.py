"""OpenTelemetry spans: one per logical call, covering its retries.

whop_dm never imports OpenTelemetry on its own (``import whop_dm`` must stay
cheap, and importing ``opentelemetry.trace`` costs tens of milliseconds).
Spans come from the tracer provider passed as ``tracer_provider=``, else from
the global one, looked up on each call: a program that set up the
OpenTelemetry SDK has imported ``opentelemetry.trace``, so a look in
``sys.modules`` finds it. While the global provider is the API's placeholder
(no SDK set up), no span is started at all: there is nothing to record it.
A client looks again at most once a second, so an SDK set up after its first
calls is picked up (OpenTelemetry sets the global provider only once).

Attributes follow OpenTelemetry's semantic conventions for HTTP client spans,
with the route template (``/dm_members/{id}``) in the span name, ``url.template``
and ``http.route``, never the ids, so that names stay few.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Awaitable, Mapping, Sized
from typing import TYPE_CHECKING, Any, TypeVar

from yarl import URL

from ._errors import APIError, WhopError
from ._version import __version__

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer, TracerProvider

__all__ = ["OTEL_MODULE", "Tracing", "error_type"]

R = TypeVar("R")

_SCOPE = "whop_dm"
OTEL_MODULE = "opentelemetry.trace"
# While no SDK is set up, how often (seconds) to look whether one has been since.
_LOOK_AGAIN = 1.0


def error_type(error: BaseException) -> str:
    """``error.type`` of the semantic conventions: the status, or the error's class."""
    if isinstance(error, APIError) and error.status_code is not None:
        return str(error.status_code)
    cls = type(error)
    # Our errors under the name users import them by, not their private module.
    module = "whop_dm" if isinstance(error, WhopError) else cls.__module__
    return f"{module}.{cls.__qualname__}"


class Tracing:
    """Where one client's spans come from, and how they are made."""

    __slots__ = ("_next_look", "_otel", "_server", "_tracer")

    def __init__(self, base_url: str, provider: TracerProvider | None) -> None:
        url = URL(base_url)
        self._server: dict[str, Any] = {"server.address": url.host or ""}
        if url.port is not None:
            self._server["server.port"] = url.port
        self._otel: Any = None
        self._tracer: Tracer | None = None
        self._next_look = 0.0
        if provider is not None:
            # Passed in, so OpenTelemetry is installed and already imported.
            import opentelemetry.trace as otel

            self._otel = otel
            self._tracer = provider.get_tracer(_SCOPE, __version__)

    def tracer(self) -> Tracer | None:
        """The tracer to use now, or None when nothing would record a span."""
        tracer = self._tracer
        if tracer is not None:
            # Passed in, or the global provider, which OpenTelemetry sets only once.
            return tracer
        otel = sys.modules.get(OTEL_MODULE)
        if otel is None:
            return None
        now = time.monotonic()
        if now < self._next_look:
            return None
        provider = otel.get_tracer_provider()
        if isinstance(provider, (otel.ProxyTracerProvider, otel.NoOpTracerProvider)):
            # The API's stand-ins (no SDK set up yet, or tracing switched off)
            # record nothing: skip the span and its cost. Asking for the global
            # provider is not free either, so look again a second later.
            self._next_look = now + _LOOK_AGAIN
            return None
        self._otel = otel
        self._tracer = provider.get_tracer(_SCOPE, __version__)
        return self._tracer

    def start_call(
        self, method: str, route: str, url: str, params: Mapping[str, str] | None
    ) -> Span | None:
        """The span of one logical call (not yet current), or None when not tracing."""
        tracer = self.tracer()
        if tracer is None:
            return None
        full = str(URL(url, encoded=True).update_query(params)) if params else url
        attributes: dict[str, Any] = {
            "http.request.method": method,
            "url.full": full,
            "url.template": route,
            "http.route": route,
            **self._server,
        }
        return tracer.start_span(
            f"{method} {route}", kind=self._otel.SpanKind.CLIENT, attributes=attributes
        )

    def current(self, span: Span) -> Any:
        """A context manager making ``span`` the current span (not ending it)."""
        return self._otel.use_span(
            span, end_on_exit=False, record_exception=False, set_status_on_exception=False
        )

    def attempt(
        self,
        span: Span,
        attempt: int,
        status: int | None,
        request_id: str | None,
        held: float,
        error: BaseException | None,
    ) -> None:
        """One event on the call's span per attempt, once its outcome is known."""
        attributes: dict[str, Any] = {"whop_dm.attempt": attempt, "whop_dm.held": held}
        if status is not None:
            attributes["http.response.status_code"] = status
        if request_id is not None:
            attributes["whop_dm.request_id"] = request_id
        if error is not None:
            attributes["error.type"] = error_type(error)
        span.add_event("whop_dm.attempt", attributes)

    def end_call(
        self,
        span: Span,
        *,
        attempts: int,
        status: int | None,
        request_id: str | None,
        error: BaseException | None,
    ) -> None:
        """Set the call's outcome on its span and end it."""
        if status is not None:
            span.set_attribute("http.response.status_code", status)
        if attempts > 1:
            span.set_attribute("http.request.resend_count", attempts - 1)
        if request_id is not None:
            span.set_attribute("whop_dm.request_id", request_id)
        if error is not None:
            span.set_attribute("error.type", error_type(error))
            if isinstance(error, Exception):
                span.record_exception(error)
                span.set_status(self._otel.Status(self._otel.StatusCode.ERROR, str(error)))
        span.end()

    async def job(self, name: str, pairs: object, job: Awaitable[R]) -> R:
        """Await ``job`` (a bulk run over ``pairs``) under a span of its own.

        The tasks the job starts copy the current context when they are made,
        inside this span, so every call they send is its child.
        """
        tracer = self.tracer()
        if tracer is None:
            return await job
        attributes = {"whop_dm.bulk.total": len(pairs)} if isinstance(pairs, Sized) else {}
        with tracer.start_as_current_span(name, attributes=attributes) as span:
            result = await job
            span.set_attributes(_bulk_outcome(result))
            return result


def _bulk_outcome(result: object) -> dict[str, int]:
    """How a bulk run ended (a `BulkAddResult`, read by its documented fields)."""
    outcome: dict[str, int] = {}
    for name in ("added", "failed", "skipped"):
        records = getattr(result, name, None)
        if isinstance(records, Sized):
            outcome[f"whop_dm.bulk.{name}"] = len(records)
    duplicates = getattr(result, "duplicates", None)
    if isinstance(duplicates, int):
        outcome["whop_dm.bulk.duplicates"] = duplicates
    return outcome
