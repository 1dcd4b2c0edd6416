"""``AsyncClient``: the entry point of the asyncio API."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

import aiohttp

from ._dm_channels import AsyncDmChannels
from ._dm_members import AsyncDmMembers
from ._errors import MissingAPIKeyError
from ._retry import RetryEvent, RetryPolicy
from ._timeout import DEFAULT_TIMEOUT, TimeoutTypes, coerce_timeout
from ._transport import DEFAULT_BASE_URL, Transport, check_base_url, check_header_value

if TYPE_CHECKING:
    from ._messages import AsyncMessages

__all__ = ["AsyncClient"]

_RESERVED_HEADERS = frozenset({"authorization", "idempotency-key", "content-type"})


def _resolve_api_key(api_key: object) -> str:
    if api_key is None:
        api_key = os.environ.get("WHOP_API_KEY")
        if not api_key:
            raise MissingAPIKeyError(
                "No API key: pass api_key=... or set the WHOP_API_KEY environment variable "
                "(create a key in your Whop developer dashboard)."
            )
    if not isinstance(api_key, str):
        raise TypeError(f"api_key must be a string, not {type(api_key).__name__}")
    if not api_key.strip():
        raise MissingAPIKeyError(
            "The API key is empty: pass api_key=... or set WHOP_API_KEY to your key."
        )
    if any(ch in api_key for ch in "\r\n\x00 "):
        # Said without echoing the key itself.
        raise ValueError("api_key must not contain spaces, line breaks or NUL characters")
    return api_key


def _check_headers(headers: Mapping[str, str] | None, api_version: str | None) -> dict[str, str]:
    checked: dict[str, str] = {}
    for name, value in (headers or {}).items():
        check_header_value("header name", name)
        if name.lower() in _RESERVED_HEADERS:
            raise ValueError(f"the {name} header is set by the client; it cannot be overridden")
        checked[name] = check_header_value(f"header {name}", value)
    if api_version is not None:
        checked["Api-Version-Date"] = check_header_value("api_version", api_version)
    return checked


class AsyncClient:
    """An asyncio client for Whop's DM API.

    One client holds one connection pool; share it between all the tasks of
    an event loop (it is safe under ``asyncio.gather`` with thousands of
    calls) and close it when done, with ``async with`` or `aclose`.

    Args:
        api_key: the API key; defaults to ``WHOP_API_KEY``.
        base_url: the API root; defaults to ``WHOP_BASE_URL``, then
            ``https://api.whop.com/api/v1``. Plain http is refused unless the
            host is loopback or ``allow_http=True``.
        timeout: a `Timeout`, or seconds per attempt (default: 60 s per
            attempt, 10 s to connect).
        retry: a `RetryPolicy` (default ``RetryPolicy()``); use
            ``RetryPolicy.disabled()`` for a single attempt.
        max_connections: the most requests in flight at once (default 100).
        headers: extra headers for every request.
        session: an ``aiohttp.ClientSession`` of yours; it is used as is
            and never closed by the client.
        api_version: sent as ``Api-Version-Date`` to pin API behaviour.
        rate_limit: at most this many requests per second from this client
            (default: no client-side cap; Whop allows 600 per minute per
            operation and key).
        on_retry: called with a `RetryEvent` before each retry wait.
        allow_http: permit a plain-http ``base_url`` to a non-loopback host.

    Example:
        >>> async with whop_dm.AsyncClient() as client:  # doctest: +SKIP
        ...     channel = await client.dm_channels.create(with_user_ids=["user_b"])
    """

    dm_channels: AsyncDmChannels
    """DM channels: create, list, retrieve, rename and delete them."""
    dm_members: AsyncDmMembers
    """Members of DM channels: add them, one or in bulk; list, update and remove them."""
    messages: AsyncMessages
    """Messages in DM channels: send, list, edit, pin and delete them."""

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        max_connections: int = 100,
        headers: Mapping[str, str] | None = None,
        session: aiohttp.ClientSession | None = None,
        api_version: str | None = None,
        rate_limit: float | None = None,
        on_retry: Callable[[RetryEvent], None] | None = None,
        allow_http: bool = False,
    ) -> None:
        key = _resolve_api_key(api_key)
        if base_url is None:
            base_url = os.environ.get("WHOP_BASE_URL") or DEFAULT_BASE_URL
        root = check_base_url(base_url, allow_http=allow_http)
        if retry is None:
            retry = RetryPolicy()
        elif not isinstance(retry, RetryPolicy):
            raise TypeError("retry must be a whop_dm.RetryPolicy (or None for the default)")
        if isinstance(max_connections, bool) or not isinstance(max_connections, int):
            raise TypeError("max_connections must be an int")
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        if rate_limit is not None and (
            isinstance(rate_limit, bool)
            or not isinstance(rate_limit, (int, float))
            or not rate_limit > 0
        ):
            raise ValueError("rate_limit must be a number of requests per second above 0")
        if session is not None and not isinstance(session, aiohttp.ClientSession):
            raise TypeError("session must be an aiohttp.ClientSession")
        self._transport = Transport(
            api_key=key,
            base_url=root,
            timeout=coerce_timeout(timeout),
            retry=retry,
            max_connections=max_connections,
            headers=_check_headers(headers, api_version),
            session=session,
            rate_limit=rate_limit,
            on_retry=on_retry,
        )
        self.dm_channels = AsyncDmChannels(self._transport)
        self.dm_members = AsyncDmMembers(self._transport)

    if not TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any:
            # ``messages`` is built on first use: its records cost import time
            # that a program which only manages channels and members should
            # not pay.
            if name == "messages":
                from ._messages import AsyncMessages

                self.messages = AsyncMessages(self._transport)
                return self.messages
            raise AttributeError(f"'AsyncClient' object has no attribute {name!r}")

    @property
    def base_url(self) -> str:
        """The API root requests go to."""
        return self._transport.base_url

    @property
    def is_closed(self) -> bool:
        """True once `aclose` has run."""
        return self._transport.is_closed

    async def aclose(self) -> None:
        """Close the connection pool (unless the session was passed in). Idempotent."""
        await self._transport.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        state = "closed" if self.is_closed else "open"
        return f"<whop_dm.AsyncClient base_url={self.base_url!r} {state}>"
