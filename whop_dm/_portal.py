"""A private event loop in a daemon thread, and the blocking hop onto it.

The sync :class:`~whop_dm.Client` hands every coroutine to one ``Portal``;
the caller's thread waits on a ``concurrent.futures.Future`` while the
coroutine runs on the portal's loop. The hop is ``run_coroutine_threadsafe``
plus one short critical section: no thread, loop or lock is made per call.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import threading
import weakref
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from ._errors import ClientClosedError

__all__ = ["Portal"]

T = TypeVar("T")

# How long an interrupted call waits for its cancelled task to finish on the
# loop. Cancelling an aiohttp request lands in well under a millisecond; the
# bound only matters for a coroutine that swallows cancellation.
CANCEL_GRACE = 2.0
# How long close() waits for the session to close and in-flight calls to be
# cancelled before it stops the loop anyway; at interpreter exit, a shorter wait.
CLOSE_TIMEOUT = 10.0
EXIT_CLOSE_TIMEOUT = 2.0


class Portal:
    """Runs coroutines on one private event loop from any thread, blocking.

    The loop and its daemon thread start on the first :meth:`run`. Safe to
    share between threads; :meth:`close` may be called from any thread but
    the loop's own, more than once.
    """

    __slots__ = (
        "__weakref__",
        "_closed",
        "_forked",
        "_lock",
        "_loop",
        "_name",
        "_thread",
        "_thread_id",
    )

    def __init__(self, name: str) -> None:
        self._name = name
        # Guards the state change and each hand-over, so that no coroutine is
        # queued on a loop that close() has already decided to stop: such a
        # call would never finish, and its caller would wait forever.
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._thread_id: int | None = None
        self._closed = False
        self._forked = False
        _PORTALS.add(self)

    @property
    def is_closed(self) -> bool:
        return self._closed

    @property
    def thread(self) -> threading.Thread | None:
        """The loop's thread, once started."""
        return self._thread

    def _start(self) -> asyncio.AbstractEventLoop:
        # Called with the lock held.
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=self._serve, args=(loop,), name=self._name, daemon=True)
        thread.start()
        self._loop, self._thread, self._thread_id = loop, thread, thread.ident
        return loop

    @staticmethod
    def _serve(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            loop.close()

    def _refuse_own_thread(self) -> None:
        if threading.get_ident() == self._thread_id:
            raise RuntimeError(
                "whop_dm.Client was called from its own event loop thread (from a callback "
                "such as on_progress or on_retry?): that would wait on itself forever. "
                "Callbacks must not call the client; hand the work to another thread."
            )

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the loop and return its result, blocking this thread.

        A ``BaseException`` in this thread while it waits (KeyboardInterrupt)
        cancels the coroutine on the loop, waits briefly for the cancellation
        to land, and propagates.
        """
        try:
            self._refuse_own_thread()
            with self._lock:
                if self._closed:
                    raise ClientClosedError(
                        _FORKED_MESSAGE
                        if self._forked
                        else "Cannot send a request: the client has been closed."
                    )
                loop = self._loop or self._start()
                future = asyncio.run_coroutine_threadsafe(coro, loop)
        except BaseException:
            coro.close()  # never started: close it, or Python warns it was never awaited
            raise
        try:
            return future.result()
        except concurrent.futures.CancelledError:
            if self._closed:
                raise ClientClosedError(
                    "The client was closed while this call was waiting."
                ) from None
            raise
        except BaseException:
            if not future.done():
                self._cancel(future, coro)
            raise

    def _cancel(
        self, future: concurrent.futures.Future[Any], coro: Coroutine[Any, Any, Any]
    ) -> None:
        # future.cancel() asks the loop to cancel the task; the settle
        # coroutine, queued behind the task's creation, waits for it to end.
        future.cancel()
        with self._lock:
            if self._closed or self._loop is None:
                return
            settle = _settle(coro)
            waiter = asyncio.run_coroutine_threadsafe(settle, self._loop)
        with contextlib.suppress(
            concurrent.futures.TimeoutError, concurrent.futures.CancelledError
        ):
            waiter.result(timeout=CANCEL_GRACE + 1.0)

    def close(
        self,
        final: Callable[[], Coroutine[Any, Any, None]] | None = None,
        *,
        timeout: float = CLOSE_TIMEOUT,
    ) -> None:
        """Cancel calls in flight, await ``final()`` on the loop, stop it and join its thread.

        Idempotent. From the loop's own thread (a finalizer run by the garbage
        collector there) it schedules the shutdown instead of waiting for it.
        """
        with self._lock:
            already = self._closed
            self._closed = True
            loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if threading.get_ident() == self._thread_id:
            if not already:
                task = loop.create_task(_shutdown(final))
                task.add_done_callback(lambda _: loop.stop())
            return
        if not already:
            done = asyncio.run_coroutine_threadsafe(_shutdown(final), loop)
            try:
                done.result(timeout=timeout)
            except concurrent.futures.TimeoutError:
                pass
            finally:
                loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=timeout)

    def _after_fork_in_child(self) -> None:
        # The loop's thread did not come along, and the parent may have held
        # the lock at the fork: without this a call would wait forever.
        self._lock = threading.Lock()
        if self._loop is not None:
            self._closed = self._forked = True

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("running" if self._loop else "idle")
        return f"<Portal {self._name} {state}>"


_PORTALS: weakref.WeakSet[Portal] = weakref.WeakSet()
_FORKED_MESSAGE = (
    "This client was used before the process forked, and its event loop thread "
    "stayed in the parent: create the Client in each worker process, after the fork."
)


def _after_fork_in_child() -> None:
    for portal in list(_PORTALS):
        portal._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


async def _settle(coro: Coroutine[Any, Any, Any]) -> None:
    for task in asyncio.all_tasks():
        if task.get_coro() is coro:
            task.cancel()
            await asyncio.wait([task], timeout=CANCEL_GRACE)


async def _shutdown(final: Callable[[], Coroutine[Any, Any, None]] | None) -> None:
    # Calls still in flight (from other threads) are cancelled first, so they
    # end as ClientClosedError rather than as errors of a session closed
    # under them; then the session closes and async generators are finalized.
    me = asyncio.current_task()
    tasks = [task for task in asyncio.all_tasks() if task is not me]
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=CANCEL_GRACE)
    try:
        if final is not None:
            await final()
    finally:
        await asyncio.get_running_loop().shutdown_asyncgens()
