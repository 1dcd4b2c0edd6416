"""The ``whop-dm`` command: a demo, DM chores from the shell, and the fake server.

Built on click and rich, which come with the ``cli`` extra
(``pip install "whop-dm[cli]"``); ``import whop_dm`` never loads this package.
The command adds no behaviour of its own: it parses arguments, calls the
async client (or ``whop_dm.testing``), and renders what comes back.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]

_EXTRA_DEPENDENCIES = frozenset({"click", "rich"})


def main(argv: Sequence[str] | None = None) -> None:
    """Run ``whop-dm`` with ``argv`` (default: the process arguments); exits the process."""
    try:
        from whop_dm._cli._commands import cli
    except ModuleNotFoundError as exc:
        if exc.name not in _EXTRA_DEPENDENCIES:
            raise
        sys.stderr.write(
            f"whop-dm: the command needs {exc.name}, which comes with the cli extra: "
            'pip install "whop-dm[cli]"\n'
        )
        raise SystemExit(2) from None
    cli.main(args=list(argv) if argv is not None else None, prog_name="whop-dm")
