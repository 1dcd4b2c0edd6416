"""How many requests per second the fake serves: POST /dm_members from a raw aiohttp client.

Run: python tests/testing/bench_fake_server.py [--requests 5000] [--concurrency 64]

The fake runs in its own process (as it would under a client benchmark) with
``record_requests=False`` (``--record`` to keep them); the client is plain
aiohttp, so the figure is the fake's, not whop-dm's. Members are spread over
channels of 50, Whop's cap. Not collected by pytest (no ``test_`` prefix).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import time
from multiprocessing.connection import Connection

import aiohttp

PER_CHANNEL = 48  # creator + first participant + 48 added: a full channel of 50


def _serve(users: int, record: bool, conn: Connection) -> None:
    from whop_dm.testing import FakeWhop

    async def main() -> None:
        async with FakeWhop(record_requests=record) as fake:
            for n in range(users):
                fake.add_user(f"user_{n}")
            fake.add_api_key("bench", user_id="user_0")
            conn.send(fake.base_url)
            await asyncio.get_running_loop().run_in_executor(None, conn.recv)

    asyncio.run(main())


async def _bench(base_url: str, requests: int, concurrency: int) -> float:
    headers = {"Authorization": "Bearer bench"}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(
        base_url=base_url + "/", headers=headers, connector=connector
    ) as s:
        channels = []
        for c in range(-(-requests // PER_CHANNEL)):
            body = {"with_user_ids": [f"user_{1 + c * PER_CHANNEL}"]}
            async with s.post("dm_channels", json=body) as response:
                channels.append((await response.json())["id"])
        jobs = [
            {"channel_id": channels[n // PER_CHANNEL], "user_id": f"user_{2 + n}"}
            for n in range(requests)
        ]
        queue = iter(jobs)
        failures = 0

        async def worker() -> None:
            nonlocal failures
            for body in queue:
                async with s.post("dm_members", json=body) as response:
                    await response.read()
                    failures += response.status != 200

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    if failures:
        raise SystemExit(f"{failures} requests failed")
    return requests / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--record", action="store_true", help="keep fake.requests (the default)")
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    for round_ in range(args.rounds):
        ours, theirs = context.Pipe()
        server = context.Process(target=_serve, args=(args.requests * 2 + 200, args.record, theirs))
        server.start()
        try:
            if not ours.poll(60):
                raise SystemExit("the fake did not start within 60 s")
            base_url = ours.recv()
            rate = asyncio.run(_bench(base_url, args.requests, args.concurrency))
            print(f"round {round_ + 1}: {rate:,.0f} POST /dm_members per second")
        finally:
            ours.send("stop")
            server.join(30)
            if server.is_alive():
                server.terminate()


if __name__ == "__main__":
    main()
