"""Typed events: both envelopes, unknown types kept, lenient decoding."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from whop_dm import Message, MessageType
from whop_dm.webhooks import (
    AudienceType,
    ChannelType,
    ChatMessageCreated,
    ChatReactionCreated,
    UnknownEvent,
    parse_event,
)

from ._payloads import MESSAGE, MESSAGE_CREATED, REACTION_CREATED, payload


def test_a_message_event_of_a_newer_pin_reads_account_id() -> None:
    event = parse_event(MESSAGE_CREATED, webhook_id="wh_1")
    assert isinstance(event, ChatMessageCreated)
    assert event.webhook_id == "wh_1"
    assert event.id == "msg_9Yb2QwE4tT0pLs8mNc1Rz7Ua"
    assert event.account_id == event.company_id == "biz_k3Jd8sPq2LmN0a"
    assert event.api_version == "v1"
    assert event.api_version_date == "2026-08-14"
    assert event.timestamp == datetime(2026, 11, 2, 9, 15, 4, 118000, tzinfo=timezone.utc)


def test_a_message_event_carries_a_message_record_its_channel_and_audience() -> None:
    event = parse_event(MESSAGE_CREATED)
    assert isinstance(event, ChatMessageCreated)
    assert isinstance(event.message, Message)
    assert event.message.user.username == "dana"
    assert event.message.message_type is MessageType.REGULAR
    assert event.channel.id == event.channel_id == "feed_Xr4Tq9Wm2Pz7Ln"
    assert event.channel.type is ChannelType.DIRECT_MESSAGE
    assert event.is_direct_message
    assert event.audience is not None
    assert event.audience.type is AudienceType.USERS
    assert event.audience.user_ids == ("user_Bot000000001", "user_Cust00000042")
    assert event.reason == "channel_message"


def test_without_a_webhook_id_the_body_id_stands_in() -> None:
    assert parse_event(MESSAGE_CREATED).webhook_id == MESSAGE_CREATED["id"]


def test_a_reaction_event_of_an_unpinned_webhook_reads_company_id() -> None:
    event = parse_event(REACTION_CREATED)
    assert isinstance(event, ChatReactionCreated)
    assert event.account_id == "biz_k3Jd8sPq2LmN0a"
    assert event.api_version_date is None
    assert event.reaction.emoji == ":heart:"
    assert event.reaction.resource_id == "msg_7Hs2Kd9Qw3Lm"
    assert event.reaction.user.name is None
    assert event.message is not None
    assert event.message.id == "msg_7Hs2Kd9Qw3Lm"
    assert event.is_direct_message
    assert event.audience is not None
    assert event.audience.user_ids is None


def test_a_reaction_event_whose_message_is_a_placeholder_still_reads() -> None:
    data = {**REACTION_CREATED["data"], "message": {"...": "the Message"}}
    event = parse_event(payload(REACTION_CREATED, data=data))
    assert isinstance(event, ChatReactionCreated)
    assert event.message is None


def test_an_unknown_event_type_keeps_its_type_and_raw_data() -> None:
    raw = {"id": "evt_1", "type": "payment.succeeded", "data": {"amount": 5}, "company_id": "biz_1"}
    event = parse_event(raw, webhook_id="wh_9")
    assert isinstance(event, UnknownEvent)
    assert event.type == "payment.succeeded"
    assert event.data == {"amount": 5}
    assert event.error is None
    assert event.account_id == "biz_1"


def test_a_message_field_that_does_not_fit_is_none_and_raw_keeps_it() -> None:
    odd = {**MESSAGE, "is_pinned": "yes", "content": 42}
    event = parse_event(payload(data={**MESSAGE_CREATED["data"], "message": odd}))
    assert isinstance(event, ChatMessageCreated)
    assert event.message.id == MESSAGE["id"]
    assert event.message.is_pinned is None
    assert event.message.content is None
    assert event.message.raw == odd


@pytest.mark.parametrize("part", ["message", "channel"])
def test_a_known_type_whose_part_is_not_an_object_is_an_unknown_event(part: str) -> None:
    broken = payload(data={**MESSAGE_CREATED["data"], part: "?"})
    event = parse_event(broken)
    assert isinstance(event, UnknownEvent)
    assert event.type == "chat.message.created"
    assert event.error
    assert event.data[part] == "?"


@pytest.mark.parametrize("data", [None, [], "x"])
def test_a_known_type_without_a_data_object_is_an_unknown_event(data: object) -> None:
    event = parse_event(payload(data=data))
    assert isinstance(event, UnknownEvent)
    assert event.error


def test_unknown_enum_values_and_fields_are_kept_or_ignored() -> None:
    data = {
        **MESSAGE_CREATED["data"],
        "channel": {"id": "feed_1", "type": "group_dm", "new_field": 1},
        "audience": {"type": "everyone"},
        "message": {**MESSAGE, "message_type": "bot", "brand_new": True},
        "extra": [1, 2],
    }
    event = parse_event(payload(data=data, surprise={"x": 1}))
    assert isinstance(event, ChatMessageCreated)
    assert event.channel.type == "group_dm"
    assert not event.channel.type.is_known
    assert not event.is_direct_message
    assert event.audience is not None
    assert event.audience.type == "everyone"
    assert event.message.message_type == "bot"


def test_an_envelope_with_odd_values_still_gives_an_event() -> None:
    event = parse_event({"type": 7, "timestamp": "yesterday", "id": None, "company_id": 3})
    assert isinstance(event, UnknownEvent)
    assert event.type == ""
    assert event.timestamp is None
    assert event.account_id is None


def test_parse_event_wants_a_mapping() -> None:
    with pytest.raises(TypeError):
        parse_event([1])  # type: ignore[arg-type]
