"""``whop-dm demo``: the main job of the library, run against an embedded fake Whop.

It starts a `FakeWhop` on loopback, seeds it with
users and a key, then does what a bulk job does with the real API: creates
the DM channels it needs and adds the memberships across them with
``bulk_create``, while the fake faults a share of the requests (429s, 5xx,
dropped connections) so that the client's retries are seen at work.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Any

import attrs

from whop_dm._bulk import BulkAddResult
from whop_dm._cli._output import Output
from whop_dm._client import AsyncClient
from whop_dm._retry import RetryEvent, RetryPolicy

__all__ = ["DemoSummary", "run_demo"]

# Whop's cap, the creator included; the fake enforces the same.
CHANNEL_CAPACITY = 50
# Each demo channel starts with its creator (the demo user) and one host user
# (channels with the same participants are the same channel, so every
# channel needs a participant of its own).
FOUNDING_MEMBERS = 2
# Waits the fake's 429s ask for, in seconds: a 429 pauses the whole client,
# and the demo should stay quick.
DEMO_RETRY_AFTER = 0
# More attempts than the default 3, so that a pair rarely runs out of them even
# at high fault rates, and a short backoff: the fake on loopback recovers at
# once, where the default (0.5 s doubling) is sized for a real server's blips.
DEMO_RETRY = RetryPolicy(max_attempts=6, initial_backoff=0.05, max_backoff=1.0, jitter=0.05)


@attrs.frozen
class DemoSummary:
    channels: int
    added: int
    failed: int
    skipped: int
    retries: int
    requests: int
    elapsed_s: float
    held_s: float = 0.0

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            **attrs.asdict(self),
            "elapsed_s": round(self.elapsed_s, 3),
            "held_s": round(self.held_s, 3),
            "requests_per_second": round(self.requests_per_second, 1),
        }


async def run_demo(
    output: Output, *, members: int, concurrency: int, chaos: float, seed: int
) -> tuple[DemoSummary, BulkAddResult]:
    from whop_dm.testing import FakeWhop

    per_channel = CHANNEL_CAPACITY - FOUNDING_MEMBERS
    channel_count = -(-members // per_channel)
    async with FakeWhop(max_channel_members=CHANNEL_CAPACITY, seed=seed) as fake:
        fake.add_user("user_demo", username="demo", name="Demo User")
        key = fake.add_api_key("whop_demo_" + secrets.token_urlsafe(12), user_id="user_demo")
        hosts = [f"user_host_{number:04d}" for number in range(1, channel_count + 1)]
        users = [f"user_member_{number:06d}" for number in range(1, members + 1)]
        for user_id in (*hosts, *users):
            fake.add_user(user_id)
        output.say(
            f"[bold]whop-dm demo[/bold]: a fake Whop at {fake.base_url}; "
            f"{members} members across {channel_count} channels, concurrency {concurrency}, "
            f"faults on {chaos:.0%} of requests (seed {seed})"
        )
        fake.chaos(chaos, seed, retry_after=DEMO_RETRY_AFTER)

        retries = 0

        def count_retry(_: RetryEvent) -> None:
            nonlocal retries
            retries += 1

        started = time.perf_counter()
        async with AsyncClient(
            api_key=key, base_url=fake.base_url, retry=DEMO_RETRY, on_retry=count_retry
        ) as client:
            channels = await asyncio.gather(
                *(
                    client.dm_channels.create(
                        with_user_ids=[host], custom_name=f"Demo group {number}"
                    )
                    for number, host in enumerate(hosts, start=1)
                )
            )
            pairs = [
                (channels[index // per_channel].id, user_id) for index, user_id in enumerate(users)
            ]
            with output.progress(
                "adding members", len(pairs), status=lambda: f"{retries} retries"
            ) as on_progress:
                result = await client.dm_members.bulk_create(
                    pairs, concurrency=concurrency, on_progress=on_progress
                )
            held = client.rate_limit_held()
        elapsed = time.perf_counter() - started
        fake.chaos(0)
        summary = DemoSummary(
            channels=len(channels),
            added=len(result.added),
            failed=len(result.failed),
            skipped=len(result.skipped),
            retries=retries,
            requests=len(fake.requests),
            elapsed_s=elapsed,
            held_s=max(held.values(), default=0.0),
        )
    return summary, result
