"""Webhook deduplication in a real Redis: several receivers share the handled ids."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
import redis.asyncio
from aiohttp import web

from whop_dm import RedisStore
from whop_dm.testing import sign_webhook
from whop_dm.webhooks import RedisDedupStore, WebhookEvent, WebhookReceiver

SECRET = "ws_redis_dedup_secret"


@pytest.fixture
async def raw(redis_url: str) -> AsyncIterator[redis.asyncio.Redis]:
    client = redis.asyncio.Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def test_the_first_claim_wins_and_the_key_expires(raw: redis.asyncio.Redis) -> None:
    store = RedisDedupStore(raw, ttl=30)
    assert await store.claim("wh_1")
    assert not await store.claim("wh_1")
    assert await raw.get("whop_dm:webhook:wh_1") == b"1"
    assert 0 < await raw.ttl("whop_dm:webhook:wh_1") <= 30
    await store.release("wh_1")
    assert await store.claim("wh_1")


async def test_a_url_and_the_rate_limit_store_share_one_memory(
    redis_url: str, raw: redis.asyncio.Redis
) -> None:
    by_url = RedisDedupStore(redis_url)
    shared = RedisStore(redis_url)
    by_store = RedisDedupStore(shared)
    assert await by_url.claim("wh_2")
    assert not await by_store.claim("wh_2")
    assert redis_url not in repr(by_url)
    await by_url.aclose()
    await shared.aclose()


async def test_receivers_on_the_rate_limit_store_handle_each_event_once(
    redis_url: str,
) -> None:
    store = RedisStore(redis_url)
    handled: list[str] = []
    receivers = [WebhookReceiver(SECRET, dedup=store) for _ in range(3)]
    for receiver in receivers:

        @receiver.on("*")
        async def record(event: WebhookEvent) -> None:
            handled.append(event.webhook_id)

    runners = []
    urls = []
    for receiver in receivers:
        runner = web.AppRunner(receiver.app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        urls.append(f"http://127.0.0.1:{runner.addresses[0][1]}/webhooks/whop")
    try:
        async with aiohttp.ClientSession() as http:

            async def deliver(n: int, url: str) -> int:
                body = f'{{"id": "e{n}", "type": "x.y", "data": {{}}}}'.encode()
                headers = sign_webhook(body, SECRET, webhook_id=f"wh_{n}")
                async with http.post(url, data=body, headers=headers) as response:
                    return response.status

            # Every event reaches every receiver at once, like retries spread
            # over a load balancer.
            statuses = await asyncio.gather(*(deliver(n, url) for n in range(20) for url in urls))
        assert set(statuses) == {200}
        for receiver in receivers:
            await receiver.drain(10)
    finally:
        for runner in runners:
            await runner.cleanup()
        await store.aclose()
    assert sorted(handled) == sorted(f"wh_{n}" for n in range(20))
    assert sum(r.duplicates for r in receivers) == 40


async def test_a_redis_that_went_away_makes_the_receiver_answer_503(
    redis_server: object, redis_url: str
) -> None:
    dedup = RedisDedupStore(redis_url)
    receiver = WebhookReceiver(SECRET, dedup=dedup)
    seen: list[str] = []

    @receiver.on("*")
    async def record(event: WebhookEvent) -> None:
        seen.append(event.webhook_id)

    runner = web.AppRunner(receiver.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/webhooks/whop"
    body = b'{"id": "e1", "type": "x.y", "data": {}}'
    try:
        redis_server.stop()  # type: ignore[attr-defined]
        async with aiohttp.ClientSession() as http:
            headers = sign_webhook(body, SECRET, webhook_id="wh_down")
            async with http.post(url, data=body, headers=headers) as response:
                assert response.status == 503
        assert seen == []
    finally:
        redis_server.start()  # type: ignore[attr-defined]
        await runner.cleanup()
        await dedup.aclose()
