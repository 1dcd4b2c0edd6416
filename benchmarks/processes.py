"""Starting the servers and the runner processes, each in its own interpreter."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .runners import RESULT_PREFIX

# The repository root, so ``python -m benchmarks.*`` resolves from any working directory.
ROOT = Path(__file__).resolve().parent.parent
RUNNER_TIMEOUT_S = 600.0
SERVER_START_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Server:
    """A server process the runners talk to, over 127.0.0.1 only."""

    base_url: str
    api_key: str
    pid: int
    fake: bool


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    # Runners must not inherit a profiler, coverage or a debug allocator from the parent.
    for name in ("PYTHONMALLOC", "PYTHONDEVMODE", "PYTHONTRACEMALLOC", "COVERAGE_PROCESS_START"):
        env.pop(name, None)
    return env


def _read_lines_until(
    proc: subprocess.Popen[str], wanted: tuple[str, ...], timeout: float
) -> dict[str, str]:
    """Read ``key=value`` lines from a starting server until every wanted key is seen."""
    assert proc.stdout is not None
    found: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    while not all(key in found for key in wanted):
        if time.monotonic() > deadline or proc.poll() is not None:
            raise RuntimeError(f"server did not start: saw {found}, exit code {proc.poll()}")
        line = proc.stdout.readline()
        key, sep, value = line.strip().partition("=")
        if sep:
            found[key.strip()] = value.strip()
    return found


@contextlib.contextmanager
def _server_process(
    args: list[str], wanted: tuple[str, ...]
) -> Iterator[tuple[int, dict[str, str]]]:
    proc = subprocess.Popen(
        [sys.executable, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=child_env(),
        cwd=ROOT,
    )
    try:
        found = _read_lines_until(proc, wanted, SERVER_START_TIMEOUT_S)
        yield proc.pid, found
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()


@contextlib.contextmanager
def stub_server() -> Iterator[Server]:
    """The minimal loopback server of ``benchmarks.stub_server``."""
    args = ["-m", "benchmarks.stub_server", "--port", "0", "--watch-stdin"]
    with _server_process(args, ("port",)) as (pid, found):
        base_url = f"http://127.0.0.1:{found['port']}/api/v1"
        yield Server(base_url=base_url, api_key="bench_key", pid=pid, fake=False)


@contextlib.contextmanager
def fake_server(users: int) -> Iterator[Server]:
    """whop_dm's own ``FakeWhop`` in its own process, with ``users`` users seeded."""
    args = ["-m", "benchmarks.fake_server", "--users", str(users), "--watch-stdin"]
    with _server_process(args, ("base_url", "api_key")) as (pid, found):
        yield Server(base_url=found["base_url"], api_key=found["api_key"], pid=pid, fake=True)


def fake_server_available() -> str | None:
    """None if ``whop_dm.testing.FakeWhop`` can be imported here, else why not."""
    probe = subprocess.run(
        [sys.executable, "-c", "from whop_dm.testing import FakeWhop"],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    if probe.returncode:
        last = (probe.stderr.strip().splitlines() or ["no output"])[-1]
        return f"whop_dm.testing.FakeWhop is not importable yet ({last})"
    return None


def run_runner(
    name: str,
    server: Server,
    *,
    n: int,
    concurrency: int,
    warmup: int,
    tag: str,
    per_channel: int = 40,
) -> dict[str, Any]:
    """Run one runner in a fresh process; its RESULT record (or why there is none)."""
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.runners",
        name,
        "--base-url",
        server.base_url,
        "--api-key",
        server.api_key,
        "--n",
        str(n),
        "--concurrency",
        str(concurrency),
        "--warmup",
        str(warmup),
        "--tag",
        tag,
        "--per-channel",
        str(per_channel),
        "--server-pid",
        str(server.pid),
    ]
    if server.fake:
        cmd.append("--fake")
    try:
        done = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            env=child_env(),
            cwd=ROOT,
            timeout=RUNNER_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"runner": name, "failed": f"timed out after {RUNNER_TIMEOUT_S:.0f} s"}
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            result: dict[str, Any] = json.loads(line[len(RESULT_PREFIX) :])
            if "failed" in result:
                result["stderr_tail"] = done.stderr[-2000:]
            return result
    return {
        "runner": name,
        "failed": f"no result (exit code {done.returncode})",
        "stderr_tail": done.stderr[-2000:],
    }
