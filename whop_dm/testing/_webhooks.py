"""The fake's webhooks: signed deliveries of chat events, Whop's retries, and faults.

Written from Whop's published description (see ``spec/webhooks.md`` of the
project), not from the client: it signs with the standard library's ``hmac``
and imports nothing of ``whop_dm.webhooks``, so the two check each other.

- Each event goes to every endpoint subscribed to its type, once per
  endpoint, with a fresh ``webhook-id`` per (event, endpoint) that stays the
  same on every retry. Each attempt is signed anew with a fresh
  ``webhook-timestamp``.
- An attempt fails on a non-2xx status, a redirect (never followed), a
  connection error or no answer within ``timeout``; the next waits the next
  delay of ``retry_schedule``. After the last, the delivery is given up.
- Faults: a share of events delivered twice (``duplicate``), held back so
  later ones overtake them (``reorder``), every delivery held for ``delay``
  seconds, and attempts signed with a wrong key (``bad_signature_next``).
- Unlike Whop, which refuses them, loopback URLs are the only ones allowed:
  the fake never sends anything off the machine.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import itertools
import json
import random
import secrets
import string
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from whop_dm.testing._store import Channel, Store, iso_ms, now_ms

if TYPE_CHECKING:
    import aiohttp

__all__ = [
    "CHAT_MESSAGE_CREATED",
    "CHAT_REACTION_CREATED",
    "DEFAULT_RETRY_SCHEDULE",
    "WebhookControls",
    "WebhookDelivery",
    "WebhookSender",
    "sign_webhook",
]

CHAT_MESSAGE_CREATED = "chat.message.created"
CHAT_REACTION_CREATED = "chat.reaction.created"
EVENT_TYPES = (CHAT_MESSAGE_CREATED, CHAT_REACTION_CREATED)

# Whop waits 30 s, 2 min, 8 min, 30 min, 1 h, 3 h, 6 h, then 12 h six times.
# The fake keeps the count (12 retries) and shrinks the waits for tests.
WHOP_RETRY_SCHEDULE = (30.0, 120.0, 480.0, 1800.0, 3600.0, 10800.0, 21600.0) + (43200.0,) * 5
DEFAULT_RETRY_SCHEDULE = (0.05, 0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0)
DEFAULT_TIMEOUT = 5.0  # Whop's: an answer later than 5 s is a failed attempt
_ALPHABET = string.ascii_letters + string.digits


def sign_webhook(
    body: bytes, secret: str, *, webhook_id: str, timestamp: int | None = None
) -> dict[str, str]:
    """The three ``webhook-*`` headers Whop would send with ``body``.

    The HMAC-SHA256 key is the literal UTF-8 bytes of the whole ``ws_...``
    secret, as Whop signs; ``timestamp`` defaults to now (Unix seconds).
    For testing your own handlers without running the fake.
    """
    stamp = int(time.time()) if timestamp is None else int(timestamp)
    signed = f"{webhook_id}.{stamp}.".encode() + body
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).digest()
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": "v1," + base64.b64encode(digest).decode("ascii"),
    }


def _is_loopback(host: str) -> bool:
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_webhook_url(url: str) -> str:
    """An absolute http(s) URL on loopback; anything else is refused."""
    from yarl import URL

    if not isinstance(url, str):
        raise TypeError(f"url must be a string, not {type(url).__name__}")
    parsed = URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"a webhook URL must be an absolute http(s) URL, got {url!r}")
    if not _is_loopback(parsed.host):
        raise ValueError(
            f"the fake delivers webhooks to loopback addresses only (127.0.0.1, ::1, "
            f"localhost), not to {parsed.host!r}"
        )
    return url


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One attempt to deliver an event to an endpoint, in the order they were made.

    ``status`` is None when no answer came (``error`` says why).
    ``duplicate`` marks the extra copy sent by the duplicate fault, and
    ``bad_signature`` an attempt signed with a wrong key on purpose.
    """

    webhook_id: str
    event_type: str
    url: str
    attempt: int
    status: int | None
    error: str | None
    duplicate: bool
    bad_signature: bool
    body: bytes = field(repr=False)
    headers: Mapping[str, str] = field(repr=False)
    sent_at: float = field(repr=False)

    @property
    def ok(self) -> bool:
        """True for a 2xx answer."""
        return self.status is not None and 200 <= self.status < 300

    @property
    def json(self) -> Any:
        """The event as sent."""
        return json.loads(self.body)


@dataclass(slots=True)
class _Endpoint:
    id: str
    url: str
    secret: str
    events: frozenset[str] | None
    retry_schedule: tuple[float, ...]
    timeout: float
    api_version_date: str | None

    def wants(self, event_type: str) -> bool:
        return self.events is None or event_type in self.events


@dataclass(slots=True)
class _Faults:
    duplicate: float = 0.0
    reorder: float = 0.0
    reorder_window: float = 0.2
    delay: float = 0.0
    bad_signature: int = 0


class WebhookSender:
    """Endpoints, the deliveries in flight and made, and the faults to apply.

    Thread-safe: events come from the fake's request path (on its loop) or
    from a test thread (``send_message_as``); deliveries run on the fake's loop.
    """

    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self._ids = itertools.count(1)
        self._endpoints: list[_Endpoint] = []
        self._deliveries: list[WebhookDelivery] = []
        self._faults = _Faults()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._outstanding = 0

    # -- set-up -------------------------------------------------------------------------

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def add(
        self,
        url: str,
        secret: str | None,
        events: Iterable[str] | None,
        retry_schedule: Sequence[float] | None,
        timeout: float,
        api_version_date: str | None,
    ) -> str:
        check_webhook_url(url)
        if secret is None:
            secret = "ws_" + secrets.token_hex(32)
        elif not isinstance(secret, str) or not secret.strip():
            raise ValueError("secret must be a non-empty string, or None for a new one")
        if isinstance(events, str):
            raise TypeError("events must be a list of event names, not one string")
        wanted = None if events is None else frozenset(events)
        schedule = DEFAULT_RETRY_SCHEDULE if retry_schedule is None else tuple(retry_schedule)
        if any(delay < 0 for delay in schedule):
            raise ValueError("retry_schedule delays cannot be negative")
        if not timeout > 0:
            raise ValueError("timeout must be above 0 seconds")
        with self._lock:
            endpoint_id = "hook_" + "".join(self._random.choices(_ALPHABET, k=14))
            self._endpoints.append(
                _Endpoint(
                    endpoint_id, url, secret, wanted, schedule, float(timeout), api_version_date
                )
            )
        return secret

    def set_faults(
        self, duplicate: float, reorder: float, delay: float, reorder_window: float
    ) -> None:
        for name, rate in (("duplicate", duplicate), ("reorder", reorder)):
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} must be a share between 0 and 1")
        if delay < 0 or reorder_window < 0:
            raise ValueError("delays cannot be negative")
        with self._lock:
            self._faults.duplicate = duplicate
            self._faults.reorder = reorder
            self._faults.delay = delay
            self._faults.reorder_window = reorder_window

    def bad_signature_next(self, count: int) -> None:
        if count < 0:
            raise ValueError("count cannot be negative")
        with self._lock:
            self._faults.bad_signature += count

    # -- inspection ---------------------------------------------------------------------

    @property
    def deliveries(self) -> list[WebhookDelivery]:
        with self._lock:
            return list(self._deliveries)

    @property
    def outstanding(self) -> int:
        with self._lock:
            return self._outstanding

    # -- events -------------------------------------------------------------------------

    def emit(self, event_type: str, channel: Channel, data: dict[str, Any]) -> None:
        """Queue one event for every endpoint that wants it (callable from any thread)."""
        with self._lock:
            targets = [e for e in self._endpoints if e.wants(event_type)]
            if not targets:
                return
            loop = self._loop
            if loop is None or loop.is_closed():
                raise RuntimeError("the fake is not running: start it before sending webhooks")
            jobs = []
            for endpoint in targets:
                webhook_id = "msg_" + "".join(self._random.choices(_ALPHABET, k=24))
                payload = _envelope(webhook_id, event_type, channel, data, endpoint)
                body = json.dumps(payload, separators=(",", ":")).encode()
                copies = 2 if self._random.random() < self._faults.duplicate else 1
                for copy in range(copies):
                    hold = self._faults.delay
                    if self._random.random() < self._faults.reorder:
                        hold += self._random.uniform(0.0, self._faults.reorder_window)
                    jobs.append((endpoint, webhook_id, event_type, body, hold, copy > 0))
            self._outstanding += len(jobs)
        for job in jobs:
            loop.call_soon_threadsafe(self._start, job)

    def _start(self, job: tuple[_Endpoint, str, str, bytes, float, bool]) -> None:
        task = asyncio.get_running_loop().create_task(self._deliver(*job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(
        self,
        endpoint: _Endpoint,
        webhook_id: str,
        event_type: str,
        body: bytes,
        hold: float,
        duplicate: bool,
    ) -> None:
        try:
            if hold:
                await asyncio.sleep(hold)
            waits = (*endpoint.retry_schedule, None)
            for attempt, wait in enumerate(waits, start=1):
                if await self._attempt(endpoint, webhook_id, event_type, body, attempt, duplicate):
                    return
                if wait is None:
                    return
                await asyncio.sleep(wait)
        finally:
            with self._lock:
                self._outstanding -= 1

    async def _attempt(
        self,
        endpoint: _Endpoint,
        webhook_id: str,
        event_type: str,
        body: bytes,
        attempt: int,
        duplicate: bool,
    ) -> bool:
        import aiohttp

        with self._lock:
            bad = self._faults.bad_signature > 0
            if bad:
                self._faults.bad_signature -= 1
        key = "ws_wrong_" + secrets.token_hex(8) if bad else endpoint.secret
        headers = {
            **sign_webhook(body, key, webhook_id=webhook_id),
            "content-type": "application/json",
            "user-agent": "whop-dm-fake-webhooks",
        }
        if self._session is None:
            self._session = aiohttp.ClientSession()
        status: int | None = None
        error: str | None = None
        try:
            async with self._session.post(
                endpoint.url,
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=endpoint.timeout),
                allow_redirects=False,
            ) as response:
                status = response.status
                await response.read()
        except asyncio.TimeoutError:
            error = f"no answer within {endpoint.timeout:g} s"
        except aiohttp.ClientError as exc:
            error = f"{type(exc).__name__}: {exc}"
        record = WebhookDelivery(
            webhook_id=webhook_id,
            event_type=event_type,
            url=endpoint.url,
            attempt=attempt,
            status=status,
            error=error,
            duplicate=duplicate,
            bad_signature=bad,
            body=body,
            headers=headers,
            sent_at=time.time(),
        )
        with self._lock:
            self._deliveries.append(record)
        return record.ok

    async def wait_idle(self, timeout: float) -> None:
        """Return once no delivery is waiting or in flight; TimeoutError after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while self.outstanding:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{self.outstanding} webhook deliveries still pending after {timeout:g} s"
                )
            await asyncio.sleep(0.01)

    async def close(self) -> None:
        """Cancel what is still being delivered and close the HTTP session."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        session, self._session = self._session, None
        if session is not None:
            await session.close()


def _envelope(
    webhook_id: str,
    event_type: str,
    channel: Channel,
    data: dict[str, Any],
    endpoint: _Endpoint,
) -> dict[str, Any]:
    # Whop's docs show the webhook-id header and the body's id equal.
    payload: dict[str, Any] = {
        "id": webhook_id,
        "type": event_type,
        "api_version": "v1",
        "timestamp": iso_ms(now_ms()),
    }
    if endpoint.api_version_date is not None:
        payload["api_version_date"] = endpoint.api_version_date
        payload["account_id"] = channel.company_id
    else:
        payload["company_id"] = channel.company_id
    payload["data"] = {
        "audience": {"type": "users", "user_ids": list(channel.members)},
        "channel": {"id": channel.id, "type": "direct_message", "experience_id": None},
        "reason": "channel_message",
        **data,
    }
    return payload


class WebhookControls:
    """The webhook side of ``FakeWhop``: endpoints, customer messages, faults, deliveries."""

    _lock: threading.RLock
    _store: Store
    _webhooks: WebhookSender

    def add_webhook(
        self,
        url: str,
        *,
        secret: str | None = None,
        events: Iterable[str] | None = None,
        retry_schedule: Sequence[float] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        api_version_date: str | None = None,
    ) -> str:
        """Deliver events to ``url`` from now on; returns the endpoint's secret.

        Args:
            url: where to POST, on loopback (``http://127.0.0.1:8080/webhooks/whop``).
            secret: the signing secret; a new ``ws_...`` one when None.
            events: the event names to send (default: every one).
            retry_schedule: seconds to wait before each retry of a failed
                attempt; its length is the number of retries. The default is
                fast (12 retries within about 8 s); Whop's own waits are
                ``WHOP_RETRY_SCHEDULE``.
            timeout: seconds an attempt may wait for the answer (Whop: 5).
            api_version_date: when set, events carry it and ``account_id``,
                like a webhook pinned to a dated API version; otherwise they
                carry ``company_id``, like an unpinned one.
        """
        return self._webhooks.add(url, secret, events, retry_schedule, timeout, api_version_date)

    def send_message_as(self, user_id: str, channel_id: str, content: str) -> dict[str, Any]:
        """Post a message as ``user_id`` (a customer writing), with its webhooks.

        The message is stored as if ``user_id`` had posted it through the API,
        and returned as the API would answer it.

        Raises:
            ValueError: unknown user, a channel the user is not a member of,
                or blank content.
        """
        from whop_dm.testing._envelope import ApiError

        with self._lock:
            user = self._store.users.get(user_id)
            if user is None:
                raise ValueError(f"unknown user {user_id!r}: add_user() it first")
            try:
                answer: dict[str, Any] = self._store.create_message(
                    user, {"channel_id": channel_id, "content": content}
                )
            except ApiError as error:
                raise ValueError(f"cannot post as {user_id!r}: {error.message}") from None
            return answer

    def webhook_faults(
        self,
        *,
        duplicate: float = 0.0,
        reorder: float = 0.0,
        delay: float = 0.0,
        reorder_window: float = 0.2,
    ) -> None:
        """Fault later deliveries; ``webhook_faults()`` turns every fault off.

        Args:
            duplicate: the share of events delivered twice (same ``webhook-id``).
            reorder: the share of events held back up to ``reorder_window``
                seconds, so that later events overtake them.
            delay: seconds every delivery waits before its first attempt.
        """
        self._webhooks.set_faults(duplicate, reorder, delay, reorder_window)

    def bad_signature_next(self, count: int = 1) -> None:
        """Sign the next ``count`` delivery attempts with a wrong key.

        A receiver should refuse them (401); the fake then retries, correctly signed.
        """
        self._webhooks.bad_signature_next(count)

    @property
    def webhook_deliveries(self) -> list[WebhookDelivery]:
        """Every delivery attempt made so far, oldest first (retries and copies included)."""
        return self._webhooks.deliveries

    @property
    def webhooks_pending(self) -> int:
        """Deliveries queued, in flight or waiting to retry."""
        return self._webhooks.outstanding

    async def wait_for_webhooks(self, timeout: float = 30.0) -> None:
        """Wait until every delivery has succeeded or been given up.

        Works from any event loop or thread's loop. Raises TimeoutError after ``timeout`` s.
        """
        await self._webhooks.wait_idle(timeout)
