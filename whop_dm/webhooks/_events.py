"""Typed webhook events: frozen attrs records built by the library's one converter.

Decoding is lenient, like a client's by default: unknown fields are ignored,
enum values this version does not list are kept, a field whose value does not
fit is None (the record's ``raw`` keeps the JSON as received), and an event
type it does not know becomes an `UnknownEvent` rather than an exception. A
known type whose ``data``, channel, message or reaction is not even a JSON
object also becomes an `UnknownEvent`, with ``error`` saying what was wrong;
the raw ``data`` is always kept on the event.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from .._converter import Decoder, get_converter, parse_timestamp
from .._enums import OpenStrEnum
from .._errors import ResponseDecodeError
from .._log import get_logger
from .._message_models import Message, Reaction

__all__ = [
    "Audience",
    "AudienceType",
    "ChannelType",
    "ChatMessageCreated",
    "ChatReactionCreated",
    "EventChannel",
    "UnknownEvent",
    "WebhookEvent",
    "parse_event",
]

_log = get_logger("whop_dm.webhooks")
# Lenient, like a client's default: a field that does not fit is None (the
# record's ``raw`` keeps it), with one WARNING per field and event type.
_DECODER = Decoder(strict=False)

CHAT_MESSAGE_CREATED = "chat.message.created"
CHAT_REACTION_CREATED = "chat.reaction.created"


class ChannelType(OpenStrEnum):
    """The kind of channel an event happened in."""

    CHAT = "chat"
    DIRECT_MESSAGE = "direct_message"
    SUPPORT = "support"


class AudienceType(OpenStrEnum):
    """Who can see the event: everyone in the channel, or listed users."""

    CHANNEL = "channel"
    USERS = "users"


@attrs.frozen(weakref_slot=False)
class EventChannel:
    """The channel of an event.

    Attributes:
        id: the channel id (``feed_...`` for a DM channel).
        type: chat, direct_message or support (or a value this version does
            not know, kept as ``ChannelType.UNKNOWN``).
        experience_id: the experience a chat belongs to, or None.
    """

    id: str
    type: ChannelType
    experience_id: str | None = None


@attrs.frozen(weakref_slot=False)
class Audience:
    """Who the event is for.

    Attributes:
        type: ``"channel"`` (every member) or ``"users"`` (those in ``user_ids``).
        user_ids: the users, when ``type`` is ``"users"``; otherwise None.
    """

    type: AudienceType
    user_ids: tuple[str, ...] | None = None


@attrs.frozen(weakref_slot=False, kw_only=True)
class WebhookEvent:
    """What every delivered event carries: its envelope.

    Attributes:
        webhook_id: the ``webhook-id`` header: the same on every retry of one
            event, so it is the key to deduplicate on.
        id: the event's own ``id`` from the body (Whop's docs show it equal to
            ``webhook_id``; not promised).
        type: the event name, e.g. ``"chat.message.created"``.
        timestamp: when Whop sent it, or None when the body lacks a readable one.
        account_id: the business the webhook belongs to (``biz_...``), read
            from ``account_id`` (newer API pins) or ``company_id`` (older
            pins and unpinned webhooks); None when neither is there.
        api_version: the envelope format (``"v1"``).
        api_version_date: the dated API version of the payload, when pinned.
        data: the event's ``data`` object as received.
    """

    webhook_id: str
    id: str
    type: str
    timestamp: datetime | None = None
    account_id: str | None = None
    api_version: str | None = None
    api_version_date: str | None = None
    data: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @property
    def company_id(self) -> str | None:
        """The same value as ``account_id``, under the envelope's older name."""
        return self.account_id


@attrs.frozen(weakref_slot=False, kw_only=True)
class ChatMessageCreated(WebhookEvent):
    """``chat.message.created``: a message was posted in a chat, DM or support channel.

    Attributes:
        message: the message, as a `whop_dm.Message`.
        channel: the channel it was posted in (id and type).
        audience: who can see it.
        reason: Whop's reason for sending it (e.g. ``"channel_message"``);
            its values are not documented, so do not branch on it.

    A bot's own messages may come back as events too: skip those whose
    ``message.user.id`` is the bot's.
    """

    message: Message
    channel: EventChannel
    audience: Audience | None = None
    reason: str | None = None

    @property
    def is_direct_message(self) -> bool:
        """True when the message was posted in a DM channel."""
        return self.channel.type == ChannelType.DIRECT_MESSAGE

    @property
    def channel_id(self) -> str:
        """The id of the channel the message was posted in."""
        return self.channel.id


@attrs.frozen(weakref_slot=False, kw_only=True)
class ChatReactionCreated(WebhookEvent):
    """``chat.reaction.created``: someone reacted to a message.

    Attributes:
        reaction: the reaction, as a `whop_dm.Reaction` (its emoji, who left
            it, the message id).
        channel: the channel of the message.
        audience: who can see it.
        message: the message reacted to, when the event carries it in a
            readable shape; otherwise None.
        reason: as on `ChatMessageCreated`.
    """

    reaction: Reaction
    channel: EventChannel
    audience: Audience | None = None
    message: Message | None = None
    reason: str | None = None

    @property
    def is_direct_message(self) -> bool:
        """True when the reaction was left in a DM channel."""
        return self.channel.type == ChannelType.DIRECT_MESSAGE


@attrs.frozen(weakref_slot=False, kw_only=True)
class UnknownEvent(WebhookEvent):
    """An event this version does not type (its ``type`` and raw ``data`` are kept).

    Attributes:
        error: None for an event type this version does not know; for a known
            type whose ``data`` did not have the expected shape, what did not fit.
    """

    error: str | None = None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _timestamp(value: Any) -> datetime | None:
    try:
        return parse_timestamp(value) if value is not None else None
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def parse_event(payload: Mapping[str, Any], *, webhook_id: str | None = None) -> WebhookEvent:
    """The typed event for a verified body already decoded from JSON.

    Never raises for an unknown type or an unexpected shape: those give an
    `UnknownEvent`. ``webhook_id`` is the ``webhook-id`` header; the body's
    ``id`` stands in when it is None.

    Raises:
        TypeError: ``payload`` is not a mapping.
    """
    if not isinstance(payload, Mapping):
        raise TypeError(f"payload must be a mapping, not {type(payload).__name__}")
    event_id = _text(payload.get("id")) or webhook_id or ""
    raw_data = payload.get("data")
    data: Mapping[str, Any] = raw_data if isinstance(raw_data, Mapping) else {}
    envelope: dict[str, Any] = {
        "webhook_id": webhook_id if webhook_id is not None else event_id,
        "id": event_id,
        "type": _text(payload.get("type")) or "",
        "timestamp": _timestamp(payload.get("timestamp")),
        "account_id": _text(payload.get("account_id")) or _text(payload.get("company_id")),
        "api_version": _text(payload.get("api_version")),
        "api_version_date": _text(payload.get("api_version_date")),
        "data": data,
    }
    kind = envelope["type"]
    if kind not in (CHAT_MESSAGE_CREATED, CHAT_REACTION_CREATED):
        return UnknownEvent(**envelope)
    what = f"webhook {kind}"
    try:
        if not isinstance(raw_data, Mapping):
            raise TypeError(f"data must be an object, not {type(raw_data).__name__}")
        channel = _DECODER.decode(data.get("channel"), EventChannel, what)
        audience = _optional(data.get("audience"), Audience)
        reason = _text(data.get("reason"))
        if kind == CHAT_MESSAGE_CREATED:
            message = _DECODER.decode(data.get("message"), Message, what)
            return ChatMessageCreated(
                **envelope, message=message, channel=channel, audience=audience, reason=reason
            )
        reaction = _DECODER.decode(data.get("reaction"), Reaction, what)
        return ChatReactionCreated(
            **envelope,
            reaction=reaction,
            channel=channel,
            audience=audience,
            message=_optional_message(data.get("message"), what),
            reason=reason,
        )
    except (ResponseDecodeError, TypeError) as exc:
        # A part that is not even an object: nothing typed can be made of it.
        error = str(exc)
        _log.warning(
            "webhook event %s (%s) has data of an unexpected shape, kept as UnknownEvent: %s",
            event_id,
            kind,
            error,
        )
        return UnknownEvent(**envelope, error=error)


def _optional_message(value: Any, what: str) -> Message | None:
    """The message a reaction event carries, or None when it is absent or not one."""
    if not isinstance(value, Mapping) or not isinstance(value.get("id"), str):
        return None
    try:
        return _DECODER.decode(value, Message, what)
    except ResponseDecodeError:
        return None


def _optional(value: Any, cls: type[Any]) -> Any:
    """Structure a part an event can do without: None when it is absent or does not fit."""
    if value is None:
        return None
    try:
        return get_converter().structure(value, cls)
    except Exception:
        return None
