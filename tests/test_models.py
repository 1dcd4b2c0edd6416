"""Records decode from the spec's bodies, tolerate change, and keep times aware."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from scripted import CHANNEL, ScriptedServer, json_answer

import whop_dm
from whop_dm._converter import Decoder, converter, decode, parse_timestamp

SPEC_CHANNEL = {
    "id": "feed_xxxxxxxxxxxxxx",
    "created_at": "123.45",
    "name": "Project Alpha Team",
    "last_message_at": "2023-12-01T05:00:00.401Z",
}
SPEC_MEMBER = {
    "id": "dmm_1",
    "user_id": "user_xxxxxxxxxxxxx",
    "channel_id": "feed_xxxxxxxxxxxxxx",
    "status": "accepted",
    "last_viewed_at": "123.45",
    "notification_preference": "all",
}


def test_the_specs_channel_example_decodes_with_aware_times() -> None:
    channel = decode(SPEC_CHANNEL, whop_dm.DmChannel, "test")
    assert channel.id == "feed_xxxxxxxxxxxxxx"
    assert channel.name == "Project Alpha Team"
    assert channel.created_at == datetime(1970, 1, 1, 0, 0, 0, 123450, tzinfo=timezone.utc)
    assert channel.last_message_at == datetime(2023, 12, 1, 5, 0, 0, 401000, tzinfo=timezone.utc)


def test_the_specs_member_example_decodes_to_enums() -> None:
    member = decode(SPEC_MEMBER, whop_dm.DmMember, "test")
    assert member.status is whop_dm.MemberStatus.ACCEPTED
    assert member.notification_preference is whop_dm.NotificationPreference.ALL
    assert member.last_viewed_at is not None
    assert member.last_viewed_at.tzinfo is not None


def test_nulls_stay_none() -> None:
    body = {**SPEC_CHANNEL, "name": None, "last_message_at": None}
    channel = decode(body, whop_dm.DmChannel, "t")
    assert channel.name is None
    assert channel.last_message_at is None


def test_unknown_fields_are_ignored() -> None:
    member = decode({**SPEC_MEMBER, "brand_new_field": {"x": 1}}, whop_dm.DmMember, "t")
    assert member.id == "dmm_1"


def test_an_unknown_enum_value_is_kept_not_a_crash() -> None:
    member = decode({**SPEC_MEMBER, "status": "snoozed"}, whop_dm.DmMember, "t")
    assert member.status.value == "snoozed"
    assert member.status == "snoozed"
    assert not member.status.is_known
    assert isinstance(member.status, whop_dm.MemberStatus)
    assert whop_dm.MemberStatus.ACCEPTED.is_known


def test_a_list_item_may_omit_the_notification_preference() -> None:
    body = {k: v for k, v in SPEC_MEMBER.items() if k != "notification_preference"}
    assert decode(body, whop_dm.DmMember, "t").notification_preference is None


def test_records_are_frozen_and_slotted() -> None:
    channel = decode(SPEC_CHANNEL, whop_dm.DmChannel, "t")
    with pytest.raises(AttributeError):
        channel.name = "other"  # type: ignore[misc]
    assert not hasattr(channel, "__dict__")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1732530000123", datetime(2024, 11, 25, 10, 20, 0, 123000, tzinfo=timezone.utc)),
        ("1732530000123.5", datetime(2024, 11, 25, 10, 20, 0, 123500, tzinfo=timezone.utc)),
        (1732530000123, datetime(2024, 11, 25, 10, 20, 0, 123000, tzinfo=timezone.utc)),
        ("2023-12-01T05:00:00Z", datetime(2023, 12, 1, 5, tzinfo=timezone.utc)),
        ("2023-12-01T05:00:00.4Z", datetime(2023, 12, 1, 5, 0, 0, 400000, tzinfo=timezone.utc)),
        ("2023-12-01T07:00:00+02:00", datetime(2023, 12, 1, 5, tzinfo=timezone.utc)),
        ("2023-12-01T05:00:00", datetime(2023, 12, 1, 5, tzinfo=timezone.utc)),
    ],
)
def test_timestamps_in_every_shape_become_aware_utc(raw: object, expected: datetime) -> None:
    parsed = parse_timestamp(raw)
    assert parsed == expected
    assert parsed.utcoffset() is not None


@pytest.mark.parametrize(
    "body",
    [
        {**SPEC_CHANNEL, "id": 5},
        {**SPEC_CHANNEL, "created_at": "yesterday"},
        {**SPEC_CHANNEL, "created_at": True},
        {k: v for k, v in SPEC_CHANNEL.items() if k != "id"},
        [SPEC_CHANNEL],
        None,
    ],
)
def test_bodies_of_the_wrong_shape_raise_response_decode_error(body: object) -> None:
    with pytest.raises(whop_dm.ResponseDecodeError):
        decode(body, whop_dm.DmChannel, "POST /dm_channels")


def test_records_unstructure_back_to_plain_json_values() -> None:
    member = decode(SPEC_MEMBER, whop_dm.DmMember, "t")
    plain = converter.unstructure(member)
    assert plain["status"] == "accepted"
    assert plain["notification_preference"] == "all"
    assert isinstance(plain["last_viewed_at"], str)


# -- lenient decoding (the default of a client) ----------------------------------------------

SPEC_MESSAGE = {
    "id": "msg_1",
    "content": "Hey",
    "created_at": "2023-12-01T05:00:00.401Z",
    "updated_at": "2023-12-01T05:00:00.401Z",
    "poll": None,
    "replying_to_message_id": None,
    "is_edited": False,
    "is_pinned": False,
    "message_type": "regular",
    "mentions": ["user_1"],
    "mentions_everyone": False,
    "user": {"id": "user_1", "username": "alice", "name": "Alice"},
    "view_count": 42,
    "reaction_counts": [{"emoji": ":heart:", "count": 2}],
    "poll_votes": [],
}


def lenient() -> Decoder:
    return Decoder(strict=False)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", 5),  # a string field
        ("created_at", "string"),  # a time, as a mock server generates it from the spec
        ("created_at", True),
        ("name", ["a"]),  # an optional string
        ("last_message_at", {"at": 1}),  # an optional time
    ],
)
def test_a_channel_field_that_does_not_fit_is_none_and_the_record_is_kept(
    field: str, value: object
) -> None:
    body = {**SPEC_CHANNEL, field: value}
    channel = lenient().decode(body, whop_dm.DmChannel, "GET /dm_channels/{id}")
    assert getattr(channel, field) is None
    assert channel.raw == body
    assert channel.raw is not None
    assert channel.raw[field] == value
    others = {name for name in SPEC_CHANNEL if name != field}
    strict = decode(SPEC_CHANNEL, whop_dm.DmChannel, "t")
    assert all(getattr(channel, name) == getattr(strict, name) for name in others)


@pytest.mark.parametrize(
    ("field", "value"),
    [("status", 5), ("notification_preference", ["all"]), ("last_viewed_at", "soon")],
)
def test_a_member_enum_or_time_that_does_not_fit_is_none(field: str, value: object) -> None:
    body = {**SPEC_MEMBER, field: value}
    member = lenient().decode(body, whop_dm.DmMember, "POST /dm_members")
    assert getattr(member, field) is None
    assert member.id == "dmm_1"
    assert member.raw == body


def test_a_missing_required_field_is_none() -> None:
    body = {k: v for k, v in SPEC_MEMBER.items() if k != "user_id"}
    member = lenient().decode(body, whop_dm.DmMember, "POST /dm_members")
    assert member.user_id is None
    assert member.channel_id == "feed_xxxxxxxxxxxxxx"
    assert member.raw == body


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("is_edited", "yes", None),  # a boolean
        ("view_count", "many", None),  # an optional integer
        ("mentions", "user_1", None),  # a list of strings that is not a list
        ("user", "alice", None),  # a nested record that is not an object
    ],
)
def test_a_message_field_that_does_not_fit_is_none(
    field: str, value: object, expected: object
) -> None:
    body = {**SPEC_MESSAGE, field: value}
    message = lenient().decode(body, whop_dm.Message, "GET /messages/{id}")
    assert getattr(message, field) is expected
    assert message.id == "msg_1"
    assert message.raw == body


def test_a_nested_record_keeps_what_fits_and_its_own_raw() -> None:
    user = {"id": 7, "username": "alice"}
    message = lenient().decode({**SPEC_MESSAGE, "user": user}, whop_dm.Message, "GET /messages")
    assert message.user.id is None
    assert message.user.username == "alice"
    assert message.user.raw == user
    assert message.raw is not None
    assert message.raw["user"] == user


def test_a_list_of_records_keeps_the_items_that_fit() -> None:
    counts = [{"emoji": ":heart:", "count": "two"}, 7, {"emoji": ":fire:", "count": 1}]
    body = {**SPEC_MESSAGE, "reaction_counts": counts}
    message = lenient().decode(body, whop_dm.Message, "GET /messages/{id}")
    assert [(r.emoji, r.count) for r in message.reaction_counts] == [
        (":heart:", None),
        (":fire:", 1),
    ]
    assert message.reaction_counts[0].raw == counts[0]


def test_a_record_that_decoded_whole_has_no_raw() -> None:
    assert lenient().decode(SPEC_MEMBER, whop_dm.DmMember, "t").raw is None
    assert lenient().decode(SPEC_MESSAGE, whop_dm.Message, "t").raw is None


def test_raw_is_not_read_from_the_answer_nor_written_back() -> None:
    member = decode({**SPEC_MEMBER, "raw": {"forged": True}}, whop_dm.DmMember, "t")
    assert member.raw is None
    assert "raw" not in converter.unstructure(member)


def test_a_body_that_is_no_object_still_raises_when_lenient() -> None:
    for body in ([SPEC_CHANNEL], None, "feed_1"):
        with pytest.raises(whop_dm.ResponseDecodeError):
            lenient().decode(body, whop_dm.DmChannel, "POST /dm_channels")
    with pytest.raises(whop_dm.ResponseDecodeError):
        lenient().decode({"deleted": True}, bool, "DELETE /dm_channels/{id}")


def test_a_strict_decoder_raises_for_a_field_that_does_not_fit() -> None:
    with pytest.raises(whop_dm.ResponseDecodeError, match="DmChannel"):
        Decoder(strict=True).decode(
            {**SPEC_CHANNEL, "created_at": "string"}, whop_dm.DmChannel, "POST /dm_channels"
        )


def test_a_strict_decoder_still_decodes_leniently_when_asked() -> None:
    body = {**SPEC_MEMBER, "status": 5}
    member = Decoder(strict=True).decode(body, whop_dm.DmMember, "t", lenient=True)
    assert member.status is None


def test_the_warning_names_the_field_once_per_field_and_operation(
    caplog: pytest.LogCaptureFixture,
) -> None:
    decoder = lenient()
    bad_time = {**SPEC_CHANNEL, "created_at": "string"}
    with caplog.at_level("WARNING", logger="whop_dm"):
        for _ in range(3):
            decoder.decode(bad_time, whop_dm.DmChannel, "POST /dm_channels")
        decoder.decode(bad_time, whop_dm.DmChannel, "GET /dm_channels/{id}")
        decoder.decode({**bad_time, "id": 5}, whop_dm.DmChannel, "POST /dm_channels")
    messages = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(messages) == 3
    assert "POST /dm_channels answered a DmChannel whose 'created_at'" in messages[0]
    assert "GET /dm_channels/{id} answered a DmChannel whose 'created_at'" in messages[1]
    assert "'id'" in messages[2]
    # The value itself may be a user's text: it is not logged.
    assert all("string" not in m.split("'created_at'")[-1] for m in messages[:2])


def test_an_item_of_a_list_warns_once_whatever_its_index(caplog: pytest.LogCaptureFixture) -> None:
    counts = [{"emoji": ":a:", "count": "x"}, {"emoji": ":b:", "count": "y"}]
    with caplog.at_level("WARNING", logger="whop_dm"):
        lenient().decode({**SPEC_MESSAGE, "reaction_counts": counts}, whop_dm.Message, "t")
    messages = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(messages) == 1
    assert "'reaction_counts[].count'" in messages[0]


def test_an_unknown_enum_values_stand_in_is_one_object() -> None:
    assert whop_dm.MemberStatus("snoozed") is whop_dm.MemberStatus("snoozed")
    assert whop_dm.NotificationPreference("x") is whop_dm.NotificationPreference("x")
    assert whop_dm.MemberStatus("x") is not whop_dm.NotificationPreference("x")
    first = decode({**SPEC_MEMBER, "status": "snoozed"}, whop_dm.DmMember, "t")
    second = decode({**SPEC_MEMBER, "status": "snoozed"}, whop_dm.DmMember, "t")
    assert first.status is second.status


def test_a_page_keeps_its_records_with_the_fields_that_fit() -> None:
    from whop_dm._pagination import decode_page

    info = {"end_cursor": None, "start_cursor": None, "has_next_page": False}
    body = {
        "data": [SPEC_MEMBER, {**SPEC_MEMBER, "id": "dmm_2", "last_viewed_at": "string"}],
        "page_info": {**info, "has_previous_page": False},
    }
    page = decode_page(body, whop_dm.DmMember, "GET /dm_members", lenient())
    assert [(m.id, m.last_viewed_at is None) for m in page.data] == [
        ("dmm_1", False),
        ("dmm_2", True),
    ]
    assert page.data[1].raw == body["data"][1]
    with pytest.raises(whop_dm.ResponseDecodeError):
        decode_page(body, whop_dm.DmMember, "GET /dm_members", Decoder(strict=True))
    for broken in ({"page_info": body["page_info"]}, {"data": [], "page_info": "none"}):
        with pytest.raises(whop_dm.ResponseDecodeError):
            decode_page(broken, whop_dm.DmMember, "GET /dm_members", lenient())


def test_both_clients_take_strict_and_check_it() -> None:
    assert not whop_dm.AsyncClient("k")._transport.config.strict
    assert whop_dm.AsyncClient("k", strict=True)._transport.config.strict
    with whop_dm.Client("k", strict=True) as client:
        assert client._async._transport.config.strict
    with pytest.raises(TypeError, match="strict"):
        whop_dm.AsyncClient("k", strict="yes")  # type: ignore[arg-type]


async def test_each_client_warns_once_per_field_and_operation(
    scripted_server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    scripted_server.answer(json_answer({**CHANNEL, "created_at": "string"}))
    with caplog.at_level("WARNING", logger="whop_dm"):
        for _ in range(2):
            async with scripted_server.client() as client:
                for _ in range(3):
                    channel = await client.dm_channels.retrieve("feed_1")
                    assert channel.created_at is None
                    assert channel.raw is not None
                    assert channel.raw["created_at"] == "string"
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warned) == 2
    assert all("GET /dm_channels/{id}" in message for message in warned)
