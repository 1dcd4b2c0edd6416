"""Records the DM API answers with: frozen, slotted attrs classes.

Field names and meanings follow Whop's schemas. They are built from JSON by
the one converter in `whop_dm._converter`, which ignores fields this
version does not know and keeps enum values it has never seen.

A client decodes leniently unless made with ``strict=True``: a field whose
value does not fit its type (a time that is not a time, a number where a
string is due) is None on the record, whatever its annotation says, and the
record's ``raw`` keeps the JSON object as received. Every record of these
modules has ``raw``; it is None when every field decoded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from ._enums import MemberStatus, NotificationPreference

__all__ = ["DmChannel", "DmMember"]


@attrs.frozen(weakref_slot=False)
class DmChannel:
    """A DM channel: a one-on-one DM or a group chat.

    Attributes:
        id: the channel id (``feed_...``).
        created_at: when it was created (timezone-aware, UTC).
        name: the custom display name, or None when none was set.
        last_message_at: when the latest message was sent, or None.
        raw: the JSON object as received, when a field held a value this
            version does not expect (that field is then None); None when
            every field decoded.
    """

    id: str
    created_at: datetime
    name: str | None
    last_message_at: datetime | None
    raw: dict[str, Any] | None = attrs.field(default=None, kw_only=True, eq=False, repr=False)


@attrs.frozen(weakref_slot=False)
class DmMember:
    """A user's membership of a DM channel.

    Attributes:
        id: the membership id.
        user_id: the member (``user_...``).
        channel_id: the channel (``feed_...``).
        status: requested, accepted, hidden, closed or archived (or a value
            this version does not know, kept as ``MemberStatus.UNKNOWN``).
        last_viewed_at: when the member last looked at the channel, or None.
        notification_preference: all, mentions or none; None when the server
            left it out (list answers may).
        raw: the JSON object as received, when a field held a value this
            version does not expect (that field is then None); None when
            every field decoded.
    """

    id: str
    user_id: str
    channel_id: str
    status: MemberStatus
    last_viewed_at: datetime | None
    notification_preference: NotificationPreference | None = None
    raw: dict[str, Any] | None = attrs.field(default=None, kw_only=True, eq=False, repr=False)
