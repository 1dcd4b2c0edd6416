"""Run the fake as its own process: ``python -m whop_dm.testing`` and ``whop-dm serve-fake``.

On start it prints, one per line and flushed, ``key=value`` lines a script
can parse: ``base_url=...``, ``api_key=...``, ``user_id=...``, then
``ready``. It seeds a demo user (``user_demo``, username ``demo``) holding a
key with every scope, and two more users to talk to (``user_alice``,
``user_bob``). It stops on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import signal
import sys
from collections.abc import Sequence
from typing import Any, TextIO

DEMO_USERS = (
    ("user_demo", "demo", "demo@example.com", "Demo User"),
    ("user_alice", "alice", "alice@example.com", "Alice"),
    ("user_bob", "bob", "bob@example.com", "Bob"),
)


async def _serve(host: str, port: int, api_key: str, out: TextIO, **kwargs: Any) -> None:
    from whop_dm.testing._server import FakeWhop

    async with FakeWhop(host=host, port=port, **kwargs) as fake:
        for user_id, username, email, name in DEMO_USERS:
            fake.add_user(user_id, username=username, email=email, name=name)
        fake.add_api_key(api_key, user_id="user_demo")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            # Windows has no add_signal_handler: Ctrl-C then arrives as KeyboardInterrupt.
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, stop.set)
        print(f"base_url={fake.base_url}", file=out)
        print(f"api_key={api_key}", file=out)
        print("user_id=user_demo", file=out)
        print("ready", file=out, flush=True)
        await stop.wait()


def serve(
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    api_key: str | None = None,
    out: TextIO | None = None,
    **fake_kwargs: Any,
) -> None:
    """Serve a FakeWhop until Ctrl-C or SIGTERM; blocks.

    ``api_key`` defaults to a fresh random key; ``fake_kwargs`` go to
    ``FakeWhop`` (``max_channel_members``, ``rate_limit_per_minute``, ...).
    """
    key = api_key or "whop_fake_" + secrets.token_urlsafe(18)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(host, port, key, out or sys.stdout, **fake_kwargs))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m whop_dm.testing", description="Run the fake Whop DM API server."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    parser.add_argument("--api-key", default=None, help="default: a random key")
    parser.add_argument("--max-channel-members", type=int, default=50)
    parser.add_argument("--rate-limit-per-minute", type=int, default=None)
    parser.add_argument("--no-record", action="store_true", help="do not keep requests")
    args = parser.parse_args(argv)
    serve(
        args.host,
        args.port,
        api_key=args.api_key,
        max_channel_members=args.max_channel_members,
        rate_limit_per_minute=args.rate_limit_per_minute,
        record_requests=not args.no_record,
    )
    return 0
