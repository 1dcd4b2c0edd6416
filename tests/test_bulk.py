"""Bulk member adds (``bulk_create``, ``add_many``) and plain ``asyncio.gather``, over FakeWhop."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from scripted import MEMBER, ScriptedServer, json_answer, raw_answer

import whop_dm
from whop_dm import AsyncClient, DmMember, RetryPolicy
from whop_dm._bulk import BulkAddResult, is_fatal, run_bulk
from whop_dm.testing import FakeWhop

OWNER = "user_owner"
OWNER_KEY = "key_owner"
USERS = [f"user_{n}" for n in range(100)]


def seed(fake: FakeWhop) -> FakeWhop:
    fake.add_user(OWNER)
    for user in USERS:
        fake.add_user(user)
    fake.add_api_key(OWNER_KEY, user_id=OWNER)
    return fake


@pytest.fixture
async def fake() -> AsyncIterator[FakeWhop]:
    """A fake with Whop's 50-member cap, the owner's key and 100 more users."""
    async with FakeWhop() as server:
        yield seed(server)


def client_on(fake: FakeWhop, key: str = OWNER_KEY, **options: Any) -> AsyncClient:
    options.setdefault("retry", RetryPolicy.instant())
    return AsyncClient(api_key=key, base_url=fake.base_url, **options)


@pytest.fixture
async def client(fake: FakeWhop) -> AsyncIterator[AsyncClient]:
    # Enough attempts that 10% chaos never exhausts them (0.1**12 per call).
    async with client_on(fake, retry=RetryPolicy.instant(max_attempts=12)) as opened:
        yield opened


async def make_channels(client: AsyncClient, count: int) -> list[str]:
    """Channels of the owner and ``user_0``: two members each, distinct by company."""
    return [
        (await client.dm_channels.create(with_user_ids=["user_0"], company_id=f"biz_{n}")).id
        for n in range(count)
    ]


def fifty_each(channels: list[str]) -> list[tuple[str, str]]:
    """50 pairs a channel filling it to exactly 50: the two members already in, 48 new."""
    return [(c, u) for c in channels for u in [OWNER, *USERS[:49]]]


def member_posts(fake: FakeWhop) -> int:
    return sum(1 for r in fake.requests if r.method == "POST" and r.api_path == "/dm_members")


def assert_each_membership_once(fake: FakeWhop, pairs: list[tuple[str, str]]) -> None:
    held = Counter((m.channel_id, m.user_id) for m in fake.memberships)
    assert max(held.values()) == 1
    assert set(pairs) <= set(held)


# -- the two ways, under faults -------------------------------------------------------------


async def test_bulk_create_under_chaos_makes_every_membership_once_and_accounts_for_all(
    fake: FakeWhop, client: AsyncClient
) -> None:
    channels = await make_channels(client, 40)
    pairs = fifty_each(channels)
    assert len(pairs) == 2000
    fake.chaos(0.1, seed=5, path="/dm_members")

    result = await client.dm_members.bulk_create(pairs, concurrency=32)

    assert result.ok, result.failed[:3]
    assert len(result.added) == result.total == 2000
    assert {(m.channel_id, m.user_id) for m in result.added} == set(pairs)
    assert_each_membership_once(fake, pairs)
    assert all(len(fake.members_of(c)) == 50 for c in channels)
    assert member_posts(fake) > 2000 + 100  # the chaos did strike, and was retried


async def test_plain_gather_of_1000_creates_under_chaos_raises_nothing_and_duplicates_nothing(
    fake: FakeWhop, client: AsyncClient
) -> None:
    channels = await make_channels(client, 20)
    pairs = fifty_each(channels)
    fake.chaos(0.1, seed=11, path="/dm_members")

    members = await asyncio.gather(
        *(client.dm_members.create(channel_id=c, user_id=u) for c, u in pairs)
    )

    assert [(m.channel_id, m.user_id) for m in members] == pairs
    assert_each_membership_once(fake, pairs)
    assert member_posts(fake) > 1000 + 50


# -- fatal and per-pair errors ---------------------------------------------------------------


async def test_a_bad_key_makes_one_request_and_skips_the_rest(fake: FakeWhop) -> None:
    pairs = [(f"feed_{n % 40}", f"user_{n}") for n in range(1000)]
    async with client_on(fake, key="not_a_key") as client:
        result = await client.dm_members.bulk_create(pairs, concurrency=64)
    assert isinstance(result.stopped_by, whop_dm.AuthenticationError)
    assert len(fake.requests) == 1
    assert [f.error for f in result.failed] == [result.stopped_by]
    assert result.added == []
    assert len(result.skipped) == 999
    assert result.total == 1000
    assert set(result.skipped) | {(result.failed[0].channel_id, result.failed[0].user_id)} == set(
        pairs
    )
    assert not result.ok


async def test_a_key_without_the_scope_stops_the_run(fake: FakeWhop) -> None:
    fake.add_api_key("reader", user_id=OWNER, scopes=["dms:read"])
    async with client_on(fake, key="reader") as client:
        result = await client.dm_members.add_many("feed_1", USERS)
    assert isinstance(result.stopped_by, whop_dm.PermissionDeniedError)
    assert len(fake.requests) == 1
    assert (len(result.failed), len(result.skipped)) == (1, 99)


async def test_not_an_admin_of_one_channel_fails_its_pairs_and_the_run_goes_on(
    fake: FakeWhop, client: AsyncClient
) -> None:
    # user_0 is a plain member of the owner's channel, and admin of its own.
    fake.add_api_key("key_0", user_id="user_0")
    (theirs,) = await make_channels(client, 1)
    async with client_on(fake, key="key_0") as user_0:
        own = (await user_0.dm_channels.create(with_user_ids=["user_1"])).id
        # The first call succeeds (a 403 on the first call would stop the run).
        pairs = [(own, u) for u in USERS[5:6]] + [(theirs, u) for u in USERS[5:15]]
        pairs += [(own, u) for u in USERS[6:15]]
        result = await user_0.dm_members.bulk_create(pairs, concurrency=4)
    assert result.stopped_by is None
    assert {(m.channel_id, m.user_id) for m in result.added} == {p for p in pairs if p[0] == own}
    assert {(f.channel_id, f.user_id) for f in result.failed} == {
        p for p in pairs if p[0] == theirs
    }
    assert all(isinstance(f.error, whop_dm.PermissionDeniedError) for f in result.failed)
    assert result.total == 20


async def test_a_channel_filled_past_50_fails_the_extra_pairs_with_channel_full(
    fake: FakeWhop, client: AsyncClient
) -> None:
    full, other = await make_channels(client, 2)
    # 60 new users for `full` (2 members already): 48 fit. 10 for `other`: all fit.
    pairs = [(full, u) for u in USERS[1:61]] + [(other, u) for u in USERS[1:11]]
    result = await client.dm_members.bulk_create(pairs, concurrency=8)
    assert result.stopped_by is None
    assert len(result.failed) == 12
    assert {f.channel_id for f in result.failed} == {full}
    for failure in result.failed:
        assert isinstance(failure.error, whop_dm.BadRequestError)
        assert failure.error.code == "channel_full"
    assert len(result.added) == 58
    assert len(fake.members_of(full)) == 50
    assert len(fake.members_of(other)) == 12
    assert result.total == 70


async def test_an_unknown_user_fails_alone(fake: FakeWhop, client: AsyncClient) -> None:
    (channel,) = await make_channels(client, 1)
    result = await client.dm_members.add_many(channel, ["user_1", "user_nobody", "user_2"])
    assert [m.user_id for m in sorted(result.added, key=lambda m: m.user_id)] == [
        "user_1",
        "user_2",
    ]
    assert [(f.user_id, type(f.error)) for f in result.failed] == [
        ("user_nobody", whop_dm.NotFoundError)
    ]


def test_which_errors_stop_a_run_on_their_own() -> None:
    def error(cls: type[whop_dm.APIError], status: int, message: str) -> whop_dm.APIError:
        return cls(message, status_code=status)

    assert is_fatal(error(whop_dm.AuthenticationError, 401, "Invalid or missing API key"))
    assert is_fatal(error(whop_dm.RateLimitError, 429, "Try again in 3600 seconds."))
    assert is_fatal(whop_dm.ClientClosedError("closed"))
    # A 403 is judged by where it falls in the run, whatever it says.
    for message in (
        "You do not have permission to access this resource",
        "Only an admin of the DM channel may add members.",
        "missing scope dms:channel:manage",
    ):
        assert not is_fatal(error(whop_dm.PermissionDeniedError, 403, message))
    assert not is_fatal(error(whop_dm.BadRequestError, 400, "This DM channel is full"))
    assert not is_fatal(error(whop_dm.InternalServerError, 503, "down"))
    assert not is_fatal(whop_dm.APIConnectionError("reset"))
    assert not is_fatal(ValueError("user_id must not be empty or blank"))


# -- inputs -------------------------------------------------------------------------------


async def test_an_async_iterable_input_is_read_through(fake: FakeWhop, client: AsyncClient) -> None:
    (channel,) = await make_channels(client, 1)

    async def pairs() -> AsyncIterator[tuple[str, str]]:
        for user in USERS[1:31]:
            await asyncio.sleep(0)
            yield channel, user

    progress: list[tuple[int, int | None]] = []
    result = await client.dm_members.bulk_create(
        pairs(), concurrency=8, on_progress=lambda p: progress.append((p.done, p.total))
    )
    assert result.ok
    assert {m.user_id for m in result.added} == set(USERS[1:31])
    assert progress == [(n, None) for n in range(1, 31)]


async def test_a_repeated_pair_is_made_once_and_counted_as_a_duplicate(
    fake: FakeWhop, client: AsyncClient
) -> None:
    (channel,) = await make_channels(client, 1)
    pairs = [(channel, u) for u in USERS[1:11]] * 3 + [(channel, "user_1")]
    progress: list[int] = []
    result = await client.dm_members.bulk_create(
        pairs, concurrency=4, on_progress=lambda p: progress.append(p.done)
    )
    assert len(result.added) == 10
    assert result.duplicates == 21
    assert result.total == len(pairs) == 31
    assert member_posts(fake) == 10
    assert result.ok
    assert progress == list(range(1, 32))


async def test_on_progress_counts_up_to_the_length_of_the_input(
    fake: FakeWhop, client: AsyncClient
) -> None:
    (channel,) = await make_channels(client, 1)
    calls: list[tuple[int, int | None]] = []
    result = await client.dm_members.add_many(
        channel, USERS[1:21], concurrency=5, on_progress=lambda p: calls.append((p.done, p.total))
    )
    assert len(result.added) == 20
    assert calls == [(n, 20) for n in range(1, 21)]


async def test_malformed_items_fail_without_a_request(fake: FakeWhop, client: AsyncClient) -> None:
    (channel,) = await make_channels(client, 1)
    items: list[Any] = [(channel, ""), (channel, 7), ("feed_x", "user_1", "extra"), "ab"]
    result = await client.dm_members.bulk_create([*items, (channel, "user_1")])
    assert [m.user_id for m in result.added] == ["user_1"]
    assert [(f.channel_id, f.user_id, type(f.error)) for f in result.failed] == [
        (channel, "", ValueError),
        (channel, "7", TypeError),
        ("('feed_x', 'user_1', 'extra')", "", TypeError),
        ("'ab'", "", TypeError),
    ]
    assert member_posts(fake) == 1
    assert result.total == 5


async def test_a_huge_generator_is_read_lazily_and_an_endless_one_stops_on_a_fatal_error(
    fake: FakeWhop, client: AsyncClient
) -> None:
    (channel,) = await make_channels(client, 1)
    pulled = 0

    def endless() -> Iterator[tuple[str, str]]:
        # Users 1 to 40, then users nobody knows (each a 404), then a repeat of each.
        nonlocal pulled
        for n in itertools.count():
            pulled += 1
            yield channel, USERS[1 + n] if n < 40 else f"user_unknown_{n // 2}"

    ahead: list[int] = []

    def progress(p: whop_dm.Progress) -> None:
        ahead.append(pulled - p.done)
        if p.done == 200:
            fake.fail_next(1, status=401, path="/dm_members")

    result = await client.dm_members.bulk_create(endless(), concurrency=16, on_progress=progress)
    assert isinstance(result.stopped_by, whop_dm.AuthenticationError)
    assert max(ahead) <= 16
    # Every item pulled was settled; nothing more was read, nothing was skipped.
    assert pulled == result.total
    assert result.skipped == []
    assert len(result.added) == 40
    assert result.duplicates == sum(
        isinstance(f.error, whop_dm.NotFoundError) for f in result.failed
    )


async def test_add_many_takes_an_async_iterable_of_user_ids(
    fake: FakeWhop, client: AsyncClient
) -> None:
    (channel,) = await make_channels(client, 1)

    async def users() -> AsyncIterator[str]:
        for user in USERS[1:6]:
            yield user

    result = await client.dm_members.add_many(channel, users(), concurrency=2)
    assert sorted(m.user_id for m in result.added) == USERS[1:6]


@pytest.mark.parametrize(
    ("call", "error"),
    [
        ({"pairs": [], "concurrency": 0}, ValueError),
        ({"pairs": [], "concurrency": True}, TypeError),
        ({"pairs": [], "concurrency": 2.0}, TypeError),
        ({"pairs": "feed_1user_1"}, TypeError),
        ({"pairs": 42}, TypeError),
        ({"pairs": [], "on_progress": "bar"}, TypeError),
    ],
)
async def test_bad_arguments_of_bulk_create_raise_before_any_request(
    fake: FakeWhop, client: AsyncClient, call: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        await client.dm_members.bulk_create(**call)
    assert fake.requests == []


@pytest.mark.parametrize(
    ("channel_id", "user_ids", "error"),
    [("", ["user_1"], ValueError), (None, ["user_1"], TypeError), ("feed_1", "user_1", TypeError)],
)
async def test_bad_arguments_of_add_many_raise_before_any_request(
    fake: FakeWhop, client: AsyncClient, channel_id: Any, user_ids: Any, error: type[Exception]
) -> None:
    with pytest.raises(error):
        await client.dm_members.add_many(channel_id, user_ids)
    assert fake.requests == []


async def test_an_empty_input_gives_an_empty_ok_result(client: AsyncClient) -> None:
    result = await client.dm_members.bulk_create([])
    assert result == BulkAddResult()
    assert result.ok


# -- stopping: cancellation and errors of the caller's own code -----------------------------


def other_tasks() -> set[asyncio.Task[Any]]:
    return asyncio.all_tasks() - {asyncio.current_task()}


async def test_cancelling_a_run_cancels_its_calls_leaks_no_task_and_keeps_the_client() -> None:
    # The fake runs in its own thread, so the only tasks on this loop are the client's.
    with FakeWhop.in_thread() as fake:
        seed(fake)
        # No slow start: all eight workers are to have a request in flight at once.
        async with client_on(fake, rate_limits=whop_dm.RateLimits.off()) as client:
            (channel,) = await make_channels(client, 1)
            before = other_tasks()

            def progress(p: whop_dm.Progress) -> None:
                if p.done == 1:  # once the first call opened the pool: hold every later one
                    fake.delay_next(1000, 60.0, path="/dm_members")

            run = asyncio.ensure_future(
                client.dm_members.add_many(channel, USERS[1:], concurrency=8, on_progress=progress)
            )
            for _ in range(2000):
                if member_posts(fake) >= 9:
                    break
                await asyncio.sleep(0.01)
            assert member_posts(fake) == 9  # the first one, then eight held in flight
            run.cancel()
            with pytest.raises(asyncio.CancelledError):
                await run
            assert other_tasks() == before

            fake.reset_faults()
            member = await client.dm_members.create(channel_id=channel, user_id="user_99")
            assert member.user_id == "user_99"


async def test_an_error_of_on_progress_stops_the_run_and_propagates() -> None:
    with FakeWhop.in_thread() as fake:
        seed(fake)
        async with client_on(fake) as client:
            (channel,) = await make_channels(client, 1)
            before = other_tasks()

            def progress(p: whop_dm.Progress) -> None:
                if p.done == 3:
                    raise KeyError("bar broke")

            with pytest.raises(KeyError, match="bar broke"):
                await client.dm_members.add_many(channel, USERS[1:40], on_progress=progress)
            assert other_tasks() == before
            assert member_posts(fake) < 39


async def test_an_error_of_the_input_propagates(client: AsyncClient) -> None:
    (channel,) = await make_channels(client, 1)

    def pairs() -> Iterator[tuple[str, str]]:
        yield channel, "user_1"
        raise OSError("the CSV went away")

    with pytest.raises(OSError, match="CSV"):
        await client.dm_members.bulk_create(pairs())


# -- the worker pool, with a stand-in for the call ---------------------------------------------


async def test_no_more_than_concurrency_calls_run_at_once_and_the_first_goes_alone() -> None:
    running = 0
    peaks: list[int] = []

    async def create(*, channel_id: str, user_id: str) -> DmMember:
        nonlocal running
        running += 1
        peaks.append(running)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        running -= 1
        return DmMember(
            f"dmm_{user_id}", user_id, channel_id, whop_dm.MemberStatus("accepted"), None
        )

    pairs = ((f"feed_{n % 7}", f"user_{n}") for n in range(500))
    result = await run_bulk(create, pairs, concurrency=10, on_progress=None)
    assert len(result.added) == 500
    assert peaks[:2] == [1, 1]
    assert max(peaks) == 10


# -- the stop rule: structure, not wording ---------------------------------------------------


def refused(message: str = "You do not have permission to access this resource") -> Any:
    """A ``create`` stand-in that answers 403 for channels named ``feed_no*``."""

    async def create(*, channel_id: str, user_id: str) -> DmMember:
        await asyncio.sleep(0)
        if channel_id.startswith("feed_no"):
            raise whop_dm.PermissionDeniedError(message, status_code=403)
        return DmMember(
            id=f"dmm_{channel_id}_{user_id}",
            user_id=user_id,
            channel_id=channel_id,
            status=whop_dm.MemberStatus.ACCEPTED,
            last_viewed_at=None,
        )

    return create


async def test_a_403_on_the_first_call_stops_the_run_whatever_its_message() -> None:
    pairs = [("feed_no_1", "user_a"), ("feed_ok", "user_b"), ("feed_ok", "user_c")]
    result = await run_bulk(refused("Forbidden"), pairs, concurrency=4, on_progress=None)
    assert isinstance(result.stopped_by, whop_dm.PermissionDeniedError)
    assert result.added == []
    assert result.skipped == pairs[1:]


async def test_403s_on_two_channels_with_no_success_between_stop_the_run() -> None:
    pairs = [
        ("feed_ok", "user_a"),
        ("feed_no_1", "user_b"),
        ("feed_no_1", "user_c"),
        ("feed_no_2", "user_d"),
        ("feed_ok", "user_e"),
    ]
    result = await run_bulk(refused(), pairs, concurrency=1, on_progress=None)
    assert isinstance(result.stopped_by, whop_dm.PermissionDeniedError)
    assert [f.channel_id for f in result.failed] == ["feed_no_1", "feed_no_1", "feed_no_2"]
    assert result.stopped_by is result.failed[-1].error
    assert result.skipped == [("feed_ok", "user_e")]


async def test_a_success_between_403s_of_two_channels_lets_the_run_go_on() -> None:
    pairs = [
        ("feed_ok", "user_a"),
        ("feed_no_1", "user_b"),
        ("feed_ok", "user_c"),
        ("feed_no_2", "user_d"),
        ("feed_ok", "user_e"),
        ("feed_no_1", "user_f"),
    ]
    result = await run_bulk(refused(), pairs, concurrency=1, on_progress=None)
    assert result.stopped_by is None
    assert len(result.added) == 3
    assert len(result.failed) == 3


async def test_403s_within_one_channel_do_not_stop_the_run() -> None:
    pairs = [("feed_ok", "user_a")] + [("feed_no_1", f"user_{n}") for n in range(20)]
    result = await run_bulk(
        refused(), [*pairs, ("feed_ok", "user_z")], concurrency=8, on_progress=None
    )
    assert result.stopped_by is None
    assert len(result.failed) == 20
    assert len(result.added) == 2


async def test_a_429_the_policy_gave_up_on_stops_the_run(
    fake: FakeWhop, client: AsyncClient
) -> None:
    (channel,) = await make_channels(client, 1)
    await client.dm_members.create(channel_id=channel, user_id="user_1")
    fake.fail_next(1, status=429, retry_after=3600, path="/dm_members")
    result = await client.dm_members.add_many(channel, USERS[2:12], concurrency=1)
    assert isinstance(result.stopped_by, whop_dm.RateLimitError)
    assert len(result.skipped) == 9


async def test_stop_on_adds_a_stop_for_errors_the_caller_knows_are_fatal(
    fake: FakeWhop, client: AsyncClient
) -> None:
    (channel,) = await make_channels(client, 1)
    seen: list[Exception] = []

    def stop_on(error: Exception) -> bool:
        seen.append(error)
        return isinstance(error, whop_dm.NotFoundError)

    users = ["user_1", "user_2", "user_nobody", "user_3", "user_4"]
    result = await client.dm_members.add_many(channel, users, concurrency=1, stop_on=stop_on)
    assert isinstance(result.stopped_by, whop_dm.NotFoundError)
    assert [m.user_id for m in result.added] == ["user_1", "user_2"]
    assert result.skipped == [(channel, "user_3"), (channel, "user_4")]
    assert seen == [result.stopped_by]


async def test_stop_on_returning_false_keeps_the_built_in_rule() -> None:
    pairs = [("feed_no_1", "user_a"), ("feed_ok", "user_b")]
    result = await run_bulk(
        refused(), pairs, concurrency=1, on_progress=None, stop_on=lambda error: False
    )
    assert isinstance(result.stopped_by, whop_dm.PermissionDeniedError)


async def test_an_error_raised_by_stop_on_propagates() -> None:
    def stop_on(error: Exception) -> bool:
        raise LookupError("broken predicate")

    pairs = [("feed_ok", "user_a"), ("feed_no_1", "user_b"), ("feed_ok", "user_c")]
    with pytest.raises(LookupError, match="broken predicate"):
        await run_bulk(refused(), pairs, concurrency=2, on_progress=None, stop_on=stop_on)


async def test_stop_on_must_be_callable() -> None:
    with pytest.raises(TypeError, match="stop_on"):
        await run_bulk(refused(), [], concurrency=1, on_progress=None, stop_on="yes")  # type: ignore[arg-type]


# -- a 2xx is an added pair, whatever its body ---------------------------------------------


@pytest.mark.parametrize("strict", [False, True])
async def test_a_pair_answered_2xx_with_a_member_that_does_not_fit_is_added(
    scripted_server: ScriptedServer, strict: bool
) -> None:
    odd = {**MEMBER, "status": 5, "last_viewed_at": "string"}
    scripted_server.answer(json_answer(odd))
    async with scripted_server.client(strict=strict) as client:
        result = await client.dm_members.add_many("feed_1", ["user_c"])
    assert result.ok
    (member,) = result.added
    assert (member.id, member.user_id, member.status, member.last_viewed_at) == (
        "dmm_1",
        "user_c",
        None,
        None,
    )
    assert member.raw == odd


async def test_a_pair_answered_2xx_with_a_body_that_is_no_member_is_added(
    scripted_server: ScriptedServer,
) -> None:
    scripted_server.answer(raw_answer(b"OK", 201, content_type="text/plain"))
    async with scripted_server.client() as client:
        result = await client.dm_members.bulk_create([("feed_1", "user_c"), ("feed_1", "user_d")])
    assert result.ok
    assert sorted((m.channel_id, m.user_id, m.id) for m in result.added) == [
        ("feed_1", "user_c", None),
        ("feed_1", "user_d", None),
    ]


async def test_a_journaled_pair_answered_2xx_with_a_body_that_is_no_member_is_added(
    scripted_server: ScriptedServer, tmp_path: Any
) -> None:
    scripted_server.answer(raw_answer(b"OK", 201, content_type="text/plain"))
    journal = tmp_path / "job.journal"
    async with scripted_server.client() as client:
        result = await client.dm_members.add_many("feed_1", ["user_c"], journal=journal)
        again = await client.dm_members.add_many("feed_1", ["user_c"], journal=journal)
    assert result.ok
    assert [(m.channel_id, m.user_id, m.id, m.status) for m in result.added] == [
        ("feed_1", "user_c", None, None)
    ]
    # The journal kept it as added: the finished job sends nothing again.
    assert again.ok
    assert [(m.user_id, m.status) for m in again.added] == [("user_c", None)]
    assert len(scripted_server.seen) == 1
