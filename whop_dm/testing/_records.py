"""What a test can look at: recorded requests and frozen snapshots of the fake's state.

Snapshots are built when a test asks for them, never on the request path, so
inspection costs nothing while the server is busy.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

API_PREFIX = "/api/v1"


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the fake received it, in arrival order.

    ``path`` is the decoded path on the wire (``/api/v1/dm_channels``);
    ``api_path`` is the same path relative to the base URL (``/dm_channels``);
    ``raw_path`` is undecoded and keeps the query string, for checking escaping.
    ``headers`` is case-insensitive. ``json`` is the parsed body, or None when
    the body is empty or not JSON. Faulted requests are recorded too.
    """

    method: str
    path: str
    raw_path: str
    query: dict[str, str]
    headers: Mapping[str, str]
    body: bytes
    request_id: str
    received_at: float = field(repr=False)

    @property
    def api_path(self) -> str:
        """The path relative to the base URL (``/dm_channels``)."""
        if self.path.startswith(API_PREFIX):
            return self.path[len(API_PREFIX) :] or "/"
        return self.path

    @property
    def json(self) -> Any:
        """The parsed body, or None when it is empty or not JSON."""
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class ChannelSnapshot:
    """A DM channel held by the fake. ``member_ids`` is in join order."""

    id: str
    name: str | None
    company_id: str | None
    created_at: str
    last_message_at: str | None
    creator_id: str
    member_ids: tuple[str, ...]
    admin_ids: frozenset[str]
    notifications_enabled: bool | None = None

    @property
    def participants(self) -> frozenset[str]:
        """The user ids of the channel's current members."""
        return frozenset(self.member_ids)


@dataclass(frozen=True, slots=True)
class MembershipSnapshot:
    """One user's membership of one channel."""

    id: str
    channel_id: str
    user_id: str
    status: str
    notification_preference: str
    last_viewed_at: str | None
    is_admin: bool


@dataclass(frozen=True, slots=True)
class MessageSnapshot:
    """A message posted in a channel."""

    id: str
    channel_id: str
    user_id: str
    content: str | None
    created_at: str
    updated_at: str
    is_edited: bool
    is_pinned: bool
    replying_to_message_id: str | None
    attachment_ids: tuple[str, ...] = ()
    poll: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ReactionSnapshot:
    """A reaction on a message: an ``emoji``, or a poll vote (``poll_option_id``)."""

    id: str
    message_id: str
    user_id: str
    emoji: str | None
    poll_option_id: str | None
