"""``whop-dm serve-fake`` and ``python -m whop_dm.testing`` seeded with more users."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import RUN_TIMEOUT, command_env, run_whop_dm, serving

ENTRY_POINTS = (("-m", "whop_dm", "serve-fake"), ("-m", "whop_dm.testing"))
ENTRY_IDS = ["serve-fake", "python-m-whop_dm.testing"]


def _members_after_adding(base_url: str, api_key: str, users: list[str]) -> list[str]:
    env = command_env(WHOP_BASE_URL=base_url, WHOP_API_KEY=api_key)
    created = run_whop_dm("channels", "create", "--with", "alice", "--json", env=env)
    assert created.code == 0, created.output
    channel_id = json.loads(created.stdout)["id"]
    added = run_whop_dm(
        "members", "add", "--channel", channel_id, "--from", "-", "--json",
        input="".join(f"{user}\n" for user in users), env=env,
    )  # fmt: skip
    assert added.code == 0, added.output
    return [m["user_id"] for m in json.loads(added.stdout)["added"]]


@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=ENTRY_IDS)
def test_user_options_add_users_that_can_join_channels(
    entry: tuple[str, ...], tmp_path: Path
) -> None:
    users_file = tmp_path / "users.csv"
    users_file.write_text("id,username,email\nuser_zed,zed,zed@example.com\n")
    args = [*entry, "--port", "0", "--user", "user_carol", "--user", "user_dave"]
    args += ["--users-file", str(users_file), "--users", "45"]
    with serving(*args) as served:
        wanted = ["user_carol", "user_dave", "user_zed", "user_0001", "user_0045"]
        added = _members_after_adding(served.base_url, served.api_key, wanted)
    assert sorted(added) == sorted(wanted)


def test_the_demo_users_stay_and_naming_one_again_is_harmless() -> None:
    args = ("-m", "whop_dm", "serve-fake", "--port", "0", "--user", "user_alice", "--users", "1")
    with serving(*args) as served:
        assert served.lines["user_id"] == "user_demo"
        added = _members_after_adding(served.base_url, served.api_key, ["user_bob", "user_0001"])
    assert sorted(added) == ["user_0001", "user_bob"]


@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=ENTRY_IDS)
def test_a_bad_users_file_is_a_usage_error_naming_the_line(
    entry: tuple[str, ...], tmp_path: Path
) -> None:
    users_file = tmp_path / "users.csv"
    users_file.write_text("id,email\nuser_a,a@example.com,extra\n")
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, *entry, "--port", "0", "--users-file", str(users_file)],
        capture_output=True, text=True, env=command_env(), timeout=RUN_TIMEOUT, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "line 2" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=ENTRY_IDS)
def test_two_users_claiming_one_username_is_a_usage_error(entry: tuple[str, ...]) -> None:
    # "alice" is user_alice's username already.
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, *entry, "--port", "0", "--user", "alice"],
        capture_output=True, text=True, env=command_env(), timeout=RUN_TIMEOUT, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "'alice' is taken" in done.stderr
    assert "ready" not in done.stdout
