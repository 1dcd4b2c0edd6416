"""Records decode from the spec's bodies, tolerate change, and keep times aware."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

import whop_dm
from whop_dm._converter import converter, decode, parse_timestamp

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
