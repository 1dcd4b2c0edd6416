"""A faithful, stateful, in-memory Whop DM API for tests, demos and benchmarks.

``FakeWhop`` serves the DM surface of Whop's REST API (channels, members,
messages, reactions) over real HTTP on a loopback port. It is written from
Whop's published spec, not from this library's client, so it catches the
client's mistakes instead of sharing them. It is imported only on demand:
``import whop_dm`` does not load it.

The rules each operation's description in the spec states, and how the fake
keeps them:

- ``GET /dm_channels``: the caller's channels, "sorted by most recently
  active": the channel with the latest message (or, without messages, the
  latest made) first.
- ``POST /dm_channels``: "returns the existing channel if one already
  exists": same members (the caller plus ``with_user_ids``, each a user id,
  username or email) and same company give that channel unchanged (200,
  same id; ``custom_name`` is then ignored). The company is read as
  ``account_id`` (Whop's current name) or ``company_id`` (the seed spec's);
  both naming different companies is 400. Any string starting with ``biz_``
  is a company; anything else is 404. ``notifications_enabled`` is kept
  (``ChannelSnapshot.notifications_enabled``). The caller becomes the
  channel's admin; every participant is a member from the start.
- ``PATCH`` and ``DELETE /dm_channels/{id}``: "only an admin of the channel"
  (403 for other members); delete removes its memberships, messages and
  reactions.
- ``GET /dm_members``: "sorted by the date they were added".
- ``POST /dm_members``: "only an admin of the channel can add members".
  Adding a user who already belongs returns the existing membership (200).
  A channel holds at most ``max_channel_members`` members, the creator
  included; one more is 400, code ``channel_full``.
- ``DELETE /dm_members/{id}``: "an admin can remove any member, and a member
  can remove themselves". ``PATCH`` follows the same rule (the spec states
  none for it).
- ``GET /messages``: "sorted by creation time", oldest first by default,
  newest first with ``direction=desc``. Reading sets the caller's
  ``last_viewed_at``.
- ``POST /messages``: text, replies (to a message of the same channel),
  polls and ``attachments``. Attachments are references to file objects
  (``{"id": ...}``): the fake keeps the ids (``MessageSnapshot.attachment_ids``)
  and stores no file; the spec's Message has no field that shows them, so
  answers do not either. ``auto_detect_links`` is checked and accepted; no
  link preview is made (the spec's Message has no field for one).
- ``PATCH /messages/{id}``: the spec states no rule. Only the author edits
  the content or the attachments; the author or an admin pins.
- ``DELETE /messages/{id}``: "only the message author or a channel admin".
- ``POST /reactions``: "an emoji reaction or poll vote": exactly one of
  ``emoji`` and ``poll_option_id`` (an option of the message's poll). The
  same emoji twice from one user answers the existing reaction; a user has
  one vote per poll, and a new vote replaces the old one. Messages count
  them in ``reaction_counts`` and ``poll_votes``.
- ``GET /reactions``: "sorted by most recent".
- ``DELETE /reactions/{id}``: ``id`` is a reaction's, or a message's with
  ``emoji`` (required then: 400 without it), which removes the caller's
  reaction with that emoji; "only the reaction author or a channel admin".
  Emojis are compared as given: the fake does not translate between
  shortcodes and the characters.

Beyond the spec's text:

- Visibility: only members see a channel, its memberships, messages and
  reactions; for anyone else those ids answer 404, exactly like unknown ids.
- Pages: ``first``/``last`` are 1 to 100 (default 25 when neither is given);
  other values are 400 ``parameter_invalid``. The spec states no largest
  page: 100 is the fake's choice, the usual limit of a GraphQL connection.
  Cursors are opaque and stay valid when earlier items are deleted.
- Scopes: ``dms:read`` for every GET, ``dms:channel:manage`` for changing
  channels and members, ``dms:message:manage`` for changing messages, as the
  seed spec has them (Whop's full OpenAPI text differs for members, and also
  accepts ``support_chat:*`` and ``chat:*`` scopes, which a DM fake has no
  use for). Reactions take ``dms:read`` for all four operations, as the
  OpenAPI text says.
- ``Idempotency-Key`` is honoured on POST, PATCH and DELETE (see
  ``_idempotency`` for the rules). Every answer carries ``x-request-id``.
- Webhooks: ``add_webhook(url)`` makes every message created (through the
  API, or by ``send_message_as`` for a customer writing) arrive at ``url`` as a
  signed ``chat.message.created``, with Whop's retries on a fast schedule;
  ``webhook_faults`` and ``bad_signature_next`` spoil deliveries on purpose and
  ``webhook_deliveries`` lists every attempt. Only loopback URLs are allowed.
- Faults (``fail_next``, ``drop_next``, ``delay_next``, ``malformed_next``,
  ``chaos``) act before the request is handled and change no state, except
  those scripted with ``after=True``.
"""

from whop_dm.testing._records import (
    ChannelSnapshot,
    MembershipSnapshot,
    MessageSnapshot,
    ReactionSnapshot,
    RecordedRequest,
)
from whop_dm.testing._serve import serve
from whop_dm.testing._server import FakeWhop
from whop_dm.testing._store import ALL_SCOPES
from whop_dm.testing._webhooks import WebhookDelivery, sign_webhook

__all__ = [
    "ALL_SCOPES",
    "ChannelSnapshot",
    "FakeWhop",
    "MembershipSnapshot",
    "MessageSnapshot",
    "ReactionSnapshot",
    "RecordedRequest",
    "WebhookDelivery",
    "serve",
    "sign_webhook",
]
