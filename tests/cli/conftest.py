"""Fixtures for the ``whop-dm`` command's tests: the command run as a user runs it
(a subprocess of ``python -m whop_dm``), against a fake Whop on loopback.

- ``fake``: a :class:`FakeWhop` in a thread of this process, seeded with users
  and a key, so a test can set up channels and read back what the command did.
- ``served_fake``: ``python -m whop_dm.testing --port 0`` as its own process.
- ``whop_dm``: runs the command with ``WHOP_BASE_URL`` / ``WHOP_API_KEY``
  pointing at the in-thread fake (or at what a test passes).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Protocol

import attrs
import pytest

from whop_dm.testing import FakeWhop

ROOT = Path(__file__).resolve().parents[2]
# Distinctive, so that a test can look for it in everything the command printed.
API_KEY = "whop_test_Zq9SECRETkey7Xw"
ADMIN = "user_admin"
USERS = tuple(f"user_{number:03d}" for number in range(1, 61))
# A command never comes near this; it only stops a hung run from hanging the suite.
RUN_TIMEOUT = 60.0


@attrs.frozen
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def command_env(**variables: str) -> dict[str, str]:
    """The environment of a command run: no WHOP_* of the developer's, no colours."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("WHOP_") and name not in ("FORCE_COLOR", "TTY_COMPATIBLE")
    }
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["NO_COLOR"] = "1"
    env["COLUMNS"] = "200"
    env.update(variables)
    return env


class RunWhopDm(Protocol):
    def __call__(self, *args: str, input: str | None = None, **env: str) -> Run: ...


def run_whop_dm(*args: str, input: str | None = None, env: dict[str, str]) -> Run:
    completed = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "whop_dm", *args],
        input=input,
        capture_output=True,
        text=True,
        env=env,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    return Run(completed.returncode, completed.stdout, completed.stderr)


@pytest.fixture
def fake() -> Iterator[FakeWhop]:
    with FakeWhop.in_thread(seed=7) as server:
        server.add_user(ADMIN, username="admin")
        for user_id in USERS:
            server.add_user(user_id, username=user_id.removeprefix("user_"))
        server.add_api_key(API_KEY, user_id=ADMIN)
        yield server


@pytest.fixture
def whop_dm(fake: FakeWhop) -> RunWhopDm:
    def run(*args: str, input: str | None = None, **variables: str) -> Run:
        env = command_env(WHOP_BASE_URL=fake.base_url, WHOP_API_KEY=API_KEY)
        env.update(variables)
        return run_whop_dm(*args, input=input, env=env)

    return run


def new_channel(fake: FakeWhop, *user_ids: str, company_id: str | None = None) -> str:
    """A channel made by ADMIN with ``user_ids``, straight over HTTP (not through the command)."""
    body: dict[str, object] = {"with_user_ids": list(user_ids)}
    if company_id is not None:
        body["company_id"] = company_id
    request = urllib.request.Request(  # noqa: S310 - loopback
        fake.base_url + "/dm_channels",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        channel_id = json.loads(response.read())["id"]
    assert isinstance(channel_id, str)
    return channel_id


def _read_lines(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line.rstrip("\n"))
    lines.put(None)


@attrs.frozen
class Served:
    """A fake Whop running as its own process, and the ``key=value`` lines it printed."""

    base_url: str
    api_key: str
    lines: dict[str, str]
    process: subprocess.Popen[str]


@contextlib.contextmanager
def serving(*args: str, timeout: float = 30.0) -> Iterator[Served]:
    """Run ``python <args>`` (a fake server), wait (bounded) for ``ready``, terminate it after.

    The exit code of the terminated server is checked by the caller through
    ``served.process.returncode``.
    """
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=command_env(),
    )
    assert process.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()
    reader = threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True)
    reader.start()
    try:
        found: dict[str, str] = {}
        for _ in range(20):
            line = lines.get(timeout=timeout)
            if line is None or line == "ready":
                break
            name, _, value = line.partition("=")
            found[name] = value
        yield Served(found["base_url"], found["api_key"], found, process)
    finally:
        process.terminate()
        process.wait(timeout=timeout)
        reader.join(timeout=timeout)
        process.stdout.close()


@pytest.fixture(scope="module")
def served_fake() -> Iterator[Served]:
    """``python -m whop_dm.testing --port 0``, for the module's tests."""
    with serving("-m", "whop_dm.testing", "--port", "0") as served:
        yield served
