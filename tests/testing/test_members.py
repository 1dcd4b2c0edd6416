"""DM members: add (admin rule, duplicates, the cap), list, retrieve, update, remove."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from whop_dm.testing import FakeWhop

from ._api import Api


async def add(api: Api, channel_id: str, user_id: str) -> Any:
    return await api.post("/dm_members", {"channel_id": channel_id, "user_id": user_id})


async def test_new_member_is_accepted_with_all_notifications(alice: Api, fake: FakeWhop) -> None:
    channel = await alice.channel("user_bob")
    answer = await add(alice, channel["id"], "user_carol")
    assert answer.status == 200
    member = answer.json
    assert member["id"].startswith("dmm_")
    assert (member["user_id"], member["channel_id"]) == ("user_carol", channel["id"])
    assert (member["status"], member["notification_preference"]) == ("accepted", "all")
    assert member["last_viewed_at"] is None
    assert [m.id for m in fake.members_of(channel["id"])][-1] == member["id"]


async def test_adding_an_existing_member_returns_it_without_storing_a_duplicate(
    alice: Api, fake: FakeWhop
) -> None:
    channel = await alice.channel("user_bob")
    first = (await add(alice, channel["id"], "user_carol")).json
    again = await add(alice, channel["id"], "user_carol")
    assert (again.status, again.json) == (200, first)
    users = [m.user_id for m in fake.members_of(channel["id"])]
    assert sorted(users) == ["user_alice", "user_bob", "user_carol"]
    assert len(fake.memberships) == 3


async def test_adding_the_creator_returns_its_own_membership(alice: Api, fake: FakeWhop) -> None:
    channel = await alice.channel("user_bob")
    answer = await add(alice, channel["id"], "user_alice")
    assert answer.json["id"] == fake.members_of(channel["id"])[0].id


async def test_non_admin_may_not_add_members(alice: Api, bob: Api, fake: FakeWhop) -> None:
    channel = await alice.channel("user_bob")
    answer = await add(bob, channel["id"], "user_carol")
    assert answer.status == 403
    assert answer.error["type"] == "forbidden"
    assert len(fake.members_of(channel["id"])) == 2


async def test_adding_to_a_channel_the_caller_cannot_see_is_not_found(
    alice: Api, carol: Api
) -> None:
    channel = await alice.channel("user_bob")
    for api, channel_id in ((carol, channel["id"]), (alice, "feed_unknown")):
        answer = await add(api, channel_id, "user_dave")
        assert (answer.status, answer.error["param"]) == (404, "channel_id")


async def test_adding_an_unknown_user_is_not_found_naming_user_id(alice: Api) -> None:
    channel = await alice.channel("user_bob")
    answer = await add(alice, channel["id"], "user_nobody")
    assert (answer.status, answer.error["param"]) == (404, "user_id")


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({"user_id": "user_bob"}, "parameter_missing", "channel_id"),
        ({"channel_id": "feed_x"}, "parameter_missing", "user_id"),
        ({"channel_id": 5, "user_id": "user_bob"}, "parameter_invalid", "channel_id"),
        ({"channel_id": "feed_x", "user_id": ["user_bob"]}, "parameter_invalid", "user_id"),
    ],
)
async def test_member_body_is_validated(alice: Api, body: Any, code: str, param: str) -> None:
    answer = await alice.post("/dm_members", body)
    assert answer.status == 400
    assert (answer.error["code"], answer.error["param"]) == (code, param)


async def test_the_fiftieth_member_fits_and_the_fifty_first_is_refused(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeWhop() as fake:
        for n in range(52):
            fake.add_user(f"user_{n}")
        fake.add_api_key("k", user_id="user_0")
        api = Api(session, fake, "k")
        channel = await api.channel("user_1")
        for n in range(2, 50):
            assert (await add(api, channel["id"], f"user_{n}")).status == 200
        assert len(fake.members_of(channel["id"])) == 50
        refused = await add(api, channel["id"], "user_50")
        assert refused.status == 400
        assert refused.error["code"] == "channel_full"
        assert "50" in refused.error["message"]
        assert len(fake.members_of(channel["id"])) == 50
        # a full channel still answers for its existing members
        assert (await add(api, channel["id"], "user_49")).status == 200


async def test_no_cap_when_max_channel_members_is_none(session: aiohttp.ClientSession) -> None:
    async with FakeWhop(max_channel_members=None) as fake:
        for n in range(60):
            fake.add_user(f"user_{n}")
        fake.add_api_key("k", user_id="user_0")
        api = Api(session, fake, "k")
        channel = await api.channel(*[f"user_{n}" for n in range(1, 60)])
        assert len(fake.members_of(channel["id"])) == 60


async def test_list_members_requires_channel_id(alice: Api) -> None:
    answer = await alice.get("/dm_members")
    assert (answer.status, answer.error["code"]) == (400, "parameter_missing")


async def test_list_members_in_join_order(alice: Api, fake: FakeWhop) -> None:
    channel = await alice.channel("user_bob")
    await add(alice, channel["id"], "user_carol")
    listed = (await alice.get("/dm_members", channel_id=channel["id"])).json
    assert [m["user_id"] for m in listed["data"]] == ["user_alice", "user_bob", "user_carol"]


async def test_strangers_cannot_list_members(alice: Api, carol: Api) -> None:
    channel = await alice.channel("user_bob")
    answer = await carol.get("/dm_members", channel_id=channel["id"])
    assert (answer.status, answer.error["param"]) == (404, "channel_id")


async def test_retrieve_member_only_for_channel_members(alice: Api, carol: Api) -> None:
    channel = await alice.channel("user_bob")
    member = (await add(alice, channel["id"], "user_dave")).json
    assert (await alice.get(f"/dm_members/{member['id']}")).json == member
    assert (await carol.get(f"/dm_members/{member['id']}")).status == 404
    assert (await alice.get("/dm_members/dmm_unknown")).status == 404


async def test_member_updates_its_own_preferences(alice: Api, bob: Api, fake: FakeWhop) -> None:
    channel = await alice.channel("user_bob")
    own = fake.members_of(channel["id"])[1]
    answer = await bob.patch(
        f"/dm_members/{own.id}", {"notification_preference": "mentions", "status": "hidden"}
    )
    assert (answer.json["notification_preference"], answer.json["status"]) == (
        "mentions",
        "hidden",
    )
    assert fake.members_of(channel["id"])[1].notification_preference == "mentions"


async def test_member_may_not_update_someone_elses_membership(
    alice: Api, bob: Api, fake: FakeWhop
) -> None:
    channel = await alice.channel("user_bob")
    admins = fake.members_of(channel["id"])[0]
    answer = await bob.patch(f"/dm_members/{admins.id}", {"status": "closed"})
    assert answer.status == 403
    assert fake.members_of(channel["id"])[0].status == "accepted"


@pytest.mark.parametrize(
    "body", [{"status": "gone"}, {"notification_preference": "loud"}, {"status": 1}]
)
async def test_member_update_refuses_values_outside_the_enums(
    alice: Api, fake: FakeWhop, body: Any
) -> None:
    channel = await alice.channel("user_bob")
    member = fake.members_of(channel["id"])[0]
    answer = await alice.patch(f"/dm_members/{member.id}", body)
    assert (answer.status, answer.error["code"]) == (400, "parameter_invalid")
    assert answer.error["param"] == next(iter(body))


async def test_admin_removes_a_member_and_the_member_loses_sight(
    alice: Api, bob: Api, fake: FakeWhop
) -> None:
    channel = await alice.channel("user_bob")
    bobs = fake.members_of(channel["id"])[1]
    answer = await alice.delete(f"/dm_members/{bobs.id}")
    assert (answer.status, answer.json) == (200, True)
    assert [m.user_id for m in fake.members_of(channel["id"])] == ["user_alice"]
    assert (await bob.get(f"/dm_channels/{channel['id']}")).status == 404


async def test_member_may_leave_but_not_remove_others(alice: Api, bob: Api, fake: FakeWhop) -> None:
    channel = await alice.channel("user_bob", "user_carol")
    alices, bobs, carols = fake.members_of(channel["id"])
    assert (await bob.delete(f"/dm_members/{carols.id}")).status == 403
    assert (await bob.delete(f"/dm_members/{bobs.id}")).status == 200
    assert [m.id for m in fake.members_of(channel["id"])] == [alices.id, carols.id]


async def test_membership_changes_decide_which_channel_is_existing(alice: Api) -> None:
    channel = await alice.channel("user_bob")
    await add(alice, channel["id"], "user_carol")
    assert (await alice.channel("user_bob", "user_carol"))["id"] == channel["id"]
    assert (await alice.channel("user_bob"))["id"] != channel["id"]


async def test_a_member_leaving_changes_which_channel_is_existing(
    alice: Api, bob: Api, fake: FakeWhop
) -> None:
    channel = await alice.channel("user_bob", "user_carol")
    bobs = fake.members_of(channel["id"])[1]
    await bob.delete(f"/dm_members/{bobs.id}")
    assert (await alice.channel("user_carol"))["id"] == channel["id"]
    assert (await alice.channel("user_bob", "user_carol"))["id"] != channel["id"]


def test_members_of_an_unknown_channel_is_empty() -> None:
    assert FakeWhop().members_of("feed_unknown") == []
