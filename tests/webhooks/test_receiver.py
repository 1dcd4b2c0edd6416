"""``WebhookReceiver`` over real HTTP: answers, dispatch, dedup, errors, shutdown."""

from __future__ import annotations

import asyncio
import io
import logging
import time

import aiohttp
import pytest

from whop_dm.webhooks import (
    ChatMessageCreated,
    ChatReactionCreated,
    MemoryDedupStore,
    UnknownEvent,
    WebhookEvent,
    WebhookReceiver,
)

from ._payloads import (
    MESSAGE_CREATED,
    OTHER_SECRET,
    REACTION_CREATED,
    SECRET,
    body_of,
    payload,
    sign,
)
from .conftest import Serve

BODY = body_of(MESSAGE_CREATED)


async def post(
    http: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str]
) -> tuple[int, str]:
    async with http.post(url, data=body, headers=headers) as response:
        return response.status, await response.text()


def recording(receiver: WebhookReceiver, event_type: str = "*") -> list[WebhookEvent]:
    seen: list[WebhookEvent] = []

    @receiver.on(event_type)
    async def record(event: WebhookEvent) -> None:
        seen.append(event)

    return seen


async def settle(receiver: WebhookReceiver) -> None:
    for _ in range(200):
        if not receiver.pending:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("handlers did not finish")


async def test_a_verified_delivery_is_answered_200_and_handled(
    serve: Serve, http: aiohttp.ClientSession
) -> None:
    receiver = WebhookReceiver(SECRET)
    typed: list[ChatMessageCreated] = []
    direct: list[ChatMessageCreated] = []

    @receiver.on("chat.message.created")
    async def on_message(event: ChatMessageCreated) -> None:
        typed.append(event)

    @receiver.on_direct_message
    async def on_dm(event: ChatMessageCreated) -> None:
        direct.append(event)

    url = await serve(receiver)
    assert (await post(http, url, BODY, sign(BODY)))[0] == 200
    await settle(receiver)
    assert [e.message.id for e in typed] == ["msg_7Hs2Kd9Qw3Lm"]
    assert direct == typed
    assert receiver.accepted == 1


async def test_a_reaction_goes_to_its_handlers_and_not_to_message_ones(
    serve: Serve, http: aiohttp.ClientSession
) -> None:
    receiver = WebhookReceiver(SECRET)
    reactions = recording(receiver, "chat.reaction.created")
    messages = recording(receiver, "chat.message.created")
    url = await serve(receiver)
    body = body_of(REACTION_CREATED)
    assert (await post(http, url, body, sign(body, webhook_id="wh_r")))[0] == 200
    await settle(receiver)
    assert len(reactions) == 1
    assert isinstance(reactions[0], ChatReactionCreated)
    assert messages == []


@pytest.mark.parametrize(
    ("spoil", "status"),
    [
        ("tampered", 401),
        ("wrong_secret", 401),
        ("missing_header", 401),
        ("malformed_signature", 401),
        ("stale", 401),
        ("future", 401),
        ("replay_new_timestamp", 401),
        ("not_json", 400),
    ],
)
async def test_a_bad_delivery_gets_a_4xx_and_reaches_no_handler(
    serve: Serve, http: aiohttp.ClientSession, spoil: str, status: int
) -> None:
    receiver = WebhookReceiver(SECRET)
    seen = recording(receiver)
    url = await serve(receiver)
    body, headers = BODY, sign(BODY)
    if spoil == "tampered":
        body = BODY.replace(b"shipped", b"SHIPPED")
    elif spoil == "wrong_secret":
        headers = sign(BODY, OTHER_SECRET)
    elif spoil == "missing_header":
        del headers["webhook-signature"]
    elif spoil == "malformed_signature":
        headers["webhook-signature"] = "v1,not base64!"
    elif spoil == "stale":
        headers = sign(BODY, timestamp=time.time() - 600)
    elif spoil == "future":
        headers = sign(BODY, timestamp=time.time() + 600)
    elif spoil == "replay_new_timestamp":
        headers = {**sign(BODY, timestamp=time.time() - 900)}
        headers["webhook-timestamp"] = str(int(time.time()))
    elif spoil == "not_json":
        body = b"<html>"
        import base64
        import hashlib
        import hmac

        stamp = str(int(time.time()))
        mac = hmac.new(SECRET.encode(), f"w.{stamp}.".encode() + body, hashlib.sha256)
        headers = {
            "webhook-id": "w",
            "webhook-timestamp": stamp,
            "webhook-signature": "v1," + base64.b64encode(mac.digest()).decode(),
        }
    answer, text = await post(http, url, body, headers)
    assert answer == status
    assert SECRET not in text
    await settle(receiver)
    assert seen == []
    assert receiver.rejected == 1


async def test_a_ten_megabyte_body_is_413_and_reaches_no_handler(
    serve: Serve, http: aiohttp.ClientSession
) -> None:
    receiver = WebhookReceiver(SECRET)
    seen = recording(receiver)
    url = await serve(receiver)
    big = b'{"pad": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    async with http.post(url, data=io.BytesIO(big), headers=sign(big)) as response:
        assert response.status == 413
    assert seen == []


async def test_a_body_over_the_cap_without_a_length_is_413(
    serve: Serve, http: aiohttp.ClientSession
) -> None:
    receiver = WebhookReceiver(SECRET, max_body_size=1000)
    seen = recording(receiver)
    url = await serve(receiver)

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(10):
            yield b"x" * 500

    async with http.post(url, data=chunks(), headers=sign(BODY)) as response:
        assert response.status == 413
    assert seen == []


async def test_only_post_is_served(serve: Serve, http: aiohttp.ClientSession) -> None:
    url = await serve(WebhookReceiver(SECRET))
    async with http.get(url) as response:
        assert response.status == 405


async def test_a_duplicate_delivery_is_answered_200_and_handled_once(
    serve: Serve, http: aiohttp.ClientSession
) -> None:
    receiver = WebhookReceiver(SECRET)
    seen = recording(receiver)
    url = await serve(receiver)
    for _ in range(3):
        # Each retry is signed afresh; the webhook-id stays.
        status, _text = await post(http, url, BODY, sign(BODY))
        assert status == 200
    await settle(receiver)
    assert len(seen) == 1
    assert receiver.duplicates == 2


async def test_a_handler_exception_is_logged_with_the_event_id_and_answered_200(
    serve: Serve, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    receiver = WebhookReceiver(SECRET)

    @receiver.on("chat.message.created")
    async def broken(event: ChatMessageCreated) -> None:
        raise RuntimeError("boom")

    later = recording(receiver)
    url = await serve(receiver)
    with caplog.at_level(logging.ERROR, logger="whop_dm.webhooks"):
        assert (await post(http, url, BODY, sign(BODY)))[0] == 200
        await settle(receiver)
    assert receiver.failed == 1
    assert len(later) == 1  # the other handlers still run
    logged = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(logged) == 1
    assert MESSAGE_CREATED["id"] in logged[0].getMessage()
    assert SECRET not in caplog.text


async def test_with_retry_on_error_a_failing_handler_gets_500_and_the_retry_is_handled(
    serve: Serve, http: aiohttp.ClientSession
) -> None:
    receiver = WebhookReceiver(SECRET, retry_on_error=True)
    calls: list[str] = []

    @receiver.on("chat.message.created")
    async def flaky(event: ChatMessageCreated) -> None:
        calls.append(event.webhook_id)
        if len(calls) == 1:
            raise RuntimeError("database down")

    url = await serve(receiver)
    assert (await post(http, url, BODY, sign(BODY)))[0] == 500
    assert (await post(http, url, BODY, sign(BODY)))[0] == 200
    assert (await post(http, url, BODY, sign(BODY)))[0] == 200  # now a duplicate
    assert len(calls) == 2
    assert receiver.duplicates == 1


async def test_handlers_run_at_most_max_concurrency_at_once(
    serve: Serve, http: aiohttp.ClientSession
) -> None:
    receiver = WebhookReceiver(SECRET, max_concurrency=3)
    running = 0
    peak = 0
    release = asyncio.Event()

    @receiver.on("*")
    async def slow(event: WebhookEvent) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await release.wait()
        running -= 1

    url = await serve(receiver)
    for n in range(10):
        body = body_of(payload(id=f"evt_{n}"))
        assert (await post(http, url, body, sign(body, webhook_id=f"wh_{n}")))[0] == 200
    for _ in range(500):  # bounded: until the handlers have started
        if peak == 3:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)  # and a little more, for a fourth that should not start
    assert peak == 3
    assert receiver.pending == 10
    release.set()
    await settle(receiver)
    assert peak == 3


async def test_over_max_pending_the_answer_is_503_and_the_retry_is_accepted(
    serve: Serve, http: aiohttp.ClientSession
) -> None:
    receiver = WebhookReceiver(SECRET, max_concurrency=1, max_pending=1)
    release = asyncio.Event()
    seen: list[str] = []

    @receiver.on("*")
    async def slow(event: WebhookEvent) -> None:
        await release.wait()
        seen.append(event.webhook_id)

    url = await serve(receiver)
    first, second = body_of(payload(id="a")), body_of(payload(id="b"))
    assert (await post(http, url, first, sign(first, webhook_id="wh_a")))[0] == 200
    assert (await post(http, url, second, sign(second, webhook_id="wh_b")))[0] == 503
    release.set()
    await settle(receiver)
    assert (await post(http, url, second, sign(second, webhook_id="wh_b")))[0] == 200
    await settle(receiver)
    assert seen == ["wh_a", "wh_b"]


async def test_shutdown_drains_running_handlers(serve: Serve, http: aiohttp.ClientSession) -> None:
    receiver = WebhookReceiver(SECRET)
    finished: list[str] = []
    started = asyncio.Event()

    @receiver.on("*")
    async def slow(event: WebhookEvent) -> None:
        started.set()
        await asyncio.sleep(0.2)
        finished.append(event.webhook_id)

    url = await serve(receiver)
    assert (await post(http, url, BODY, sign(BODY)))[0] == 200
    await started.wait()
    await receiver.drain(timeout=10)
    assert finished == [MESSAGE_CREATED["id"]]
    # Once draining, new deliveries are sent back to be retried elsewhere.
    other = body_of(payload(id="late"))
    assert (await post(http, url, other, sign(other, webhook_id="late")))[0] == 503


async def test_drain_cancels_handlers_past_its_timeout(
    serve: Serve, http: aiohttp.ClientSession
) -> None:
    receiver = WebhookReceiver(SECRET)
    cancelled = asyncio.Event()
    started = asyncio.Event()

    @receiver.on("*")
    async def stuck(event: WebhookEvent) -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    url = await serve(receiver)
    assert (await post(http, url, BODY, sign(BODY)))[0] == 200
    await started.wait()
    await receiver.drain(timeout=0.05)
    assert cancelled.is_set()
    assert receiver.pending == 0


async def test_unknown_types_go_to_catch_all_handlers_only(
    serve: Serve, http: aiohttp.ClientSession
) -> None:
    receiver = WebhookReceiver(SECRET)
    everything = recording(receiver, "*")
    typed = recording(receiver, "chat.message.created")
    url = await serve(receiver)
    unknown = body_of({"id": "e1", "type": "membership.went_valid", "data": {}})
    broken = body_of(payload(id="e2", data={"message": "?"}))
    assert (await post(http, url, unknown, sign(unknown, webhook_id="e1")))[0] == 200
    assert (await post(http, url, broken, sign(broken, webhook_id="e2")))[0] == 200
    await settle(receiver)
    assert [type(e) for e in everything] == [UnknownEvent, UnknownEvent]
    assert typed == []


async def test_the_dedup_store_is_shared_between_receivers(
    serve: Serve, http: aiohttp.ClientSession
) -> None:
    store = MemoryDedupStore()
    one, two = WebhookReceiver(SECRET, dedup=store), WebhookReceiver(SECRET, dedup=store)
    seen_one, seen_two = recording(one), recording(two)
    url_one, url_two = await serve(one), await serve(two)
    assert (await post(http, url_one, BODY, sign(BODY)))[0] == 200
    assert (await post(http, url_two, BODY, sign(BODY)))[0] == 200
    await settle(one)
    await settle(two)
    assert len(seen_one) + len(seen_two) == 1


def test_handlers_must_be_async() -> None:
    receiver = WebhookReceiver(SECRET)
    with pytest.raises(TypeError):
        receiver.on("*")(lambda event: None)  # type: ignore[arg-type,return-value]
    with pytest.raises(TypeError):
        receiver.on_direct_message(lambda event: None)  # type: ignore[arg-type,return-value]


@pytest.mark.parametrize(
    "kwargs",
    [{"max_body_size": 0}, {"max_concurrency": 0}, {"max_pending": -1}, {"tolerance": -5}],
)
def test_bad_settings_are_refused_at_construction(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        WebhookReceiver(SECRET, **kwargs)  # type: ignore[arg-type]


def test_the_secret_never_shows_in_the_repr() -> None:
    assert SECRET not in repr(WebhookReceiver(SECRET))


class BrokenStore:
    """A dedup store whose backend is down."""

    async def claim(self, key: str) -> bool:
        raise ConnectionError("store down")

    async def release(self, key: str) -> None:
        raise ConnectionError("store down")


async def test_an_unreachable_dedup_store_answers_503_and_handles_nothing(
    serve: Serve, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    receiver = WebhookReceiver(SECRET, dedup=BrokenStore())
    seen = recording(receiver)
    url = await serve(receiver)
    with caplog.at_level(logging.ERROR, logger="whop_dm.webhooks"):
        assert (await post(http, url, BODY, sign(BODY)))[0] == 503
    assert seen == []
    assert MESSAGE_CREATED["id"] in caplog.text


def test_a_dedup_store_without_claim_and_release_is_refused() -> None:
    with pytest.raises(TypeError, match="dedup"):
        WebhookReceiver(SECRET, dedup=object())  # type: ignore[arg-type]


async def test_the_memory_store_forgets_after_its_ttl_and_when_full() -> None:
    store = MemoryDedupStore(ttl=0.05, max_entries=2)
    assert await store.claim("a")
    assert not await store.claim("a")
    await asyncio.sleep(0.1)
    assert await store.claim("a")  # expired
    assert await store.claim("b")
    assert await store.claim("c")  # full: "a" goes
    assert len(store) == 2
    assert await store.claim("a")
    await store.release("a")
    assert await store.claim("a")
