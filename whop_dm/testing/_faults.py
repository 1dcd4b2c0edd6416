"""Scripted and random faults.

Each request received takes at most one delay and at most one outcome fault
(an error status, a dropped connection, a malformed body), the oldest matching
script first; chaos is drawn only for requests no script claimed. Faults act
before the request is handled, so they change no state, unless the script was
made with ``after=True``: then the request is handled (and its answer kept for
``Idempotency-Key`` replays) and the fault replaces the answer on the wire,
like an answer lost on its way back.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from whop_dm.testing._records import API_PREFIX

FAIL = "fail"
DROP = "drop"
MALFORMED = "malformed"
CHAOS_KINDS = ("429", "5xx", "drop")


def normalize_path(path: str | None) -> str | None:
    if path is None:
        return None
    if path.startswith(API_PREFIX):
        path = path[len(API_PREFIX) :] or "/"
    if not path.startswith("/"):
        path = "/" + path
    return path


@dataclass(slots=True)
class Outcome:
    """What replaces the normal answer."""

    kind: str
    status: int = 200
    retry_after: int | None = None
    retry_after_ms: int | None = None
    header: bool = True
    body: bytes = b""
    after: bool = False


@dataclass(slots=True)
class _Script:
    remaining: int
    path: str | None
    method: str | None
    outcome: Outcome | None = None
    delay: float = 0.0

    def matches(self, api_path: str, template: str | None, method: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        return self.path is None or self.path == api_path or self.path == template


@dataclass(slots=True)
class _Chaos:
    rate: float
    rng: random.Random
    retry_after: int
    statuses: tuple[int, ...]
    kinds: tuple[str, ...]
    path: str | None


class FaultPlan:
    """The faults waiting for the next requests. Guarded by the owner's lock."""

    def __init__(self) -> None:
        self._outcomes: list[_Script] = []
        self._delays: list[_Script] = []
        self._chaos: _Chaos | None = None

    @property
    def idle(self) -> bool:
        return not self._outcomes and not self._delays and self._chaos is None

    def add_outcome(
        self, count: int, outcome: Outcome, path: str | None, method: str | None
    ) -> None:
        _check_count(count)
        self._outcomes.append(_Script(count, normalize_path(path), _method(method), outcome))

    def add_delay(self, count: int, seconds: float, path: str | None, method: str | None) -> None:
        _check_count(count)
        if seconds < 0:
            raise ValueError("a delay cannot be negative")
        self._delays.append(_Script(count, normalize_path(path), _method(method), delay=seconds))

    def set_chaos(
        self,
        rate: float,
        seed: int,
        retry_after: int,
        statuses: tuple[int, ...],
        kinds: tuple[str, ...],
        path: str | None,
    ) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError("the chaos rate is a probability, between 0 and 1")
        unknown = set(kinds) - set(CHAOS_KINDS)
        if unknown or not kinds:
            raise ValueError(f"chaos kinds are some of {CHAOS_KINDS}, got {kinds!r}")
        if rate == 0.0:
            self._chaos = None
            return
        self._chaos = _Chaos(
            rate, random.Random(seed), retry_after, statuses, kinds, normalize_path(path)
        )

    def clear(self) -> None:
        self._outcomes.clear()
        self._delays.clear()
        self._chaos = None

    def take(
        self, api_path: str, template: str | None, method: str
    ) -> tuple[float, Outcome | None]:
        """Claim the faults for one request just received."""
        delay = _claim(self._delays, api_path, template, method)
        script = _claim(self._outcomes, api_path, template, method)
        if script is not None:
            return (delay.delay if delay else 0.0), script.outcome
        chaos = self._chaos
        outcome = None
        if (
            chaos is not None
            and chaos.path in (None, api_path, template)
            and chaos.rng.random() < chaos.rate
        ):
            kind = chaos.rng.choice(chaos.kinds)
            if kind == "429":
                outcome = Outcome(FAIL, 429, retry_after=chaos.retry_after)
            elif kind == "5xx":
                outcome = Outcome(FAIL, chaos.rng.choice(chaos.statuses))
            else:
                outcome = Outcome(DROP)
        return (delay.delay if delay else 0.0), outcome


def _claim(
    scripts: list[_Script], api_path: str, template: str | None, method: str
) -> _Script | None:
    for index, script in enumerate(scripts):
        if script.matches(api_path, template, method):
            script.remaining -= 1
            if script.remaining == 0:
                del scripts[index]
            return script
    return None


def _check_count(count: int) -> None:
    if count < 1:
        raise ValueError("count must be at least 1")


def _method(method: str | None) -> str | None:
    return method.upper() if method is not None else None
