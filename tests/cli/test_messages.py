"""``whop-dm messages send``."""

from __future__ import annotations

import json

from whop_dm.testing import FakeWhop

from .conftest import RunWhopDm, new_channel


def test_send_posts_the_text_and_prints_the_message(whop_dm: RunWhopDm, fake: FakeWhop) -> None:
    channel_id = new_channel(fake, "user_001")
    run = whop_dm("messages", "send", "--channel", channel_id, "Hello **team**", "--json")
    assert run.code == 0, run.output
    [message] = fake.messages
    assert message.content == "Hello **team**"
    assert json.loads(run.stdout)["id"] == message.id


def test_send_reads_the_text_from_stdin_with_a_dash(whop_dm: RunWhopDm, fake: FakeWhop) -> None:
    channel_id = new_channel(fake, "user_001")
    run = whop_dm("messages", "send", "--channel", channel_id, "-", input="line one\nline two\n")
    assert run.code == 0, run.output
    [message] = fake.messages
    assert message.content == "line one\nline two"
    assert message.id in run.stdout


def test_send_to_an_unknown_channel_exits_1(whop_dm: RunWhopDm) -> None:
    run = whop_dm("messages", "send", "--channel", "feed_nope", "hi")
    assert run.code == 1
    assert "404" in run.stderr
