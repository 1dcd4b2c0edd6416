"""Finite time limits for each attempt of a request."""

from __future__ import annotations

import math

import attrs

__all__ = ["DEFAULT_TIMEOUT", "Timeout", "TimeoutTypes", "coerce_timeout"]


def _finite_positive(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"Timeout.{attribute.name} must be a number of seconds")
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"Timeout.{attribute.name} must be a finite number of seconds above 0")


@attrs.frozen
class Timeout:
    """How long one attempt may take.

    Attributes:
        total: seconds for a whole attempt: connecting, sending, waiting for
            and reading the answer (default 60). Waiting for a free
            connection of the client's pool does not count.
        connect: seconds to open a TCP (and TLS) connection (default 10).

    Retries get a fresh allowance each; the retry policy's ``deadline`` bounds
    the whole call. There is no "wait forever": both limits are finite.
    """

    total: float = attrs.field(default=60.0, validator=_finite_positive)
    connect: float = attrs.field(default=10.0, validator=_finite_positive)


DEFAULT_TIMEOUT = Timeout()

TimeoutTypes = Timeout | float | int


def coerce_timeout(value: object) -> Timeout:
    """A `Timeout` from what a caller passed: a Timeout or a number of seconds."""
    if isinstance(value, Timeout):
        return value
    if value is None:
        raise TypeError(
            "timeout=None would mean waiting forever; pass a number of seconds "
            "or whop_dm.Timeout(total=..., connect=...)"
        )
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"timeout must be a number of seconds or a Timeout, not {value!r}")
    return Timeout(total=float(value), connect=min(10.0, float(value)))
