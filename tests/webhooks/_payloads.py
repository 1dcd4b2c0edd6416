"""Example deliveries, and an independent signer for them (the standardwebhooks package)."""

from __future__ import annotations

import base64
import copy
import json
import time
from datetime import datetime, timezone
from typing import Any

from standardwebhooks import Webhook

SECRET = "ws_5f1c0a9e7d3b42c6a8e0f7b1d2c3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1"
OTHER_SECRET = "ws_0000aaaa1111bbbb2222cccc3333dddd4444eeee5555ffff6666777788889999"

MESSAGE = {
    "id": "msg_7Hs2Kd9Qw3Lm",
    "content": "Hi, is my order shipped?",
    "created_at": "2026-11-02T09:15:03.902Z",
    "updated_at": "2026-11-02T09:15:03.902Z",
    "is_edited": False,
    "is_pinned": False,
    "message_type": "regular",
    "replying_to_message_id": None,
    "mentions": [],
    "mentions_everyone": False,
    "poll": None,
    "view_count": None,
    "reaction_counts": [],
    "poll_votes": [],
    "user": {"id": "user_Cust00000042", "username": "dana", "name": "Dana R."},
}

# The spec's examples: a newer pin (account_id) and an unpinned webhook (company_id).
MESSAGE_CREATED: dict[str, Any] = {
    "id": "msg_9Yb2QwE4tT0pLs8mNc1Rz7Ua",
    "type": "chat.message.created",
    "api_version": "v1",
    "api_version_date": "2026-08-14",
    "timestamp": "2026-11-02T09:15:04.118Z",
    "account_id": "biz_k3Jd8sPq2LmN0a",
    "data": {
        "audience": {"type": "users", "user_ids": ["user_Bot000000001", "user_Cust00000042"]},
        "channel": {"id": "feed_Xr4Tq9Wm2Pz7Ln", "type": "direct_message", "experience_id": None},
        "reason": "channel_message",
        "message": MESSAGE,
    },
}

REACTION_CREATED: dict[str, Any] = {
    "id": "msg_2Vd8Lq0Xs6Yb1Nr4Tc9Pe3Wk",
    "type": "chat.reaction.created",
    "api_version": "v1",
    "timestamp": "2026-11-02T09:16:40.051Z",
    "company_id": "biz_k3Jd8sPq2LmN0a",
    "data": {
        "audience": {"type": "channel", "user_ids": None},
        "channel": {"id": "feed_Xr4Tq9Wm2Pz7Ln", "type": "direct_message", "experience_id": None},
        "reason": "channel_message",
        "reaction": {
            "id": "reac_5Fg1Hj7Kl3Zx9Cv2Bn",
            "resource_id": "msg_7Hs2Kd9Qw3Lm",
            "emoji": ":heart:",
            "user": {"id": "user_Bot000000001", "username": "shopbot", "name": None},
        },
        "message": MESSAGE,
    },
}


def payload(kind: dict[str, Any] = MESSAGE_CREATED, **changes: Any) -> dict[str, Any]:
    result = copy.deepcopy(kind)
    result.update(changes)
    return result


def body_of(event: dict[str, Any]) -> bytes:
    return json.dumps(event).encode()


def sign(
    body: bytes,
    secret: str = SECRET,
    *,
    webhook_id: str = "msg_9Yb2QwE4tT0pLs8mNc1Rz7Ua",
    timestamp: float | None = None,
) -> dict[str, str]:
    """Headers as Whop sends them, signed by standardwebhooks with the secret's literal bytes."""
    when = datetime.fromtimestamp(time.time() if timestamp is None else timestamp, timezone.utc)
    # standardwebhooks base64-decodes its key: encoding the secret's bytes makes
    # the HMAC key exactly those bytes, which is how Whop signs.
    signer = Webhook(base64.b64encode(secret.encode()).decode())
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": signer.sign(webhook_id, when, body.decode()),
    }
