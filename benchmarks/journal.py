"""What a journal costs: ``bulk_create(..., journal=PATH)`` against the same call without.

Two runners, registered in ``benchmarks.runners``:

- ``bulk.bulk_create_journal`` runs in the bulk group, beside ``bulk.bulk_create``:
  the same workload with a fresh journal file (in a temporary directory) per run.
  Its target is a ratio to ``bulk_create`` of the same repetition (at least 0.90x),
  not to raw aiohttp.
- ``rss.bulk_create_journal``: peak RSS of one journaled ``bulk_create`` over a
  generator of n pairs, at the memory section's small and large n. A journaled run
  keeps no per-pair record in memory, so the growth should be close to nothing.

Its results go into the record as ``journal_rss`` and come out as lines under the
table (``report_lines``).
"""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

JOURNAL_RATIO_TARGET = 0.90
JOURNAL_RSS_TARGET_MB = 5.0
RUNNER = "bulk.bulk_create_journal"
UNJOURNALED = "bulk.bulk_create"


async def _journaled(ctx: Any, *, measure_rss: bool) -> None:
    from . import runners

    client = runners._async_client(ctx)
    with tempfile.TemporaryDirectory(prefix="whop-dm-bench-") as folder:
        async with client:
            if not hasattr(client.dm_members, "bulk_create"):
                raise runners.Unavailable("bulk_create does not exist yet")
            warm = await client.dm_members.bulk_create(
                ctx.warmup_pairs(), concurrency=ctx.concurrency, journal=Path(folder) / "warm"
            )
            runners._expect_ok(warm, ctx.warmup)
            if measure_rss:
                ctx.measured["rss_before_mb"] = runners._peak_rss_mb()
            with ctx.clock():
                result = await client.dm_members.bulk_create(
                    ctx.pairs(), concurrency=ctx.concurrency, journal=Path(folder) / "job"
                )
            if measure_rss:
                ctx.measured["peak_rss_mb"] = runners._peak_rss_mb()
        # Reading the records back from the file is part of the check, after the clock.
        runners._expect_ok(result, ctx.n)
        ctx.check(map(runners._ids, result.added))


def journal_runners(run_async: Callable[[Any], Callable[[Any], None]]) -> dict[str, Any]:
    """The runners to add to ``benchmarks.runners.RUNNERS``."""
    return {
        RUNNER: run_async(lambda ctx: _journaled(ctx, measure_rss=False)),
        "rss.bulk_create_journal": run_async(lambda ctx: _journaled(ctx, measure_rss=True)),
    }


def run_journal_rss(server: Any, plan: Any, log: Callable[[str], None]) -> dict[str, Any]:
    """Peak RSS of a journaled ``bulk_create`` at the memory section's two sizes."""
    from .processes import run_runner

    samples: dict[str, list[dict[str, Any]]] = {"small": [], "large": []}
    for rep in range(plan.rss_reps):
        for size, n in (("small", plan.rss_small), ("large", plan.rss_large)):
            result = run_runner(
                "rss.bulk_create_journal",
                server,
                n=n,
                concurrency=plan.concurrency,
                warmup=plan.warmup,
                tag=f"j{rep}{size[0]}",
            )
            samples[size].append(result)
            peak = result.get("peak_rss_mb")
            extra = f", peak RSS {peak:.1f} MB" if peak is not None else ""
            log(f"[rss {rep + 1}/{plan.rss_reps}] journaled bulk_create n={n:,}{extra}")
    return {"small_n": plan.rss_small, "large_n": plan.rss_large, "samples": samples}


def _journal_ratio(record: dict[str, Any]) -> tuple[float | None, str]:
    samples = record.get("groups", {}).get("bulk", {})
    plain = {r["rep"]: r for r in samples.get(UNJOURNALED, []) if "ops_per_s" in r}
    ratios = [
        r["ops_per_s"] / plain[r["rep"]]["ops_per_s"]
        for r in samples.get(RUNNER, [])
        if "ops_per_s" in r and r["rep"] in plain
    ]
    if not ratios:
        return None, "n/a"
    ratio = statistics.median(ratios)
    return ratio, "PASS" if ratio >= JOURNAL_RATIO_TARGET else "MISS"


def _journal_rss(record: dict[str, Any]) -> tuple[dict[str, float] | None, str]:
    rss = record.get("journal_rss")
    if not rss:
        return None, "n/a"
    peaks = {
        size: [r["peak_rss_mb"] for r in rss["samples"][size] if "checked" in r]
        for size in ("small", "large")
    }
    if not peaks["small"] or not peaks["large"]:
        return None, "n/a"
    small, large = statistics.median(peaks["small"]), statistics.median(peaks["large"])
    figures = {"small_mb": small, "large_mb": large, "growth_mb": large - small}
    return figures, "PASS" if large - small <= JOURNAL_RSS_TARGET_MB else "MISS"


def verdicts(record: dict[str, Any]) -> list[str]:
    """PASS / MISS / n/a of the journal's targets (for the summary's ``all_met``)."""
    found = []
    if RUNNER in record.get("groups", {}).get("bulk", {}):
        found.append(_journal_ratio(record)[1])
    if record.get("journal_rss"):
        found.append(_journal_rss(record)[1])
    return found


def report_lines(record: dict[str, Any]) -> list[str]:
    lines = []
    if RUNNER in record.get("groups", {}).get("bulk", {}):
        ratio, verdict = _journal_ratio(record)
        shown = "n/a" if ratio is None else f"{ratio:.2f}x"
        lines.append(
            f"- journaled bulk_create: {shown} of bulk_create without a journal, same"
            f" repetition (target >= {JOURNAL_RATIO_TARGET:.2f}x): {verdict}"
        )
    rss = record.get("journal_rss")
    if rss:
        figures, verdict = _journal_rss(record)
        if figures is None:
            lines.append("- peak RSS of journaled bulk_create: n/a")
        else:
            lines.append(
                f"- peak RSS of journaled bulk_create: {rss['small_n']:,} pairs"
                f" {figures['small_mb']:.1f} MB, {rss['large_n']:,} pairs"
                f" {figures['large_mb']:.1f} MB, growth {figures['growth_mb']:+.1f} MB"
                f" (target <= {JOURNAL_RSS_TARGET_MB:.0f} MB): {verdict}"
            )
    return lines
