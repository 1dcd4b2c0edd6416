"""Bulk membership adds: a fixed pool of workers over any (async) iterable of pairs.

(Being written: see issue 5. The types below are the contract.)
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Awaitable, Callable, Iterable

import attrs

from ._errors import WhopError
from ._models import DmMember

__all__ = ["BulkAddResult", "BulkFailure", "Pairs", "ProgressCallback", "run_bulk"]

Pairs = Iterable[tuple[str, str]] | AsyncIterable[tuple[str, str]]
ProgressCallback = Callable[[int, int | None], None]
CreateMember = Callable[..., Awaitable[DmMember]]


@attrs.frozen
class BulkFailure:
    """A pair that was tried and failed, with the error it ended on."""

    channel_id: str
    user_id: str
    error: WhopError


@attrs.define
class BulkAddResult:
    """Where every input pair of a bulk run ended: added, failed or skipped."""

    added: list[DmMember] = attrs.Factory(list)
    failed: list[BulkFailure] = attrs.Factory(list)
    skipped: list[tuple[str, str]] = attrs.Factory(list)

    @property
    def ok(self) -> bool:
        """True when every pair was added."""
        return not self.failed and not self.skipped


async def run_bulk(
    create: CreateMember,
    pairs: Pairs,
    *,
    concurrency: int,
    on_progress: ProgressCallback | None,
) -> BulkAddResult:
    raise NotImplementedError("bulk adds are being written (issue 5)")
