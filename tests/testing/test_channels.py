"""DM channels: create (validation, participants, the existing channel), list,
retrieve, update, delete."""

from __future__ import annotations

import time

import aiohttp
import pytest

from whop_dm.testing import FakeWhop

from ._api import Api


async def test_create_answers_a_channel_with_spec_fields(alice: Api) -> None:
    before = time.time() * 1000
    channel = await alice.channel("user_bob", custom_name="Project")
    assert channel["id"].startswith("feed_")
    assert channel["name"] == "Project"
    assert channel["last_message_at"] is None
    assert channel["created_at"].isdigit()
    assert before - 1000 <= int(channel["created_at"]) <= time.time() * 1000 + 1000


async def test_name_is_null_without_custom_name(alice: Api) -> None:
    assert (await alice.channel("user_bob"))["name"] is None


async def test_caller_is_always_a_participant_and_admin(alice: Api, fake: FakeWhop) -> None:
    channel = await alice.channel("user_bob")
    snapshot = fake.channels[channel["id"]]
    assert snapshot.participants == {"user_alice", "user_bob"}
    assert snapshot.admin_ids == {"user_alice"}
    assert {m.user_id for m in fake.members_of(channel["id"])} == {"user_alice", "user_bob"}


async def test_participants_may_be_named_by_id_username_or_email(
    alice: Api, fake: FakeWhop
) -> None:
    channel = await alice.channel("user_bob", "carol", "DAVE@example.com")
    assert fake.channels[channel["id"]].participants == {
        "user_alice",
        "user_bob",
        "user_carol",
        "user_dave",
    }


async def test_same_participants_return_the_existing_channel(
    alice: Api, bob: Api, fake: FakeWhop
) -> None:
    first = await alice.channel("user_bob")
    again = await bob.channel("alice@example.com")
    assert again == first
    assert len(fake.channels) == 1


async def test_other_company_makes_another_channel(alice: Api, fake: FakeWhop) -> None:
    plain = await alice.channel("user_bob")
    scoped = await alice.channel("user_bob", company_id="biz_123")
    assert scoped["id"] != plain["id"]
    assert fake.channels[scoped["id"]].company_id == "biz_123"
    assert (await alice.channel("user_bob", company_id="biz_123"))["id"] == scoped["id"]


async def test_unknown_company_is_not_found(alice: Api) -> None:
    answer = await alice.post("/dm_channels", {"with_user_ids": ["user_bob"], "company_id": "x"})
    assert answer.status == 404
    assert answer.error["param"] == "company_id"


async def test_unknown_user_is_not_found_naming_with_user_ids(alice: Api, fake: FakeWhop) -> None:
    answer = await alice.post("/dm_channels", {"with_user_ids": ["user_bob", "nobody"]})
    assert answer.status == 404
    assert answer.error["type"] == "not_found"
    assert answer.error["param"] == "with_user_ids"
    assert fake.channels == {}


async def test_missing_with_user_ids_is_parameter_missing(alice: Api) -> None:
    answer = await alice.post("/dm_channels", {"custom_name": "x"})
    assert answer.status == 400
    assert answer.error == {
        "type": "invalid_request_error",
        "code": "parameter_missing",
        "param": "with_user_ids",
        "message": "Missing required parameter: with_user_ids.",
    }


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"with_user_ids": "user_bob"}, "with_user_ids"),
        ({"with_user_ids": ["user_bob", 4]}, "with_user_ids"),
        ({"with_user_ids": []}, "with_user_ids"),
        ({"with_user_ids": ["user_bob"], "company_id": 12}, "company_id"),
        ({"with_user_ids": ["user_bob"], "custom_name": ["x"]}, "custom_name"),
    ],
)
async def test_wrong_type_is_parameter_invalid(alice: Api, body: object, param: str) -> None:
    answer = await alice.post("/dm_channels", body)
    assert answer.status == 400
    assert (answer.error["code"], answer.error["param"]) == ("parameter_invalid", param)


async def test_body_that_is_not_json_is_invalid_json(alice: Api, fake: FakeWhop) -> None:
    answer = await alice.call("POST", "/dm_channels", data=b'{"with_user_ids": [')
    assert answer.status == 400
    assert answer.error["code"] == "invalid_json"
    assert answer.error["type"] == "invalid_request_error"
    assert fake.channels == {}


async def test_body_that_is_not_an_object_is_parameter_invalid(alice: Api) -> None:
    answer = await alice.post("/dm_channels", ["user_bob"])
    assert answer.status == 400
    assert answer.error["code"] == "parameter_invalid"


async def test_creating_past_the_member_cap_is_refused(session: aiohttp.ClientSession) -> None:
    async with FakeWhop(max_channel_members=2) as fake:
        for name in ("a", "b", "c"):
            fake.add_user(f"user_{name}")
        fake.add_api_key("k", user_id="user_a")
        api = Api(session, fake, "k")
        answer = await api.post("/dm_channels", {"with_user_ids": ["user_b", "user_c"]})
        assert answer.status == 400
        assert answer.error["code"] == "channel_full"
        assert fake.channels == {}


async def test_list_shows_only_the_callers_channels(alice: Api, bob: Api, carol: Api) -> None:
    with_bob = await alice.channel("user_bob")
    await carol.channel("user_dave")
    listed = (await alice.get("/dm_channels")).json
    assert [c["id"] for c in listed["data"]] == [with_bob["id"]]
    assert [c["id"] for c in (await bob.get("/dm_channels")).json["data"]] == [with_bob["id"]]


async def test_list_filters_by_company(alice: Api) -> None:
    await alice.channel("user_bob")
    scoped = await alice.channel("user_bob", company_id="biz_1")
    listed = (await alice.get("/dm_channels", company_id="biz_1")).json
    assert [c["id"] for c in listed["data"]] == [scoped["id"]]


async def test_retrieve_answers_the_channel(alice: Api) -> None:
    channel = await alice.channel("user_bob")
    answer = await alice.get(f"/dm_channels/{channel['id']}")
    assert (answer.status, answer.json) == (200, channel)


async def test_retrieve_unknown_or_foreign_channel_is_not_found(alice: Api, carol: Api) -> None:
    channel = await alice.channel("user_bob")
    for api, channel_id in ((alice, "feed_nope"), (carol, channel["id"])):
        answer = await api.get(f"/dm_channels/{channel_id}")
        assert answer.status == 404
        assert answer.error["type"] == "not_found"


async def test_update_renames_the_channel(alice: Api, fake: FakeWhop) -> None:
    channel = await alice.channel("user_bob")
    answer = await alice.patch(f"/dm_channels/{channel['id']}", {"custom_name": "Renamed"})
    assert answer.json["name"] == "Renamed"
    assert fake.channels[channel["id"]].name == "Renamed"
    cleared = await alice.patch(f"/dm_channels/{channel['id']}", {"custom_name": None})
    assert cleared.json["name"] is None


async def test_update_with_wrong_type_is_parameter_invalid(alice: Api) -> None:
    channel = await alice.channel("user_bob")
    answer = await alice.patch(f"/dm_channels/{channel['id']}", {"custom_name": 3})
    assert (answer.status, answer.error["param"]) == (400, "custom_name")


async def test_delete_answers_true_and_forgets_the_channel(alice: Api, fake: FakeWhop) -> None:
    channel = await alice.channel("user_bob")
    answer = await alice.delete(f"/dm_channels/{channel['id']}")
    assert (answer.status, answer.json) == (200, True)
    assert fake.channels == {}
    assert fake.memberships == []
    assert (await alice.get(f"/dm_channels/{channel['id']}")).status == 404


async def test_only_the_admin_may_delete_a_channel(alice: Api, bob: Api, fake: FakeWhop) -> None:
    channel = await alice.channel("user_bob")
    answer = await bob.delete(f"/dm_channels/{channel['id']}")
    assert answer.status == 403
    assert channel["id"] in fake.channels


async def test_deleted_channel_is_created_afresh(alice: Api) -> None:
    channel = await alice.channel("user_bob")
    await alice.delete(f"/dm_channels/{channel['id']}")
    assert (await alice.channel("user_bob"))["id"] != channel["id"]


async def test_a_member_who_is_not_an_admin_may_not_rename(
    alice: Api, bob: Api, fake: FakeWhop
) -> None:
    channel = await alice.channel("user_bob", custom_name="Kept")
    answer = await bob.patch(f"/dm_channels/{channel['id']}", {"custom_name": "Mine"})
    assert answer.status == 403
    assert fake.channels[channel["id"]].name == "Kept"


async def test_list_is_most_recently_active_first(alice: Api) -> None:
    older = await alice.channel("user_bob")
    newer = await alice.channel("user_carol")
    listed = (await alice.get("/dm_channels")).json
    assert [c["id"] for c in listed["data"]] == [newer["id"], older["id"]]
    await alice.post("/messages", {"channel_id": older["id"], "content": "back again"})
    listed = (await alice.get("/dm_channels")).json
    assert [c["id"] for c in listed["data"]] == [older["id"], newer["id"]]


async def test_channel_pages_follow_the_activity_order(alice: Api) -> None:
    made = [(await alice.channel(user))["id"] for user in ("user_bob", "user_carol", "user_dave")]
    first = (await alice.get("/dm_channels", first="2")).json
    after = first["page_info"]["end_cursor"]
    rest = (await alice.get("/dm_channels", first="2", after=after)).json
    assert [c["id"] for c in first["data"] + rest["data"]] == made[::-1]
    tail = (await alice.get("/dm_channels", last="1")).json
    assert [c["id"] for c in tail["data"]] == made[:1]


async def test_account_id_scopes_a_channel_like_company_id(alice: Api, fake: FakeWhop) -> None:
    by_account = await alice.channel("user_bob", account_id="biz_1")
    by_company = await alice.channel("user_bob", company_id="biz_1")
    assert by_account["id"] == by_company["id"]
    assert fake.channels[by_account["id"]].company_id == "biz_1"
    for name in ("account_id", "company_id"):
        listed = (await alice.get("/dm_channels", **{name: "biz_1"})).json
        assert [c["id"] for c in listed["data"]] == [by_account["id"]]
    unknown = await alice.post("/dm_channels", {"with_user_ids": ["user_bob"], "account_id": "x"})
    assert (unknown.status, unknown.error["param"]) == (404, "account_id")


async def test_account_id_and_company_id_naming_different_companies_is_invalid(
    alice: Api,
) -> None:
    answer = await alice.post(
        "/dm_channels",
        {"with_user_ids": ["user_bob"], "account_id": "biz_1", "company_id": "biz_2"},
    )
    assert (answer.status, answer.error["code"]) == (400, "parameter_invalid")


async def test_notifications_enabled_is_kept(alice: Api, fake: FakeWhop) -> None:
    channel = await alice.channel("user_bob", notifications_enabled=False)
    assert fake.channels[channel["id"]].notifications_enabled is False
    bad = await alice.post(
        "/dm_channels", {"with_user_ids": ["user_carol"], "notifications_enabled": "no"}
    )
    assert (bad.status, bad.error["param"]) == (400, "notifications_enabled")
