"""Reactions and poll votes: POST/GET /reactions, GET/DELETE /reactions/{id}."""

from __future__ import annotations

from typing import Any

import pytest

from whop_dm.testing import FakeWhop

from ._api import Api

POLL = {"options": [{"id": "1", "text": "Tea"}, {"id": "2", "text": "Coffee"}]}


@pytest.fixture
async def message(alice: Api) -> dict[str, Any]:
    """A message of Alice's in a channel with Bob (Carol is a stranger to it)."""
    channel = await alice.channel("user_bob")
    answer = await alice.post("/messages", {"channel_id": channel["id"], "content": "hi"})
    assert answer.status == 200
    body: dict[str, Any] = answer.json
    return body


async def react(api: Api, message_id: str, **fields: str) -> Any:
    return await api.post("/reactions", {"resource_id": message_id, **fields})


async def test_an_emoji_reaction_answers_the_reaction_by_the_caller(
    bob: Api, message: dict[str, Any], fake: FakeWhop
) -> None:
    answer = await react(bob, message["id"], emoji=":heart:")
    assert answer.status == 200
    reaction = answer.json
    assert reaction["id"].startswith("reac_")
    assert reaction["resource_id"] == message["id"]
    assert reaction["emoji"] == ":heart:"
    assert reaction["user"] == {"id": "user_bob", "username": "bob", "name": "Bob"}
    [kept] = fake.reactions
    assert (kept.id, kept.user_id, kept.emoji) == (reaction["id"], "user_bob", ":heart:")


async def test_the_same_emoji_twice_answers_the_existing_reaction(
    bob: Api, message: dict[str, Any], fake: FakeWhop
) -> None:
    first = await react(bob, message["id"], emoji=":fire:")
    again = await react(bob, message["id"], emoji=":fire:")
    assert again.json["id"] == first.json["id"]
    assert len(fake.reactions) == 1


async def test_reactions_are_counted_on_the_message(
    alice: Api, bob: Api, message: dict[str, Any]
) -> None:
    await react(alice, message["id"], emoji=":heart:")
    await react(bob, message["id"], emoji=":heart:")
    await react(bob, message["id"], emoji=":fire:")
    counted = (await alice.get(f"/messages/{message['id']}")).json
    assert counted["reaction_counts"] == [
        {"emoji": ":heart:", "count": 2},
        {"emoji": ":fire:", "count": 1},
    ]
    assert counted["poll_votes"] == []


async def test_a_poll_vote_is_a_reaction_with_a_poll_option(alice: Api, bob: Api) -> None:
    channel = await alice.channel("user_bob")
    poll = (
        await alice.post("/messages", {"channel_id": channel["id"], "content": "?", "poll": POLL})
    ).json
    vote = await react(bob, poll["id"], poll_option_id="2")
    assert vote.status == 200
    assert vote.json["emoji"] is None
    await react(alice, poll["id"], poll_option_id="2")
    counted = (await alice.get(f"/messages/{poll['id']}")).json
    assert counted["poll_votes"] == [{"option_id": "2", "count": 2}]
    assert counted["reaction_counts"] == []


async def test_a_new_vote_replaces_the_callers_earlier_one(
    alice: Api, bob: Api, fake: FakeWhop
) -> None:
    channel = await alice.channel("user_bob")
    poll = (
        await alice.post("/messages", {"channel_id": channel["id"], "content": "?", "poll": POLL})
    ).json
    await react(bob, poll["id"], poll_option_id="1")
    await react(bob, poll["id"], poll_option_id="2")
    assert [r.poll_option_id for r in fake.reactions] == ["2"]


async def test_a_vote_for_an_option_the_message_lacks_is_parameter_invalid(
    bob: Api, message: dict[str, Any]
) -> None:
    answer = await react(bob, message["id"], poll_option_id="1")
    assert (answer.status, answer.error["param"]) == (400, "poll_option_id")


async def test_a_reaction_needs_an_emoji_or_a_poll_option(
    bob: Api, message: dict[str, Any]
) -> None:
    neither = await react(bob, message["id"])
    assert (neither.status, neither.error["code"]) == (400, "parameter_missing")
    both = await react(bob, message["id"], emoji=":x:", poll_option_id="1")
    assert both.status == 400
    missing = await bob.post("/reactions", {"emoji": ":x:"})
    assert (missing.status, missing.error["param"]) == (400, "resource_id")


async def test_strangers_cannot_react_list_or_see_reactions(
    bob: Api, carol: Api, message: dict[str, Any]
) -> None:
    reaction = (await react(bob, message["id"], emoji=":heart:")).json
    assert (await react(carol, message["id"], emoji=":heart:")).status == 404
    assert (await carol.get("/reactions", resource_id=message["id"])).status == 404
    assert (await carol.get(f"/reactions/{reaction['id']}")).status == 404
    assert (await carol.delete(f"/reactions/{reaction['id']}")).status == 404


async def test_list_is_most_recent_first_and_pages(
    alice: Api, bob: Api, message: dict[str, Any]
) -> None:
    made = [(await react(bob, message["id"], emoji=f":e{n}:")).json["id"] for n in range(3)]
    made.append((await react(alice, message["id"], emoji=":e0:")).json["id"])
    first = (await alice.get("/reactions", resource_id=message["id"], first="3")).json
    assert [r["id"] for r in first["data"]] == made[::-1][:3]
    after = first["page_info"]["end_cursor"]
    rest = (await alice.get("/reactions", resource_id=message["id"], after=after)).json
    assert [r["id"] for r in rest["data"]] == made[:1]
    assert (await alice.get("/reactions")).error["code"] == "parameter_missing"


async def test_retrieve_answers_the_reaction(alice: Api, bob: Api, message: dict[str, Any]) -> None:
    reaction = (await react(bob, message["id"], emoji=":wave:")).json
    assert (await alice.get(f"/reactions/{reaction['id']}")).json == reaction
    assert (await alice.get("/reactions/reac_nope")).status == 404


async def test_the_author_deletes_a_reaction_by_its_id(
    bob: Api, message: dict[str, Any], fake: FakeWhop
) -> None:
    reaction = (await react(bob, message["id"], emoji=":wave:")).json
    answer = await bob.delete(f"/reactions/{reaction['id']}")
    assert (answer.status, answer.json) == (200, True)
    assert fake.reactions == []
    assert (await bob.delete(f"/reactions/{reaction['id']}")).status == 404


async def test_a_message_id_and_an_emoji_delete_the_callers_reaction(
    alice: Api, bob: Api, message: dict[str, Any], fake: FakeWhop
) -> None:
    await react(alice, message["id"], emoji=":heart:")
    await react(bob, message["id"], emoji=":heart:")
    answer = await bob.call("DELETE", f"/reactions/{message['id']}", params={"emoji": ":heart:"})
    assert (answer.status, answer.json) == (200, True)
    assert [r.user_id for r in fake.reactions] == ["user_alice"]


async def test_a_message_id_without_an_emoji_is_parameter_missing(
    bob: Api, message: dict[str, Any]
) -> None:
    await react(bob, message["id"], emoji=":heart:")
    answer = await bob.delete(f"/reactions/{message['id']}")
    assert (answer.status, answer.error["param"]) == (400, "emoji")


async def test_only_the_author_or_an_admin_removes_a_reaction(
    alice: Api, bob: Api, fake: FakeWhop
) -> None:
    channel = await alice.channel("user_bob", "user_carol")
    message = (await alice.post("/messages", {"channel_id": channel["id"], "content": "x"})).json
    by_carol = (await react(bob.as_key("key_carol"), message["id"], emoji=":ok:")).json
    assert (await bob.delete(f"/reactions/{by_carol['id']}")).status == 403
    assert (await alice.delete(f"/reactions/{by_carol['id']}")).status == 200  # the admin


async def test_deleting_a_message_deletes_its_reactions(
    alice: Api, bob: Api, message: dict[str, Any], fake: FakeWhop
) -> None:
    reaction = (await react(bob, message["id"], emoji=":heart:")).json
    await alice.delete(f"/messages/{message['id']}")
    assert fake.reactions == []
    assert (await bob.get(f"/reactions/{reaction['id']}")).status == 404


async def test_reactions_need_only_the_read_scope(
    alice: Api, message: dict[str, Any], fake: FakeWhop
) -> None:
    # Whop's OpenAPI text names dms:read for all four reaction operations.
    reader = alice.as_key(fake.add_api_key("key_reader", user_id="user_bob", scopes=["dms:read"]))
    assert (await react(reader, message["id"], emoji=":eyes:")).status == 200
    no_scope = alice.as_key(fake.add_api_key("key_none", user_id="user_bob", scopes=[]))
    assert (await react(no_scope, message["id"], emoji=":eyes:")).status == 403
