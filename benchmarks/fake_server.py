"""``whop_dm.testing.FakeWhop`` in its own process, seeded for the bulk benchmark.

``python -m whop_dm.testing`` seeds three users only, and the fake (like Whop) refuses
to add a user it does not know, so the bulk runs need their own launcher: this one
seeds ``--users`` users named ``user_bench_00000000``, ``user_bench_00000001``, ... and
one key with every scope. Everything else is the fake as users get it: Whop's cap of
50 members per channel (the runners spread their pairs over channels, 40 to one),
validation, idempotency keys; only request recording is off, as its docstring advises
for benchmarks.

It prints ``base_url=...``, ``api_key=...`` and ``ready``, then serves until SIGTERM,
``--max-seconds``, or (with ``--watch-stdin``) the end of its stdin pipe.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from .stub_server import stop_event

API_KEY = "whop_fake_bench_key"
USER_PREFIX = "user_bench_"
OWNER = "user_bench_owner"


async def serve(users: int, max_seconds: float, watch_stdin: bool) -> None:
    from whop_dm.testing import FakeWhop

    async with FakeWhop(port=0, record_requests=False) as fake:
        fake.add_user(OWNER)
        for i in range(users):
            fake.add_user(f"{USER_PREFIX}{i:08d}")
        fake.add_api_key(API_KEY, user_id=OWNER)
        stop = stop_event(watch_stdin)
        print(f"base_url={fake.base_url}", f"api_key={API_KEY}", "ready", sep="\n", flush=True)
        try:
            await asyncio.wait_for(stop.wait(), timeout=max_seconds)
        except asyncio.TimeoutError:
            print("fake server: --max-seconds reached, exiting", file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fake_server")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--max-seconds", type=float, default=3 * 3600)
    parser.add_argument("--watch-stdin", action="store_true")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.users, args.max_seconds, args.watch_stdin))


if __name__ == "__main__":
    main()
