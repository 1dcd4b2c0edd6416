"""Cursor pages: first/last/after/before, page_info, validation."""

from __future__ import annotations

from typing import Any

import pytest

from whop_dm.testing import FakeWhop

from ._api import Api


@pytest.fixture
async def seven_messages(alice: Api) -> tuple[str, list[str]]:
    channel = await alice.channel("user_bob")
    ids = []
    for n in range(7):
        answer = await alice.post("/messages", {"channel_id": channel["id"], "content": f"m{n}"})
        ids.append(answer.json["id"])
    return channel["id"], ids


def ids_of(page: Any) -> list[str]:
    return [item["id"] for item in page["data"]]


async def test_walking_forward_with_after_visits_every_item_once(
    alice: Api, seven_messages: tuple[str, list[str]]
) -> None:
    channel_id, ids = seven_messages
    seen: list[str] = []
    query = {"channel_id": channel_id, "first": "3"}
    for _ in range(10):  # bounded: 3 pages expected
        page = (await alice.get("/messages", **query)).json
        seen += ids_of(page)
        if not page["page_info"]["has_next_page"]:
            break
        query["after"] = page["page_info"]["end_cursor"]
    assert seen == ids
    assert page["page_info"]["has_previous_page"] is True


async def test_first_page_info(alice: Api, seven_messages: tuple[str, list[str]]) -> None:
    channel_id, ids = seven_messages
    page = (await alice.get("/messages", channel_id=channel_id, first="2")).json
    assert ids_of(page) == ids[:2]
    info = page["page_info"]
    assert (info["has_next_page"], info["has_previous_page"]) == (True, False)
    assert info["start_cursor"] != info["end_cursor"]


async def test_last_and_before_walk_backwards(
    alice: Api, seven_messages: tuple[str, list[str]]
) -> None:
    channel_id, ids = seven_messages
    tail = (await alice.get("/messages", channel_id=channel_id, last="3")).json
    assert ids_of(tail) == ids[-3:]
    before = tail["page_info"]["start_cursor"]
    previous = (await alice.get("/messages", channel_id=channel_id, last="3", before=before)).json
    assert ids_of(previous) == ids[1:4]
    assert previous["page_info"]["has_previous_page"] is True


async def test_desc_pages_walk_newest_first(
    alice: Api, seven_messages: tuple[str, list[str]]
) -> None:
    channel_id, ids = seven_messages
    page = (await alice.get("/messages", channel_id=channel_id, direction="desc", first="4")).json
    after = page["page_info"]["end_cursor"]
    rest = (await alice.get("/messages", channel_id=channel_id, direction="desc", after=after)).json
    assert ids_of(page) + ids_of(rest) == ids[::-1]


async def test_cursor_survives_deleting_earlier_items(
    alice: Api, seven_messages: tuple[str, list[str]]
) -> None:
    channel_id, ids = seven_messages
    page = (await alice.get("/messages", channel_id=channel_id, first="3")).json
    await alice.delete(f"/messages/{ids[0]}")
    await alice.delete(f"/messages/{ids[1]}")
    rest = (
        await alice.get("/messages", channel_id=channel_id, after=page["page_info"]["end_cursor"])
    ).json
    assert ids_of(rest) == ids[3:]


async def test_default_page_is_25_items(alice: Api, fake: FakeWhop) -> None:
    for n in range(30):
        fake.add_user(f"user_n{n}")
        await alice.channel(f"user_n{n}")
    page = (await alice.get("/dm_channels")).json
    assert len(page["data"]) == 25
    assert page["page_info"]["has_next_page"] is True


async def test_empty_list_has_null_cursors(alice: Api) -> None:
    page = (await alice.get("/dm_channels")).json
    assert page == {
        "data": [],
        "page_info": {
            "start_cursor": None,
            "end_cursor": None,
            "has_next_page": False,
            "has_previous_page": False,
        },
    }


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ({"first": "0"}, "first"),
        ({"first": "101"}, "first"),
        ({"last": "x"}, "last"),
        ({"after": "not-a-cursor"}, "after"),
        ({"before": "bXNnOjM"}, "before"),  # a cursor of another list
    ],
)
async def test_bad_page_arguments_are_parameter_invalid(
    alice: Api, query: dict[str, str], param: str
) -> None:
    answer = await alice.get("/dm_channels", **query)
    assert answer.status == 400
    assert (answer.error["code"], answer.error["param"]) == ("parameter_invalid", param)


async def test_members_page_with_cursors(alice: Api, fake: FakeWhop) -> None:
    channel = await alice.channel("user_bob", "user_carol", "user_dave")
    first = (await alice.get("/dm_members", channel_id=channel["id"], first="2")).json
    rest = (
        await alice.get(
            "/dm_members", channel_id=channel["id"], after=first["page_info"]["end_cursor"]
        )
    ).json
    assert ids_of(first) + ids_of(rest) == [m.id for m in fake.members_of(channel["id"])]
    assert rest["page_info"]["has_next_page"] is False
