"""The fake's state and the rules of the DM API, with no HTTP in sight.

Every operation takes the calling user and the decoded request, checks it the
way Whop documents, changes state, and returns the JSON answer; a refusal is
an ``ApiError``. The store is not thread-safe on its own: ``FakeWhop`` holds
its lock around every call.
"""

from __future__ import annotations

import itertools
import random
import re
import string
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from whop_dm.testing._envelope import ApiError
from whop_dm.testing._paging import paginate
from whop_dm.testing._records import (
    ChannelSnapshot,
    MembershipSnapshot,
    MessageSnapshot,
    ReactionSnapshot,
)

SCOPE_READ = "dms:read"
SCOPE_CHANNEL_MANAGE = "dms:channel:manage"
SCOPE_MESSAGE_MANAGE = "dms:message:manage"
ALL_SCOPES = frozenset({SCOPE_READ, SCOPE_CHANNEL_MANAGE, SCOPE_MESSAGE_MANAGE})

MEMBER_STATUSES = ("requested", "accepted", "hidden", "closed", "archived")
NOTIFICATION_PREFERENCES = ("all", "mentions", "none")
DIRECTIONS = ("asc", "desc")

_ID_ALPHABET = string.ascii_letters + string.digits
_MENTION = re.compile(r"@([A-Za-z0-9_.\-]+)")


@dataclass(slots=True)
class User:
    id: str
    username: str
    email: str | None
    name: str | None


@dataclass(slots=True)
class ApiKey:
    key: str
    user_id: str
    scopes: frozenset[str] | None  # None: every scope

    def allows(self, scope: str) -> bool:
        return self.scopes is None or scope in self.scopes


@dataclass(slots=True)
class Membership:
    id: str
    seq: int
    channel_id: str
    user_id: str
    is_admin: bool
    status: str = "accepted"
    notification_preference: str = "all"
    last_viewed_at: str | None = None


@dataclass(slots=True)
class Reaction:
    id: str
    seq: int
    message_id: str
    user_id: str
    emoji: str | None  # None for a poll vote
    poll_option_id: str | None = None


@dataclass(slots=True)
class Message:
    id: str
    seq: int
    channel_id: str
    user_id: str
    content: str | None
    created_ms: int
    updated_ms: int
    replying_to_message_id: str | None
    poll: dict[str, Any] | None
    mentions: list[str]
    mentions_everyone: bool
    is_edited: bool = False
    is_pinned: bool = False
    # ids of file objects: references only, no file is stored
    attachments: list[str] = field(default_factory=list)
    # reaction id -> reaction, oldest first
    reactions: dict[str, Reaction] = field(default_factory=dict)


@dataclass(slots=True)
class Channel:
    id: str
    seq: int
    name: str | None
    company_id: str | None
    created_ms: int
    creator_id: str
    last_message_at: str | None = None
    notifications_enabled: bool | None = None
    # when the channel was made or last had a message posted: lists sort on it
    active_ms: int = 0
    # the store-wide sequence number of that event: breaks ties within one ms
    active_seq: int = 0
    # user id -> membership, in join order
    members: dict[str, Membership] = field(default_factory=dict)
    # message id -> message, in posting order
    messages: dict[str, Message] = field(default_factory=dict)

    def key(self) -> tuple[frozenset[str], str | None]:
        return frozenset(self.members), self.company_id


def _activity(channel: Channel) -> tuple[int, int]:
    return channel.active_ms, channel.active_seq


def _tally(message: Message, field_name: str) -> list[tuple[str, int]]:
    """Reactions counted by emoji (or poll option), in the order first seen."""
    counts: dict[str, int] = {}
    for reaction in message.reactions.values():
        value = getattr(reaction, field_name)
        if value is not None:
            counts[value] = counts.get(value, 0) + 1
    return list(counts.items())


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def iso_ms(ms: int) -> str:
    """ISO 8601 in UTC with milliseconds and a ``Z``, as Whop writes date-times."""
    seconds, millis = divmod(ms, 1000)
    stamp = datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{millis:03d}Z"


# -- request field checks ---------------------------------------------------------


def required_str(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if value is None:
        raise ApiError.missing(name)
    if not isinstance(value, str):
        raise ApiError.invalid(name, f"'{name}' must be a string.")
    if not value:
        raise ApiError.invalid(name, f"'{name}' must not be empty.")
    return value


def optional_str(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ApiError.invalid(name, f"'{name}' must be a string or null.")
    return value


def optional_bool(body: Mapping[str, Any], name: str) -> bool | None:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise ApiError.invalid(name, f"'{name}' must be a boolean or null.")
    return value


def optional_enum(body: Mapping[str, Any], name: str, allowed: tuple[str, ...]) -> str | None:
    value = body.get(name)
    if value is not None and value not in allowed:
        raise ApiError.invalid(name, f"'{name}' must be one of: {', '.join(allowed)}.")
    return value if value is None else str(value)


def _poll(body: Mapping[str, Any]) -> dict[str, Any] | None:
    poll = body.get("poll")
    if poll is None:
        return None
    options = poll.get("options") if isinstance(poll, dict) else None
    if not isinstance(options, list) or not all(
        isinstance(o, dict) and isinstance(o.get("id"), str) and isinstance(o.get("text"), str)
        for o in options
    ):
        raise ApiError.invalid("poll", "'poll' must be an object with a list of {id, text}.")
    return {"options": [{"id": o["id"], "text": o["text"]} for o in options]}


def _attachments(body: Mapping[str, Any]) -> list[str] | None:
    attachments = body.get("attachments")
    if attachments is None:
        return None
    if not isinstance(attachments, list) or not all(
        isinstance(a, dict) and isinstance(a.get("id"), str) and a["id"] for a in attachments
    ):
        raise ApiError.invalid("attachments", "'attachments' must be a list of {id}.")
    return [a["id"] for a in attachments]


def _company(body: Mapping[str, Any]) -> str | None:
    """The company a channel is scoped to, under either of its names.

    Whop's current API calls it ``account_id``, the seed spec ``company_id``.
    """
    account_id = optional_str(body, "account_id")
    company_id = optional_str(body, "company_id")
    if account_id is not None and company_id is not None and account_id != company_id:
        raise ApiError.invalid(
            "account_id", "'account_id' and 'company_id' name different companies."
        )
    return account_id if account_id is not None else company_id


# -- answers ------------------------------------------------------------------------


def channel_json(channel: Channel) -> dict[str, Any]:
    return {
        "id": channel.id,
        "created_at": str(channel.created_ms),
        "name": channel.name,
        "last_message_at": channel.last_message_at,
    }


def member_json(member: Membership) -> dict[str, Any]:
    return {
        "id": member.id,
        "user_id": member.user_id,
        "channel_id": member.channel_id,
        "status": member.status,
        "last_viewed_at": member.last_viewed_at,
        "notification_preference": member.notification_preference,
    }


class Store:
    """Users, keys, channels, memberships and messages, and the rules over them."""

    def __init__(self, *, max_channel_members: int | None, seed: int | None) -> None:
        self.max_channel_members = max_channel_members
        self._random = random.Random(seed)
        self._seq = itertools.count(1)
        self.users: dict[str, User] = {}
        self._users_by_name: dict[str, User] = {}
        self._users_by_email: dict[str, User] = {}
        self.keys: dict[str, ApiKey] = {}
        self.channels: dict[str, Channel] = {}
        self.memberships: dict[str, Membership] = {}
        self.messages: dict[str, Message] = {}
        self.reactions: dict[str, Reaction] = {}
        # (member user ids, company id) -> ids of channels with exactly those members,
        # oldest first: how "create" finds the existing channel without a scan.
        self._by_members: dict[tuple[frozenset[str], str | None], list[str]] = {}
        self._key_of: dict[str, tuple[frozenset[str], str | None]] = {}
        self._stale: set[str] = set()
        # Told of every event a webhook would carry: (type, channel, data).
        self.on_event: Callable[[str, Channel, dict[str, Any]], None] | None = None

    # -- set-up, called by the test ------------------------------------------------

    def add_user(
        self, user_id: str, username: str | None, email: str | None, name: str | None
    ) -> None:
        if user_id in self.users:
            raise ValueError(f"user {user_id!r} already exists")
        user = User(user_id, username or user_id, email, name)
        if user.username.lower() in self._users_by_name:
            raise ValueError(f"username {user.username!r} is taken")
        if email is not None and email.lower() in self._users_by_email:
            raise ValueError(f"email {email!r} is taken")
        self.users[user_id] = user
        self._users_by_name[user.username.lower()] = user
        if email is not None:
            self._users_by_email[email.lower()] = user

    def add_api_key(self, key: str, user_id: str, scopes: frozenset[str] | None) -> None:
        if user_id not in self.users:
            raise KeyError(f"unknown user {user_id!r}: add_user() it first")
        if not key:
            raise ValueError("an API key must not be empty")
        self.keys[key] = ApiKey(key, user_id, scopes)

    # -- helpers ------------------------------------------------------------------

    def _new_id(self, prefix: str, taken: Mapping[str, object]) -> str:
        while True:
            candidate = prefix + "".join(self._random.choices(_ID_ALPHABET, k=14))
            if candidate not in taken:
                return candidate

    def _resolve_user(self, ref: str) -> User | None:
        user = self.users.get(ref)
        if user is None:
            lowered = ref.lower()
            user = self._users_by_name.get(lowered) or self._users_by_email.get(lowered)
        return user

    def _visible_channel(self, caller: User, channel_id: str, param: str) -> Channel:
        """A channel the caller belongs to; any other id is as good as unknown."""
        channel = self.channels.get(channel_id)
        if channel is None or caller.id not in channel.members:
            raise ApiError.not_found(param, "DM channel")
        return channel

    def _index_add(self, channel: Channel) -> None:
        key = channel.key()
        self._key_of[channel.id] = key
        ids = self._by_members.setdefault(key, [])
        ids.append(channel.id)
        if len(ids) > 1:
            ids.sort(key=lambda cid: self.channels[cid].seq)

    def _index_drop(self, channel_id: str) -> None:
        key = self._key_of.pop(channel_id, None)
        if key is not None:
            ids = self._by_members[key]
            ids.remove(channel_id)
            if not ids:
                del self._by_members[key]

    def _find_existing(self, key: tuple[frozenset[str], str | None]) -> Channel | None:
        # Member changes only mark a channel stale; its key is worked out again
        # here, once, so a bulk add of members stays O(1) per member.
        for channel_id in self._stale:
            self._index_drop(channel_id)
            self._index_add(self.channels[channel_id])
        self._stale.clear()
        ids = self._by_members.get(key)
        return self.channels[ids[0]] if ids else None

    def _join(self, channel: Channel, user_id: str, *, is_admin: bool) -> Membership:
        member = Membership(
            id=self._new_id("dmm_", self.memberships),
            seq=next(self._seq),
            channel_id=channel.id,
            user_id=user_id,
            is_admin=is_admin,
        )
        channel.members[user_id] = member
        self.memberships[member.id] = member
        return member

    def _full(self, count: int) -> bool:
        return self.max_channel_members is not None and count > self.max_channel_members

    def _channel_full(self, param: str) -> ApiError:
        return ApiError(
            400,
            f"This DM channel is full: a channel holds at most {self.max_channel_members} members.",
            code="channel_full",
            param=param,
        )

    # -- DM channels ----------------------------------------------------------------

    def create_channel(self, caller: User, body: Mapping[str, Any]) -> Any:
        refs = body.get("with_user_ids")
        if refs is None:
            raise ApiError.missing("with_user_ids")
        if not isinstance(refs, list) or not all(isinstance(ref, str) for ref in refs):
            raise ApiError.invalid("with_user_ids", "'with_user_ids' must be a list of strings.")
        if not refs:
            raise ApiError.invalid("with_user_ids", "'with_user_ids' must not be empty.")
        company_id = _company(body)
        custom_name = optional_str(body, "custom_name")
        notifications_enabled = optional_bool(body, "notifications_enabled")
        if company_id is not None and not company_id.startswith("biz_"):
            param = "account_id" if body.get("account_id") is not None else "company_id"
            raise ApiError.not_found(param, "Company")
        member_ids = [caller.id]
        for ref in refs:
            user = self._resolve_user(ref)
            if user is None:
                raise ApiError(404, f"User not found: {ref!r}.", param="with_user_ids")
            if user.id not in member_ids:
                member_ids.append(user.id)
        existing = self._find_existing((frozenset(member_ids), company_id))
        if existing is not None:
            return channel_json(existing)
        if self._full(len(member_ids)):
            raise self._channel_full("with_user_ids")
        stamp, seq = now_ms(), next(self._seq)
        channel = Channel(
            id=self._new_id("feed_", self.channels),
            seq=seq,
            name=custom_name,
            company_id=company_id,
            created_ms=stamp,
            creator_id=caller.id,
            notifications_enabled=notifications_enabled,
            active_ms=stamp,
            active_seq=seq,
        )
        self.channels[channel.id] = channel
        for user_id in member_ids:
            self._join(channel, user_id, is_admin=user_id == caller.id)
        self._index_add(channel)
        return channel_json(channel)

    def list_channels(self, caller: User, query: Mapping[str, str]) -> Any:
        company_id = _company(query)
        items = [
            channel
            for channel in self.channels.values()
            if caller.id in channel.members
            and (company_id is None or channel.company_id == company_id)
        ]
        # "Sorted by most recently active": the latest message, or creation.
        items.sort(key=_activity, reverse=True)
        return paginate(
            items, kind="ch", query=query, seq_of=_activity, to_json=channel_json, descending=True
        )

    def retrieve_channel(self, caller: User, channel_id: str) -> Any:
        return channel_json(self._visible_channel(caller, channel_id, "id"))

    def update_channel(self, caller: User, channel_id: str, body: Mapping[str, Any]) -> Any:
        channel = self._visible_channel(caller, channel_id, "id")
        custom_name = optional_str(body, "custom_name")
        if not channel.members[caller.id].is_admin:
            raise ApiError.forbidden("Only an admin of the DM channel may update it.")
        if "custom_name" in body:
            channel.name = custom_name
        return channel_json(channel)

    def delete_channel(self, caller: User, channel_id: str) -> Any:
        channel = self._visible_channel(caller, channel_id, "id")
        if not channel.members[caller.id].is_admin:
            raise ApiError.forbidden("Only an admin of the DM channel may delete it.")
        self._index_drop(channel.id)
        self._stale.discard(channel.id)
        del self.channels[channel.id]
        for member in channel.members.values():
            del self.memberships[member.id]
        for message in channel.messages.values():
            self._forget_message(message)
        return True

    # -- DM members -----------------------------------------------------------------

    def create_member(self, caller: User, body: Mapping[str, Any]) -> Any:
        channel_id = required_str(body, "channel_id")
        user_id = required_str(body, "user_id")
        channel = self._visible_channel(caller, channel_id, "channel_id")
        if not channel.members[caller.id].is_admin:
            raise ApiError.forbidden("Only an admin of the DM channel may add members.")
        if user_id not in self.users:
            raise ApiError.not_found("user_id", "User")
        existing = channel.members.get(user_id)
        if existing is not None:
            return member_json(existing)
        if self._full(len(channel.members) + 1):
            raise self._channel_full("channel_id")
        member = self._join(channel, user_id, is_admin=False)
        self._stale.add(channel.id)
        return member_json(member)

    def list_members(self, caller: User, query: Mapping[str, str]) -> Any:
        channel_id = query.get("channel_id")
        if not channel_id:
            raise ApiError.missing("channel_id")
        channel = self._visible_channel(caller, channel_id, "channel_id")
        return paginate(
            list(channel.members.values()),
            kind="mem",
            query=query,
            seq_of=lambda m: m.seq,
            to_json=member_json,
        )

    def _visible_member(self, caller: User, member_id: str) -> tuple[Channel, Membership]:
        member = self.memberships.get(member_id)
        if member is None:
            raise ApiError.not_found("id", "DM member")
        channel = self.channels[member.channel_id]
        if caller.id not in channel.members:
            raise ApiError.not_found("id", "DM member")
        return channel, member

    def retrieve_member(self, caller: User, member_id: str) -> Any:
        return member_json(self._visible_member(caller, member_id)[1])

    def _may_manage(self, caller: User, channel: Channel, member: Membership) -> bool:
        return member.user_id == caller.id or channel.members[caller.id].is_admin

    def update_member(self, caller: User, member_id: str, body: Mapping[str, Any]) -> Any:
        channel, member = self._visible_member(caller, member_id)
        status = optional_enum(body, "status", MEMBER_STATUSES)
        preference = optional_enum(body, "notification_preference", NOTIFICATION_PREFERENCES)
        if not self._may_manage(caller, channel, member):
            raise ApiError.forbidden("Only the member or an admin of the channel may update it.")
        if status is not None:
            member.status = status
        if preference is not None:
            member.notification_preference = preference
        return member_json(member)

    def delete_member(self, caller: User, member_id: str) -> Any:
        channel, member = self._visible_member(caller, member_id)
        if not self._may_manage(caller, channel, member):
            raise ApiError.forbidden("Only the member or an admin of the channel may remove it.")
        del channel.members[member.user_id]
        del self.memberships[member.id]
        self._stale.add(channel.id)
        return True

    # -- messages -------------------------------------------------------------------

    def message_json(self, message: Message) -> dict[str, Any]:
        author = self.users.get(message.user_id)
        return {
            "id": message.id,
            "content": message.content,
            "created_at": iso_ms(message.created_ms),
            "updated_at": iso_ms(message.updated_ms),
            "poll": message.poll,
            "replying_to_message_id": message.replying_to_message_id,
            "is_edited": message.is_edited,
            "is_pinned": message.is_pinned,
            "message_type": "regular",
            "mentions": message.mentions,
            "mentions_everyone": message.mentions_everyone,
            "user": {
                "id": message.user_id,
                "username": author.username if author else message.user_id,
                "name": author.name if author else None,
            },
            "view_count": None,
            "reaction_counts": [
                {"emoji": emoji, "count": count} for emoji, count in _tally(message, "emoji")
            ],
            "poll_votes": [
                {"option_id": option, "count": count}
                for option, count in _tally(message, "poll_option_id")
            ],
        }

    def _mentions(self, channel: Channel, content: str) -> list[str]:
        found: list[str] = []
        for name in _MENTION.findall(content):
            user = self._users_by_name.get(name.lower())
            if user is not None and user.id in channel.members and user.id not in found:
                found.append(user.id)
        return found

    def create_message(self, caller: User, body: Mapping[str, Any]) -> Any:
        channel_id = required_str(body, "channel_id")
        content = required_str(body, "content")
        if not content.strip():
            raise ApiError.invalid("content", "'content' must not be blank.")
        reply_to = optional_str(body, "replying_to_message_id")
        poll = _poll(body)
        attachments = _attachments(body)
        # Accepted and checked; the fake makes no link previews (the spec's
        # Message has no field to show them in).
        optional_bool(body, "auto_detect_links")
        channel = self._visible_channel(caller, channel_id, "channel_id")
        if reply_to is not None and reply_to not in channel.messages:
            raise ApiError.not_found("replying_to_message_id", "Message")
        stamp = now_ms()
        message = Message(
            id=self._new_id("msg_", self.messages),
            seq=next(self._seq),
            channel_id=channel.id,
            user_id=caller.id,
            content=content,
            created_ms=stamp,
            updated_ms=stamp,
            replying_to_message_id=reply_to,
            poll=poll,
            mentions=self._mentions(channel, content),
            mentions_everyone="@everyone" in content,
            attachments=attachments or [],
        )
        channel.messages[message.id] = message
        self.messages[message.id] = message
        channel.last_message_at = iso_ms(stamp)
        channel.active_ms, channel.active_seq = stamp, message.seq
        answer = self.message_json(message)
        if self.on_event is not None:
            self.on_event("chat.message.created", channel, {"message": answer})
        return answer

    def list_messages(self, caller: User, query: Mapping[str, str]) -> Any:
        channel_id = query.get("channel_id")
        if not channel_id:
            raise ApiError.missing("channel_id")
        direction = query.get("direction", "asc")
        if direction not in DIRECTIONS:
            raise ApiError.invalid("direction", "'direction' must be one of: asc, desc.")
        channel = self._visible_channel(caller, channel_id, "channel_id")
        items = list(channel.messages.values())
        descending = direction == "desc"
        if descending:
            items.reverse()
        page = paginate(
            items,
            kind="msg",
            query=query,
            seq_of=lambda m: m.seq,
            to_json=self.message_json,
            descending=descending,
        )
        # Reading the channel is viewing it.
        channel.members[caller.id].last_viewed_at = str(now_ms())
        return page

    def _visible_message(self, caller: User, message_id: str) -> tuple[Channel, Message]:
        message = self.messages.get(message_id)
        if message is None or caller.id not in self.channels[message.channel_id].members:
            raise ApiError.not_found("id", "Message")
        return self.channels[message.channel_id], message

    def retrieve_message(self, caller: User, message_id: str) -> Any:
        return self.message_json(self._visible_message(caller, message_id)[1])

    def update_message(self, caller: User, message_id: str, body: Mapping[str, Any]) -> Any:
        channel, message = self._visible_message(caller, message_id)
        content = optional_str(body, "content")
        is_pinned = optional_bool(body, "is_pinned")
        attachments = _attachments(body)
        if content is not None and not content.strip():
            raise ApiError.invalid("content", "'content' must not be blank.")
        is_author = message.user_id == caller.id
        if content is not None and not is_author:
            raise ApiError.forbidden("Only the author of a message may edit its content.")
        if attachments is not None and not is_author:
            raise ApiError.forbidden("Only the author of a message may change its attachments.")
        if is_pinned is not None and not (is_author or channel.members[caller.id].is_admin):
            raise ApiError.forbidden("Only the author or a channel admin may pin a message.")
        if content is not None and content != message.content:
            message.content = content
            message.mentions = self._mentions(channel, content)
            message.mentions_everyone = "@everyone" in content
            message.is_edited = True
            message.updated_ms = now_ms()
        if is_pinned is not None and is_pinned != message.is_pinned:
            message.is_pinned = is_pinned
            message.updated_ms = now_ms()
        if attachments is not None and attachments != message.attachments:
            message.attachments = attachments
            message.updated_ms = now_ms()
        return self.message_json(message)

    def delete_message(self, caller: User, message_id: str) -> Any:
        channel, message = self._visible_message(caller, message_id)
        if message.user_id != caller.id and not channel.members[caller.id].is_admin:
            raise ApiError.forbidden("Only the author or a channel admin may delete a message.")
        del channel.messages[message.id]
        self._forget_message(message)
        return True

    def _forget_message(self, message: Message) -> None:
        del self.messages[message.id]
        for reaction_id in message.reactions:
            del self.reactions[reaction_id]

    # -- reactions --------------------------------------------------------------------

    def reaction_json(self, reaction: Reaction) -> dict[str, Any]:
        return {
            "id": reaction.id,
            "resource_id": reaction.message_id,
            "user": self._user_json(reaction.user_id),
            "emoji": reaction.emoji,
        }

    def _user_json(self, user_id: str) -> dict[str, Any]:
        user = self.users.get(user_id)
        return {
            "id": user_id,
            "username": user.username if user else user_id,
            "name": user.name if user else None,
        }

    def _reacted_message(self, caller: User, message_id: str, param: str) -> Message:
        message = self.messages.get(message_id)
        if message is None or caller.id not in self.channels[message.channel_id].members:
            raise ApiError.not_found(param, "Message")
        return message

    def create_reaction(self, caller: User, body: Mapping[str, Any]) -> Any:
        message_id = required_str(body, "resource_id")
        emoji = optional_str(body, "emoji")
        option = optional_str(body, "poll_option_id")
        if emoji is None and option is None:
            raise ApiError(
                400, "Give an emoji or a poll_option_id.", code="parameter_missing", param="emoji"
            )
        if emoji is not None and option is not None:
            raise ApiError.invalid("poll_option_id", "Give an emoji or a poll_option_id, not both.")
        if emoji is not None and not emoji.strip():
            raise ApiError.invalid("emoji", "'emoji' must not be blank.")
        message = self._reacted_message(caller, message_id, "resource_id")
        mine = [r for r in message.reactions.values() if r.user_id == caller.id]
        if option is not None:
            options = [o["id"] for o in (message.poll or {}).get("options") or []]
            if option not in options:
                raise ApiError.invalid("poll_option_id", "The message has no such poll option.")
            for reaction in mine:
                if reaction.poll_option_id == option:
                    return self.reaction_json(reaction)
                if reaction.poll_option_id is not None:
                    # One vote per user and poll: a new choice replaces the old.
                    self._drop_reaction(message, reaction)
        else:
            for reaction in mine:
                if reaction.emoji == emoji:
                    return self.reaction_json(reaction)
        reaction = Reaction(
            id=self._new_id("reac_", self.reactions),
            seq=next(self._seq),
            message_id=message.id,
            user_id=caller.id,
            emoji=emoji,
            poll_option_id=option,
        )
        message.reactions[reaction.id] = reaction
        self.reactions[reaction.id] = reaction
        answer = self.reaction_json(reaction)
        if self.on_event is not None:
            channel = self.channels[message.channel_id]
            data = {"reaction": answer, "message": self.message_json(message)}
            self.on_event("chat.reaction.created", channel, data)
        return answer

    def list_reactions(self, caller: User, query: Mapping[str, str]) -> Any:
        message_id = query.get("resource_id")
        if not message_id:
            raise ApiError.missing("resource_id")
        message = self._reacted_message(caller, message_id, "resource_id")
        items = list(message.reactions.values())
        items.reverse()  # "sorted by most recent"
        return paginate(
            items,
            kind="rea",
            query=query,
            seq_of=lambda r: r.seq,
            to_json=self.reaction_json,
            descending=True,
        )

    def _visible_reaction(self, caller: User, reaction_id: str) -> tuple[Message, Reaction]:
        reaction = self.reactions.get(reaction_id)
        if reaction is None:
            raise ApiError.not_found("id", "Reaction")
        message = self.messages[reaction.message_id]
        if caller.id not in self.channels[message.channel_id].members:
            raise ApiError.not_found("id", "Reaction")
        return message, reaction

    def retrieve_reaction(self, caller: User, reaction_id: str) -> Any:
        return self.reaction_json(self._visible_reaction(caller, reaction_id)[1])

    def delete_reaction(self, caller: User, some_id: str, query: Mapping[str, str]) -> Any:
        emoji = query.get("emoji")
        if some_id in self.reactions:
            message, reaction = self._visible_reaction(caller, some_id)
            admin = self.channels[message.channel_id].members[caller.id].is_admin
            if reaction.user_id != caller.id and not admin:
                raise ApiError.forbidden(
                    "Only the author of a reaction or a channel admin may remove it."
                )
        else:
            # The id of the message reacted to: the emoji says which of the
            # caller's reactions goes.
            message = self._reacted_message(caller, some_id, "id")
            if not emoji:
                raise ApiError(
                    400,
                    "'emoji' is required when the id is a message's.",
                    code="parameter_missing",
                    param="emoji",
                )
            found = [
                r for r in message.reactions.values() if r.user_id == caller.id and r.emoji == emoji
            ]
            if not found:
                raise ApiError.not_found("emoji", "Reaction")
            reaction = found[0]
        self._drop_reaction(message, reaction)
        return True

    def _drop_reaction(self, message: Message, reaction: Reaction) -> None:
        del message.reactions[reaction.id]
        del self.reactions[reaction.id]

    # -- snapshots --------------------------------------------------------------------

    @staticmethod
    def channel_snapshot(channel: Channel) -> ChannelSnapshot:
        return ChannelSnapshot(
            id=channel.id,
            name=channel.name,
            company_id=channel.company_id,
            created_at=str(channel.created_ms),
            last_message_at=channel.last_message_at,
            creator_id=channel.creator_id,
            member_ids=tuple(channel.members),
            admin_ids=frozenset(u for u, m in channel.members.items() if m.is_admin),
            notifications_enabled=channel.notifications_enabled,
        )

    @staticmethod
    def membership_snapshot(member: Membership) -> MembershipSnapshot:
        return MembershipSnapshot(
            id=member.id,
            channel_id=member.channel_id,
            user_id=member.user_id,
            status=member.status,
            notification_preference=member.notification_preference,
            last_viewed_at=member.last_viewed_at,
            is_admin=member.is_admin,
        )

    @staticmethod
    def message_snapshot(message: Message) -> MessageSnapshot:
        return MessageSnapshot(
            id=message.id,
            channel_id=message.channel_id,
            user_id=message.user_id,
            content=message.content,
            created_at=iso_ms(message.created_ms),
            updated_at=iso_ms(message.updated_ms),
            is_edited=message.is_edited,
            is_pinned=message.is_pinned,
            replying_to_message_id=message.replying_to_message_id,
            attachment_ids=tuple(message.attachments),
            poll=message.poll,
        )

    @staticmethod
    def reaction_snapshot(reaction: Reaction) -> ReactionSnapshot:
        return ReactionSnapshot(
            id=reaction.id,
            message_id=reaction.message_id,
            user_id=reaction.user_id,
            emoji=reaction.emoji,
            poll_option_id=reaction.poll_option_id,
        )
