"""Soak: 20,000 member adds under 20% chaos, through gather and bulk_create.

The adds are spread over channels of at most 50 members (the creator and one
seed user, plus 48 added), in rounds: each round adds one slice of the pairs
with ``asyncio.gather`` and the next slice with ``bulk_create``. The fake
faults a fifth of all requests (429 with ``Retry-After: 0``, 500/502/503, or a
dropped connection), and the client retries up to ``ATTEMPTS`` times without
sleeping, so a pair fails only if that many attempts in a row are faulted
(0.2 ** 10, about 1e-7 a pair).

The fake runs in its own process, so this process's memory is the client's
(and the test's small bookkeeping) alone. Checked: none lost, none duplicated
(the fake's memberships are exactly the input), every call accounted for, no
connection or task left over after each round, and memory flat: the peak RSS
of the second half of the rounds stays within a generous bound of the first.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import resource
from collections import Counter

import pytest
from faultkit import FakeProcess, acquired_connections, client_for, pending_tasks

import whop_dm

PAIRS = 20_000
PER_CHANNEL = 48  # 50 members at most: the creator, one seed user, and these
USER_POOL = 1_000
ROUNDS = 8
CHAOS = 0.2
ATTEMPTS = 10
# Generous, for a shared machine: the allocator keeps some of what a round's
# burst of 1,250 gathered calls took. A leak of 1 KiB a call would add 10 MiB.
MEMORY_SLACK = 24 * 2**20

TALLY: Counter[str] = Counter()


def rss_bytes() -> int:
    try:
        with open(f"/proc/{os.getpid()}/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # not Linux: the peak so far is the best there is
        scale = 1 if os.uname().sysname == "Darwin" else 1024
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def plan(channels: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for index, channel in enumerate(channels):
        for offset in range(PER_CHANNEL):
            pairs.append((channel, f"user_{(index * PER_CHANNEL + offset) % USER_POOL}"))
    return pairs[:PAIRS]


@pytest.fixture
def quiet_retries() -> object:
    # One WARNING line per retry is the library's default; kept by pytest's log
    # capture, 5,000 of them would count as this process's memory.
    logger = logging.getLogger("whop_dm")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield None
    logger.setLevel(level)


@pytest.mark.soak
@pytest.mark.usefixtures("quiet_retries")
async def test_20000_adds_under_20_percent_chaos_lose_and_duplicate_nothing() -> None:
    channel_count = -(-PAIRS // PER_CHANNEL)
    users = [f"user_{n}" for n in range(USER_POOL)]
    seeds = [f"seed_{n}" for n in range(channel_count)]
    retries: Counter[str] = Counter()

    def count_retry(event: whop_dm.RetryEvent) -> None:
        retries[type(event.cause).__name__] += 1

    retry = whop_dm.RetryPolicy.instant(max_attempts=ATTEMPTS, deadline=None)
    async with FakeProcess(users + seeds) as fake:
        await fake.chaos(CHAOS, seed=20_000)
        client = client_for(fake.base_url, retry=retry, on_retry=count_retry)
        tasks_before = set(asyncio.all_tasks())
        added: list[tuple[str, str]] = []
        failed: list[str] = []
        rss: list[int] = []
        try:
            channels = [
                (await client.dm_channels.create(with_user_ids=[seed])).id for seed in seeds
            ]
            pairs = plan(channels)
            assert len(set(pairs)) == PAIRS
            # Answers are mapped back to the input's own pair objects, so the
            # test keeps nothing the client allocated.
            by_pair = {pair: pair for pair in pairs}
            slice_size = PAIRS // (ROUNDS * 2)
            for round_number in range(ROUNDS):
                start = round_number * 2 * slice_size
                by_gather = pairs[start : start + slice_size]
                by_bulk = pairs[start + slice_size : start + 2 * slice_size]
                outcomes = await asyncio.gather(
                    *(client.dm_members.create(channel_id=c, user_id=u) for c, u in by_gather),
                    return_exceptions=True,
                )
                for outcome in outcomes:
                    if isinstance(outcome, whop_dm.DmMember):
                        added.append(by_pair[(outcome.channel_id, outcome.user_id)])
                    else:
                        failed.append(repr(outcome))
                result = await client.dm_members.bulk_create(by_bulk, concurrency=64)
                assert result.total == len(by_bulk)
                assert result.stopped_by is None
                added.extend(by_pair[(m.channel_id, m.user_id)] for m in result.added)
                failed.extend(repr(f) for f in result.failed)
                del outcomes, result
                # Between rounds nothing is in flight, so nothing may be held.
                assert acquired_connections(client) == 0
                assert not pending_tasks(tasks_before)
                gc.collect()
                rss.append(rss_bytes())
            await fake.chaos(0)
        finally:
            await client.aclose()
        held = await fake.memberships()

    requests = PAIRS + channel_count + sum(retries.values())
    # Every pair accounted for, and none failed: 10 faults in a row do not happen.
    assert len(added) + len(failed) == PAIRS
    assert failed == []
    # The chaos really happened: about a fifth of the requests were faulted.
    assert sum(retries.values()) > requests * CHAOS * 0.8, retries
    # None lost, none duplicated: the fake holds exactly the input (besides the
    # channels' creator and seed user).
    counts = Counter(held)
    setup = set(zip(channels, seeds, strict=True)) | {(c, "user_owner") for c in channels}
    made = Counter({pair: n for pair, n in counts.items() if pair not in setup})
    lost = set(pairs) - set(made)
    duplicated = {pair: n for pair, n in made.items() if n > 1}
    TALLY.update(pairs=PAIRS, requests=requests, lost=len(lost), duplicated=len(duplicated))
    assert not lost
    assert not duplicated
    assert set(made) == set(pairs)
    assert sorted(added) == sorted(pairs)
    per_channel = Counter(c for c, _ in held)
    assert max(per_channel.values()) <= 50
    # Memory flat: the second half of the rounds peaks near the first half.
    half = ROUNDS // 2
    assert max(rss[half:]) <= max(rss[:half]) + MEMORY_SLACK, rss
    print(
        f"\nsoak: {PAIRS} pairs, {requests} requests ({sum(retries.values())} retried: "
        f"{dict(retries)}), lost {len(lost)}, duplicated {len(duplicated)}; "
        f"RSS MiB per round {[round(r / 2**20, 1) for r in rss]}"
    )
