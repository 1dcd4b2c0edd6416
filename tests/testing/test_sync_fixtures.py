"""The blocking fixtures: ``whop_fake_thread`` and ``whop_sync_client``."""

from __future__ import annotations

from pathlib import Path

import pytest

import whop_dm
from whop_dm.testing import FakeWhop

from ._plugin_suite import run_plugin_suite


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
    run_plugin_suite(tmp_path, "test_blocking.py", _PLUGIN_SYNC_TEST, mode)
