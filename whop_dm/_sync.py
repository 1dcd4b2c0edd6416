"""``Client``: the blocking face of `AsyncClient`.

Nothing here sends a request of its own. Each blocking method is derived from
its async twin by a descriptor (`blocking`, `blocking_pager`, `blocking_iterator`)
that calls the async method and runs the coroutine on the client's
`Portal`, so the request takes the one path through
the code, and mypy sees the async signature with the return type unwrapped.
A sync resource is one line per method::

    class DmMembers(SyncResource[AsyncDmMembers]):
        create = blocking(AsyncDmMembers.create)

Each blocking method carries an explicit ``__signature__``: the async
method's parameters, and its return type as the blocking call returns it
(``SyncPager`` for a pager). ``tests/test_sync_surface.py`` checks every
async method has its declared twin.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import typing
import weakref
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from types import TracebackType
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from ._client import AsyncClient
from ._config import ClientConfig, takes_options
from ._dm_channels import AsyncDmChannels
from ._dm_members import AsyncDmMembers
from ._loop_guard import refuse_call_to_own_loop
from ._messages import AsyncMessages
from ._pagination import AsyncPager, Page
from ._portal import EXIT_CLOSE_TIMEOUT, Portal
from ._reactions import AsyncReactions

__all__ = [
    "Client",
    "DmChannels",
    "DmMembers",
    "Messages",
    "Reactions",
    "SyncPager",
    "SyncResource",
    "blocking",
    "blocking_iterator",
    "blocking_pager",
]

P = ParamSpec("P")
T = TypeVar("T")
V = TypeVar("V")
R = TypeVar("R")  # an async resource class
S = TypeVar("S", bound="SyncResource[Any]")


class SyncPager(Generic[T]):
    """The records of a list, fetched a page at a time as you iterate, blocking.

    ``for record in pager`` asks for the next page only when the current one
    is used up, and stops after the last; breaking out of the loop stops
    fetching. `first_page`, `fetch_page` and `pages` are the
    blocking forms of `AsyncPager`'s. Each page is fetched on the
    client's event loop; a pager holds no connection, and each
    iteration starts again from the first page.
    """

    __slots__ = ("_pager", "_portal")

    def __init__(self, pager: AsyncPager[T], portal: Portal) -> None:
        self._pager = pager
        self._portal = portal

    def first_page(self) -> Page[T]:
        """Fetch and return the first page."""
        return self._portal.run(self._pager.first_page())

    def fetch_page(self, after: str | None) -> Page[T]:
        """Fetch the page that follows the cursor ``after`` (None: the first)."""
        return self._portal.run(self._pager.fetch_page(after))

    def pages(self) -> Iterator[Page[T]]:
        """Every page in order, fetched lazily."""
        # Drives the async pager's own generator, so the walk (cursors, the
        # guard against a server repeating a cursor) is written once.
        walk = self._pager.pages()
        suspended = False
        try:
            while True:
                try:
                    page = self._portal.run(_next(walk))
                except StopAsyncIteration:
                    return
                suspended = True
                yield page
                suspended = False
        finally:
            # Left at a yield (the caller broke out): let the async walk run
            # its own clean-up. After an error it has already finished.
            if suspended:
                # RuntimeError: a closed client, or a generator collected on
                # the loop itself; the loop then finalizes the walk.
                with contextlib.suppress(RuntimeError):
                    self._portal.run(_aclose(walk))

    @property
    def backwards(self) -> bool:
        """True for a pager that walks from the end of the list to its start."""
        return self._pager.backwards

    def __iter__(self) -> Iterator[T]:
        # Records in walking order, as ``async for`` gives them.
        backwards = self._pager.backwards
        for page in self.pages():
            yield from reversed(page.data) if backwards else page.data

    def __repr__(self) -> str:
        return f"<SyncPager of {self._pager!r}>"


# Coroutines for the portal: the awaitables of __anext__ and aclose are not.
async def _next(walk: AsyncIterator[T]) -> T:
    return await walk.__anext__()


async def _aclose(walk: AsyncIterator[Any]) -> None:
    aclose = getattr(walk, "aclose", None)
    if aclose is not None:
        await aclose()


class SyncResource(Generic[R]):
    """Base of the blocking resources: wraps one async resource and the portal."""

    def __init__(self, resource: R, portal: Portal) -> None:
        self._resource = resource
        self._portal = portal

    def __repr__(self) -> str:
        return f"<whop_dm.{type(self).__name__}>"


class _Derived(Generic[R, P, T]):
    # The shared part of blocking/blocking_pager: the async function, the
    # attribute name, and a bound callable cached in the instance's __dict__
    # on first access (a non-data descriptor, so later lookups skip __get__).
    _kind = ""

    def __init__(self, method: Callable[Concatenate[R, P], Any]) -> None:
        self.method = method
        self.name = method.__name__
        self.__doc__ = method.__doc__
        self._signature: inspect.Signature | None = None

    def __set_name__(self, owner: type, name: str) -> None:
        if name != self.name:
            raise TypeError(f"{owner.__name__}.{name} wraps {self.method.__qualname__}")

    def _bind(self, obj: SyncResource[R], call: Callable[P, V]) -> Callable[P, V]:
        call.__name__ = self.name
        call.__qualname__ = f"{type(obj).__name__}.{self.name}"
        call.__module__ = type(obj).__module__
        call.__doc__ = f"Blocking form of `{self.method.__qualname__}` ({self._kind}).\n\n" + (
            self.method.__doc__ or ""
        )
        # Not __wrapped__: inspect would then report the async method's
        # signature, return type included.
        call.__signature__ = self.signature()  # type: ignore[attr-defined]
        obj.__dict__[self.name] = call
        return call

    def signature(self) -> inspect.Signature:
        """The async signature, bound, with the return type of the blocking call."""
        if self._signature is None:
            full = inspect.signature(self.method)
            self._signature = full.replace(
                parameters=list(full.parameters.values())[1:],  # bound: no self
                return_annotation=self._return_annotation(full.return_annotation),
            )
        return self._signature

    def _return_annotation(self, annotation: Any) -> Any:
        # What the awaited coroutine returns is what the blocking call returns.
        return annotation


class blocking(_Derived[R, P, T]):
    """``name = blocking(AsyncX.name)``: the async method, blocking, same signature.

    The coroutine runs on the client's event loop; errors are the
    async method's own.
    """

    _kind = "runs on the client's event loop and waits for the result"

    def __init__(self, method: Callable[Concatenate[R, P], Coroutine[Any, Any, T]]) -> None:
        if not inspect.iscoroutinefunction(method):
            raise TypeError(f"blocking() needs a coroutine function, not {method!r}")
        super().__init__(method)
        self._function = method

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> blocking[R, P, T]: ...
    @overload
    def __get__(self, obj: SyncResource[R], owner: type[Any]) -> Callable[P, T]: ...
    def __get__(
        self, obj: SyncResource[R] | None, owner: type[Any]
    ) -> blocking[R, P, T] | Callable[P, T]:
        if obj is None:
            return self
        method, resource, portal = self._function, obj._resource, obj._portal

        def call(*args: P.args, **kwargs: P.kwargs) -> T:
            return portal.run(method(resource, *args, **kwargs))

        return self._bind(obj, call)


class blocking_pager(_Derived[R, P, T]):
    """``list = blocking_pager(AsyncX.list)``: a method returning ``AsyncPager[T]``,
    made to return a `SyncPager` of the same records."""

    _kind = "returns a SyncPager; each page is fetched on the client's event loop"

    def _return_annotation(self, annotation: Any) -> Any:
        # AsyncPager[X] -> SyncPager[X]; a string under postponed annotations.
        if isinstance(annotation, str):
            return annotation.replace("AsyncPager[", "SyncPager[", 1)
        if typing.get_origin(annotation) is AsyncPager:
            return SyncPager[typing.get_args(annotation)]  # type: ignore[misc]
        return annotation

    def __init__(self, method: Callable[Concatenate[R, P], AsyncPager[T]]) -> None:
        if inspect.iscoroutinefunction(method):
            raise TypeError(f"blocking_pager() needs a plain function, not {method!r}")
        super().__init__(method)
        self._function = method

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> blocking_pager[R, P, T]: ...
    @overload
    def __get__(self, obj: SyncResource[R], owner: type[Any]) -> Callable[P, SyncPager[T]]: ...
    def __get__(
        self, obj: SyncResource[R] | None, owner: type[Any]
    ) -> blocking_pager[R, P, T] | Callable[P, SyncPager[T]]:
        if obj is None:
            return self
        method, resource, portal = self._function, obj._resource, obj._portal

        def call(*args: P.args, **kwargs: P.kwargs) -> SyncPager[T]:
            # The arguments are checked here, in the caller's thread.
            return SyncPager(method(resource, *args, **kwargs), portal)

        return self._bind(obj, call)


def _blocking_walk(walk: AsyncIterator[T], portal: Portal) -> Iterator[T]:
    """The items of an async iterator, each fetched on the portal's loop."""
    suspended = False
    try:
        while True:
            try:
                item = portal.run(_next(walk))
            except StopAsyncIteration:
                return
            suspended = True
            yield item
            suspended = False
    finally:
        # Left at a yield (the caller broke out): let the async iterator run
        # its own clean-up, as SyncPager.pages does.
        if suspended:
            with contextlib.suppress(RuntimeError):
                portal.run(_aclose(walk))


class blocking_iterator(_Derived[R, P, T]):
    """``watch = blocking_iterator(AsyncX.watch)``: a method returning ``AsyncIterator[T]``,
    made to return a blocking ``Iterator`` of the same items."""

    _kind = "returns an iterator; each item is awaited on the client's event loop"

    def _return_annotation(self, annotation: Any) -> Any:
        # AsyncIterator[X] -> Iterator[X]; a string under postponed annotations.
        if isinstance(annotation, str):
            return annotation.replace("AsyncIterator[", "Iterator[", 1)
        if typing.get_origin(annotation) is AsyncIterator:
            return Iterator[typing.get_args(annotation)]  # type: ignore[misc]
        return annotation

    def __init__(self, method: Callable[Concatenate[R, P], AsyncIterator[T]]) -> None:
        if inspect.iscoroutinefunction(method):
            raise TypeError(f"blocking_iterator() needs a plain function, not {method!r}")
        super().__init__(method)
        self._function = method

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> blocking_iterator[R, P, T]: ...
    @overload
    def __get__(self, obj: SyncResource[R], owner: type[Any]) -> Callable[P, Iterator[T]]: ...
    def __get__(
        self, obj: SyncResource[R] | None, owner: type[Any]
    ) -> blocking_iterator[R, P, T] | Callable[P, Iterator[T]]:
        if obj is None:
            return self
        method, resource, portal = self._function, obj._resource, obj._portal

        def call(*args: P.args, **kwargs: P.kwargs) -> Iterator[T]:
            # The arguments are checked here, in the caller's thread.
            return _blocking_walk(method(resource, *args, **kwargs), portal)

        return self._bind(obj, call)


# -- the resources: one line per method -----------------------------------------------


class DmChannels(SyncResource[AsyncDmChannels]):
    """DM channels, blocking: ``client.dm_channels.create(with_user_ids=[...])``."""

    create = blocking(AsyncDmChannels.create)
    list = blocking_pager(AsyncDmChannels.list)
    watch = blocking_iterator(AsyncDmChannels.watch)
    retrieve = blocking(AsyncDmChannels.retrieve)
    update = blocking(AsyncDmChannels.update)
    delete = blocking(AsyncDmChannels.delete)


class DmMembers(SyncResource[AsyncDmMembers]):
    """Members of DM channels, blocking: ``client.dm_members.create(channel_id=..., user_id=...)``.

    ``bulk_create``'s ``on_progress`` callback runs on the client's loop
    thread: keep it short, and do not call the client from it (that raises
    ``RuntimeError``).
    """

    create = blocking(AsyncDmMembers.create)
    bulk_create = blocking(AsyncDmMembers.bulk_create)
    add_many = blocking(AsyncDmMembers.add_many)
    retry_failed = blocking(AsyncDmMembers.retry_failed)
    list = blocking_pager(AsyncDmMembers.list)
    retrieve = blocking(AsyncDmMembers.retrieve)
    update = blocking(AsyncDmMembers.update)
    delete = blocking(AsyncDmMembers.delete)


class Messages(SyncResource[AsyncMessages]):
    """Messages, blocking: ``client.messages.create(channel_id=..., content=...)``."""

    create = blocking(AsyncMessages.create)
    list = blocking_pager(AsyncMessages.list)
    watch = blocking_iterator(AsyncMessages.watch)
    retrieve = blocking(AsyncMessages.retrieve)
    update = blocking(AsyncMessages.update)
    delete = blocking(AsyncMessages.delete)


class Reactions(SyncResource[AsyncReactions]):
    """Reactions and poll votes, blocking: ``client.reactions.create(resource_id=...)``."""

    create = blocking(AsyncReactions.create)
    list = blocking_pager(AsyncReactions.list)
    retrieve = blocking(AsyncReactions.retrieve)
    delete = blocking(AsyncReactions.delete)


class resource(Generic[S]):
    """``dm_members = resource(DmMembers)`` on `Client`: built on first access."""

    def __init__(self, cls: type[S]) -> None:
        self.cls = cls
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> resource[S]: ...
    @overload
    def __get__(self, obj: Client, owner: type[Any]) -> S: ...
    def __get__(self, obj: Client | None, owner: type[Any]) -> resource[S] | S:
        if obj is None:
            return self
        built = self.cls(getattr(obj._async, self.name), obj._portal)
        obj.__dict__[self.name] = built
        return built


class Client:
    """A blocking client for Whop's DM API, for scripts, notebooks, web views and task queues.

    The same arguments, resources, methods, return types and errors as
    `AsyncClient`, without ``await``::

        with whop_dm.Client() as client:
            channel = client.dm_channels.create(with_user_ids=["user_b"])

    It runs an `AsyncClient` on one private event loop, in a daemon thread
    started by the first call. Every call is handed to that loop and waited
    for, so it works the same from any thread and from code that already
    runs an event loop (a notebook cell, async code calling sync code). One
    client may be shared by any number of threads; calls from them run
    concurrently over one connection pool. Close it with `close` or
    ``with``; a client that is never closed is closed when it is garbage
    collected or at interpreter exit.

    Callbacks (``on_retry``, ``on_request``, ``on_response``,
    ``bulk_create``'s ``on_progress``) run on the loop's thread: keep them
    short. A callback that calls the client gets a ``RuntimeError`` (it
    would wait on itself forever).

    Ctrl-C (or any exception raised in the caller's thread) during a call
    cancels that call's request before it propagates.

    Arguments are those of `AsyncClient`, less ``session``: an
    ``aiohttp`` session is bound to the event loop it was made on, and this
    client's loop is private.
    """

    dm_channels = resource(DmChannels)
    """DM channels: create, list, retrieve, rename and delete them."""
    dm_members = resource(DmMembers)
    """Members of DM channels: add them, one or in bulk; list, update and remove them."""
    messages = resource(Messages)
    """Messages in DM channels: send, list, edit, pin and delete them."""
    reactions = resource(Reactions)
    """Reactions and poll votes on messages: add, list, retrieve and remove them."""

    @takes_options(ClientConfig)
    def __init__(self, config: ClientConfig) -> None:
        # The options are checked by the config record, here in the caller's
        # thread; AsyncClient's setup does no I/O and needs no loop.
        self._async = AsyncClient._from_config(config)
        self._portal = Portal(
            f"whop-dm-client-{os.getpid()}-{id(self):x}",
            # A FakeWhop only this thread's event loop could run (a test on
            # whop_fake) would never answer: such a call raises at once.
            guard=functools.partial(refuse_call_to_own_loop, self._async.base_url),
        )
        # Holds the portal and the async client, never self: a forgotten
        # client can still be collected, and is then closed (or at exit).
        self._finalizer = weakref.finalize(
            self, self._portal.close, self._async.aclose, timeout=EXIT_CLOSE_TIMEOUT
        )

    @property
    def base_url(self) -> str:
        """The API root requests go to."""
        return self._async.base_url

    def rate_limit_held(self) -> dict[str, float]:
        """Seconds each operation has spent held by the rate limit so far (see
        `AsyncClient.rate_limit_held`)."""
        return self._async.rate_limit_held()

    @property
    def is_closed(self) -> bool:
        """True once `close` has run."""
        return self._portal.is_closed

    def close(self) -> None:
        """Close the connection pool and the loop, and join the loop's thread. Idempotent.

        Calls still waiting in other threads end with `ClientClosedError`.
        """
        self._finalizer.detach()
        self._portal.close(self._async.aclose)

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.is_closed else "open"
        return f"<whop_dm.Client base_url={self.base_url!r} {state}>"
