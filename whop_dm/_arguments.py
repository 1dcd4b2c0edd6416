"""Checks on the arguments of resource methods, run before anything is sent."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote

__all__ = [
    "check_content",
    "check_id",
    "check_id_list",
    "check_idempotency_key",
    "check_optional_text",
    "fill_route",
]

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TOKEN = re.compile(r"[\x21-\x7e]{1,255}")


def check_id(name: str, value: object) -> str:
    """An id must be a non-blank string without control characters."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, not {type(value).__name__}")
    if not value.strip():
        raise ValueError(f"{name} must not be empty or blank")
    if _CONTROL.search(value):
        raise ValueError(f"{name} must not contain control characters (line breaks, tabs, NUL)")
    return value


def check_id_list(name: str, value: object) -> list[str]:
    """A non-empty list (or tuple, or other non-string iterable) of ids."""
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a list of strings, not a single {type(value).__name__}")
    if not isinstance(value, Iterable):
        raise TypeError(f"{name} must be a list of strings, not {type(value).__name__}")
    items = list(value)
    if not items:
        raise ValueError(f"{name} must name at least one user")
    for index, item in enumerate(items):
        check_id(f"{name}[{index}]", item)
    return items


def check_optional_text(name: str, value: object) -> str | None:
    """None, or a string without NUL characters."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string or None, not {type(value).__name__}")
    if "\x00" in value:
        raise ValueError(f"{name} must not contain NUL characters")
    return value


def check_content(name: str, value: object) -> str:
    """Message text: a non-blank string without NUL characters (the API refuses blank text)."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, not {type(value).__name__}")
    if not value.strip():
        raise ValueError(f"{name} must not be empty or blank")
    check_optional_text(name, value)  # the NUL check
    return value


def check_idempotency_key(value: object) -> str | None:
    """None, or 1 to 255 bytes of printable ASCII (it travels as a header)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"idempotency_key must be a string, not {type(value).__name__}")
    if not _TOKEN.fullmatch(value):
        raise ValueError("idempotency_key must be 1 to 255 printable ASCII characters, no spaces")
    return value


def fill_route(route: str, **ids: object) -> str:
    """The path of ``route`` (``/dm_members/{id}``), each id checked and escaped.

    Each id becomes exactly one path segment. ``quote`` escapes ``/``, ``?``,
    ``#`` and ``%``, but ``.`` and ``..`` are unreserved characters: yarl (and
    any server) resolves such a segment as a dot segment, so
    ``retrieve("..")`` would reach ``GET /api/v1/`` instead. No Whop id is
    only dots, so they are refused before anything is sent.
    """
    segments: dict[str, str] = {}
    for name, value in ids.items():
        segment = quote(check_id(name, value), safe="")
        if segment in (".", ".."):
            raise ValueError(f"{name} must not be {segment!r}: it is not an id")
        segments[name] = segment
    return route.format_map(segments)
