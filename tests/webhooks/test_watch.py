"""Polling for new messages: ``messages.watch`` and ``dm_channels.watch`` on the fake."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

import pytest

from whop_dm import AsyncClient, ChannelMessage, Message, RetryPolicy
from whop_dm.testing import FakeWhop

BOT = "user_bot"
CUSTOMERS = ("user_ann", "user_ben", "user_cat")
FAST = 0.01

T = TypeVar("T")


@pytest.fixture
async def fake() -> AsyncIterator[FakeWhop]:
    async with FakeWhop(seed=5) as server:
        server.add_user(BOT, username="bot")
        for customer in CUSTOMERS:
            server.add_user(customer, username=customer.removeprefix("user_"))
        server.add_api_key("key_bot", user_id=BOT)
        yield server


@pytest.fixture
async def client(fake: FakeWhop) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(
        api_key="key_bot", base_url=fake.base_url, retry=RetryPolicy.disabled()
    ) as c:
        yield c


async def take(iterator: AsyncIterator[T], count: int, *, timeout: float = 20) -> list[T]:
    """The first ``count`` items; the iterator is closed after."""
    got: list[T] = []

    async def collect() -> None:
        async for item in iterator:
            got.append(item)
            if len(got) == count:
                return

    try:
        await asyncio.wait_for(collect(), timeout)
    finally:
        await iterator.aclose()  # type: ignore[attr-defined]
    return got


async def until(condition: Callable[[], bool]) -> None:
    """Wait (a bounded number of short sleeps) until ``condition()`` holds."""
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(FAST)
    raise AssertionError("the condition never held")


def message_gets(fake: FakeWhop) -> int:
    return sum(1 for r in fake.requests if r.method == "GET" and r.api_path == "/messages")


async def test_messages_watch_yields_only_new_messages_oldest_first(
    fake: FakeWhop, client: AsyncClient
) -> None:
    channel = (await client.dm_channels.create(with_user_ids=["user_ann"])).id
    fake.send_message_as("user_ann", channel, "old")
    watch = client.messages.watch(channel_id=channel, interval=FAST)

    async def customer() -> None:
        # Let the first poll see where the channel stands, then write.
        await until(lambda: message_gets(fake) >= 1)
        for n in range(3):
            fake.send_message_as("user_ann", channel, f"new {n}")

    writer = asyncio.create_task(customer())
    got = await take(watch, 3)
    await writer
    assert [m.content for m in got] == ["new 0", "new 1", "new 2"]
    assert all(isinstance(m, Message) for m in got)


async def test_messages_watch_follows_the_after_cursor_past_one_page(
    fake: FakeWhop, client: AsyncClient
) -> None:
    channel = (await client.dm_channels.create(with_user_ids=["user_ben"])).id
    watch = client.messages.watch(channel_id=channel, interval=0.3, page_size=5)

    async def burst() -> None:
        await until(lambda: message_gets(fake) >= 1)
        for n in range(23):
            fake.send_message_as("user_ben", channel, f"m{n:02d}")

    writer = asyncio.create_task(burst())
    got = await take(watch, 23)
    await writer
    assert [m.content for m in got] == [f"m{n:02d}" for n in range(23)]
    cursors = [r.query.get("after") for r in fake.requests if r.api_path == "/messages"]
    assert any(cursors), "no page after the first was asked for"


async def test_messages_watch_since_yields_earlier_messages_too(
    fake: FakeWhop, client: AsyncClient
) -> None:
    channel = (await client.dm_channels.create(with_user_ids=["user_cat"])).id
    start = datetime.now(timezone.utc) - timedelta(seconds=5)
    fake.send_message_as("user_cat", channel, "before the watch")
    got = await take(client.messages.watch(channel_id=channel, interval=FAST, since=start), 1)
    assert got[0].content == "before the watch"


async def test_messages_watch_yields_each_message_once_across_polls(
    fake: FakeWhop, client: AsyncClient
) -> None:
    channel = (await client.dm_channels.create(with_user_ids=["user_ann"])).id
    watch = client.messages.watch(channel_id=channel, interval=FAST)

    async def slow_writer() -> None:
        await until(lambda: message_gets(fake) >= 1)
        for n in range(6):
            fake.send_message_as("user_ann", channel, f"m{n}")
            await asyncio.sleep(0.03)

    writer = asyncio.create_task(slow_writer())
    got = await take(watch, 6)
    await writer
    assert [m.content for m in got] == [f"m{n}" for n in range(6)]
    assert len({m.id for m in got}) == 6


async def test_a_transient_failure_does_not_end_the_watch(
    fake: FakeWhop, client: AsyncClient
) -> None:
    channel = (await client.dm_channels.create(with_user_ids=["user_ann"])).id
    watch = client.messages.watch(channel_id=channel, interval=FAST)

    async def flaky() -> None:
        await until(lambda: message_gets(fake) >= 1)
        fake.fail_next(2, status=503, path="/messages", method="GET")
        fake.send_message_as("user_ann", channel, "after the outage")

    writer = asyncio.create_task(flaky())
    got = await take(watch, 1)
    await writer
    assert got[0].content == "after the outage"
    statuses = [r for r in fake.requests if r.api_path == "/messages"]
    assert len(statuses) >= 4


async def test_dm_channels_watch_reads_new_channels_and_moved_ones_only(
    fake: FakeWhop, client: AsyncClient
) -> None:
    quiet = (await client.dm_channels.create(with_user_ids=["user_ann"])).id
    busy = (await client.dm_channels.create(with_user_ids=["user_ben"])).id
    fake.send_message_as("user_ann", quiet, "old, never yielded")
    fake.send_message_as("user_ben", busy, "old too")
    watch = client.dm_channels.watch(interval=FAST)

    async def customers() -> None:
        await until(lambda: any(r.api_path == "/dm_channels" for r in fake.requests))
        await asyncio.sleep(0.05)
        fake.send_message_as("user_ben", busy, "ben again")
        # A customer's first DM opens a channel the watch has not seen.
        fresh = await client.dm_channels.create(with_user_ids=["user_cat"])
        fake.send_message_as("user_cat", fresh.id, "cat's first")

    writer = asyncio.create_task(customers())
    got = await take(watch, 2)
    await writer
    assert all(isinstance(item, ChannelMessage) for item in got)
    assert sorted((item.message.content, item.message.user.id) for item in got) == [
        ("ben again", "user_ben"),
        ("cat's first", "user_cat"),
    ]
    by_content = {item.message.content: item.channel_id for item in got}
    assert by_content["ben again"] == busy
    read = {r.query["channel_id"] for r in fake.requests if r.api_path == "/messages"}
    assert quiet not in read


async def test_dm_channels_watch_since_yields_what_came_before(
    fake: FakeWhop, client: AsyncClient
) -> None:
    channel = (await client.dm_channels.create(with_user_ids=["user_ann"])).id
    fake.send_message_as("user_ann", channel, "earlier")
    since = datetime.now(timezone.utc) - timedelta(minutes=1)
    got = await take(client.dm_channels.watch(interval=FAST, since=since), 1)
    assert got[0].message.content == "earlier"
    assert got[0].channel.id == channel


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"interval": 0}, ValueError),
        ({"interval": "5"}, TypeError),
        ({"since": datetime(2026, 1, 1)}, ValueError),
        ({"since": "yesterday"}, TypeError),
        ({"page_size": 0}, ValueError),
    ],
)
async def test_bad_watch_arguments_fail_at_call_time(
    client: AsyncClient, kwargs: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        client.messages.watch(channel_id="feed_1", **kwargs)
    with pytest.raises(error):
        client.dm_channels.watch(**kwargs)


async def test_watch_needs_a_channel_id(client: AsyncClient) -> None:
    with pytest.raises(ValueError, match="channel_id"):
        client.messages.watch(channel_id="")


def test_the_sync_client_watches_as_a_blocking_iterator() -> None:
    from whop_dm import Client

    with FakeWhop.in_thread() as fake:
        fake.add_user(BOT, username="bot")
        fake.add_user("user_ann", username="ann")
        fake.add_api_key("key_bot", user_id=BOT)
        with Client("key_bot", base_url=fake.base_url) as client:
            channel = client.dm_channels.create(with_user_ids=["user_ann"]).id
            since = datetime.now(timezone.utc) - timedelta(minutes=1)
            fake.send_message_as("user_ann", channel, "one")
            fake.send_message_as("user_ann", channel, "two")
            got = []
            for message in client.messages.watch(channel_id=channel, interval=FAST, since=since):
                got.append(message.content)
                if len(got) == 2:
                    break
            assert got == ["one", "two"]
            news = client.dm_channels.watch(interval=FAST, since=since)
            first = next(news)
            news.close()  # stops polling; closes the async iterator on the loop
            assert first.channel_id == channel
            assert first.message.content == "one"
