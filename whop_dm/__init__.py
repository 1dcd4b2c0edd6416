"""whop-dm: an asyncio-first client for Whop's DM API.

>>> import whop_dm
>>> async with whop_dm.AsyncClient() as client:  # doctest: +SKIP
...     channel = await client.dm_channels.create(with_user_ids=["user_b"])
"""

from typing import TYPE_CHECKING, Any

from ._client import AsyncClient
from ._dm_channels import AsyncDmChannels
from ._dm_members import AsyncDmMembers
from ._enums import MemberStatus, MessageType, NotificationPreference
from ._errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ClientClosedError,
    ConflictError,
    InternalServerError,
    MissingAPIKeyError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseDecodeError,
    VerificationRequiredError,
    WebhookVerificationError,
    WhopError,
)
from ._models import DmChannel, DmMember
from ._pacing import RateLimits
from ._pagination import AsyncPager, Page, PageInfo
from ._retry import RetryEvent, RetryPolicy
from ._timeout import Timeout
from ._version import __version__

if TYPE_CHECKING:
    from ._bulk import BulkAddResult, BulkFailure
    from ._events import RequestEvent, ResponseEvent
    from ._journal import JournalError
    from ._message_models import (
        Message,
        MessagePoll,
        MessageUser,
        PollOption,
        PollVote,
        Reaction,
        ReactionCount,
    )
    from ._messages import AsyncMessages
    from ._progress import Progress
    from ._reactions import AsyncReactions
    from ._redis_store import RedisStore
    from ._sync import Client, DmChannels, DmMembers, Messages, Reactions, SyncPager
    from ._watch import ChannelMessage

# Names loaded on first use: the blocking client (a thread, a portal), the
# messages and the bulk machinery cost import time that an async program, or one that never
# adds in bulk, should not pay (see the import-time benchmark).
_LAZY = {
    "AsyncMessages": "._messages",
    "Message": "._message_models",
    "MessagePoll": "._message_models",
    "MessageUser": "._message_models",
    "PollOption": "._message_models",
    "PollVote": "._message_models",
    "Reaction": "._message_models",
    "ReactionCount": "._message_models",
    "AsyncReactions": "._reactions",
    "RequestEvent": "._events",
    "ResponseEvent": "._events",
    "BulkAddResult": "._bulk",
    "BulkFailure": "._bulk",
    "JournalError": "._journal",
    "Progress": "._progress",
    "ChannelMessage": "._watch",
    "Client": "._sync",
    "DmChannels": "._sync",
    "DmMembers": "._sync",
    "Messages": "._sync",
    "Reactions": "._sync",
    "SyncPager": "._sync",
    "RedisStore": "._redis_store",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AsyncClient",
    "AsyncDmChannels",
    "AsyncDmMembers",
    "AsyncMessages",
    "AsyncPager",
    "AsyncReactions",
    "AuthenticationError",
    "BulkAddResult",
    "BulkFailure",
    "BadRequestError",
    "ChannelMessage",
    "Client",
    "ClientClosedError",
    "ConflictError",
    "DmChannel",
    "DmChannels",
    "DmMember",
    "DmMembers",
    "InternalServerError",
    "JournalError",
    "MemberStatus",
    "Message",
    "MessagePoll",
    "MessageType",
    "MessageUser",
    "Messages",
    "MissingAPIKeyError",
    "NotFoundError",
    "NotificationPreference",
    "Page",
    "PageInfo",
    "PermissionDeniedError",
    "PollOption",
    "PollVote",
    "Progress",
    "RateLimitError",
    "RateLimits",
    "Reaction",
    "RedisStore",
    "ReactionCount",
    "Reactions",
    "RequestEvent",
    "ResponseDecodeError",
    "ResponseEvent",
    "RetryEvent",
    "RetryPolicy",
    "SyncPager",
    "Timeout",
    "VerificationRequiredError",
    "WebhookVerificationError",
    "WhopError",
    "__version__",
]
