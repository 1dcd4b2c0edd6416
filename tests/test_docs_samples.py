"""Every Python sample of the README and the docs runs, against the fake server.

A renamed argument, a removed method or a sample that no longer does what
its text says breaks this suite, not the reader. See ``tests/docs_samples.py``
for how samples are found and marked.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest
from docs_samples import (
    DOCS,
    README,
    SAMPLE_KEY,
    SAMPLE_OWNER,
    SAMPLE_USERS,
    Sample,
    blocks,
    python_samples,
)

from whop_dm.testing import FakeWhop

SAMPLES = python_samples()
SCRIPTS = [s for s in SAMPLES if s.no_run is None and not s.is_test_file]
TEST_FILES = [s for s in SAMPLES if s.no_run is None and s.is_test_file]
NOT_RUN = [s for s in SAMPLES if s.no_run is not None]

# The two set-up commands of the README's quickstart, character for character:
# the second is what .ci/run runs.
QUICKSTART = (
    'python3 -m pip install -e ".[cli]" && whop-dm demo',
    'python3 -m pip install "nox[uv]" && python3 -m nox',
)


@pytest.fixture
def sample_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeWhop]:
    """A fresh fake with the samples' users, named by WHOP_API_KEY and WHOP_BASE_URL."""
    with FakeWhop.in_thread() as fake:
        for user_id, username in SAMPLE_USERS:
            fake.add_user(user_id, username=username, email=f"{username}@example.com")
        fake.add_api_key(SAMPLE_KEY, user_id=SAMPLE_OWNER)
        monkeypatch.setenv("WHOP_API_KEY", SAMPLE_KEY)
        monkeypatch.setenv("WHOP_BASE_URL", fake.base_url)
        # Samples that show logging set up handlers, as a program would; they
        # must not outlive the sample (and write to a closed capture stream).
        logger = logging.getLogger("whop_dm")
        handlers, level = list(logger.handlers), logger.level
        try:
            yield fake
        finally:
            for handler in [h for h in logger.handlers if h not in handlers]:
                logger.removeHandler(handler)
            logger.setLevel(level)


def _handler_lines(code: str) -> set[int]:
    """The first line of every ``except`` block of a sample (1-based)."""
    lines = code.splitlines()
    wanted = set()
    for number, line in enumerate(lines, start=1):
        if _EXCEPT.match(line):
            following = next(
                n
                for n in range(number + 1, len(lines) + 1)
                if lines[n - 1].strip() and not lines[n - 1].lstrip().startswith("#")
            )
            wanted.add(following)
    return wanted


_EXCEPT = re.compile(r"^\s*except\b.*:\s*(#.*)?$")


def _run_tracing_lines(code: object, filename: str, namespace: dict[str, object]) -> set[int]:
    """exec ``code`` and return the line numbers of it that ran (this thread only)."""
    ran: set[int] = set()

    def local(frame: FrameType, event: str, arg: object) -> object:
        if event == "line":
            ran.add(frame.f_lineno)
        return local

    def tracer(frame: FrameType, event: str, arg: object) -> object:
        return local if frame.f_code.co_filename == filename else None

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        exec(code, namespace)  # noqa: S102 - the samples of our own docs
    finally:
        sys.settrace(previous)
    return ran


@pytest.mark.parametrize("sample", SCRIPTS, ids=[s.id for s in SCRIPTS])
def test_sample_runs(sample: Sample, sample_env: FakeWhop) -> None:
    filename = f"<{sample.id}>"
    code = compile(sample.code, filename, "exec")
    namespace: dict[str, object] = {"__name__": "__main__", "__file__": str(sample.path)}
    ran = _run_tracing_lines(code, filename, namespace)
    # A sample that shows how to catch an error must really get that error.
    missed = sorted(_handler_lines(sample.code) - ran)
    assert not missed, f"{sample.id}: except blocks never entered, sample lines {missed}"


def _pytest_config(mode: str) -> str:
    """The pytest config the README shows, for auto mode; without its
    ``asyncio_mode`` line (pytest-asyncio's strict default), as the README says."""
    [config] = [b.code for b in blocks(README) if b.title == "pyproject.toml"]
    if mode == "auto":
        return config
    strict = [line for line in config.splitlines() if not line.startswith("asyncio_mode")]
    return "\n".join(strict) + "\n"


def test_the_testing_guide_shows_the_readmes_pytest_config() -> None:
    guide = DOCS / "guides" / "testing.md"
    shown = {b.code for b in blocks(guide) if b.title == "pyproject.toml"}
    assert shown == {_pytest_config("auto")}
    assert 'asyncio_mode = "auto"' in _pytest_config("auto")
    assert "asyncio_mode" not in _pytest_config("strict")
    assert "asyncio_default_fixture_loop_scope" in _pytest_config("strict")


@pytest.mark.parametrize("mode", ["auto", "strict"])
@pytest.mark.parametrize("sample", TEST_FILES, ids=[s.id for s in TEST_FILES])
def test_sample_test_file_passes_under_pytest(sample: Sample, mode: str, tmp_path: Path) -> None:
    # As a reader's suite runs it: in its own directory, with the config the
    # README shows (auto mode, or strict without the asyncio_mode line), and
    # warnings as errors.
    assert sample.title is not None
    target = tmp_path / Path(sample.title).name
    target.write_text(sample.code, encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(_pytest_config(mode), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WHOP_", "PYTEST_"))}
    result = subprocess.run(  # noqa: S603 - our own interpreter, our own file
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-W",
            "error",
            str(target),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # The config was read: pytest-asyncio names the mode it runs in.
    assert re.search(rf"asyncio: mode=(Mode\.)?{mode}\b", output, re.IGNORECASE), output
    passed = re.search(r"(\d+) passed", output)
    assert passed is not None, output
    assert int(passed.group(1)) >= 1, output
    assert re.search(r"\b\d+ (failed|errors?|xfailed|skipped|warnings?)\b", output) is None, output


def test_samples_are_found() -> None:
    # Guards the extractor: a parsing slip would silently run nothing.
    assert len(SCRIPTS) >= 25
    assert len(TEST_FILES) >= 2
    readme = [s for s in SCRIPTS if s.path == README]
    assert len(readme) >= 3


def test_every_sample_left_out_says_why_and_they_stay_rare() -> None:
    for sample in NOT_RUN:
        assert sample.no_run, f"{sample.id}: a no-run marker must give its reason"
    assert len(NOT_RUN) <= 3, [s.id for s in NOT_RUN]


def test_every_guide_has_a_runnable_sample() -> None:
    guides = {s.path.name for s in SCRIPTS + TEST_FILES if s.path.parent.name == "guides"}
    # The CLI and conformance guides show shell sessions; the rest show code.
    expected = {
        "async-bots.md",
        "sync.md",
        "bulk.md",
        "listing.md",
        "retries.md",
        "errors.md",
        "testing.md",
        "security.md",
        "observability.md",
        "bots.md",
        "rate-limits.md",
    }
    assert expected <= guides, sorted(expected - guides)


def test_readme_quickstart_is_exactly_the_two_set_up_commands() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    shell = [b for b in blocks(README) if b.language in ("bash", "sh", "console")]
    in_section = [b for b in shell if b.code.strip() and b.code.strip() in section]
    assert len(in_section) == 1, "the quickstart holds one shell block"
    commands = [line for line in in_section[0].code.splitlines() if line.strip()]
    assert tuple(commands) == QUICKSTART


def test_ci_runs_the_readme_command_verbatim() -> None:
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert QUICKSTART[1] in ci.splitlines()
