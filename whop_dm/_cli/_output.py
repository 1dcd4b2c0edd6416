"""How the command shows things: records, bulk results, progress, errors, exit codes.

Results go to stdout (a rich rendering, or JSON with ``--json``); progress
bars and error lines go to stderr, so a pipe gets only the results. Records
are turned into JSON by the library's converter (datetimes as ISO 8601).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING, Any

import click

from whop_dm._bulk import BulkAddResult, BulkFailure
from whop_dm._errors import (
    APIError,
    AuthenticationError,
    MissingAPIKeyError,
    PermissionDeniedError,
    WhopError,
)
from whop_dm._message_models import Message
from whop_dm._models import DmChannel, DmMember
from whop_dm._progress import Progress as JobProgress
from whop_dm._progress import ProgressCallback

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_USAGE",
    "Output",
    "bulk_exit_code",
    "describe_error",
    "exit_code_for",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2  # also click's own code for a usage error


def escape(text: str) -> str:
    """``text`` with rich markup made literal (ids and messages may hold brackets)."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def exit_code_for(exc: BaseException) -> int:
    """2 for what the user must fix before trying again (arguments, key, scope); else 1."""
    if isinstance(exc, (MissingAPIKeyError, AuthenticationError, PermissionDeniedError)):
        return EXIT_USAGE
    if isinstance(exc, WhopError):
        return EXIT_FAILED
    if isinstance(exc, (ValueError, TypeError)):
        # The client checks every argument before sending anything.
        return EXIT_USAGE
    return EXIT_FAILED


def describe_error(exc: BaseException) -> str:
    """One line saying what went wrong; never holds the API key (the library's errors don't)."""
    if isinstance(exc, MissingAPIKeyError):
        return "no API key: set WHOP_API_KEY or pass --api-key"
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, AuthenticationError):
        return f"{text} (check the key in WHOP_API_KEY or --api-key)"
    if isinstance(exc, WhopError | ValueError | TypeError):
        return text
    return f"{type(exc).__name__}: {text}"


def _refused_key(result: BulkAddResult) -> Exception | None:
    """The error that stopped a bulk run because the key itself was refused (401, or a 403
    for a missing scope, as the library judges it), if that is what happened."""
    error = result.stopped_by
    if isinstance(error, (AuthenticationError, PermissionDeniedError)):
        return error
    return None


def bulk_exit_code(result: BulkAddResult) -> int:
    if result.ok:
        return EXIT_OK
    return EXIT_USAGE if _refused_key(result) is not None else EXIT_FAILED


def progress_text(progress: JobProgress) -> str:
    """What a progress bar shows beside the counts: outcomes, rate, time held, ETA."""
    parts = [f"{progress.added} added", f"{progress.failed} failed"]
    if progress.skipped:
        parts.append(f"{progress.skipped} skipped")
    parts.append(f"{progress.rate:.0f}/s")
    if progress.held >= 0.05:
        parts.append(f"held {progress.held:.1f}s")
    if progress.eta is not None:
        parts.append(f"eta {_duration(progress.eta)}")
    return ", ".join(parts)


def _duration(seconds: float) -> str:
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def unstructure(record: Any) -> Any:
    from whop_dm._converter import converter

    return converter.unstructure(record)


def _one_line(text: str, width: int = 80) -> str:
    """``text`` on one line, cut to ``width`` characters: a table row per message."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def _error_json(error: BaseException) -> dict[str, Any]:
    data: dict[str, Any] = {"type": type(error).__name__, "message": describe_error(error)}
    if isinstance(error, APIError):
        data.update(status_code=error.status_code, code=error.code, param=error.param)
    return data


def _failure_json(failure: BulkFailure) -> dict[str, Any]:
    return {
        "channel_id": failure.channel_id,
        "user_id": failure.user_id,
        "error": _error_json(failure.error),
    }


def configure_logging(debug: bool, output: Output) -> None:
    """Retry warnings are counted and shown by the commands; their log lines only with --debug."""
    logger = logging.getLogger("whop_dm")
    logger.propagate = False
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    if debug:
        from rich.logging import RichHandler

        logger.addHandler(RichHandler(console=output.err, show_path=False, markup=False))
        logger.setLevel(logging.DEBUG)
    else:
        logger.addHandler(logging.NullHandler())


class Output:
    """The renderer of one command run: human or ``--json``.

    rich is loaded only when something is rendered with it: a command that
    prints JSON or one error line starts faster without it.
    """

    def __init__(self, *, json_mode: bool = False) -> None:
        self.json_mode = json_mode

    @cached_property
    def out(self) -> Console:
        from rich.console import Console

        return Console(highlight=False, soft_wrap=True)

    @cached_property
    def err(self) -> Console:
        from rich.console import Console

        return Console(stderr=True, highlight=False, soft_wrap=True)

    # -- plumbing -------------------------------------------------------------------

    def emit_json(self, data: Any) -> None:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))

    def say(self, markup: str) -> None:
        """A line for people, on stdout; nothing in --json mode."""
        if not self.json_mode:
            self.out.print(markup)

    def error(self, exc: BaseException, *, hint: str | None = None) -> None:
        line = f"whop-dm: error: {describe_error(exc)}"
        if hint:
            line += f" ({hint})"
        click.secho(line, err=True, fg="red")

    @contextmanager
    def progress(
        self, description: str, total: int | None, status: Callable[[], str] | None = None
    ) -> Iterator[ProgressCallback | None]:
        """A live bar on stderr when it is a terminal; None (no bar) when it is piped.

        ``status()``, when given, is shown after the bar and read again at each update.
        """
        if not sys.stderr.isatty() or not self.err.is_terminal:
            yield None
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[status]}"),
            console=self.err,
        ) as bar:
            task = bar.add_task(description, total=total, status=status() if status else "")

            def update(progress: JobProgress) -> None:
                text = progress_text(progress)
                if status is not None:
                    text = f"{status()}  {text}"
                bar.update(task, completed=progress.done, total=progress.total, status=text)

            yield update

    # -- records --------------------------------------------------------------------

    def channel(self, channel: DmChannel) -> None:
        if self.json_mode:
            self.emit_json(unstructure(channel))
            return
        self.out.print(f"[bold]{escape(channel.id)}[/bold]  {escape(channel.name or '(no name)')}")
        self.out.print(f"created_at  {channel.created_at.isoformat()}")

    def channels(self, channels: Sequence[DmChannel]) -> None:
        if self.json_mode:
            self.emit_json([unstructure(channel) for channel in channels])
            return
        from rich.table import Table

        table = Table("id", "name", "created_at", "last_message_at", box=None)
        for channel in channels:
            table.add_row(
                channel.id,
                channel.name or "",
                channel.created_at.isoformat(),
                channel.last_message_at.isoformat() if channel.last_message_at else "",
            )
        self.out.print(table)
        self.out.print(f"{len(channels)} channel{'' if len(channels) == 1 else 's'}")

    def message(self, message: Message) -> None:
        if self.json_mode:
            self.emit_json(unstructure(message))
            return
        self.out.print(
            f"sent [bold]{escape(message.id)}[/bold] at {message.created_at.isoformat()}"
        )

    def messages(self, messages: Sequence[Message]) -> None:
        if self.json_mode:
            self.emit_json([unstructure(message) for message in messages])
            return
        from rich.table import Table

        table = Table("id", "created_at", "from", "content", box=None)
        for message in messages:
            table.add_row(
                message.id,
                message.created_at.isoformat(),
                escape(message.user.username or message.user.id),
                escape(_one_line(message.content or "")),
            )
        self.out.print(table)
        self.out.print(f"{len(messages)} message{'' if len(messages) == 1 else 's'}")

    def members(self, members: Sequence[DmMember]) -> None:
        if self.json_mode:
            self.emit_json([unstructure(member) for member in members])
            return
        from rich.table import Table

        table = Table("id", "user_id", "status", "last_viewed_at", box=None)
        for member in members:
            table.add_row(
                member.id,
                member.user_id,
                str(member.status.value),
                member.last_viewed_at.isoformat() if member.last_viewed_at else "",
            )
        self.out.print(table)
        self.out.print(f"{len(members)} member{'' if len(members) == 1 else 's'}")

    def removed(self, channel_id: str, removed: Sequence[DmMember], missing: Sequence[str]) -> int:
        """Show what ``members remove`` did; 1 when some users were not members."""
        if self.json_mode:
            self.emit_json(
                {
                    "ok": not missing,
                    "removed": [unstructure(member) for member in removed],
                    "not_members": list(missing),
                }
            )
        else:
            for member in removed:
                self.out.print(escape(f"removed  {member.user_id} from {channel_id}"))
            for user_id in missing:
                self.out.print(escape(f"not a member  {user_id}"))
        return EXIT_FAILED if missing else EXIT_OK

    def deleted(self, kind: str, record_id: str) -> None:
        if self.json_mode:
            self.emit_json({"id": record_id, "deleted": True})
        else:
            self.out.print(f"deleted {kind} [bold]{escape(record_id)}[/bold]")

    def interrupted(
        self, progress: JobProgress | None, total: int, journal: os.PathLike[str] | None
    ) -> None:
        """What a bulk run interrupted by Ctrl-C had done (from its last progress report)."""
        added = progress.added if progress is not None else 0
        failed = progress.failed if progress is not None else 0
        not_sent = total - (progress.done if progress is not None else 0)
        if self.json_mode:
            self.emit_json(
                {
                    "interrupted": True,
                    "added": added,
                    "failed": failed,
                    "not_sent": not_sent,
                    "journal": None if journal is None else os.fspath(journal),
                }
            )
        line = f"whop-dm: interrupted: {added} added, {failed} failed, {not_sent} not sent"
        click.echo(line, err=True)
        if journal is not None:
            click.echo("whop-dm: run the same command again to resume the job", err=True)

    def bulk(self, result: BulkAddResult, *, held: Mapping[str, float] | None = None) -> int:
        """Show a bulk result (failures listed) and return the exit code it deserves.

        ``held``: seconds each operation was held by the rate limit, shown
        when any was.
        """
        held = {op: seconds for op, seconds in (held or {}).items() if seconds > 0}
        code = bulk_exit_code(result)
        if self.json_mode:
            self.emit_json(
                {
                    "ok": result.ok,
                    "added": [unstructure(member) for member in result.added],
                    "failed": [_failure_json(failure) for failure in result.failed],
                    "skipped": [
                        {"channel_id": channel_id, "user_id": user_id}
                        for channel_id, user_id in result.skipped
                    ],
                    "duplicates": result.duplicates,
                    "resumed": result.resumed,
                    "stopped_by": (
                        None if result.stopped_by is None else _error_json(result.stopped_by)
                    ),
                    "held_s": {op: round(seconds, 3) for op, seconds in held.items()},
                }
            )
            return code
        refused = _refused_key(result)
        if refused is not None:
            # One line, not one per pair: no pair could be added with this key.
            self.error(refused, hint=f"{len(result.failed) + len(result.skipped)} not added")
            return code
        channels = len({member.channel_id for member in result.added})
        self.out.print(
            f"added {len(result.added)} member{'' if len(result.added) == 1 else 's'} "
            f"to {channels} channel{'' if channels == 1 else 's'}"
        )
        if result.resumed:
            self.out.print(f"{result.resumed} settled by an earlier run (from the journal)")
        for failure in result.failed:
            self.out.print(
                escape(
                    f"failed  {failure.channel_id},{failure.user_id}  "
                    f"{describe_error(failure.error)}"
                )
            )
        for channel_id, user_id in result.skipped:
            self.out.print(escape(f"skipped  {channel_id},{user_id}"))
        if result.duplicates:
            self.out.print(f"{result.duplicates} repeated pair(s) sent once")
        for operation, seconds in held.items():
            self.out.print(escape(f"held {seconds:.1f} s by the rate limit: {operation}"))
        if result.stopped_by is not None:
            self.error(result.stopped_by, hint="the run stopped here")
        if not result.ok:
            self.out.print(f"{len(result.failed)} failed, {len(result.skipped)} skipped")
        return code
