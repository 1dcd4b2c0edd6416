"""FakeWhop sends chat.reaction.created when a reaction is left through the API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from whop_sdk.lib.verify_webhook import unwrap

from whop_dm import AsyncClient, webhooks
from whop_dm.testing import FakeWhop

from .test_fake_webhooks import BOT, CUSTOMER, Endpoint


@pytest.fixture
async def fake() -> AsyncIterator[FakeWhop]:
    async with FakeWhop(seed=4) as server:
        server.add_user(BOT, username="bot")
        server.add_user(CUSTOMER, username="cust", name="Cus Tomer")
        server.add_api_key("key_bot", user_id=BOT)
        server.add_api_key("key_cust", user_id=CUSTOMER)
        yield server


@pytest.fixture
async def endpoint() -> AsyncIterator[Endpoint]:
    server = Endpoint()
    await server.start()
    yield server
    await server.close()


async def test_a_new_reaction_is_delivered_as_chat_reaction_created(
    fake: FakeWhop, endpoint: Endpoint
) -> None:
    async with (
        AsyncClient(api_key="key_bot", base_url=fake.base_url) as bot,
        AsyncClient(api_key="key_cust", base_url=fake.base_url) as customer,
    ):
        channel = await bot.dm_channels.create(with_user_ids=[CUSTOMER])
        message = await bot.messages.create(channel_id=channel.id, content="Rate us?")
        secret = fake.add_webhook(endpoint.url, events=["chat.reaction.created"])
        reaction = await customer.reactions.create(resource_id=message.id, emoji=":star:")
        # The same reaction again is not a new one: no second event.
        await customer.reactions.create(resource_id=message.id, emoji=":star:")
        await fake.wait_for_webhooks(10)

    [(body, headers)] = endpoint.received
    event = webhooks.verify(body, headers, secret)
    assert isinstance(event, webhooks.ChatReactionCreated)
    assert event.reaction.id == reaction.id
    assert event.reaction.emoji == ":star:"
    assert event.reaction.user.id == CUSTOMER
    assert event.message is not None
    assert event.message.id == message.id
    assert event.channel.id == channel.id
    assert unwrap(body, headers=headers, key=secret)["type"] == "chat.reaction.created"
