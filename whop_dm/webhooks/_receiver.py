"""``WebhookReceiver``: an aiohttp.web endpoint that verifies, deduplicates and dispatches.

Whop counts an answer that is not 2xx within 5 seconds as a failure and
sends the event again, so the receiver answers as soon as a delivery is
verified and its handlers are queued; the handlers run afterwards as tasks,
at most ``max_concurrency`` at once.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from aiohttp import web

from .._errors import WebhookVerificationError
from .._log import get_logger
from ._dedup import DedupStore, MemoryDedupStore, RedisDedupStore
from ._events import (
    ChatMessageCreated,
    ChatReactionCreated,
    UnknownEvent,
    WebhookEvent,
    parse_event,
)
from ._verify import check_secrets, check_tolerance, verified_payload

if TYPE_CHECKING:
    from .._redis_store import RedisStore

__all__ = ["ANY_EVENT", "DEFAULT_MAX_BODY_SIZE", "WebhookReceiver"]

_log = get_logger("whop_dm.webhooks")

E = TypeVar("E", bound=WebhookEvent)
Handler = Callable[[E], Awaitable[Any]]

ANY_EVENT = "*"
# Standard Webhooks advises events under ~20 kB; 1 MiB leaves a wide margin
# and still stops a client from making the receiver hold a huge body.
DEFAULT_MAX_BODY_SIZE = 1024 * 1024


class WebhookReceiver:
    """Receive Whop's webhooks in an ``aiohttp.web`` application.

    Register async handlers, then serve `app` (or mount `handler` on a route
    of your own app)::

        receiver = WebhookReceiver(os.environ["WHOP_WEBHOOK_SECRET"])

        @receiver.on_direct_message
        async def reply(event: ChatMessageCreated) -> None: ...

        web.run_app(receiver.app(), port=8080)

    Answers: 200 once a delivery is verified and its handlers are queued (or
    when it is a duplicate, which is not handled again); 401 when the
    signature, its headers or its timestamp do not check out; 400 for a
    correctly signed body that is not a JSON object; 413 for a body over
    ``max_body_size``; 503 while shutting down, when ``max_pending`` events
    already wait, or when the dedup store cannot be reached, so that Whop
    sends it again later. Rejected deliveries reach no handler.

    Args:
        secret: the endpoint's ``ws_...`` secret exactly as Whop shows it, or
            several (during a rotation, any of them is accepted).
        tolerance: seconds a delivery's timestamp may be away from now, either way.
        max_body_size: the largest body read, in bytes.
        max_concurrency: handlers running at once.
        max_pending: events accepted but not yet handled, at most.
        dedup: where handled ``webhook-id`` values are remembered
            (default: a `MemoryDedupStore` of this process). When several
            processes receive for one endpoint, pass a `RedisDedupStore`, or
            the `whop_dm.RedisStore` your clients pace with (its Redis then
            keeps the ids too, under ``whop_dm:webhook:``).
        retry_on_error: False (the default): a handler's exception is logged
            with the event id and the delivery is still answered 200. True:
            handlers run before the answer, and if one raises the answer is
            500 and the id is forgotten, so Whop delivers the event again;
            the handlers must then finish well within Whop's 5 seconds.
    """

    def __init__(
        self,
        secret: str | Sequence[str],
        *,
        tolerance: float = 300.0,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        max_concurrency: int = 32,
        max_pending: int = 10_000,
        dedup: DedupStore | RedisStore | None = None,
        retry_on_error: bool = False,
    ) -> None:
        self._keys = check_secrets(secret)
        self._tolerance = check_tolerance(tolerance)
        for name, value in (
            ("max_body_size", max_body_size),
            ("max_concurrency", max_concurrency),
            ("max_pending", max_pending),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int of 1 or more")
        if _is_redis_store(dedup):
            # The rate-limit store: its Redis holds the handled ids too.
            dedup = RedisDedupStore(dedup)
        if dedup is not None and not isinstance(dedup, DedupStore):
            raise TypeError("dedup must have async claim(key) and release(key) methods")
        self._max_body = max_body_size
        self._max_pending = max_pending
        self._limit = asyncio.Semaphore(max_concurrency)
        self._dedup: DedupStore = dedup if dedup is not None else MemoryDedupStore()
        self._retry_on_error = bool(retry_on_error)
        self._handlers: dict[str, list[Handler[Any]]] = {}
        self._dm_handlers: list[Handler[ChatMessageCreated]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False
        self.accepted = 0
        """Deliveries verified and queued (duplicates not counted)."""
        self.duplicates = 0
        """Deliveries of an id already handled, answered 200 and dropped."""
        self.rejected = 0
        """Deliveries refused with a 4xx."""
        self.failed = 0
        """Handler calls that raised."""

    # -- registering ------------------------------------------------------------------

    # The typed overloads overlap the catch-all str one on purpose: a literal
    # name picks its event class, any other string the base class.
    @overload
    def on(  # type: ignore[overload-overlap]
        self, event_type: Literal["chat.message.created"]
    ) -> Callable[[Handler[ChatMessageCreated]], Handler[ChatMessageCreated]]: ...

    @overload
    def on(  # type: ignore[overload-overlap]
        self, event_type: Literal["chat.reaction.created"]
    ) -> Callable[[Handler[ChatReactionCreated]], Handler[ChatReactionCreated]]: ...

    @overload
    def on(self, event_type: str) -> Callable[[Handler[WebhookEvent]], Handler[WebhookEvent]]: ...

    def on(self, event_type: str) -> Callable[[Handler[Any]], Handler[Any]]:
        """Register an async handler for one event type (``"*"``: every event).

        A handler of ``"chat.message.created"`` gets a `ChatMessageCreated`,
        of ``"chat.reaction.created"`` a `ChatReactionCreated`; any other
        type comes as an `UnknownEvent`. A known type whose data could not be
        read goes only to ``"*"`` handlers (as an `UnknownEvent` with ``error``).
        """
        if not isinstance(event_type, str) or not event_type:
            raise ValueError("event_type must be an event name such as 'chat.message.created'")

        def register(func: Handler[Any]) -> Handler[Any]:
            if not asyncio.iscoroutinefunction(func):
                raise TypeError("a webhook handler must be an async function")
            self._handlers.setdefault(event_type, []).append(func)
            return func

        return register

    def on_direct_message(self, func: Handler[ChatMessageCreated]) -> Handler[ChatMessageCreated]:
        """Register an async handler for messages posted in DM channels."""
        if not asyncio.iscoroutinefunction(func):
            raise TypeError("a webhook handler must be an async function")
        self._dm_handlers.append(func)
        return func

    # -- serving ------------------------------------------------------------------------

    def app(self, path: str = "/webhooks/whop") -> web.Application:
        """A ready ``aiohttp.web.Application`` that receives on ``POST path``.

        Running handlers are drained when the application shuts down.
        """
        application = web.Application()
        self.setup(application, path)
        return application

    def setup(self, app: web.Application, path: str = "/webhooks/whop") -> None:
        """Add ``POST path`` to your application, and drain handlers on its shutdown."""
        if not isinstance(path, str) or not path.startswith("/"):
            raise ValueError("path must start with '/'")
        app.router.add_post(path, self.handler)
        app.on_shutdown.append(self._on_shutdown)

    async def _on_shutdown(self, _app: web.Application) -> None:
        await self.drain()

    async def handler(self, request: web.Request) -> web.Response:
        """The aiohttp request handler: mount it on a POST route."""
        if self._closing:
            return _answer(503, "shutting down")
        body = await _read_capped(request, self._max_body)
        if body is None:
            self.rejected += 1
            _log.warning("rejected a webhook delivery: body over %d bytes", self._max_body)
            return _answer(413, "body too large")
        try:
            webhook_id, payload = verified_payload(
                body, request.headers, self._keys, self._tolerance
            )
        except WebhookVerificationError as exc:
            self.rejected += 1
            _log.warning("rejected a webhook delivery (%s): %s", exc.reason, exc)
            return _answer(400 if exc.is_bad_body else 401, str(exc))
        event = parse_event(payload, webhook_id=webhook_id)
        try:
            first = await self._dedup.claim(webhook_id)
        except Exception:
            # The shared store is down: let Whop send it again later rather
            # than handle it without knowing whether another process did.
            _log.exception("could not record webhook %s as handled; answering 503", webhook_id)
            return _answer(503, "dedup store unavailable")
        if not first:
            self.duplicates += 1
            _log.debug("webhook %s is a duplicate; not handled again", webhook_id)
            return _answer(200, "duplicate")
        if self._retry_on_error:
            async with self._limit:
                ok = await self._run_handlers(event)
            if not ok:
                await self._forget(webhook_id)
                return _answer(500, "a handler failed; send it again")
            self.accepted += 1
            return _answer(200, "handled")
        if len(self._tasks) >= self._max_pending or self._closing:
            await self._forget(webhook_id)
            return _answer(503, "too many events waiting")
        self.accepted += 1
        task = asyncio.get_running_loop().create_task(self._guarded(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return _answer(200, "queued")

    async def _forget(self, webhook_id: str) -> None:
        try:
            await self._dedup.release(webhook_id)
        except Exception:
            # The retry will then be taken for a duplicate until the id expires.
            _log.exception("could not forget webhook %s in the dedup store", webhook_id)

    # -- handling ------------------------------------------------------------------------

    def handlers_for(self, event: WebhookEvent) -> list[Handler[Any]]:
        """The handlers an event goes to, in the order they were registered."""
        found: list[Handler[Any]] = []
        readable = not (isinstance(event, UnknownEvent) and event.error is not None)
        if readable:
            found.extend(self._handlers.get(event.type, ()))
            if isinstance(event, ChatMessageCreated) and event.is_direct_message:
                found.extend(self._dm_handlers)
        found.extend(self._handlers.get(ANY_EVENT, ()))
        return found

    async def dispatch(self, event: WebhookEvent) -> bool:
        """Run the handlers of an already verified event now; False if one raised.

        Skips deduplication: for events you verified yourself, or in tests.
        """
        async with self._limit:
            return await self._run_handlers(event)

    async def _guarded(self, event: WebhookEvent) -> None:
        async with self._limit:
            await self._run_handlers(event)

    async def _run_handlers(self, event: WebhookEvent) -> bool:
        ok = True
        for func in self.handlers_for(event):
            try:
                await func(event)
            except Exception:
                ok = False
                self.failed += 1
                _log.exception(
                    "webhook handler %s failed on event %s (%s, webhook-id %s)",
                    getattr(func, "__qualname__", func),
                    event.id,
                    event.type,
                    event.webhook_id,
                )
        return ok

    @property
    def pending(self) -> int:
        """Events accepted whose handlers have not finished."""
        return len(self._tasks)

    async def drain(self, timeout: float | None = 30.0) -> None:
        """Stop accepting (503), wait up to ``timeout`` s for running handlers, cancel the rest."""
        self._closing = True
        if not self._tasks:
            return
        _done, still = await asyncio.wait(set(self._tasks), timeout=timeout)
        if still:
            _log.warning("cancelling %d webhook handler(s) still running at shutdown", len(still))
            for task in still:
                task.cancel()
            await asyncio.gather(*still, return_exceptions=True)

    def __repr__(self) -> str:
        # Never the secret.
        return (
            f"<WebhookReceiver {len(self._keys)} secret(s), accepted={self.accepted}, "
            f"duplicates={self.duplicates}, rejected={self.rejected}, pending={self.pending}>"
        )


def _is_redis_store(value: object) -> bool:
    # Without importing redis: a RedisStore exists only once its module is loaded.
    module = sys.modules.get("whop_dm._redis_store")
    return module is not None and isinstance(value, module.RedisStore)


def _answer(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=text)


async def _read_capped(request: web.Request, cap: int) -> bytes | None:
    """The whole body, or None as soon as it grows past ``cap`` bytes."""
    declared = request.content_length
    if declared is not None and declared > cap:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
        if size > cap:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
