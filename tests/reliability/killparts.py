"""The two processes of the kill test: ``python killparts.py server|job ...``.

``server USERS CHANNELS``: a FakeWhop with chaos faults and a rate limit of a
one-second window, seeded with ``USERS`` users and ``CHANNELS`` channels of
the owner (no member cap). It prints its base URL, the key, then the channel
ids (one line, space-separated), and serves until stdin ends. A line
``dump`` on stdin gets one JSON line back: the memberships and, for each
``POST /dm_members``, its pair and ``Idempotency-Key``.

``job BASE_URL KEY PAIRS_FILE JOURNAL``: ``bulk_create`` over the pairs of
the file (``channel_id,user_id`` lines) with the journal; prints the result's
counts as one JSON line when it ends (if it is not killed first).
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys

KEY = "key_kill_owner"
OWNER = "user_kill_owner"
CHAOS = 0.05
RATE_PER_WINDOW = 800
WINDOW = 1.0


async def server(users: int, channels: int) -> None:
    from whop_dm.testing import FakeWhop

    async with FakeWhop(
        max_channel_members=None,
        rate_limit_per_minute=RATE_PER_WINDOW,
        rate_limit_window=WINDOW,
        seed=7,
    ) as fake:
        fake.add_user(OWNER)
        for n in range(users):
            fake.add_user(f"user_{n:05d}")
        fake.add_api_key(KEY, user_id=OWNER)
        ids = []
        async with _client(fake.base_url) as client:
            for n in range(channels):
                channel = await client.dm_channels.create(
                    with_user_ids=["user_00000"], company_id=f"biz_kill_{n}"
                )
                ids.append(channel.id)
        fake.chaos(CHAOS, seed=11, retry_after=0)
        print(fake.base_url, KEY, " ".join(ids), sep="\n", flush=True)
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line or line.strip() == "quit":
                return
            if line.strip() == "dump":
                posts = [
                    (r.json["channel_id"], r.json["user_id"], r.headers.get("Idempotency-Key"))
                    for r in fake.requests
                    if r.method == "POST" and r.api_path == "/dm_members" and r.json
                ]
                members = [(m.channel_id, m.user_id) for m in fake.memberships]
                print(json.dumps({"posts": posts, "members": members}), flush=True)


def _client(base_url: str) -> object:
    import whop_dm

    # Enough quick attempts that chaos and the rate limit never exhaust them.
    retry = whop_dm.RetryPolicy(
        max_attempts=40, initial_backoff=0.01, max_backoff=0.2, jitter=0.05, deadline=None
    )
    return whop_dm.AsyncClient(api_key=KEY, base_url=base_url, retry=retry)


def read_pairs(pairs_file: str) -> list[tuple[str, ...]]:
    with open(pairs_file, encoding="utf-8") as lines:
        return [tuple(line.strip().split(",")) for line in lines if line.strip()]


async def job(base_url: str, pairs: list[tuple[str, ...]], journal: str) -> None:
    # Retries are the point here; their warnings would only fill the test's output.
    logging.getLogger("whop_dm").setLevel(logging.ERROR)
    async with _client(base_url) as client:  # type: ignore[attr-defined]
        result = await client.dm_members.bulk_create(pairs, concurrency=32, journal=journal)
    counts = {
        "added": len(result.added),
        "failed": len(result.failed),
        "skipped": len(result.skipped),
        "duplicates": result.duplicates,
        "resumed": result.resumed,
        "total": result.total,
    }
    print(json.dumps(counts), flush=True)


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "server":
        asyncio.run(server(int(args[0]), int(args[1])))
    else:
        asyncio.run(job(args[0], read_pairs(args[2]), args[3]))
