"""Run a user's small test suite in a subprocess, with the whop_dm pytest plugin.

The suite is one test file and a ``pytest.ini`` in the given mode of
pytest-asyncio, warnings as errors. Exactly the two plugins are loaded, whether
or not whop-dm is installed, and no WHOP_ or PYTEST_ variable of this run leaks in.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_plugin_suite(tmp_path: Path, name: str, source: str, mode: str) -> None:
    """Write ``source`` as ``name`` under ``tmp_path`` and check its one test passes."""
    (tmp_path / name).write_text(source)
    (tmp_path / "pytest.ini").write_text(
        textwrap.dedent(f"""
        [pytest]
        asyncio_mode = {mode}
        asyncio_default_fixture_loop_scope = function
        filterwarnings = error
        """)
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WHOP_", "PYTEST_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    result = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "pytest_asyncio.plugin",
            "-p",
            "whop_dm.testing.pytest_plugin",
            "-p",
            "no:cacheprovider",
            str(tmp_path),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
