"""whop-dm: an asyncio-first client for Whop's DM API.

>>> import whop_dm
>>> async with whop_dm.AsyncClient() as client:  # doctest: +SKIP
...     channel = await client.dm_channels.create(with_user_ids=["user_b"])
"""

from ._bulk import BulkAddResult, BulkFailure
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
    WhopError,
)
from ._message_models import (
    Message,
    MessagePoll,
    MessageUser,
    PollOption,
    PollVote,
    ReactionCount,
)
from ._messages import AsyncMessages
from ._models import DmChannel, DmMember
from ._pagination import AsyncPager, Page, PageInfo
from ._retry import RetryEvent, RetryPolicy
from ._sync import Client, DmChannels, DmMembers, Messages, SyncPager
from ._timeout import Timeout
from ._version import __version__

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AsyncClient",
    "AsyncDmChannels",
    "AsyncDmMembers",
    "AsyncMessages",
    "AsyncPager",
    "AuthenticationError",
    "BulkAddResult",
    "BulkFailure",
    "BadRequestError",
    "Client",
    "ClientClosedError",
    "ConflictError",
    "DmChannel",
    "DmChannels",
    "DmMember",
    "DmMembers",
    "InternalServerError",
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
    "RateLimitError",
    "ReactionCount",
    "ResponseDecodeError",
    "RetryEvent",
    "RetryPolicy",
    "SyncPager",
    "Timeout",
    "VerificationRequiredError",
    "WhopError",
    "__version__",
]
