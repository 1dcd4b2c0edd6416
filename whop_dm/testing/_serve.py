"""Run the fake as its own process: ``python -m whop_dm.testing`` and ``whop-dm serve-fake``.

On start it prints, one per line and flushed, ``key=value`` lines a script
can parse: ``base_url=...``, ``api_key=...``, ``user_id=...``, then
``ready``. It seeds a demo user (``user_demo``, username ``demo``) holding a
key with every scope, and two more users to talk to (``user_alice``,
``user_bob``), then the users asked for with ``--user``, ``--users-file``
and ``--users``. It stops on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import secrets
import signal
import sys
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple, TextIO


class SeedUser(NamedTuple):
    """A user to add to a served fake; ``username`` defaults to the id."""

    user_id: str
    username: str | None = None
    email: str | None = None
    name: str | None = None


# (user_id, username, email, name): what `serve` takes; a SeedUser is one.
UserRow = tuple[str, "str | None", "str | None", "str | None"]

DEMO_USERS = (
    SeedUser("user_demo", "demo", "demo@example.com", "Demo User"),
    SeedUser("user_alice", "alice", "alice@example.com", "Alice"),
    SeedUser("user_bob", "bob", "bob@example.com", "Bob"),
)
# Column names a users file may use for the id; the other columns are
# username, email and name.
_ID_COLUMNS = ("id", "user_id")
_COLUMNS = frozenset({*_ID_COLUMNS, "username", "email", "name"})


def numbered_users(count: int) -> list[SeedUser]:
    """``user_0001`` ... ``user_<count>``: four digits at least, so they sort in order."""
    if count < 0:
        raise ValueError("the number of users must not be negative")
    return [SeedUser(f"user_{number:04d}") for number in range(1, count + 1)]


def read_users(stream: TextIO) -> list[SeedUser]:
    """The users of a users file: one id a line, or a CSV file with a header row.

    Blank lines and lines starting with ``#`` are skipped. A file whose first
    line holds a comma is CSV; its header names the columns, among ``id``
    (or ``user_id``), ``username``, ``email`` and ``name``. A row without an
    id gets ``user_<username>``. Raises ``ValueError`` naming the line of a
    bad row.
    """
    lines = [
        (number, line.strip())
        for number, line in enumerate(stream, start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines or "," not in lines[0][1]:
        return [SeedUser(text) for _, text in lines]
    header_number, header_text = lines[0]
    header = [column.strip().lower() for column in next(csv.reader([header_text]))]
    unknown = sorted(set(header) - _COLUMNS)
    if unknown:
        raise ValueError(
            f"line {header_number}: unknown column(s) {', '.join(unknown)}; "
            "a CSV users file names its columns among id, username, email and name"
        )
    if not {*_ID_COLUMNS, "username"} & set(header):
        raise ValueError(f"line {header_number}: a CSV users file needs an id or username column")
    users = []
    for number, text in lines[1:]:
        fields = [field.strip() for field in next(csv.reader([text]))]
        if len(fields) != len(header):
            raise ValueError(
                f"line {number}: {len(fields)} fields where the header has {len(header)}"
            )
        row = {column: value or None for column, value in zip(header, fields, strict=True)}
        user_id = row.get("id") or row.get("user_id")
        username = row.get("username")
        if user_id is None:
            if username is None:
                raise ValueError(f"line {number}: neither an id nor a username")
            user_id = f"user_{username}"
        users.append(SeedUser(user_id, username, row.get("email"), row.get("name")))
    return users


def _unique(users: Iterable[UserRow]) -> list[SeedUser]:
    # The first mention of an id wins: seeding user_alice again is not an error.
    found: dict[str, SeedUser] = {}
    for user in users:
        seed = SeedUser(*user)
        found.setdefault(seed.user_id, seed)
    return list(found.values())


async def _serve(
    host: str,
    port: int,
    api_key: str,
    out: TextIO,
    users: Sequence[SeedUser],
    webhooks: Sequence[str] = (),
    webhook_secret: str | None = None,
    **kwargs: Any,
) -> None:
    from whop_dm.testing._server import FakeWhop

    fake = FakeWhop(host=host, port=port, **kwargs)
    # Seeded before listening: a clash (a username taken twice) fails before
    # anything is printed.
    for user_id, username, email, name in users:
        fake.add_user(user_id, username=username, email=email, name=name)
    fake.add_api_key(api_key, user_id="user_demo")
    # A secret the caller gave is not printed; one made here is, for the receiver.
    made_secret = webhook_secret is None
    for url in webhooks:
        webhook_secret = fake.add_webhook(url, secret=webhook_secret)
    async with fake:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            # Windows has no add_signal_handler: Ctrl-C then arrives as KeyboardInterrupt.
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, stop.set)
        print(f"base_url={fake.base_url}", file=out)
        print(f"api_key={api_key}", file=out)
        print("user_id=user_demo", file=out)
        if webhooks and made_secret:
            print(f"webhook_secret={webhook_secret}", file=out)
        print("ready", file=out, flush=True)
        await stop.wait()


def serve(
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    api_key: str | None = None,
    out: TextIO | None = None,
    users: Iterable[UserRow] = (),
    webhooks: Sequence[str] = (),
    webhook_secret: str | None = None,
    **fake_kwargs: Any,
) -> None:
    """Serve a FakeWhop until Ctrl-C or SIGTERM; blocks.

    ``api_key`` defaults to a fresh random key; ``users`` are added after the
    demo users, each a ``(user_id, username, email, name)`` tuple (a
    `SeedUser`; all but the id may be None), an id already there is skipped;
    ``fake_kwargs`` go to ``FakeWhop`` (``max_channel_members``,
    ``rate_limit_per_minute``, ...). Raises ``ValueError``, before serving,
    when two users claim one username or email. Each of ``webhooks``
    (loopback URLs) gets every message created, signed with ``webhook_secret``
    (default: a new one, printed as ``webhook_secret=...``; a secret given is
    never printed).
    """
    key = api_key or "whop_fake_" + secrets.token_urlsafe(18)
    seeds = _unique([*DEMO_USERS, *users])
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            _serve(
                host,
                port,
                key,
                out or sys.stdout,
                seeds,
                webhooks,
                webhook_secret,
                **fake_kwargs,
            )
        )


def _users_file(path: str) -> list[SeedUser]:
    try:
        with open(path, encoding="utf-8", newline="") as stream:
            return read_users(stream)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{path}, {exc}") from None
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot read {path}: {exc.strerror}") from None


def _count(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if count < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return count


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
    parser.add_argument(
        "--user", action="append", default=[], metavar="ID", help="add a user (repeatable)"
    )
    parser.add_argument(
        "--users-file",
        type=_users_file,
        action="append",
        default=[],
        metavar="FILE",
        help="add the users of FILE: one id a line, or CSV with a header "
        "(id, username, email, name)",
    )
    parser.add_argument(
        "--webhook", action="append", default=[], metavar="URL", help="deliver events to URL"
    )
    parser.add_argument(
        "--users", type=_count, default=0, metavar="N", help="add user_0001 ... user_N"
    )
    args = parser.parse_args(argv)
    users = [
        *(SeedUser(user_id) for user_id in args.user),
        *(user for listed in args.users_file for user in listed),
        *numbered_users(args.users),
    ]
    try:
        serve(
            args.host,
            args.port,
            api_key=args.api_key,
            users=users,
            max_channel_members=args.max_channel_members,
            rate_limit_per_minute=args.rate_limit_per_minute,
            record_requests=not args.no_record,
            webhooks=args.webhook,
        )
    except ValueError as exc:
        parser.error(str(exc))
    return 0
