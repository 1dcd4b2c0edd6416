"""``whop-dm reactions add``."""

from __future__ import annotations

import json
import urllib.request

from whop_dm.testing import FakeWhop

from .conftest import API_KEY, RunWhopDm, new_channel


def post_message(fake: FakeWhop, channel_id: str, **fields: object) -> str:
    """A message of the key's user, straight over HTTP (not through the command)."""
    request = urllib.request.Request(  # noqa: S310 - loopback
        fake.base_url + "/messages",
        data=json.dumps({"channel_id": channel_id, "content": "hi", **fields}).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        message_id = json.loads(response.read())["id"]
    assert isinstance(message_id, str)
    return message_id


def test_add_reacts_with_the_emoji_and_prints_the_reaction(
    whop_dm: RunWhopDm, fake: FakeWhop
) -> None:
    message_id = post_message(fake, new_channel(fake, "user_001"))
    run = whop_dm("reactions", "add", "--message", message_id, ":heart:", "--json")
    assert run.code == 0, run.output
    [reaction] = fake.reactions
    assert (reaction.message_id, reaction.emoji) == (message_id, ":heart:")
    printed = json.loads(run.stdout)
    assert (printed["id"], printed["emoji"]) == (reaction.id, ":heart:")


def test_add_with_vote_casts_a_poll_vote(whop_dm: RunWhopDm, fake: FakeWhop) -> None:
    poll = {"options": [{"id": "1", "text": "Yes"}, {"id": "2", "text": "No"}]}
    message_id = post_message(fake, new_channel(fake, "user_001"), poll=poll)
    run = whop_dm("reactions", "add", "--message", message_id, "--vote", "2")
    assert run.code == 0, run.output
    assert [r.poll_option_id for r in fake.reactions] == ["2"]
    assert "voted 2" in run.stdout


def test_add_needs_an_emoji_or_a_vote_but_not_both(whop_dm: RunWhopDm, fake: FakeWhop) -> None:
    for extra in ([], [":x:", "--vote", "1"]):
        run = whop_dm("reactions", "add", "--message", "msg_1", *extra)
        assert run.code == 2
        assert "--vote" in run.stderr
    assert fake.requests == []


def test_add_to_an_unknown_message_exits_1(whop_dm: RunWhopDm) -> None:
    run = whop_dm("reactions", "add", "--message", "msg_nope", ":x:")
    assert run.code == 1
    assert "404" in run.stderr
