"""``members add --journal``, ``jobs status``, ``jobs retry-failed``, and Ctrl-C during an add."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from whop_dm.testing import FakeWhop

from .conftest import API_KEY, RUN_TIMEOUT, RunWhopDm, command_env, new_channel


def _posts(fake: FakeWhop) -> int:
    return sum(1 for r in fake.requests if r.method == "POST" and r.api_path == "/dm_members")


def test_add_with_a_journal_twice_resumes_and_sends_nothing_new(
    whop_dm: RunWhopDm, fake: FakeWhop, tmp_path: Path
) -> None:
    channel_id = new_channel(fake, "user_001")
    journal = tmp_path / "job.journal"
    users = [f"user_{n:03d}" for n in range(2, 12)]
    first = whop_dm("members", "add", "--channel", channel_id, *users, "--journal", str(journal))
    assert first.code == 0, first.output
    assert "added 10 members" in first.stdout
    posts = _posts(fake)
    again = whop_dm(
        "members", "add", "--channel", channel_id, *users, "--journal", str(journal), "--json"
    )
    assert again.code == 0, again.output
    assert len(json.loads(again.stdout)["added"]) == 10
    assert json.loads(again.stdout)["resumed"] == 10
    assert _posts(fake) == posts


def test_a_journal_of_another_channel_is_a_usage_error_naming_the_file(
    whop_dm: RunWhopDm, fake: FakeWhop, tmp_path: Path
) -> None:
    first, second = new_channel(fake, "user_001"), new_channel(fake, "user_002")
    journal = tmp_path / "job.journal"
    assert (
        whop_dm("members", "add", "--channel", first, "user_003", "--journal", str(journal)).code
        == 0
    )
    run = whop_dm("members", "add", "--channel", second, "user_003", "--journal", str(journal))
    assert run.code == 2
    assert str(journal) in run.stderr
    assert "Traceback" not in run.output


def test_status_shows_counts_errors_rate_and_eta(
    whop_dm: RunWhopDm, fake: FakeWhop, tmp_path: Path
) -> None:
    channel_id = new_channel(fake, "user_001")
    journal = tmp_path / "job.journal"
    fake.fail_next(1, status=404, path="/dm_members")
    run = whop_dm(
        "members", "add", "--channel", channel_id, "user_002", "user_003", "--journal", str(journal)
    )
    assert run.code == 1, run.output

    status = whop_dm("jobs", "status", str(journal))
    assert status.code == 0, status.output
    assert "2: 0 pending, 0 sent, 1 added, 1 failed" in status.stdout
    assert "1 NotFoundError" in status.stdout
    for label in ("elapsed", "rate", "eta"):
        assert label in status.stdout

    as_json = json.loads(whop_dm("jobs", "status", str(journal), "--json").stdout)
    assert as_json["counts"] == {"pending": 0, "sent": 0, "added": 1, "failed": 1}
    assert as_json["errors"] == {"NotFoundError": 1}
    assert as_json["finished"] is True
    assert as_json["kind"] == "add_many"


def test_status_of_a_file_that_is_not_a_journal_is_a_clear_error(
    whop_dm: RunWhopDm, tmp_path: Path
) -> None:
    other = tmp_path / "users.txt"
    other.write_text("user_001\n")
    run = whop_dm("jobs", "status", str(other))
    assert run.code == 2
    assert "not a whop-dm journal" in run.stderr
    assert other.read_text() == "user_001\n"


def test_retry_failed_sends_the_retryable_failures_again(
    whop_dm: RunWhopDm, fake: FakeWhop, tmp_path: Path
) -> None:
    channel_id = new_channel(fake, "user_001")
    journal = tmp_path / "job.journal"
    # 503s on every attempt of the first pair: it fails, and may pass later.
    fake.fail_next(3, status=503, path="/dm_members")
    run = whop_dm(
        "members",
        "add",
        "--channel",
        channel_id,
        "user_002",
        "user_003",
        "--journal",
        str(journal),
        "--concurrency",
        "1",
    )
    assert run.code == 1, run.output

    retry = whop_dm("jobs", "retry-failed", str(journal), "--json")
    assert retry.code == 0, retry.output
    assert [m["user_id"] for m in json.loads(retry.stdout)["added"]] == ["user_002"]
    status = json.loads(whop_dm("jobs", "status", str(journal), "--json").stdout)
    assert status["counts"]["added"] == 2


# -- Ctrl-C -------------------------------------------------------------------------------


def _interrupt_an_add(fake: FakeWhop, *extra: str) -> subprocess.CompletedProcess[str]:
    channel_id = new_channel(fake, "user_001")
    users = [f"user_{n:03d}" for n in range(2, 22)]
    fake.delay_next(1000, 0.2, path="/dm_members")
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [
            sys.executable,
            "-m",
            "whop_dm",
            "members",
            "add",
            "--channel",
            channel_id,
            "--concurrency",
            "1",
            *users,
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=command_env(WHOP_BASE_URL=fake.base_url, WHOP_API_KEY=API_KEY),
    )
    deadline = time.monotonic() + RUN_TIMEOUT
    while _posts(fake) < 4:
        assert time.monotonic() < deadline
        assert process.poll() is None
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=RUN_TIMEOUT)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT")
def test_ctrl_c_during_an_add_says_what_was_done(fake: FakeWhop) -> None:
    run = _interrupt_an_add(fake)
    assert run.returncode == 130
    line = next(line for line in run.stderr.splitlines() if "interrupted" in line)
    added = int(line.split("interrupted: ")[1].split(" added")[0])
    assert 3 <= added < 20
    assert f"{added} added, 0 failed, {20 - added} not sent" in line
    assert "Traceback" not in run.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT")
def test_ctrl_c_during_an_add_with_json_prints_the_counts_as_json(
    fake: FakeWhop, tmp_path: Path
) -> None:
    journal = tmp_path / "job.journal"
    run = _interrupt_an_add(fake, "--json", "--journal", str(journal))
    assert run.returncode == 130
    summary = json.loads(run.stdout)
    assert summary["interrupted"] is True
    assert summary["added"] + summary["failed"] + summary["not_sent"] == 20
    assert summary["added"] >= 3
    assert summary["journal"] == str(journal)
    assert "run the same command again" in run.stderr
