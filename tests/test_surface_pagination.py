"""Auto-paging of lists over the fake's real cursors: order, laziness, pages by hand."""

from __future__ import annotations

import pytest

from whop_dm import (
    AsyncClient,
    AsyncPager,
    BadRequestError,
    DmChannel,
    Page,
    PageInfo,
    ResponseDecodeError,
)
from whop_dm.testing import FakeWhop, RecordedRequest

pytest_plugins = ["surface_support"]

OTHER_USERS = ["user_bob", "user_carol", "user_dave"]


def sent(fake: FakeWhop, method: str, prefix: str) -> list[RecordedRequest]:
    return [r for r in fake.requests if r.method == method and r.api_path.startswith(prefix)]


async def make_channels(client: AsyncClient, fake: FakeWhop, count: int) -> list[str]:
    """``count`` distinct channels of the owner, in the list's order (newest first)."""
    users = OTHER_USERS
    ids = []
    for index in range(count):
        channel = await client.dm_channels.create(
            with_user_ids=[users[index % len(users)]], company_id=f"biz_{index}"
        )
        ids.append(channel.id)
    fake.clear_requests()
    # No messages yet: the most recently active channel is the newest.
    return ids[::-1]


async def test_iterating_a_list_yields_every_channel_in_order_across_pages(
    owner: AsyncClient, surface_fake: FakeWhop
) -> None:
    ids = await make_channels(owner, surface_fake, 7)

    seen = [channel.id async for channel in owner.dm_channels.list(page_size=3)]

    assert seen == ids
    gets = sent(surface_fake, "GET", "/dm_channels")
    assert [r.query.get("first") for r in gets] == ["3", "3", "3"]
    assert "after" not in gets[0].query
    assert gets[1].query["after"]
    assert gets[2].query["after"] != gets[1].query["after"]


async def test_a_list_answers_records_of_the_item_type(
    owner: AsyncClient, surface_fake: FakeWhop
) -> None:
    await make_channels(owner, surface_fake, 1)
    items = [c async for c in owner.dm_channels.list()]
    assert len(items) == 1
    assert isinstance(items[0], DmChannel)
    assert items[0].created_at.tzinfo is not None


async def test_breaking_out_of_the_loop_stops_fetching(
    owner: AsyncClient, surface_fake: FakeWhop
) -> None:
    ids = await make_channels(owner, surface_fake, 7)

    taken = []
    async for channel in owner.dm_channels.list(page_size=2):
        taken.append(channel.id)
        if len(taken) == 3:
            break

    assert taken == ids[:3]
    # Three records need two pages of two; the third and fourth pages are never asked for.
    assert len(sent(surface_fake, "GET", "/dm_channels")) == 2


async def test_a_page_is_fetched_only_when_the_previous_one_is_used_up(
    owner: AsyncClient, surface_fake: FakeWhop
) -> None:
    await make_channels(owner, surface_fake, 4)
    iterator = aiter(owner.dm_channels.list(page_size=2))
    assert sent(surface_fake, "GET", "/dm_channels") == []

    await anext(iterator)
    await anext(iterator)
    assert len(sent(surface_fake, "GET", "/dm_channels")) == 1

    await anext(iterator)
    assert len(sent(surface_fake, "GET", "/dm_channels")) == 2
    await iterator.aclose()  # type: ignore[attr-defined]


async def test_calling_list_sends_nothing_until_iterated(
    owner: AsyncClient, surface_fake: FakeWhop
) -> None:
    pager = owner.dm_channels.list(page_size=5)
    assert isinstance(pager, AsyncPager)
    assert surface_fake.requests == []


async def test_first_page_gives_data_and_page_info_for_paging_by_hand(
    owner: AsyncClient, surface_fake: FakeWhop
) -> None:
    ids = await make_channels(owner, surface_fake, 5)
    pager = owner.dm_channels.list(page_size=2)

    first = await pager.first_page()
    assert isinstance(first, Page)
    assert isinstance(first.page_info, PageInfo)
    assert [c.id for c in first.data] == ids[:2]
    assert first.page_info.has_next_page is True
    assert first.page_info.has_previous_page is False
    assert first.next_cursor == first.page_info.end_cursor is not None

    second = await pager.fetch_page(first.next_cursor)
    assert [c.id for c in second.data] == ids[2:4]
    assert second.page_info.has_previous_page is True

    last = await pager.fetch_page(second.next_cursor)
    assert [c.id for c in last.data] == ids[4:]
    assert last.page_info.has_next_page is False
    assert last.next_cursor is None


async def test_pages_walks_whole_pages_lazily(owner: AsyncClient, surface_fake: FakeWhop) -> None:
    ids = await make_channels(owner, surface_fake, 5)
    sizes = [len(page.data) async for page in owner.dm_channels.list(page_size=2).pages()]
    assert sizes == [2, 2, 1]
    assert len(ids) == 5


async def test_an_empty_list_gives_no_records_after_one_request(
    owner: AsyncClient, surface_fake: FakeWhop
) -> None:
    assert [c async for c in owner.dm_channels.list()] == []
    assert len(sent(surface_fake, "GET", "/dm_channels")) == 1


async def test_a_pager_can_be_iterated_twice_each_time_from_the_start(
    owner: AsyncClient, surface_fake: FakeWhop
) -> None:
    ids = await make_channels(owner, surface_fake, 3)
    pager = owner.dm_channels.list(page_size=2)
    assert [c.id async for c in pager] == ids
    assert [c.id async for c in pager] == ids


async def test_company_id_filters_the_channel_list(
    owner: AsyncClient, surface_fake: FakeWhop
) -> None:
    ids = await make_channels(owner, surface_fake, 3)
    only = [c.id async for c in owner.dm_channels.list(company_id="biz_1")]
    assert only == [ids[1]]  # the middle one of three, in either order
    assert sent(surface_fake, "GET", "/dm_channels")[0].query["company_id"] == "biz_1"


@pytest.mark.parametrize("bad", [0, -1])
def test_a_page_size_below_one_is_refused_at_call_time(owner: AsyncClient, bad: int) -> None:
    with pytest.raises(ValueError, match="page_size"):
        owner.dm_channels.list(page_size=bad)


@pytest.mark.parametrize("bad", [True, 2.0, "10"])
def test_a_page_size_that_is_not_an_int_is_refused_at_call_time(
    owner: AsyncClient, bad: object
) -> None:
    with pytest.raises(TypeError, match="page_size"):
        owner.dm_channels.list(page_size=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [1, 100])
async def test_page_sizes_at_the_bounds_are_accepted_by_the_api(
    owner: AsyncClient, surface_fake: FakeWhop, size: int
) -> None:
    ids = await make_channels(owner, surface_fake, 2)
    assert [c.id async for c in owner.dm_channels.list(page_size=size)] == ids


async def test_a_server_that_repeats_a_cursor_ends_the_walk_with_an_error() -> None:
    info = PageInfo(end_cursor="c1", start_cursor="c0", has_next_page=True, has_previous_page=False)
    calls: list[str | None] = []

    async def fetch(after: str | None) -> Page[int]:
        calls.append(after)
        return Page(data=[len(calls)], page_info=info)

    seen: list[int] = []

    async def walk() -> None:
        async for record in AsyncPager(fetch, "GET /loop"):
            seen.append(record)
            assert len(seen) < 10, "the pager kept asking for the same page"

    with pytest.raises(ResponseDecodeError, match="cursor"):
        await walk()
    assert calls == [None, "c1"]
    assert seen == [1, 2]


async def test_has_next_page_without_an_end_cursor_ends_the_walk() -> None:
    info = PageInfo(end_cursor=None, start_cursor=None, has_next_page=True, has_previous_page=False)
    calls: list[str | None] = []

    async def fetch(after: str | None) -> Page[str]:
        calls.append(after)
        return Page(data=["only"], page_info=info)

    assert [r async for r in AsyncPager(fetch, "GET /x")] == ["only"]
    assert calls == [None]


async def test_last_walks_backwards_from_the_end_newest_page_first(
    owner: AsyncClient, surface_fake: FakeWhop
) -> None:
    channel = await owner.dm_channels.create(with_user_ids=["user_bob"])
    posted = [
        (await owner.messages.create(channel_id=channel.id, content=f"m{n}")).id for n in range(5)
    ]
    surface_fake.clear_requests()
    pager = owner.messages.list(channel_id=channel.id, last=2)
    assert pager.backwards

    pages = [[m.id for m in page.data] async for page in pager.pages()]
    assert pages == [posted[3:], posted[1:3], posted[:1]]
    gets = sent(surface_fake, "GET", "/messages")
    assert [r.query.get("last") for r in gets] == ["2", "2", "2"]
    assert "before" not in gets[0].query
    assert all("first" not in r.query and "after" not in r.query for r in gets)
    # Record by record, the walk goes from the last record to the first.
    assert [m.id async for m in pager] == posted[::-1]


async def test_before_walks_backwards_from_a_cursor(
    owner: AsyncClient, surface_fake: FakeWhop
) -> None:
    channel = await owner.dm_channels.create(with_user_ids=["user_bob"])
    posted = [
        (await owner.messages.create(channel_id=channel.id, content=f"m{n}")).id for n in range(5)
    ]
    tail = await owner.messages.list(channel_id=channel.id, last=2).first_page()
    assert tail.previous_cursor is not None
    pager = owner.messages.list(channel_id=channel.id, before=tail.previous_cursor, page_size=2)
    assert [m.id async for m in pager] == posted[2::-1]
    first = await pager.first_page()
    assert [m.id for m in first.data] == posted[1:3]
    assert [m.id for m in (await pager.fetch_page(first.previous_cursor)).data] == posted[:1]


async def test_after_starts_a_forward_walk_from_a_cursor(
    owner: AsyncClient, surface_fake: FakeWhop
) -> None:
    ids = await make_channels(owner, surface_fake, 5)
    first = await owner.dm_channels.list(page_size=2).first_page()
    rest = [c.id async for c in owner.dm_channels.list(after=first.next_cursor)]
    assert rest == ids[2:]


async def test_before_without_a_size_asks_for_the_api_default_page(
    owner: AsyncClient, surface_fake: FakeWhop
) -> None:
    await make_channels(owner, surface_fake, 1)
    pager = owner.dm_channels.list(before="Y2g6MTAwMDA")  # a cursor past every channel
    await pager.first_page()
    assert sent(surface_fake, "GET", "/dm_channels")[-1].query == {
        "before": "Y2g6MTAwMDA",
        "last": "25",
    }


@pytest.mark.parametrize(
    ("arguments", "error", "match"),
    [
        ({"after": "a", "before": "b"}, ValueError, "direction"),
        ({"after": "a", "last": 2}, ValueError, "direction"),
        ({"page_size": 2, "last": 2}, ValueError, "last"),
        ({"last": 0}, ValueError, "last"),
        ({"last": "2"}, TypeError, "last"),
        ({"before": ""}, ValueError, "before"),
        ({"after": 5}, TypeError, "after"),
    ],
)
def test_paging_arguments_are_checked_at_call_time(
    owner: AsyncClient, arguments: dict[str, object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        owner.dm_channels.list(**arguments)  # type: ignore[arg-type]


async def test_a_page_size_above_100_is_sent_and_the_server_answers(
    owner: AsyncClient, surface_fake: FakeWhop
) -> None:
    # The spec states no largest page: the client sends what it is given.
    with pytest.raises(BadRequestError):
        await owner.dm_channels.list(page_size=500).first_page()
    assert sent(surface_fake, "GET", "/dm_channels")[-1].query["first"] == "500"


@pytest.mark.parametrize("resource", ["dm_channels", "dm_members", "messages", "reactions"])
def test_every_list_takes_the_backward_paging_arguments(owner: AsyncClient, resource: str) -> None:
    list_method = getattr(owner, resource).list
    required = {"dm_members": "channel_id", "messages": "channel_id", "reactions": "resource_id"}
    extra = {required[resource]: "x_1"} if resource in required else {}
    assert list_method(**extra, before="c", last=3).backwards
    assert not list_method(**extra, after="c", page_size=3).backwards
