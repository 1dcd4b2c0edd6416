"""Import cost of ``whop_dm`` against ``aiohttp`` alone, in fresh interpreters.

``python -X importtime -c "import X"`` writes one line per module imported, with its
cumulative time in microseconds; the line of the top-level module ``X`` (no leading
indentation) holds the whole cost of ``import X``, its dependencies included. Each
figure is the median of several fresh processes, run alternately (aiohttp, whop_dm,
aiohttp, ...) so that a noisy moment hits both.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from typing import Any

from .processes import ROOT, child_env


def import_time_ms(module: str) -> float:
    """Cumulative import time of ``module`` in one fresh interpreter, in ms."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    for line in done.stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        fields = line[len("import time:") :].split("|")
        if len(fields) == 3 and fields[2].rstrip() == f" {module}":
            return int(fields[1]) / 1000
    raise RuntimeError(f"no importtime line for the top-level module {module!r}")


def measure(runs: int) -> dict[str, Any]:
    """Median import times of aiohttp and whop_dm, and their difference."""
    samples: dict[str, list[float]] = {"aiohttp": [], "whop_dm": []}
    for _ in range(runs):
        for module in samples:
            try:
                samples[module].append(import_time_ms(module))
            except (subprocess.CalledProcessError, RuntimeError) as exc:
                err = getattr(exc, "stderr", None) or str(exc)
                return {"unavailable": f"import {module} failed: {err.strip().splitlines()[-1]}"}
    medians = {module: statistics.median(values) for module, values in samples.items()}
    return {
        "samples_ms": samples,
        "aiohttp_ms": medians["aiohttp"],
        "whop_dm_ms": medians["whop_dm"],
        "extra_ms": medians["whop_dm"] - medians["aiohttp"],
    }
