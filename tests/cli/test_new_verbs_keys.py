"""The verbs added for admins (members list/remove, messages list, channels show/delete)
keep the existing verbs' key hygiene and exit codes."""

from __future__ import annotations

import pytest

from whop_dm.testing import FakeWhop

from .conftest import API_KEY, RunWhopDm, command_env, new_channel, run_whop_dm

BAD_KEY = "whop_wrong_Pv7SECRETbad3Qq"
VERBS = (
    ("members", "list", "--channel", "{channel}"),
    ("members", "remove", "--channel", "{channel}", "user_001"),
    ("messages", "list", "--channel", "{channel}"),
    ("channels", "show", "{channel}"),
    ("channels", "delete", "{channel}", "--yes"),
)


def _args(verb: tuple[str, ...], channel_id: str) -> list[str]:
    return [arg.format(channel=channel_id) for arg in verb]


@pytest.mark.parametrize("verb", VERBS, ids=[" ".join(v[:2]) for v in VERBS])
def test_a_bad_key_exits_2_with_one_line_and_is_never_printed(
    whop_dm: RunWhopDm, fake: FakeWhop, verb: tuple[str, ...]
) -> None:
    channel_id = new_channel(fake, "user_001")
    run = whop_dm(*_args(verb, channel_id), WHOP_API_KEY=BAD_KEY)
    assert run.code == 2
    assert "401" in run.stderr
    assert run.stderr.count("\n") == 1
    assert BAD_KEY not in run.output
    assert "Traceback" not in run.output
    assert channel_id in fake.channels


@pytest.mark.parametrize("verb", VERBS, ids=[" ".join(v[:2]) for v in VERBS])
def test_the_key_is_never_printed_even_with_debug_and_json(
    whop_dm: RunWhopDm, fake: FakeWhop, verb: tuple[str, ...]
) -> None:
    channel_id = new_channel(fake, "user_001")
    run = whop_dm(*_args(verb, channel_id), "--json", "--debug")
    assert run.code == 0, run.output
    assert API_KEY not in run.output


@pytest.mark.parametrize("verb", VERBS, ids=[" ".join(v[:2]) for v in VERBS])
def test_no_key_exits_2_and_sends_nothing(fake: FakeWhop, verb: tuple[str, ...]) -> None:
    run = run_whop_dm(*_args(verb, "feed_anything"), env=command_env(WHOP_BASE_URL=fake.base_url))
    assert run.code == 2
    assert "WHOP_API_KEY" in run.stderr
    assert fake.requests == []
