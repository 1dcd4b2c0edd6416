"""The commands of ``whop-dm``: argument parsing, one call into the client, rendering.

Every command that talks to Whop builds one `AsyncClient` and
calls its methods; bulk adds go through ``add_many`` / ``bulk_create``. Exit
codes: 0 all done, 1 something failed (listed), 2 usage or authentication
errors (bad arguments, no key, 401, 403). An error is one line on stderr;
``--debug`` adds the traceback and the client's log lines.
"""

from __future__ import annotations

import asyncio
import sys
import traceback
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO, TypeVar

import attrs
import click

from whop_dm._cli._inputs import read_pairs, read_user_ids
from whop_dm._cli._output import (
    EXIT_FAILED,
    EXIT_OK,
    Output,
    configure_logging,
    exit_code_for,
)
from whop_dm._client import AsyncClient
from whop_dm._progress import Progress
from whop_dm._version import __version__

if TYPE_CHECKING:
    from whop_dm.testing._serve import SeedUser

__all__ = ["cli"]

F = TypeVar("F", bound=Callable[..., Any])

_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
_EXIT_INTERRUPTED = 130


@attrs.frozen
class Settings:
    """What every command shares: where to send requests and how to show the outcome."""

    api_key: str | None = attrs.field(default=None, repr=False)
    base_url: str | None = None
    json_mode: bool = False
    debug: bool = False


def _output_options(func: F) -> F:
    func = click.option(
        "--debug", is_flag=True, help="On error, show the traceback; show the client's log."
    )(func)
    return click.option("--json", "json_mode", is_flag=True, help="Print JSON to stdout.")(func)


def _api_options(func: F) -> F:
    func = _output_options(func)
    func = click.option(
        "--base-url",
        envvar="WHOP_BASE_URL",
        metavar="URL",
        help="API root. [env: WHOP_BASE_URL; default: https://api.whop.com/api/v1]",
    )(func)
    # The key's value is never shown: not in help, not in errors (no show_default, no echo).
    return click.option(
        "--api-key",
        envvar="WHOP_API_KEY",
        metavar="KEY",
        help="Whop API key. [env: WHOP_API_KEY]",
    )(func)


def _concurrency_option(func: F) -> F:
    return click.option(
        "--concurrency",
        type=click.IntRange(min=1, max=1000),
        default=16,
        show_default=True,
        help="Requests in flight at once.",
    )(func)


def _listen_options(func: F) -> F:
    """``--host`` and ``--port`` of the commands that serve HTTP on loopback."""
    func = click.option(
        "--port",
        type=click.IntRange(min=0, max=65535),
        default=8080,
        show_default=True,
        help="0 picks a free port.",
    )(func)
    return click.option(
        "--host", default="127.0.0.1", show_default=True, help="Address to listen on."
    )(func)


def _execute(
    settings: Settings,
    work: Callable[[Output], Coroutine[Any, Any, int]],
    interrupted: Callable[[Output], None] | None = None,
) -> NoReturn:
    """Run ``work`` on a fresh event loop; exit with its code, or the error's.

    On Ctrl-C, ``interrupted(output)`` says what was done, when given.
    """
    output = Output(json_mode=settings.json_mode)
    configure_logging(settings.debug, output)
    try:
        code = asyncio.run(work(output))
    except click.ClickException:
        raise
    except KeyboardInterrupt:
        if interrupted is not None:
            interrupted(output)
        else:
            click.echo("whop-dm: interrupted", err=True)
        code = _EXIT_INTERRUPTED
    except Exception as exc:
        if settings.debug:
            traceback.print_exc()
        output.error(exc)
        code = exit_code_for(exc)
    raise click.exceptions.Exit(code)


def _client(settings: Settings) -> AsyncClient:
    return AsyncClient(api_key=settings.api_key, base_url=settings.base_url)


def _seed_options(func: F) -> F:
    func = click.option(
        "--users",
        "numbered",
        type=click.IntRange(min=0, max=1_000_000),
        default=0,
        metavar="N",
        help="Add N users: user_0001 ... user_N.",
    )(func)
    func = click.option(
        "--users-file",
        "users_files",
        multiple=True,
        type=click.File("r", encoding="utf-8"),
        metavar="FILE",
        help="Add the users of FILE: one id a line, or CSV with a header "
        "(id, username, email, name). Repeatable.",
    )(func)
    return click.option(
        "--user", "user_ids", multiple=True, metavar="ID", help="Add a user. Repeatable."
    )(func)


def _seed_users(
    user_ids: tuple[str, ...], users_files: tuple[TextIO, ...], numbered: int
) -> list[SeedUser]:
    from whop_dm.testing._serve import SeedUser, numbered_users, read_users

    users = [SeedUser(user_id) for user_id in user_ids]
    for stream in users_files:
        try:
            users.extend(read_users(stream))
        except ValueError as exc:
            raise click.BadParameter(
                f"{getattr(stream, 'name', '-')}, {exc}", param_hint="'--users-file'"
            ) from None
    users.extend(numbered_users(numbered))
    return users


# -- the group --------------------------------------------------------------------------


@click.group(context_settings=_CONTEXT)
@click.version_option(__version__, "--version", prog_name="whop-dm", message="%(prog)s %(version)s")
def cli() -> None:
    """Whop DMs from the shell: create channels, add members, send messages.

    Commands that talk to Whop read the key from WHOP_API_KEY (or --api-key).
    Try `whop-dm demo` first: it needs no key.
    """


# -- demo and serve-fake ----------------------------------------------------------------


@cli.command()
@click.option(
    "--members",
    type=click.IntRange(min=1, max=1_000_000),
    default=500,
    show_default=True,
    help="Memberships to add.",
)
@_concurrency_option
@click.option(
    "--chaos",
    type=click.FloatRange(min=0.0, max=1.0),
    default=0.05,
    show_default=True,
    metavar="RATE",
    help="Share of requests the fake answers with a 429, a 5xx or a dropped connection.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the faults.")
@_output_options
def demo(
    members: int, concurrency: int, chaos: float, seed: int, json_mode: bool, debug: bool
) -> None:
    """Run a bulk job against an embedded fake Whop: no key, nothing left running.

    Creates the DM channels needed (at most 50 members each) and adds MEMBERS
    memberships across them concurrently while the fake injects faults, then
    prints what happened: channels, members added, failed, retries, elapsed,
    requests per second.
    """
    from whop_dm._cli._demo import run_demo

    async def work(output: Output) -> int:
        summary, result = await run_demo(
            output, members=members, concurrency=concurrency, chaos=chaos, seed=seed
        )
        if output.json_mode:
            output.emit_json(summary.as_json())
        else:
            for failure in result.failed:
                output.say(f"failed    {failure.channel_id},{failure.user_id}  {failure.error}")
            for label, value in (
                ("channels", f"{summary.channels}"),
                ("added", f"{summary.added}"),
                ("failed", f"{summary.failed + summary.skipped}"),
                ("retries", f"{summary.retries}"),
                ("held by rate limit", f"{summary.held_s:.2f} s"),
                ("requests", f"{summary.requests}"),
                ("elapsed", f"{summary.elapsed_s:.2f} s"),
                ("req/s", f"{summary.requests_per_second:.0f}"),
            ):
                output.say(f"[bold]{label:<9}[/bold] {value}")
        return EXIT_OK if result.ok else EXIT_FAILED

    _execute(Settings(json_mode=json_mode, debug=debug), work)


@cli.command("serve-fake")
@_listen_options
@_seed_options
@click.option(
    "--webhook",
    "webhooks",
    multiple=True,
    metavar="URL",
    help="Deliver every message created to URL (loopback only), signed; may repeat.",
)
@click.option(
    "--webhook-secret",
    envvar="WHOP_WEBHOOK_SECRET",
    metavar="SECRET",
    help="Sign deliveries with this ws_... secret (default: a new one, printed).",
)
def serve_fake(
    host: str, port: int, webhooks: tuple[str, ...], webhook_secret: str | None, **seeds: Any
) -> None:
    """Run the fake Whop DM API until Ctrl-C.

    Prints `base_url=...`, `api_key=...` (a key of the fake, with every scope),
    `user_id=...` and `ready`, one a line. Users `alice` and `bob` exist to
    talk to; --user, --users-file and --users add more. With --webhook and no
    secret given, it also prints the new `webhook_secret=...`.
    """
    from whop_dm.testing import serve

    users = _seed_users(**seeds)
    click.echo("whop-dm: serving a fake Whop; Ctrl-C to stop", err=True)
    try:
        serve(host, port, users=users, webhooks=webhooks, webhook_secret=webhook_secret)
    except ValueError as exc:
        # Two users claim one username or email: nothing was served.
        raise click.UsageError(str(exc)) from None
    except OSError as exc:
        Output().error(exc, hint=f"cannot listen on {host}:{port}")
        raise click.exceptions.Exit(EXIT_FAILED) from None


# -- channels ---------------------------------------------------------------------------


@cli.group()
def channels() -> None:
    """DM channels: create, list, show, delete."""


@channels.command("create")
@click.option(
    "--with",
    "with_user_ids",
    multiple=True,
    required=True,
    metavar="USER",
    help="A user to include (id, username or email); more may follow as arguments.",
)
@click.argument("more_user_ids", nargs=-1, metavar="[USER]...")
@click.option("--company", "company_id", metavar="ID", help="Scope the channel to a company.")
@click.option("--name", "custom_name", metavar="TEXT", help="A display name for the channel.")
@_api_options
def channels_create(
    with_user_ids: tuple[str, ...],
    more_user_ids: tuple[str, ...],
    company_id: str | None,
    custom_name: str | None,
    **options: Any,
) -> None:
    """Create a DM channel with users (or get the existing one with the same users)."""
    settings = Settings(**options)

    async def work(output: Output) -> int:
        async with _client(settings) as client:
            channel = await client.dm_channels.create(
                with_user_ids=[*with_user_ids, *more_user_ids],
                company_id=company_id,
                custom_name=custom_name,
            )
        output.channel(channel)
        return EXIT_OK

    _execute(settings, work)


@channels.command("list")
@click.option("--company", "company_id", metavar="ID", help="Only channels of this company.")
@_api_options
def channels_list(company_id: str | None, **options: Any) -> None:
    """List the DM channels the key's user belongs to."""
    settings = Settings(**options)

    async def work(output: Output) -> int:
        async with _client(settings) as client:
            found = [channel async for channel in client.dm_channels.list(company_id=company_id)]
        output.channels(found)
        return EXIT_OK

    _execute(settings, work)


@channels.command("show")
@click.argument("channel_id", metavar="ID")
@_api_options
def channels_show(channel_id: str, **options: Any) -> None:
    """Show one DM channel the key's user belongs to."""
    settings = Settings(**options)

    async def work(output: Output) -> int:
        async with _client(settings) as client:
            channel = await client.dm_channels.retrieve(channel_id)
        output.channel(channel)
        return EXIT_OK

    _execute(settings, work)


@channels.command("delete")
@click.argument("channel_id", metavar="ID")
@click.option("--yes", is_flag=True, help="Do not ask; needed when stdin is not a terminal.")
@_api_options
def channels_delete(channel_id: str, yes: bool, **options: Any) -> None:
    """Delete a DM channel, its memberships and its messages (its admin only)."""
    settings = Settings(**options)
    if not yes:
        if not sys.stdin.isatty():
            raise click.UsageError("deleting a channel cannot be undone: pass --yes to confirm")
        click.confirm(f"Delete {channel_id} and all its messages?", abort=True, err=True)

    async def work(output: Output) -> int:
        async with _client(settings) as client:
            await client.dm_channels.delete(channel_id)
        output.deleted("channel", channel_id)
        return EXIT_OK

    _execute(settings, work)


# -- members ----------------------------------------------------------------------------


@cli.group()
def members() -> None:
    """Members of DM channels: add them in bulk, list them, remove them."""


@members.command("add")
@click.option("--channel", "channel_id", metavar="ID", help="The channel to add users to.")
@click.argument("user_ids", nargs=-1, metavar="[USER]...")
@click.option(
    "--from",
    "users_file",
    type=click.File("r", encoding="utf-8"),
    metavar="FILE",
    help="Read user ids from FILE (- for stdin), one a line.",
)
@click.option(
    "--pairs",
    "pairs_file",
    type=click.File("r", encoding="utf-8"),
    metavar="FILE",
    help="Read channel_id,user_id pairs from FILE (- for stdin), one a line, instead.",
)
@_concurrency_option
@click.option(
    "--journal",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Record the job in FILE; the same command run again resumes it.",
)
@_api_options
def members_add(
    channel_id: str | None,
    user_ids: tuple[str, ...],
    users_file: TextIO | None,
    pairs_file: TextIO | None,
    concurrency: int,
    journal: Path | None,
    **options: Any,
) -> None:
    """Add users to a channel (--channel ID with USERs or --from FILE), or pairs (--pairs FILE).

    Files take one item a line; blank lines and lines starting with # are
    skipped. Exits 1 when some could not be added (they are listed). With
    --journal FILE the job survives a crash or Ctrl-C: run the same command
    again to resume it (see `whop-dm jobs`). Ctrl-C prints what was done.
    """
    settings = Settings(**options)
    if pairs_file is not None:
        if channel_id is not None or user_ids or users_file is not None:
            raise click.UsageError("--pairs cannot be combined with --channel, USER or --from")
        pairs = read_pairs(pairs_file)
        if not pairs:
            raise click.UsageError("the --pairs file holds no channel_id,user_id line")
        total = len(pairs)
    else:
        if channel_id is None:
            raise click.UsageError(
                "say what to add: --channel ID with USERs or --from FILE, or --pairs FILE"
            )
        if user_ids and users_file is not None:
            raise click.UsageError("give user ids as arguments or with --from, not both")
        users = list(user_ids) if users_file is None else read_user_ids(users_file)
        if not users:
            raise click.UsageError("no user ids to add")
        total = len(users)

    last: list[Progress] = []

    async def work(output: Output) -> int:
        async with _client(settings) as client:
            with output.progress("adding members", total) as bar:

                def on_progress(progress: Progress) -> None:
                    last[:] = [progress]
                    if bar is not None:
                        bar(progress)

                if pairs_file is not None:
                    result = await client.dm_members.bulk_create(
                        pairs, concurrency=concurrency, on_progress=on_progress, journal=journal
                    )
                else:
                    assert channel_id is not None
                    result = await client.dm_members.add_many(
                        channel_id,
                        users,
                        concurrency=concurrency,
                        on_progress=on_progress,
                        journal=journal,
                    )
            held = client.rate_limit_held()
        return output.bulk(result, held=held)

    def interrupted(output: Output) -> None:
        output.interrupted(last[-1] if last else None, total, journal)

    _execute(settings, work, interrupted)


@members.command("list")
@click.option("--channel", "channel_id", metavar="ID", required=True, help="The channel.")
@_api_options
def members_list(channel_id: str, **options: Any) -> None:
    """List the members of a DM channel, in join order."""
    settings = Settings(**options)

    async def work(output: Output) -> int:
        async with _client(settings) as client:
            found = [member async for member in client.dm_members.list(channel_id=channel_id)]
        output.members(found)
        return EXIT_OK

    _execute(settings, work)


@members.command("remove")
@click.option("--channel", "channel_id", metavar="ID", required=True, help="The channel.")
@click.argument("user_ids", nargs=-1, required=True, metavar="USER...")
@_api_options
def members_remove(channel_id: str, user_ids: tuple[str, ...], **options: Any) -> None:
    """Remove users (by user id) from a DM channel.

    Users who are not members are listed, and the exit code is 1.
    """
    settings = Settings(**options)

    async def work(output: Output) -> int:
        async with _client(settings) as client:
            # The API removes a membership by its own id: find each user's.
            by_user = {
                member.user_id: member
                async for member in client.dm_members.list(channel_id=channel_id)
            }
            removed = []
            for user_id in dict.fromkeys(user_ids):
                member = by_user.get(user_id)
                if member is not None:
                    await client.dm_members.delete(member.id)
                    removed.append(member)
        missing = [user_id for user_id in dict.fromkeys(user_ids) if user_id not in by_user]
        return output.removed(channel_id, removed, missing)

    _execute(settings, work)


# -- messages ---------------------------------------------------------------------------


@cli.group()
def messages() -> None:
    """Messages of DM channels: send one, list them."""


@messages.command("send")
@click.option("--channel", "channel_id", metavar="ID", required=True, help="The channel.")
@click.argument("text")
@_api_options
def messages_send(channel_id: str, text: str, **options: Any) -> None:
    """Send TEXT (Markdown; - reads it from stdin) to a DM channel."""
    settings = Settings(**options)
    # Like $(...) in a shell: the newline that ends the input is not part of the text.
    content = sys.stdin.read().rstrip("\n") if text == "-" else text

    async def work(output: Output) -> int:
        async with _client(settings) as client:
            message = await client.messages.create(channel_id=channel_id, content=content)
        output.message(message)
        return EXIT_OK

    _execute(settings, work)


@messages.command("list")
@click.option("--channel", "channel_id", metavar="ID", required=True, help="The channel.")
@click.option("--newest-first", is_flag=True, help="Newest first (default: oldest first).")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    metavar="N",
    help="At most N messages. [default: all]",
)
@_api_options
def messages_list(channel_id: str, newest_first: bool, limit: int | None, **options: Any) -> None:
    """List the messages of a DM channel (reading them marks the channel viewed)."""
    settings = Settings(**options)

    async def work(output: Output) -> int:
        found = []
        async with _client(settings) as client:
            pager = client.messages.list(
                channel_id=channel_id,
                direction="desc" if newest_first else None,
                # No more than needed per request, when only a few are wanted.
                page_size=None if limit is None else min(limit, 100),
            )
            async for message in pager:
                found.append(message)
                if limit is not None and len(found) >= limit:
                    break
        output.messages(found)
        return EXIT_OK

    _execute(settings, work)


# -- commands kept in their own modules ---------------------------------------------------
# Imported last: they build on the helpers above.

from whop_dm._cli._reactions import register as register_reactions  # noqa: E402

register_reactions(cli)
from whop_dm._cli._jobs import jobs  # noqa: E402
from whop_dm._cli._webhooks import listen  # noqa: E402

cli.add_command(jobs)
cli.add_command(listen)
