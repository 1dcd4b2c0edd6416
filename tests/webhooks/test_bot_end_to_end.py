"""A DM bot on FakeWhop's webhooks, with duplicated and reordered deliveries."""

from __future__ import annotations

import asyncio
from collections import Counter

from aiohttp import web

from whop_dm import AsyncClient
from whop_dm.testing import FakeWhop
from whop_dm.webhooks import ChatMessageCreated, WebhookReceiver

BOT = "user_bot"
CUSTOMERS = [f"user_c{n:02d}" for n in range(50)]
PER_CUSTOMER = 10


async def test_500_customer_messages_are_each_handled_once_and_answered_in_their_channel() -> None:
    async with FakeWhop(seed=7) as fake:
        fake.add_user(BOT, username="bot")
        for customer in CUSTOMERS:
            fake.add_user(customer, username=customer.removeprefix("user_"))
        fake.add_api_key("key_bot", user_id=BOT)
        async with AsyncClient(api_key="key_bot", base_url=fake.base_url) as client:
            receiver = WebhookReceiver("ws_e2e_secret", max_concurrency=16)
            handled: Counter[str] = Counter()

            @receiver.on_direct_message
            async def echo(event: ChatMessageCreated) -> None:
                if event.message.user.id == BOT:
                    return  # the bot hears its own replies too
                handled[event.message.id] += 1
                await client.messages.create(
                    channel_id=event.channel.id,
                    content=f"echo {event.message.id}: {event.message.content}",
                    replying_to_message_id=event.message.id,
                )

            runner = web.AppRunner(receiver.app(), access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            try:
                url = f"http://127.0.0.1:{runner.addresses[0][1]}/webhooks/whop"
                fake.add_webhook(url, secret="ws_e2e_secret")
                fake.webhook_faults(duplicate=0.1, reorder=0.1, reorder_window=0.1)
                channels = {
                    customer: (await client.dm_channels.create(with_user_ids=[customer])).id
                    for customer in CUSTOMERS
                }
                sent: dict[str, tuple[str, str]] = {}  # message id -> (channel, customer)
                for round_ in range(PER_CUSTOMER):
                    for customer in CUSTOMERS:
                        message = fake.send_message_as(
                            customer, channels[customer], f"question {round_} from {customer}"
                        )
                        sent[message["id"]] = (channels[customer], customer)
                    await asyncio.sleep(0)
                # Replies make events of their own: wait until both sides are quiet.
                # A reply's event is queued before its POST is answered, and a
                # delivery is pending until its handler task exists, so a moment
                # with neither pending is the end.
                for _ in range(6000):
                    if not receiver.pending and not fake.webhooks_pending:
                        break
                    await asyncio.sleep(0.01)
                await receiver.drain(timeout=60)
            finally:
                await runner.cleanup()

        assert len(sent) == len(CUSTOMERS) * PER_CUSTOMER == 500
        assert handled == Counter(dict.fromkeys(sent, 1))
        deliveries = fake.webhook_deliveries
        assert any(d.duplicate for d in deliveries), "the duplicate fault never fired"
        assert receiver.duplicates > 0
        replies = [m for m in fake.messages if m.user_id == BOT]
        assert len(replies) == 500
        for reply in replies:
            assert reply.replying_to_message_id is not None
            channel_id, customer = sent[reply.replying_to_message_id]
            assert reply.channel_id == channel_id
            assert reply.content is not None
            assert reply.content.startswith(f"echo {reply.replying_to_message_id}: ")
            assert reply.content.endswith(f"from {customer}")
