"""Four processes, one key, one Redis, one limit of the fake: the budget is shared.

Each process alone would take the whole budget at once; together, paced
through Redis, they stay within it: the fake answers no 429 at all.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from whop_dm.testing import FakeWhop

JOB = Path(__file__).with_name("_job.py")
PROCESSES = 4
CALLS = 15  # per process: 60 in all, three windows' worth
LIMIT = 20
WINDOW = 1.0
KEY = "key_shared_processes"


async def test_four_processes_sharing_redis_stay_within_one_limit(redis_url: str) -> None:
    async with FakeWhop(
        max_channel_members=None, rate_limit_per_minute=LIMIT, rate_limit_window=WINDOW
    ) as fake:
        fake.add_user("user_owner")
        for part in range(PROCESSES):
            for n in range(CALLS):
                fake.add_user(f"user_p{part}_{n}")
        fake.add_api_key(KEY, user_id="user_owner")
        env = {**os.environ, "PYTHONWARNINGS": "error"}
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                str(JOB),
                fake.base_url,
                redis_url,
                KEY,
                str(part),
                str(CALLS),
                str(LIMIT),
                str(WINDOW),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                env=env,
            )
            for part in range(PROCESSES)
        ]
        try:
            for proc in procs:
                assert proc.stdout is not None
                line = await asyncio.wait_for(proc.stdout.readline(), 60)
                assert line.strip() == b"ready"
            for proc in procs:
                assert proc.stdin is not None
                proc.stdin.write(b"go\n")
                await proc.stdin.drain()
            results = [await asyncio.wait_for(proc.communicate(), 60) for proc in procs]
        finally:
            for proc in procs:
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()
        done = [out.decode().split() for out, _ in results]
        assert all(proc.returncode == 0 for proc in procs)
        assert done == [["done", str(CALLS), "0"]] * PROCESSES
        assert fake.rate_limit_allowed == {"POST /dm_channels": PROCESSES * CALLS}
        assert fake.rate_limited == {}
