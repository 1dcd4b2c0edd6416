"""Every ``whop-dm`` command line shown in the docs and the README parses.

The shell sessions are not run (they talk to the real API, or serve until
Ctrl-C), but each command, subcommand, option and argument they show must
exist: a renamed option breaks this test, not the reader's shell.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import click
import pytest
from docs_samples import Sample, blocks, documents

from whop_dm._cli._commands import cli

SHELLS = ("console", "bash", "sh", "shell")


def _command_lines() -> list[tuple[Sample, str]]:
    found = []
    for path in documents():
        for sample in blocks(path):
            if sample.language not in SHELLS:
                continue
            for line in sample.code.splitlines():
                # In a console session, only prompt lines are commands; the rest is output.
                if sample.language == "console" and not line.startswith("$ "):
                    continue
                text = line.removeprefix("$ ").strip()
                # The command may follow a pipe or an &&.
                for part in text.replace("&&", "|").split("|"):
                    part = part.strip()
                    if part.startswith("whop-dm "):
                        found.append((sample, part))
    return found


LINES = _command_lines()


def _leaf_commands(group: click.Group, prefix: str = "") -> list[str]:
    context = click.Context(group)
    found = []
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        assert command is not None
        if command.hidden:
            continue
        if isinstance(command, click.Group):
            found += _leaf_commands(command, f"{prefix}{name} ")
        else:
            found.append(prefix + name)
    return found


def test_the_docs_show_every_command() -> None:
    # Taken from the CLI itself: a new command without a documented line fails here.
    shown = {" ".join(shlex.split(line)[1:3]) for _, line in LINES}
    commands = _leaf_commands(cli)
    assert {"demo", "members add", "jobs status", "listen"} <= set(commands)
    missing = [c for c in commands if not any(s.startswith(c) for s in shown)]
    assert missing == []


@pytest.mark.parametrize(
    ("sample", "line"), LINES, ids=[f"{s.id}:{line[:40]}" for s, line in LINES]
)
def test_documented_command_line_parses(
    sample: Sample, line: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = shlex.split(line)[1:]
    # Files the line names must exist for click.File to open them.
    monkeypatch.chdir(tmp_path)
    for arg in args:
        if arg.endswith((".txt", ".csv")):
            (tmp_path / arg).write_text("", encoding="utf-8")
    command: click.Command = cli
    names = ["whop-dm"]
    parent = None
    while isinstance(command, click.Group):
        context = click.Context(command, info_name=names[-1], parent=parent)
        name, args = args[0], args[1:]
        found = command.get_command(context, name)
        assert found is not None, f"{sample.id}: no command {' '.join([*names, name])!r}"
        command, parent = found, context
        names.append(name)
    # Raises click.UsageError for an unknown option, a missing or bad value.
    with command.make_context(names[-1], list(args), parent=parent) as context:
        assert context.command is command
