"""``FakeWhop``: the DM API over real HTTP on loopback, backed by ``Store``.

One pass per request, in this order: record it, claim its faults, answer a
fault that acts before handling, check the key (401) and its scope (403),
apply the rate limit (429), claim its ``Idempotency-Key`` (replay, 400, 409),
wait out an injected delay, handle it, and finally apply a fault scripted with
``after=True``. The synchronous parts run under one lock, so a test thread can
drive the controls while the server runs in another (``FakeWhop.in_thread``).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from aiohttp import web

from whop_dm._loop_guard import register_server
from whop_dm.testing._envelope import ApiError, envelope, rate_limit_envelope
from whop_dm.testing._faults import DROP, FAIL, MALFORMED, FaultPlan, Outcome
from whop_dm.testing._idempotency import HEADER as IDEMPOTENCY_HEADER
from whop_dm.testing._idempotency import IdempotencyKeys, Replay
from whop_dm.testing._rate_limit import SlidingWindow
from whop_dm.testing._records import (
    API_PREFIX,
    ChannelSnapshot,
    MembershipSnapshot,
    MessageSnapshot,
    ReactionSnapshot,
    RecordedRequest,
)
from whop_dm.testing._store import (
    SCOPE_CHANNEL_MANAGE,
    SCOPE_MESSAGE_MANAGE,
    SCOPE_READ,
    Store,
    User,
)
from whop_dm.testing._webhooks import WebhookControls, WebhookSender

_UNAUTHORIZED = json.dumps(envelope(401, "Invalid or missing API key")).encode()
_MUTATING = frozenset({"POST", "PATCH", "DELETE"})
_DEFAULT_MALFORMED = b'{"id": "feed_'  # a cut-off JSON object, sent as application/json


def _dumps(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class _Call:
    """The decoded parts of a request an operation may need."""

    body: bytes
    query: Mapping[str, str]
    id: str

    def json(self) -> Mapping[str, Any]:
        if not self.body.strip():
            return {}
        try:
            value = json.loads(self.body)
        except ValueError:
            raise ApiError(
                400, "The request body is not valid JSON.", code="invalid_json"
            ) from None
        if not isinstance(value, dict):
            raise ApiError.invalid(None, "The request body must be a JSON object.")
        return value


Operation = Callable[[Store, User, _Call], Any]


@dataclass(frozen=True, slots=True)
class _Route:
    method: str
    template: str  # relative to the base URL, e.g. "/dm_members/{id}"
    scope: str
    run: Operation

    @property
    def operation(self) -> str:
        return f"{self.method} {self.template}"


# Scopes follow the seed spec where Whop's full OpenAPI text disagrees with it
# (it lists dms:message:manage for adding members, dms:read for changing them).
_ROUTES = (
    _Route(
        "POST", "/dm_channels", SCOPE_CHANNEL_MANAGE, lambda s, u, c: s.create_channel(u, c.json())
    ),
    _Route("GET", "/dm_channels", SCOPE_READ, lambda s, u, c: s.list_channels(u, c.query)),
    _Route("GET", "/dm_channels/{id}", SCOPE_READ, lambda s, u, c: s.retrieve_channel(u, c.id)),
    _Route(
        "PATCH",
        "/dm_channels/{id}",
        SCOPE_CHANNEL_MANAGE,
        lambda s, u, c: s.update_channel(u, c.id, c.json()),
    ),
    _Route(
        "DELETE",
        "/dm_channels/{id}",
        SCOPE_CHANNEL_MANAGE,
        lambda s, u, c: s.delete_channel(u, c.id),
    ),
    _Route(
        "POST", "/dm_members", SCOPE_CHANNEL_MANAGE, lambda s, u, c: s.create_member(u, c.json())
    ),
    _Route("GET", "/dm_members", SCOPE_READ, lambda s, u, c: s.list_members(u, c.query)),
    _Route("GET", "/dm_members/{id}", SCOPE_READ, lambda s, u, c: s.retrieve_member(u, c.id)),
    _Route(
        "PATCH",
        "/dm_members/{id}",
        SCOPE_CHANNEL_MANAGE,
        lambda s, u, c: s.update_member(u, c.id, c.json()),
    ),
    _Route(
        "DELETE", "/dm_members/{id}", SCOPE_CHANNEL_MANAGE, lambda s, u, c: s.delete_member(u, c.id)
    ),
    _Route(
        "POST", "/messages", SCOPE_MESSAGE_MANAGE, lambda s, u, c: s.create_message(u, c.json())
    ),
    _Route("GET", "/messages", SCOPE_READ, lambda s, u, c: s.list_messages(u, c.query)),
    _Route("GET", "/messages/{id}", SCOPE_READ, lambda s, u, c: s.retrieve_message(u, c.id)),
    _Route(
        "PATCH",
        "/messages/{id}",
        SCOPE_MESSAGE_MANAGE,
        lambda s, u, c: s.update_message(u, c.id, c.json()),
    ),
    _Route(
        "DELETE", "/messages/{id}", SCOPE_MESSAGE_MANAGE, lambda s, u, c: s.delete_message(u, c.id)
    ),
    # No seed covers reactions: their scope is the one Whop's OpenAPI text
    # names for all four (dms:read), surprising as it is for a write.
    _Route("POST", "/reactions", SCOPE_READ, lambda s, u, c: s.create_reaction(u, c.json())),
    _Route("GET", "/reactions", SCOPE_READ, lambda s, u, c: s.list_reactions(u, c.query)),
    _Route("GET", "/reactions/{id}", SCOPE_READ, lambda s, u, c: s.retrieve_reaction(u, c.id)),
    _Route(
        "DELETE", "/reactions/{id}", SCOPE_READ, lambda s, u, c: s.delete_reaction(u, c.id, c.query)
    ),
)


class FakeWhop(WebhookControls):
    """A stateful, in-memory Whop DM API on a loopback port.

    ``async with FakeWhop() as fake:`` starts it on a free port of 127.0.0.1;
    hand ``fake.base_url`` and a key from ``fake.add_api_key`` to the client.
    State, recorded requests and faults can be read and set from the test while
    it runs, from the event loop or (with ``in_thread``) from another thread.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_channel_members: int | None = 50,
        rate_limit_per_minute: int | None = None,
        rate_limit_window: float = 60.0,
        rate_limit_retry_after_header: bool = False,
        record_requests: bool = True,
        idempotency_key_ttl: float = 24 * 3600.0,
        clock: Callable[[], float] | None = None,
        seed: int | None = None,
        shutdown_timeout: float = 1.0,
    ) -> None:
        """
        ``max_channel_members``: Whop's cap of 50 members per DM channel, the
        creator included; None lifts it. ``rate_limit_per_minute``: allowed
        requests per operation (method and route) and key within
        ``rate_limit_window`` seconds (60 by default; shorten it in tests);
        None turns the limit off. Its 429 says "Try again in N seconds." with
        the real wait, and carries ``Retry-After`` only with
        ``rate_limit_retry_after_header=True``, since Whop does not promise it.
        ``record_requests=False`` keeps ``requests`` empty, for benchmarks and
        soak runs. ``seed`` makes generated ids repeatable.
        ``idempotency_key_ttl``: seconds a key is remembered (Whop: 24 hours);
        ``clock``, a function returning seconds, is the time that ages keys
        (``time.monotonic`` by default): a test that passes its own can move
        past the window without waiting.
        """
        if max_channel_members is not None and max_channel_members < 1:
            raise ValueError("max_channel_members must be at least 1, or None")
        self._host = host
        self._port = port
        self._record = record_requests
        self._shutdown_timeout = shutdown_timeout
        self._lock = threading.RLock()
        self._store = Store(max_channel_members=max_channel_members, seed=seed)
        self._webhooks = WebhookSender(seed)
        self._store.on_event = self._webhooks.emit
        self._faults = FaultPlan()
        self._idempotency = IdempotencyKeys(idempotency_key_ttl, clock or time.monotonic)
        self._limiter = (
            SlidingWindow(rate_limit_per_minute, rate_limit_window)
            if rate_limit_per_minute is not None
            else None
        )
        self._limit_header = rate_limit_retry_after_header
        self._requests: list[RecordedRequest] = []
        self._request_ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self._forget_loop: Callable[[], None] | None = None
        self._closed = False

    # -- lifecycle ------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on the configured host and port (0: a free one)."""
        if self._closed:
            raise RuntimeError("this FakeWhop was closed; make a new one")
        if self._runner is not None:
            raise RuntimeError("this FakeWhop is already started")
        app = web.Application()
        for route in _ROUTES:
            app.router.add_route(route.method, API_PREFIX + route.template, self._handler(route))
        # Anything else, including a known path with the wrong method, gets the envelope.
        app.router.add_route("*", "/{tail:.*}", self._handler(None))
        runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=self._shutdown_timeout
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._host, self._port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._webhooks.attach(asyncio.get_running_loop())
        host, port = runner.addresses[0][:2]
        shown = f"[{host}]" if ":" in host else host
        self._base_url = f"http://{shown}:{port}{API_PREFIX}"
        # So that the blocking Client, called where only this loop could answer
        # it (a synchronous test on whop_fake), raises at once instead of timing out.
        self._forget_loop = register_server(self._base_url, asyncio.get_running_loop())

    async def close(self) -> None:
        """Stop listening and drop open connections. Safe to call twice."""
        self._closed = True
        if self._forget_loop is not None:
            self._forget_loop()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        await self._webhooks.close()

    async def __aenter__(self) -> FakeWhop:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @classmethod
    @contextlib.contextmanager
    def in_thread(cls, **kwargs: Any) -> Iterator[FakeWhop]:
        """Run a FakeWhop on its own event loop in a daemon thread.

        For blocking tests and the sync client: the controls work from the
        calling thread. Takes the same keyword arguments as ``FakeWhop()``.
        """
        fake = cls(**kwargs)
        ready = threading.Event()
        failure: list[BaseException] = []
        loop_box: list[asyncio.AbstractEventLoop] = []
        stop_box: list[asyncio.Event] = []

        async def run() -> None:
            stop = asyncio.Event()
            loop_box.append(asyncio.get_running_loop())
            stop_box.append(stop)
            try:
                await fake.start()
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                return
            ready.set()
            try:
                await stop.wait()
            finally:
                await fake.close()

        thread = threading.Thread(target=asyncio.run, args=(run(),), name="FakeWhop", daemon=True)
        thread.start()
        if not ready.wait(timeout=30):
            raise RuntimeError("FakeWhop did not start within 30 s")
        if failure:
            thread.join(timeout=5)
            raise failure[0]

        def stop() -> None:
            if thread.is_alive():
                loop_box[0].call_soon_threadsafe(stop_box[0].set)
                thread.join(timeout=30)

        # A fake never exited (a REPL, a notebook) is stopped at exit, while
        # its thread still runs: once the interpreter finalizes, the thread
        # is frozen, and joining it then waits out the whole timeout.
        atexit.register(stop)
        try:
            yield fake
        finally:
            atexit.unregister(stop)
            stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/api/v1``; available once started."""
        if self._base_url is None:
            raise RuntimeError("FakeWhop is not started: use `async with FakeWhop() as fake`")
        return self._base_url

    # -- set-up ---------------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        *,
        username: str | None = None,
        email: str | None = None,
        name: str | None = None,
    ) -> None:
        """Add a user; ``with_user_ids`` may name it by id, username or email.

        ``username`` defaults to the id. Usernames and emails match without
        regard to case.
        """
        with self._lock:
            self._store.add_user(user_id, username, email, name)

    def add_api_key(self, key: str, *, user_id: str, scopes: Iterable[str] | None = None) -> str:
        """Give ``user_id`` an API key and return it. ``scopes=None``: every scope."""
        with self._lock:
            self._store.add_api_key(key, user_id, None if scopes is None else frozenset(scopes))
        return key

    # -- inspection -----------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the requests received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def rate_limited(self) -> dict[str, int]:
        """How many requests the rate limit refused (429), by operation.

        Operations are the method and route template, like
        ``"POST /dm_members"``; only refusals of the limit itself count, not
        injected faults. Empty when the fake has no rate limit.
        """
        with self._lock:
            return {} if self._limiter is None else dict(self._limiter.refused)

    @property
    def rate_limit_allowed(self) -> dict[str, int]:
        """How many requests the rate limit let through, by operation."""
        with self._lock:
            return {} if self._limiter is None else dict(self._limiter.allowed)

    @property
    def rate_limit_waits(self) -> dict[str, list[float]]:
        """The exact wait of each 429 of the rate limit, by operation, in seconds.

        The answer's "Try again in N seconds." is this rounded up to whole
        seconds (at least 1).
        """
        with self._lock:
            if self._limiter is None:
                return {}
            return {op: list(waits) for op, waits in self._limiter.waits.items()}

    def reset_rate_limit_counts(self) -> None:
        """Zero the counts above (the window itself is kept)."""
        with self._lock:
            if self._limiter is not None:
                self._limiter.reset_counts()

    def clear_requests(self) -> None:
        """Forget the requests recorded so far (``requests`` becomes empty)."""
        with self._lock:
            self._requests.clear()

    @property
    def channels(self) -> dict[str, ChannelSnapshot]:
        """Every channel held, by id, in creation order."""
        with self._lock:
            return {cid: Store.channel_snapshot(c) for cid, c in self._store.channels.items()}

    @property
    def memberships(self) -> list[MembershipSnapshot]:
        """Every membership of every channel, in creation order."""
        with self._lock:
            return [Store.membership_snapshot(m) for m in self._store.memberships.values()]

    def members_of(self, channel_id: str) -> list[MembershipSnapshot]:
        """The memberships of one channel in join order; empty for an unknown channel."""
        with self._lock:
            channel = self._store.channels.get(channel_id)
            if channel is None:
                return []
            return [Store.membership_snapshot(m) for m in channel.members.values()]

    @property
    def messages(self) -> list[MessageSnapshot]:
        """Every message held, in posting order."""
        with self._lock:
            return [Store.message_snapshot(m) for m in self._store.messages.values()]

    @property
    def reactions(self) -> list[ReactionSnapshot]:
        """Every reaction (emoji or poll vote) held, oldest first."""
        with self._lock:
            return [Store.reaction_snapshot(r) for r in self._store.reactions.values()]

    # -- faults -----------------------------------------------------------------------

    def fail_next(
        self,
        count: int = 1,
        status: int = 503,
        retry_after: int | None = None,
        path: str | None = None,
        header: bool = True,
        *,
        retry_after_ms: int | None = None,
        method: str | None = None,
        after: bool = False,
    ) -> None:
        """Answer the next ``count`` matching requests with ``status`` and the envelope.

        For a 429 the body is Whop's "Try again in N seconds." with N =
        ``retry_after`` (0 if None). ``retry_after`` also goes into a
        ``Retry-After`` header, for any status, unless ``header=False``;
        ``retry_after_ms`` adds a ``retry-after-ms`` header. ``path`` is relative
        to the base URL (``"/dm_members"``, or a template like
        ``"/dm_members/{id}"``); the full ``"/api/v1/..."`` form works too.
        ``after=True`` handles the request first (its state change stays) and
        then sends the failure instead of the answer.
        """
        if not 400 <= status <= 599:
            raise ValueError("fail_next needs an error status, 400 to 599")
        if retry_after is not None and retry_after < 0:
            raise ValueError("retry_after cannot be negative")
        outcome = Outcome(FAIL, status, retry_after, retry_after_ms, header=header, after=after)
        with self._lock:
            self._faults.add_outcome(count, outcome, path, method)

    def drop_next(
        self,
        count: int = 1,
        path: str | None = None,
        *,
        method: str | None = None,
        after: bool = False,
    ) -> None:
        """Close the connection of the next ``count`` matching requests without answering.

        With ``after=True`` the request is handled first: the answer is lost,
        not the request, and a retry with the same ``Idempotency-Key`` gets the
        first answer replayed.
        """
        with self._lock:
            self._faults.add_outcome(count, Outcome(DROP, after=after), path, method)

    def delay_next(
        self, count: int, seconds: float, path: str | None = None, *, method: str | None = None
    ) -> None:
        """Hold the next ``count`` matching requests for ``seconds`` before handling them.

        While held, the request counts as in flight for its ``Idempotency-Key``.
        A delay combines with one other fault on the same request.
        """
        with self._lock:
            self._faults.add_delay(count, seconds, path, method)

    def malformed_next(
        self,
        count: int = 1,
        path: str | None = None,
        *,
        method: str | None = None,
        after: bool = False,
        body: bytes = _DEFAULT_MALFORMED,
    ) -> None:
        """Answer 200 with ``application/json`` and a body that is not JSON."""
        with self._lock:
            self._faults.add_outcome(
                count, Outcome(MALFORMED, 200, body=body, after=after), path, method
            )

    def chaos(
        self,
        rate: float,
        seed: int = 0,
        *,
        retry_after: int = 0,
        statuses: tuple[int, ...] = (500, 502, 503),
        kinds: tuple[str, ...] = ("429", "5xx", "drop"),
        path: str | None = None,
    ) -> None:
        """Fault a ``rate`` share of the requests, drawn from a ``random.Random(seed)``.

        Each faulted request gets one of ``kinds``: a 429 with
        ``Retry-After: <retry_after>``, a status from ``statuses``, or a dropped
        connection. The same seed and the same sequence of requests give the
        same faults. Chaos faults act before handling. ``chaos(0)`` stops it.
        """
        with self._lock:
            self._faults.set_chaos(rate, seed, retry_after, tuple(statuses), tuple(kinds), path)

    def reset_faults(self) -> None:
        """Forget every scripted fault and stop chaos."""
        with self._lock:
            self._faults.clear()

    # -- the request path -------------------------------------------------------------

    def _handler(self, route: _Route | None) -> Callable[[web.Request], Any]:
        async def handle(request: web.Request) -> web.StreamResponse:
            return await self._handle(request, route)

        return handle

    async def _handle(self, request: web.Request, route: _Route | None) -> web.StreamResponse:
        method = request.method
        path = request.path
        api_path = path[len(API_PREFIX) :] if path.startswith(API_PREFIX) else path
        body = await request.read() if request.body_exists else b""
        with self._lock:
            request_id = f"req_{next(self._request_ids)}"
            if self._record:
                self._requests.append(
                    RecordedRequest(
                        method,
                        path,
                        request.raw_path,
                        dict(request.query),
                        request.headers,
                        body,
                        request_id,
                        time.monotonic(),
                    )
                )
            if self._faults.idle:
                delay, outcome = 0.0, None
            else:
                delay, outcome = self._faults.take(
                    api_path, route.template if route else None, method
                )
        headers = {"x-request-id": request_id}
        if outcome is not None and not outcome.after:
            if delay:
                await asyncio.sleep(delay)
            return self._fault(request, outcome, headers)

        slot: tuple[str, str] | None = None
        try:
            with self._lock:
                early = self._admit(request, route, body, api_path, headers)
                if isinstance(early, web.Response):
                    return early
                caller, slot = early
            if delay:
                await asyncio.sleep(delay)
            assert route is not None
            with self._lock:
                try:
                    call = _Call(body, request.query, request.match_info.get("id", ""))
                    status, answer = 200, _dumps(route.run(self._store, caller, call))
                except ApiError as error:
                    status, answer = error.status, _dumps(error.body())
                if slot is not None:
                    self._idempotency.finish(slot, status, answer)
                    slot = None
        finally:
            if slot is not None:  # cancelled while held: let a retry run afresh
                with self._lock:
                    self._idempotency.abandon(slot)
        if outcome is not None:
            return self._fault(request, outcome, headers)
        return web.Response(
            body=answer, status=status, content_type="application/json", headers=headers
        )

    def _admit(
        self,
        request: web.Request,
        route: _Route | None,
        body: bytes,
        api_path: str,
        headers: dict[str, str],
    ) -> web.Response | tuple[User, tuple[str, str] | None]:
        """Auth, scope, rate limit and idempotency: an early answer, or the go-ahead."""
        if route is None:
            return _json(
                404, envelope(404, f"No such endpoint: {request.method} {api_path}"), headers
            )
        authorization = request.headers.get("Authorization", "")
        scheme, _, token = authorization.partition(" ")
        api_key = self._store.keys.get(token.strip()) if scheme.lower() == "bearer" else None
        if api_key is None:
            return web.Response(
                body=_UNAUTHORIZED, status=401, content_type="application/json", headers=headers
            )
        if not api_key.allows(route.scope):
            message = (
                "You do not have permission to access this resource "
                f"(the API key lacks the scope {route.scope})."
            )
            return _json(403, envelope(403, message), headers)
        if self._limiter is not None:
            wait = self._limiter.check(route.operation, api_key.key)
            if wait is not None:
                if self._limit_header:
                    headers["Retry-After"] = str(wait)
                return _json(429, rate_limit_envelope(wait), headers)
        caller = self._store.users[api_key.user_id]
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None or request.method not in _MUTATING:
            return caller, None
        try:
            slot = self._idempotency.begin(api_key.key, key, request.method, request.raw_path, body)
        except Replay as replay:
            headers["Idempotent-Replayed"] = "true"
            return web.Response(
                body=replay.answer,
                status=replay.status,
                content_type="application/json",
                headers=headers,
            )
        except ApiError as error:
            return _json(error.status, error.body(), headers)
        return caller, slot

    def _fault(
        self, request: web.Request, outcome: Outcome, headers: dict[str, str]
    ) -> web.StreamResponse:
        if outcome.kind == DROP:
            transport = request.transport
            if transport is not None:
                transport.close()
            # Never reaches the client: aiohttp finds the transport closed and gives up quietly.
            return web.Response(status=500)
        if outcome.kind == MALFORMED:
            return web.Response(
                body=outcome.body, status=200, content_type="application/json", headers=headers
            )
        status = outcome.status
        if outcome.retry_after is not None and outcome.header:
            headers["Retry-After"] = str(outcome.retry_after)
        if outcome.retry_after_ms is not None:
            headers["retry-after-ms"] = str(outcome.retry_after_ms)
        if status == 429:
            payload = rate_limit_envelope(outcome.retry_after or 0)
        elif status >= 500:
            payload = envelope(status, "An unexpected error occurred")
        else:
            payload = envelope(status, "Injected failure")
        return _json(status, payload, headers)


def _json(status: int, payload: Any, headers: dict[str, str]) -> web.Response:
    return web.Response(
        body=_dumps(payload), status=status, content_type="application/json", headers=headers
    )
