"""From raw samples to the table: medians, within-repetition ratios, targets."""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import journal

RESULTS_DIR = Path(__file__).resolve().parent / "results"

LABELS = {
    "bulk.raw_aiohttp": "raw aiohttp (baseline)",
    "bulk.async_gather": "AsyncClient + gather",
    "bulk.bulk_create": "dm_members.bulk_create",
    "bulk.bulk_create_journal": "bulk_create with a journal",
    "bulk.sdk_async": "whop-sdk AsyncWhop + gather",
    "sequential.raw_aiohttp": "raw aiohttp (baseline)",
    "sequential.async": "AsyncClient",
    "sequential.sync": "Client (sync)",
    "sequential.sdk_sync": "whop-sdk Whop (sync)",
    "sequential.sdk_async": "whop-sdk AsyncWhop",
}

# (group, runner) -> (the runner it is measured against, least ratio to it within
# the same repetition). The bars of issue 14: the async client against raw aiohttp,
# the blocking Client against the official SDK's blocking client.
RATIO_TARGETS = {
    ("bulk", "bulk.async_gather"): ("bulk.raw_aiohttp", 0.80),
    ("bulk", "bulk.bulk_create"): ("bulk.raw_aiohttp", 0.80),
    ("sequential", "sequential.async"): ("sequential.raw_aiohttp", 0.80),
    ("sequential", "sequential.sync"): ("sequential.sdk_sync", 1.0),
}
IMPORT_TARGET_MS = 25.0
RSS_TARGET_MB = 30.0
BASELINES = {
    "bulk": "bulk.raw_aiohttp",
    "sequential": "sequential.raw_aiohttp",
    "fake": "bulk.raw_aiohttp",
}


@dataclass
class Row:
    group: str
    runner: str
    status: str  # "ok", "unavailable", "failed"
    reps: int = 0
    ops_per_s: float | None = None
    ratio: float | None = None
    cpu_ms: float | None = None
    server_cpu_ms: float | None = None
    client_cpu_share: float | None = None
    target: float | None = None
    target_of: str | None = None  # the runner the target is a ratio to
    target_ratio: float | None = None
    verdict: str = ""
    note: str = ""


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _ratio(
    good: list[dict[str, Any]], samples: dict[str, list[dict[str, Any]]], baseline: str
) -> float | None:
    """Median over repetitions of the ratio to ``baseline`` in the same repetition."""
    base_by_rep = {r["rep"]: r for r in samples.get(baseline, []) if "ops_per_s" in r}
    return _median(
        [
            r["ops_per_s"] / base_by_rep[r["rep"]]["ops_per_s"]
            for r in good
            if r["rep"] in base_by_rep
        ]
    )


def summarise_group(group: str, samples: dict[str, list[dict[str, Any]]]) -> list[Row]:
    rows = []
    for runner, results in samples.items():
        good = [r for r in results if "ops_per_s" in r]
        row = Row(group=group, runner=runner, status="ok", reps=len(good))
        if not good:
            bad = results[0] if results else {"failed": "not run"}
            row.status = "unavailable" if "unavailable" in bad else "failed"
            row.note = str(bad.get("unavailable") or bad.get("failed"))
        else:
            if len(good) < len(results):
                row.note = f"{len(results) - len(good)} repetition(s) failed"
            row.ops_per_s = _median([r["ops_per_s"] for r in good])
            row.cpu_ms = _median([r["cpu_ms_per_call"] for r in good])
            row.server_cpu_ms = _median(
                [r["server_cpu_ms_per_call"] for r in good if "server_cpu_ms_per_call" in r]
            )
            row.client_cpu_share = _median([r["cpu_s"] / r["wall_s"] for r in good])
            row.ratio = _ratio(good, samples, BASELINES[group])
        if (group, runner) in RATIO_TARGETS:
            row.target_of, row.target = RATIO_TARGETS[group, runner]
            row.target_ratio = _ratio(good, samples, row.target_of) if good else None
            if row.target_ratio is None:
                row.verdict = "n/a"
            else:
                row.verdict = "PASS" if row.target_ratio >= row.target else "MISS"
        rows.append(row)
    return rows


def summarise(record: dict[str, Any]) -> dict[str, Any]:
    """Rows per group plus the import and memory verdicts, added to the record."""
    rows = [
        row
        for group, samples in record.get("groups", {}).items()
        for row in summarise_group(group, samples)
    ]
    summary: dict[str, Any] = {"rows": [row.__dict__ for row in rows]}
    imp = record.get("import")
    if imp is not None:
        if "extra_ms" in imp:
            verdict = "PASS" if imp["extra_ms"] <= IMPORT_TARGET_MS else "MISS"
            summary["import"] = {**_without(imp, "samples_ms"), "verdict": verdict}
        else:
            summary["import"] = {"verdict": "n/a", "note": imp.get("unavailable")}
    rss = record.get("rss")
    if rss is not None:
        summary["rss"] = _summarise_rss(rss)
    if record.get("limit") is not None:
        from . import limit

        summary["limit"] = limit.summarise(record["limit"])
    verdicts = [r.verdict for r in rows if r.verdict]
    verdicts += summary["limit"]["verdicts"] if "limit" in summary else []
    verdicts += [summary[k]["verdict"] for k in ("import", "rss") if k in summary]
    verdicts += journal.verdicts(record)
    summary["all_met"] = all(v == "PASS" for v in verdicts)
    summary["misses"] = verdicts.count("MISS")
    summary["not_measured"] = verdicts.count("n/a")
    record["summary"] = summary
    return summary


def _without(d: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k != key}


def _summarise_rss(rss: dict[str, Any]) -> dict[str, Any]:
    if "unavailable" in rss:
        return {"verdict": "n/a", "note": rss["unavailable"]}
    peaks = {
        size: [r["peak_rss_mb"] for r in rss["samples"][size] if "checked" in r]
        for size in ("small", "large")
    }
    if not peaks["small"] or not peaks["large"]:
        failed = [r for s in rss["samples"].values() for r in s if "failed" in r]
        return {"verdict": "n/a", "note": failed[0]["failed"] if failed else "no samples"}
    small, large = statistics.median(peaks["small"]), statistics.median(peaks["large"])
    growth = large - small
    return {
        "small_n": rss["small_n"],
        "large_n": rss["large_n"],
        "small_mb": small,
        "large_mb": large,
        "growth_mb": growth,
        "verdict": "PASS" if growth <= RSS_TARGET_MB else "MISS",
    }


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def table(record: dict[str, Any]) -> str:
    """The summary as a Markdown table (it reads as well in a terminal)."""
    summary = record["summary"]
    plan = record["plan"]
    sizes = {
        "bulk": f"{plan['bulk_n']:,} calls, concurrency {plan['concurrency']}",
        "sequential": f"{plan['sequential_n']:,} calls, one at a time",
        "fake": f"{plan['bulk_n']:,} calls, concurrency {plan['concurrency']}, FakeWhop",
    }
    lines = [
        "| group | runner | ops/s | x raw aiohttp | client CPU ms/call | server CPU ms/call"
        " | target | result |",
        "|---|---|---:|---:|---:|---:|---|---|",
    ]
    for row in summary["rows"]:
        target = ""
        if row["target"] is not None:
            of = "raw aiohttp" if row["target_of"] == BASELINES[row["group"]] else None
            target = f">= {row['target']:.2f}x {of or LABELS.get(row['target_of'], '')}"
        if row["status"] != "ok":
            result = f"{row['verdict'] or ''} {row['status']}: {row['note']}".strip()
        else:
            notes = [row["note"]] if row["note"] else []
            if row["target_ratio"] is not None and row["target_of"] != BASELINES[row["group"]]:
                notes.insert(0, f"{row['target_ratio']:.2f}x")
            result = row["verdict"] + (f" ({'; '.join(notes)})" if notes else "")
        lines.append(
            f"| {row['group']} | {LABELS.get(row['runner'], row['runner'])}"
            f" | {_fmt(row['ops_per_s'], ',.0f')} | {_fmt(row['ratio'], '.2f')}"
            f" | {_fmt(row['cpu_ms'], '.3f')} | {_fmt(row['server_cpu_ms'], '.3f')}"
            f" | {target} | {result} |"
        )
    lines.append("")
    for group, text in sizes.items():
        if any(row["group"] == group for row in summary["rows"]):
            lines.append(f"- {group}: {text}; median of {_reps(record, group)} repetitions")
    imp = summary.get("import")
    if imp:
        if "extra_ms" in imp:
            lines.append(
                f"- import: aiohttp {imp['aiohttp_ms']:.1f} ms, whop_dm {imp['whop_dm_ms']:.1f} ms,"
                f" difference {imp['extra_ms']:+.1f} ms"
                f" (target <= aiohttp + {IMPORT_TARGET_MS:.0f} ms): {imp['verdict']}"
            )
        else:
            lines.append(f"- import: n/a ({imp['note']})")
    rss = summary.get("rss")
    if rss:
        if "growth_mb" in rss:
            lines.append(
                f"- peak RSS of bulk_create: {rss['small_n']:,} pairs {rss['small_mb']:.1f} MB,"
                f" {rss['large_n']:,} pairs {rss['large_mb']:.1f} MB, growth"
                f" {rss['growth_mb']:+.1f} MB (target <= {RSS_TARGET_MB:.0f} MB): {rss['verdict']}"
            )
        else:
            lines.append(f"- peak RSS of bulk_create: n/a ({rss['note']})")
    lines += journal.report_lines(record)
    if "limit" in summary:
        from . import limit

        lines.extend(limit.report_lines(summary["limit"]))
    if record.get("fake_unavailable"):
        lines.append(f"- fake server: n/a ({record['fake_unavailable']})")
    m = record["machine"]
    lines.append(
        f"- machine: {m['cpus']} CPUs (shared), {m['platform']}, {m['implementation']}"
        f" {m['python']}; load average {m['loadavg_at_start'][0]:.2f} at start,"
        f" {m['loadavg_at_end'][0]:.2f} at end; {record['elapsed_s']:.0f} s in all"
    )
    return "\n".join(lines)


def _reps(record: dict[str, Any], group: str) -> int:
    samples = record["groups"].get(group, {})
    return max((len(v) for v in samples.values()), default=0)


def write_json(record: dict[str, Any], path: Path | None = None) -> Path:
    if path is None:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        path = RESULTS_DIR / time.strftime("bench-%Y%m%d-%H%M%S.json")
    path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    return path
