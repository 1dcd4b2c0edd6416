"""Records of messages: ``Message``, the parts it carries, and ``Reaction``.

Like `whop_dm._models`: frozen, slotted attrs classes built by the one
converter, which ignores unknown fields and keeps unknown enum values. Fields
the spec marks required but that a message can do without (mentions, poll,
counts) have defaults, so an answer that leaves them out still decodes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from ._enums import MessageType

__all__ = [
    "Message",
    "MessagePoll",
    "MessageUser",
    "PollOption",
    "PollVote",
    "Reaction",
    "ReactionCount",
]


@attrs.frozen(weakref_slot=False)
class MessageUser:
    """The author of a message (or the user who left a reaction).

    Attributes:
        id: the user id (``user_...``).
        username: the unique username.
        name: the display name, or None when the user has none.
        raw: the JSON object as received, when a field held a value this
            version does not expect (that field is then None); None when
            every field decoded.
    """

    id: str
    username: str
    name: str | None = None
    raw: dict[str, Any] | None = attrs.field(default=None, kw_only=True, eq=False, repr=False)


@attrs.frozen(weakref_slot=False)
class PollOption:
    """One choice of a poll: ``id`` (``"1"``, ``"2"``, ...) and its ``text``.

    ``raw`` is the JSON object as received when a field did not fit its
    type (that field is then None), else None.
    """

    id: str
    text: str
    raw: dict[str, Any] | None = attrs.field(default=None, kw_only=True, eq=False, repr=False)


@attrs.frozen(weakref_slot=False)
class MessagePoll:
    """A poll attached to a message; ``options`` may be None.

    ``raw`` is the JSON object as received when a field did not fit its
    type (that field is then None), else None.
    """

    options: tuple[PollOption, ...] | None = None
    raw: dict[str, Any] | None = attrs.field(default=None, kw_only=True, eq=False, repr=False)


@attrs.frozen(weakref_slot=False)
class PollVote:
    """How many users voted for one poll option (``option_id`` may be None).

    ``raw`` is the JSON object as received when a field did not fit its
    type (that field is then None), else None.
    """

    option_id: str | None
    count: int
    raw: dict[str, Any] | None = attrs.field(default=None, kw_only=True, eq=False, repr=False)


@attrs.frozen(weakref_slot=False)
class ReactionCount:
    """How many users reacted with one emoji (shortcode, e.g. ``:heart:``; may be None).

    ``raw`` is the JSON object as received when a field did not fit its
    type (that field is then None), else None.
    """

    emoji: str | None
    count: int
    raw: dict[str, Any] | None = attrs.field(default=None, kw_only=True, eq=False, repr=False)


@attrs.frozen(weakref_slot=False)
class Message:
    """A message in a DM channel.

    Attributes:
        id: the message id (``msg_...``).
        content: the text, in Markdown; None for a message without text.
        created_at: when it was sent (timezone-aware, UTC).
        updated_at: when it was last changed (edit or pin).
        is_edited: whether the content was edited after sending.
        is_pinned: whether it is pinned to the top of the channel.
        message_type: regular, system or automated (or a value this version
            does not know, kept as ``MessageType.UNKNOWN``).
        replying_to_message_id: the message it answers, or None.
        user: its author.
        mentions: ids of the users it mentions.
        mentions_everyone: whether it mentions ``@everyone``.
        poll: its poll, or None.
        view_count: unique views, or None where views are not counted.
        reaction_counts: reactions by emoji.
        poll_votes: poll votes by option.
        raw: the JSON object as received, when a field held a value this
            version does not expect (that field is then None); None when
            every field decoded.
    """

    id: str
    content: str | None
    created_at: datetime
    updated_at: datetime
    is_edited: bool
    is_pinned: bool
    message_type: MessageType
    replying_to_message_id: str | None
    user: MessageUser
    mentions: tuple[str, ...] = ()
    mentions_everyone: bool = False
    poll: MessagePoll | None = None
    view_count: int | None = None
    reaction_counts: tuple[ReactionCount, ...] = ()
    poll_votes: tuple[PollVote, ...] = ()
    raw: dict[str, Any] | None = attrs.field(default=None, kw_only=True, eq=False, repr=False)


@attrs.frozen(weakref_slot=False)
class Reaction:
    """A reaction on a message: an emoji, or a vote in the message's poll.

    Attributes:
        id: the reaction id (``reac_...``).
        resource_id: the message reacted to (``msg_...``).
        user: who reacted.
        emoji: the emoji in shortcode form (``:heart:``); None for a poll
            vote (the spec's record does not say which option it was for:
            the message's ``poll_votes`` count them).
        raw: the JSON object as received, when a field held a value this
            version does not expect (that field is then None); None when
            every field decoded.
    """

    id: str
    resource_id: str
    user: MessageUser
    emoji: str | None = None
    raw: dict[str, Any] | None = attrs.field(default=None, kw_only=True, eq=False, repr=False)
