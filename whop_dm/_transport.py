"""The HTTP layer: one aiohttp session, auth, timeouts, errors and retries.

It knows nothing of channels or members: it sends a method, a path and a
JSON body, and gives back parsed JSON or raises a typed error.

One logical call is one `Request` record. Its attempts all run in one
tenacity loop (`whop_dm._retry.attempts`), and each attempt goes through
`Transport._attempt`: the one place where an attempt starts, is paced,
is sent, and where its answer or error is known.
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
import platform
import time
import uuid
from collections.abc import Awaitable, Mapping
from typing import Any

import aiohttp
import attrs
from aiohttp import hdrs
from multidict import CIMultiDict, CIMultiDictProxy, istr

from ._config import DEFAULT_BASE_URL, ClientConfig, check_header_value
from ._config import _is_loopback as _is_loopback  # where tests/reliability looks for it
from ._errors import (
    APIConnectionError,
    APITimeoutError,
    ClientClosedError,
    ResponseDecodeError,
    WhopError,
    error_from_response,
)
from ._gate import RequestRateCap
from ._log import fields, logger
from ._observe import CallObserver, Observer
from ._pacing import Pacer
from ._retry import with_retries
from ._version import __version__

__all__ = [
    "DEFAULT_BASE_URL",
    "Request",
    "Transport",
    "check_header_value",
    "new_idempotency_key",
    "user_agent",
]


# Methods that change state carry an Idempotency-Key, the same on every
# attempt, so that a retry after a lost answer replays the first answer
# (a retried DELETE would otherwise meet a 404 for the record it removed).
# With GETs safe by nature, every request may be sent twice.
_KEYED = frozenset({"POST", "PATCH", "DELETE"})
_IDEMPOTENCY_KEY = istr("Idempotency-Key")


def _encode_json(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def _parse_json(raw: bytes) -> Any:
    """The JSON value of a body, UTF-8 or any encoding ``json.loads`` detects."""
    return json.loads(raw)


@attrs.frozen
class Request:
    """One logical call, the same on every attempt.

    Attributes:
        method: the HTTP method.
        path: the path below the base URL, escaped (``/dm_members/dmm_1``).
        route: the path's template (``/dm_members/{id}``); ids never appear in it.
        url: the full URL, without the query.
        headers: the headers of every attempt (auth, JSON, Idempotency-Key).
        body: the encoded JSON body, or None.
        params: the query, or None.
        started: ``time.monotonic()`` when the call began (for the deadline).
        idempotency_key: the key sent with a POST, PATCH or DELETE, else None.
    """

    method: str
    path: str
    route: str
    url: str
    headers: CIMultiDict[str] = attrs.field(repr=False)
    body: bytes | None = attrs.field(repr=False)
    params: Mapping[str, str] | None
    started: float
    idempotency_key: str | None

    @property
    def operation(self) -> str:
        """``METHOD route``, e.g. ``GET /dm_channels/{id}``: what Whop counts a limit on."""
        return f"{self.method} {self.route}"


class _State(enum.Enum):
    UNOPENED = "unopened"
    OPENED = "opened"
    CLOSED = "closed"


def new_idempotency_key() -> str:
    """A random (version 4) UUID in its usual text form."""
    return str(uuid.uuid4())


def user_agent() -> str:
    """``whop-dm/<version> python/<x.y> aiohttp/<x.y.z>``."""
    py = ".".join(platform.python_version_tuple()[:2])
    return f"whop-dm/{__version__} python/{py} aiohttp/{aiohttp.__version__}"


class Transport:
    """Sends requests for one client. Safe to share between tasks of one loop."""

    def __init__(self, config: ClientConfig) -> None:
        self.config = config
        api_key = config.api_key
        base_url = config.base_url
        timeout = config.timeout
        retry = config.retry
        max_connections = config.max_connections
        headers = config.default_headers
        session = getattr(config, "session", None)  # AsyncClientConfig only
        rate_limit = config.rate_limit
        on_retry = config.on_retry
        self._api_key = api_key
        self._base_url = base_url
        self._timeout = timeout
        self._client_timeout = aiohttp.ClientTimeout(
            total=timeout.total, sock_connect=timeout.connect
        )
        self._retry = retry
        self._max_connections = max_connections
        # A CIMultiDict with istr names, copied per request: aiohttp takes it
        # as is, where a dict would be converted (and each name case-folded)
        # on every request.
        self._headers: CIMultiDict[str] = CIMultiDict()
        for name, value in {
            hdrs.AUTHORIZATION: f"Bearer {api_key}",
            hdrs.USER_AGENT: user_agent(),
            hdrs.ACCEPT: "application/json",
            **headers,
        }.items():
            self._headers[istr(name)] = value
        self._session = session
        self._owns_session = session is None
        self._state = _State.UNOPENED
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots: asyncio.Semaphore | None = None
        self._cap = RequestRateCap(rate_limit) if rate_limit is not None else None
        self._pacer = Pacer(
            config.rate_limits, api_key, sleep=retry.sleep, max_wait=retry.max_retry_after
        )
        self._on_retry = on_retry
        self._observer = Observer(
            base_url=base_url,
            on_request=config.on_request,
            on_response=config.on_response,
            tracer_provider=config.tracer_provider,
        )

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def is_closed(self) -> bool:
        return self._state is _State.CLOSED

    @property
    def observer(self) -> Observer:
        return self._observer

    @property
    def pacer(self) -> Pacer:
        return self._pacer

    def held_seconds(self) -> float:
        """Seconds this client's operations have been held by the rate limit,
        added up over operations (each counted in wall time, not per request):
        what bulk progress reports as ``held``."""
        return sum(self._pacer.held().values())

    def _open(self) -> None:
        loop = asyncio.get_running_loop()
        if self._state is _State.CLOSED:
            raise ClientClosedError("Cannot send a request: the client has been closed.")
        if self._loop is None:
            self._loop = loop
            # Our semaphore, not the connector's queue, bounds concurrency so
            # that time spent waiting for a free connection does not eat into
            # a request's timeout.
            self._slots = asyncio.Semaphore(self._max_connections)
        elif self._loop is not loop:
            raise RuntimeError(
                "This client is bound to the event loop it was first used on; "
                "create one client per event loop (or use whop_dm.Client from threads)."
            )
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_connections, limit_per_host=0),
                timeout=self._client_timeout,
                raise_for_status=False,
                trace_configs=list(self.config.trace_configs) or None,
            )
        self._state = _State.OPENED

    @property
    def owns_open_session(self) -> bool:
        """True while a session this transport made is open: it must be closed."""
        return self._owns_session and self._session is not None and not self._session.closed

    async def aclose(self) -> None:
        """Close the session if this transport made it. Idempotent.

        Its connections belong to the loop the session was made on, so that
        is where it is closed, even when ``aclose`` is awaited on another.
        """
        if self._state is _State.CLOSED:
            return
        home = self._loop
        if home is not None and home is not asyncio.get_running_loop() and self.owns_open_session:
            if home.is_running():  # in another thread
                await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self.aclose(), home))
            elif not home.is_closed():  # idle: a worker thread may run it
                await asyncio.to_thread(home.run_until_complete, self.aclose())
            else:
                raise RuntimeError(
                    "This client's connections belong to an event loop that has been "
                    "closed, so they cannot be closed from this one: close the client "
                    "before its loop ends (`async with`, or `await client.aclose()` there)."
                )
            return
        self._state = _State.CLOSED
        # Slots a shared store granted ahead for requests that never came.
        await self._pacer.aclose()
        session, self._session = self._session, None
        if session is not None and self._owns_session and not session.closed:
            await session.close()

    async def request(
        self,
        method: str,
        path: str,
        *,
        route: str | None = None,
        json_body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """Send one logical call (with retries) and return the parsed JSON answer.

        ``path`` is relative to the base URL, already escaped (``/dm_members``);
        ``route`` is its template (``/dm_members/{id}``), the path itself when
        it holds no id.
        """
        if self._state is not _State.OPENED or self._loop is not asyncio.get_running_loop():
            self._open()
        request = self._build(method, path, route, json_body, params, idempotency_key)
        # Hooks and spans, when any are watching; None costs the call nothing more.
        call = self._observer.start(method, request.route, request.url, params)
        if call is None:
            return await self._run(request, None)
        with call:
            return await self._run(request, call)

    async def _run(self, request: Request, call: CallObserver | None) -> Any:
        """Every attempt of ``request``, in the retry policy's loop."""
        # How long the latest attempt was held by pacing (for the retry
        # event), and all attempts together: time held waiting for the rate
        # limit does not count against the call's deadline.
        held = [0.0, 0.0]

        def attempt(number: int) -> Awaitable[Any]:
            return self._attempt(request, number, call, held)

        return await with_retries(self._retry, request, attempt, self._on_retry, held)

    def _build(
        self,
        method: str,
        path: str,
        route: str | None,
        json_body: Mapping[str, Any] | None,
        params: Mapping[str, str] | None,
        idempotency_key: str | None,
    ) -> Request:
        headers = self._headers.copy()
        body: bytes | None = None
        if json_body is not None:
            body = _encode_json(json_body)
            headers[hdrs.CONTENT_TYPE] = "application/json"
        if method in _KEYED:
            if idempotency_key is None:
                idempotency_key = new_idempotency_key()
            headers[_IDEMPOTENCY_KEY] = idempotency_key
        else:
            idempotency_key = None
        return Request(
            method=method,
            path=path,
            route=path if route is None else route,
            url=self._base_url + path,
            headers=headers,
            body=body,
            params=params,
            started=time.monotonic(),
            idempotency_key=idempotency_key,
        )

    async def _attempt(
        self,
        request: Request,
        number: int,
        call: CallObserver | None = None,
        held: list[float] | None = None,
    ) -> Any:
        """One attempt of ``request``: its answer as JSON, or its error raised.

        The attempt first waits for its operation's budget (the pacer), then
        for a connection slot of its own, then is sent. Pacing comes first so
        that an operation held by the rate limit never sits on connections
        the other operations need.
        """
        if held is None:
            held = [0.0, 0.0]
        slots = self._slots
        assert slots is not None
        pacer = self._pacer
        operation = request.operation
        while True:
            lease = pacer.try_now(operation)
            if lease is None:
                lease = await pacer.acquire(operation)
            held[0] = lease.held
            held[1] += lease.waited
            await slots.acquire()
            # A 429 may have paused the operation while this request queued for
            # a connection: it waits the pause out rather than be refused too.
            if not pacer.paused_for(operation):
                break
            slots.release()
            await pacer.settle(lease, counted=False)
        try:
            try:
                if self._cap is not None:
                    await self._cap.wait()
                if call is not None:
                    call.sending(number, lease.held)
                sent_at = time.monotonic()
                status, headers, raw = await self._send(request, held[1])
            finally:
                slots.release()
        except WhopError as exc:
            if call is not None:
                call.answered(number, None, None, exc)
            # Unknown whether the server counted it, unless it was never sent.
            not_sent = isinstance(exc, APIConnectionError) and exc.request_not_sent
            await pacer.settle(lease, counted=not not_sent)
            raise
        except BaseException:
            await pacer.settle(lease, counted=True)
            raise
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %d in %.1f ms (attempt %d)",
                request.method,
                request.path,
                status,
                (time.monotonic() - sent_at) * 1000.0,
                number,
                extra=fields(
                    operation=request.operation,
                    status=status,
                    request_id=headers.get("x-request-id"),
                    attempt=number,
                ),
            )
        if status == 429:
            error = error_from_response(status, headers, raw, redact=self._api_key)
            if call is not None:
                call.answered(number, status, error.request_id, error)
            wait = error.retry_after
            # Whop's wait is in whole seconds, rounded up: enough to learn from.
            await pacer.refuse(
                lease, self._retry.backoff(1) if wait is None else wait, learn=wait is not None
            )
            raise error
        if not pacer.settle_now(lease, counted=True):
            await pacer.settle(lease, counted=True)
        if 200 <= status < 300:
            if call is not None:
                call.answered(number, status, headers.get("x-request-id"))
            try:
                return _parse_json(raw)
            # RecursionError: a body nested deeper than the parser's stack allows.
            except (ValueError, RecursionError) as exc:
                text = raw.decode("utf-8", errors="replace").replace(self._api_key, "***")
                raise ResponseDecodeError(
                    f"{request.method} {request.path} answered {status} with a body "
                    "that is not JSON",
                    status_code=status,
                    body=text,
                ) from exc
        error = error_from_response(status, headers, raw, redact=self._api_key)
        if call is not None:
            call.answered(number, status, error.request_id, error)
        raise error

    def _attempt_timeout(self, started: float) -> aiohttp.ClientTimeout:
        """The client's timeout, cut to what is left of the call's deadline."""
        deadline = self._retry.deadline
        if deadline is None:
            return self._client_timeout
        remaining = deadline - (time.monotonic() - started)
        if remaining >= self._timeout.total:
            return self._client_timeout
        remaining = max(remaining, 0.001)
        return aiohttp.ClientTimeout(
            total=remaining, sock_connect=min(self._timeout.connect, remaining)
        )

    async def _send(
        self, request: Request, held: float = 0.0
    ) -> tuple[int, CIMultiDictProxy[str], bytes]:
        """Put ``request`` on the wire once; its status, headers and body."""
        session = self._session
        if session is None or self._state is not _State.OPENED:
            raise ClientClosedError("Cannot send a request: the client has been closed.")
        what = f"{request.method} {request.path}"
        try:
            async with session.request(
                request.method,
                request.url,
                data=request.body,
                headers=request.headers,
                params=request.params,
                timeout=self._attempt_timeout(request.started + held),
                # Never followed: an API call has no business being
                # redirected, and a redirect must not carry the key away.
                allow_redirects=False,
            ) as response:
                return response.status, response.headers, await response.read()
        except asyncio.TimeoutError as exc:
            raise APITimeoutError(f"{what} got no answer within the timeout") from exc
        except aiohttp.ClientConnectorError as exc:
            raise APIConnectionError(
                f"{what}: could not connect: {exc.os_error}", request_not_sent=True
            ) from exc
        except aiohttp.ClientError as exc:
            raise APIConnectionError(
                f"{what}: connection failed: {type(exc).__name__}: {exc}"
            ) from exc
        except RuntimeError as exc:
            if session.closed or self.is_closed:
                raise ClientClosedError(
                    "Cannot send a request: the client has been closed."
                ) from exc
            raise
