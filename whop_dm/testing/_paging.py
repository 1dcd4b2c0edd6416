"""Cursor pages in the shape Whop answers lists with.

A cursor is opaque to clients: URL-safe base64 of ``<kind>:<sort key>``, the
key being the item's sequence number, or for a list in another order (channels,
most recently active first) that order's key ending with the sequence number.
Sequence numbers are given once, at creation, and never reused, so a cursor
stays valid when items before it are deleted. Positions are worked out over the
whole ordered list, so ``has_previous_page`` and ``has_next_page`` tell the
truth in both directions, whichever of ``after``/``before``/``first``/``last``
was used.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from whop_dm.testing._envelope import ApiError

T = TypeVar("T")

Key = int | tuple[int, ...]

# Whop's list endpoints are GraphQL connections underneath; these bounds match
# the usual connection limits. The spec states neither: they are the fake's
# choice. A larger ``first``/``last`` is refused, not silently cut, so a
# client that asks for too much finds out.
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100


def _as_tuple(key: Key) -> tuple[int, ...]:
    return key if isinstance(key, tuple) else (key,)


def encode_cursor(kind: str, key: Key) -> str:
    text = f"{kind}:{'.'.join(str(part) for part in _as_tuple(key))}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str, param: str) -> tuple[int, ...]:
    padded = cursor + "=" * (-len(cursor) % 4)
    try:
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
        found_kind, _, key = text.partition(":")
        if found_kind != kind:
            raise ValueError(text)
        return tuple(int(part) for part in key.split("."))
    except (ValueError, binascii.Error, UnicodeError):
        raise ApiError.invalid(param, f"Invalid cursor for '{param}'.") from None


def _page_size(query: Mapping[str, str], param: str) -> int | None:
    raw = query.get(param)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ApiError.invalid(param, f"'{param}' must be an integer.") from None
    if not 1 <= value <= MAX_PAGE_SIZE:
        raise ApiError.invalid(param, f"'{param}' must be between 1 and {MAX_PAGE_SIZE}.")
    return value


def paginate(
    items: Sequence[T],
    *,
    kind: str,
    query: Mapping[str, str],
    seq_of: Callable[[T], Key],
    to_json: Callable[[T], Any],
    descending: bool = False,
) -> dict[str, Any]:
    """One page of ``items`` (already in answer order) for the list query.

    ``seq_of`` gives each item's sort key: ascending in answer order, or
    descending with ``descending=True``.
    """
    first = _page_size(query, "first")
    last = _page_size(query, "last")
    lo, hi = 0, len(items)
    after = query.get("after")
    if after is not None:
        pivot = decode_cursor(kind, after, "after")
        while lo < hi and not _beyond(_as_tuple(seq_of(items[lo])), pivot, descending):
            lo += 1
    before = query.get("before")
    if before is not None:
        pivot = decode_cursor(kind, before, "before")
        while hi > lo and not _beyond(pivot, _as_tuple(seq_of(items[hi - 1])), descending):
            hi -= 1
    if first is None and last is None:
        first = DEFAULT_PAGE_SIZE
    if first is not None:
        hi = min(hi, lo + first)
    if last is not None:
        lo = max(lo, hi - last)
    window = items[lo:hi]
    return {
        "data": [to_json(item) for item in window],
        "page_info": {
            "start_cursor": encode_cursor(kind, seq_of(window[0])) if window else None,
            "end_cursor": encode_cursor(kind, seq_of(window[-1])) if window else None,
            "has_previous_page": lo > 0,
            "has_next_page": hi < len(items),
        },
    }


def _beyond(seq: tuple[int, ...], pivot: tuple[int, ...], descending: bool) -> bool:
    """Whether ``seq`` comes strictly after ``pivot`` in answer order."""
    return seq < pivot if descending else seq > pivot
