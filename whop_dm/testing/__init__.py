"""A faithful, stateful, in-memory Whop DM API for tests, demos and benchmarks.

``FakeWhop`` serves the DM surface of Whop's REST API (channels, members,
messages) over real HTTP on a loopback port. It is written from Whop's
published spec, not from this library's client, so it catches the client's
mistakes instead of sharing them. It is imported only on demand: ``import
whop_dm`` does not load it.

Behaviour worth knowing, beyond the spec's text:

- Channels: creating a channel whose members (the caller plus
  ``with_user_ids``, each a user id, username or email) and company match an
  existing channel returns that channel unchanged (200, same id;
  ``custom_name`` is then ignored). The caller becomes the channel's admin;
  every participant is a member from the start. ``company_id`` may be any
  string starting with ``biz_``; anything else is 404 with ``param``
  ``company_id``. Any member may rename a channel; only its admin may delete it.
- Members: adding a user who already belongs to the channel returns the
  existing membership (200) and stores nothing new, so no duplicate can exist.
  Only the channel's admin may add members (403 otherwise). A channel holds at
  most ``max_channel_members`` members, the creator included; one more is
  refused with 400, code ``channel_full``. A member may update or remove its
  own membership; an admin may update or remove anyone's.
- Visibility: only members see a channel, its memberships and its messages;
  for anyone else those ids answer 404, exactly like unknown ids (the fake
  never tells a stranger that a channel exists).
- Messages: any member may post; only the author edits the content; the
  author or an admin may pin or delete. ``GET /messages`` sets the caller's
  ``last_viewed_at``. Lists are oldest first (``direction=asc``) by default.
- Pages: ``first``/``last`` are 1 to 100 (default 25 when neither is given);
  other values are 400 ``parameter_invalid``. Cursors are opaque and stay valid
  when earlier items are deleted. Channels and members come in creation order.
- Scopes: ``dms:read`` for every GET, ``dms:channel:manage`` for changing
  channels and members, ``dms:message:manage`` for changing messages.
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
    "RecordedRequest",
    "WebhookDelivery",
    "serve",
    "sign_webhook",
]
