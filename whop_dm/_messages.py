"""``client.messages``: messages in DM channels."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import datetime
from typing import Any, Literal

from ._arguments import check_content, check_id, check_idempotency_key, fill_route
from ._message_models import Message
from ._pagination import AsyncPager, cursor_pager, list_query
from ._resource import Resource

__all__ = ["AsyncMessages", "Direction"]

# The template of the paths that name one record; ids never appear in a route.
_ITEM = "/messages/{id}"

Direction = Literal["asc", "desc"]
_DIRECTIONS = ("asc", "desc")


def _items(name: str, value: object) -> list[object]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(f"{name} must be a list of strings, not {type(value).__name__}")
    return list(value)


def _attachments(value: object) -> list[dict[str, str]]:
    """File ids, sent as the spec's ``[{"id": ...}]``; an empty list is allowed."""
    return [
        {"id": check_id(f"attachments[{index}]", file_id)}
        for index, file_id in enumerate(_items("attachments", value))
    ]


def _poll(value: object) -> dict[str, Any]:
    """Option texts, sent with the sequential ids ``"1"``, ``"2"``... the spec asks for."""
    texts = _items("poll", value)
    if not texts:
        raise ValueError("poll must have at least one option")
    return {
        "options": [
            {"id": str(number), "text": check_content(f"poll[{number - 1}]", text)}
            for number, text in enumerate(texts, start=1)
        ]
    }


def _flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, not {type(value).__name__}")
    return value


class AsyncMessages(Resource):
    """Messages in DM channels: ``await client.messages.create(channel_id=..., content=...)``."""

    __slots__ = ()

    async def create(
        self,
        *,
        channel_id: str,
        content: str,
        replying_to_message_id: str | None = None,
        attachments: Sequence[str] | None = None,
        auto_detect_links: bool | None = None,
        poll: Sequence[str] | None = None,
        idempotency_key: str | None = None,
    ) -> Message:
        """Post a message in the channel ``channel_id`` as the key's user.

        Needs the ``dms:message:manage`` scope, and the caller must be a member
        of the channel. Retries carry the same ``Idempotency-Key``, so a
        message whose answer was lost is not posted twice.

        Args:
            channel_id: the channel (``feed_...``).
            content: the text, in Markdown; not blank.
            replying_to_message_id: the message (``msg_...``) this one answers.
            attachments: ids of files already uploaded to Whop, to attach
                (sent as ``[{"id": ...}]``).
            auto_detect_links: whether Whop should find URLs in the text and
                make link previews; Whop's default when None.
            poll: the option texts of a poll to attach, in order; they get
                the ids ``"1"``, ``"2"``... Members vote with
                ``client.reactions.create(resource_id=..., poll_option_id=...)``.
            idempotency_key: sent as ``Idempotency-Key``; one is made for you
                (the same on every retry of this call) when omitted.

        Raises:
            ValueError, TypeError: bad arguments; nothing was sent.
            NotFoundError: unknown channel (or one the caller is not in), or
                unknown ``replying_to_message_id``.
            PermissionDeniedError: the key lacks ``dms:message:manage``.

        Example:
            >>> message = await client.messages.create(  # doctest: +SKIP
            ...     channel_id="feed_123", content="Hello **world**"
            ... )
        """
        body: dict[str, Any] = {
            "channel_id": check_id("channel_id", channel_id),
            "content": check_content("content", content),
        }
        if replying_to_message_id is not None:
            body["replying_to_message_id"] = check_id(
                "replying_to_message_id", replying_to_message_id
            )
        if attachments is not None:
            body["attachments"] = _attachments(attachments)
        if auto_detect_links is not None:
            body["auto_detect_links"] = _flag("auto_detect_links", auto_detect_links)
        if poll is not None:
            body["poll"] = _poll(poll)
        return await self._call(
            "POST",
            "/messages",
            Message,
            json_body=body,
            idempotency_key=check_idempotency_key(idempotency_key),
        )

    def list(
        self,
        *,
        channel_id: str,
        direction: Direction | None = None,
        page_size: int | None = None,
        after: str | None = None,
        before: str | None = None,
        last: int | None = None,
    ) -> AsyncPager[Message]:
        """The messages of a channel, fetched page by page as you iterate.

        Not a coroutine: it checks the arguments at once and returns an
        `AsyncPager`; the first request is sent when you iterate.
        Reading a channel's messages marks it viewed for the caller.

        Args:
            channel_id: the channel (``feed_...``); the caller must be a member.
            direction: ``"asc"`` (oldest first, the API's default) or
                ``"desc"`` (newest first).
            page_size: records per request (``first``, or ``last`` walking
                backwards); the API's default (25) when None.
            after: start after this cursor (a page's ``end_cursor``).
            before: walk backwards, starting before this cursor (a page's
                ``start_cursor``).
            last: walk backwards from the end of the list (the newest
                messages, in the default order), this many records per request.

        Raises:
            ValueError, TypeError: bad arguments, at call time; nothing was sent.
            NotFoundError: while iterating, for an unknown channel or one the
                caller is not a member of.

        Example:
            >>> async for message in client.messages.list(  # doctest: +SKIP
            ...     channel_id="feed_123", direction="desc"
            ... ):
            ...     print(message.user.username, message.content)
        """
        params = {"channel_id": check_id("channel_id", channel_id)}
        if direction is not None:
            if not isinstance(direction, str):
                raise TypeError(f"direction must be a string, not {type(direction).__name__}")
            if direction not in _DIRECTIONS:
                raise ValueError(f"direction must be 'asc' or 'desc', got {direction!r}")
            params["direction"] = direction
        paging = list_query(page_size=page_size, after=after, before=before, last=last)
        return cursor_pager(self._transport, self._decoder, "/messages", params, Message, paging)

    def watch(
        self,
        *,
        channel_id: str,
        interval: float = 5.0,
        since: datetime | None = None,
        page_size: int = 25,
    ) -> AsyncIterator[Message]:
        """New messages of one channel as they come, by polling: for bots without webhooks.

        Not a coroutine: it checks the arguments at once and returns an
        async iterator that never ends on its own (``break`` out of it).
        Each poll is one ``GET /messages`` (newest first) when nothing is new,
        a few more when more than ``page_size`` messages came in; then it
        waits ``interval`` seconds. At the default 5 s that is 12 requests a
        minute, against Whop's 600 a minute per operation and key. Requests
        go through the client, so they are paced and retried like any call;
        a poll that still fails with a connection error, a 5xx or a 429 is
        logged and tried again later, with a growing wait.

        Messages are yielded oldest first, each once, the bot's own included
        (skip those whose ``user.id`` is the bot's). Reading a channel marks
        it viewed for the caller.

        Args:
            channel_id: the channel (``feed_...``); the caller must be a member.
            interval: seconds between polls.
            since: also yield the messages sent from this time on (timezone-aware);
                None: only those sent after the first poll.
            page_size: messages per request.

        Raises:
            ValueError, TypeError: bad arguments, at call time; nothing was sent.
            NotFoundError: while iterating, for an unknown channel or one the
                caller is not a member of.

        Example:
            >>> async for message in client.messages.watch(  # doctest: +SKIP
            ...     channel_id="feed_123"
            ... ):
            ...     print(message.user.username, message.content)
        """
        from ._pagination import check_page_size
        from ._watch import check_interval, check_since, watch_channel

        size = check_page_size(page_size)
        return watch_channel(
            self._transport,
            self._decoder,
            check_id("channel_id", channel_id),
            interval=check_interval(interval),
            since=check_since(since),
            page_size=size if size is not None else 25,
        )

    async def retrieve(self, id: str) -> Message:
        """Fetch one message by id.

        Raises:
            ValueError, TypeError: an empty or non-string id; nothing was sent.
            NotFoundError: unknown id, or a message in a channel the caller is
                not a member of.

        Example:
            >>> message = await client.messages.retrieve("msg_123")  # doctest: +SKIP
        """
        path = fill_route(_ITEM, id=id)
        return await self._call("GET", _ITEM, Message, path=path)

    async def update(
        self,
        id: str,
        *,
        content: str | None = None,
        is_pinned: bool | None = None,
        attachments: Sequence[str] | None = None,
    ) -> Message:
        """Edit a message's text or attachments, pin it or unpin it; at least one.

        Only the author may edit the content or the attachments (the message
        then reads ``is_edited``); the author or a channel admin may pin.
        Needs the ``dms:message:manage`` scope.

        Args:
            id: the message (``msg_...``).
            content: the new text, in Markdown; not blank.
            is_pinned: True to pin, False to unpin.
            attachments: ids of uploaded files that replace the message's
                attachments (an empty list removes them all).

        Raises:
            ValueError, TypeError: bad arguments, or neither given; nothing was sent.
            NotFoundError: unknown id, or not visible to the caller.
            PermissionDeniedError: not the author (or admin, for pinning).

        Example:
            >>> message = await client.messages.update(  # doctest: +SKIP
            ...     "msg_123", content="Fixed a typo"
            ... )
        """
        path = fill_route(_ITEM, id=id)
        body: dict[str, Any] = {}
        if content is not None:
            body["content"] = check_content("content", content)
        if is_pinned is not None:
            if not isinstance(is_pinned, bool):
                raise TypeError(f"is_pinned must be a bool, not {type(is_pinned).__name__}")
            body["is_pinned"] = is_pinned
        if attachments is not None:
            body["attachments"] = _attachments(attachments)
        if not body:
            raise ValueError("update needs content, is_pinned or attachments")
        return await self._call("PATCH", _ITEM, Message, path=path, json_body=body)

    async def delete(self, id: str) -> bool:
        """Delete a message; True when the API confirms it.

        The author or a channel admin may delete. Needs the
        ``dms:message:manage`` scope.

        Raises:
            ValueError, TypeError: an empty or non-string id; nothing was sent.
            NotFoundError: unknown id (or already deleted), or not visible.
            PermissionDeniedError: neither the author nor an admin.

        Example:
            >>> await client.messages.delete("msg_123")  # doctest: +SKIP
            True
        """
        path = fill_route(_ITEM, id=id)
        return await self._call("DELETE", _ITEM, bool, path=path)
