"""The SQLite journal of a bulk job: what was sent, with which key, and how it ended.

A journal is one SQLite file. It holds the job's identity (a random job id,
its kind: ``bulk_create``, or ``add_many`` with its channel) and one row per
distinct pair: its state (``pending``, ``sent``, ``added``, ``failed``), the
``Idempotency-Key`` it is sent with, when that key was first used, and the
membership or the error it ended on.

Keys are derived from (job id, channel_id, user_id), so a pair sent again
after a crash carries the key of its first send, whether or not that send
reached the file: Whop then replays the first answer instead of acting twice.

All SQLite work runs on one worker thread per open journal (a connection
belongs to the thread that made it). Writes are batched: the bulk run hands
its outcomes to `Journal`, which commits them in one transaction every
`FLUSH_INTERVAL` seconds or every `FLUSH_ROWS` rows, in WAL mode with
``synchronous=NORMAL``: a committed batch survives the process being killed.
The file is locked (``flock``) while a job has it open, so two processes never
run the same job; reading its status does not take the lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple, TypeVar, overload

import attrs

from ._enums import MemberStatus, NotificationPreference
from ._errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    ClientClosedError,
    ConflictError,
    InternalServerError,
    RateLimitError,
    ResponseDecodeError,
    WhopError,
    error_class_for,
)
from ._models import DmMember

__all__ = [
    "FLUSH_INTERVAL",
    "FLUSH_ROWS",
    "Admission",
    "Journal",
    "JournalError",
    "JournalFile",
    "JournalRecords",
    "JournalStatus",
    "derive_key",
    "is_retryable",
    "journal_status",
]

FORMAT = "whop-dm journal"
VERSION = 1
FLUSH_INTERVAL = 0.05
FLUSH_ROWS = 2000
_SQLITE_MAGIC = b"SQLite format 3\x00"

PENDING, SENT, ADDED, FAILED = "pending", "sent", "added", "failed"

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE pairs (
    seq INTEGER PRIMARY KEY,
    channel_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    state TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    generation INTEGER NOT NULL DEFAULT 0,
    sent_at REAL,
    settled_at REAL,
    run INTEGER NOT NULL,
    member_id TEXT,
    member_status TEXT,
    last_viewed_at TEXT,
    notification_preference TEXT,
    error_type TEXT,
    error_message TEXT,
    error_status INTEGER,
    error_code TEXT,
    retryable INTEGER,
    fatal INTEGER,
    UNIQUE (channel_id, user_id)
);
CREATE INDEX pairs_by_state ON pairs (state, run);
"""


class JournalError(ValueError):
    """A journal file that cannot be used for this job; it was left untouched.

    ``reason`` is one of ``"locked"`` (another process runs the job),
    ``"corrupt"``, ``"not_a_journal"`` (some other file) and ``"mismatch"``
    (a journal of another kind of job, or of another channel).
    """

    def __init__(self, path: str | os.PathLike[str], reason: str, detail: str) -> None:
        super().__init__(f"journal {os.fspath(path)!r}: {detail}")
        self.path = os.fspath(path)
        self.reason = reason


def derive_key(job_id: str, channel_id: str, user_id: str, generation: int = 0) -> str:
    """The ``Idempotency-Key`` of a pair in a job: the same in every run of the job.

    ``generation`` moves on only when a failed pair is retried on purpose
    (``whop-dm jobs retry-failed``): that retry must not replay the failure.
    Ids never hold NUL (they are checked before this), so the joins are unambiguous.
    """
    raw = f"{job_id}\x00{channel_id}\x00{user_id}"
    if generation:
        raw += f"\x00{generation}"
    digest = hashlib.blake2b(raw.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
    return f"wdm-{digest}"


def is_retryable(error: BaseException) -> bool:
    """Whether sending the pair again may succeed: no answer, 5xx, 409, 429, a garbled body."""
    return isinstance(
        error,
        (
            APIConnectionError,
            InternalServerError,
            RateLimitError,
            ConflictError,
            ResponseDecodeError,
        ),
    )


# -- errors and members as rows -----------------------------------------------------------

_ERROR_TYPES: dict[str, Callable[[str], Exception]] = {
    "APIConnectionError": APIConnectionError,
    "APITimeoutError": APITimeoutError,
    "ClientClosedError": ClientClosedError,
    "ValueError": ValueError,
    "TypeError": TypeError,
    "WhopError": WhopError,
}


def _error_row(error: BaseException) -> tuple[str, str, int | None, str | None]:
    if isinstance(error, APIError):
        return type(error).__name__, error.message, error.status_code, error.code
    status = getattr(error, "status_code", None)
    return type(error).__name__, str(error), status if isinstance(status, int) else None, None


def rebuild_error(type_name: str, message: str, status: int | None, code: str | None) -> Exception:
    """The error a journal row recorded, as an exception of the same class where it can be.

    Only what the row keeps comes back: the message, status and code; headers,
    body and request id are gone.
    """
    if status is not None and type_name != "ResponseDecodeError":
        return error_class_for(status)(message, status_code=status, code=code)
    if type_name == "ResponseDecodeError":
        return ResponseDecodeError(message, status_code=status or 0)
    factory = _ERROR_TYPES.get(type_name)
    if factory is not None:
        return factory(message)
    return WhopError(f"{type_name}: {message}")


def _member_row(member: DmMember) -> tuple[str, str | None, str | None, str | None]:
    viewed = member.last_viewed_at
    preference = member.notification_preference
    return (
        member.id,
        # None when a lenient decode could not read it (or no member body came).
        None if member.status is None else str(member.status),
        None if viewed is None else viewed.isoformat(),
        None if preference is None else str(preference),
    )


def _member_from_row(row: Sequence[Any]) -> DmMember:
    channel_id, user_id, member_id, status, viewed, preference = row
    # A member decoded leniently may lack its status (see whop_dm._converter).
    known_status: Any = None if status is None else MemberStatus(status)
    return DmMember(
        id=member_id,
        user_id=user_id,
        channel_id=channel_id,
        status=known_status,
        last_viewed_at=None if viewed is None else datetime.fromisoformat(viewed),
        notification_preference=None if preference is None else NotificationPreference(preference),
    )


# -- the file -----------------------------------------------------------------------------


class Admission(NamedTuple):
    """What to do with one pair read from the input, as the journal sees it.

    ``action`` is ``"send"`` (a new pair, or one not settled in an earlier
    run), ``"duplicate"`` (read before in this run), ``"settled"`` (added or
    failed in an earlier run; ``state`` says which). ``sent_at`` is when its
    key was first used, for a pair of an earlier run that was never answered.
    (A tuple, not an attrs record: one is made per pair.)
    """

    action: str
    key: str = ""
    state: str = ""
    sent_at: float | None = None


_SEND_NEW = "send"
_INSERT_PENDING = (
    "INSERT {or_ignore}INTO pairs (channel_id, user_id, state, idempotency_key, sent_at, run)"
    " VALUES (?, ?, 'pending', ?, ?, ?)"
)


def _lock(fd: int) -> bool:
    """Take an exclusive lock on ``fd``; False when another holder has it."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover
        # Windows has no flock: no lock is taken there, so two processes on one
        # journal are not refused (each still records its own outcomes).
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class JournalFile:
    """One journal file, opened for a job (locked) or for reading. Not thread-safe:
    every method runs on the thread that opened it."""

    def __init__(self, path: Path, connection: sqlite3.Connection, lock_fd: int | None) -> None:
        self.path = path
        self.db = connection
        self._lock_fd = lock_fd
        self._fresh = False
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master")}
        self.meta: dict[str, Any] = (
            dict(connection.execute("SELECT name, value FROM meta")) if "meta" in tables else {}
        )

    # -- opening ------------------------------------------------------------------------

    @classmethod
    def open(
        cls, path: str | os.PathLike[str], kind: str | None, channel_id: str | None
    ) -> JournalFile:
        """Open (or create) the journal of a ``kind`` job, locked for this process.

        With ``kind`` None, open an existing journal of any job. Raises
        `JournalError` for a file in use, corrupt, not a journal, or of
        another job; such a file is never written to.
        """
        target = Path(path)
        if target.is_dir():
            raise JournalError(target, "not_a_journal", "is a directory")
        if kind is None and not target.is_file():
            raise JournalError(target, "not_a_journal", "no such file")
        fd = os.open(target, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if not _lock(fd):
                raise JournalError(
                    target, "locked", "in use by another process (a job is running on it)"
                )
            connection = cls._connect(target, readonly=False)
            try:
                journal = cls(target, connection, fd)
                if kind is None:
                    if not journal.meta:
                        raise JournalError(target, "not_a_journal", "not a whop-dm journal")
                elif not journal.meta:
                    journal._create(kind, channel_id)
                else:
                    journal._check_kind(kind, channel_id)
                journal._writable()
            except BaseException:
                connection.close()
                raise
        except BaseException:
            os.close(fd)
            raise
        return journal

    @classmethod
    def open_readonly(cls, path: str | os.PathLike[str]) -> JournalFile:
        """Open a journal to read it, without the lock (a running job keeps going)."""
        target = Path(path)
        if not target.is_file():
            raise JournalError(target, "not_a_journal", "no such file")
        return cls(target, cls._connect(target, readonly=True), None)

    @staticmethod
    def _connect(path: Path, *, readonly: bool) -> sqlite3.Connection:
        with open(path, "rb") as handle:
            head = handle.read(16)
        empty = not head
        if not empty and head != _SQLITE_MAGIC:
            raise JournalError(path, "not_a_journal", "not a whop-dm journal (not SQLite)")
        if readonly:
            uri = path.resolve().as_uri() + "?mode=ro"
            connection = sqlite3.connect(uri, uri=True, isolation_level=None)
        else:
            connection = sqlite3.connect(path, isolation_level=None)
        try:
            if empty:
                return connection
            try:
                tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master")}
            except sqlite3.DatabaseError as exc:
                raise JournalError(path, "corrupt", f"corrupt ({exc})") from None
            if not {"meta", "pairs"} <= tables:
                raise JournalError(path, "not_a_journal", "not a whop-dm journal")
            try:
                meta = dict(connection.execute("SELECT name, value FROM meta"))
                check = connection.execute("PRAGMA quick_check(1)").fetchone()
            except sqlite3.DatabaseError as exc:
                raise JournalError(path, "corrupt", f"corrupt ({exc})") from None
            if meta.get("format") != FORMAT:
                raise JournalError(path, "not_a_journal", "not a whop-dm journal")
            if int(meta.get("version", 0)) > VERSION:
                raise JournalError(
                    path, "mismatch", "written by a newer whop-dm; upgrade to read it"
                )
            if check is None or check[0] != "ok":
                raise JournalError(path, "corrupt", f"corrupt ({check[0] if check else '?'})")
        except BaseException:
            connection.close()
            raise
        return connection

    def _create(self, kind: str, channel_id: str | None) -> None:
        now = time.time()
        meta = {
            "format": FORMAT,
            "version": VERSION,
            "kind": kind,
            "channel_id": channel_id,
            "job_id": uuid.uuid4().hex,
            "created_at": now,
            "updated_at": now,
            "elapsed": 0.0,
            "runs": 0,
            "finished": 0,
            "duplicates": 0,
        }
        self.db.execute("PRAGMA journal_mode=WAL")
        with self.transaction():
            for statement in _SCHEMA.strip().split(";"):
                if statement.strip():
                    self.db.execute(statement)
            self.db.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        self.meta = meta

    def _check_kind(self, kind: str, channel_id: str | None) -> None:
        found = self.meta.get("kind")
        if found != kind:
            raise JournalError(
                self.path, "mismatch", f"the journal of a {found} job, not of {kind}"
            )
        if kind == "add_many" and self.meta.get("channel_id") != channel_id:
            raise JournalError(
                self.path,
                "mismatch",
                f"the journal of add_many to channel {self.meta.get('channel_id')!r}, "
                f"not {channel_id!r}",
            )

    def _writable(self) -> None:
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA busy_timeout=5000")
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS chunk (i INTEGER, c TEXT, u TEXT)")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None

    # -- a job's life ---------------------------------------------------------------------

    @property
    def job_id(self) -> str:
        return str(self.meta["job_id"])

    @property
    def finished(self) -> bool:
        return bool(int(self.meta.get("finished") or 0))

    def set_meta(self, **values: Any) -> None:
        self.db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", values.items())
        self.meta.update(values)

    def start_run(self) -> int:
        run = int(self.meta.get("runs") or 0) + 1
        with self.transaction():
            self.set_meta(runs=run)
        # With no pair of an earlier run in the file, a pair already there was
        # read earlier in this run: `admit` can then insert first and ask after.
        self._fresh = self.db.execute("SELECT NOT EXISTS (SELECT 1 FROM pairs)").fetchone()[0]
        return run

    def admit(self, pairs: Sequence[tuple[str, str]], run: int, now: float) -> list[Admission]:
        """Record the pairs of one input chunk and say what to do with each, in order.

        ``pairs`` holds no repeat within itself (the caller drops those).
        """
        db = self.db
        job_id = self.job_id
        with self.transaction():
            if self._fresh:
                # The common case, a job's first run with no repeats: one statement.
                keys = [derive_key(job_id, c, u) for c, u in pairs]
                db.execute("SAVEPOINT admit")
                inserted = db.executemany(
                    _INSERT_PENDING.format(or_ignore="OR IGNORE "),
                    [(c, u, key, now, run) for (c, u), key in zip(pairs, keys, strict=True)],
                ).rowcount
                if inserted == len(pairs):
                    db.execute("RELEASE admit")
                    return [Admission(_SEND_NEW, key) for key in keys]
                # Some were read before: sort them out one by one, as in a resumed run.
                db.execute("ROLLBACK TO admit")
                db.execute("RELEASE admit")
            db.execute("DELETE FROM temp.chunk")
            db.executemany(
                "INSERT INTO temp.chunk VALUES (?, ?, ?)",
                [(i, c, u) for i, (c, u) in enumerate(pairs)],
            )
            known = {
                i: row
                for i, *row in db.execute(
                    "SELECT k.i, p.state, p.run, p.sent_at, p.fatal, p.idempotency_key"
                    " FROM temp.chunk k JOIN pairs p ON p.channel_id = k.c AND p.user_id = k.u"
                )
            }
            admissions: list[Admission] = []
            new_rows: list[tuple[str, str, str, float, int]] = []
            for i, (channel_id, user_id) in enumerate(pairs):
                row = known.get(i)
                if row is None:
                    key = derive_key(job_id, channel_id, user_id)
                    new_rows.append((channel_id, user_id, key, now, run))
                    admissions.append(Admission(_SEND_NEW, key))
                    continue
                state, seen_in, sent_at, fatal, key = row
                if seen_in == run:
                    admissions.append(Admission("duplicate"))
                elif state == ADDED or (state == FAILED and not fatal):
                    admissions.append(Admission("settled", state=state))
                else:
                    # Never answered, or failed on an error that stopped the run
                    # (a refused key, a 429 given up on): send again with its key.
                    admissions.append(Admission(_SEND_NEW, key, sent_at=sent_at))
            if new_rows:
                db.executemany(_INSERT_PENDING.format(or_ignore=""), new_rows)
            if known:
                db.execute(
                    "UPDATE pairs SET run = ? WHERE (channel_id, user_id) IN"
                    " (SELECT c, u FROM temp.chunk)",
                    (run,),
                )
        return admissions

    def write(self, batch: Batch, elapsed: float) -> None:
        """Commit one batch of outcomes."""
        db = self.db
        with self.transaction():
            if batch.sent:
                db.executemany(
                    "UPDATE pairs SET state = 'sent' WHERE channel_id = ? AND user_id = ?"
                    " AND state IN ('pending', 'failed')",
                    batch.sent,
                )
            if batch.restarted:
                db.executemany(
                    "UPDATE pairs SET sent_at = ? WHERE channel_id = ? AND user_id = ?",
                    batch.restarted,
                )
            if batch.added:
                db.executemany(
                    "UPDATE pairs SET state = 'added', settled_at = ?, member_id = ?,"
                    " member_status = ?, last_viewed_at = ?, notification_preference = ?,"
                    " error_type = NULL, error_message = NULL, error_status = NULL,"
                    " error_code = NULL, retryable = NULL, fatal = NULL"
                    " WHERE channel_id = ? AND user_id = ?",
                    batch.added,
                )
            if batch.failed:
                db.executemany(
                    "UPDATE pairs SET state = 'failed', settled_at = ?, error_type = ?,"
                    " error_message = ?, error_status = ?, error_code = ?, retryable = ?,"
                    " fatal = ? WHERE channel_id = ? AND user_id = ?",
                    batch.failed,
                )
            self.set_meta(updated_at=time.time(), elapsed=elapsed)

    def finish(self, duplicates: int | None, elapsed: float) -> None:
        values: dict[str, Any] = {"finished": 1, "updated_at": time.time(), "elapsed": elapsed}
        if duplicates is not None:
            values["duplicates"] = duplicates
        with self.transaction():
            self.set_meta(**values)

    def reopen_failed(self) -> list[tuple[str, str]]:
        """Make the failed pairs whose error may pass on a retry pending again, each
        with a fresh key (the old one would replay the failure); returns them."""
        job_id = self.job_id
        with self.transaction():
            rows = self.db.execute(
                "SELECT channel_id, user_id, generation FROM pairs"
                " WHERE state = 'failed' AND (retryable = 1 OR fatal = 1) ORDER BY seq"
            ).fetchall()
            now = time.time()
            self.db.executemany(
                "UPDATE pairs SET state = 'pending', generation = ?, idempotency_key = ?,"
                " sent_at = ?, settled_at = NULL WHERE channel_id = ? AND user_id = ?",
                [(gen + 1, derive_key(job_id, c, u, gen + 1), now, c, u) for c, u, gen in rows],
            )
            if rows:
                self.set_meta(finished=0)
        return [(c, u) for c, u, _ in rows]

    def counts(self, run: int | None) -> dict[str, int]:
        where, args = ("", ()) if run is None else (" WHERE run = ?", (run,))
        found = dict(
            # Only fixed text is joined in: the values go as parameters.
            self.db.execute(f"SELECT state, count(*) FROM pairs{where} GROUP BY state", args)  # noqa: S608
        )
        return {state: int(found.get(state, 0)) for state in (PENDING, SENT, ADDED, FAILED)}

    def errors_by_type(self) -> dict[str, int]:
        return dict(
            self.db.execute(
                "SELECT error_type, count(*) FROM pairs WHERE state = 'failed'"
                " GROUP BY error_type ORDER BY count(*) DESC"
            )
        )


@attrs.define
class Batch:
    """Outcomes waiting for the next commit (rows as the statements take them)."""

    sent: list[tuple[str, str]] = attrs.Factory(list)
    restarted: list[tuple[float, str, str]] = attrs.Factory(list)
    added: list[tuple[Any, ...]] = attrs.Factory(list)
    failed: list[tuple[Any, ...]] = attrs.Factory(list)

    def __len__(self) -> int:
        return len(self.sent) + len(self.restarted) + len(self.added) + len(self.failed)


# -- the records of a result, read from the file ------------------------------------------


class JournalRecords(Sequence[T]):
    """The added memberships (or failures) of a journaled job, read from its file.

    A journaled job does not keep its records in memory: this reads them from
    the journal each time it is iterated (in the order the pairs were first
    read), with a read-only connection of its own. ``len()`` is known without
    reading. Indexing reads one row. The file must still be there.
    """

    def __init__(
        self,
        path: Path,
        state: str,
        run: int | None,
        count: int,
        build: Callable[[Sequence[Any]], T],
        columns: str,
    ) -> None:
        self._path = path
        self._state = state
        self._run = run
        self._count = count
        self._build = build
        self._columns = columns

    def __len__(self) -> int:
        return self._count

    def __repr__(self) -> str:
        return f"<{self._count} {self._state} records in journal {str(self._path)!r}>"

    def _query(self, suffix: str = "", extra: tuple[Any, ...] = ()) -> Iterator[T]:
        where = "state = ?" + ("" if self._run is None else " AND run = ?")
        args: tuple[Any, ...] = (self._state,) if self._run is None else (self._state, self._run)
        uri = self._path.resolve().as_uri() + "?mode=ro"
        connection = sqlite3.connect(uri, uri=True)
        try:
            cursor = connection.execute(  # fixed text joined, values as parameters
                f"SELECT {self._columns} FROM pairs WHERE {where} ORDER BY seq{suffix}",  # noqa: S608
                args + extra,
            )
            for row in cursor:
                yield self._build(row)
        finally:
            connection.close()

    def __iter__(self) -> Iterator[T]:
        return self._query()

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[T]: ...
    def __getitem__(self, index: int | slice) -> T | Sequence[T]:
        if isinstance(index, slice):
            return list(self)[index]
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError("journal record index out of range")
        return next(self._query(" LIMIT 1 OFFSET ?", (index,)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


MEMBER_COLUMNS = (
    "channel_id, user_id, member_id, member_status, last_viewed_at, notification_preference"
)
FAILURE_COLUMNS = "channel_id, user_id, error_type, error_message, error_status, error_code"


# -- the async side -------------------------------------------------------------------------


class Journal:
    """An open journal seen from the event loop: its SQLite work on a worker thread,
    its writes batched."""

    def __init__(self, file: JournalFile, executor: ThreadPoolExecutor, run: int) -> None:
        self.file = file
        self.path = file.path
        self.job_id = file.job_id
        self.run = run
        self._executor = executor
        self._batch = Batch()
        self._in_flight: set[tuple[str, str]] = set()
        self._started = time.monotonic()
        self._elapsed_before = float(file.meta.get("elapsed") or 0.0)
        self._flushing: asyncio.Future[None] | None = None
        self._wake = asyncio.Event()
        self._closing = False
        self._flusher: asyncio.Task[None] | None = None
        self._failure: Exception | None = None

    @classmethod
    async def open(
        cls, path: str | os.PathLike[str], kind: str, channel_id: str | None = None
    ) -> Journal:
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="whop-dm-journal")
        loop = asyncio.get_running_loop()
        try:
            file = await loop.run_in_executor(executor, JournalFile.open, path, kind, channel_id)
            run = 0 if file.finished else await loop.run_in_executor(executor, file.start_run)
        except BaseException:
            executor.shutdown(wait=False)
            raise
        journal = cls(file, executor, run)
        if not file.finished:
            journal._flusher = loop.create_task(journal._flush_loop())
        return journal

    async def call(self, func: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, func, *args)

    @property
    def finished(self) -> bool:
        return self.file.finished

    @property
    def elapsed(self) -> float:
        return self._elapsed_before + time.monotonic() - self._started

    # -- outcomes (called from the event loop, never blocking) ------------------------

    def sending(self, channel_id: str, user_id: str) -> None:
        """Note a pair about to be sent; raises the error of a failed commit, if any:
        a job must not go on sending what it can no longer record."""
        if self._failure is not None:
            raise self._failure
        pair = (channel_id, user_id)
        self._in_flight.add(pair)
        self._batch.sent.append(pair)

    def restarted(self, channel_id: str, user_id: str) -> None:
        """A pair whose key has outlived Whop's memory of it is sent afresh from now."""
        self._batch.restarted.append((time.time(), channel_id, user_id))

    def added(self, member: DmMember, channel_id: str, user_id: str) -> None:
        self._in_flight.discard((channel_id, user_id))
        self._batch.added.append((time.time(), *_member_row(member), channel_id, user_id))
        self._maybe_wake()

    def failed(self, channel_id: str, user_id: str, error: BaseException, fatal: bool) -> None:
        self._in_flight.discard((channel_id, user_id))
        row = _error_row(error)
        self._batch.failed.append(
            (time.time(), *row, int(is_retryable(error)), int(fatal), channel_id, user_id)
        )
        self._maybe_wake()

    def _maybe_wake(self) -> None:
        if len(self._batch.added) + len(self._batch.failed) >= FLUSH_ROWS:
            self._wake.set()

    # -- commits ------------------------------------------------------------------------

    async def _flush_loop(self) -> None:
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), FLUSH_INTERVAL)
            self._wake.clear()
            try:
                await self.flush()
            except Exception as exc:
                # A full disk, a file removed under us: the next pair to be
                # sent raises it, which stops the run (see `sending`).
                self._failure = exc
                return

    async def flush(self) -> None:
        """Commit what is waiting; one commit at a time, in order."""
        while self._flushing is not None:
            await asyncio.shield(self._flushing)
        if not len(self._batch):
            return
        batch, self._batch = self._batch, Batch()
        # A pair answered before this commit needs no 'sent' row of its own.
        batch.sent = [pair for pair in batch.sent if pair in self._in_flight]
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._executor, self.file.write, batch, self.elapsed)
        self._flushing = future
        try:
            await asyncio.shield(future)
        finally:
            self._flushing = None

    async def admit(self, pairs: Sequence[tuple[str, str]]) -> list[Admission]:
        return await self.call(self.file.admit, pairs, self.run, time.time())

    async def close(self, *, finished: bool, duplicates: int | None) -> None:
        """Commit the rest, mark the job finished when it is, release the file."""
        try:
            if self._flusher is not None:
                self._flusher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._flusher
            await self.flush()
            if finished:
                await self.call(self.file.finish, duplicates, self.elapsed)
        finally:
            done = self._executor.submit(self.file.close)
            self._executor.shutdown(wait=False)
            await asyncio.wrap_future(done)

    # -- results ---------------------------------------------------------------------------

    def records(
        self, run: int | None, counts: dict[str, int]
    ) -> tuple[JournalRecords[DmMember], JournalRecords[Any]]:
        from ._bulk import BulkFailure

        def failure(row: Sequence[Any]) -> Any:
            channel_id, user_id, type_name, message, status, code = row
            return BulkFailure(channel_id, user_id, rebuild_error(type_name, message, status, code))

        return (
            JournalRecords(self.path, ADDED, run, counts[ADDED], _member_from_row, MEMBER_COLUMNS),
            JournalRecords(self.path, FAILED, run, counts[FAILED], failure, FAILURE_COLUMNS),
        )


# -- status --------------------------------------------------------------------------------


@attrs.frozen
class JournalStatus:
    """Where a journaled job stands, read from its file (``whop-dm jobs status``).

    Attributes:
        kind: ``"bulk_create"`` or ``"add_many"``; ``channel_id`` for the latter.
        counts: pairs by state (pending, sent, added, failed).
        errors: failed pairs by error type, most frequent first.
        retryable: failed pairs that ``retry-failed`` would send again.
        elapsed: seconds the job's runs have taken so far.
        rate: settled pairs per second of those runs (None before any).
        eta: seconds left at that rate for the pairs not settled, when known.
        finished: True once a run went through its whole input.
    """

    path: str
    job_id: str
    kind: str
    channel_id: str | None
    counts: dict[str, int]
    errors: dict[str, int]
    retryable: int
    runs: int
    created_at: float
    updated_at: float
    elapsed: float
    rate: float | None
    eta: float | None
    finished: bool

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def journal_status(path: str | os.PathLike[str]) -> JournalStatus:
    file = JournalFile.open_readonly(path)
    try:
        meta = file.meta
        counts = file.counts(None)
        errors = file.errors_by_type()
        (retryable,) = file.db.execute(
            "SELECT count(*) FROM pairs WHERE state = 'failed' AND (retryable = 1 OR fatal = 1)"
        ).fetchone()
    finally:
        file.close()
    elapsed = float(meta.get("elapsed") or 0.0)
    settled = counts[ADDED] + counts[FAILED]
    rate = settled / elapsed if elapsed > 0 and settled else None
    left = counts[PENDING] + counts[SENT]
    eta = left / rate if rate else (0.0 if not left else None)
    return JournalStatus(
        path=os.fspath(path),
        job_id=str(meta.get("job_id")),
        kind=str(meta.get("kind")),
        channel_id=meta.get("channel_id"),
        counts=counts,
        errors={str(k): int(v) for k, v in errors.items()},
        retryable=int(retryable),
        runs=int(meta.get("runs") or 0),
        created_at=float(meta.get("created_at") or 0.0),
        updated_at=float(meta.get("updated_at") or 0.0),
        elapsed=elapsed,
        rate=rate,
        eta=eta,
        finished=bool(int(meta.get("finished") or 0)),
    )
