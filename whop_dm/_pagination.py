"""Cursor pages, and the pager that walks them lazily."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Generic, TypeVar

import attrs

from ._converter import decode
from ._errors import ResponseDecodeError

__all__ = ["AsyncPager", "Page", "PageFetcher", "PageInfo", "decode_page"]

T = TypeVar("T")


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
        data: the records on this page.
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


class AsyncPager(Generic[T]):
    """The records of a list, fetched a page at a time as you iterate.

    ``async for record in pager`` asks for the next page (``after=<end_cursor>``)
    only when the current one is used up, and stops after the last; breaking
    out of the loop stops fetching. For paging by hand, :meth:`first_page`
    gives the first :class:`Page` with its ``page_info``, and :meth:`pages`
    walks whole pages.

    A pager holds no connection; each iteration starts again from the first
    page.
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
        """Every page in order, fetched lazily."""
        cursor: str | None = None
        while True:
            page = await self._fetch(cursor)
            yield page
            following = page.next_cursor
            if following is None:
                return
            if following == cursor:
                # A server that hands back the cursor it was given would
                # keep us asking for the same page forever.
                raise ResponseDecodeError(
                    f"{self._what} answered the same cursor twice; stopping", status_code=200
                )
            cursor = following

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for record in page.data:
                yield record

    def __repr__(self) -> str:
        return f"<AsyncPager {self._what}>"
