"""Setting up state on the fake straight over HTTP, as ``ADMIN``, not through the command."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from whop_dm.testing import FakeWhop

from .conftest import API_KEY


def call(fake: FakeWhop, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(  # noqa: S310 - loopback
        fake.base_url + path,
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        return json.loads(response.read())


def add_member(fake: FakeWhop, channel_id: str, user_id: str) -> str:
    member_id = call(fake, "POST", "/dm_members", {"channel_id": channel_id, "user_id": user_id})
    return str(member_id["id"])


def send(fake: FakeWhop, channel_id: str, content: str) -> str:
    message = call(fake, "POST", "/messages", {"channel_id": channel_id, "content": content})
    return str(message["id"])
