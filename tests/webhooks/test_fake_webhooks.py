"""FakeWhop sends webhooks: signed like Whop, retried like Whop, faulted on demand."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from whop_sdk.lib.verify_webhook import unwrap

from whop_dm import AsyncClient, Reaction, webhooks
from whop_dm.testing import FakeWhop, WebhookDelivery, sign_webhook

BOT, CUSTOMER = "user_bot", "user_cust"


class Endpoint:
    """A loopback endpoint that records what it gets and answers as scripted."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, dict[str, str]]] = []
        self.statuses: list[int] = []  # answers to give first, then 200
        self.stall = 0  # requests to leave unanswered past the sender's timeout
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.received.append((body, dict(request.headers)))
        if self.stall:
            self.stall -= 1
            await asyncio.sleep(5)
        status = self.statuses.pop(0) if self.statuses else 200
        return web.Response(status=status)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/hook"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def fake() -> AsyncIterator[FakeWhop]:
    async with FakeWhop(seed=3) as server:
        server.add_user(BOT, username="bot")
        server.add_user(CUSTOMER, username="cust", name="Cus Tomer")
        server.add_api_key("key_bot", user_id=BOT)
        yield server


@pytest.fixture
async def endpoint() -> AsyncIterator[Endpoint]:
    server = Endpoint()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def client(fake: FakeWhop) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(api_key="key_bot", base_url=fake.base_url) as c:
        yield c


async def channel_with_customer(client: AsyncClient) -> str:
    return (await client.dm_channels.create(with_user_ids=[CUSTOMER])).id


async def test_a_message_sent_through_the_api_is_delivered_signed(
    fake: FakeWhop, endpoint: Endpoint, client: AsyncClient
) -> None:
    secret = fake.add_webhook(endpoint.url)
    assert secret.startswith("ws_")
    channel_id = await channel_with_customer(client)
    message = await client.messages.create(channel_id=channel_id, content="hello")
    await fake.wait_for_webhooks(10)
    [(body, headers)] = endpoint.received
    event = webhooks.verify(body, headers, secret)
    assert isinstance(event, webhooks.ChatMessageCreated)
    assert event.message.id == message.id
    assert event.channel.id == channel_id
    assert event.is_direct_message
    assert event.audience is not None
    assert set(event.audience.user_ids or ()) == {BOT, CUSTOMER}
    assert event.company_id is None
    assert headers["Content-Type"] == "application/json"


async def test_what_the_fake_sends_passes_the_official_sdk_unwrap(
    fake: FakeWhop, endpoint: Endpoint, client: AsyncClient
) -> None:
    secret = fake.add_webhook(endpoint.url)
    channel_id = await channel_with_customer(client)
    fake.send_message_as(CUSTOMER, channel_id, "from the customer")
    await fake.wait_for_webhooks(10)
    [(body, headers)] = endpoint.received
    event = unwrap(body, headers=headers, key=secret)
    assert event["type"] == "chat.message.created"
    assert event["data"]["message"]["content"] == "from the customer"
    assert event["data"]["message"]["user"]["id"] == CUSTOMER


async def test_send_message_as_stores_the_message_and_returns_it(
    fake: FakeWhop, client: AsyncClient
) -> None:
    channel_id = await channel_with_customer(client)
    sent = fake.send_message_as(CUSTOMER, channel_id, "where is my order?")
    assert sent["user"]["id"] == CUSTOMER
    listed = [m async for m in client.messages.list(channel_id=channel_id)]
    assert [m.id for m in listed] == [sent["id"]]


@pytest.mark.parametrize(
    ("user", "content"), [("user_nobody", "hi"), (CUSTOMER, "   "), ("user_stranger", "hi")]
)
async def test_send_message_as_refuses_what_the_api_would(
    fake: FakeWhop, client: AsyncClient, user: str, content: str
) -> None:
    fake.add_user("user_stranger", username="stranger")
    channel_id = await channel_with_customer(client)
    with pytest.raises(ValueError, match=user if user == "user_nobody" else "cannot post"):
        fake.send_message_as(user, channel_id, content)


async def test_a_pinned_webhook_gets_account_id_and_the_version_date(
    fake: FakeWhop, endpoint: Endpoint, client: AsyncClient
) -> None:
    secret = fake.add_webhook(endpoint.url, api_version_date="2026-08-14")
    channel = await client.dm_channels.create(with_user_ids=[CUSTOMER], company_id="biz_shop")
    fake.send_message_as(CUSTOMER, channel.id, "hi")
    await fake.wait_for_webhooks(10)
    body, headers = endpoint.received[0]
    raw = json.loads(body)
    assert raw["account_id"] == "biz_shop"
    assert "company_id" not in raw
    event = webhooks.verify(body, headers, secret)
    assert event.account_id == "biz_shop"
    assert event.api_version_date == "2026-08-14"


async def test_every_endpoint_gets_its_own_id_and_only_the_events_it_wants(
    fake: FakeWhop, client: AsyncClient
) -> None:
    one, two, none = Endpoint(), Endpoint(), Endpoint()
    for server in (one, two, none):
        await server.start()
    try:
        fake.add_webhook(one.url)
        fake.add_webhook(two.url, events=["chat.message.created"])
        fake.add_webhook(none.url, events=["chat.reaction.created"])
        channel_id = await channel_with_customer(client)
        fake.send_message_as(CUSTOMER, channel_id, "hi")
        await fake.wait_for_webhooks(10)
        assert len(one.received) == len(two.received) == 1
        assert none.received == []
        assert one.received[0][1]["webhook-id"] != two.received[0][1]["webhook-id"]
    finally:
        for server in (one, two, none):
            await server.close()


async def test_a_failed_attempt_is_retried_with_the_same_id_and_a_fresh_signature(
    fake: FakeWhop, endpoint: Endpoint, client: AsyncClient
) -> None:
    secret = fake.add_webhook(endpoint.url, retry_schedule=[0.01, 0.01, 0.01])
    endpoint.statuses = [500, 302]
    channel_id = await channel_with_customer(client)
    fake.send_message_as(CUSTOMER, channel_id, "hi")
    await fake.wait_for_webhooks(10)
    attempts = fake.webhook_deliveries
    assert [(d.attempt, d.status) for d in attempts] == [(1, 500), (2, 302), (3, 200)]
    assert len({d.webhook_id for d in attempts}) == 1
    assert not attempts[0].ok
    assert attempts[-1].ok
    for body, headers in endpoint.received:
        assert webhooks.verify(body, headers, secret).webhook_id == attempts[0].webhook_id


async def test_no_answer_within_the_timeout_is_a_failed_attempt(
    fake: FakeWhop, endpoint: Endpoint, client: AsyncClient
) -> None:
    fake.add_webhook(endpoint.url, retry_schedule=[0.01], timeout=0.2)
    endpoint.stall = 1
    channel_id = await channel_with_customer(client)
    fake.send_message_as(CUSTOMER, channel_id, "hi")
    await fake.wait_for_webhooks(10)
    first, second = fake.webhook_deliveries
    assert first.status is None
    assert first.error is not None
    assert "0.2" in first.error
    assert second.ok


async def test_delivery_is_given_up_after_the_last_retry(
    fake: FakeWhop, endpoint: Endpoint, client: AsyncClient
) -> None:
    fake.add_webhook(endpoint.url, retry_schedule=[0.0, 0.0])
    endpoint.statuses = [503] * 10
    channel_id = await channel_with_customer(client)
    fake.send_message_as(CUSTOMER, channel_id, "hi")
    await fake.wait_for_webhooks(10)
    assert [d.status for d in fake.webhook_deliveries] == [503, 503, 503]
    assert fake.webhooks_pending == 0


async def test_an_unreachable_endpoint_is_a_failed_attempt(
    fake: FakeWhop, client: AsyncClient
) -> None:
    gone = Endpoint()
    await gone.start()
    url = gone.url
    await gone.close()
    fake.add_webhook(url, retry_schedule=[])
    fake.send_message_as(CUSTOMER, await channel_with_customer(client), "hi")
    await fake.wait_for_webhooks(10)
    [attempt] = fake.webhook_deliveries
    assert attempt.status is None
    assert attempt.error


async def test_a_bad_signature_is_refused_by_a_receiver_and_the_retry_is_handled(
    fake: FakeWhop, client: AsyncClient
) -> None:
    receiver = webhooks.WebhookReceiver("ws_right")
    seen: list[str] = []

    @receiver.on("chat.message.created")
    async def record(event: webhooks.ChatMessageCreated) -> None:
        seen.append(event.webhook_id)

    runner = web.AppRunner(receiver.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/webhooks/whop"
        fake.add_webhook(url, secret="ws_right", retry_schedule=[0.01, 0.01])
        fake.bad_signature_next(1)
        fake.send_message_as(CUSTOMER, await channel_with_customer(client), "hi")
        await fake.wait_for_webhooks(10)
        first, second = fake.webhook_deliveries
        assert (first.bad_signature, first.status) == (True, 401)
        assert (second.bad_signature, second.status) == (False, 200)
        await receiver.drain(5)
        assert seen == [first.webhook_id]
    finally:
        await runner.cleanup()


async def test_the_duplicate_fault_delivers_an_event_twice_with_one_id(
    fake: FakeWhop, endpoint: Endpoint, client: AsyncClient
) -> None:
    fake.add_webhook(endpoint.url)
    fake.webhook_faults(duplicate=1.0)
    fake.send_message_as(CUSTOMER, await channel_with_customer(client), "hi")
    await fake.wait_for_webhooks(10)
    ids = [headers["webhook-id"] for _, headers in endpoint.received]
    assert len(ids) == 2
    assert len(set(ids)) == 1
    assert sorted(d.duplicate for d in fake.webhook_deliveries) == [False, True]


async def test_the_reorder_fault_lets_later_events_overtake(
    fake: FakeWhop, endpoint: Endpoint, client: AsyncClient
) -> None:
    fake.add_webhook(endpoint.url)
    fake.webhook_faults(reorder=0.5, reorder_window=0.3)
    channel_id = await channel_with_customer(client)
    sent = [fake.send_message_as(CUSTOMER, channel_id, f"m{n}")["id"] for n in range(20)]
    await fake.wait_for_webhooks(10)
    arrived = [json.loads(body)["data"]["message"]["id"] for body, _ in endpoint.received]
    assert sorted(arrived) == sorted(sent)
    assert arrived != sent


async def test_the_delay_fault_holds_every_delivery(
    fake: FakeWhop, endpoint: Endpoint, client: AsyncClient
) -> None:
    fake.add_webhook(endpoint.url)
    fake.webhook_faults(delay=0.3)
    fake.send_message_as(CUSTOMER, await channel_with_customer(client), "hi")
    await asyncio.sleep(0.05)
    assert fake.webhooks_pending == 1
    assert endpoint.received == []
    await fake.wait_for_webhooks(10)
    assert len(endpoint.received) == 1


@pytest.mark.parametrize(
    "url",
    [
        "https://example.invalid/hook",
        "ftp://127.0.0.1/hook",
        "/relative",
        "http://10.0.0.1.invalid/",
    ],
)
async def test_only_loopback_http_urls_are_accepted(fake: FakeWhop, url: str) -> None:
    with pytest.raises(ValueError, match=r"URL|loopback"):
        fake.add_webhook(url)


@pytest.mark.parametrize(
    "url", ["http://localhost:9/h", "http://[::1]:9/h", "http://127.0.0.2:9/h"]
)
async def test_loopback_names_are_accepted(fake: FakeWhop, url: str) -> None:
    assert fake.add_webhook(url, secret="ws_given") == "ws_given"


async def test_webhooks_work_with_the_fake_in_its_own_thread() -> None:
    endpoint = Endpoint()
    await endpoint.start()
    try:
        with FakeWhop.in_thread() as fake:
            fake.add_user(BOT, username="bot")
            fake.add_user(CUSTOMER, username="cust")
            fake.add_api_key("key_bot", user_id=BOT)
            secret = fake.add_webhook(endpoint.url)
            async with AsyncClient(api_key="key_bot", base_url=fake.base_url) as client:
                channel_id = await channel_with_customer(client)

            def customer_writes() -> None:
                fake.send_message_as(CUSTOMER, channel_id, "from a thread")

            thread = threading.Thread(target=customer_writes)
            thread.start()
            thread.join()
            await fake.wait_for_webhooks(10)
        [(body, headers)] = endpoint.received
        assert webhooks.verify(body, headers, secret).type == "chat.message.created"
    finally:
        await endpoint.close()


def test_sign_webhook_makes_headers_that_verify() -> None:
    body = b'{"id": "e", "type": "x.y", "data": {}}'
    headers = sign_webhook(body, "ws_s", webhook_id="e")
    assert webhooks.verify(body, headers, "ws_s").type == "x.y"
    assert unwrap(body, headers=headers, key="ws_s")["id"] == "e"


def test_a_delivery_record_reads_its_body() -> None:
    record = WebhookDelivery("w", "t", "u", 1, 204, None, False, False, b'{"a": 1}', {}, 0.0)
    assert record.ok
    assert record.json == {"a": 1}
    failed: Any = WebhookDelivery("w", "t", "u", 1, None, "x", False, False, b"{}", {}, 0.0)
    assert not failed.ok


async def test_a_reaction_is_delivered_as_a_typed_reaction_event(
    fake: FakeWhop, endpoint: Endpoint, client: AsyncClient
) -> None:
    secret = fake.add_webhook(endpoint.url, events=["chat.reaction.created"])
    channel_id = await channel_with_customer(client)
    sent = fake.send_message_as(CUSTOMER, channel_id, "thanks!")
    await client.reactions.create(resource_id=sent["id"], emoji=":heart:")
    await fake.wait_for_webhooks(10)
    [(body, headers)] = endpoint.received
    event = webhooks.verify(body, headers, secret)
    assert isinstance(event, webhooks.ChatReactionCreated)
    assert isinstance(event.reaction, Reaction)
    assert event.reaction.emoji == ":heart:"
    assert event.reaction.resource_id == sent["id"]
    assert event.reaction.user.id == BOT
    assert event.message is not None
    assert event.message.content == "thanks!"
    assert event.channel.id == channel_id
    assert unwrap(body, headers=headers, key=secret)["type"] == "chat.reaction.created"
