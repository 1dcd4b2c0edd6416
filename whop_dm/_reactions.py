"""``client.reactions``: emoji reactions and poll votes on messages."""

from __future__ import annotations

from ._arguments import check_content, check_id, check_idempotency_key, fill_route
from ._message_models import Reaction
from ._pagination import AsyncPager, cursor_pager, list_query
from ._resource import Resource

__all__ = ["AsyncReactions"]

# The template of the paths that name one reaction (or, for delete, a message).
_ITEM = "/reactions/{id}"


class AsyncReactions(Resource):
    """Reactions: ``await client.reactions.create(resource_id=..., emoji=":heart:")``.

    A reaction is an emoji left on a message, or a vote in the message's poll
    (``poll_option_id``): Whop casts poll votes through the same call.
    """

    __slots__ = ()

    async def create(
        self,
        *,
        resource_id: str,
        emoji: str | None = None,
        poll_option_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Reaction:
        """React to the message ``resource_id`` with ``emoji``, or vote ``poll_option_id``.

        Give one of ``emoji`` and ``poll_option_id``. The caller must be a
        member of the message's channel.

        Args:
            resource_id: the message (``msg_...``).
            emoji: the emoji, in shortcode form (``":heart:"``) or as the
                character itself.
            poll_option_id: the option (``"1"``, ``"2"``...) of the message's
                poll to vote for.
            idempotency_key: sent as ``Idempotency-Key``; one is made for you
                (the same on every retry of this call) when omitted.

        Raises:
            ValueError, TypeError: bad arguments (neither or both of
                ``emoji`` and ``poll_option_id``); nothing was sent.
            NotFoundError: unknown message, or one the caller cannot see.
            BadRequestError: e.g. an option the message's poll does not have.

        Example:
            >>> reaction = await client.reactions.create(  # doctest: +SKIP
            ...     resource_id="msg_123", emoji=":heart:"
            ... )
        """
        body = {"resource_id": check_id("resource_id", resource_id)}
        if (emoji is None) == (poll_option_id is None):
            raise ValueError("give emoji or poll_option_id (a poll vote), exactly one of them")
        if emoji is not None:
            body["emoji"] = check_content("emoji", emoji)
        if poll_option_id is not None:
            body["poll_option_id"] = check_id("poll_option_id", poll_option_id)
        return await self._call(
            "POST",
            "/reactions",
            Reaction,
            json_body=body,
            idempotency_key=check_idempotency_key(idempotency_key),
        )

    def list(
        self,
        *,
        resource_id: str,
        page_size: int | None = None,
        after: str | None = None,
        before: str | None = None,
        last: int | None = None,
    ) -> AsyncPager[Reaction]:
        """The reactions on a message, most recent first, page by page as you iterate.

        Not a coroutine: it checks the arguments at once and returns an
        `AsyncPager`; the first request is sent when you iterate.

        Args:
            resource_id: the message (``msg_...``).
            page_size: records per request (``first``, or ``last`` walking
                backwards); the API's default (25) when None.
            after: start after this cursor (a page's ``end_cursor``).
            before: walk backwards, starting before this cursor (a page's
                ``start_cursor``).
            last: walk backwards from the end of the list (the oldest
                reactions), this many records per request.

        Raises:
            ValueError, TypeError: bad arguments, at call time; nothing was sent.
            NotFoundError: while iterating, for an unknown message or one the
                caller cannot see.

        Example:
            >>> async for reaction in client.reactions.list(  # doctest: +SKIP
            ...     resource_id="msg_123"
            ... ):
            ...     print(reaction.user.username, reaction.emoji)
        """
        params = {"resource_id": check_id("resource_id", resource_id)}
        paging = list_query(page_size=page_size, after=after, before=before, last=last)
        return cursor_pager(self._transport, self._decoder, "/reactions", params, Reaction, paging)

    async def retrieve(self, id: str) -> Reaction:
        """Fetch one reaction by id.

        Raises:
            ValueError, TypeError: an empty or non-string id; nothing was sent.
            NotFoundError: unknown id, or a reaction the caller cannot see.

        Example:
            >>> reaction = await client.reactions.retrieve("reac_123")  # doctest: +SKIP
        """
        path = fill_route(_ITEM, id=id)
        return await self._call("GET", _ITEM, Reaction, path=path)

    async def delete(self, id: str, *, emoji: str | None = None) -> bool:
        """Remove a reaction; True when the API confirms it.

        ``id`` names the reaction (``reac_...``), or the message reacted to
        (``msg_...``): then ``emoji`` is required and says which of the
        caller's reactions on it to remove. The author of a reaction or an
        admin of the channel may remove it.

        Raises:
            ValueError, TypeError: bad arguments; nothing was sent.
            BadRequestError: a message id without ``emoji``.
            NotFoundError: unknown id, no such reaction, or not visible.
            PermissionDeniedError: neither the author nor an admin.

        Example:
            >>> await client.reactions.delete("msg_123", emoji=":heart:")  # doctest: +SKIP
            True
        """
        path = fill_route(_ITEM, id=id)
        params = None if emoji is None else {"emoji": check_content("emoji", emoji)}
        return await self._call("DELETE", _ITEM, bool, path=path, params=params)
