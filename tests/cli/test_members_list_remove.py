"""``whop-dm members list`` and ``members remove``."""

from __future__ import annotations

import json

from whop_dm.testing import FakeWhop

from ._http import add_member
from .conftest import ADMIN, RunWhopDm, new_channel


def test_list_json_gives_every_member_in_join_order_across_pages(
    whop_dm: RunWhopDm, fake: FakeWhop
) -> None:
    channel_id = new_channel(fake, "user_001")
    # More than one page of the API's default 25.
    joined = [f"user_{n:03d}" for n in range(2, 31)]
    for user_id in joined:
        add_member(fake, channel_id, user_id)
    run = whop_dm("members", "list", "--channel", channel_id, "--json")
    assert run.code == 0, run.output
    records = json.loads(run.stdout)
    assert [r["user_id"] for r in records] == [ADMIN, "user_001", *joined]
    assert all(r["channel_id"] == channel_id for r in records)


def test_list_human_output_shows_users_and_count(whop_dm: RunWhopDm, fake: FakeWhop) -> None:
    channel_id = new_channel(fake, "user_001", "user_002")
    run = whop_dm("members", "list", "--channel", channel_id)
    assert run.code == 0, run.output
    assert all(user_id in run.stdout for user_id in (ADMIN, "user_001", "user_002"))
    assert "3 members" in run.stdout


def test_list_needs_a_channel(whop_dm: RunWhopDm, fake: FakeWhop) -> None:
    run = whop_dm("members", "list")
    assert run.code == 2
    assert "--channel" in run.stderr
    assert fake.requests == []


def test_list_an_unknown_channel_exits_1(whop_dm: RunWhopDm) -> None:
    run = whop_dm("members", "list", "--channel", "feed_nope")
    assert run.code == 1
    assert "404" in run.stderr


def test_remove_takes_the_users_out_and_exits_0(whop_dm: RunWhopDm, fake: FakeWhop) -> None:
    channel_id = new_channel(fake, "user_001", "user_002", "user_003")
    run = whop_dm("members", "remove", "--channel", channel_id, "user_001", "user_003")
    assert run.code == 0, run.output
    assert [m.user_id for m in fake.members_of(channel_id)] == [ADMIN, "user_002"]
    assert "removed  user_001" in run.stdout
    assert "removed  user_003" in run.stdout


def test_remove_lists_users_who_are_not_members_and_exits_1(
    whop_dm: RunWhopDm, fake: FakeWhop
) -> None:
    channel_id = new_channel(fake, "user_001", "user_002")
    run = whop_dm("members", "remove", "--channel", channel_id, "user_002", "user_050", "--json")
    assert run.code == 1, run.output
    result = json.loads(run.stdout)
    assert result["ok"] is False
    assert [m["user_id"] for m in result["removed"]] == ["user_002"]
    assert result["not_members"] == ["user_050"]
    # The member who was there is gone all the same.
    assert [m.user_id for m in fake.members_of(channel_id)] == [ADMIN, "user_001"]


def test_remove_needs_users(whop_dm: RunWhopDm, fake: FakeWhop) -> None:
    channel_id = new_channel(fake, "user_001")
    fake.clear_requests()
    run = whop_dm("members", "remove", "--channel", channel_id)
    assert run.code == 2
    assert fake.requests == []
