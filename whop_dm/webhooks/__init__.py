"""Whop webhooks: verify a delivery, read it as a typed event, receive them in aiohttp.

``import whop_dm`` does not load this package; import it where you receive
webhooks::

    from whop_dm import webhooks

    event = webhooks.verify(body, headers, os.environ["WHOP_WEBHOOK_SECRET"])

Whop signs each delivery the Standard Webhooks way (``webhook-id``,
``webhook-timestamp``, ``webhook-signature: v1,<base64 HMAC-SHA256>``), with
one quirk: the HMAC key is the literal bytes of the ``ws_...`` secret, not a
base64-decoded ``whsec_`` key. Verification uses the standard library's
``hmac`` rather than the ``standardwebhooks`` package; ``_verify`` says why.
Redis is imported only when a `RedisDedupStore` is made from a URL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .._errors import WebhookVerificationError
from ._dedup import DEFAULT_TTL, DedupStore, MemoryDedupStore, RedisDedupStore
from ._events import (
    Audience,
    AudienceType,
    ChannelType,
    ChatMessageCreated,
    ChatReactionCreated,
    EventChannel,
    UnknownEvent,
    WebhookEvent,
    parse_event,
)
from ._receiver import ANY_EVENT, DEFAULT_MAX_BODY_SIZE, WebhookReceiver
from ._verify import check_secrets, check_tolerance, verified_payload

__all__ = [
    "ANY_EVENT",
    "DEFAULT_MAX_BODY_SIZE",
    "DEFAULT_TTL",
    "Audience",
    "AudienceType",
    "ChannelType",
    "ChatMessageCreated",
    "ChatReactionCreated",
    "DedupStore",
    "EventChannel",
    "MemoryDedupStore",
    "RedisDedupStore",
    "UnknownEvent",
    "WebhookEvent",
    "WebhookReceiver",
    "WebhookVerificationError",
    "parse_event",
    "verify",
]


def verify(
    body: bytes | str,
    headers: Mapping[str, str],
    secret: str | Sequence[str],
    *,
    tolerance: float = 300,
) -> WebhookEvent:
    """Check a delivery's signature and timestamp, and return it as a typed event.

    Args:
        body: the raw request body, exactly as received (a re-serialized
            body does not verify).
        headers: the request headers; ``webhook-id``, ``webhook-timestamp``
            and ``webhook-signature`` are found in any case.
        secret: the endpoint's ``ws_...`` secret exactly as Whop shows it
            (prefix included, not base64-decoded), or several during a
            rotation: a signature made with any of them passes.
        tolerance: seconds the timestamp may be from now, in the past or the
            future (Whop's guidance: 5 minutes).

    Returns:
        A `ChatMessageCreated`, a `ChatReactionCreated`, or an
        `UnknownEvent` for any other type (never an exception for those).

    Raises:
        WebhookVerificationError: a header is missing or malformed, no
            signature matches, the timestamp is too old or too far ahead, or
            the body is not a JSON object. ``reason`` says which.
        TypeError, ValueError: ``secret`` or ``tolerance`` is not usable (an
            empty secret, say): a mistake in the calling code, not in the
            delivery.

    Example:
        >>> event = webhooks.verify(body, headers, secret)  # doctest: +SKIP
        >>> if isinstance(event, webhooks.ChatMessageCreated):  # doctest: +SKIP
        ...     print(event.message.content)
    """
    keys = check_secrets(secret)
    webhook_id, payload = verified_payload(body, headers, keys, check_tolerance(tolerance))
    return parse_event(payload, webhook_id=webhook_id)
