"""Polling for new messages, for bots that cannot receive webhooks.

``client.messages.watch`` polls one channel; ``client.dm_channels.watch``
polls the list of channels and reads only those whose ``last_message_at``
moved. Both read a channel newest first (``direction=desc``), following the
``after`` cursor only while the page holds messages not seen yet, and yield
the new ones oldest first. Every request goes through the client's transport,
so it is paced and retried like any other call.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import attrs

from ._errors import APIConnectionError, InternalServerError, RateLimitError
from ._message_models import Message
from ._models import DmChannel
from ._pagination import cursor_pager

if TYPE_CHECKING:
    from ._converter import Decoder
    from ._transport import Transport

__all__ = ["ChannelMessage", "check_interval", "watch_channel", "watch_channels"]

_log = logging.getLogger("whop_dm.watch")

# Ids remembered per channel to tell apart messages sent in the same millisecond.
_SEEN_PER_CHANNEL = 256
# A bound on the pages one poll reads in one channel: 20 pages of 100 is far
# more than a DM channel gets between two polls; past it the oldest are skipped
# (and a warning logged) rather than the poll never ending.
_MAX_PAGES_PER_POLL = 20
# After a failed poll the wait doubles, up to this.
_MAX_BACKOFF = 300.0
# Channels per list request while polling: the most Whop's lists serve.
_CHANNELS_PER_PAGE = 100
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_TRANSIENT = (APIConnectionError, InternalServerError, RateLimitError)


@attrs.frozen(weakref_slot=False)
class ChannelMessage:
    """A new message and the channel it was posted in (from ``dm_channels.watch``).

    Attributes:
        channel: the channel, as listed when the message was found.
        message: the message.
    """

    channel: DmChannel
    message: Message

    @property
    def channel_id(self) -> str:
        """The channel's id (``feed_...``)."""
        return self.channel.id


def check_interval(interval: object) -> float:
    if isinstance(interval, bool) or not isinstance(interval, (int, float)):
        raise TypeError(f"interval must be a number of seconds, not {type(interval).__name__}")
    if not 0 < interval < float("inf"):
        raise ValueError(f"interval must be a number of seconds above 0, not {interval}")
    return float(interval)


def check_since(since: object) -> datetime | None:
    if since is None:
        return None
    if not isinstance(since, datetime):
        raise TypeError(f"since must be a datetime, not {type(since).__name__}")
    if since.tzinfo is None:
        raise ValueError("since must be timezone-aware (e.g. datetime.now(timezone.utc))")
    return since


class _Cursor:
    """What one channel's watch has seen: a time, and the ids sent at or near it."""

    __slots__ = ("cutoff", "ids", "order", "strict")

    def __init__(self, cutoff: datetime | None, *, strict: bool) -> None:
        self.cutoff = cutoff
        # strict: a message sent at exactly ``cutoff`` is old (nothing is known
        # of the ids sent then); otherwise only the remembered ids are old.
        self.strict = strict
        self.ids: set[str] = set()
        self.order: deque[str] = deque()

    def is_old(self, message: Message) -> bool:
        if message.id in self.ids:
            return True
        created: datetime | None = message.created_at
        # A lenient decode leaves an unreadable time None: only its id can tell.
        if self.cutoff is None or created is None:
            return False
        if created == self.cutoff:
            return self.strict
        return created < self.cutoff

    def remember(self, messages: list[Message]) -> None:
        for message in messages:
            if message.id in self.ids:
                continue
            self.ids.add(message.id)
            self.order.append(message.id)
            if len(self.order) > _SEEN_PER_CHANNEL:
                self.ids.discard(self.order.popleft())
            created: datetime | None = message.created_at
            if created is not None and (self.cutoff is None or created > self.cutoff):
                self.cutoff = created
                self.strict = False


async def _read_new(
    transport: Transport, decoder: Decoder, channel_id: str, cursor: _Cursor, page_size: int
) -> list[Message]:
    """The channel's messages the cursor has not seen, oldest first; updates the cursor."""
    params = {"channel_id": channel_id, "direction": "desc", "first": str(page_size)}
    pager = cursor_pager(transport, decoder, "/messages", params, Message)
    fresh: list[Message] = []
    after: str | None = None
    for _ in range(_MAX_PAGES_PER_POLL):
        page = await pager.fetch_page(after)
        reached_old = False
        for message in page.data:
            if cursor.is_old(message):
                reached_old = True
                break
            fresh.append(message)
        after = page.next_cursor
        if reached_old or after is None:
            break
    else:
        _log.warning(
            "channel %s got more than %d new messages between two polls; the oldest are skipped",
            channel_id,
            _MAX_PAGES_PER_POLL * page_size,
        )
    fresh.reverse()
    cursor.remember(fresh)
    return fresh


async def _pause(interval: float, failures: int) -> None:
    await asyncio.sleep(min(interval * (2**failures), max(_MAX_BACKOFF, interval)))


async def watch_channel(
    transport: Transport,
    decoder: Decoder,
    channel_id: str,
    *,
    interval: float,
    since: datetime | None,
    page_size: int,
) -> AsyncIterator[Message]:
    """New messages of one channel, oldest first, polling every ``interval`` seconds."""
    cursor: _Cursor | None = None
    if since is not None:
        cursor = _Cursor(since, strict=False)
    failures = 0
    while True:
        try:
            if cursor is None:
                # The first poll only learns where the channel stands.
                cursor = _Cursor(None, strict=False)
                pager = cursor_pager(
                    transport,
                    decoder,
                    "/messages",
                    {"channel_id": channel_id, "direction": "desc", "first": str(page_size)},
                    Message,
                )
                cursor.remember(list(reversed((await pager.first_page()).data)))
                fresh: list[Message] = []
            else:
                fresh = await _read_new(transport, decoder, channel_id, cursor, page_size)
            failures = 0
        except _TRANSIENT as exc:
            failures += 1
            _log.warning("polling channel %s failed, trying again: %s", channel_id, exc)
            await _pause(interval, failures)
            continue
        for message in fresh:
            yield message
        await _pause(interval, 0)


async def watch_channels(
    transport: Transport,
    decoder: Decoder,
    *,
    interval: float,
    since: datetime | None,
    owner: tuple[str, str] | None,
    page_size: int,
) -> AsyncIterator[ChannelMessage]:
    """New messages of every channel the caller is in, polling every ``interval`` seconds."""
    params = {"first": str(_CHANNELS_PER_PAGE)}
    if owner is not None:
        params[owner[0]] = owner[1]
    channels = cursor_pager(transport, decoder, "/dm_channels", params, DmChannel)
    cursors: dict[str, _Cursor] = {}
    last_seen: dict[str, datetime | None] = {}
    first_poll = True
    failures = 0
    while True:
        found: list[ChannelMessage] = []
        try:
            listed = [channel async for channel in channels]
            for channel in listed:
                known = channel.id in last_seen
                moved = channel.last_message_at != last_seen.get(channel.id)
                if channel.id not in cursors:
                    if first_poll and since is None:
                        # Where each channel stands now; nothing before it is new.
                        cursors[channel.id] = _Cursor(channel.last_message_at, strict=True)
                    else:
                        # A channel that appears later (a customer's first DM) is
                        # new from its start.
                        cursors[channel.id] = _Cursor(since, strict=False)
                        known = False
                if channel.last_message_at is None or (known and not moved):
                    last_seen[channel.id] = channel.last_message_at
                    continue
                if first_poll and since is None:
                    last_seen[channel.id] = channel.last_message_at
                    continue
                messages = await _read_new(
                    transport, decoder, channel.id, cursors[channel.id], page_size
                )
                found.extend(ChannelMessage(channel, message) for message in messages)
                last_seen[channel.id] = channel.last_message_at
            first_poll = False
            failures = 0
        except _TRANSIENT as exc:
            # What was read before the failure is yielded: those channels'
            # cursors have moved past it already.
            failures += 1
            _log.warning("polling DM channels failed, trying again: %s", exc)
        # Oldest first across channels (sorted is stable: within a channel the
        # order read stays; a message without a readable time comes first).
        found.sort(key=lambda item: item.message.created_at or _EPOCH)
        for item in found:
            yield item
        await _pause(interval, failures)
