"""The one entry point for every check: ``nox`` runs them all.

Sessions: ``tests`` (each Python 3.10-3.13 found), ``lint``, ``typecheck``,
``docs`` and ``bench`` (not in the default run: it takes minutes and prints
figures rather than passing or failing).
"""

from __future__ import annotations

import nox

# uv builds the environments in seconds; plain virtualenv is the fallback.
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests", "lint", "typecheck", "docs"]
nox.options.reuse_venv = "yes"

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Run the test suite; warnings are errors (see pyproject.toml)."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


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
    """Benchmarks: ratios against raw aiohttp measured in the same run."""
    session.install("-e", ".[bench,cli]")
    session.run("python", "-m", "benchmarks", *session.posargs)
