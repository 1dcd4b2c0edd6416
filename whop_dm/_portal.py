"""A private event loop in a daemon thread, and the blocking hop onto it.

The sync `Client` hands every coroutine to one ``Portal``;
the coroutine becomes a task on the portal's loop, and the caller's thread
waits on a lock of its own that the task's done-callback releases.

Why not ``asyncio.run_coroutine_threadsafe``: its ``concurrent.futures.Future``
wakes the waiter with ``Condition.notify_all`` while still holding the
condition's lock, so the woken caller blocks again at once, and each wait
allocates a lock. Measured on loopback against FakeWhop (1,000 sequential
``dm_members.create``), that cost 30-40 us per call more than this hand-over.
Nothing is made per call but one small record; no thread, loop or lock.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
import weakref
from collections.abc import Callable, Coroutine
from typing import Any, Generic, TypeVar

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

    The loop and its daemon thread start on the first `run`. Safe to
    share between threads; `close` may be called from any thread but
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
        waiter: threading.Lock | None = getattr(_waiters, "lock", None)
        if waiter is None or not waiter.acquire(blocking=False):
            # First call of this thread, or an interrupt left the last one's
            # lock taken: start afresh.
            waiter = _waiters.lock = threading.Lock()
            waiter.acquire()
        call = _Call(coro, waiter)
        try:
            self._refuse_own_thread()
            with self._lock:
                if self._closed:
                    raise ClientClosedError(
                        _FORKED_MESSAGE
                        if self._forked
                        else "Cannot send a request: the client has been closed."
                    )
                (self._loop or self._start()).call_soon_threadsafe(call.start)
        except BaseException:
            waiter.release()
            coro.close()  # never started: close it, or Python warns it was never awaited
            raise
        try:
            waiter.acquire()  # released on the loop when the task is done
        except BaseException:
            # The loop will release this lock when the cancelled task ends;
            # the thread's next call must not find it taken.
            _waiters.lock = None
            self._cancel(call)
            raise
        waiter.release()
        return call.outcome(self._closed)

    def _cancel(self, call: _Call[Any]) -> None:
        with self._lock:
            if self._closed or self._loop is None:
                return
            self._loop.call_soon_threadsafe(call.cancel)
        call.waiter.acquire(timeout=CANCEL_GRACE)

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


class _Call(Generic[T]):
    """One coroutine handed to the loop, and the lock its caller waits on."""

    __slots__ = ("coro", "task", "waiter")

    def __init__(self, coro: Coroutine[Any, Any, T], waiter: threading.Lock) -> None:
        self.coro = coro
        self.waiter = waiter
        self.task: asyncio.Task[T] | None = None

    def start(self) -> None:  # on the loop
        self.task = asyncio.get_running_loop().create_task(self.coro)
        self.task.add_done_callback(self.done)

    def done(self, task: asyncio.Task[T]) -> None:  # on the loop
        self.waiter.release()

    def cancel(self) -> None:  # on the loop, queued behind start()
        if self.task is not None:
            self.task.cancel()

    def outcome(self, closed: bool) -> T:
        assert self.task is not None
        try:
            return self.task.result()
        except asyncio.CancelledError:
            if closed:
                raise ClientClosedError(
                    "The client was closed while this call was waiting."
                ) from None
            raise


# Each thread waits on one lock of its own, reused from call to call.
_waiters = threading.local()
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
