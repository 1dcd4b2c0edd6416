"""``whop-dm members add``: from arguments, a file, stdin, and a pairs file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from whop_dm._cli._commands import cli
from whop_dm.testing import FakeWhop

from .conftest import ADMIN, API_KEY, RUN_TIMEOUT, RunWhopDm, command_env, new_channel


def _members(fake: FakeWhop, channel_id: str) -> set[str]:
    return {m.user_id for m in fake.members_of(channel_id)} - {ADMIN}


def test_add_from_arguments(whop_dm: RunWhopDm, fake: FakeWhop) -> None:
    channel_id = new_channel(fake, "user_001")
    run = whop_dm("members", "add", "--channel", channel_id, "user_002", "user_003")
    assert run.code == 0, run.output
    assert _members(fake, channel_id) == {"user_001", "user_002", "user_003"}
    assert "added 2 members to 1 channel" in run.stdout
    # Piped stderr: no progress bar, nothing at all.
    assert run.stderr == ""


def test_add_from_a_file_skips_blank_lines_and_comments(
    whop_dm: RunWhopDm, fake: FakeWhop, tmp_path: Path
) -> None:
    channel_id = new_channel(fake, "user_001")
    users = tmp_path / "users.txt"
    users.write_text("# new joiners\nuser_002\n\n  user_003  \n# user_004\nuser_005\n")
    run = whop_dm("members", "add", "--channel", channel_id, "--from", str(users))
    assert run.code == 0, run.output
    assert _members(fake, channel_id) == {"user_001", "user_002", "user_003", "user_005"}


def test_add_from_stdin(whop_dm: RunWhopDm, fake: FakeWhop) -> None:
    channel_id = new_channel(fake, "user_001")
    users = "".join(f"user_{n:03d}\n" for n in range(2, 42))
    run = whop_dm("members", "add", "--channel", channel_id, "--from", "-", "--json", input=users)
    assert run.code == 0, run.output
    result = json.loads(run.stdout)
    assert result["ok"] is True
    assert sorted(m["user_id"] for m in result["added"]) == [f"user_{n:03d}" for n in range(2, 42)]
    assert all(m["channel_id"] == channel_id for m in result["added"])
    assert result["failed"] == result["skipped"] == []
    assert len(_members(fake, channel_id)) == 41


def test_add_pairs_across_channels(whop_dm: RunWhopDm, fake: FakeWhop, tmp_path: Path) -> None:
    first, second = new_channel(fake, "user_001"), new_channel(fake, "user_002")
    pairs = tmp_path / "pairs.csv"
    pairs.write_text(f"# channel,user\n{first},user_010\n{second},user_011\n\n{first}, user_012\n")
    run = whop_dm("members", "add", "--pairs", str(pairs), "--json")
    assert run.code == 0, run.output
    assert len(json.loads(run.stdout)["added"]) == 3
    assert _members(fake, first) == {"user_001", "user_010", "user_012"}
    assert _members(fake, second) == {"user_002", "user_011"}


def test_some_failures_exit_1_and_are_listed(whop_dm: RunWhopDm, fake: FakeWhop) -> None:
    channel_id = new_channel(fake, "user_001")
    run = whop_dm("members", "add", "--channel", channel_id, "user_002", "user_ghost", "user_003")
    assert run.code == 1, run.output
    assert _members(fake, channel_id) == {"user_001", "user_002", "user_003"}
    [failed] = [line for line in run.stdout.splitlines() if line.startswith("failed ")]
    assert f"{channel_id},user_ghost" in failed
    assert "404" in failed


def test_failures_in_json_carry_the_error(whop_dm: RunWhopDm, fake: FakeWhop) -> None:
    channel_id = new_channel(fake, "user_001")
    run = whop_dm("members", "add", "--channel", channel_id, "user_002", "user_ghost", "--json")
    assert run.code == 1, run.output
    result = json.loads(run.stdout)
    assert result["ok"] is False
    [failure] = result["failed"]
    assert failure["channel_id"] == channel_id
    assert failure["user_id"] == "user_ghost"
    assert failure["error"]["type"] == "NotFoundError"
    assert failure["error"]["status_code"] == 404


def test_a_full_channel_fails_the_pairs_beyond_50(whop_dm: RunWhopDm, fake: FakeWhop) -> None:
    # The creator and user_001 are two of the 50; 50 more users leave 2 over.
    channel_id = new_channel(fake, "user_001")
    users = "".join(f"user_{n:03d}\n" for n in range(2, 52))
    run = whop_dm("members", "add", "--channel", channel_id, "--from", "-", "--json", input=users)
    assert run.code == 1, run.output
    result = json.loads(run.stdout)
    assert len(result["added"]) == 48
    assert len(result["failed"]) == 2
    assert {f["error"]["code"] for f in result["failed"]} == {"channel_full"}
    assert len(fake.members_of(channel_id)) == 50


def test_a_malformed_pairs_line_is_a_usage_error_naming_the_line(
    whop_dm: RunWhopDm, fake: FakeWhop, tmp_path: Path
) -> None:
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("# header\nfeed_a,user_001\nfeed_a user_002\n")
    run = whop_dm("members", "add", "--pairs", str(pairs))
    assert run.code == 2
    assert "line 3" in run.stderr
    assert "Traceback" not in run.output
    assert fake.requests == []


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["user_001"], id="no-channel"),
        pytest.param(["--channel", "feed_a"], id="no-users"),
        pytest.param(["--channel", "feed_a", "user_001", "--from", "USERS"], id="args-and-from"),
        pytest.param(["--pairs", "USERS", "--channel", "feed_a"], id="pairs-and-channel"),
        pytest.param(["--channel", "feed_a", "--from", "MISSING"], id="missing-file"),
        pytest.param(["--channel", "feed_a", "--concurrency", "0", "user_001"], id="concurrency"),
        pytest.param(["--pairs", "EMPTY"], id="empty-pairs"),
    ],
)
def test_usage_errors_exit_2_before_anything_is_sent(
    args: list[str], fake: FakeWhop, tmp_path: Path
) -> None:
    # Parsing only, so in-process (click's runner) rather than a subprocess each.
    files = {"USERS": tmp_path / "users.txt", "EMPTY": tmp_path / "empty.txt"}
    files["USERS"].write_text("user_001\n")
    files["EMPTY"].write_text("# nothing\n\n")
    args = [str(files.get(arg, tmp_path / "missing" if arg == "MISSING" else arg)) for arg in args]
    result = CliRunner().invoke(
        cli,
        ["members", "add", *args],
        env={"WHOP_BASE_URL": fake.base_url, "WHOP_API_KEY": API_KEY},
    )
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert fake.requests == []


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_a_progress_bar_is_drawn_when_stderr_is_a_terminal(fake: FakeWhop) -> None:
    # (When it is piped, nothing at all: see test_add_from_arguments.)
    import pty

    channel_id = new_channel(fake, "user_001")
    users = [f"user_{n:03d}" for n in range(2, 12)]
    leader, follower = pty.openpty()
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO once every writer of the terminal has closed it
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        completed = subprocess.run(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "whop_dm", "members", "add", "--channel", channel_id, *users],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=follower,
            text=True,
            env=command_env(WHOP_BASE_URL=fake.base_url, WHOP_API_KEY=API_KEY, TERM="xterm"),
            timeout=RUN_TIMEOUT,
            check=False,
        )
    finally:
        os.close(follower)
        reader.join(timeout=RUN_TIMEOUT)
        os.close(leader)
    terminal = b"".join(chunks).decode(errors="replace")
    assert completed.returncode == 0, terminal
    assert "adding members" in terminal
    assert "10/10" in terminal
    assert "added 10 members to 1 channel" in completed.stdout


def test_time_held_by_the_rate_limit_is_shown(tmp_path: Path) -> None:
    from .conftest import USERS, run_whop_dm

    # Five adds a second: twelve users meet the limit, the first 429 teaches
    # it, and the rest of the run is held until the window has room.
    with FakeWhop.in_thread(rate_limit_per_minute=5, rate_limit_window=1.0) as limited:
        limited.add_user(ADMIN)
        for user_id in USERS[:25]:
            limited.add_user(user_id)
        limited.add_api_key(API_KEY, user_id=ADMIN)
        channel_id = new_channel(limited, USERS[0])
        env = command_env(WHOP_BASE_URL=limited.base_url, WHOP_API_KEY=API_KEY)
        human = run_whop_dm("members", "add", "--channel", channel_id, *USERS[1:13], env=env)
        as_json = run_whop_dm(
            "members", "add", "--channel", channel_id, *USERS[13:25], "--json", env=env
        )
    assert human.code == 0, human.output
    assert "by the rate limit: POST /dm_members" in human.stdout
    assert as_json.code == 0, as_json.output
    held = json.loads(as_json.stdout)["held_s"]
    assert set(held) == {"POST /dm_members"}
    assert held["POST /dm_members"] > 0
