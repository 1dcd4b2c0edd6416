"""``AsyncClient``: the entry point of the asyncio API."""

from __future__ import annotations

import os
import traceback
import warnings
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._config import AsyncClientConfig, ClientConfig, takes_options
from ._dm_channels import AsyncDmChannels
from ._dm_members import AsyncDmMembers
from ._transport import Transport

if TYPE_CHECKING:
    from ._messages import AsyncMessages
    from ._reactions import AsyncReactions

__all__ = ["AsyncClient"]


def _where_created() -> str | None:
    """The caller's frames, when tracemalloc traces (as Python's own warnings use it).

    Written out here rather than left to ``warnings.warn(source=...)``:
    Python 3.11 cannot find the allocation of an object that has a
    ``__dict__``.
    """
    import tracemalloc

    if not tracemalloc.is_tracing():
        return None
    package = os.path.dirname(__file__)
    frames = [f for f in traceback.extract_stack() if not f.filename.startswith(package)]
    shown = traceback.format_list(frames[-tracemalloc.get_traceback_limit() :])
    return "\nClient created at (most recent call last):\n" + "".join(shown).rstrip()


class AsyncClient:
    """An asyncio client for Whop's DM API.

    One client holds one connection pool; share it between all the tasks of
    an event loop (it is safe under ``asyncio.gather`` with thousands of
    calls) and close it when done, with ``async with`` or `aclose`.

    Keyword Args:
        api_key (str | None): the API key; defaults to ``WHOP_API_KEY``.
        base_url (str | None): the API root; defaults to ``WHOP_BASE_URL``,
            then ``https://api.whop.com/api/v1``. Plain http is refused unless
            the host is loopback or ``allow_http=True``.
        timeout (Timeout | float): a `Timeout`, or seconds per attempt
            (default: 60 s per attempt, 10 s to connect).
        retry (RetryPolicy | None): a `RetryPolicy` (default
            ``RetryPolicy()``); use ``RetryPolicy.disabled()`` for a single attempt.
        max_connections (int): the most requests in flight at once (default 100).
        headers (Mapping[str, str] | None): extra headers for every request.
        session (aiohttp.ClientSession | None): an ``aiohttp.ClientSession``
            of yours; it is used as is and never closed by the client.
        api_version (str | None): sent as ``Api-Version-Date`` to pin API behaviour.
        rate_limit (float | None): at most this many requests per second from
            this client, whatever the operation (default: no such cap).
            Whop's own limit is per operation: see ``rate_limits``.
        on_retry (Callable[[RetryEvent], None] | None): called with a
            `RetryEvent` before each retry wait.
        allow_http (bool): permit a plain-http ``base_url`` to a non-loopback host.
        on_request (Callable[[RequestEvent], object] | None): called with a
            `RequestEvent` right before each attempt is sent (see the
            Observability guide). A hook that raises is logged and ignored.
        on_response (Callable[[ResponseEvent], object] | None): called with a
            `ResponseEvent` once each attempt's answer, or its failure, is known.
        trace_configs (Sequence[aiohttp.TraceConfig]): ``aiohttp.TraceConfig``
            objects for the session the client creates (OpenTelemetry's aiohttp
            instrumentation, say). With ``session=``, set them on that session
            instead.
        tracer_provider (TracerProvider | None): the OpenTelemetry
            ``TracerProvider`` spans come from (default: the global one, once
            an SDK is set up).
        rate_limits (RateLimits | None): how requests are paced per operation
            before Whop would refuse them (default ``RateLimits.adaptive()``:
            start slowly, learn the limit from the first 429, pace exactly
            from there; ``RateLimits.whop()`` for Whop's documented 600 a
            minute, ``RateLimits.off()`` for none). A 429 holds only its own
            operation. See the Rate limits guide.
        strict (bool): raise `ResponseDecodeError` when an answer holds a
            value a record does not expect. By default (False) the record is
            kept: that field is None, ``record.raw`` holds the JSON as
            received, and a WARNING names the field once per operation.

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
    reactions: AsyncReactions
    """Reactions and poll votes on messages: add, list, retrieve and remove them."""

    @takes_options(AsyncClientConfig)
    def __init__(self, config: ClientConfig) -> None:
        # The options are checked by the config record; see whop_dm/_config.py.
        self._setup(config)

    @classmethod
    def _from_config(cls, config: ClientConfig) -> AsyncClient:
        """A client for a config already built (the blocking Client's way in)."""
        client = cls.__new__(cls)
        client._setup(config)
        return client

    def _setup(self, config: ClientConfig) -> None:
        self._config = config
        self._created_at = _where_created()
        self._transport = Transport(config)
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
            if name == "reactions":
                from ._reactions import AsyncReactions

                self.reactions = AsyncReactions(self._transport)
                return self.reactions
            raise AttributeError(f"'AsyncClient' object has no attribute {name!r}")

    @property
    def base_url(self) -> str:
        """The API root requests go to."""
        return self._transport.base_url

    @property
    def is_closed(self) -> bool:
        """True once `aclose` has run."""
        return self._transport.is_closed

    def rate_limit_held(self) -> dict[str, float]:
        """Seconds each operation has spent held by the rate limit so far.

        Keyed by operation (``"POST /dm_members"``); the wall time during
        which at least one request of the operation waited for its budget or
        for a pause after a 429, not a sum over requests. Empty when nothing
        was ever held.
        """
        return self._transport.pacer.held()

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

    def __del__(self, _warn: Callable[..., None] = warnings.warn) -> None:
        # Only said, never done here: the session must be closed on its own
        # loop, which may be gone.
        transport = self.__dict__.get("_transport")
        if transport is not None and transport.owns_open_session:
            where = self.__dict__.get("_created_at") or (
                "\n(run with -X tracemalloc to see where the client was created)"
            )
            _warn(
                f"unclosed {self!r}: close it with `async with` or `await client.aclose()`" + where,
                ResourceWarning,
            )
