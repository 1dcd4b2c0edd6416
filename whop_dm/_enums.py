"""Enumerations of the DM API, tolerant of values this version does not know."""

from __future__ import annotations

import enum
import functools
from typing import Any

__all__ = ["MemberStatus", "MessageType", "NotificationPreference", "OpenStrEnum"]


class OpenStrEnum(str, enum.Enum):
    """A string enum that keeps values it does not know instead of failing.

    Whop may add a status tomorrow; a client that crashes on it would break
    every bot at once. An unknown value becomes a member named ``UNKNOWN``
    whose ``value`` is the string the server sent, and ``is_known`` is False.
    """

    @classmethod
    def _missing_(cls, value: Any) -> OpenStrEnum | None:
        if not isinstance(value, str):
            return None
        return _stand_in(cls, value)

    @property
    def is_known(self) -> bool:
        """False for a value the server sent that this version does not list."""
        return self._name_ != "UNKNOWN"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return str.__eq__(self, other)
        return NotImplemented

    def __hash__(self) -> int:
        return str.__hash__(self)

    def __str__(self) -> str:
        return str(self.value)


# Cached, so that one unknown value is one object (``MemberStatus("x") is
# MemberStatus("x")``) as known members are. Bounded: the values come from
# the server, and a misbehaving one must not grow the cache without end.
@functools.lru_cache(maxsize=256)
def _stand_in(cls: type[OpenStrEnum], value: str) -> OpenStrEnum:
    member = str.__new__(cls, value)
    member._name_ = "UNKNOWN"
    member._value_ = value
    return member


class MemberStatus(OpenStrEnum):
    """The state of a DM membership."""

    REQUESTED = "requested"
    ACCEPTED = "accepted"
    HIDDEN = "hidden"
    CLOSED = "closed"
    ARCHIVED = "archived"


class NotificationPreference(OpenStrEnum):
    """Which messages of a channel notify the member."""

    ALL = "all"
    MENTIONS = "mentions"
    NONE = "none"


class MessageType(OpenStrEnum):
    """Who or what wrote a message."""

    REGULAR = "regular"
    SYSTEM = "system"
    AUTOMATED = "automated"
