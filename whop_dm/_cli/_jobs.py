"""``whop-dm jobs``: the journal of a long bulk job, read and retried.

``members add --journal FILE`` writes the journal; these commands read it
(``status``, which works while the job runs) and send again the pairs whose
errors may pass on a retry (``retry-failed``, through the client's
``dm_members.retry_failed``).
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import click

from whop_dm._cli._commands import (
    Settings,
    _api_options,
    _client,
    _concurrency_option,
    _execute,
    _output_options,
)
from whop_dm._cli._output import EXIT_OK, Output

__all__ = ["jobs"]

_JOURNAL = click.Path(dir_okay=False, path_type=Path)


@click.group()
def jobs() -> None:
    """Long bulk jobs kept in a journal (members add --journal FILE): status, retry."""


def _seconds(value: float | None) -> str:
    if value is None:
        return "unknown"
    return str(datetime.timedelta(seconds=round(value)))


@jobs.command("status")
@click.argument("journal", type=_JOURNAL, metavar="FILE")
@_output_options
def jobs_status(journal: Path, json_mode: bool, debug: bool) -> None:
    """Where the job of journal FILE stands: pairs by state, errors by type, rate, ETA.

    Reads the file without locking it: a job running on it goes on.
    """
    from whop_dm._journal import journal_status

    async def work(output: Output) -> int:
        status = journal_status(journal)
        if output.json_mode:
            output.emit_json(
                {
                    "journal": status.path,
                    "job_id": status.job_id,
                    "kind": status.kind,
                    "channel_id": status.channel_id,
                    "finished": status.finished,
                    "runs": status.runs,
                    "total": status.total,
                    "counts": status.counts,
                    "errors": status.errors,
                    "retryable": status.retryable,
                    "elapsed_s": status.elapsed,
                    "rate_per_s": status.rate,
                    "eta_s": status.eta,
                }
            )
            return EXIT_OK
        kind = status.kind if status.channel_id is None else f"{status.kind} {status.channel_id}"
        state = "finished" if status.finished else "not finished"
        output.say(f"[bold]job[/bold]       {kind} ({state}, {status.runs} run(s))")
        counts = ", ".join(f"{count} {name}" for name, count in status.counts.items())
        output.say(f"[bold]pairs[/bold]     {status.total}: {counts}")
        for error_type, count in status.errors.items():
            output.say(f"[bold]failed[/bold]    {count} {error_type}")
        if status.retryable:
            output.say(f"[bold]retryable[/bold] {status.retryable} (whop-dm jobs retry-failed)")
        rate = "unknown" if status.rate is None else f"{status.rate:.1f} pairs/s"
        output.say(f"[bold]elapsed[/bold]   {_seconds(status.elapsed)}")
        output.say(f"[bold]rate[/bold]      {rate}")
        output.say(f"[bold]eta[/bold]       {_seconds(status.eta)}")
        return EXIT_OK

    _execute(Settings(json_mode=json_mode, debug=debug), work)


@jobs.command("retry-failed")
@click.argument("journal", type=_JOURNAL, metavar="FILE")
@_concurrency_option
@_api_options
def jobs_retry_failed(journal: Path, concurrency: int, **options: Any) -> None:
    """Send again the failed pairs of journal FILE whose errors may pass on a retry.

    Those that got no answer, a 5xx, 409 or 429, or stopped the run (a refused
    key, since fixed); not those refused for good (unknown user, full channel).
    Each goes with a fresh Idempotency-Key. Exits 1 when some fail again.
    """
    settings = Settings(**options)

    async def work(output: Output) -> int:
        async with _client(settings) as client:
            with output.progress("retrying", None) as bar:
                result = await client.dm_members.retry_failed(
                    journal, concurrency=concurrency, on_progress=bar
                )
        return output.bulk(result)

    _execute(settings, work)
