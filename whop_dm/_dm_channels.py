"""``client.dm_channels``: DM channels."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._arguments import check_id, check_id_list, check_idempotency_key, check_optional_text
from ._converter import decode
from ._models import DmChannel
from ._transport import Transport

__all__ = ["AsyncDmChannels"]


class AsyncDmChannels:
    """DM channels: ``await client.dm_channels.create(with_user_ids=[...])``."""

    __slots__ = ("_transport",)

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

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
