"""``whop-dm channels show`` and ``channels delete``."""

from __future__ import annotations

import json

from whop_dm.testing import FakeWhop

from .conftest import RunWhopDm, new_channel


def test_show_prints_the_channel(whop_dm: RunWhopDm, fake: FakeWhop) -> None:
    channel_id = new_channel(fake, "user_001")
    run = whop_dm("channels", "show", channel_id)
    assert run.code == 0, run.output
    assert channel_id in run.stdout
    assert "created_at" in run.stdout
    assert run.stderr == ""


def test_show_json_is_the_channel_record(whop_dm: RunWhopDm, fake: FakeWhop) -> None:
    channel_id = new_channel(fake, "user_001")
    run = whop_dm("channels", "show", channel_id, "--json")
    assert run.code == 0, run.output
    record = json.loads(run.stdout)
    assert record["id"] == channel_id
    assert set(record) == {"id", "created_at", "name", "last_message_at"}


def test_show_an_unknown_channel_exits_1_with_one_line(whop_dm: RunWhopDm) -> None:
    run = whop_dm("channels", "show", "feed_nope")
    assert run.code == 1
    assert run.stdout == ""
    assert run.stderr.count("\n") == 1
    assert "404" in run.stderr


def test_delete_removes_the_channel_and_says_so(whop_dm: RunWhopDm, fake: FakeWhop) -> None:
    channel_id = new_channel(fake, "user_001")
    run = whop_dm("channels", "delete", channel_id, "--yes")
    assert run.code == 0, run.output
    assert channel_id not in fake.channels
    assert f"deleted channel {channel_id}" in run.stdout


def test_delete_json_names_the_deleted_channel(whop_dm: RunWhopDm, fake: FakeWhop) -> None:
    channel_id = new_channel(fake, "user_001")
    run = whop_dm("channels", "delete", channel_id, "--yes", "--json")
    assert run.code == 0, run.output
    assert json.loads(run.stdout) == {"id": channel_id, "deleted": True}


def test_delete_without_yes_off_a_terminal_is_a_usage_error_and_sends_nothing(
    whop_dm: RunWhopDm, fake: FakeWhop
) -> None:
    channel_id = new_channel(fake, "user_001")
    fake.clear_requests()
    run = whop_dm("channels", "delete", channel_id, input="y\n")
    assert run.code == 2
    assert "--yes" in run.stderr
    assert fake.requests == []
    assert channel_id in fake.channels


def test_delete_an_unknown_channel_exits_1(whop_dm: RunWhopDm) -> None:
    run = whop_dm("channels", "delete", "feed_nope", "--yes")
    assert run.code == 1
    assert "404" in run.stderr
