"""Every answer matches the spec's schemas (copied in data/dm_schemas.json).

The ``Api`` helper validates each JSON answer of every test; this module makes
sure each route's success schema is reached at least once, and that the check
itself can fail.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from ._api import _ROUTE_SCHEMAS, VALIDATED, Api, validate
from .test_running import _env

PACKAGE = Path(__file__).resolve().parents[2] / "whop_dm" / "testing"


async def test_every_route_answers_its_spec_schema(alice: Api, bob: Api) -> None:
    start = len(VALIDATED)
    channel = await alice.channel("user_bob", custom_name="All routes")
    cid = channel["id"]
    await alice.get("/dm_channels")
    await alice.get(f"/dm_channels/{cid}")
    await alice.patch(f"/dm_channels/{cid}", {"custom_name": "Renamed"})
    member = (await alice.post("/dm_members", {"channel_id": cid, "user_id": "user_carol"})).json
    await alice.get("/dm_members", channel_id=cid)
    await alice.get(f"/dm_members/{member['id']}")
    await alice.patch(f"/dm_members/{member['id']}", {"notification_preference": "none"})
    message = (await alice.post("/messages", {"channel_id": cid, "content": "hi @bob"})).json
    reply = await bob.post(
        "/messages",
        {
            "channel_id": cid,
            "content": "poll",
            "replying_to_message_id": message["id"],
            "poll": {"options": [{"id": "1", "text": "yes"}, {"id": "2", "text": "no"}]},
        },
    )
    assert reply.json["poll"]["options"][0] == {"id": "1", "text": "yes"}
    vote = await alice.post("/reactions", {"resource_id": reply.json["id"], "poll_option_id": "2"})
    heart = await bob.post("/reactions", {"resource_id": message["id"], "emoji": ":heart:"})
    await alice.get("/reactions", resource_id=message["id"])
    await alice.get(f"/reactions/{heart.json['id']}")
    await alice.delete(f"/reactions/{vote.json['id']}")
    await alice.get("/messages", channel_id=cid, direction="desc")
    await alice.get(f"/messages/{message['id']}")
    await alice.patch(f"/messages/{message['id']}", {"content": "edited", "is_pinned": True})
    await alice.delete(f"/messages/{message['id']}")
    await alice.delete(f"/dm_members/{member['id']}")
    await alice.get(f"/dm_channels/{cid}x")
    await alice.delete(f"/dm_channels/{cid}")
    seen = set(VALIDATED[start:])
    assert seen >= set(_ROUTE_SCHEMAS.values()) | {"ErrorEnvelope"}


def test_schema_check_catches_a_missing_required_field() -> None:
    channel = {"id": "feed_1", "created_at": "1", "name": None, "last_message_at": None}
    validate("DmChannel", channel)
    del channel["last_message_at"]
    with pytest.raises(jsonschema.ValidationError, match="last_message_at"):
        validate("DmChannel", channel)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DmMember", {"id": "d", "user_id": "u", "channel_id": "c", "status": "gone",
                      "last_viewed_at": None, "notification_preference": "all"}),
        ("DmChannel", {"id": "f", "created_at": "1", "name": None, "last_message_at": "yesterday"}),
    ],
)  # fmt: skip
def test_schema_check_catches_bad_enums_and_dates(name: str, value: object) -> None:
    with pytest.raises(jsonschema.ValidationError):
        validate(name, value)


def test_fake_imports_no_client_code() -> None:
    """The fake is the other side of the wire: it must not share the client's mistakes."""
    for source in PACKAGE.glob("*.py"):
        tree = ast.parse(source.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                if name == "whop_dm" and source.name == "pytest_plugin.py":
                    continue  # the whop_client fixture imports AsyncClient, lazily
                if name == "whop_dm._loop_guard":
                    continue  # where the fake says which loop serves it; no client code
                assert not name.startswith("whop_dm") or name.startswith("whop_dm.testing"), (
                    f"{source.name} imports {name}"
                )


def test_import_whop_dm_does_not_load_the_fake() -> None:
    code = "import sys, whop_dm; print('whop_dm.testing' in sys.modules)"
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", code],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == "False"
