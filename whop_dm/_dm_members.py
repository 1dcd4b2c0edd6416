"""``client.dm_members``: memberships of DM channels."""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable

from ._arguments import check_id, check_idempotency_key
from ._bulk import BulkAddResult, Pairs, ProgressCallback, run_bulk
from ._converter import decode
from ._models import DmMember
from ._transport import Transport

__all__ = ["AsyncDmMembers"]


class AsyncDmMembers:
    """Members of DM channels: ``await client.dm_members.create(channel_id=..., user_id=...)``."""

    __slots__ = ("_transport",)

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    async def create(
        self,
        *,
        channel_id: str,
        user_id: str,
        idempotency_key: str | None = None,
    ) -> DmMember:
        """Add ``user_id`` to the DM channel ``channel_id``.

        Needs the ``dms:channel:manage`` scope, and the caller must be an
        admin of the channel. Safe to share across thousands of concurrent
        tasks (``asyncio.gather``): the client bounds its connections and
        pauses every request when the server rate-limits one.

        Args:
            channel_id: the channel (``feed_...``).
            user_id: the user to add (``user_...``).
            idempotency_key: sent as ``Idempotency-Key``; one is made for you
                (the same on every retry of this call) when omitted.

        Raises:
            ValueError, TypeError: bad arguments; nothing was sent.
            PermissionDeniedError: missing scope, or not an admin of the channel.
            NotFoundError: unknown channel or user.
            BadRequestError: e.g. the channel is full (50 members).

        Example:
            >>> member = await client.dm_members.create(  # doctest: +SKIP
            ...     channel_id="feed_123", user_id="user_456"
            ... )
        """
        body = {
            "channel_id": check_id("channel_id", channel_id),
            "user_id": check_id("user_id", user_id),
        }
        data = await self._transport.request(
            "POST",
            "/dm_members",
            json_body=body,
            idempotency_key=check_idempotency_key(idempotency_key),
        )
        return decode(data, DmMember, "POST /dm_members")

    async def bulk_create(
        self,
        pairs: Pairs,
        *,
        concurrency: int = 16,
        on_progress: ProgressCallback | None = None,
    ) -> BulkAddResult:
        """Add many ``(channel_id, user_id)`` pairs, across any number of channels.

        See the bulk adds guide: every pair ends in exactly one of
        ``added``, ``failed`` or ``skipped``.
        """
        return await run_bulk(self.create, pairs, concurrency=concurrency, on_progress=on_progress)

    async def add_many(
        self,
        channel_id: str,
        user_ids: Iterable[str] | AsyncIterable[str],
        *,
        concurrency: int = 16,
        on_progress: ProgressCallback | None = None,
    ) -> BulkAddResult:
        """Add many users to one channel; :meth:`bulk_create` for a single channel."""
        channel = check_id("channel_id", channel_id)
        raise NotImplementedError(channel, user_ids, concurrency, on_progress)
