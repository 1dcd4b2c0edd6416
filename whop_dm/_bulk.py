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
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Sized,
)
from typing import Any

import attrs

from ._arguments import check_id
from ._errors import (
    AuthenticationError,
    ClientClosedError,
    PermissionDeniedError,
    RateLimitError,
    WhopError,
)
from ._models import DmMember

__all__ = [
    "BulkAddResult",
    "BulkFailure",
    "Pairs",
    "ProgressCallback",
    "StopOn",
    "check_concurrency",
    "is_fatal",
    "pairs_for",
    "run_bulk",
]

Pairs = Iterable[tuple[str, str]] | AsyncIterable[tuple[str, str]]
ProgressCallback = Callable[[int, int | None], None]
StopOn = Callable[[Exception], bool]
CreateMember = Callable[..., Awaitable[DmMember]]

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


@attrs.define
class BulkAddResult:
    """Where every input pair of a bulk run ended.

    Each pair read from the input is in exactly one place: ``added`` (its
    membership, which may be one that already existed: adding a member twice
    is not an error), ``failed``, ``skipped``, or counted in ``duplicates``
    when an equal pair came earlier in the input (that earlier one is listed).
    So ``total`` is the number of input items read.

    Attributes:
        added: the memberships made (or found existing), in completion order.
        failed: the pairs that ended on an error, in completion order.
        skipped: pairs not attempted because a fatal error stopped the run.
        duplicates: input items dropped as repeats of an earlier pair.
        stopped_by: the fatal error that stopped the run early, or None when
            it went through the whole input.
    """

    added: list[DmMember] = attrs.Factory(list)
    failed: list[BulkFailure] = attrs.Factory(list)
    skipped: list[tuple[str, str]] = attrs.Factory(list)
    duplicates: int = 0
    stopped_by: Exception | None = None

    @property
    def ok(self) -> bool:
        """True when every pair was added (and the run was not stopped)."""
        return not self.failed and not self.skipped and self.stopped_by is None

    @property
    def total(self) -> int:
        """Input items accounted for: added + failed + skipped + duplicates."""
        return len(self.added) + len(self.failed) + len(self.skipped) + self.duplicates


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
        self,
        create: CreateMember,
        pairs: Pairs,
        on_progress: ProgressCallback | None,
        total: int | None,
        stop_on: StopOn | None,
    ) -> None:
        self.create = create
        self.on_progress = on_progress
        self.stop_on = stop_on
        # The channel of the latest 403 since the latest success: a 403 from
        # another channel before any success means the key, not a channel, is
        # refused.
        self.denied_channel: str | None = None
        self.total = total
        self.result = BulkAddResult()
        self.seen: set[bytes] = set()
        self.done = 0
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

    def accept(self, item: object) -> tuple[str, str] | None:
        """The pair to send, or None when the item is settled already
        (a repeat, or not a valid pair: recorded as failed)."""
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            error = TypeError(
                f"each item must be a (channel_id, user_id) pair, got {_short_repr(item)}"
            )
            self.result.failed.append(BulkFailure(_short_repr(item), "", error))
            return None
        channel_id, user_id = item
        try:
            check_id("channel_id", channel_id)
            check_id("user_id", user_id)
        except (TypeError, ValueError) as error:
            self.result.failed.append(BulkFailure(_field(channel_id), _field(user_id), error))
            return None
        key = _pair_key(channel_id, user_id)
        if key in self.seen:
            self.result.duplicates += 1
            return None
        self.seen.add(key)
        return channel_id, user_id

    def settle(self) -> None:
        self.done += 1
        if self.on_progress is not None:
            self.on_progress(self.done, self.total)

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
                    await self.send(*pair)
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

    async def send(self, channel_id: str, user_id: str) -> None:
        # Only the first call is sent before `opened` is set: it goes alone.
        alone = not self.opened.is_set()
        try:
            member = await self.create(channel_id=channel_id, user_id=user_id)
        except (WhopError, ValueError, TypeError) as error:
            self.result.failed.append(BulkFailure(channel_id, user_id, error))
            if self.result.stopped_by is None and self.stops(error, channel_id, alone):
                self.result.stopped_by = error
        else:
            self.result.added.append(member)
            self.denied_channel = None

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

    def skip_rest(self) -> None:
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
                self.result.skipped.append(pair)
        self.exhausted = True


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
    on_progress: ProgressCallback | None,
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

    ``on_progress(done, total)`` is called after each item is settled (added,
    failed or found to be a repeat); ``total`` is ``len(pairs)`` for an input
    with a length, else None. An exception from ``on_progress``, ``stop_on``
    or the input itself stops the run and propagates, as does cancellation:
    the workers and their calls in flight are cancelled and awaited first, so
    no task outlives the call and the client stays usable.
    """
    check_concurrency(concurrency)
    if isinstance(pairs, (str, bytes)) or not isinstance(pairs, (Iterable, AsyncIterable)):
        raise TypeError(
            f"pairs must be an iterable of (channel_id, user_id) pairs, not {type(pairs).__name__}"
        )
    if on_progress is not None and not callable(on_progress):
        raise TypeError("on_progress must be a callable taking (done, total), or None")
    if stop_on is not None and not callable(stop_on):
        raise TypeError("stop_on must be a callable taking the error, or None")
    total = len(pairs) if isinstance(pairs, Sized) else None
    run = _Run(create, pairs, on_progress, total, stop_on)
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
        await asyncio.wait(tasks)
        # Read every worker's outcome, so none is reported as never retrieved.
        errors = [task.exception() for task in tasks if not task.cancelled()]
    first_error = next((error for error in errors if error is not None), None)
    if first_error is not None:
        raise first_error
    if run.stopped:
        run.skip_rest()
    return run.result
