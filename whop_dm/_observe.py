"""What a client tells the outside about its calls: hooks and spans, in one place.

The transport asks `Observer.start` at the beginning of each logical call.
With no hook set and no tracing going on, the answer is None and the call
pays for nothing else; otherwise it gets a `CallObserver` and reports each
attempt to it (`CallObserver.sending` right before the attempt goes out,
`CallObserver.answered` once its outcome is known), inside ``with call:``.

The event records and the OpenTelemetry glue are imported on first use: a
program with no hooks and no tracing never loads them.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Awaitable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from opentelemetry.trace import Span, TracerProvider

    from ._events import RequestHook, ResponseHook
    from ._tracing import Tracing

__all__ = ["CallObserver", "Observer", "check_hook", "check_tracer_provider"]

R = TypeVar("R")

# Present in sys.modules once anything in the process uses OpenTelemetry,
# which setting up its SDK requires.
_OTEL = "opentelemetry.trace"


def check_hook(name: str, hook: object) -> None:
    """Refuse a hook that cannot be called, before any request."""
    if hook is not None and not callable(hook):
        raise TypeError(f"{name} must be a callable taking one event, or None")


def check_tracer_provider(provider: object) -> None:
    """Refuse something that is not a tracer provider, before any request."""
    if provider is not None and not callable(getattr(provider, "get_tracer", None)):
        raise TypeError("tracer_provider must be an OpenTelemetry TracerProvider, or None")


class Observer:
    """The hooks and tracing of one client."""

    __slots__ = ("_base_url", "_provider", "_tracing", "hooked", "on_request", "on_response")

    def __init__(
        self,
        *,
        base_url: str,
        on_request: RequestHook | None = None,
        on_response: ResponseHook | None = None,
        tracer_provider: TracerProvider | None = None,
    ) -> None:
        self._base_url = base_url
        self.on_request = on_request
        self.on_response = on_response
        self.hooked = on_request is not None or on_response is not None
        self._provider = tracer_provider
        self._tracing: Tracing | None = None

    @property
    def tracing(self) -> Tracing | None:
        """The span maker, or None while nothing in the process uses OpenTelemetry."""
        tracing = self._tracing
        if tracing is None and (self._provider is not None or _OTEL in sys.modules):
            from ._tracing import Tracing

            tracing = self._tracing = Tracing(self._base_url, self._provider)
        return tracing

    def start(
        self, method: str, route: str, url: str, params: Mapping[str, str] | None = None
    ) -> CallObserver | None:
        """The observer of a call about to start, or None when nobody watches."""
        tracing = self._tracing
        if tracing is None:
            if self._provider is None and _OTEL not in sys.modules:
                if not self.hooked:
                    return None
                return CallObserver(self, f"{method} {route}", None)
            tracing = self.tracing
            assert tracing is not None
        span = tracing.start_call(method, route, url, params)
        if span is None and not self.hooked:
            return None
        return CallObserver(self, f"{method} {route}", span)

    async def job(self, name: str, pairs: object, job: Awaitable[R]) -> R:
        """Await ``job``, a bulk run over ``pairs``, under a span of its own when tracing."""
        tracing = self.tracing
        if tracing is None:
            return await job
        return await tracing.job(name, pairs, job)


class CallObserver:
    """Reports the attempts of one logical call to hooks and to its span.

    Use it as a context manager around the call: its span is then the current
    one, so spans made inside (aiohttp's, through ``trace_configs``) are its
    children, and it ends with the call.
    """

    __slots__ = (
        "_held",
        "_observer",
        "_scope",
        "_sent_at",
        "attempts",
        "operation",
        "request_id",
        "span",
        "started",
        "status",
    )

    def __init__(self, observer: Observer, operation: str, span: Span | None) -> None:
        self._observer = observer
        self.operation = operation
        self.span = span
        self.started = time.monotonic()
        self._sent_at = self.started
        self._held = 0.0
        self._scope: Any = None
        self.attempts = 0
        self.status: int | None = None
        self.request_id: str | None = None

    def __enter__(self) -> CallObserver:
        tracing = self._observer._tracing
        if self.span is not None and tracing is not None:
            self._scope = tracing.current(self.span)
            self._scope.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        scope, self._scope = self._scope, None
        if scope is not None:
            scope.__exit__(None, None, None)
        span, self.span = self.span, None
        tracing = self._observer._tracing
        if span is not None and tracing is not None:
            tracing.end_call(
                span,
                attempts=self.attempts,
                status=self.status,
                request_id=self.request_id,
                error=exc,
            )

    def sending(self, attempt: int, held: float = 0.0) -> None:
        """Attempt number ``attempt`` is about to be sent, after ``held`` seconds of hold."""
        now = time.monotonic()
        self._sent_at = now
        self._held = held
        self.attempts = attempt
        hook = self._observer.on_request
        if hook is not None:
            from ._events import RequestEvent, call_hook

            event = RequestEvent(self.operation, attempt, None, now - self.started, held)
            call_hook("on_request", hook, event)

    def answered(
        self,
        attempt: int,
        status: int | None,
        request_id: str | None,
        error: BaseException | None = None,
    ) -> None:
        """The outcome of attempt ``attempt``: its status (None: no answer) and request id."""
        elapsed = time.monotonic() - self._sent_at
        self.status = status
        self.request_id = request_id
        tracing = self._observer._tracing
        if self.span is not None and tracing is not None:
            tracing.attempt(self.span, attempt, status, request_id, self._held, error)
        hook = self._observer.on_response
        if hook is not None:
            from ._events import ResponseEvent, call_hook

            event = ResponseEvent(self.operation, attempt, status, request_id, elapsed, self._held)
            call_hook("on_response", hook, event)
