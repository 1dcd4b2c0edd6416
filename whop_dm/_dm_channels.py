"""``client.dm_channels``: DM channels."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._arguments import (
    check_id,
    check_id_list,
    check_idempotency_key,
    check_optional_text,
    fill_route,
)
from ._converter import decode
from ._models import DmChannel
from ._pagination import AsyncPager, check_page_size, cursor_pager
from ._resource import Resource

__all__ = ["AsyncDmChannels"]

# The template of the paths that name one record; ids never appear in a route.
_ITEM = "/dm_channels/{id}"


class AsyncDmChannels(Resource):
    """DM channels: create, list, retrieve, rename and delete them.

    ``await client.dm_channels.create(with_user_ids=[...])``.
    """

    __slots__ = ()

    async def create(
        self,
        *,
        with_user_ids: Sequence[str],
        company_id: str | None = None,
        custom_name: str | None = None,
        idempotency_key: str | None = None,
    ) -> DmChannel:
        """Create a DM channel between the caller and ``with_user_ids``.

        If a channel with the same participants (and company) exists, the API
        answers with that one instead of making another, so calling this
        twice is safe.

        Args:
            with_user_ids: users to include: user ids (``user_...``), usernames
                or emails. At least one.
            company_id: scope the channel to this company (``biz_...``).
            custom_name: a display name for the channel.
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
        if company_id is not None:
            body["company_id"] = check_id("company_id", company_id)
        if custom_name is not None:
            body["custom_name"] = check_optional_text("custom_name", custom_name)
        data = await self._transport.request(
            "POST",
            "/dm_channels",
            json_body=body,
            idempotency_key=check_idempotency_key(idempotency_key),
        )
        return decode(data, DmChannel, "POST /dm_channels")

    def list(
        self,
        *,
        company_id: str | None = None,
        page_size: int | None = None,
    ) -> AsyncPager[DmChannel]:
        """The caller's DM channels, fetched page by page as you iterate.

        Not a coroutine: it checks the arguments at once and returns an
        `AsyncPager`; the first request is sent when you iterate
        (``async for``) or call ``first_page()``. Breaking out of the loop
        stops fetching.

        Args:
            company_id: only channels scoped to this company (``biz_...``).
            page_size: records per request (``first``), 1 to 100; the API's
                default (25) when None.

        Raises:
            ValueError, TypeError: bad arguments, at call time; nothing was sent.

        Example:
            >>> async for channel in client.dm_channels.list(page_size=50):  # doctest: +SKIP
            ...     print(channel.id, channel.name)
        """
        params: dict[str, str] = {}
        if company_id is not None:
            params["company_id"] = check_id("company_id", company_id)
        first = check_page_size(page_size)
        if first is not None:
            params["first"] = str(first)
        return cursor_pager(self._transport, "/dm_channels", params, DmChannel)

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
        data = await self._transport.request("GET", path, route=_ITEM)
        return decode(data, DmChannel, "GET /dm_channels/{id}")

    async def update(self, id: str, *, custom_name: str | None) -> DmChannel:
        """Rename a DM channel; ``custom_name=None`` removes its custom name.

        Needs the ``dms:channel:manage`` scope; any member may rename.

        Raises:
            ValueError, TypeError: bad arguments; nothing was sent.
            NotFoundError: unknown id, or not a member of the channel.

        Example:
            >>> channel = await client.dm_channels.update(  # doctest: +SKIP
            ...     "feed_123", custom_name="Launch team"
            ... )
        """
        path = fill_route(_ITEM, id=id)
        body = {"custom_name": check_optional_text("custom_name", custom_name)}
        data = await self._transport.request("PATCH", path, route=_ITEM, json_body=body)
        return decode(data, DmChannel, "PATCH /dm_channels/{id}")

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
        data = await self._transport.request("DELETE", path, route=_ITEM)
        return decode(data, bool, "DELETE /dm_channels/{id}")
