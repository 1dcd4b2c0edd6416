"""A private event loop for blocking callers, and the way calls get onto it.

The sync `Client` hands every coroutine to one ``Portal``, which owns one
event loop. Nobody runs that loop between calls. A call gets onto it in one
of two ways:

- **Inline.** When no other call is on the loop and the calling thread is
  not itself running an event loop, the calling thread runs the portal's
  loop until its coroutine is done, then lets go of it. There is no thread
  hop, and no thread is started.
- **Handed over.** Otherwise (another thread is running the loop for its
  own call, or the caller is inside a running loop: a notebook cell, or
  async code calling sync code) the coroutine is queued on the loop with
  ``call_soon_threadsafe``. The caller then waits on a lock of its own,
  which the task's done-callback releases. The loop is run meanwhile by
  whoever holds the *driver* role: the thread running it inline, and after
  that thread's own call ends, the portal's daemon thread. That thread is
  started the first time it is needed, and runs the loop until no
  handed-over call is left.

Why inline: a hop to a loop thread and back costs two cross-thread wake-ups.
On the 2-core benchmark machine, 1,000 sequential calls paid about 90 us of
CPU per call for them, against about 10 us for running the loop in place.

One lock guards the driver role and the count of handed-over calls. At most
one thread runs the loop at a time. While any handed-over call is
unfinished, some thread is running the loop or is about to.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import signal
import threading
import weakref
from collections.abc import Callable, Coroutine
from types import FrameType
from typing import Any, Generic, TypeVar

from ._errors import ClientClosedError

__all__ = ["Portal"]

# The C functions that signal.getsignal and signal.signal wrap. The wrappers
# turn every handler into an enum member on the way out; for a function
# handler that is a failed enum lookup, a raised and caught ValueError: about
# 7 us of a blocking call's 17 us of overhead, against 0.6 us for the C
# functions themselves. (Imported by name: typeshed has no stub for _signal.)
_getsignal: Callable[[int], Any]
_setsignal: Callable[[int, Any], Any]
try:
    _c_signal = importlib.import_module("_signal")
    _getsignal, _setsignal = _c_signal.getsignal, _c_signal.signal
except (ImportError, AttributeError):  # another Python implementation
    _getsignal, _setsignal = signal.getsignal, signal.signal


T = TypeVar("T")

logger = logging.getLogger("whop_dm")

# How long an interrupted call waits for its cancelled task to finish on the
# loop. Cancelling an aiohttp request lands in well under a millisecond; the
# bound only matters for a coroutine that swallows cancellation.
CANCEL_GRACE = 2.0
# How long close() waits for in-flight calls to be cancelled and the session
# to close; at interpreter exit, a shorter wait.
CLOSE_TIMEOUT = 10.0
EXIT_CLOSE_TIMEOUT = 2.0

# Who runs the loop now.
_IDLE = 0  # nobody: the next call may run it inline
_INLINE = 1  # a caller's thread, for its own call
_BACKGROUND = 2  # the daemon thread (or, at interpreter exit, a caller standing in for it)


class Portal:
    """Runs coroutines on one private event loop from any thread, blocking.

    The loop is made on the first `run`, and the daemon thread only when a
    call has to be handed over. Safe to share between threads. `close` may
    be called from any thread, more than once.
    """

    __slots__ = (
        "__weakref__",
        "_closed",
        "_driver",
        "_forked",
        "_handed",
        "_lock",
        "_loop",
        "_name",
        "_thread",
        "_wake",
    )

    def __init__(self, name: str) -> None:
        self._name = name
        self._lock = threading.Lock()
        # Wakes the daemon thread when it becomes the driver, or can exit.
        self._wake = threading.Condition(self._lock)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._driver = _IDLE
        self._handed = 0  # handed-over calls whose task has not finished
        self._closed = False
        self._forked = False
        _PORTALS.add(self)

    @property
    def is_closed(self) -> bool:
        return self._closed

    @property
    def thread(self) -> threading.Thread | None:
        """The daemon thread, if a handed-over call ever needed it."""
        return self._thread

    # -- running a call --------------------------------------------------------------

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the loop and return its result, blocking this thread.

        A ``BaseException`` in this thread while it waits (Ctrl-C) cancels
        the coroutine on the loop, waits briefly for the cancellation to
        land, and propagates.
        """
        running = asyncio._get_running_loop()
        try:
            if running is not None and running is self._loop:
                raise RuntimeError(_OWN_LOOP_MESSAGE)
            with self._lock:
                self._check_open()
                loop = self._loop
                if loop is None:
                    loop = self._loop = asyncio.new_event_loop()
                inline = running is None and self._driver == _IDLE
                if inline:
                    self._driver = _INLINE
        except BaseException:
            coro.close()  # never started: close it, or Python warns it was never awaited
            raise
        if inline:
            return self._run_inline(loop, coro)
        return self._run_handed(coro)

    def _check_open(self) -> None:
        # Called with the lock held.
        if self._closed:
            raise ClientClosedError(
                _FORKED_MESSAGE
                if self._forked
                else "Cannot send a request: the client has been closed."
            )

    def _run_inline(self, loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T]) -> T:
        call = _InlineCall(coro, loop)
        try:
            call.run()
        finally:
            self._let_go()
        return call.outcome(self._closed)

    def _run_handed(self, coro: Coroutine[Any, Any, T]) -> T:
        waiter: threading.Lock | None = getattr(_waiters, "lock", None)
        if waiter is None or not waiter.acquire(blocking=False):
            # First hand-over of this thread, or an interrupt left the last
            # one's lock taken: start afresh.
            waiter = _waiters.lock = threading.Lock()
            waiter.acquire()
        call = _HandedCall(coro, self, waiter)
        try:
            with self._lock:
                self._check_open()
                self._hand_over(call)
        except BaseException:
            waiter.release()
            coro.close()
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

    def _hand_over(self, call: _HandedCall[Any]) -> None:
        # Called with the lock held. Queues the call and makes sure that
        # somebody runs the loop until it is done.
        loop = self._loop
        assert loop is not None
        if self._driver == _IDLE:
            self._become_background()
        self._handed += 1
        loop.call_soon_threadsafe(call.start)

    def _become_background(self) -> None:
        # Called with the lock held: the daemon thread takes the driver role.
        if self._thread is None:
            thread = threading.Thread(target=self._serve, name=self._name, daemon=True)
            thread.start()  # may raise at interpreter exit: the caller handles it
            self._thread = thread
        self._driver = _BACKGROUND
        self._wake.notify_all()

    def _let_go(self) -> None:
        """An inline driver is done with its own call: pass the loop on, or leave it idle."""
        with self._lock:
            if not self._handed:
                self._go_idle()
                return
            try:
                self._become_background()
                return
            except RuntimeError:
                # No new thread at interpreter exit: this thread stands in.
                self._driver = _BACKGROUND
        self._drive_handed()

    def _cancel(self, call: _HandedCall[Any]) -> None:
        loop, waiter = self._loop, call.waiter
        assert loop is not None
        assert waiter is not None
        with self._lock:
            if loop.is_closed():
                return
            # The call still counts as handed over, so somebody runs the loop.
            loop.call_soon_threadsafe(call.cancel)
        waiter.acquire(timeout=CANCEL_GRACE)

    def _handed_done(self) -> None:  # on the loop, as a handed-over task ends
        with self._lock:
            self._handed -= 1
            if not self._handed and self._driver == _BACKGROUND:
                assert self._loop is not None
                self._loop.stop()

    # -- the daemon thread -------------------------------------------------------------

    def _serve(self) -> None:
        while True:
            with self._lock:
                while self._driver != _BACKGROUND:
                    if self._closed and self._driver == _IDLE and not self._handed:
                        return
                    self._wake.wait()
            self._drive_handed()

    def _drive_handed(self) -> None:
        # Runs the loop until no handed-over call is left (the last one's
        # done-callback stops it), then leaves the loop idle.
        loop = self._loop
        assert loop is not None
        while True:
            try:
                loop.run_forever()
            except BaseException:
                # Only SystemExit or KeyboardInterrupt get out of a loop's
                # callbacks; the calls still waiting must not be stranded.
                logger.exception("whop_dm: an exception escaped the client's event loop")
            with self._lock:
                if not self._handed:
                    self._go_idle()
                    return

    def _go_idle(self) -> None:
        # Called with the lock held, by the driver, once no handed-over call
        # is left: nobody runs the loop until the next call. A closed portal's
        # loop is closed now; the daemon thread is woken to see it may exit.
        self._driver = _IDLE
        loop = self._loop
        if self._closed and not self._forked and loop is not None and not loop.is_closed():
            loop.close()
        self._wake.notify_all()

    # -- closing -----------------------------------------------------------------------

    def close(
        self,
        final: Callable[[], Coroutine[Any, Any, None]] | None = None,
        *,
        timeout: float = CLOSE_TIMEOUT,
    ) -> None:
        """Cancel calls in flight, await ``final()`` on the loop, close the loop.

        Idempotent. Waits (up to ``timeout``) for the shutdown, and joins the
        daemon thread if there is one. Called from a callback on the loop (a
        finalizer run by the garbage collector there), it queues the shutdown
        instead of waiting for it.
        """
        shutdown: Coroutine[Any, Any, None] | None = None
        waiter: threading.Lock | None = None
        with self._lock:
            # Decided in one hold of the lock: nobody may close the loop
            # between the portal turning closed and the shutdown being queued.
            already, self._closed = self._closed, True
            loop = self._loop
            if not already and loop is not None and not loop.is_closed():
                shutdown = _shutdown(final, timeout)
                running = asyncio._get_running_loop()
                if running is loop:
                    # On the loop's own thread: it cannot wait for itself.
                    self._handed += 1
                    loop.call_soon(_HandedCall(shutdown, self, None).start)
                    return
                if running is None and self._driver == _IDLE:
                    self._driver = _INLINE
                else:
                    waiter = threading.Lock()
                    waiter.acquire()
                    try:
                        self._hand_over(_HandedCall(shutdown, self, waiter))
                    except RuntimeError:
                        # No thread can be started (interpreter exit) while
                        # another runs the loop: that one closes the loop when
                        # done, without the graceful shutdown.
                        shutdown.close()
                        shutdown = None
        if shutdown is not None:
            if waiter is None:
                assert loop is not None
                with contextlib.suppress(ClientClosedError):  # the shutdown was cut short
                    self._run_inline(loop, shutdown)
            else:
                waiter.acquire(timeout=timeout + CANCEL_GRACE)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=timeout)

    # -- fork ------------------------------------------------------------------------

    def _after_fork_in_child(self) -> None:
        # The daemon thread did not come along, and the parent may have held
        # the lock at the fork: without this a call would wait forever. The
        # loop's connections belong to the parent, so the child must not use
        # them: a portal that was ever used refuses calls in the child.
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._thread = None
        self._driver = _IDLE
        self._handed = 0
        if self._loop is not None:
            self._closed = self._forked = True

    def __repr__(self) -> str:
        if self._closed:
            state = "closed"
        elif self._driver != _IDLE:
            state = "running"
        else:
            state = "idle"
        return f"<Portal {self._name} {state}>"


class _InlineCall(Generic[T]):
    """A coroutine the calling thread runs on the portal's loop itself."""

    __slots__ = ("abandoned", "coro", "driving", "interrupted", "loop", "task")

    def __init__(self, coro: Coroutine[Any, Any, T], loop: asyncio.AbstractEventLoop) -> None:
        self.coro = coro
        self.loop = loop
        self.task: asyncio.Task[T] | None = None
        self.interrupted = False  # Ctrl-C came: cancel, then raise KeyboardInterrupt
        self.abandoned = False  # the caller left before the task was made
        self.driving = True  # the caller's thread is running the loop for it

    def start(self) -> None:  # on the loop
        if self.abandoned:
            return
        if self.interrupted:  # Ctrl-C came before the task existed
            self.coro.close()
            self.loop.stop()
            return
        self.task = self.loop.create_task(self._stopping_when_done())

    async def _stopping_when_done(self) -> T:
        # The loop is stopped from the task's last step rather than from a
        # done-callback, which would cost the call one more pass of the loop.
        try:
            return await self.coro
        finally:
            self.stop()

    def stop(self, _: object = None) -> None:  # on the loop
        # Only while its own caller runs the loop: a task left behind by an
        # interrupted caller must not stop the loop under somebody else.
        if self.driving:
            self.loop.stop()

    def run(self) -> None:
        """Run the loop, in the calling thread, until the task is done."""
        # Started from a callback, not run_until_complete: the task's first
        # step then comes after the I/O events of the loop's first pass, so a
        # pooled connection the server closed while nobody ran the loop is
        # seen closed before the request picks it.
        self.loop.call_soon(self.start)
        previous = self.catch_ctrl_c()
        try:
            self.loop.run_forever()  # until done() stops it
        except BaseException:
            self.abandon()
            raise
        finally:
            self.driving = False
            if previous is not None:
                _setsignal(signal.SIGINT, previous)

    def catch_ctrl_c(self) -> Any:
        """On the main thread, turn Ctrl-C into a cancellation of this call.

        Python raises ``KeyboardInterrupt`` wherever the main thread happens to
        be, which could be halfway through one of aiohttp's callbacks. Like
        ``asyncio.run``, the call installs a handler of its own while the
        default one is in place. Returns the handler to put back, or None.
        """
        if threading.get_ident() != threading.main_thread().ident:
            return None
        if _getsignal(signal.SIGINT) is not signal.default_int_handler:
            return None
        _setsignal(signal.SIGINT, self.on_ctrl_c)
        return signal.default_int_handler

    def on_ctrl_c(self, signum: int, frame: FrameType | None) -> None:
        if self.interrupted:
            raise KeyboardInterrupt  # pressed twice: stop waiting at once
        self.interrupted = True
        if self.task is not None:
            self.task.cancel()
        self.loop.call_soon_threadsafe(_nothing)  # wake the loop if it sleeps

    def abandon(self) -> None:
        """Something was raised in this thread mid-call: cancel, wait briefly."""
        task = self.task
        if task is None:
            self.abandoned = True
            self.coro.close()
            return
        if task.done():
            if not task.cancelled():
                task.exception()  # retrieved: no "never retrieved" log later
            return
        task.cancel()
        # A task cancelled before its first step never runs its own stop.
        task.add_done_callback(self.stop)
        timer = self.loop.call_later(CANCEL_GRACE, self.loop.stop)
        try:
            self.loop.run_forever()
        finally:
            timer.cancel()

    def outcome(self, closed: bool) -> T:
        task = self.task
        if self.interrupted:
            if task is not None and not task.cancelled():
                task.exception()
            raise KeyboardInterrupt
        assert task is not None
        assert task.done()
        return _result(task, closed)


class _HandedCall(Generic[T]):
    """A coroutine queued on the loop from another thread, and the lock its caller waits on."""

    __slots__ = ("coro", "portal", "task", "waiter")

    def __init__(
        self, coro: Coroutine[Any, Any, T], portal: Portal, waiter: threading.Lock | None
    ) -> None:
        self.coro = coro
        self.portal = portal
        self.waiter = waiter
        self.task: asyncio.Task[T] | None = None

    def start(self) -> None:  # on the loop
        self.task = asyncio.get_running_loop().create_task(self.coro)
        self.task.add_done_callback(self.done)

    def done(self, task: asyncio.Task[T]) -> None:  # on the loop
        self.portal._handed_done()
        if self.waiter is not None:
            self.waiter.release()

    def cancel(self) -> None:  # on the loop, queued behind start()
        if self.task is not None:
            self.task.cancel()

    def outcome(self, closed: bool) -> T:
        assert self.task is not None
        return _result(self.task, closed)


def _result(task: asyncio.Task[T], closed: bool) -> T:
    try:
        return task.result()
    except asyncio.CancelledError:
        if closed:
            raise ClientClosedError("The client was closed while this call was waiting.") from None
        raise


def _nothing() -> None:
    pass


# Each thread waits for a handed-over call on one lock of its own, reused
# from call to call.
_waiters = threading.local()
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


async def _shutdown(final: Callable[[], Coroutine[Any, Any, None]] | None, timeout: float) -> None:
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
            await asyncio.wait_for(final(), timeout)
    finally:
        await asyncio.get_running_loop().shutdown_asyncgens()
