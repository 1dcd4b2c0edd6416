"""Every DM method of both clients against Whop's spec served by Prism.

Run by ``nox -s conformance``, which starts Prism (``@stoplight/prism-cli``)
in mock mode with ``--errors``: Prism checks each request against the spec
(path, query, body, security) and answers an invalid one with an error
status and an ``sl-violations`` header. Here each operation of the spec is
called through `AsyncClient` and through `Client`, once per variant of its
arguments (so every parameter the library sends reaches Prism at least once);
a call passes when it returns without error and Prism named no violation of
the request. The official SDK's check against FakeWhop
(``test_official_sdk.py``) runs too, and the table printed at the end has one
row per operation of the spec.

    PYTHONPATH=tests python -m conformance.prism_check --prism-url http://127.0.0.1:4010
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

import whop_dm
from whop_dm import AsyncClient, Client, RetryPolicy

from .operations import LIBRARY_METHODS, Operation, spec_operations


@dataclass(frozen=True)
class Call:
    """One call of a library method: its arguments, and whether it lists."""

    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    first_page: bool = False  # a list: fetch its first page only (Prism's cursors repeat)


def lists(**kwargs: Any) -> Call:
    return Call(kwargs=kwargs, first_page=True)


# Ids are made up: Prism checks shapes, not whether a record exists.
CALLS: dict[str, list[Call]] = {
    "createDmChannel": [
        Call(
            kwargs={
                "with_user_ids": ["user_a", "bob", "carol@example.com"],
                "account_id": "biz_1",
                "custom_name": "Launch",
                "notifications_enabled": False,
                "idempotency_key": "conformance-1",
            }
        ),
        Call(kwargs={"with_user_ids": ["user_a"], "company_id": "biz_1"}),
    ],
    "listDmChannel": [
        lists(),
        lists(account_id="biz_1", page_size=10),
        lists(company_id="biz_1"),
        lists(after="cursor_a", page_size=500),
        lists(last=5),
        lists(before="cursor_b", last=5),
    ],
    "retrieveDmChannel": [Call(("feed_1",))],
    "updateDmChannel": [
        Call(("feed_1",), {"custom_name": "New"}),
        Call(("feed_1",), {"custom_name": None}),
    ],
    "deleteDmChannel": [Call(("feed_1",))],
    "createDmMember": [Call(kwargs={"channel_id": "feed_1", "user_id": "user_b"})],
    "listDmMember": [
        lists(channel_id="feed_1"),
        lists(channel_id="feed_1", page_size=3, after="cursor_a"),
        lists(channel_id="feed_1", before="cursor_b", last=3),
    ],
    "retrieveDmMember": [Call(("dmm_1",))],
    "updateDmMember": [
        Call(("dmm_1",), {"status": "archived", "notification_preference": "mentions"}),
        Call(("dmm_1",), {"notification_preference": whop_dm.NotificationPreference.NONE}),
    ],
    "deleteDmMember": [Call(("dmm_1",))],
    "createMessage": [
        Call(kwargs={"channel_id": "feed_1", "content": "Hello **world**"}),
        Call(
            kwargs={
                "channel_id": "feed_1",
                "content": "Files and a poll",
                "replying_to_message_id": "msg_0",
                "attachments": ["file_1", "file_2"],
                "auto_detect_links": True,
                "poll": ["Tea", "Soup"],
            }
        ),
    ],
    "listMessage": [
        lists(channel_id="feed_1"),
        lists(channel_id="feed_1", direction="desc", page_size=50),
        lists(channel_id="feed_1", direction="asc", after="cursor_a"),
        lists(channel_id="feed_1", last=20),
        lists(channel_id="feed_1", before="cursor_b", page_size=20),
    ],
    "retrieveMessage": [Call(("msg_1",))],
    "updateMessage": [
        Call(("msg_1",), {"content": "Edited"}),
        Call(("msg_1",), {"is_pinned": True, "attachments": ["file_3"]}),
        Call(("msg_1",), {"attachments": []}),
    ],
    "deleteMessage": [Call(("msg_1",))],
    "createReaction": [
        Call(kwargs={"resource_id": "msg_1", "emoji": ":heart:"}),
        Call(kwargs={"resource_id": "msg_1", "poll_option_id": "2"}),
    ],
    "listReaction": [
        lists(resource_id="msg_1"),
        lists(resource_id="msg_1", page_size=5, after="cursor_a"),
        lists(resource_id="msg_1", last=5),
    ],
    "retrieveReaction": [Call(("reac_1",))],
    "deleteReaction": [Call(("reac_1",)), Call(("msg_1",), {"emoji": ":heart:"})],
}


class Violations:
    """What Prism said about each request, read from its ``sl-violations`` header."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, list[dict[str, Any]]]] = []

    def trace_config(self) -> aiohttp.TraceConfig:
        async def on_request_end(
            session: aiohttp.ClientSession, context: Any, params: aiohttp.TraceRequestEndParams
        ) -> None:
            header = params.response.headers.get("sl-violations")
            found = json.loads(header) if header else []
            self.seen.append((params.response.status, found))

        config = aiohttp.TraceConfig()
        config.on_request_end.append(on_request_end)
        return config

    def of_requests(self) -> list[str]:
        """Every violation Prism named in a request (not in its own answers)."""
        return [
            f"{v.get('location')}: {v.get('message')}"
            for _, found in self.seen
            for v in found
            if (v.get("location") or [""])[0] == "request"
        ]


def _method(client: Any, dotted: str) -> Callable[..., Any]:
    resource, name = dotted.split(".")
    method: Callable[..., Any] = getattr(getattr(client, resource), name)
    return method


async def call_async(client: AsyncClient, dotted: str, call: Call) -> None:
    result = _method(client, dotted)(*call.args, **call.kwargs)
    await (result.first_page() if call.first_page else result)


def call_sync(client: Client, dotted: str, call: Call) -> None:
    result = _method(client, dotted)(*call.args, **call.kwargs)
    if call.first_page:
        result.first_page()


@dataclass
class Row:
    operation: Operation
    method: str
    async_client: str = "-"
    sync_client: str = "-"
    prism: str = "-"
    sdk_on_fake: str = "-"
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (self.async_client, self.sync_client, self.prism, self.sdk_on_fake) == (
            "yes",
            "yes",
            "accepted",
            "decoded",
        )


def _failure(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


async def check_async(prism_url: str, rows: dict[str, Row], violations: Violations) -> None:
    async with AsyncClient(
        api_key="conformance-key",
        base_url=prism_url,
        retry=RetryPolicy.disabled(),
        trace_configs=[violations.trace_config()],
    ) as client:
        for op_id, row in rows.items():
            start = len(violations.seen)
            try:
                for call in CALLS[op_id]:
                    await call_async(client, row.method, call)
                row.async_client = "yes"
            except Exception as exc:
                row.async_client = "FAILED"
                row.problems.append(f"AsyncClient: {_failure(exc)}")
            found = Violations()
            found.seen = violations.seen[start:]
            if found.of_requests():
                row.problems += found.of_requests()
            row.prism = "refused" if found.of_requests() else "accepted"


def check_sync(prism_url: str, rows: dict[str, Row], violations: Violations) -> None:
    with Client(
        api_key="conformance-key",
        base_url=prism_url,
        retry=RetryPolicy.disabled(),
        trace_configs=[violations.trace_config()],
    ) as client:
        for op_id, row in rows.items():
            start = len(violations.seen)
            try:
                for call in CALLS[op_id]:
                    call_sync(client, row.method, call)
                row.sync_client = "yes"
            except Exception as exc:
                row.sync_client = "FAILED"
                row.problems.append(f"Client: {_failure(exc)}")
            found = Violations()
            found.seen = violations.seen[start:]
            if found.of_requests():
                row.prism = "refused"
                row.problems += found.of_requests()


def check_sdk_on_fake(rows: dict[str, Row]) -> None:
    from .test_official_sdk import check_operation, make_world

    for row in rows.values():
        try:
            with make_world() as world:
                check_operation(row.operation, world)
            row.sdk_on_fake = "decoded"
        except Exception as exc:
            row.sdk_on_fake = "FAILED"
            row.problems.append(f"whop-sdk on FakeWhop: {_failure(exc)}")
            traceback.print_exc()


def table(rows: dict[str, Row]) -> str:
    lines = [
        "| operation | HTTP | method | AsyncClient | Client | Prism | whop-sdk on FakeWhop |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows.values():
        op = row.operation
        lines.append(
            f"| {op.operation_id} | `{op.label}` | `{row.method}` | {row.async_client} "
            f"| {row.sync_client} | {row.prism} | {row.sdk_on_fake} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prism-url", required=True, help="where Prism serves the spec")
    options = parser.parse_args(argv)
    rows = {op.operation_id: Row(op, LIBRARY_METHODS[op.operation_id]) for op in spec_operations()}
    missing = set(rows) - set(CALLS)
    if missing:
        print(f"no calls written for: {sorted(missing)}", file=sys.stderr)
        return 1
    violations = Violations()
    asyncio.run(check_async(options.prism_url, rows, violations))
    check_sync(options.prism_url, rows, violations)
    check_sdk_on_fake(rows)
    print(table(rows))
    failed = [row for row in rows.values() if not row.ok]
    for row in failed:
        for problem in row.problems:
            print(f"{row.operation.operation_id}: {problem}", file=sys.stderr)
    print(f"\n{len(rows) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
