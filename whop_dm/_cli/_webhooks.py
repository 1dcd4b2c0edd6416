"""``whop-dm listen``: receive webhooks and print each verified event as a JSON line.

The command is a `WebhookReceiver` on an aiohttp.web server and a handler that
prints; verification, deduplication and the answers are the receiver's.
The secret comes from ``WHOP_WEBHOOK_SECRET`` (or ``--secret``) and is never
printed. Status lines and refused deliveries go to stderr, events to stdout,
so ``whop-dm listen | jq`` sees only events.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
from typing import Any

import click

from whop_dm._cli._commands import _listen_options

__all__ = ["listen"]


def event_line(event: Any) -> str:
    """One event as a line of JSON: its envelope and its raw ``data``."""
    record = {
        "webhook_id": event.webhook_id,
        "id": event.id,
        "type": event.type,
        "timestamp": event.timestamp.isoformat() if event.timestamp else None,
        "account_id": event.account_id,
        "api_version": event.api_version,
        "data": dict(event.data),
    }
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False)


async def _listen(host: str, port: int, path: str, secret: str, tolerance: float) -> None:
    from aiohttp import web

    from whop_dm.webhooks import ANY_EVENT, WebhookEvent, WebhookReceiver

    receiver = WebhookReceiver(secret, tolerance=tolerance)

    @receiver.on(ANY_EVENT)
    async def show(event: WebhookEvent) -> None:
        click.echo(event_line(event))
        sys.stdout.flush()

    runner = web.AppRunner(receiver.app(path), access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_host, bound_port = runner.addresses[0][:2]
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        click.echo(f"whop-dm: listening on http://{shown}:{bound_port}{path}", err=True)
        sys.stderr.flush()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            # Windows has no add_signal_handler: Ctrl-C then arrives as KeyboardInterrupt.
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()


@click.command()
@_listen_options
@click.option(
    "--path", default="/webhooks/whop", show_default=True, help="The URL path to receive on."
)
# The secret's value is never shown: not in help, not in errors.
@click.option(
    "--secret",
    envvar="WHOP_WEBHOOK_SECRET",
    metavar="SECRET",
    help="The webhook's ws_... secret. [env: WHOP_WEBHOOK_SECRET]",
)
@click.option(
    "--tolerance",
    type=click.FloatRange(min=0),
    default=300.0,
    show_default=True,
    help="Seconds a delivery's timestamp may be away from now.",
)
def listen(host: str, port: int, path: str, secret: str | None, tolerance: float) -> None:
    """Receive Whop webhooks and print each verified event as a JSON line, until Ctrl-C.

    Deliveries that do not verify are answered 401 (or 400, 413) and reported
    on stderr; a repeated delivery of the same event is printed once.
    """
    if not secret or not secret.strip():
        raise click.UsageError(
            "no webhook secret: set WHOP_WEBHOOK_SECRET to the webhook's ws_... secret"
        )
    if not path.startswith("/"):
        raise click.BadParameter("must start with /", param_hint="--path")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("whop-dm: %(message)s"))
    logger = logging.getLogger("whop_dm.webhooks")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        asyncio.run(_listen(host, port, path, secret, tolerance))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        click.echo(f"whop-dm: cannot listen on {host}:{port}: {exc.strerror or exc}", err=True)
        raise click.exceptions.Exit(1) from None
