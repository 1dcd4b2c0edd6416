"""``python -m benchmarks``: measure, print the table, keep the JSON.

    python -m benchmarks                     # the full run (several minutes)
    python -m benchmarks --quick             # a smoke run: fewer calls and repetitions
    python -m benchmarks --only bulk,import  # some sections only
    python -m benchmarks --strict            # exit 1 if a target is missed
    python -m benchmarks profile bulk        # where whop_dm spends its time

A missed target is printed, not raised: the figures of a shared machine vary, and the
run is there to inform. ``--strict`` turns a MISS (or a client that could not be
measured) into exit status 1.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from . import report
from .suite import Plan


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Throughput, CPU per call, import time and memory of whop_dm.",
        epilog="Subcommand: 'python -m benchmarks profile {bulk,sequential}'.",
    )
    parser.add_argument("--quick", action="store_true", help="a fast smoke run")
    parser.add_argument("--reps", type=int, help="repetitions of each group (default 5)")
    parser.add_argument("--bulk-n", type=int, help="calls per bulk run (default 5000)")
    parser.add_argument("--sequential-n", type=int, help="calls per sequential run (1000)")
    parser.add_argument(
        "--only",
        help="comma-separated sections: bulk, sequential, import, rss, fake, limit (default: all)",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 unless every target is met")
    parser.add_argument("--json", type=Path, help="where to write the results (default: results/)")
    args = parser.parse_args(argv)

    plan = Plan.quick() if args.quick else Plan()
    changes: dict[str, object] = {}
    if args.reps is not None:
        changes.update(reps=args.reps, fake_reps=min(args.reps, plan.fake_reps) or 1)
    if args.bulk_n is not None:
        changes["bulk_n"] = args.bulk_n
    if args.sequential_n is not None:
        changes["sequential_n"] = args.sequential_n
    if args.only:
        sections = tuple(s.strip() for s in args.only.split(",") if s.strip())
        unknown = set(sections) - set(Plan().sections)
        if unknown:
            parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
        changes["sections"] = sections
    if changes:
        plan = dataclasses.replace(plan, **changes)  # type: ignore[arg-type]

    from .suite import run

    record = run(plan, _log)
    summary = report.summarise(record)
    path = report.write_json(record, args.json)
    print(report.table(record))
    print(f"\nresults written to {path}")
    if args.strict and not summary["all_met"]:
        print(
            f"--strict: {summary['misses']} target(s) missed,"
            f" {summary['not_measured']} not measured",
            file=sys.stderr,
        )
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "profile":
        from .profiling import main as profile_main

        return profile_main(argv[1:])
    return _run(argv)


if __name__ == "__main__":
    sys.exit(main())
