"""The entry point: ``--version``, ``serve-fake``, and no cost to ``import whop_dm``."""

from __future__ import annotations

import json
import subprocess
import sys

import whop_dm

from .conftest import Served, command_env, run_whop_dm, serving


def test_version() -> None:
    run = run_whop_dm("--version", env=command_env())
    assert run.code == 0
    assert run.stdout.strip() == f"whop-dm {whop_dm.__version__}"


def test_import_whop_dm_loads_neither_the_cli_nor_click_nor_rich() -> None:
    probe = (
        "import sys, whop_dm; "
        "print([m for m in ('whop_dm._cli', 'click', 'rich') if m in sys.modules])"
    )
    completed = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env=command_env(),
        timeout=60,
        check=True,
    )
    assert completed.stdout.strip() == "[]"


def test_without_click_the_command_says_which_extra_to_install() -> None:
    probe = (
        "import sys; sys.modules['click'] = None; "
        "from whop_dm._cli import main; main(['--version'])"
    )
    completed = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env=command_env(),
        timeout=60,
        check=False,
    )
    assert completed.returncode == 2
    assert 'pip install "whop-dm[cli]"' in completed.stderr
    assert "Traceback" not in completed.stderr


def test_an_unknown_command_is_a_usage_error() -> None:
    run = run_whop_dm("channels", "explode", env=command_env())
    assert run.code == 2


def test_commands_work_against_python_m_whop_dm_testing(served_fake: Served) -> None:
    env = command_env(WHOP_BASE_URL=served_fake.base_url, WHOP_API_KEY=served_fake.api_key)
    created = run_whop_dm("channels", "create", "--with", "alice", "--json", env=env)
    assert created.code == 0, created.output
    channel_id = json.loads(created.stdout)["id"]
    added = run_whop_dm(
        "members",
        "add",
        "--channel",
        channel_id,
        "--from",
        "-",
        "--json",
        input="user_bob\n",
        env=env,
    )
    assert added.code == 0, added.output
    assert [m["user_id"] for m in json.loads(added.stdout)["added"]] == ["user_bob"]
    assert served_fake.api_key not in created.output + added.output


def test_serve_fake_prints_a_base_url_and_a_working_key_until_terminated() -> None:
    with serving("-m", "whop_dm", "serve-fake", "--port", "0") as served:
        assert served.base_url.startswith("http://127.0.0.1:")
        assert served.lines["user_id"] == "user_demo"
        env = command_env(WHOP_BASE_URL=served.base_url, WHOP_API_KEY=served.api_key)
        run = run_whop_dm("channels", "create", "--with", "bob", "--json", env=env)
        assert run.code == 0, run.output
    assert served.process.returncode == 0
