"""Messages: send, list (both directions), retrieve, edit, pin, delete; only members."""

from __future__ import annotations

from typing import Any

import pytest

from whop_dm.testing import FakeWhop

from ._api import Api


async def send(api: Api, channel_id: str, content: str, **extra: Any) -> Any:
    return await api.post("/messages", {"channel_id": channel_id, "content": content, **extra})


async def test_send_answers_a_regular_message_by_the_caller(alice: Api, fake: FakeWhop) -> None:
    channel = await alice.channel("user_bob")
    answer = await send(alice, channel["id"], "Hello **@bob**")
    assert answer.status == 200
    message = answer.json
    assert message["id"].startswith("msg_")
    assert message["content"] == "Hello **@bob**"
    assert message["message_type"] == "regular"
    assert (message["is_edited"], message["is_pinned"]) == (False, False)
    assert message["user"] == {"id": "user_alice", "username": "alice", "name": "Alice"}
    assert message["mentions"] == ["user_bob"]
    assert message["created_at"].endswith("Z")
    assert fake.channels[channel["id"]].last_message_at == message["created_at"]


async def test_channel_last_message_at_is_set_by_a_message(alice: Api) -> None:
    channel = await alice.channel("user_bob")
    message = (await send(alice, channel["id"], "hi")).json
    again = (await alice.get(f"/dm_channels/{channel['id']}")).json
    assert again["last_message_at"] == message["created_at"]


async def test_content_is_required_and_not_blank(alice: Api) -> None:
    channel = await alice.channel("user_bob")
    missing = await alice.post("/messages", {"channel_id": channel["id"]})
    assert (missing.status, missing.error["code"], missing.error["param"]) == (
        400,
        "parameter_missing",
        "content",
    )
    blank = await send(alice, channel["id"], "   ")
    assert (blank.status, blank.error["code"]) == (400, "parameter_invalid")


async def test_strangers_cannot_post_or_read(alice: Api, carol: Api) -> None:
    channel = await alice.channel("user_bob")
    message = (await send(alice, channel["id"], "private")).json
    assert (await send(carol, channel["id"], "hi")).status == 404
    assert (await carol.get("/messages", channel_id=channel["id"])).status == 404
    assert (await carol.get(f"/messages/{message['id']}")).status == 404


async def test_reply_must_name_a_message_of_the_channel(alice: Api) -> None:
    channel = await alice.channel("user_bob")
    other = await alice.channel("user_carol")
    first = (await send(alice, channel["id"], "first")).json
    elsewhere = (await send(alice, other["id"], "elsewhere")).json
    reply = await send(alice, channel["id"], "re", replying_to_message_id=first["id"])
    assert reply.json["replying_to_message_id"] == first["id"]
    stray = await send(alice, channel["id"], "re", replying_to_message_id=elsewhere["id"])
    assert (stray.status, stray.error["param"]) == (404, "replying_to_message_id")


async def test_list_is_oldest_first_by_default_and_newest_first_with_desc(
    alice: Api, bob: Api
) -> None:
    channel = await alice.channel("user_bob")
    ids = [
        (await send(alice if n % 2 else bob, channel["id"], f"m{n}")).json["id"] for n in range(4)
    ]
    asc = (await alice.get("/messages", channel_id=channel["id"])).json
    desc = (await bob.get("/messages", channel_id=channel["id"], direction="desc")).json
    assert [m["id"] for m in asc["data"]] == ids
    assert [m["id"] for m in desc["data"]] == ids[::-1]


async def test_unknown_direction_is_parameter_invalid(alice: Api) -> None:
    channel = await alice.channel("user_bob")
    answer = await alice.get("/messages", channel_id=channel["id"], direction="up")
    assert (answer.status, answer.error["param"]) == (400, "direction")


async def test_listing_messages_marks_the_channel_viewed(alice: Api, fake: FakeWhop) -> None:
    channel = await alice.channel("user_bob")
    assert fake.members_of(channel["id"])[0].last_viewed_at is None
    await alice.get("/messages", channel_id=channel["id"])
    viewed = fake.members_of(channel["id"])[0].last_viewed_at
    assert viewed is not None
    assert viewed.isdigit()


async def test_author_edits_content_and_the_message_is_marked_edited(alice: Api) -> None:
    channel = await alice.channel("user_bob")
    message = (await send(alice, channel["id"], "typo")).json
    edited = (await alice.patch(f"/messages/{message['id']}", {"content": "fixed"})).json
    assert (edited["content"], edited["is_edited"]) == ("fixed", True)
    assert (await alice.get(f"/messages/{message['id']}")).json == edited


async def test_only_the_author_edits_content(alice: Api, bob: Api) -> None:
    channel = await alice.channel("user_bob")
    message = (await send(alice, channel["id"], "mine")).json
    assert (await bob.patch(f"/messages/{message['id']}", {"content": "yours"})).status == 403


async def test_admin_may_pin_another_members_message(alice: Api, bob: Api) -> None:
    channel = await alice.channel("user_bob")
    message = (await send(bob, channel["id"], "pin me")).json
    pinned = await alice.patch(f"/messages/{message['id']}", {"is_pinned": True})
    assert (pinned.json["is_pinned"], pinned.json["is_edited"]) == (True, False)
    assert (await bob.patch(f"/messages/{message['id']}", {"is_pinned": "yes"})).status == 400


async def test_delete_message_by_author_answers_true(alice: Api, bob: Api, fake: FakeWhop) -> None:
    channel = await alice.channel("user_bob")
    message = (await send(alice, channel["id"], "bye")).json
    assert (await bob.delete(f"/messages/{message['id']}")).status == 403
    answer = await alice.delete(f"/messages/{message['id']}")
    assert (answer.status, answer.json) == (200, True)
    assert fake.messages == []
    assert (await alice.get(f"/messages/{message['id']}")).status == 404


async def test_attachments_are_kept_as_file_references(alice: Api, fake: FakeWhop) -> None:
    channel = await alice.channel("user_bob")
    answer = await alice.post(
        "/messages",
        {
            "channel_id": channel["id"],
            "content": "see files",
            "attachments": [{"id": "file_a"}, {"id": "file_b"}],
            "auto_detect_links": True,
        },
    )
    assert answer.status == 200
    [message] = fake.messages
    assert message.attachment_ids == ("file_a", "file_b")
    replaced = await alice.patch(f"/messages/{message.id}", {"attachments": [{"id": "file_c"}]})
    assert replaced.status == 200
    assert fake.messages[0].attachment_ids == ("file_c",)


async def test_only_the_author_changes_attachments(alice: Api, bob: Api) -> None:
    channel = await alice.channel("user_bob")
    message = (await alice.post("/messages", {"channel_id": channel["id"], "content": "x"})).json
    answer = await bob.patch(f"/messages/{message['id']}", {"attachments": []})
    assert answer.status == 403


@pytest.mark.parametrize(
    ("field", "value"),
    [("attachments", [{"name": "a.png"}]), ("attachments", "file_a"), ("auto_detect_links", "yes")],
)
async def test_malformed_attachments_or_link_flag_is_parameter_invalid(
    alice: Api, field: str, value: object
) -> None:
    channel = await alice.channel("user_bob")
    answer = await alice.post(
        "/messages", {"channel_id": channel["id"], "content": "x", field: value}
    )
    assert (answer.status, answer.error["param"]) == (400, field)
