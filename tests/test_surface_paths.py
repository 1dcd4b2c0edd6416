"""Ids in paths: escaped as one segment, and refused before sending when empty or not strings."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

import pytest

from whop_dm import AsyncClient, NotFoundError
from whop_dm.testing import FakeWhop

pytest_plugins = ["surface_support"]

Call = Callable[[AsyncClient, Any], Awaitable[object]]

# (method, collection, call) for every method that puts an id in the path.
CALLS: list[tuple[str, str, Call]] = [
    ("GET", "dm_channels", lambda c, i: c.dm_channels.retrieve(i)),
    ("PATCH", "dm_channels", lambda c, i: c.dm_channels.update(i, custom_name="x")),
    ("DELETE", "dm_channels", lambda c, i: c.dm_channels.delete(i)),
    ("GET", "dm_members", lambda c, i: c.dm_members.retrieve(i)),
    ("PATCH", "dm_members", lambda c, i: c.dm_members.update(i, status="hidden")),
    ("DELETE", "dm_members", lambda c, i: c.dm_members.delete(i)),
    ("GET", "messages", lambda c, i: c.messages.retrieve(i)),
    ("PATCH", "messages", lambda c, i: c.messages.update(i, is_pinned=True)),
    ("DELETE", "messages", lambda c, i: c.messages.delete(i)),
]
CALL_IDS = [f"{method} {collection}" for method, collection, _ in CALLS]

AWKWARD_IDS = ["a/b", "../dm_members", "a?b=1", "a#frag", "50%", "%2F", "a b", "é/日本"]


@pytest.mark.parametrize(("method", "collection", "call"), CALLS, ids=CALL_IDS)
@pytest.mark.parametrize("raw", AWKWARD_IDS)
async def test_an_id_is_sent_as_one_escaped_path_segment(
    owner: AsyncClient,
    surface_fake: FakeWhop,
    method: str,
    collection: str,
    call: Call,
    raw: str,
) -> None:
    with pytest.raises(NotFoundError) as caught:
        await call(owner, raw)
    (request,) = surface_fake.requests
    assert request.method == method
    prefix = f"/api/v1/{collection}/"
    assert request.raw_path.startswith(prefix)
    segment = request.raw_path[len(prefix) :]
    assert not set("/?#") & set(segment)
    assert unquote(segment) == raw
    assert request.query == {}
    # The fake routed it to the record (an unknown id), not to some other endpoint.
    assert caught.value.param == "id"


@pytest.mark.parametrize(("method", "collection", "call"), CALLS, ids=CALL_IDS)
@pytest.mark.parametrize("bad", ["", "   ", ".", "..", "a\nb"])
async def test_an_id_that_is_empty_or_would_change_the_path_is_refused_unsent(
    owner: AsyncClient,
    surface_fake: FakeWhop,
    method: str,
    collection: str,
    call: Call,
    bad: str,
) -> None:
    with pytest.raises(ValueError, match="id"):
        await call(owner, bad)
    assert surface_fake.requests == []


@pytest.mark.parametrize(("method", "collection", "call"), CALLS, ids=CALL_IDS)
@pytest.mark.parametrize("bad", [None, 123, b"feed_1"])
async def test_an_id_that_is_not_a_string_is_a_type_error_unsent(
    owner: AsyncClient,
    surface_fake: FakeWhop,
    method: str,
    collection: str,
    call: Call,
    bad: object,
) -> None:
    with pytest.raises(TypeError, match="id"):
        await call(owner, bad)
    assert surface_fake.requests == []


async def test_a_channel_id_in_the_query_is_sent_verbatim(
    owner: AsyncClient, surface_fake: FakeWhop
) -> None:
    with pytest.raises(NotFoundError):
        await owner.messages.list(channel_id="feed_a&first=1/é").first_page()
    (request,) = surface_fake.requests
    assert request.query == {"channel_id": "feed_a&first=1/é"}
