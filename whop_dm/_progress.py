"""What a bulk job reports as it goes: the `Progress` record and its callback."""

from __future__ import annotations

import inspect
import time
import warnings
from collections.abc import Callable
from typing import Any

import attrs

__all__ = ["HeldClock", "Progress", "ProgressCallback", "ProgressMeter", "adapt_progress"]

ProgressCallback = Callable[["Progress"], None]
# Seconds the client's requests have been held by the rate limit so far, summed.
HeldClock = Callable[[], float]


@attrs.frozen
class Progress:
    """How far a bulk job has got, passed to ``on_progress`` after each settled item.

    Attributes:
        done: items settled so far (added, failed, skipped or repeats).
        total: the number of items, when the input has a length; else None.
        added: pairs added (or found already there), resumed ones included.
        failed: pairs that ended on an error.
        skipped: pairs left unsent because a fatal error stopped the run.
        rate: pairs answered per second in this run (0.0 before the first);
            pairs settled in an earlier run of a journaled job are not counted.
        held: seconds this run's requests spent held back by the rate limit.
        eta: seconds left at ``rate`` when ``total`` is known, else None.
    """

    done: int
    total: int | None
    added: int
    failed: int
    skipped: int
    rate: float
    held: float
    eta: float | None


def adapt_progress(callback: object) -> ProgressCallback | None:
    """``callback`` as one taking a `Progress`.

    A callback written for the old ``(done, total)`` call still works, with a
    ``DeprecationWarning``: it is recognised as one that cannot take a single
    argument but can take two.
    """
    if callback is None:
        return None
    if not callable(callback):
        raise TypeError("on_progress must be a callable taking a Progress, or None")
    try:
        signature = inspect.signature(callback)
    except (TypeError, ValueError):
        return callback
    try:
        signature.bind(None)
    except TypeError:
        try:
            signature.bind(None, None)
        except TypeError:
            raise TypeError("on_progress must be a callable taking a Progress, or None") from None
    else:
        return callback
    warnings.warn(
        "on_progress(done, total) is deprecated: take one argument, a whop_dm.Progress "
        "(its .done and .total are the old two)",
        DeprecationWarning,
        stacklevel=4,
    )
    old: Callable[[int, int | None], Any] = callback
    return lambda progress: old(progress.done, progress.total)


def no_hold() -> float:
    return 0.0


class ProgressMeter:
    """Counts of a run and the clock behind ``rate``, ``held`` and ``eta``."""

    __slots__ = (
        "added",
        "answered",
        "callback",
        "done",
        "failed",
        "held",
        "held_at_start",
        "skipped",
        "started",
        "total",
    )

    def __init__(
        self, callback: ProgressCallback | None, total: int | None, held: HeldClock
    ) -> None:
        self.callback = callback
        self.total = total
        self.held = held
        self.held_at_start = held()
        self.started = time.monotonic()
        self.done = self.added = self.failed = self.skipped = self.answered = 0

    def report(self) -> None:
        if self.callback is None:
            return
        elapsed = time.monotonic() - self.started
        rate = self.answered / elapsed if elapsed > 0 else 0.0
        eta = None
        if self.total is not None and rate > 0:
            eta = max(0, self.total - self.done) / rate
        self.callback(
            Progress(
                done=self.done,
                total=self.total,
                added=self.added,
                failed=self.failed,
                skipped=self.skipped,
                rate=rate,
                held=max(0.0, self.held() - self.held_at_start),
                eta=eta,
            )
        )
