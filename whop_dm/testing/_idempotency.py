"""``Idempotency-Key``, as Whop documents it.

A key belongs to the API key that sent it. The first request with a key is
remembered with its method, path and body; its answer (any status the handler
gave, 4xx included) is replayed for the same request with the header
``Idempotent-Replayed: true``. The same key with another request is refused
with 400, and with any request while the first is still being handled with 409.
Answers produced before handling (401, 403, rate-limit 429, injected faults)
are not remembered: the request never reached the API, so a retry runs afresh.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from whop_dm.testing._envelope import ApiError

MAX_KEY_BYTES = 255
HEADER = "Idempotency-Key"


@dataclass(slots=True)
class _Entry:
    method: str
    path: str
    body: bytes
    created: float
    status: int | None = None  # None while the first request is being handled
    answer: bytes = b""

    def same_request(self, method: str, path: str, body: bytes) -> bool:
        if (self.method, self.path) != (method, path):
            return False
        if self.body == body:
            return True
        try:  # the same JSON written another way is the same request
            return bool(json.loads(self.body) == json.loads(body))
        except ValueError:
            return False


class Replay(Exception):
    """The first answer, to send again."""

    def __init__(self, status: int, answer: bytes) -> None:
        super().__init__(status)
        self.status = status
        self.answer = answer


class IdempotencyKeys:
    """Remembered keys, forgotten after ``ttl`` seconds (Whop keeps them 24 h)."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[tuple[str, str], _Entry] = {}

    def begin(self, owner: str, key: str, method: str, path: str, body: bytes) -> tuple[str, str]:
        """Claim ``key`` for this request, or raise ``Replay`` / ``ApiError``."""
        if not key or len(key.encode()) > MAX_KEY_BYTES:
            raise ApiError.invalid(
                HEADER, f"The {HEADER} header must be 1 to {MAX_KEY_BYTES} bytes long."
            )
        slot = (owner, key)
        now = self._clock()
        entry = self._entries.get(slot)
        if entry is not None and now - entry.created > self._ttl:
            entry = None
        if entry is None:
            self._entries[slot] = _Entry(method, path, body, now)
            return slot
        if not entry.same_request(method, path, body):
            raise ApiError(
                400,
                "Keys for idempotent requests can only be used with the same request "
                "(method, path and body) they were first used with.",
                code="idempotency_key_reused",
                param=HEADER,
            )
        if entry.status is None:
            raise ApiError(
                409,
                "A request with the same Idempotency-Key is still being handled; "
                "retry after it finishes.",
                code="idempotency_key_in_use",
            )
        raise Replay(entry.status, entry.answer)

    def finish(self, slot: tuple[str, str], status: int, answer: bytes) -> None:
        entry = self._entries.get(slot)
        if entry is not None:
            entry.status = status
            entry.answer = answer

    def abandon(self, slot: tuple[str, str]) -> None:
        entry = self._entries.get(slot)
        if entry is not None and entry.status is None:
            del self._entries[slot]
