"""Reading the ids a command works on: user lists and ``channel_id,user_id`` pairs files.

Both formats take one item a line and skip blank lines and ``#`` comments, so
a list can be kept by hand or produced by another command. Ids themselves are
checked by the client, before anything is sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TextIO

import click

__all__ = ["read_pairs", "read_user_ids"]


def _items(stream: TextIO) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(stream, start=1):
        text = line.strip()
        if text and not text.startswith("#"):
            yield number, text


def _source(stream: TextIO) -> str:
    name = getattr(stream, "name", "-")
    return "stdin" if name in ("-", "<stdin>") else str(name)


def read_user_ids(stream: TextIO) -> list[str]:
    """The user ids of ``stream``, one a line, in order."""
    return [text for _, text in _items(stream)]


def read_pairs(stream: TextIO, option: str = "--pairs") -> list[tuple[str, str]]:
    """The ``(channel_id, user_id)`` pairs of ``stream``, one ``channel_id,user_id`` a line.

    A line that is not two non-empty fields separated by one comma is a
    usage error naming its line number.
    """
    pairs: list[tuple[str, str]] = []
    for number, text in _items(stream):
        fields = [field.strip() for field in text.split(",")]
        if len(fields) != 2 or not all(fields):
            raise click.BadParameter(
                f"{_source(stream)}, line {number}: expected 'channel_id,user_id', got {text!r}",
                param_hint=f"'{option}'",
            )
        pairs.append((fields[0], fields[1]))
    return pairs
