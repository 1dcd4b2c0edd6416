"""Bulk membership adds: a fixed pool of workers over any (async) iterable of pairs.

The run is ``concurrency`` worker tasks, each pulling the next pair from the
input, sending it, and recording where it ended. Nothing is read ahead: at
most ``concurrency`` pairs are pulled and not yet settled, so a generator of
millions costs memory for the workers, not for the input (the record of
distinct pairs and the result's own lists aside, see `run_bulk`).
Only asyncio primitives that exist on Python 3.10 are used (no TaskGroup).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import os
import time
from collections import deque
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Iterable,
    Iterator,
    Sequence,
    Sized,
)
from typing import TYPE_CHECKING, Any, NamedTuple

import attrs

from ._arguments import check_id
from ._errors import (
    AuthenticationError,
    ClientClosedError,
    PermissionDeniedError,
    RateLimitError,
    ResponseDecodeError,
    WhopError,
)
from ._models import DmMember
from ._progress import HeldClock, ProgressCallback, ProgressMeter, adapt_progress, no_hold

if TYPE_CHECKING:
    from ._journal import Journal

__all__ = [
    "BulkAddResult",
    "BulkFailure",
    "Pairs",
    "DEFAULT_RECHECK_AFTER",
    "ProgressCallback",
    "StopOn",
    "check_concurrency",
    "is_fatal",
    "pairs_for",
    "retry_failed",
    "run_bulk",
]

Pairs = Iterable[tuple[str, str]] | AsyncIterable[tuple[str, str]]
StopOn = Callable[[Exception], bool]
CreateMember = Callable[..., Awaitable[DmMember]]
# The memberships of one channel by user id, for the check before a late resend.
ListMembers = Callable[[str], Coroutine[Any, Any, dict[str, DmMember]]]

DEFAULT_RECHECK_AFTER = 23 * 3600.0
# Pairs read and recorded in the journal at once, ahead of the workers.
_CHUNK = 256

_END: Any = object()


@attrs.frozen
class BulkFailure:
    """A pair that was tried and failed, with the error it ended on.

    ``error`` is the `WhopError` of the call, or the ``ValueError`` /
    ``TypeError`` for a pair that could not be sent at all (an empty id, a
    non-string, an item that is not a ``(channel_id, user_id)`` pair). For such
    an item, a field that was not a string holds its ``repr()`` and, for an
    item of the wrong shape, ``channel_id`` holds the item's ``repr()`` and
    ``user_id`` is empty.
    """

    channel_id: str
    user_id: str
    error: Exception


@attrs.define(repr=False)
class BulkAddResult:
    """Where every input pair of a bulk run ended.

    Each pair read from the input is in exactly one place: ``added`` (its
    membership, which may be one that already existed: adding a member twice
    is not an error), ``failed``, ``skipped``, or counted in ``duplicates``
    when an equal pair came earlier in the input (that earlier one is listed).
    So ``total`` is the number of input items read.

    In a journaled run (``journal=``), ``added`` and ``failed`` are read from
    the journal file when iterated rather than held in memory (see
    `JournalRecords`); they include the pairs settled in an earlier run of
    the job, whose number is ``resumed``.

    Attributes:
        added: the memberships made (or found existing), in completion order
            (in input order for a journaled run).
        failed: the pairs that ended on an error, in completion order.
        skipped: pairs not attempted because a fatal error stopped the run.
        duplicates: input items dropped as repeats of an earlier pair.
        stopped_by: the fatal error that stopped the run early, or None when
            it went through the whole input.
        resumed: pairs of ``added`` and ``failed`` that an earlier run of a
            journaled job settled, and this one did not send again.
    """

    added: Sequence[DmMember] = attrs.Factory(list)
    failed: Sequence[BulkFailure] = attrs.Factory(list)
    skipped: list[tuple[str, str]] = attrs.Factory(list)
    duplicates: int = 0
    stopped_by: Exception | None = None
    resumed: int = 0

    @property
    def ok(self) -> bool:
        """True when every pair was added (and the run was not stopped)."""
        return not self.failed and not self.skipped and self.stopped_by is None

    @property
    def total(self) -> int:
        """Input items accounted for: added + failed + skipped + duplicates."""
        return len(self.added) + len(self.failed) + len(self.skipped) + self.duplicates

    def __repr__(self) -> str:
        # Counts, not records: a result of thousands of members would print megabytes.
        parts = [
            f"added={len(self.added)}",
            f"failed={len(self.failed)}",
            f"skipped={len(self.skipped)}",
            f"duplicates={self.duplicates}",
        ]
        if self.resumed:
            parts.append(f"resumed={self.resumed}")
        parts.append(f"ok={self.ok}")
        if self.stopped_by is not None:
            parts.append(f"stopped_by={type(self.stopped_by).__name__}")
        if self.failed:
            examples = [
                f"{f.channel_id},{f.user_id}: {type(f.error).__name__}"
                for f in itertools.islice(self.failed, _REPR_EXAMPLES)
            ]
            more = ", ..." if len(self.failed) > _REPR_EXAMPLES else ""
            parts.append(f"first_failed=[{', '.join(map(_short_repr, examples))}{more}]")
        return f"BulkAddResult({', '.join(parts)})"


_REPR_EXAMPLES = 3


def is_fatal(error: BaseException) -> bool:
    """Whether ``error`` alone dooms every other call of a bulk run.

    True for a 401 (the key is refused), a 429 the retry policy gave up on
    (the server wants a longer pause than the client will take, or kept
    refusing: further calls would be refused too), and a closed client.
    A 403 is not fatal by itself: Whop gives the same answer to a key without
    the scope (every call will fail) and to a caller who is not an admin of
    one channel (only that channel's pairs will), so the run decides from
    where 403s fall (see `run_bulk`), never from their wording.
    """
    return isinstance(error, (AuthenticationError, RateLimitError, ClientClosedError))


def check_concurrency(concurrency: object) -> int:
    if isinstance(concurrency, bool) or not isinstance(concurrency, int):
        raise TypeError(f"concurrency must be an int, not {type(concurrency).__name__}")
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    return concurrency


def _field(value: object) -> str:
    return value if isinstance(value, str) else repr(value)


def _pair_key(channel_id: str, user_id: str) -> bytes:
    # A digest instead of the pair itself: the record of distinct pairs then
    # costs the same whatever the ids' length, and does not keep the input's
    # strings alive. 128 bits make a collision negligible at any input size.
    # Ids never hold NUL (check_id), so the separator is unambiguous.
    raw = f"{channel_id}\x00{user_id}".encode("utf-8", "surrogatepass")
    return hashlib.blake2b(raw, digest_size=16).digest()


class _Run:
    """The shared state of one bulk run."""

    def __init__(
        self, create: CreateMember, pairs: Pairs, meter: ProgressMeter, stop_on: StopOn | None
    ) -> None:
        self.create = create
        self.meter = meter
        self.stop_on = stop_on
        # The channel of the latest 403 since the latest success: a 403 from
        # another channel before any success means the key, not a channel, is
        # refused.
        self.denied_channel: str | None = None
        self.result = BulkAddResult()
        self.added: list[DmMember] = []
        self.failed: list[BulkFailure] = []
        self.result.added = self.added
        self.result.failed = self.failed
        self.seen: set[bytes] = set()
        self.exhausted = False
        # The first request goes alone; the other workers start once it has
        # an answer, so a bad key costs one request, not `concurrency`.
        self.opened = asyncio.Event()
        self.sync_input: Iterable[Any] | None = None
        self.iterator: Any
        self.lock: asyncio.Lock | None = None
        if isinstance(pairs, AsyncIterable):
            self.iterator = pairs.__aiter__()
            # Two __anext__ calls at once break an async generator.
            self.lock = asyncio.Lock()
        else:
            self.sync_input = pairs
            self.iterator = iter(pairs)

    @property
    def stopped(self) -> bool:
        return self.result.stopped_by is not None

    async def pull(self) -> Any:
        """The next input item, or ``_END``; never called once the input ended."""
        if self.lock is None:
            item = next(self.iterator, _END)
        else:
            async with self.lock:
                if self.exhausted or self.stopped:
                    return _END
                iterator: AsyncIterator[Any] = self.iterator
                try:
                    item = await iterator.__anext__()
                except StopAsyncIteration:
                    item = _END
        if item is _END:
            self.exhausted = True
        return item

    def check(self, item: object) -> tuple[str, str] | None:
        """The pair ``item`` holds, or None when it is not a valid pair (recorded as failed)."""
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            error = TypeError(
                f"each item must be a (channel_id, user_id) pair, got {_short_repr(item)}"
            )
            self.record_failure(BulkFailure(_short_repr(item), "", error))
            return None
        channel_id, user_id = item
        try:
            check_id("channel_id", channel_id)
            check_id("user_id", user_id)
        except (TypeError, ValueError) as error:
            self.record_failure(BulkFailure(_field(channel_id), _field(user_id), error))
            return None
        return channel_id, user_id

    def accept(self, item: object) -> Any:
        """The pair to send, or None when the item is settled already
        (a repeat, or not a valid pair: recorded as failed)."""
        pair = self.check(item)
        if pair is None:
            return None
        key = _pair_key(*pair)
        if key in self.seen:
            self.result.duplicates += 1
            return None
        self.seen.add(key)
        return pair

    def record_failure(self, failure: BulkFailure) -> None:
        self.failed.append(failure)
        self.meter.failed += 1

    def settle(self) -> None:
        self.meter.done += 1
        self.meter.report()

    async def worker(self, first: bool) -> None:
        try:
            if not first:
                await self.opened.wait()
            unsent = 0
            while not self.stopped and not self.exhausted:
                item = await self.pull()
                if item is _END:
                    return
                pair = self.accept(item)
                if pair is not None:
                    await self.send(pair)
                    if first:
                        self.opened.set()
                else:
                    unsent += 1
                    if unsent % 64 == 0:
                        # A long run of repeats from a plain iterator never awaits
                        # anything: let the rest of the program (and a cancel) in.
                        await asyncio.sleep(0)
                self.settle()
        finally:
            if first:
                self.opened.set()

    async def send(self, pair: Any) -> None:
        channel_id, user_id = pair
        # Only the first call is sent before `opened` is set: it goes alone.
        alone = not self.opened.is_set()
        try:
            member = await self.create(channel_id=channel_id, user_id=user_id)
        except ResponseDecodeError:
            # A 2xx whose body is not a member at all: the server said yes, so
            # the pair was added, whatever its answer held.
            member = _undecoded_member(channel_id, user_id)
        except (WhopError, ValueError, TypeError) as error:
            self.fail(channel_id, user_id, error, alone)
            self.meter.answered += 1
            return
        self.added.append(member)
        self.meter.added += 1
        self.denied_channel = None
        self.meter.answered += 1

    def fail(self, channel_id: str, user_id: str, error: Exception, alone: bool) -> bool:
        """Record a pair's failure; True when its error stops the run."""
        self.record_failure(BulkFailure(channel_id, user_id, error))
        stops = self.stops(error, channel_id, alone)
        if stops and self.result.stopped_by is None:
            self.result.stopped_by = error
        return stops

    def stops(self, error: Exception, channel_id: str, alone: bool) -> bool:
        """Whether the failure of a call stops the run (the rule of `run_bulk`)."""
        if is_fatal(error):
            return True
        if isinstance(error, PermissionDeniedError):
            if alone:
                return True
            if self.denied_channel is not None and self.denied_channel != channel_id:
                return True
            self.denied_channel = channel_id
        return self.stop_on is not None and bool(self.stop_on(error))

    def skip(self, pair: tuple[str, str]) -> None:
        self.result.skipped.append(pair)
        self.meter.skipped += 1

    async def skip_rest(self) -> None:
        """After a fatal stop, list what is left of an input that has a length.

        Such an input is a collection already in memory, so listing the rest
        costs no more than the input itself and no request is sent; an input
        without a length (a generator, an async iterable) may be endless, so
        its remainder is left unread.
        """
        if self.exhausted or not isinstance(self.sync_input, Sized):
            return
        for item in self.iterator:
            pair = self.accept(item)
            if pair is not None:
                self.skip(pair)
        self.exhausted = True

    def stop_background(self) -> list[asyncio.Task[Any]]:
        """Cancel the run's tasks other than the workers; they are returned to be awaited."""
        return []

    def finish(self) -> BulkAddResult:
        return self.result


class _Planned(NamedTuple):
    """A pair the journal says to send, with its key and when that key was first used.
    (A tuple, not an attrs record: one is made per pair.)"""

    channel_id: str
    user_id: str
    key: str
    sent_at: float | None


class _JournaledRun(_Run):
    """A run whose pairs pass through a journal: read in chunks, recorded before they
    are sent, sent with their derived key, their outcomes written in batches.

    Repeats are recognised by the journal (the pairs are in the file), so the
    run holds no record of distinct pairs, and its results stay in the file.
    """

    def __init__(
        self,
        create: CreateMember,
        pairs: Pairs,
        meter: ProgressMeter,
        journal: Journal,
        list_members: ListMembers | None,
        recheck_after: float,
        stop_on: StopOn | None,
    ) -> None:
        super().__init__(create, pairs, meter, stop_on)
        self.journal = journal
        self.list_members = list_members
        self.recheck_after = recheck_after
        self.queue: deque[_Planned] = deque()
        self.reading: asyncio.Task[None] | None = None
        self.input_ended = False
        self.resumed = 0
        self.channels: dict[str, asyncio.Task[dict[str, DmMember]]] = {}

    async def pull(self) -> Any:
        while not self.queue:
            if self.stopped:
                return _END
            if self.input_ended and self.reading is None:
                # Only once the last chunk is in: the input ends before its
                # pairs are recorded and queued.
                self.exhausted = True
                return _END
            await self.read_ahead()
        item = self.queue.popleft()
        if len(self.queue) < _CHUNK // 2:
            self.start_reading()
        return item

    def start_reading(self) -> None:
        if self.reading is None and not self.input_ended and not self.stopped:
            self.reading = asyncio.get_running_loop().create_task(self.read_chunk())

    async def read_ahead(self) -> None:
        self.start_reading()
        task = self.reading
        if task is not None:
            # Shielded: a worker cancelled while waiting must not cancel the read
            # the others wait for; run_bulk cancels it itself when the run ends.
            await asyncio.shield(task)

    async def next_items(self) -> list[Any]:
        items: list[Any] = []
        if self.lock is None:
            items.extend(itertools.islice(self.iterator, _CHUNK))
        else:
            iterator: AsyncIterator[Any] = self.iterator
            for _ in range(_CHUNK):
                try:
                    items.append(await iterator.__anext__())
                except StopAsyncIteration:
                    break
        if len(items) < _CHUNK:
            self.input_ended = True
        return items

    async def admit(self, items: list[Any]) -> list[_Planned]:
        """Record ``items`` in the journal; the pairs among them to send."""
        pairs: list[tuple[str, str]] = []
        in_chunk: set[tuple[str, str]] = set()
        settled = 0
        for item in items:
            pair = self.check(item)
            if pair is None:
                settled += 1
            elif pair in in_chunk:
                self.result.duplicates += 1
                settled += 1
            else:
                in_chunk.add(pair)
                pairs.append(pair)
        planned: list[_Planned] = []
        if pairs:
            admissions = await self.journal.admit(pairs)
            for (channel_id, user_id), admission in zip(pairs, admissions, strict=True):
                if admission.action == "send":
                    planned.append(_Planned(channel_id, user_id, admission.key, admission.sent_at))
                    continue
                settled += 1
                if admission.action == "duplicate":
                    self.result.duplicates += 1
                else:
                    self.resumed += 1
                    if admission.state == "added":
                        self.meter.added += 1
                    else:
                        self.meter.failed += 1
        for _ in range(settled):
            self.settle()
        return planned

    async def read_chunk(self) -> None:
        try:
            planned = await self.admit(await self.next_items())
            self.queue.extend(planned)
        finally:
            self.reading = None

    def accept(self, item: Any) -> Any:
        return item  # checked and recorded when read

    async def send(self, pair: Any) -> None:
        planned: _Planned = pair
        channel_id, user_id = planned.channel_id, planned.user_id
        journal = self.journal
        alone = not self.opened.is_set()
        try:
            if planned.sent_at is not None and time.time() - planned.sent_at > self.recheck_after:
                # Whop may have forgotten the key by now: a resend could act
                # twice. Ask whether the first send took effect.
                member = await self.find_member(channel_id, user_id)
                if member is not None:
                    journal.added(member, channel_id, user_id)
                    self.meter.added += 1
                    self.meter.answered += 1
                    return
                journal.restarted(channel_id, user_id)
            journal.sending(channel_id, user_id)
            member = await self.create(
                channel_id=channel_id, user_id=user_id, idempotency_key=planned.key
            )
        except ResponseDecodeError:
            # As in `_Run.send`: a 2xx is an added pair, whatever its body held.
            journal.added(_undecoded_member(channel_id, user_id), channel_id, user_id)
            self.meter.added += 1
            self.denied_channel = None
        except (WhopError, ValueError, TypeError) as error:
            # An error that stops the run is the run's, not the pair's: the
            # journal marks it so that the next run sends the pair again.
            stops = self.fail(channel_id, user_id, error, alone)
            journal.failed(channel_id, user_id, error, stops)
            self.failed.pop()  # the journal keeps it; the result reads it from there
        else:
            journal.added(member, channel_id, user_id)
            self.meter.added += 1
            self.denied_channel = None
        self.meter.answered += 1

    async def find_member(self, channel_id: str, user_id: str) -> DmMember | None:
        if self.list_members is None:
            return None
        task = self.channels.get(channel_id)
        if task is None:
            task = asyncio.get_running_loop().create_task(self.list_members(channel_id))
            self.channels[channel_id] = task
        return (await asyncio.shield(task)).get(user_id)

    def skip(self, pair: Any) -> None:
        if isinstance(pair, _Planned):
            pair = (pair.channel_id, pair.user_id)
        super().skip(pair)

    async def skip_rest(self) -> None:
        """After a fatal stop: the pairs read and not sent are skipped, and so is the
        rest of an input with a length, recorded in the journal for the next run."""
        while self.queue:
            self.skip(self.queue.popleft())
        if not isinstance(self.sync_input, Sized):
            return
        while not self.input_ended:
            for planned in await self.admit(await self.next_items()):
                self.skip(planned)
        self.exhausted = True

    def stop_background(self) -> list[asyncio.Task[Any]]:
        tasks: list[asyncio.Task[Any]] = list(self.channels.values())
        if self.reading is not None:
            tasks.append(self.reading)
        for task in tasks:
            task.cancel()
        return tasks

    def finish(self) -> BulkAddResult:
        counts = {"added": self.meter.added, "failed": self.meter.failed - len(self.failed)}
        added, failed = self.journal.records(self.journal.run, counts)
        result = self.result
        result.added = added
        result.failed = _Chained(self.failed, failed) if self.failed else failed
        result.resumed = self.resumed
        return result


class _Chained(Sequence[Any]):
    """Invalid items (kept in memory, never journaled) followed by the journal's failures."""

    def __init__(self, first: list[Any], rest: Sequence[Any]) -> None:
        self._first = first
        self._rest = rest

    def __len__(self) -> int:
        return len(self._first) + len(self._rest)

    def __iter__(self) -> Iterator[Any]:
        return itertools.chain(self._first, self._rest)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return list(self)[index]
        if index < 0:
            index += len(self)
        if index < len(self._first):
            return self._first[index]
        return self._rest[index - len(self._first)]


def _undecoded_member(channel_id: str, user_id: str) -> DmMember:
    """The membership of a pair answered 2xx with a body that is not a member
    at all: what the pair says, the rest None."""
    fields: dict[str, Any] = {
        "id": None,
        "user_id": user_id,
        "channel_id": channel_id,
        "status": None,
        "last_viewed_at": None,
    }
    return DmMember(**fields)


def _short_repr(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


class _SizedPairs:
    """``(channel_id, user_id)`` for each user of a collection, keeping its length."""

    __slots__ = ("_channel_id", "_user_ids")

    def __init__(self, channel_id: str, user_ids: Iterable[str]) -> None:
        self._channel_id = channel_id
        self._user_ids = user_ids

    def __len__(self) -> int:
        assert isinstance(self._user_ids, Sized)
        return len(self._user_ids)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return zip(itertools.repeat(self._channel_id), self._user_ids)


class _AsyncPairs:
    """``(channel_id, user_id)`` for each user of an async iterable, read as needed."""

    __slots__ = ("_channel_id", "_user_ids")

    def __init__(self, channel_id: str, user_ids: AsyncIterable[str]) -> None:
        self._channel_id = channel_id
        self._user_ids = user_ids.__aiter__()

    def __aiter__(self) -> _AsyncPairs:
        return self

    async def __anext__(self) -> tuple[str, str]:
        return self._channel_id, await self._user_ids.__anext__()


def pairs_for(channel_id: str, user_ids: Iterable[str] | AsyncIterable[str]) -> Pairs:
    """The pairs of ``add_many``: one channel, many users, read as lazily as ``user_ids``."""
    if isinstance(user_ids, (str, bytes)):
        raise TypeError(
            f"user_ids must be an iterable of user ids, not a single {type(user_ids).__name__}"
        )
    if isinstance(user_ids, AsyncIterable):
        return _AsyncPairs(channel_id, user_ids)
    if isinstance(user_ids, Sized) and isinstance(user_ids, Iterable):
        return _SizedPairs(channel_id, user_ids)
    if isinstance(user_ids, Iterable):
        return zip(itertools.repeat(channel_id), user_ids)
    raise TypeError(f"user_ids must be an iterable of user ids, not {type(user_ids).__name__}")


async def run_bulk(
    create: CreateMember,
    pairs: Pairs,
    *,
    concurrency: int,
    on_progress: object,
    journal: str | os.PathLike[str] | None = None,
    kind: str = "bulk_create",
    channel_id: str | None = None,
    list_members: ListMembers | None = None,
    recheck_after: float = DEFAULT_RECHECK_AFTER,
    held: HeldClock = no_hold,
    stop_on: StopOn | None = None,
) -> BulkAddResult:
    """Call ``create(channel_id=..., user_id=...)`` for each distinct pair of ``pairs``.

    ``concurrency`` worker tasks pull pairs one at a time, so at most that
    many calls are in flight and at most that many pairs have been read and
    not yet settled. The first call goes alone and the rest start once it is
    answered: a refused key costs one request.

    A pair equal to an earlier one is not sent again (counted in
    ``duplicates``); recognising repeats takes a set of 16-byte digests, one
    per distinct pair (about 100 bytes each: ~10 MB for 100,000 pairs). The
    result holds one record per pair, too.

    The run stops on the first failure that dooms the calls to come, judged
    by where it falls, never by the server's wording:

    - a 401, a 429 the retry policy gave up on, or a closed client (`is_fatal`);
    - a 403 on the first call (it goes alone);
    - a 403 on a second channel with no success since a 403 on another:
      the key, not one channel, is refused;
    - any failure for which ``stop_on(error)`` returns True.

    Other failures (404, 400 such as ``channel_full``, 5xx and connection
    failures that outlasted their retries, 403s within one channel) belong to
    their pair. When the run stops, no new pair is read, the calls in flight
    finish and are recorded, and for an input with a length the rest of it
    goes to ``skipped`` unsent; a generator or async iterable is simply not
    read further (its remaining items stay in it). ``stopped_by`` holds the
    error.

    ``on_progress(progress)`` is called with a `Progress` after each item is
    settled (added, failed or found to be a repeat); its ``total`` is
    ``len(pairs)`` for an input with a length, else None. An exception from
    ``on_progress``, ``stop_on`` or the input itself stops the run and
    propagates, as does cancellation: the workers and their calls in flight
    are cancelled and awaited first, so no task outlives the call and the
    client stays usable.

    With ``journal`` (a path), the job is recorded in that SQLite file and
    resumes from it when run again (see `whop_dm._journal`): the pairs are
    read ``_CHUNK`` at a time ahead of the workers and recorded before they
    are sent, repeats are recognised by the file instead of in memory, each
    pair is sent with the key derived from the job and the pair, and the
    result's ``added`` and ``failed`` are read from the file. A pair of an
    earlier run sent more than ``recheck_after`` seconds ago and never
    answered is looked for with ``list_members`` before it is sent again.
    """
    check_concurrency(concurrency)
    if isinstance(pairs, (str, bytes)) or not isinstance(pairs, (Iterable, AsyncIterable)):
        raise TypeError(
            f"pairs must be an iterable of (channel_id, user_id) pairs, not {type(pairs).__name__}"
        )
    callback = adapt_progress(on_progress)
    if stop_on is not None and not callable(stop_on):
        raise TypeError("stop_on must be a callable taking the error, or None")
    if journal is not None and not isinstance(journal, (str, os.PathLike)):
        raise TypeError(f"journal must be a path, not {type(journal).__name__}")
    if isinstance(recheck_after, bool) or not isinstance(recheck_after, (int, float)):
        raise TypeError(
            f"recheck_after must be a number of seconds, not {type(recheck_after).__name__}"
        )
    if not recheck_after >= 0:
        raise ValueError(f"recheck_after must be at least 0, got {recheck_after}")
    total = len(pairs) if isinstance(pairs, Sized) else None
    meter = ProgressMeter(callback, total, held)
    if journal is None:
        run = _Run(create, pairs, meter, stop_on)
        await _drive(run, concurrency, total)
        return run.finish()

    return await _run_journaled(
        create,
        pairs,
        meter,
        concurrency,
        total,
        journal,
        kind,
        channel_id,
        list_members,
        float(recheck_after),
        stop_on,
        finishes_job=True,
    )


async def _run_journaled(
    create: CreateMember,
    pairs: Pairs,
    meter: ProgressMeter,
    concurrency: int,
    total: int | None,
    path: str | os.PathLike[str],
    kind: str,
    channel_id: str | None,
    list_members: ListMembers | None,
    recheck_after: float,
    stop_on: StopOn | None,
    *,
    finishes_job: bool,
) -> BulkAddResult:
    from ._journal import Journal

    opened = await Journal.open(path, kind, channel_id)
    if opened.finished:
        try:
            return await _finished_result(opened)
        finally:
            await opened.close(finished=False, duplicates=None)
    journaled = _JournaledRun(create, pairs, meter, opened, list_members, recheck_after, stop_on)
    completed = False
    try:
        await _drive(journaled, concurrency, total)
        completed = True
    finally:
        await opened.close(
            finished=finishes_job and completed and not journaled.stopped,
            # A retry of some pairs says nothing of the job's repeats.
            duplicates=journaled.result.duplicates if finishes_job else None,
        )
    return journaled.finish()


async def retry_failed(
    create: CreateMember,
    journal: str | os.PathLike[str],
    *,
    concurrency: int,
    on_progress: object,
    list_members: ListMembers | None = None,
    held: HeldClock = no_hold,
    stop_on: StopOn | None = None,
) -> BulkAddResult:
    """Send again the failed pairs of a journal whose errors may pass on a retry.

    Those are the pairs that failed without an answer, on a 5xx, 409 or 429,
    on a garbled body, or on an error that stopped the run. Each goes with a
    fresh key (the old one would replay its failure). The result covers those
    pairs only; the journal then holds the whole job's state.
    """
    from ._journal import JournalFile

    check_concurrency(concurrency)
    if not isinstance(journal, (str, os.PathLike)):
        raise TypeError(f"journal must be a path, not {type(journal).__name__}")
    callback = adapt_progress(on_progress)

    def reopen() -> tuple[list[tuple[str, str]], str, str | None, bool]:
        file = JournalFile.open(journal, None, None)
        try:
            finished = file.finished
            return (
                file.reopen_failed(),
                str(file.meta["kind"]),
                file.meta.get("channel_id"),
                finished,
            )
        finally:
            file.close()

    pairs, kind, channel_id, finished = await asyncio.to_thread(reopen)
    if not pairs:
        return BulkAddResult()  # nothing to retry: the job's own result is another call
    meter = ProgressMeter(callback, len(pairs), held)
    return await _run_journaled(
        create,
        pairs,
        meter,
        max(1, min(concurrency, len(pairs) or 1)),
        len(pairs),
        journal,
        kind,
        channel_id,
        list_members,
        DEFAULT_RECHECK_AFTER,
        stop_on,
        finishes_job=finished,
    )


async def _finished_result(journal: Journal) -> BulkAddResult:
    """The result of a job its journal says is finished: nothing is read or sent."""
    counts = await journal.call(journal.file.counts, None)
    added, failed = journal.records(None, counts)
    return BulkAddResult(
        added=added,
        failed=failed,
        duplicates=int(journal.file.meta.get("duplicates") or 0),
        resumed=counts["added"] + counts["failed"],
    )


async def _drive(run: _Run, concurrency: int, total: int | None) -> None:
    workers = concurrency if total is None else max(1, min(concurrency, total))
    loop = asyncio.get_running_loop()
    tasks = [loop.create_task(run.worker(index == 0)) for index in range(workers)]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        # On an error or a cancellation, stop the others and wait until each
        # has really finished, so none outlives this call.
        for task in tasks:
            task.cancel()
        background = run.stop_background()
        await asyncio.wait(tasks + background)
        # Read every task's outcome, so none is reported as never retrieved; a
        # background task's error reached the worker that waited for it.
        errors = [task.exception() for task in tasks if not task.cancelled()]
        for task in background:
            if not task.cancelled():
                task.exception()
    first_error = next((error for error in errors if error is not None), None)
    if first_error is not None:
        raise first_error
    if run.stopped:
        await run.skip_rest()
