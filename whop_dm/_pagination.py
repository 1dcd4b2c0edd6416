"""Cursor pages, and the pager that walks them lazily."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs

from ._converter import Decoder, decode
from ._errors import ResponseDecodeError

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

if TYPE_CHECKING:
    from ._transport import Transport

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "AsyncPager",
    "ListQuery",
    "Page",
    "PageFetcher",
    "PageInfo",
    "check_page_size",
    "cursor_pager",
    "decode_page",
    "list_query",
]

T = TypeVar("T")

# The page size Whop answers with when a list names none. A backward walk
# must name one (``last``): ``before`` alone would give the oldest records
# before the cursor, not the newest, so the client sends this one.
DEFAULT_PAGE_SIZE = 25


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

    @property
    def previous_cursor(self) -> str | None:
        """The cursor of the page before this one, or None when this is the first."""
        info = self.page_info
        return info.start_cursor if info.has_previous_page and info.start_cursor else None


PageFetcher = Callable[[str | None], Awaitable[Page[T]]]


def decode_page(data: Any, item: type[T], what: str, decoder: Decoder | None = None) -> Page[T]:
    """Structure a list answer as ``Page[item]``, or raise ResponseDecodeError.

    With a lenient ``decoder``, records keep what fits (see `Decoder`), but a
    page without a list of records or without its cursors still raises: it
    cannot be walked.
    """
    if decoder is None:
        return decode(data, Page[item], what)  # type: ignore[valid-type]
    page: Page[T] = decoder.decode(data, Page[item], what)  # type: ignore[valid-type]
    if page.data is None or page.page_info is None:
        raise ResponseDecodeError(
            f"{what} answered a page without its records or its cursors", status_code=200
        )
    return page


def check_page_size(value: object, name: str = "page_size") -> int | None:
    """None, or an int of at least 1.

    The spec states no largest page, so none is enforced here: a size the
    server will not serve is its to refuse (a ``BadRequestError``).
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")
    return value


def _check_cursor(name: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a cursor string, not {type(value).__name__}")
    if not value or _CONTROL.search(value):
        raise ValueError(f"{name} must be a non-empty cursor without control characters")
    return value


@attrs.frozen
class ListQuery:
    """The checked paging arguments of a ``list`` call.

    ``params`` holds the size (``first`` or ``last``); ``start`` is the cursor
    the walk starts from (sent as ``after``, or ``before`` when ``backwards``).
    """

    params: dict[str, str]
    start: str | None
    backwards: bool


def list_query(
    *,
    page_size: object = None,
    after: object = None,
    before: object = None,
    last: object = None,
) -> ListQuery:
    """Check the paging arguments every ``list`` method shares.

    Forwards (the default): ``page_size`` records a request (``first``),
    starting after the cursor ``after``, if given. Backwards, chosen by
    ``before`` or ``last``: ``last`` (or ``page_size``) records a request,
    from the end of the list or from the cursor ``before``.
    """
    size = check_page_size(page_size)
    count = check_page_size(last, "last")
    start_after = _check_cursor("after", after)
    start_before = _check_cursor("before", before)
    if size is not None and count is not None:
        raise ValueError("give page_size or last, not both (last is the size of a backward walk)")
    backwards = start_before is not None or count is not None
    if backwards and start_after is not None:
        raise ValueError("after walks forwards and before/last backwards: give one direction")
    if not backwards:
        params = {} if size is None else {"first": str(size)}
        return ListQuery(params, start_after, backwards=False)
    count = count or size or DEFAULT_PAGE_SIZE
    return ListQuery({"last": str(count)}, start_before, backwards=True)


class AsyncPager(Generic[T]):
    """The records of a list, fetched a page at a time as you iterate.

    ``async for record in pager`` asks for the next page (``after=<end_cursor>``)
    only when the current one is used up, and stops after the last; breaking
    out of the loop stops fetching. For paging by hand, `first_page`
    gives the first `Page` with its ``page_info``, `fetch_page`
    the page after a cursor, and `pages` walks whole pages.

    A pager made with ``before=`` or ``last=`` walks backwards: from the end
    of the list (or from ``before``) to its start, each page asked for with
    ``before=<start_cursor>``. Its `pages` come newest page first, each page's
    ``data`` in the API's order, and ``async for`` yields the records in
    walking order (the last record of the list first).

    A pager holds no connection and no state between iterations: each
    ``async for`` starts again from its first page, so one pager may be
    iterated again (or by several tasks at once).

    Example:
        >>> async for channel in client.dm_channels.list(page_size=50):  # doctest: +SKIP
        ...     print(channel.id, channel.name)
        >>> page = await client.dm_channels.list().first_page()  # doctest: +SKIP
        >>> page.page_info.has_next_page  # doctest: +SKIP
        True
    """

    __slots__ = ("_backwards", "_fetch", "_start", "_what")

    def __init__(
        self,
        fetch: PageFetcher[T],
        what: str,
        *,
        start: str | None = None,
        backwards: bool = False,
    ) -> None:
        self._fetch = fetch
        self._what = what
        self._start = start
        self._backwards = backwards

    @property
    def backwards(self) -> bool:
        """True for a pager that walks from the end of the list to its start."""
        return self._backwards

    async def first_page(self) -> Page[T]:
        """Fetch and return the page the walk starts with."""
        return await self._fetch(self._start)

    async def fetch_page(self, after: str | None) -> Page[T]:
        """Fetch the page that follows the cursor ``after`` in the walk (None: the first).

        Walking backwards, the cursor is a ``start_cursor`` (sent as
        ``before``) and the page fetched is the one before it.
        """
        return await self._fetch(self._start if after is None else after)

    async def pages(self) -> AsyncIterator[Page[T]]:
        """Every page in walking order, fetched lazily (an empty list gives one empty page)."""
        cursor = self._start
        seen: set[str] = set()
        while True:
            page = await self._fetch(cursor)
            yield page
            following = page.previous_cursor if self._backwards else page.next_cursor
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
            for record in reversed(page.data) if self._backwards else page.data:
                yield record

    def __repr__(self) -> str:
        direction = " backwards" if self._backwards else ""
        return f"<AsyncPager {self._what}{direction}>"


def cursor_pager(
    transport: Transport,
    decoder: Decoder,
    path: str,
    params: Mapping[str, str],
    item: type[T],
    paging: ListQuery | None = None,
) -> AsyncPager[T]:
    """A pager over ``GET path`` with the query ``params`` and the paging of ``paging``.

    Each page adds its cursor, ``after`` (``before`` for a backward walk).
    ``params`` must already be checked: nothing is sent until the pager is used.
    """
    what = f"GET {path}"
    if paging is None:
        paging = ListQuery({}, None, backwards=False)
    base = {**params, **paging.params}
    cursor_name = "before" if paging.backwards else "after"

    async def fetch(cursor: str | None) -> Page[T]:
        query = base if cursor is None else {**base, cursor_name: cursor}
        data = await transport.request("GET", path, params=query)
        return decode_page(data, item, what, decoder)

    return AsyncPager(fetch, what, start=paging.start, backwards=paging.backwards)
