"""The whole benchmark run: which runners, how many calls, in what order.

Runners of a group (bulk, sequential, bulk against the fake server) are interleaved
-- A B C D, A B C D, ... -- so that a noisy stretch of this shared machine lands on
every runner of the repetition, not on one of them; the report then takes each
runner's ratio to raw aiohttp within a repetition before taking the median.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib import metadata
from typing import Any

from . import importtime
from .journal import run_journal_rss
from .processes import Server, fake_server, fake_server_available, run_runner, stub_server


@dataclass(frozen=True)
class Plan:
    """Sizes of one run; ``quick`` is a smoke test, not a measurement."""

    reps: int = 5
    bulk_n: int = 5_000
    sequential_n: int = 1_000
    concurrency: int = 64
    warmup: int = 100
    import_runs: int = 7
    rss_small: int = 10_000
    rss_large: int = 100_000
    rss_reps: int = 2
    fake_reps: int = 3
    # The limit group (benchmarks/limit.py): each run lasts about two windows.
    limit_reps: int = 1
    limit_window: float = 20.0
    sections: tuple[str, ...] = ("bulk", "sequential", "import", "rss", "fake", "limit")

    @classmethod
    def quick(cls) -> Plan:
        return cls(
            reps=2,
            bulk_n=1_000,
            sequential_n=200,
            warmup=50,
            import_runs=3,
            rss_small=2_000,
            rss_large=20_000,
            rss_reps=1,
            fake_reps=1,
            # The limit group lasts minutes whatever its sizes (two windows of
            # at least 20 s per run): ask for it with --only limit.
            sections=("bulk", "sequential", "import", "rss", "fake"),
        )


@dataclass(frozen=True)
class Group:
    """Runners measured side by side; the first is the baseline of the ratios."""

    name: str
    runners: tuple[str, ...]
    n_field: str


GROUPS = {
    "bulk": Group(
        "bulk",
        (
            "bulk.raw_aiohttp",
            "bulk.async_gather",
            "bulk.bulk_create",
            "bulk.bulk_create_journal",
            "bulk.sdk_async",
        ),
        "bulk_n",
    ),
    "sequential": Group(
        "sequential",
        (
            "sequential.raw_aiohttp",
            "sequential.async",
            "sequential.sync",
            "sequential.sdk_sync",
        ),
        "sequential_n",
    ),
    "fake": Group("fake", ("bulk.raw_aiohttp", "bulk.async_gather", "bulk.bulk_create"), "bulk_n"),
}

Log = Callable[[str], None]


def _describe(result: dict[str, Any]) -> str:
    if "unavailable" in result:
        return f"unavailable ({result['unavailable']})"
    if "failed" in result:
        return f"FAILED ({result['failed']})"
    return f"{result['ops_per_s']:,.0f} ops/s, {result['cpu_ms_per_call']:.3f} ms CPU/call"


def run_group(
    group: Group, server: Server, plan: Plan, reps: int, log: Log
) -> dict[str, list[dict[str, Any]]]:
    """Every runner of the group once per repetition, in order; results per runner."""
    n = getattr(plan, group.n_field)
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name in group.runners}
    skip: set[str] = set()
    for rep in range(reps):
        for index, name in enumerate(group.runners):
            if name in skip:
                continue
            result = run_runner(
                name,
                server,
                n=n,
                concurrency=plan.concurrency,
                warmup=plan.warmup,
                tag=f"{group.name[0]}{rep}{index}",
            )
            result["rep"] = rep
            samples[name].append(result)
            log(f"[{group.name} {rep + 1}/{reps}] {name}: {_describe(result)}")
            if "unavailable" in result:
                skip.add(name)  # it will not appear between two repetitions
    return samples


def run_rss(server: Server, plan: Plan, log: Log) -> dict[str, Any]:
    """Peak RSS of ``bulk_create`` over a generator of the small and the large n."""
    samples: dict[str, list[dict[str, Any]]] = {"small": [], "large": []}
    for rep in range(plan.rss_reps):
        for size, n in (("small", plan.rss_small), ("large", plan.rss_large)):
            result = run_runner(
                "rss.bulk_create",
                server,
                n=n,
                concurrency=plan.concurrency,
                warmup=plan.warmup,
                tag=f"r{rep}{size[0]}",
            )
            samples[size].append(result)
            extra = f", peak RSS {result['peak_rss_mb']:.1f} MB" if "peak_rss_mb" in result else ""
            log(f"[rss {rep + 1}/{plan.rss_reps}] bulk_create n={n:,}: {_describe(result)}{extra}")
            if "unavailable" in result:
                return {"unavailable": result["unavailable"], "samples": samples}
    return {"small_n": plan.rss_small, "large_n": plan.rss_large, "samples": samples}


def machine() -> dict[str, Any]:
    def version(dist: str) -> str | None:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return None

    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "packages": {
            dist: version(dist)
            for dist in ("whop-dm", "aiohttp", "whop-sdk", "httpx", "attrs", "cattrs", "tenacity")
        },
        "loadavg_at_start": os.getloadavg(),
    }


def run(plan: Plan, log: Log) -> dict[str, Any]:
    """The whole run, as the JSON record the report reads."""
    started = time.time()
    record: dict[str, Any] = {"machine": machine(), "plan": asdict(plan), "groups": {}}
    if {"bulk", "sequential", "rss"} & set(plan.sections):
        with stub_server() as server:
            for name in ("bulk", "sequential"):
                if name in plan.sections:
                    record["groups"][name] = run_group(GROUPS[name], server, plan, plan.reps, log)
            if "rss" in plan.sections:
                record["rss"] = run_rss(server, plan, log)
                record["journal_rss"] = run_journal_rss(server, plan, log)
    if "fake" in plan.sections:
        why_not = fake_server_available()
        if why_not:
            log(f"[fake] skipped: {why_not}")
            record["fake_unavailable"] = why_not
        else:
            with fake_server(plan.bulk_n + plan.warmup) as server:
                record["groups"]["fake"] = run_group(
                    GROUPS["fake"], server, plan, plan.fake_reps, log
                )
    if "limit" in plan.sections:
        from . import limit

        record["limit"] = limit.run_group(plan.limit_reps, 100, plan.limit_window, log)
    if "import" in plan.sections:
        record["import"] = importtime.measure(plan.import_runs)
        if "extra_ms" in record["import"]:
            imp = record["import"]
            log(f"[import] aiohttp {imp['aiohttp_ms']:.1f} ms, whop_dm {imp['whop_dm_ms']:.1f} ms")
        else:
            log(f"[import] {record['import'].get('unavailable')}")
    record["machine"]["loadavg_at_end"] = os.getloadavg()
    record["elapsed_s"] = time.time() - started
    return record
