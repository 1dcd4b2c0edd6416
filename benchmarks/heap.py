"""``python -m benchmarks.heap [N]``: what one ``bulk_create`` of N pairs keeps.

Runs the client in this process against the stub server and reports, with
``tracemalloc``, the heap the run holds after a full collection (the result's
records), its peak before that collection, and the types of the objects the
cyclic collector alone can free (``gc.DEBUG_SAVEALL`` over 1,000 plain calls).
The peak RSS figures of ``python -m benchmarks --only rss`` include both.
"""

from __future__ import annotations

import asyncio
import collections
import gc
import sys
import tracemalloc

import whop_dm

from .processes import stub_server


async def _measure(base_url: str, api_key: str, n: int) -> None:
    async with whop_dm.AsyncClient(api_key=api_key, base_url=base_url) as client:
        warmup = [(f"feed_w_{i // 50:06d}", f"user_w_{i:08d}") for i in range(200)]
        await client.dm_members.bulk_create(warmup, concurrency=64)
        gc.collect()
        tracemalloc.start()
        start = tracemalloc.get_traced_memory()[0]
        pairs = ((f"feed_m_{i // 50:06d}", f"user_m_{i:08d}") for i in range(n))
        result = await client.dm_members.bulk_create(pairs, concurrency=64)
        peak = tracemalloc.get_traced_memory()[1]
        gc.collect()
        held = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        print(f"bulk_create of {n:,} pairs: {result!r}")
        print(f"  held after a full collection: {(held - start) / 1e6:.1f} MB")
        print(f"  ({(held - start) / n:.0f} bytes a pair)")
        print(f"  peak during the run: {(peak - start) / 1e6:.1f} MB")

        gc.collect()
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            for i in range(1_000):
                await client.dm_members.create(channel_id="feed_x", user_id=f"user_x_{i}")
            gc.collect()
            kinds = collections.Counter(
                f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.garbage
            )
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
        print("objects only the cyclic collector frees, over 1,000 calls:")
        for kind, count in kinds.most_common(12):
            print(f"  {count:6,d}  {kind}")


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else 90_000
    with stub_server() as server:
        asyncio.run(_measure(server.base_url, server.api_key, n))


if __name__ == "__main__":
    main(sys.argv[1:])
