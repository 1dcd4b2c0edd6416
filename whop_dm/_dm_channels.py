"""``client.dm_channels``: DM channels."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ._arguments import (
    check_id,
    check_id_list,
    check_idempotency_key,
    check_optional_text,
    fill_route,
)
from ._models import DmChannel
from ._pagination import AsyncPager, cursor_pager, list_query
from ._resource import Resource

if TYPE_CHECKING:
    from ._watch import ChannelMessage

__all__ = ["AsyncDmChannels"]

# The template of the paths that name one record; ids never appear in a route.
_ITEM = "/dm_channels/{id}"


def _owner(account_id: object, company_id: object) -> tuple[str, str] | None:
    """The company filter as ``(name on the wire, value)``: the name the caller used.

    Whop's current API calls it ``account_id``; the seed spec this library was
    built on calls it ``company_id``. Each is sent under its own name.
    """
    if account_id is not None and company_id is not None:
        raise ValueError("give account_id or company_id, not both (they name the same company)")
    if account_id is not None:
        return "account_id", check_id("account_id", account_id)
    if company_id is not None:
        return "company_id", check_id("company_id", company_id)
    return None


class AsyncDmChannels(Resource):
    """DM channels: create, list, retrieve, rename and delete them.

    ``await client.dm_channels.create(with_user_ids=[...])``.
    """

    __slots__ = ()

    async def create(
        self,
        *,
        with_user_ids: Sequence[str],
        account_id: str | None = None,
        company_id: str | None = None,
        custom_name: str | None = None,
        notifications_enabled: bool | None = None,
        idempotency_key: str | None = None,
    ) -> DmChannel:
        """Create a DM channel between the caller and ``with_user_ids``.

        If a channel with the same participants (and company) exists, the API
        answers with that one instead of making another, so calling this
        twice is safe.

        Args:
            with_user_ids: users to include: user ids (``user_...``), usernames
                or emails. At least one.
            account_id: scope the channel to this company (``biz_...``); sent
                as ``account_id``, the name in Whop's current API.
            company_id: the same, sent as ``company_id``, the seed spec's
                name. Give one of the two, not both.
            custom_name: a display name for the channel.
            notifications_enabled: whether Whop's app notifies about this
                channel (webhooks fire either way); Whop's default when None.
            idempotency_key: sent as ``Idempotency-Key``; one is made for you
                (the same on every retry of this call) when omitted.

        Raises:
            ValueError, TypeError: bad arguments; nothing was sent.
            NotFoundError: a user in ``with_user_ids`` does not exist.
            WhopError: any other failure (see the errors guide).

        Example:
            >>> channel = await client.dm_channels.create(  # doctest: +SKIP
            ...     with_user_ids=["user_alice"], custom_name="Launch team"
            ... )
        """
        body: dict[str, Any] = {"with_user_ids": check_id_list("with_user_ids", with_user_ids)}
        owner = _owner(account_id, company_id)
        if owner is not None:
            body[owner[0]] = owner[1]
        if custom_name is not None:
            body["custom_name"] = check_optional_text("custom_name", custom_name)
        if notifications_enabled is not None:
            if not isinstance(notifications_enabled, bool):
                raise TypeError(
                    "notifications_enabled must be a bool, not "
                    f"{type(notifications_enabled).__name__}"
                )
            body["notifications_enabled"] = notifications_enabled
        return await self._call(
            "POST",
            "/dm_channels",
            DmChannel,
            json_body=body,
            idempotency_key=check_idempotency_key(idempotency_key),
        )

    def list(
        self,
        *,
        account_id: str | None = None,
        company_id: str | None = None,
        page_size: int | None = None,
        after: str | None = None,
        before: str | None = None,
        last: int | None = None,
    ) -> AsyncPager[DmChannel]:
        """The caller's DM channels, most recently active first, page by page as you iterate.

        Not a coroutine: it checks the arguments at once and returns an
        `AsyncPager`; the first request is sent when you iterate
        (``async for``) or call ``first_page()``. Breaking out of the loop
        stops fetching.

        Args:
            account_id: only channels scoped to this company (``biz_...``);
                sent as ``account_id``.
            company_id: the same, sent as ``company_id`` (the seed spec's
                name). Give one of the two, not both.
            page_size: records per request (``first``, or ``last`` walking
                backwards); the API's default (25) when None.
            after: start after this cursor (a page's ``end_cursor``).
            before: walk backwards, starting before this cursor (a page's
                ``start_cursor``).
            last: walk backwards from the end of the list, this many
                records per request.

        Raises:
            ValueError, TypeError: bad arguments, at call time; nothing was sent.

        Example:
            >>> async for channel in client.dm_channels.list(page_size=50):  # doctest: +SKIP
            ...     print(channel.id, channel.name)
        """
        params: dict[str, str] = {}
        owner = _owner(account_id, company_id)
        if owner is not None:
            params[owner[0]] = owner[1]
        paging = list_query(page_size=page_size, after=after, before=before, last=last)
        return cursor_pager(
            self._transport, self._decoder, "/dm_channels", params, DmChannel, paging
        )

    def watch(
        self,
        *,
        interval: float = 5.0,
        since: datetime | None = None,
        account_id: str | None = None,
        company_id: str | None = None,
        page_size: int = 25,
    ) -> AsyncIterator[ChannelMessage]:
        """New messages in any of the caller's DM channels, by polling: for bots without webhooks.

        Not a coroutine: it checks the arguments at once and returns an
        async iterator of `ChannelMessage` (the channel and the message) that
        never ends on its own (``break`` out of it). Each poll lists the
        channels (one ``GET /dm_channels`` per 100 channels) and reads only
        those whose ``last_message_at`` moved (one ``GET /messages`` each,
        more when over ``page_size`` messages came in); then it waits
        ``interval`` seconds. With 250 channels at the default 5 s, a quiet
        minute costs 36 requests of ``GET /dm_channels``, plus 12 of
        ``GET /messages`` for each channel that keeps getting messages, against
        Whop's 600 a minute per operation and key. Requests are paced and
        retried by the client; a poll that still fails with a connection
        error, a 5xx or a 429 is logged and tried again later.

        Messages are yielded oldest first within a poll, each once, the bot's
        own included (skip those whose ``user.id`` is the bot's). A channel
        that appears after the first poll (a customer's first DM) is read from
        its start.

        Args:
            interval: seconds between polls.
            since: also yield the messages sent from this time on (timezone-aware);
                None: only those sent after the first poll.
            account_id: only channels scoped to this company (``biz_...``),
                as in `list`.
            company_id: the same, sent as ``company_id``, as in `list`.
            page_size: messages per request when reading a channel.

        Raises:
            ValueError, TypeError: bad arguments, at call time; nothing was sent.

        Example:
            >>> async for new in client.dm_channels.watch():  # doctest: +SKIP
            ...     print(new.channel_id, new.message.content)
        """
        from ._pagination import check_page_size
        from ._watch import check_interval, check_since, watch_channels

        size = check_page_size(page_size)
        owner = _owner(account_id, company_id)
        return watch_channels(
            self._transport,
            self._decoder,
            interval=check_interval(interval),
            since=check_since(since),
            owner=owner,
            page_size=size if size is not None else 25,
        )

    async def retrieve(self, id: str) -> DmChannel:
        """Fetch one DM channel by id.

        Raises:
            ValueError, TypeError: an empty or non-string id; nothing was sent.
            NotFoundError: unknown id, or a channel the caller is not a member
                of (the API does not tell the two apart).

        Example:
            >>> channel = await client.dm_channels.retrieve("feed_123")  # doctest: +SKIP
        """
        path = fill_route(_ITEM, id=id)
        return await self._call("GET", _ITEM, DmChannel, path=path)

    async def update(self, id: str, *, custom_name: str | None) -> DmChannel:
        """Rename a DM channel; ``custom_name=None`` removes its custom name.

        Needs the ``dms:channel:manage`` scope; only an admin of the
        channel (its creator) may rename it.

        Raises:
            ValueError, TypeError: bad arguments; nothing was sent.
            NotFoundError: unknown id, or not a member of the channel.
            PermissionDeniedError: a member who is not an admin.

        Example:
            >>> channel = await client.dm_channels.update(  # doctest: +SKIP
            ...     "feed_123", custom_name="Launch team"
            ... )
        """
        path = fill_route(_ITEM, id=id)
        body = {"custom_name": check_optional_text("custom_name", custom_name)}
        return await self._call("PATCH", _ITEM, DmChannel, path=path, json_body=body)

    async def delete(self, id: str) -> bool:
        """Delete a DM channel, with its memberships and messages; True when confirmed.

        Needs the ``dms:channel:manage`` scope; only the channel's admin may
        delete it.

        Raises:
            ValueError, TypeError: an empty or non-string id; nothing was sent.
            NotFoundError: unknown id (or already deleted), or not a member.
            PermissionDeniedError: a member who is not the admin.

        Example:
            >>> await client.dm_channels.delete("feed_123")  # doctest: +SKIP
            True
        """
        path = fill_route(_ITEM, id=id)
        return await self._call("DELETE", _ITEM, bool, path=path)
