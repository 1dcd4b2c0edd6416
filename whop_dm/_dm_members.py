"""``client.dm_members``: memberships of DM channels."""

from __future__ import annotations

import os
from collections.abc import AsyncIterable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from ._arguments import check_id, check_idempotency_key, fill_route
from ._enums import MemberStatus, NotificationPreference, OpenStrEnum
from ._models import DmMember
from ._pagination import AsyncPager, cursor_pager, list_query
from ._resource import Resource

if TYPE_CHECKING:
    # The bulk machinery is imported on first use: it is not free to import,
    # and most programs never call it.
    from ._bulk import BulkAddResult, Pairs, StopOn
    from ._progress import ProgressCallback

# Whop's idempotency window is 24 hours; an hour's margin before it closes.
_RECHECK_AFTER = 23 * 3600.0

__all__ = ["AsyncDmMembers"]

# The template of the paths that name one record; ids never appear in a route.
_ITEM = "/dm_members/{id}"


E = TypeVar("E", bound=OpenStrEnum)


def _check_choice(name: str, value: object, enum: type[E]) -> str:
    """A known value of ``enum``, given as its member or its string; sent as the string."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a {enum.__name__} or a string, not {type(value).__name__}")
    member = enum(value)
    if not member.is_known:
        allowed = ", ".join(repr(m.value) for m in enum)
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return str(member.value)


class AsyncDmMembers(Resource):
    """Members of DM channels: ``await client.dm_members.create(channel_id=..., user_id=...)``."""

    __slots__ = ()

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
        paces requests per operation under the rate limit.

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
        return await self._call(
            "POST",
            "/dm_members",
            DmMember,
            json_body=body,
            idempotency_key=check_idempotency_key(idempotency_key),
        )

    async def bulk_create(
        self,
        pairs: Pairs,
        *,
        concurrency: int = 16,
        on_progress: ProgressCallback | None = None,
        stop_on: StopOn | None = None,
        journal: str | os.PathLike[str] | None = None,
        recheck_after: float = _RECHECK_AFTER,
    ) -> BulkAddResult:
        """Add many ``(channel_id, user_id)`` pairs, across any number of channels.

        A fixed pool of ``concurrency`` workers pulls pairs from ``pairs`` as
        it goes, so a generator of millions is never held in memory, and the
        per-operation rate-limit pacing and ``max_connections`` apply as to any
        call. Every pair read ends in exactly one of ``added``, ``failed`` or
        ``skipped``, or is counted in ``duplicates`` when an equal pair came
        earlier (that one is made once). Per-pair errors (an unknown user, a
        full channel, not an admin of that channel) are recorded and the run
        goes on. It stops on a 401, a 429 the retry policy gave up on, a 403
        on the first call, 403s on two channels with no success between them,
        or an error for which ``stop_on`` returns True: the calls in flight
        finish, the rest of an input with a length goes to ``skipped``
        unsent, a generator is not read further, and ``stopped_by`` holds the
        error.

        Args:
            pairs: an iterable or async iterable of ``(channel_id, user_id)``.
                An item that is not a pair of ids is recorded in ``failed``
                with its ``TypeError``/``ValueError``; nothing is sent for it.
            concurrency: the most calls in flight at once (an int, at least 1).
            on_progress: called with a `whop_dm.Progress` each time an item
                is settled (counts, rate, time held by the rate limit, ETA);
                its ``total`` is ``len(pairs)``, or None when the input has no
                length. A callback taking ``(done, total)`` still works, with a
                ``DeprecationWarning``.
            stop_on: called with the error of each failed call; returning
                True stops the run (on top of the built-in rule above).
            journal: a file path: record the job in this SQLite journal, and
                resume it when called again with the same journal (see "Long
                jobs" in the bulk guide). Pairs already settled are not sent
                again; the others are sent with a key derived from the job and
                the pair, so Whop replays, rather than repeats, one that got
                through before a crash. ``added`` and ``failed`` are then read
                from the file; ``resumed`` counts the pairs an earlier run settled.
                A journal of a finished job returns its result and sends nothing.
            recheck_after: seconds (23 hours by default) after which a pair
                of a journaled job that was sent but never answered is looked
                for in its channel's members before being sent again: Whop
                forgets idempotency keys after 24 hours.

        Raises:
            ValueError, TypeError: bad arguments; nothing was sent.
            JournalError: a journal in use by another process, corrupt, not a
                journal, or of another kind of job; it is left untouched.
            Exception: whatever ``pairs``, ``on_progress`` or ``stop_on`` raised; the run
                is stopped first (its calls in flight cancelled).

        Cancelling the call cancels the calls in flight and leaves no task
        behind; the client stays usable.

        Example:
            >>> result = await client.dm_members.bulk_create(  # doctest: +SKIP
            ...     [("feed_1", "user_a"), ("feed_2", "user_b")], concurrency=32
            ... )
            >>> result.ok, len(result.added)  # doctest: +SKIP
            (True, 2)
        """
        from ._bulk import run_bulk

        # Under a span of the job's own when tracing: its calls are its children.
        return await self._transport.observer.job(
            "dm_members.bulk_create",
            pairs,
            run_bulk(
                self._create_for_bulk,
                pairs,
                concurrency=concurrency,
                on_progress=on_progress,
                stop_on=stop_on,
                journal=journal,
                list_members=self._members_by_user,
                recheck_after=recheck_after,
                held=self._transport.held_seconds,
            ),
        )

    async def add_many(
        self,
        channel_id: str,
        user_ids: Iterable[str] | AsyncIterable[str],
        *,
        concurrency: int = 16,
        on_progress: ProgressCallback | None = None,
        stop_on: StopOn | None = None,
        journal: str | os.PathLike[str] | None = None,
        recheck_after: float = _RECHECK_AFTER,
    ) -> BulkAddResult:
        """Add many users to one channel: `bulk_create` with one channel.

        ``user_ids`` is an iterable or async iterable of user ids, read as the
        run goes; ``total`` in ``on_progress`` is ``len(user_ids)`` when it
        has a length. A channel holds at most 50 members: the users beyond
        that end in ``failed`` with a ``BadRequestError`` (code ``channel_full``).
        The run stops as `bulk_create`'s does (``stop_on`` included).
        ``journal`` and ``recheck_after`` work as for `bulk_create`; the
        journal belongs to this channel.

        Raises:
            ValueError, TypeError: a bad ``channel_id``, ``user_ids`` that is a
                string or not iterable, or a bad ``concurrency``; nothing was sent.

        Example:
            >>> result = await client.dm_members.add_many(  # doctest: +SKIP
            ...     "feed_123", ["user_a", "user_b", "user_c"]
            ... )
        """
        from ._bulk import pairs_for, run_bulk

        pairs = pairs_for(check_id("channel_id", channel_id), user_ids)
        # Under a span of the job's own when tracing: its calls are its children.
        return await self._transport.observer.job(
            "dm_members.add_many",
            pairs,
            run_bulk(
                self._create_for_bulk,
                pairs,
                concurrency=concurrency,
                on_progress=on_progress,
                stop_on=stop_on,
                journal=journal,
                kind="add_many",
                channel_id=channel_id,
                list_members=self._members_by_user,
                recheck_after=recheck_after,
                held=self._transport.held_seconds,
            ),
        )

    async def retry_failed(
        self,
        journal: str | os.PathLike[str],
        *,
        concurrency: int = 16,
        on_progress: ProgressCallback | None = None,
    ) -> BulkAddResult:
        """Send again the failed pairs of a journaled job that may pass on a retry.

        Those that failed with no answer, a 5xx, 409 or 429, a garbled body, or
        an error that stopped the run (a refused key, once fixed); not those
        refused for good (404, 400, 403 on the channel). Each is sent with a
        fresh ``Idempotency-Key``, since its old one would replay the failure.
        The result covers the retried pairs only; ``whop-dm jobs retry-failed``
        runs this.

        Raises:
            JournalError: no journal at that path, or one in use, corrupt or
                not a journal.

        Example:
            >>> result = await client.dm_members.retry_failed("job.journal")  # doctest: +SKIP
        """
        from ._bulk import retry_failed

        return await retry_failed(
            self._create_for_bulk,
            journal,
            concurrency=concurrency,
            on_progress=on_progress,
            list_members=self._members_by_user,
            held=self._transport.held_seconds,
        )

    async def _members_by_user(self, channel_id: str) -> dict[str, Any]:
        """The memberships of ``channel_id`` by user id (a channel holds at most 50)."""
        return {
            member.user_id: member
            async for member in self.list(channel_id=channel_id, page_size=100)
        }

    async def _create_for_bulk(
        self, *, channel_id: str, user_id: str, idempotency_key: str | None = None
    ) -> DmMember:
        """`create` for a bulk run, whose pairs are checked already.

        It decodes leniently whatever the client's ``strict``: a pair the
        server answered 2xx was added, and is reported so.
        """
        return await self._call(
            "POST",
            "/dm_members",
            DmMember,
            json_body={"channel_id": channel_id, "user_id": user_id},
            idempotency_key=idempotency_key,
            lenient=True,
        )

    def list(
        self,
        *,
        channel_id: str,
        page_size: int | None = None,
        after: str | None = None,
        before: str | None = None,
        last: int | None = None,
    ) -> AsyncPager[DmMember]:
        """The memberships of a channel, fetched page by page as you iterate.

        Not a coroutine: it checks the arguments at once and returns an
        `AsyncPager`; the first request is sent when you iterate.
        Members come in join order. List answers may leave out
        ``notification_preference`` (it is then None).

        Args:
            channel_id: the channel (``feed_...``); the caller must be a member.
            page_size: records per request (``first``, or ``last`` walking
                backwards); the API's default (25) when None.
            after: start after this cursor (a page's ``end_cursor``).
            before: walk backwards, starting before this cursor (a page's
                ``start_cursor``).
            last: walk backwards from the end of the list, this many
                records per request.

        Raises:
            ValueError, TypeError: bad arguments, at call time; nothing was sent.
            NotFoundError: while iterating, for an unknown channel or one the
                caller is not a member of.

        Example:
            >>> async for member in client.dm_members.list(channel_id="feed_123"):  # doctest: +SKIP
            ...     print(member.user_id, member.status)
        """
        params = {"channel_id": check_id("channel_id", channel_id)}
        paging = list_query(page_size=page_size, after=after, before=before, last=last)
        return cursor_pager(self._transport, self._decoder, "/dm_members", params, DmMember, paging)

    async def retrieve(self, id: str) -> DmMember:
        """Fetch one membership by id.

        Raises:
            ValueError, TypeError: an empty or non-string id; nothing was sent.
            NotFoundError: unknown id, or a membership of a channel the caller
                is not a member of.

        Example:
            >>> member = await client.dm_members.retrieve("dmm_123")  # doctest: +SKIP
        """
        path = fill_route(_ITEM, id=id)
        return await self._call("GET", _ITEM, DmMember, path=path)

    async def update(
        self,
        id: str,
        *,
        status: MemberStatus | str | None = None,
        notification_preference: NotificationPreference | str | None = None,
    ) -> DmMember:
        """Change a membership's status or notification preference (at least one).

        A member may update its own membership; a channel admin anyone's.
        Needs the ``dms:channel:manage`` scope.

        Args:
            id: the membership (``dmm_...``).
            status: a `MemberStatus` or its value (``"accepted"``,
                ``"hidden"``, ``"archived"``...).
            notification_preference: a `NotificationPreference` or its
                value (``"all"``, ``"mentions"``, ``"none"``).

        Raises:
            ValueError, TypeError: an unknown value, neither given, or a bad
                id; nothing was sent.
            NotFoundError: unknown id, or not visible to the caller.
            PermissionDeniedError: neither the member nor an admin.

        Example:
            >>> member = await client.dm_members.update(  # doctest: +SKIP
            ...     "dmm_123", notification_preference=NotificationPreference.MENTIONS
            ... )
        """
        path = fill_route(_ITEM, id=id)
        body: dict[str, str] = {}
        if status is not None:
            body["status"] = _check_choice("status", status, MemberStatus)
        if notification_preference is not None:
            body["notification_preference"] = _check_choice(
                "notification_preference", notification_preference, NotificationPreference
            )
        if not body:
            raise ValueError("update needs status or notification_preference (or both)")
        return await self._call("PATCH", _ITEM, DmMember, path=path, json_body=body)

    async def delete(self, id: str) -> bool:
        """Remove a membership (leave a channel, or remove someone); True when confirmed.

        A member may remove itself; a channel admin anyone. Needs the
        ``dms:channel:manage`` scope.

        Raises:
            ValueError, TypeError: an empty or non-string id; nothing was sent.
            NotFoundError: unknown id (or already removed), or not visible.
            PermissionDeniedError: neither the member nor an admin.

        Example:
            >>> await client.dm_members.delete("dmm_123")  # doctest: +SKIP
            True
        """
        path = fill_route(_ITEM, id=id)
        return await self._call("DELETE", _ITEM, bool, path=path)
