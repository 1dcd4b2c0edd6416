"""One of the processes of the multi-process test: a share of a job, paced through Redis.

    python _job.py BASE_URL REDIS_URL API_KEY PART CALLS LIMIT WINDOW

Prints ``ready`` once its client is built, waits for a line on stdin, then
creates CALLS channels (one per user ``user_p<PART>_<n>``) at once and
prints ``done <ok> <rate-limit errors>``.
"""

from __future__ import annotations

import asyncio
import sys

import whop_dm


async def main(argv: list[str]) -> None:
    base_url, redis_url, api_key = argv[0], argv[1], argv[2]
    part, calls, limit, window = int(argv[3]), int(argv[4]), int(argv[5]), float(argv[6])
    store = whop_dm.RedisStore(redis_url)
    limits = whop_dm.RateLimits(per_operation=limit, window=window, store=store)
    async with whop_dm.AsyncClient(
        api_key=api_key, base_url=base_url, rate_limits=limits
    ) as client:
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        outcomes = await asyncio.gather(
            *(client.dm_channels.create(with_user_ids=[f"user_p{part}_{n}"]) for n in range(calls)),
            return_exceptions=True,
        )
    await store.aclose()
    ok = sum(isinstance(o, whop_dm.DmChannel) for o in outcomes)
    limited = sum(isinstance(o, whop_dm.RateLimitError) for o in outcomes)
    print(f"done {ok} {limited}", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
