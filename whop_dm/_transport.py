"""The HTTP layer: one aiohttp session, auth, timeouts, errors and retries.

It knows nothing of channels or members: it sends a method, a path and a
JSON body, and gives back parsed JSON or raises a typed error.
"""

from __future__ import annotations

import asyncio
import enum
import ipaddress
import json
import logging
import math
import os
import platform
import time
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp
from aiohttp import hdrs
from multidict import CIMultiDict, istr
from yarl import URL

from ._errors import (
    APIConnectionError,
    APITimeoutError,
    ClientClosedError,
    RateLimitError,
    ResponseDecodeError,
    WhopError,
    error_from_response,
)
from ._gate import RateLimitGate
from ._retry import RetryEvent, RetryPolicy, run_retries
from ._timeout import Timeout
from ._version import __version__

__all__ = [
    "DEFAULT_BASE_URL",
    "Transport",
    "check_header_value",
    "new_idempotency_key",
    "user_agent",
]

logger = logging.getLogger("whop_dm")

DEFAULT_BASE_URL = "https://api.whop.com/api/v1"

# Methods that may be sent twice without asking: the API treats a repeat as
# the same request. POSTs join them by carrying an Idempotency-Key.
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})
# Methods that change state carry an Idempotency-Key, the same on every
# attempt, so that a retry after a lost answer replays the first answer
# (a retried DELETE would otherwise meet a 404 for the record it removed).
_KEYED = frozenset({"POST", "PATCH", "DELETE"})
# Built once: json.dumps with arguments makes a new encoder on every call.
_encode_json = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_decode_json = json.JSONDecoder().decode
_IDEMPOTENCY_KEY = istr("Idempotency-Key")


def _parse_json(raw: bytes) -> Any:
    """``json.loads(raw)``, without its encoding sniffing for the usual UTF-8 body.

    ``json.loads`` on bytes first guesses the encoding (BOMs, UTF-16/32),
    which costs more than decoding UTF-8 itself. A body that is not plain
    UTF-8 JSON fails the fast path (a BOM or a NUL byte is not valid JSON
    text) and gets ``json.loads``' own answer, or its error.
    """
    try:
        return _decode_json(raw.decode("utf-8", "surrogatepass"))
    except ValueError:
        return json.loads(raw)


class _State(enum.Enum):
    UNOPENED = "unopened"
    OPENED = "opened"
    CLOSED = "closed"


def new_idempotency_key() -> str:
    """A random (version 4) UUID in its usual text form.

    The same as ``str(uuid.uuid4())`` at under half the cost, which shows on
    the hot path of a bulk job.
    """
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def user_agent() -> str:
    """``whop-dm/<version> python/<x.y> aiohttp/<x.y.z>``."""
    py = ".".join(platform.python_version_tuple()[:2])
    return f"whop-dm/{__version__} python/{py} aiohttp/{aiohttp.__version__}"


def check_header_value(name: str, value: object) -> str:
    """Refuse header values that are not strings or would split the header."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, not {type(value).__name__}")
    if any(ch in value for ch in "\r\n\x00"):
        raise ValueError(f"{name} must not contain line breaks or NUL characters")
    return value


def _is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_base_url(base_url: object, *, allow_http: bool) -> str:
    """Validate the API root and return it without a trailing slash."""
    if not isinstance(base_url, str):
        raise TypeError(f"base_url must be a string, not {type(base_url).__name__}")
    url = URL(base_url)
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"base_url must be an absolute http(s) URL, got {base_url!r}")
    if url.query_string or url.fragment:
        raise ValueError("base_url must not carry a query or fragment")
    if url.user or url.password:
        raise ValueError("base_url must not carry credentials; pass api_key instead")
    if url.scheme == "http" and not (allow_http or _is_loopback(url.host)):
        raise ValueError(
            f"base_url {base_url!r} is plain http to a non-loopback host: the API key "
            "would cross the network unencrypted. Use https, or pass allow_http=True "
            "if you really mean it."
        )
    return str(url).rstrip("/")


class Transport:
    """Sends requests for one client. Safe to share between tasks of one loop."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        timeout: Timeout,
        retry: RetryPolicy,
        max_connections: int,
        headers: Mapping[str, str],
        session: aiohttp.ClientSession | None,
        rate_limit: float | None,
        on_retry: Callable[[RetryEvent], None] | None,
    ) -> None:
        self._api_key = api_key
        self._base_url = base_url
        self._timeout = timeout
        self._client_timeout = aiohttp.ClientTimeout(
            total=timeout.total, sock_connect=timeout.connect
        )
        self._deadline_timeout: aiohttp.ClientTimeout | None = None
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
        self._gate = RateLimitGate(retry.sleep, rate_limit)
        self._on_retry = on_retry

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def is_closed(self) -> bool:
        return self._state is _State.CLOSED

    @property
    def gate(self) -> RateLimitGate:
        return self._gate

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
            )
        self._state = _State.OPENED

    async def aclose(self) -> None:
        """Close the session if this transport made it. Idempotent."""
        if self._state is _State.CLOSED:
            return
        self._state = _State.CLOSED
        session, self._session = self._session, None
        if session is not None and self._owns_session and not session.closed:
            await session.close()

    async def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """Send one logical call (with retries) and return the parsed JSON answer.

        ``path`` is relative to the base URL, already escaped (``/dm_members``).
        """
        if self._state is not _State.OPENED or self._loop is not asyncio.get_running_loop():
            self._open()
        headers = self._headers.copy()
        data: bytes | None = None
        if json_body is not None:
            data = _encode_json(json_body).encode()
            headers[hdrs.CONTENT_TYPE] = "application/json"
        if method in _KEYED:
            if idempotency_key is None:
                idempotency_key = new_idempotency_key()
            headers[_IDEMPOTENCY_KEY] = idempotency_key
        url = self._base_url + path
        started = time.monotonic()
        try:
            # The fast path: most calls succeed at once and build no retry state.
            return await self._attempt(method, url, path, headers, data, params, started, 1)
        except WhopError as exc:
            first = exc
        if self._retry.max_attempts == 1 or self._retry.decide(first, 1, can_resend=True) is None:
            # Not retryable whatever the method: skip building tenacity state.
            raise first
        can_resend = method in _IDEMPOTENT or idempotency_key is not None
        return await self._retry_after(
            first, method, url, path, headers, data, params, started, can_resend
        )

    async def _retry_after(
        self,
        first: WhopError,
        method: str,
        url: str,
        path: str,
        headers: Mapping[str, str],
        data: bytes | None,
        params: Mapping[str, str] | None,
        started: float,
        can_resend: bool,
    ) -> Any:
        """The attempts after a failed first one.

        Apart from `request` because of the closure: the variables a nested
        function reads become cells, made on every call of the function that
        holds them, failed or not.
        """
        number = 1

        async def attempt() -> Any:
            nonlocal number
            number += 1
            return await self._attempt(method, url, path, headers, data, params, started, number)

        return await run_retries(
            self._retry,
            attempt,
            first,
            method=method,
            path=path,
            can_resend=can_resend,
            started=started,
            hook=self._on_retry,
        )

    def _attempt_timeout(self, started: float) -> aiohttp.ClientTimeout:
        deadline = self._retry.deadline
        if deadline is None:
            return self._client_timeout
        remaining = deadline - (time.monotonic() - started)
        if remaining >= self._timeout.total:
            return self._client_timeout
        # This attempt gets only what is left of the call's deadline. With the
        # default policy (deadline == timeout.total) that is every first
        # attempt, a few microseconds short of the total: rounded down to
        # whole milliseconds (never past the deadline), calls that waited
        # alike share one ClientTimeout instead of building one each.
        remaining = max(math.floor(remaining * 1000.0) / 1000.0, 0.001)
        shared = self._deadline_timeout
        if shared is None or shared.total != remaining:
            shared = self._deadline_timeout = aiohttp.ClientTimeout(
                total=remaining, sock_connect=min(self._timeout.connect, remaining)
            )
        return shared

    async def _attempt(
        self,
        method: str,
        url: str,
        path: str,
        headers: Mapping[str, str],
        data: bytes | None,
        params: Mapping[str, str] | None,
        started: float,
        number: int,
    ) -> Any:
        gate = self._gate
        slots = self._slots
        assert slots is not None
        # acquire/release rather than ``async with``: two coroutines fewer per call.
        await slots.acquire()
        try:
            # Checked once a slot is ours, right before sending: a request that
            # queued for a connection before a 429 arrived must wait it out too.
            if gate.may_block:
                held = gate.paused_for
                if held > self._retry.max_retry_after:
                    # The server asked for a longer wait than the policy will
                    # sleep: fail here rather than spend a request to learn it.
                    raise RateLimitError(
                        f"{method} {path} not sent: the server asked this client to wait "
                        f"{held:.0f}s, longer than max_retry_after",
                        status_code=429,
                        type="rate_limit_exceeded",
                        retry_after=held,
                    )
                await gate.wait()
            session = self._session
            if session is None or self._state is not _State.OPENED:
                raise ClientClosedError("Cannot send a request: the client has been closed.")
            sent_at = time.monotonic()
            try:
                async with session.request(
                    method,
                    url,
                    data=data,
                    headers=headers,
                    params=params,
                    timeout=self._attempt_timeout(started),
                    # Never followed: an API call has no business being
                    # redirected, and a redirect must not carry the key away.
                    allow_redirects=False,
                ) as response:
                    raw = await response.read()
                    status = response.status
                    response_headers = response.headers
            except asyncio.TimeoutError as exc:
                raise APITimeoutError(f"{method} {path} got no answer within the timeout") from exc
            except aiohttp.ClientConnectorError as exc:
                raise APIConnectionError(
                    f"{method} {path}: could not connect: {exc.os_error}", request_not_sent=True
                ) from exc
            except aiohttp.ClientError as exc:
                raise APIConnectionError(
                    f"{method} {path}: connection failed: {type(exc).__name__}: {exc}"
                ) from exc
            except RuntimeError as exc:
                if session.closed or self.is_closed:
                    raise ClientClosedError(
                        "Cannot send a request: the client has been closed."
                    ) from exc
                raise
        finally:
            slots.release()
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %d in %.1f ms (attempt %d)",
                method,
                path,
                status,
                (time.monotonic() - sent_at) * 1000.0,
                number,
            )
        if 200 <= status < 300:
            try:
                return _parse_json(raw)
            # RecursionError: a body nested deeper than the parser's stack allows.
            except (ValueError, RecursionError) as exc:
                text = raw.decode("utf-8", errors="replace").replace(self._api_key, "***")
                raise ResponseDecodeError(
                    f"{method} {path} answered {status} with a body that is not JSON",
                    status_code=status,
                    body=text,
                ) from exc
        error = error_from_response(status, response_headers, raw, redact=self._api_key)
        if isinstance(error, RateLimitError):
            wait = error.retry_after
            if wait is None:
                wait = self._retry.backoff(1)
            # Every request of the client holds (or, past max_retry_after,
            # fails at once) until the server's wait has passed.
            self._gate.pause(wait)
        raise error
