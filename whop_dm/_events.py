"""What ``on_request`` and ``on_response`` hooks receive, and how they are called.

One `RequestEvent` right before each attempt is sent, one `ResponseEvent`
once its answer (or its failure) is known: a call retried twice makes three
of each, in order. A hook that raises is logged and ignored, so a bug in a
metrics exporter never fails the call it watches.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import attrs

from ._log import fields, logger

__all__ = [
    "RequestEvent",
    "RequestHook",
    "ResponseEvent",
    "ResponseHook",
    "call_hook",
]


@attrs.frozen
class RequestEvent:
    """An attempt about to be sent: what ``on_request`` hooks receive.

    Attributes:
        operation: the method and route template, ``"POST /dm_members"`` or
            ``"GET /dm_members/{id}"``: the same for every call of an
            operation, whatever ids it carries.
        attempt: the number of this attempt, from 1.
        request_id: always None here (the server names a request in its
            answer); present so that both events read alike.
        elapsed: seconds since the call began, its earlier attempts, retry
            waits and rate-limit holds included (0.0 or close for a first
            attempt that was not held).
        held: seconds this attempt was held by the rate limit before being sent.
    """

    operation: str
    attempt: int
    request_id: str | None
    elapsed: float
    held: float


@attrs.frozen
class ResponseEvent:
    """An attempt's outcome: what ``on_response`` hooks receive.

    Attributes:
        operation: the method and route template (``"POST /dm_members"``).
        attempt: the number of the attempt, from 1.
        status: the HTTP status of the answer, or None when no answer came
            (a timeout, a refused or dropped connection).
        request_id: the server's ``x-request-id`` for this attempt, if it sent one.
        elapsed: seconds from sending this attempt to its answer or failure
            (the hold before sending not included).
        held: seconds this attempt was held by the rate limit before being sent.
    """

    operation: str
    attempt: int
    status: int | None
    request_id: str | None
    elapsed: float
    held: float


RequestHook = Callable[[RequestEvent], object]
ResponseHook = Callable[[ResponseEvent], object]

E = TypeVar("E", RequestEvent, ResponseEvent)


def call_hook(name: str, hook: Callable[[E], object], event: E) -> None:
    """Run ``hook(event)``; log what it raises instead of letting it fail the call."""
    try:
        hook(event)
    except Exception:
        logger.exception(
            "the %s hook raised; the call goes on",
            name,
            extra=fields(
                operation=event.operation,
                status=getattr(event, "status", None),
                request_id=event.request_id,
                attempt=event.attempt,
            ),
        )
