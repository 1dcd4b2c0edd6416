"""``whop-dm messages list``."""

from __future__ import annotations

import json

from whop_dm.testing import FakeWhop

from ._http import send
from .conftest import RunWhopDm, new_channel


def test_list_json_gives_every_message_oldest_first(whop_dm: RunWhopDm, fake: FakeWhop) -> None:
    channel_id = new_channel(fake, "user_001")
    # More than one page of the API's default 25.
    sent = [send(fake, channel_id, f"note {n}") for n in range(30)]
    run = whop_dm("messages", "list", "--channel", channel_id, "--json")
    assert run.code == 0, run.output
    records = json.loads(run.stdout)
    assert [r["id"] for r in records] == sent
    assert records[0]["content"] == "note 0"


def test_list_newest_first_with_a_limit(whop_dm: RunWhopDm, fake: FakeWhop) -> None:
    channel_id = new_channel(fake, "user_001")
    sent = [send(fake, channel_id, f"note {n}") for n in range(5)]
    run = whop_dm(
        "messages", "list", "--channel", channel_id, "--newest-first", "--limit", "2", "--json"
    )
    assert run.code == 0, run.output
    assert [r["id"] for r in json.loads(run.stdout)] == [sent[4], sent[3]]


def test_list_human_output_shows_text_as_written(whop_dm: RunWhopDm, fake: FakeWhop) -> None:
    channel_id = new_channel(fake, "user_001")
    message_id = send(fake, channel_id, "see [bold]this[/bold]\nand that")
    run = whop_dm("messages", "list", "--channel", channel_id)
    assert run.code == 0, run.output
    assert message_id in run.stdout
    # Markup-looking text is shown as written, on one line.
    assert "see [bold]this[/bold] and that" in run.stdout
    assert "1 message" in run.stdout


def test_list_an_unknown_channel_exits_1(whop_dm: RunWhopDm) -> None:
    run = whop_dm("messages", "list", "--channel", "feed_nope")
    assert run.code == 1
    assert "404" in run.stderr
