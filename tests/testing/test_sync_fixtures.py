"""The blocking fixtures: ``whop_fake_thread`` and ``whop_sync_client``."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import whop_dm
from whop_dm.testing import FakeWhop

ROOT = Path(__file__).resolve().parents[2]


def test_sync_client_fixture_talks_to_the_thread_fake(
    whop_fake_thread: FakeWhop, whop_sync_client: whop_dm.Client
) -> None:
    whop_fake_thread.add_user("user_alice")
    channel = whop_sync_client.dm_channels.create(with_user_ids=["user_alice"])
    members = [m.user_id for m in whop_sync_client.dm_members.list(channel_id=channel.id)]
    assert members == ["user_owner", "user_alice"]
    assert whop_sync_client.base_url == whop_fake_thread.base_url


def test_thread_fake_has_the_owner_and_the_same_key(
    whop_fake_thread: FakeWhop, whop_api_key: str
) -> None:
    with whop_dm.Client(whop_api_key, base_url=whop_fake_thread.base_url) as client:
        channel = client.dm_channels.create(with_user_ids=["owner@example.com"])
    assert whop_fake_thread.channels[channel.id].participants == {"user_owner"}


_PLUGIN_SYNC_TEST = """
import whop_dm


def test_blocking_fixtures(whop_fake_thread, whop_sync_client):
    whop_fake_thread.add_user("user_bob")
    channel = whop_sync_client.dm_channels.create(with_user_ids=["user_bob"])
    assert whop_fake_thread.channels[channel.id].participants == {"user_owner", "user_bob"}
"""


@pytest.mark.parametrize("mode", ["auto", "strict"])
def test_blocking_fixtures_work_from_a_users_suite_in_both_modes(tmp_path: Path, mode: str) -> None:
    (tmp_path / "test_blocking.py").write_text(_PLUGIN_SYNC_TEST)
    (tmp_path / "pytest.ini").write_text(
        textwrap.dedent(f"""
        [pytest]
        asyncio_mode = {mode}
        asyncio_default_fixture_loop_scope = function
        filterwarnings = error
        """)
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WHOP_", "PYTEST_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    # Load exactly the two plugins, whether or not whop-dm is installed.
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    result = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "pytest_asyncio.plugin",
            "-p",
            "whop_dm.testing.pytest_plugin",
            "-p",
            "no:cacheprovider",
            str(tmp_path),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
