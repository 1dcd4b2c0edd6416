"""The kill test: a journaled bulk job killed with SIGKILL three times, resumed each time.

A FakeWhop in its own process faults 5% of requests (429, 5xx, dropped
connections) and rate-limits them in a one-second window. A job process runs
``bulk_create`` over 3,000 pairs with a journal; the test kills it at a random
point of its progress, three times, and runs it again each time; the fourth
run goes to the end. Then:

- every pair is a member of its channel;
- every ``POST /dm_members`` of a pair carried the same ``Idempotency-Key``;
- the final result's counts add up to 3,000, all added.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

PARTS = str(Path(__file__).with_name("killparts.py"))
PAIRS = 3_000
CHANNELS = 30
KILLS = 3

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")


def settled(journal: Path) -> int:
    """Pairs the journal has settled so far (0 while it does not exist yet)."""
    if not journal.exists():
        return 0
    try:
        with (
            contextlib.closing(
                sqlite3.connect(f"{journal.resolve().as_uri()}?mode=ro", uri=True)
            ) as db,
            db,
        ):
            (count,) = db.execute(
                "SELECT count(*) FROM pairs WHERE state IN ('added', 'failed')"
            ).fetchone()
    except sqlite3.Error:  # created but not yet set up
        return 0
    return int(count)


def start_job(base_url: str, key: str, pairs_file: Path, journal: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 - our interpreter, our test helper
        [sys.executable, PARTS, "job", base_url, key, str(pairs_file), str(journal)],
        stdout=subprocess.PIPE,
        text=True,
    )


def test_a_journaled_job_killed_three_times_ends_with_every_pair_added_once_per_key(
    tmp_path: Path,
) -> None:
    rng = random.Random(int(os.environ.get("KILL_TEST_SEED", "2026")))
    server = subprocess.Popen(  # noqa: S603 - our interpreter, our test helper
        [sys.executable, PARTS, "server", str(PAIRS), str(CHANNELS)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        assert server.stdin is not None
        base_url = server.stdout.readline().strip()
        key = server.stdout.readline().strip()
        channels = server.stdout.readline().split()
        assert base_url.startswith("http://127.0.0.1:")
        assert len(channels) == CHANNELS
        pairs = [(channels[n % CHANNELS], f"user_{n:05d}") for n in range(PAIRS)]
        pairs_file = tmp_path / "pairs.csv"
        pairs_file.write_text("".join(f"{c},{u}\n" for c, u in pairs))
        journal = tmp_path / "job.journal"

        # Kill points spread over the job: somewhere in each quarter of it.
        targets = sorted(rng.randrange(k * PAIRS // 4, (k + 1) * PAIRS // 4) for k in range(KILLS))
        for target in targets:
            job = start_job(base_url, key, pairs_file, journal)
            deadline = time.monotonic() + 60
            while settled(journal) < target and job.poll() is None:
                assert time.monotonic() < deadline, "the job made no progress"
                time.sleep(0.01)
            time.sleep(rng.uniform(0, 0.05))
            assert job.poll() is None, "the job ended before it could be killed"
            job.send_signal(signal.SIGKILL)
            job.wait()
            assert job.stdout is not None
            job.stdout.close()

        job = start_job(base_url, key, pairs_file, journal)
        out, _ = job.communicate(timeout=120)
        assert job.returncode == 0
        counts = json.loads(out.strip().splitlines()[-1])
        assert counts["total"] == PAIRS
        assert counts["added"] + counts["failed"] + counts["skipped"] + counts["duplicates"] == (
            PAIRS
        )
        assert counts["added"] == PAIRS
        assert 0 < counts["resumed"] < PAIRS

        server.stdin.write("dump\n")
        server.stdin.flush()
        state = json.loads(server.stdout.readline())
    finally:
        if server.stdin is not None:
            server.stdin.close()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if server.stdout is not None:
            server.stdout.close()

    members = {(c, u) for c, u in state["members"]}
    assert set(pairs) <= members
    keys: dict[tuple[str, str], set[str]] = defaultdict(set)
    for channel_id, user_id, idempotency_key in state["posts"]:
        keys[channel_id, user_id].add(idempotency_key)
    assert set(keys) == set(pairs)
    assert all(len(used) == 1 for used in keys.values()), {
        pair: used for pair, used in keys.items() if len(used) > 1
    }
    # More POSTs than pairs: faults were retried, and pairs in flight at each kill resent.
    assert len(state["posts"]) > PAIRS
