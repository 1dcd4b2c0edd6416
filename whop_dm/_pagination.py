"""Cursor pages, and the pager that walks them lazily."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs

from ._converter import decode
from ._errors import ResponseDecodeError

if TYPE_CHECKING:
    from ._transport import Transport

__all__ = [
    "MAX_PAGE_SIZE",
    "AsyncPager",
    "Page",
    "PageFetcher",
    "PageInfo",
    "check_page_size",
    "cursor_pager",
    "decode_page",
]

T = TypeVar("T")

# Whop's lists are GraphQL connections underneath: ``first`` is 1 to 100.
MAX_PAGE_SIZE = 100


@attrs.frozen
class PageInfo:
    """Where a page sits in the whole list.

    Attributes:
        end_cursor: pass as ``after`` to get the next page.
        start_cursor: pass as ``before`` to get the previous page.
        has_next_page: whether a page follows this one.
        has_previous_page: whether a page comes before this one.
    """

    end_cursor: str | None
    start_cursor: str | None
    has_next_page: bool
    has_previous_page: bool


@attrs.frozen
class Page(Generic[T]):
    """One page of a list answer.

    Attributes:
        data: the records on this page, in the order the API gave them.
        page_info: its cursors.
    """

    data: list[T]
    page_info: PageInfo

    @property
    def next_cursor(self) -> str | None:
        """The cursor of the next page, or None when this is the last."""
        info = self.page_info
        return info.end_cursor if info.has_next_page and info.end_cursor else None


PageFetcher = Callable[[str | None], Awaitable[Page[T]]]


def decode_page(data: Any, item: type[T], what: str) -> Page[T]:
    """Structure a list answer as ``Page[item]``, or raise ResponseDecodeError."""
    return decode(data, Page[item], what)  # type: ignore[valid-type]


def check_page_size(value: object) -> int | None:
    """None, or an int from 1 to 100 (sent as ``first``)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"page_size must be an int, not {type(value).__name__}")
    if not 1 <= value <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}, got {value}")
    return value


class AsyncPager(Generic[T]):
    """The records of a list, fetched a page at a time as you iterate.

    ``async for record in pager`` asks for the next page (``after=<end_cursor>``)
    only when the current one is used up, and stops after the last; breaking
    out of the loop stops fetching. For paging by hand, `first_page`
    gives the first `Page` with its ``page_info``, `fetch_page`
    the page after a cursor, and `pages` walks whole pages.

    A pager holds no connection and no state between iterations: each
    ``async for`` starts again from the first page, so one pager may be
    iterated again (or by several tasks at once).

    Example:
        >>> async for channel in client.dm_channels.list(page_size=50):  # doctest: +SKIP
        ...     print(channel.id, channel.name)
        >>> page = await client.dm_channels.list().first_page()  # doctest: +SKIP
        >>> page.page_info.has_next_page  # doctest: +SKIP
        True
    """

    __slots__ = ("_fetch", "_what")

    def __init__(self, fetch: PageFetcher[T], what: str) -> None:
        self._fetch = fetch
        self._what = what

    async def first_page(self) -> Page[T]:
        """Fetch and return the first page."""
        return await self._fetch(None)

    async def fetch_page(self, after: str | None) -> Page[T]:
        """Fetch the page that follows the cursor ``after`` (None: the first)."""
        return await self._fetch(after)

    async def pages(self) -> AsyncIterator[Page[T]]:
        """Every page in order, fetched lazily (an empty list gives one empty page)."""
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            page = await self._fetch(cursor)
            yield page
            following = page.next_cursor
            if following is None:
                return
            if following in seen:
                # A server that hands back a cursor it gave before would keep
                # us walking in a circle forever.
                raise ResponseDecodeError(
                    f"{self._what} answered a cursor it had already given; stopping",
                    status_code=200,
                )
            seen.add(following)
            cursor = following

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for record in page.data:
                yield record

    def __repr__(self) -> str:
        return f"<AsyncPager {self._what}>"


def cursor_pager(
    transport: Transport,
    path: str,
    params: Mapping[str, str],
    item: type[T],
) -> AsyncPager[T]:
    """A pager over ``GET path`` with the query ``params``, plus ``after`` per page.

    ``params`` must already be checked: nothing is sent until the pager is used.
    """
    what = f"GET {path}"
    base = dict(params)

    async def fetch(after: str | None) -> Page[T]:
        query = base if after is None else {**base, "after": after}
        data = await transport.request("GET", path, params=query)
        return decode_page(data, item, what)

    return AsyncPager(fetch, what)
