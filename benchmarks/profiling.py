"""``python -m benchmarks profile bulk|sequential``: where the client spends its CPU.

The stub server runs in its own process as in the suite; the runner runs in this
process with a profiler started and stopped by the runner's clock, so imports, client
construction and the warm-up stay out of the profile.

- ``--tool pyinstrument`` (default): a sampling call tree; also saved as HTML under
  ``benchmarks/results/``.
- ``--tool cprofile``: deterministic counts and own time per function, first for the
  whole process, then for ``whop_dm`` functions only. It slows every Python call, so
  read its times as shares, not as speeds.

Both see only the main thread. The sync ``Client`` runs its calls on a loop thread
of its own, so ``--runner sequential.sync`` profiles only the caller's side (the
hand-over and the wait); profile ``sequential.async`` for the work on the loop.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from collections.abc import Callable

from . import runners
from .processes import stub_server
from .report import RESULTS_DIR

DEFAULT_RUNNER = {"bulk": "bulk.async_gather", "sequential": "sequential.async"}
DEFAULT_N = {"bulk": 5_000, "sequential": 1_000}


def _pyinstrument_hooks(name: str) -> tuple[Callable[[], None], Callable[[], None]]:
    try:
        from pyinstrument import Profiler
    except ImportError:
        sys.exit("pyinstrument is not installed: pip install pyinstrument, or use --tool cprofile")
    profiler = Profiler(interval=0.0005, async_mode="disabled")

    def stop() -> None:
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False))
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        path = RESULTS_DIR / time.strftime(f"profile-{name}-%Y%m%d-%H%M%S.html")
        path.write_text(profiler.output_html())
        print(f"call tree saved to {path}")

    return profiler.start, stop


def _cprofile_hooks(top: int) -> tuple[Callable[[], None], Callable[[], None]]:
    profiler = cProfile.Profile()

    def stop() -> None:
        profiler.disable()
        for title, restriction in (("whole process", ()), ("whop_dm only", ("whop_dm",))):
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out).sort_stats("tottime")
            stats.print_stats(*restriction, top)
            print(f"==== {title}, by own time ====")
            print(out.getvalue())

    return profiler.enable, stop


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks profile")
    parser.add_argument("workload", choices=sorted(DEFAULT_RUNNER))
    parser.add_argument("--runner", choices=sorted(runners.RUNNERS), help="another runner")
    parser.add_argument("--n", type=int, help="calls (5000 bulk, 1000 sequential)")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--tool", choices=("pyinstrument", "cprofile"), default="pyinstrument")
    parser.add_argument("--top", type=int, default=30, help="rows per cProfile listing")
    args = parser.parse_args(argv)
    name = args.runner or DEFAULT_RUNNER[args.workload]
    if args.tool == "pyinstrument":
        start, stop = _pyinstrument_hooks(name)
    else:
        start, stop = _cprofile_hooks(args.top)
    with stub_server() as server:
        ctx = runners.Context(
            base_url=server.base_url,
            api_key=server.api_key,
            n=args.n or DEFAULT_N[args.workload],
            concurrency=args.concurrency,
            warmup=100,
            tag="p",
            per_channel=40,
            fake=False,
            server_pid=server.pid,
            on_clock_start=start,
            on_clock_stop=stop,
        )
        result = runners.run(name, ctx)
    if "unavailable" in result:
        print(f"{name}: unavailable ({result['unavailable']})", file=sys.stderr)
        return 1
    print(
        f"{name}: {result['ops_per_s']:,.0f} ops/s under the profiler,"
        f" {result['cpu_ms_per_call']:.3f} ms CPU/call (profiler overhead included)"
    )
    return 0
