"""Ways of running the fake: in a thread, as its own process, through the pytest plugin."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from whop_dm.testing import FakeWhop

from ._plugin_suite import run_plugin_suite

ROOT = Path(__file__).resolve().parents[2]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def _blocking(method: str, url: str, key: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - loopback
    request.add_header("Authorization", f"Bearer {key}")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_in_thread_serves_blocking_callers_and_takes_controls_from_them() -> None:
    with FakeWhop.in_thread(max_channel_members=5) as fake:
        fake.add_user("user_a", username="a")
        fake.add_user("user_b", username="b")
        key = fake.add_api_key("k", user_id="user_a")
        status, channel = _blocking(
            "POST", fake.base_url + "/dm_channels", key, {"with_user_ids": ["b"]}
        )
        assert status == 200
        assert channel["id"] in fake.channels
        fake.fail_next(1, status=503)
        assert _blocking("GET", fake.base_url + "/dm_channels", key)[0] == 503
        assert [r.method for r in fake.requests] == ["POST", "GET"]
    with pytest.raises(urllib.error.URLError):
        _blocking("GET", fake.base_url + "/dm_channels", key)


def test_in_thread_reports_a_port_already_taken() -> None:
    with FakeWhop.in_thread() as first:
        port = int(first.base_url.split(":")[2].split("/")[0])
        with pytest.raises(OSError, match=str(port)), FakeWhop.in_thread(port=port):
            pass


async def test_close_is_idempotent_and_a_closed_fake_does_not_restart() -> None:
    fake = FakeWhop()
    await fake.start()
    await fake.close()
    await fake.close()
    with pytest.raises(RuntimeError, match="closed"):
        await fake.start()


def test_base_url_before_start_says_what_to_do() -> None:
    with pytest.raises(RuntimeError, match="not started"):
        _ = FakeWhop().base_url


async def test_python_m_whop_dm_testing_serves_until_terminated() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "whop_dm.testing",
        "--port",
        "0",
        stdout=asyncio.subprocess.PIPE,
        env=_env(),
    )
    try:
        assert process.stdout is not None
        lines: dict[str, str] = {}
        for _ in range(10):  # base_url, api_key, user_id, ready
            line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode().strip()
            if line == "ready" or not line:
                break
            name, _, value = line.partition("=")
            lines[name] = value
        assert lines["base_url"].startswith("http://127.0.0.1:")
        assert lines["base_url"].endswith("/api/v1")
        headers = {"Authorization": f"Bearer {lines['api_key']}"}
        async with (
            aiohttp.ClientSession(headers=headers) as session,
            session.post(
                lines["base_url"] + "/dm_channels", json={"with_user_ids": ["alice"]}
            ) as response,
        ):
            assert response.status == 200
            assert (await response.json())["id"].startswith("feed_")
    finally:
        if process.returncode is None:
            process.terminate()
        code = await asyncio.wait_for(process.wait(), 20)
    assert code == 0


_PLUGIN_TEST = """
import aiohttp
import pytest


@pytest.mark.asyncio
async def test_fixtures(whop_fake, whop_api_key):
    whop_fake.add_user("user_bob", username="bob")
    headers = {"Authorization": f"Bearer {whop_api_key}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.post(
            whop_fake.base_url + "/dm_channels", json={"with_user_ids": ["bob"]}
        ) as response:
            assert response.status == 200
    channel = next(iter(whop_fake.channels.values()))
    assert channel.participants == {"user_owner", "user_bob"}
"""


@pytest.mark.parametrize("mode", ["auto", "strict"])
def test_plugin_fixtures_work_in_both_pytest_asyncio_modes(tmp_path: Path, mode: str) -> None:
    run_plugin_suite(tmp_path, "test_uses_plugin.py", _PLUGIN_TEST, mode)


async def test_whop_fake_fixture_has_the_owner_and_a_full_key(
    whop_fake: FakeWhop, whop_api_key: str
) -> None:
    headers = {"Authorization": f"Bearer {whop_api_key}"}
    async with (
        aiohttp.ClientSession(headers=headers) as session,
        session.get(whop_fake.base_url + "/dm_channels") as response,
    ):
        assert response.status == 200
    whop_fake.add_user("user_x")
    status = await _post(
        whop_fake, whop_api_key, {"with_user_ids": ["owner@example.com", "user_x"]}
    )
    assert status == 200


async def _post(fake: FakeWhop, key: str, body: Any) -> int:
    headers = {"Authorization": f"Bearer {key}"}
    async with (
        aiohttp.ClientSession(headers=headers) as session,
        session.post(fake.base_url + "/dm_channels", json=body) as response,
    ):
        return response.status


async def test_whop_client_fixture_talks_to_the_fake(whop_client: Any, whop_fake: FakeWhop) -> None:
    whop_fake.add_user("user_bob")
    channel = await whop_client.dm_channels.create(with_user_ids=["user_bob"])
    assert channel.id in whop_fake.channels
    assert whop_fake.channels[channel.id].participants == {"user_owner", "user_bob"}
