"""Authentication errors: exit 2, one line, and the key never in the output."""

from __future__ import annotations

import pytest

from whop_dm.testing import FakeWhop

from .conftest import ADMIN, API_KEY, RunWhopDm, command_env, new_channel, run_whop_dm

BAD_KEY = "whop_wrong_Kq4SECRETbad1Zz"


@pytest.mark.parametrize(
    ("debug", "from_env"),
    [(False, False), (True, True)],
    ids=["plain-option", "debug-environment"],
)
def test_a_bad_key_exits_2_without_echoing_it(
    whop_dm: RunWhopDm, debug: bool, from_env: bool
) -> None:
    args = ["channels", "create", "--with", "user_001"]
    args += ["--debug"] if debug else []
    run = whop_dm(*args, WHOP_API_KEY=BAD_KEY) if from_env else whop_dm(*args, "--api-key", BAD_KEY)
    assert run.code == 2
    assert "401" in run.stderr
    assert BAD_KEY not in run.output
    assert API_KEY not in run.output
    if debug:
        assert "Traceback" in run.stderr
    else:
        assert "Traceback" not in run.output
        assert run.stderr.count("\n") == 1


def test_a_bad_key_stops_a_bulk_add_with_one_line_and_exit_2(
    whop_dm: RunWhopDm, fake: FakeWhop
) -> None:
    channel_id = new_channel(fake, "user_001")
    users = "".join(f"user_{n:03d}\n" for n in range(2, 12))
    args = ["members", "add", "--channel", channel_id, "--from", "-", "--debug"]
    run = whop_dm(*args, input=users, WHOP_API_KEY=BAD_KEY)
    assert run.code == 2
    assert BAD_KEY not in run.output
    assert "Traceback" not in run.output
    # --debug adds the client's log lines; the error is still one line.
    [line] = [line for line in run.stderr.splitlines() if line.startswith("whop-dm: ")]
    assert "401" in line
    assert [m.user_id for m in fake.members_of(channel_id)] == [ADMIN, "user_001"]


def test_no_key_at_all_exits_2_and_says_how_to_give_one(fake: FakeWhop) -> None:
    run = run_whop_dm(
        "channels", "create", "--with", "user_001", env=command_env(WHOP_BASE_URL=fake.base_url)
    )
    assert run.code == 2
    assert "WHOP_API_KEY" in run.stderr
    assert "Traceback" not in run.output
    assert fake.requests == []


def test_a_key_without_the_scope_exits_2(whop_dm: RunWhopDm, fake: FakeWhop) -> None:
    reader = fake.add_api_key("whop_reader_key_x1", user_id=ADMIN, scopes=["dms:read"])
    run = whop_dm("channels", "create", "--with", "user_001", WHOP_API_KEY=reader)
    assert run.code == 2
    assert "403" in run.stderr
    assert reader not in run.output
    assert fake.channels == {}


def test_the_key_is_absent_from_every_output_of_a_successful_run(
    whop_dm: RunWhopDm, fake: FakeWhop
) -> None:
    channel_id = new_channel(fake, "user_001")
    runs = [
        whop_dm("members", "add", "--channel", channel_id, "user_002", "--debug", "--json"),
        whop_dm("members", "add", "--channel", channel_id, "user_ghost", "--debug"),
    ]
    assert [run.code for run in runs] == [0, 1]
    assert all(API_KEY not in run.output for run in runs)
