"""The README's samples run against ``whop-dm serve-fake`` started as the README says.

A reader without a Whop account follows "Trying the samples": serve the fake
with the command shown, export the two variables, then run each sample. This
does the same, in order, against one served fake, each sample a script of its
own in a fresh interpreter.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

from docs_samples import README, blocks

from .conftest import RUN_TIMEOUT, command_env, serving


def _shown_commands() -> list[list[str]]:
    return [
        shlex.split(line.removeprefix("$ "))
        for block in blocks(README)
        if block.language == "console"
        for line in block.code.splitlines()
        if line.startswith("$ ")
    ]


def test_the_readme_tells_how_to_serve_the_fake_and_point_at_it() -> None:
    commands = _shown_commands()
    assert any(args[:2] == ["whop-dm", "serve-fake"] for args in commands)
    exported = {
        arg.split("=", 1)[0] for args in commands if args[:1] == ["export"] for arg in args[1:]
    }
    assert {"WHOP_BASE_URL", "WHOP_API_KEY"} <= exported


def test_readme_samples_run_against_the_fake_served_as_shown(tmp_path: Path) -> None:
    [args] = [args for args in _shown_commands() if args[:2] == ["whop-dm", "serve-fake"]]
    # As shown, but on a free port: 8080 may be taken on the machine running the tests.
    port = args.index("--port") + 1
    args[port] = "0"
    samples = [s for s in blocks(README) if s.is_python and s.no_run is None and not s.is_test_file]
    assert len(samples) >= 3
    with serving("-m", "whop_dm", *args[1:]) as served:
        env = command_env(WHOP_BASE_URL=served.base_url, WHOP_API_KEY=served.api_key)
        for sample in samples:
            script = tmp_path / f"sample_{sample.line}.py"
            script.write_text(sample.code, encoding="utf-8")
            done = subprocess.run(  # noqa: S603 - our own interpreter, the README's sample
                [sys.executable, str(script)],
                capture_output=True,
                text=True,
                env=env,
                timeout=RUN_TIMEOUT,
                check=False,
            )
            assert done.returncode == 0, f"{sample.id}:\n{done.stdout}{done.stderr}"
