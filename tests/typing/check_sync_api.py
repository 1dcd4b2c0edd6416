"""Type-checked only (``mypy``, the ``typecheck`` nox session), never run.

It pins the public API's types as a user sees them: the blocking methods of
``Client`` must have the signatures of ``AsyncClient``'s, with the awaitable
unwrapped and pagers made blocking. A ``# type: ignore[code]`` marks a line
that must be an error: with ``warn_unused_ignores`` (on under ``strict``), the
check fails if the error ever goes away.
"""

from __future__ import annotations

import aiohttp
from typing_extensions import assert_type

import whop_dm
from whop_dm import BulkAddResult


def blocking_client(client: whop_dm.Client) -> None:
    channel = client.dm_channels.create(with_user_ids=["user_b"], custom_name="Launch")
    assert_type(channel, whop_dm.DmChannel)
    assert_type(client.dm_channels.retrieve(channel.id), whop_dm.DmChannel)
    assert_type(client.dm_channels.update(channel.id, custom_name=None), whop_dm.DmChannel)
    assert_type(client.dm_channels.delete(channel.id), bool)

    member = client.dm_members.create(channel_id=channel.id, user_id="user_c")
    assert_type(member, whop_dm.DmMember)
    assert_type(client.dm_members.update(member.id, status="left"), whop_dm.DmMember)
    result = client.dm_members.bulk_create(
        [(channel.id, "user_d")], concurrency=4, on_progress=lambda progress: None
    )
    assert_type(result, BulkAddResult)
    assert_type(client.dm_members.add_many(channel.id, ["user_e"]), BulkAddResult)

    message = client.messages.create(channel_id=channel.id, content="hi")
    assert_type(message, whop_dm.Message)
    assert_type(client.messages.update(message.id, is_pinned=True), whop_dm.Message)

    pager = client.dm_channels.list(page_size=10)
    assert_type(pager, whop_dm.SyncPager[whop_dm.DmChannel])
    for record in pager:
        assert_type(record, whop_dm.DmChannel)
    assert_type(pager.first_page(), whop_dm.Page[whop_dm.DmChannel])
    for page in pager.pages():
        assert_type(page.data, list[whop_dm.DmChannel])
    assert_type(client.dm_members.list(channel_id=channel.id), whop_dm.SyncPager[whop_dm.DmMember])
    messages = client.messages.list(channel_id=channel.id, direction="desc")
    assert_type(messages, whop_dm.SyncPager[whop_dm.Message])
    backwards = client.messages.list(channel_id=channel.id, before="c", last=5)
    assert_type(backwards.backwards, bool)
    assert_type(backwards.first_page().previous_cursor, str | None)
    poll = client.messages.create(
        channel_id=channel.id, content="?", poll=["a", "b"], attachments=["file_1"]
    )
    reaction = client.reactions.create(resource_id=poll.id, poll_option_id="1")
    assert_type(reaction, whop_dm.Reaction)
    assert_type(client.reactions.retrieve(reaction.id), whop_dm.Reaction)
    assert_type(client.reactions.delete(poll.id, emoji=":heart:"), bool)
    assert_type(client.reactions.list(resource_id=poll.id), whop_dm.SyncPager[whop_dm.Reaction])
    client.dm_channels.create(with_user_ids=["u"], account_id="biz_1", notifications_enabled=True)
    client.reactions.create(resource_id=poll.id, emoji=1)  # type: ignore[arg-type]

    # Wrong keywords, wrong types, missing arguments and unknown names are errors.
    client.dm_members.create(channel=channel.id, user_id="u")  # type: ignore[call-arg]
    client.dm_members.create(channel_id=1, user_id="u")  # type: ignore[arg-type]
    client.dm_channels.create()  # type: ignore[call-arg]
    client.dm_channels.create(["user_b"])  # type: ignore[call-arg]
    client.messages.list(channel_id=channel.id, direction="sideways")  # type: ignore[arg-type]
    client.dm_members.craete(channel_id=channel.id, user_id="u")  # type: ignore[attr-defined]
    client.channels  # type: ignore[attr-defined]  # noqa: B018
    whop_dm.Client(session=None)  # type: ignore[call-arg]

    # Nothing to await: the results are values, not coroutines.
    assert_type(client.close(), None)


def client_construction() -> None:
    with whop_dm.Client(
        "key",
        base_url="http://127.0.0.1:8080/api/v1",
        timeout=5.0,
        retry=whop_dm.RetryPolicy.disabled(),
        max_connections=10,
        headers={"X-Team": "growth"},
        api_version="2025-01-01",
        rate_limit=10.0,
        on_retry=lambda event: None,
        allow_http=False,
        rate_limits=whop_dm.RateLimits(per_operation=600, overrides={"POST /messages": 300}),
    ) as client:
        assert_type(client, whop_dm.Client)
        assert_type(client.base_url, str)
        assert_type(client.is_closed, bool)
        assert_type(client.rate_limit_held(), dict[str, float])
    whop_dm.Client(rate_limits=600)  # type: ignore[arg-type]
    whop_dm.Client(max_connections="10")  # type: ignore[arg-type]
    whop_dm.Client(timeout="5")  # type: ignore[arg-type]
    whop_dm.Client("key", "http://127.0.0.1/api/v1")  # type: ignore[call-arg]


async def async_client_construction(session: aiohttp.ClientSession) -> None:
    # The options come from ClientConfig (whop_dm/_config.py), as for Client.
    async with whop_dm.AsyncClient("key", timeout=whop_dm.Timeout(total=5.0), session=session) as c:
        assert_type(c, whop_dm.AsyncClient)
    whop_dm.AsyncClient(retry=3)  # type: ignore[arg-type]
    whop_dm.AsyncClient(sesion=session)  # type: ignore[call-arg]


async def async_client(client: whop_dm.AsyncClient) -> None:
    channel = await client.dm_channels.create(with_user_ids=["user_b"])
    assert_type(channel, whop_dm.DmChannel)
    member = await client.dm_members.create(channel_id=channel.id, user_id="user_c")
    assert_type(member, whop_dm.DmMember)
    pager = client.dm_channels.list()
    assert_type(pager, whop_dm.AsyncPager[whop_dm.DmChannel])
    async for record in pager:
        assert_type(record, whop_dm.DmChannel)
    await client.dm_members.create(channel=channel.id, user_id="u")  # type: ignore[call-arg]


async def watching(client: whop_dm.AsyncClient, blocking: whop_dm.Client) -> None:
    async for message in client.messages.watch(channel_id="feed_1", interval=1.0):
        assert_type(message, whop_dm.Message)
    async for new in client.dm_channels.watch(account_id="biz_1"):
        assert_type(new, whop_dm.ChannelMessage)
    for found in blocking.messages.watch(channel_id="feed_1"):
        assert_type(found, whop_dm.Message)
    for item in blocking.dm_channels.watch(interval=2.0):
        assert_type(item, whop_dm.ChannelMessage)
    blocking.messages.watch(channel="feed_1")  # type: ignore[call-arg]
