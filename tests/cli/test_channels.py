"""``whop-dm channels create`` and ``channels list``."""

from __future__ import annotations

import json
from datetime import datetime

from whop_dm.testing import FakeWhop

from .conftest import ADMIN, RunWhopDm, new_channel


def test_create_prints_the_new_channel_and_exits_0(whop_dm: RunWhopDm, fake: FakeWhop) -> None:
    run = whop_dm("channels", "create", "--with", "user_001", "--name", "Launch team")
    assert run.code == 0, run.output
    [channel] = fake.channels.values()
    assert channel.id in run.stdout
    assert "Launch team" in run.stdout
    assert run.stderr == ""


def test_create_json_is_the_channel_record(whop_dm: RunWhopDm, fake: FakeWhop) -> None:
    run = whop_dm("channels", "create", "--with", "user_001", "--json")
    assert run.code == 0, run.output
    record = json.loads(run.stdout)
    [channel_id] = fake.channels
    assert record["id"] == channel_id
    assert record["name"] is None
    assert datetime.fromisoformat(record["created_at"]).tzinfo is not None
    assert set(record) == {"id", "created_at", "name", "last_message_at"}


def test_create_takes_users_after_with_and_repeated_with(
    whop_dm: RunWhopDm, fake: FakeWhop
) -> None:
    spread = whop_dm("channels", "create", "--with", "user_001", "user_002", "--json")
    repeated = whop_dm("channels", "create", "--with", "user_001", "--with", "user_002", "--json")
    assert spread.code == repeated.code == 0, spread.output + repeated.output
    # The same participants are the same channel.
    assert json.loads(spread.stdout)["id"] == json.loads(repeated.stdout)["id"]
    [channel_id] = fake.channels
    assert {m.user_id for m in fake.members_of(channel_id)} == {ADMIN, "user_001", "user_002"}


def test_create_with_a_company(whop_dm: RunWhopDm, fake: FakeWhop) -> None:
    run = whop_dm("channels", "create", "--with", "user_001", "--company", "biz_1", "--json")
    assert run.code == 0, run.output
    assert fake.channels[json.loads(run.stdout)["id"]].company_id == "biz_1"


def test_create_with_an_unknown_user_fails_with_one_line_and_exit_1(whop_dm: RunWhopDm) -> None:
    run = whop_dm("channels", "create", "--with", "user_nobody")
    assert run.code == 1
    assert run.stdout == ""
    assert run.stderr.count("\n") == 1
    assert "404" in run.stderr
    assert "user_nobody" in run.stderr


def test_create_without_with_is_a_usage_error(whop_dm: RunWhopDm, fake: FakeWhop) -> None:
    run = whop_dm("channels", "create", "user_001")
    assert run.code == 2
    assert "--with" in run.stderr
    assert fake.requests == []


def test_list_json_gives_every_channel_across_pages(whop_dm: RunWhopDm, fake: FakeWhop) -> None:
    # More than one page of the API's default 25.
    made = [new_channel(fake, f"user_{n:03d}") for n in range(1, 31)]
    run = whop_dm("channels", "list", "--json")
    assert run.code == 0, run.output
    # Most recently active first: with no messages, the newest channel first.
    assert [record["id"] for record in json.loads(run.stdout)] == made[::-1]


def test_list_human_output_shows_ids_and_count(whop_dm: RunWhopDm, fake: FakeWhop) -> None:
    made = [new_channel(fake, "user_001"), new_channel(fake, "user_002")]
    run = whop_dm("channels", "list")
    assert run.code == 0, run.output
    assert all(channel_id in run.stdout for channel_id in made)
    assert "2 channels" in run.stdout


def test_list_filters_by_company(whop_dm: RunWhopDm, fake: FakeWhop) -> None:
    new_channel(fake, "user_001", company_id="biz_a")
    wanted = new_channel(fake, "user_002", company_id="biz_b")
    run = whop_dm("channels", "list", "--company", "biz_b", "--json")
    assert run.code == 0, run.output
    assert [record["id"] for record in json.loads(run.stdout)] == [wanted]
