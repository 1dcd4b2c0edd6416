"""Journaled bulk jobs: resume, derived keys, the 24-hour path, and files that are refused."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

import whop_dm
from whop_dm import AsyncClient, DmMember, JournalError, Progress, RetryPolicy
from whop_dm._bulk import run_bulk
from whop_dm._journal import JournalFile, derive_key, journal_status
from whop_dm.testing import FakeWhop

OWNER = "user_owner"
OWNER_KEY = "key_owner"
USERS = [f"user_{n:03d}" for n in range(300)]


def seed(fake: FakeWhop) -> FakeWhop:
    fake.add_user(OWNER)
    for user in USERS:
        fake.add_user(user)
    fake.add_api_key(OWNER_KEY, user_id=OWNER)
    return fake


@pytest.fixture
async def fake() -> AsyncIterator[FakeWhop]:
    async with FakeWhop(max_channel_members=None) as server:
        yield seed(server)


@pytest.fixture
async def client(fake: FakeWhop) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(
        api_key=OWNER_KEY, base_url=fake.base_url, retry=RetryPolicy.instant(max_attempts=12)
    ) as opened:
        yield opened


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    return tmp_path / "job.journal"


async def channels_of(client: AsyncClient, count: int) -> list[str]:
    return [
        (await client.dm_channels.create(with_user_ids=["user_000"], company_id=f"biz_{n}")).id
        for n in range(count)
    ]


def spread(channels: list[str], users: list[str]) -> list[tuple[str, str]]:
    return [(channels[i % len(channels)], user) for i, user in enumerate(users)]


def member_posts(fake: FakeWhop) -> list[Any]:
    return [r for r in fake.requests if r.method == "POST" and r.api_path == "/dm_members"]


def keys_by_pair(fake: FakeWhop) -> dict[tuple[str, str], set[str]]:
    keys: dict[tuple[str, str], set[str]] = defaultdict(set)
    for request in member_posts(fake):
        body = request.json
        keys[body["channel_id"], body["user_id"]].add(request.headers["Idempotency-Key"])
    return keys


class Stop(Exception):
    """Raised from on_progress to end a run part-way, as a crash would."""


def stop_at(count: int) -> Any:
    def progress(p: Progress) -> None:
        if p.done >= count:
            raise Stop

    return progress


def rows(path: Path) -> dict[tuple[str, str], tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        return {
            (c, u): (state, key, sent_at)
            for c, u, state, key, sent_at in db.execute(
                "SELECT channel_id, user_id, state, idempotency_key, sent_at FROM pairs"
            )
        }


# -- a job in one go ----------------------------------------------------------------------


async def test_a_journaled_job_adds_every_pair_and_records_each_in_the_file(
    fake: FakeWhop, client: AsyncClient, journal: Path
) -> None:
    channels = await channels_of(client, 4)
    pairs = spread(channels, USERS[1:201])
    result = await client.dm_members.bulk_create(pairs + pairs[:7], journal=journal)
    assert (len(result.added), len(result.failed), result.duplicates, result.resumed) == (
        200,
        0,
        7,
        0,
    )
    assert result.ok
    assert result.total == 207
    assert {(m.channel_id, m.user_id) for m in result.added} == set(pairs)
    recorded = rows(journal)
    assert set(recorded) == set(pairs)
    assert {state for state, _, _ in recorded.values()} == {"added"}


async def instant_create(*, channel_id: str, user_id: str, idempotency_key: str) -> DmMember:
    await asyncio.sleep(0)
    return DmMember(f"dmm_{user_id}", user_id, channel_id, whop_dm.MemberStatus("accepted"), None)


@pytest.mark.parametrize("count", [1, 255, 256, 257, 1000])
async def test_every_pair_of_a_generator_is_sent_whatever_its_length(
    journal: Path, count: int
) -> None:
    # The input is read in chunks: the last, short one must be sent too, while
    # the workers that found nothing to send wait for it.
    pairs = [(f"feed_{n % 7}", f"user_{n}") for n in range(count)]
    result = await run_bulk(
        instant_create, (pair for pair in pairs), concurrency=64, on_progress=None, journal=journal
    )
    assert result.ok
    assert len(result.added) == count
    assert {(m.channel_id, m.user_id) for m in result.added} == set(pairs)


async def test_each_pair_is_sent_with_the_key_derived_from_the_job_and_the_pair(
    fake: FakeWhop, client: AsyncClient, journal: Path
) -> None:
    channels = await channels_of(client, 2)
    pairs = spread(channels, USERS[1:21])
    await client.dm_members.bulk_create(pairs, journal=journal)
    job_id = journal_status(journal).job_id
    assert keys_by_pair(fake) == {(c, u): {derive_key(job_id, c, u)} for c, u in pairs}


async def test_a_second_job_on_a_new_journal_uses_other_keys(
    fake: FakeWhop, client: AsyncClient, tmp_path: Path
) -> None:
    (channel,) = await channels_of(client, 1)
    await client.dm_members.add_many(channel, USERS[1:3], journal=tmp_path / "a")
    await client.dm_members.add_many(channel, USERS[1:3], journal=tmp_path / "b")
    assert all(len(keys) == 2 for keys in keys_by_pair(fake).values())


# -- resume -------------------------------------------------------------------------------


async def test_a_resumed_job_sends_only_what_was_not_settled_and_reports_every_pair(
    fake: FakeWhop, client: AsyncClient, journal: Path
) -> None:
    channels = await channels_of(client, 3)
    pairs = spread(channels, USERS[1:151])
    with pytest.raises(Stop):
        await client.dm_members.bulk_create(
            pairs, concurrency=4, journal=journal, on_progress=stop_at(60)
        )
    first = member_posts(fake)
    settled = {p for p, (state, _, _) in rows(journal).items() if state == "added"}
    assert 60 <= len(settled) < 150

    result = await client.dm_members.bulk_create(pairs, concurrency=4, journal=journal)
    assert result.ok
    assert len(result.added) == 150
    assert result.total == 150
    assert result.resumed == len(settled)
    again = member_posts(fake)[len(first) :]
    sent_again = {(r.json["channel_id"], r.json["user_id"]) for r in again}
    assert not sent_again & settled
    assert sent_again | settled == set(pairs)
    assert all(len(keys) == 1 for keys in keys_by_pair(fake).values())


async def test_a_pair_sent_and_never_answered_is_sent_again_with_its_key(
    fake: FakeWhop, client: AsyncClient, journal: Path
) -> None:
    (channel,) = await channels_of(client, 1)
    # Held long enough that the run is surely cancelled before the answer.
    fake.delay_next(1, 1.0, path="/dm_members")
    run = asyncio.ensure_future(client.dm_members.add_many(channel, ["user_001"], journal=journal))
    for _ in range(500):
        if member_posts(fake):
            break
        await asyncio.sleep(0.01)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    ((state, key, _),) = rows(journal).values()
    assert state == "sent"
    for _ in range(500):  # bounded: the fake finishes the held request, it got through
        if any(m.user_id == "user_001" for m in fake.memberships):
            break
        await asyncio.sleep(0.01)

    result = await client.dm_members.add_many(channel, ["user_001"], journal=journal)
    assert result.ok
    assert result.resumed == 0
    assert keys_by_pair(fake) == {(channel, "user_001"): {key}}
    assert len(member_posts(fake)) == 2
    assert member_posts(fake)[-1].headers["Idempotency-Key"] == key
    assert [m.user_id for m in fake.memberships].count("user_001") == 1


async def test_a_finished_journal_returns_its_result_and_sends_nothing(
    fake: FakeWhop, client: AsyncClient, journal: Path
) -> None:
    channels = await channels_of(client, 2)
    pairs = spread(channels, USERS[1:41])
    fake.fail_next(1, status=404, path="/dm_members")
    first = await client.dm_members.bulk_create(pairs + pairs[:3], journal=journal)
    before = len(fake.requests)

    def never_read() -> Iterator[tuple[str, str]]:
        raise AssertionError("the input of a finished job is not read")
        yield ("", "")  # pragma: no cover

    again = await client.dm_members.bulk_create(never_read(), journal=journal)
    assert len(fake.requests) == before
    assert (len(again.added), len(again.failed), again.duplicates) == (39, 1, 3)
    assert again.resumed == 40
    assert next(f.error for f in again.failed).__class__ is whop_dm.NotFoundError
    assert list(again.added) == list(first.added) or set(again.added) == set(first.added)


async def test_a_run_stopped_by_a_fatal_error_is_resumed_from_where_it_stopped(
    fake: FakeWhop, client: AsyncClient, journal: Path
) -> None:
    channels = await channels_of(client, 2)
    pairs = spread(channels, USERS[1:61])

    def refuse_later(p: Progress) -> None:
        if p.done == 20:
            fake.fail_next(1, status=401, path="/dm_members")

    stopped = await client.dm_members.bulk_create(
        pairs, concurrency=1, journal=journal, on_progress=refuse_later
    )
    assert isinstance(stopped.stopped_by, whop_dm.AuthenticationError)
    assert stopped.total == 60
    assert stopped.skipped

    resumed = await client.dm_members.bulk_create(pairs, concurrency=4, journal=journal)
    assert resumed.ok
    assert len(resumed.added) == 60
    # The pair refused with the key is sent again: a fatal error is the run's, not the pair's.
    assert resumed.resumed == 20


async def test_add_many_resumes_from_its_journal(
    fake: FakeWhop, client: AsyncClient, journal: Path
) -> None:
    (channel,) = await channels_of(client, 1)
    with pytest.raises(Stop):
        await client.dm_members.add_many(
            channel, USERS[1:41], concurrency=2, journal=journal, on_progress=stop_at(10)
        )
    result = await client.dm_members.add_many(channel, USERS[1:41], journal=journal)
    assert result.ok
    assert len(result.added) == 40
    assert result.resumed >= 10


# -- past the idempotency window ---------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def age(path: Path, pairs: list[tuple[str, str]], seconds: float) -> None:
    """Mark ``pairs`` sent and unanswered, their key first used ``seconds`` ago."""
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.executemany(
            "UPDATE pairs SET state = 'sent', sent_at = ?, settled_at = NULL"
            " WHERE channel_id = ? AND user_id = ?",
            [(time.time() - seconds, c, u) for c, u in pairs],
        )
        db.execute("UPDATE meta SET value = 0 WHERE name = 'finished'")


@pytest.fixture
async def forgetful() -> AsyncIterator[tuple[FakeWhop, Clock]]:
    """A fake that forgets idempotency keys after 60 s of a clock the test moves."""
    clock = Clock()
    async with FakeWhop(idempotency_key_ttl=60.0, clock=clock) as server:
        yield seed(server), clock


async def test_past_the_window_a_pair_that_got_through_is_found_and_not_sent_again(
    forgetful: tuple[FakeWhop, Clock], journal: Path
) -> None:
    fake, clock = forgetful
    async with AsyncClient(
        api_key=OWNER_KEY, base_url=fake.base_url, retry=RetryPolicy.instant()
    ) as client:
        (channel,) = await channels_of(client, 1)
        users = USERS[1:6]
        await client.dm_members.add_many(channel, users, journal=journal)
        # The first run's answers were lost in a crash; a day went by.
        age(journal, [(channel, u) for u in users], 25 * 3600)
        clock.now += 25 * 3600
        before = len(member_posts(fake))

        result = await client.dm_members.add_many(channel, users, journal=journal)
    assert result.ok
    assert len(result.added) == 5
    assert len(member_posts(fake)) == before
    lists = [r for r in fake.requests if r.method == "GET" and r.api_path == "/dm_members"]
    assert len(lists) == 1  # one look at the channel served all five pairs


async def test_past_the_window_a_pair_that_did_not_get_through_is_sent_again(
    forgetful: tuple[FakeWhop, Clock], journal: Path
) -> None:
    fake, clock = forgetful
    async with AsyncClient(
        api_key=OWNER_KEY, base_url=fake.base_url, retry=RetryPolicy.instant()
    ) as client:
        (channel,) = await channels_of(client, 1)
        await client.dm_members.add_many(channel, ["user_001"], journal=journal)
        (member,) = [m for m in fake.memberships if m.user_id == "user_001"]
        await client.dm_members.delete(member.id)  # as if the first send never acted
        age(journal, [(channel, "user_001")], 25 * 3600)
        clock.now += 25 * 3600

        result = await client.dm_members.add_many(channel, ["user_001"], journal=journal)
    assert result.ok
    assert any(m.user_id == "user_001" for m in fake.memberships)
    assert len(member_posts(fake)) == 2
    assert len(keys_by_pair(fake)[channel, "user_001"]) == 1


async def test_within_the_window_a_pair_is_sent_again_without_a_check_and_replayed(
    forgetful: tuple[FakeWhop, Clock], journal: Path
) -> None:
    fake, clock = forgetful
    async with AsyncClient(
        api_key=OWNER_KEY, base_url=fake.base_url, retry=RetryPolicy.instant()
    ) as client:
        (channel,) = await channels_of(client, 1)
        await client.dm_members.add_many(channel, ["user_001"], journal=journal)
        age(journal, [(channel, "user_001")], 30)
        clock.now += 30

        result = await client.dm_members.add_many(
            channel, ["user_001"], journal=journal, recheck_after=45
        )
    assert result.ok
    assert not [r for r in fake.requests if r.method == "GET" and r.api_path == "/dm_members"]
    last = member_posts(fake)[-1]
    assert len(member_posts(fake)) == 2
    assert last.headers["Idempotency-Key"]


# -- files that are refused --------------------------------------------------------------


def contents(path: Path) -> bytes | None:
    return path.read_bytes() if path.exists() else None


async def refused(client: AsyncClient, path: Path, reason: str, channel: str | None = None) -> None:
    """The job is refused with ``reason`` and the file is byte for byte as it was."""
    before = contents(path)
    job = (
        client.dm_members.bulk_create([("feed_x", "user_001")], journal=path)
        if channel is None
        else client.dm_members.add_many(channel, ["user_001"], journal=path)
    )
    with pytest.raises(JournalError) as caught:
        await job
    assert caught.value.reason == reason
    assert str(path) in str(caught.value)
    assert contents(path) == before


@contextlib.contextmanager
def held_by_another_process(path: Path) -> Iterator[None]:
    holder = subprocess.Popen(  # noqa: S603 - our interpreter, our module
        [
            sys.executable,
            "-c",
            "import sys, time; from whop_dm._journal import JournalFile;"
            "JournalFile.open(sys.argv[1], 'bulk_create', None); print('held', flush=True);"
            "time.sleep(60)",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        yield
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()


def overwrite(path: Path, text: str) -> None:
    path.write_text(text)


def scribble(path: Path) -> None:
    """Overwrite two pages in the middle of the file, as a bad disk or a stray write would."""
    data = bytearray(path.read_bytes())
    assert len(data) > 3 * 4096
    data[4096 + 100 : 3 * 4096] = b"\xa5" * (2 * 4096 - 100)
    path.write_bytes(bytes(data))


async def test_a_journal_in_use_by_another_process_is_refused(
    fake: FakeWhop, client: AsyncClient, journal: Path
) -> None:
    await client.dm_members.bulk_create([], journal=journal)
    with held_by_another_process(journal):
        await refused(client, journal, "locked")
    assert not member_posts(fake)


async def test_a_journal_open_in_this_process_is_refused_too(
    client: AsyncClient, journal: Path
) -> None:
    held = JournalFile.open(journal, "bulk_create", None)
    try:
        await refused(client, journal, "locked")
    finally:
        held.close()


async def test_a_file_that_is_not_sqlite_is_refused_and_left_alone(
    client: AsyncClient, journal: Path
) -> None:
    overwrite(journal, "channel_id,user_id\nfeed_1,user_1\n")
    await refused(client, journal, "not_a_journal")


async def test_another_sqlite_database_is_refused_and_left_alone(
    client: AsyncClient, journal: Path
) -> None:
    with contextlib.closing(sqlite3.connect(journal)) as db, db:
        db.execute("CREATE TABLE notes (text TEXT)")
    await refused(client, journal, "not_a_journal")


async def test_a_corrupt_journal_is_refused_and_left_alone(
    fake: FakeWhop, client: AsyncClient, journal: Path
) -> None:
    (channel,) = await channels_of(client, 1)
    await client.dm_members.add_many(channel, USERS[1:200], journal=journal)
    scribble(journal)
    await refused(client, journal, "corrupt")


async def test_a_journal_of_another_kind_of_job_is_refused(
    fake: FakeWhop, client: AsyncClient, journal: Path
) -> None:
    (channel,) = await channels_of(client, 1)
    await client.dm_members.add_many(channel, ["user_001"], journal=journal)
    await refused(client, journal, "mismatch")


async def test_an_add_many_journal_of_another_channel_is_refused(
    fake: FakeWhop, client: AsyncClient, journal: Path
) -> None:
    first, second = await channels_of(client, 2)
    await client.dm_members.add_many(first, ["user_001"], journal=journal)
    await refused(client, journal, "mismatch", channel=second)


async def test_a_bad_journal_argument_raises_before_any_request(
    fake: FakeWhop, client: AsyncClient
) -> None:
    with pytest.raises(TypeError, match="journal"):
        await client.dm_members.bulk_create([("feed_1", "user_001")], journal=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="recheck_after"):
        await client.dm_members.bulk_create([("feed_1", "user_001")], recheck_after=-1)
    assert fake.requests == []


async def test_a_journal_that_cannot_be_written_stops_the_run_with_its_error(
    fake: FakeWhop, client: AsyncClient, journal: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (channel,) = await channels_of(client, 1)

    def broken(self: JournalFile, *args: Any) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(JournalFile, "write", broken)
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        await client.dm_members.add_many(channel, USERS[1:201], concurrency=1, journal=journal)
    assert len(member_posts(fake)) < 200
    monkeypatch.undo()
    # The file is released: the job can be run again.
    result = await client.dm_members.add_many(channel, USERS[1:201], journal=journal)
    assert result.ok


# -- status and retry ---------------------------------------------------------------------


async def test_status_counts_pairs_by_state_and_errors_by_type(
    fake: FakeWhop, client: AsyncClient, journal: Path
) -> None:
    (channel,) = await channels_of(client, 1)
    fake.fail_next(2, status=404, path="/dm_members")
    await client.dm_members.add_many(channel, USERS[1:11], concurrency=1, journal=journal)
    status = journal_status(journal)
    assert status.counts == {"pending": 0, "sent": 0, "added": 8, "failed": 2}
    assert status.errors == {"NotFoundError": 2}
    assert status.retryable == 0
    assert status.finished
    assert status.kind == "add_many"
    assert status.channel_id == channel
    assert status.eta == 0.0


async def test_retry_failed_sends_the_retryable_failures_again_with_a_fresh_key(
    fake: FakeWhop, journal: Path
) -> None:
    async with AsyncClient(
        api_key=OWNER_KEY, base_url=fake.base_url, retry=RetryPolicy.disabled()
    ) as client:
        (channel,) = await channels_of(client, 1)
        fake.fail_next(2, status=503, path="/dm_members")
        fake.fail_next(1, status=404, path="/dm_members")
        first = await client.dm_members.add_many(
            channel, USERS[1:11], concurrency=1, journal=journal
        )
        assert len(first.failed) == 3
        result = await client.dm_members.retry_failed(journal)
    assert len(result.added) == 2
    assert not result.failed
    status = journal_status(journal)
    assert status.counts["added"] == 9
    assert status.errors == {"NotFoundError": 1}
    assert status.finished
    retried = [keys for keys in keys_by_pair(fake).values() if len(keys) == 2]
    assert len(retried) == 2


async def test_retry_failed_with_nothing_to_retry_sends_nothing_and_reports_nothing(
    fake: FakeWhop, client: AsyncClient, journal: Path
) -> None:
    (channel,) = await channels_of(client, 1)
    fake.fail_next(1, status=404, path="/dm_members")
    await client.dm_members.add_many(channel, USERS[1:4], concurrency=1, journal=journal)
    before = len(fake.requests)
    result = await client.dm_members.retry_failed(journal)
    assert result.total == 0
    assert len(fake.requests) == before
    assert journal_status(journal).finished


async def test_retry_failed_needs_an_existing_journal(client: AsyncClient, tmp_path: Path) -> None:
    with pytest.raises(JournalError) as caught:
        await client.dm_members.retry_failed(tmp_path / "missing.journal")
    assert caught.value.reason == "not_a_journal"
    assert not (tmp_path / "missing.journal").exists()


# -- progress and repr --------------------------------------------------------------------


async def test_progress_reports_counts_rate_and_eta(
    fake: FakeWhop, client: AsyncClient, journal: Path
) -> None:
    (channel,) = await channels_of(client, 1)
    fake.fail_next(1, status=404, path="/dm_members")
    seen: list[Progress] = []
    await client.dm_members.add_many(
        channel, USERS[1:21], concurrency=1, journal=journal, on_progress=seen.append
    )
    last = seen[-1]
    assert (last.done, last.total, last.added, last.failed, last.skipped) == (20, 20, 19, 1, 0)
    assert last.rate > 0
    assert last.eta == 0.0
    assert last.held == 0.0
    assert [p.done for p in seen] == list(range(1, 21))


async def test_an_old_two_argument_progress_callback_works_with_a_deprecation_warning(
    fake: FakeWhop, client: AsyncClient
) -> None:
    (channel,) = await channels_of(client, 1)
    calls: list[tuple[int, int | None]] = []
    with pytest.warns(DeprecationWarning, match="Progress"):
        await client.dm_members.add_many(
            channel, USERS[1:4], on_progress=lambda done, total: calls.append((done, total))
        )
    assert calls == [(1, 3), (2, 3), (3, 3)]


async def test_the_repr_of_a_big_result_is_short_and_the_records_stay(
    fake: FakeWhop, client: AsyncClient
) -> None:
    channels = await channels_of(client, 5)
    pairs = spread(channels, USERS[1:296]) + [("feed_nope", u) for u in USERS[1:6]]
    result = await client.dm_members.bulk_create(pairs, concurrency=32)
    text = repr(result)
    assert text.startswith("BulkAddResult(added=295, failed=5, skipped=0, duplicates=0")
    assert "ok=False" in text
    assert text.count("NotFoundError") == 3
    assert len(text) < 400
    assert len(result.added) == 295
    assert len(result.failed) == 5
    ok = whop_dm.BulkAddResult(duplicates=25)
    assert repr(ok) == "BulkAddResult(added=0, failed=0, skipped=0, duplicates=25, ok=True)"


def test_the_blocking_client_resumes_a_journaled_job(tmp_path: Path) -> None:
    journal = tmp_path / "job.journal"
    with FakeWhop.in_thread(max_channel_members=None) as fake:
        seed(fake)
        with whop_dm.Client(
            api_key=OWNER_KEY, base_url=fake.base_url, retry=RetryPolicy.instant()
        ) as client:
            channel = client.dm_channels.create(with_user_ids=["user_000"]).id
            with pytest.raises(Stop):
                client.dm_members.add_many(
                    channel, USERS[1:21], concurrency=1, journal=journal, on_progress=stop_at(5)
                )
            result = client.dm_members.add_many(channel, USERS[1:21], journal=journal)
        posts = len(member_posts(fake))
    assert result.ok
    assert len(result.added) == 20
    assert result.resumed == 5
    assert posts == 20
