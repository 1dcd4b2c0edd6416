"""Paths of single records (``/dm_channels/{id}``), with the id escaped as one segment."""

from __future__ import annotations

from ._arguments import path_id

__all__ = ["item_path"]


def item_path(collection: str, name: str, value: object) -> str:
    """``/<collection>/<escaped id>``; refuses ids that would change the path.

    ``path_id`` escapes ``/``, ``?``, ``#`` and ``%``, but ``.`` and ``..`` are
    unreserved characters: yarl (and any server) resolves such a segment as a
    dot segment, so ``retrieve("..")`` would reach ``GET /api/v1/`` instead.
    No Whop id is only dots, so they are refused before anything is sent.
    """
    segment = path_id(name, value)
    if segment in (".", ".."):
        raise ValueError(f"{name} must not be {segment!r}: it is not an id")
    return f"/{collection}/{segment}"
