"""A private event loop on its own thread, and blocking calls onto it.

Each sync `Client` owns one ``Portal``: one event loop, run by one daemon
thread that is started by the first call. A call hands its coroutine to
that loop with ``asyncio.run_coroutine_threadsafe`` and waits for the
result. Any number of threads may call at once; their coroutines run
concurrently on the one loop. Code that already runs an event loop (a
notebook cell, async code calling sync code) blocks its own loop while it
waits, as any blocking call does, but gets its answer.

Only public APIs are used. The price is two thread wake-ups per call,
which no call to Whop can feel next to its network round trip.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import inspect
import logging
import os
import threading
import weakref
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from ._errors import ClientClosedError

__all__ = ["EXIT_CLOSE_TIMEOUT", "Portal"]

T = TypeVar("T")

logger = logging.getLogger("whop_dm")

# How long an interrupted call waits for its cancelled coroutine to end on
# the loop; it only matters for a coroutine that ignores cancellation.
CANCEL_GRACE = 2.0
# How long close() waits for the shutdown (calls cancelled, session closed);
# at interpreter exit, a shorter wait.
CLOSE_TIMEOUT = 10.0
EXIT_CLOSE_TIMEOUT = 1.0
# A caller waits for its result in slices of this many seconds. On Windows
# a plain wait on a lock cannot be interrupted by Ctrl-C; Python raises the
# KeyboardInterrupt when the wait returns, so a slice bounds how long Ctrl-C
# takes to land. (On POSIX the wait is interrupted at once either way.)
WAIT_SLICE = 0.1


class Portal:
    """Runs coroutines on one private event loop from any thread, blocking.

    Safe to share between threads. `close` may be called from any thread,
    more than once.
    """

    def __init__(self, name: str, guard: Callable[[], None] | None = None) -> None:
        self._name = name
        # Asked before each call; raises when the call could only time out.
        self._guard = guard
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        self._forked = False
        _PORTALS.add(self)

    @property
    def is_closed(self) -> bool:
        return self._closed

    @property
    def thread(self) -> threading.Thread | None:
        """The loop's thread, once a call has started it."""
        return self._thread

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the loop and return its result, blocking this thread.

        An exception raised in this thread while it waits (Ctrl-C) cancels
        the coroutine on the loop, waits briefly for it to end, and
        propagates.
        """
        future: concurrent.futures.Future[T] | None = None
        handed = False
        try:
            if threading.current_thread() is self._thread:
                raise RuntimeError(_OWN_LOOP_MESSAGE)
            if self._guard is not None:
                self._guard()
            with self._lock:  # so that close() cannot stop the loop under this hand-over
                if self._closed:
                    raise ClientClosedError(
                        _FORKED_MESSAGE
                        if self._forked
                        else "Cannot send a request: the client has been closed."
                    )
                loop = self._started_loop()
                handed = True
                future = asyncio.run_coroutine_threadsafe(coro, loop)
            return _wait(future)
        except concurrent.futures.CancelledError:
            if self._closed:
                raise ClientClosedError(
                    "The client was closed while this call was waiting."
                ) from None
            raise
        except BaseException:
            # Ctrl-C may land anywhere here, even before the future is known.
            if handed and (future is None or not future.done()):
                self._cancel(coro)
            if inspect.getcoroutinestate(coro) == inspect.CORO_CREATED:
                coro.close()  # never started: or Python warns it was never awaited
            raise

    def _started_loop(self) -> asyncio.AbstractEventLoop:
        # Called with the lock held.
        if self._loop is None:
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=_serve, args=(loop,), name=self._name, daemon=True)
            thread.start()
            self._loop, self._thread = loop, thread
        return self._loop

    def _cancel(self, coro: Coroutine[Any, Any, Any]) -> None:
        assert self._loop is not None
        with contextlib.suppress(RuntimeError, concurrent.futures.TimeoutError):
            # Queued after the call itself, so its task exists by then.
            ending = asyncio.run_coroutine_threadsafe(_cancel_task_of(coro), self._loop)
            ending.result(timeout=CANCEL_GRACE + 1.0)

    def close(
        self,
        final: Callable[[], Coroutine[Any, Any, None]] | None = None,
        *,
        timeout: float = CLOSE_TIMEOUT,
    ) -> None:
        """Cancel calls in flight, await ``final()`` on the loop, stop and close the loop.

        Idempotent. Waits (up to ``timeout``) for the shutdown and the
        thread. Called on the loop's own thread (a finalizer run by the
        garbage collector there), it queues the shutdown instead.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            loop, thread = self._loop, self._thread
        if loop is None or thread is None or self._forked:
            return
        shutdown = asyncio.run_coroutine_threadsafe(_shutdown(final, timeout), loop)
        shutdown.add_done_callback(lambda _: loop.call_soon_threadsafe(loop.stop))
        if threading.current_thread() is thread:
            return
        with contextlib.suppress(Exception):  # the shutdown's errors are not the caller's
            shutdown.result(timeout=timeout + CANCEL_GRACE)
        thread.join(timeout=timeout)

    def _after_fork_in_child(self) -> None:
        # The loop's thread did not come along, and its connections belong
        # to the parent: a portal that was started refuses calls in the child.
        self._lock = threading.Lock()
        if self._loop is not None:
            self._closed = self._forked = True

    def __repr__(self) -> str:
        return f"<Portal {self._name} {'closed' if self._closed else 'open'}>"


def _wait(future: concurrent.futures.Future[T]) -> T:
    while True:
        try:
            return future.result(timeout=WAIT_SLICE)
        except concurrent.futures.TimeoutError:
            if future.done():  # the coroutine's own TimeoutError
                raise


def _serve(loop: asyncio.AbstractEventLoop) -> None:
    try:
        while True:
            try:
                loop.run_forever()  # until close() stops it
                return
            except BaseException:
                # Only SystemExit or KeyboardInterrupt get out of a loop's
                # callbacks; the calls still waiting must not be stranded.
                logger.exception("whop_dm: an exception escaped the client's event loop")
    finally:
        loop.close()


async def _cancel_task_of(coro: Coroutine[Any, Any, Any]) -> None:
    for task in asyncio.all_tasks():
        if task.get_coro() is coro:
            task.cancel()
            await asyncio.wait([task], timeout=CANCEL_GRACE)
            if task.done() and not task.cancelled():
                task.exception()  # retrieved: no "never retrieved" log later


async def _shutdown(final: Callable[[], Coroutine[Any, Any, None]] | None, timeout: float) -> None:
    # Calls still in flight (from other threads) are cancelled first, so they
    # end as ClientClosedError rather than as errors of a session closed
    # under them; then the session closes.
    me = asyncio.current_task()
    tasks = [task for task in asyncio.all_tasks() if task is not me]
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=CANCEL_GRACE)
    loop = asyncio.get_running_loop()
    try:
        if final is not None:
            await asyncio.wait_for(final(), timeout)
    finally:
        await loop.shutdown_asyncgens()


_PORTALS: weakref.WeakSet[Portal] = weakref.WeakSet()
_OWN_LOOP_MESSAGE = (
    "whop_dm.Client was called from a callback running on its own event loop (such as "
    "on_progress or on_retry): that would wait on itself forever. Callbacks must not "
    "call the client; hand the work to another thread."
)
_FORKED_MESSAGE = (
    "This client was used before the process forked, and its event loop and "
    "connections stayed with the parent: create the Client in each worker process, "
    "after the fork."
)


def _after_fork_in_child() -> None:
    for portal in list(_PORTALS):
        portal._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
