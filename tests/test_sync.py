"""The blocking ``whop_dm.Client``: use, threads, running loops, close, errors, interrupts."""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import http.server
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator

import pytest

import whop_dm
from whop_dm import AsyncClient, AsyncPager, Client, Page, PageInfo, RetryPolicy, SyncPager, _portal
from whop_dm._sync import SyncResource
from whop_dm.testing import FakeWhop

KEY = "whop_test_key_owner"
OWNER = "user_owner"
USERS = ["user_bob", "user_carol", "user_dave"]


@pytest.fixture
def fake() -> Iterator[FakeWhop]:
    with FakeWhop.in_thread(seed=1) as server:
        server.add_user(OWNER, username="owner")
        for user_id in USERS:
            server.add_user(user_id)
        server.add_api_key(KEY, user_id=OWNER)
        yield server


@pytest.fixture
def client(fake: FakeWhop) -> Iterator[Client]:
    with Client(KEY, base_url=fake.base_url, retry=RetryPolicy.instant()) as c:
        yield c


def wait_until(condition: object, what: str) -> None:
    """Poll a condition a bounded number of times (a hang guard, not a speed check)."""
    for _ in range(3000):
        if callable(condition) and condition():
            return
        time.sleep(0.01)
    raise AssertionError(f"gave up waiting for {what}")


def idle(client: Client) -> bool:
    """Nobody runs the client's loop, and no handed-over call is unfinished."""
    portal = client._portal
    return portal._driver == _portal._IDLE and portal._handed == 0


def tasks_on_loop(client: Client) -> int:
    """How many tasks, besides the one asking, the client's loop is running."""

    async def count() -> int:
        return len(asyncio.all_tasks()) - 1

    return client._portal.run(count())


# -- plain use -----------------------------------------------------------------------


def test_a_blocking_call_returns_the_same_record_types_as_the_async_client(
    client: Client, fake: FakeWhop
) -> None:
    channel = client.dm_channels.create(with_user_ids=["user_bob"], custom_name="Launch")
    member = client.dm_members.create(channel_id=channel.id, user_id="user_carol")

    assert isinstance(channel, whop_dm.DmChannel)
    assert channel.name == "Launch"
    assert isinstance(member, whop_dm.DmMember)
    assert (member.channel_id, member.user_id) == (channel.id, "user_carol")
    assert {m.user_id for m in fake.members_of(channel.id)} == {OWNER, "user_bob", "user_carol"}


def test_retrieve_update_delete_and_messages_work_blocking(client: Client, fake: FakeWhop) -> None:
    channel = client.dm_channels.create(with_user_ids=["user_bob"])
    renamed = client.dm_channels.update(channel.id, custom_name="Renamed")
    message = client.messages.create(channel_id=channel.id, content="hello")

    assert client.dm_channels.retrieve(channel.id).name == renamed.name == "Renamed"
    assert client.messages.retrieve(message.id).content == "hello"
    assert client.dm_channels.delete(channel.id) is True
    assert channel.id not in fake.channels


def test_bad_arguments_raise_before_anything_is_sent(client: Client, fake: FakeWhop) -> None:
    with pytest.raises(ValueError, match="channel_id"):
        client.dm_members.create(channel_id="", user_id="user_bob")
    with pytest.raises(TypeError):
        client.dm_members.create(channel=1, user_id="user_bob")  # type: ignore[call-arg]

    assert fake.requests == []


def test_constructor_errors_raise_in_the_callers_thread_without_starting_a_loop() -> None:
    before = threading.active_count()

    with pytest.raises(whop_dm.MissingAPIKeyError):
        Client("")
    with pytest.raises(ValueError, match="plain http"):
        Client(KEY, base_url="http://api.whop.invalid/api/v1")

    assert threading.active_count() == before


def test_a_call_with_nothing_else_in_flight_runs_in_the_callers_thread(client: Client) -> None:
    seen: list[int] = []

    async def where() -> int:
        return threading.get_ident()

    client.dm_channels.create(with_user_ids=["user_bob"])
    seen.append(client._portal.run(where()))

    assert seen == [threading.get_ident()]
    assert client._portal.thread is None  # no thread was needed, none was started


def test_a_call_made_while_another_is_in_flight_does_not_wait_for_it(
    client: Client, fake: FakeWhop
) -> None:
    channel = client.dm_channels.create(with_user_ids=["user_bob"])
    fake.clear_requests()
    fake.delay_next(1, 1.0, path="/dm_members")

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        # This call holds the loop (in the pool's thread) while the fake sits on it.
        slow = pool.submit(client.dm_members.create, channel_id=channel.id, user_id="user_dave")
        wait_until(lambda: fake.requests, "the fake to receive the slow request")
        quick = client.dm_members.create(channel_id=channel.id, user_id="user_carol")
        assert not slow.done()  # the quick call was handed over and did not wait
        assert slow.result(timeout=60).user_id == "user_dave"

    assert quick.user_id == "user_carol"
    assert idle(client)


def test_a_handed_over_call_that_outlives_the_drivers_own_goes_on_in_a_daemon_thread(
    client: Client,
) -> None:
    portal = client._portal
    first_started, second_started = threading.Event(), threading.Event()
    release_first, release_second = threading.Event(), threading.Event()

    async def hold(started: threading.Event, release: threading.Event) -> str:
        started.set()
        for _ in range(6000):  # bounded: 60 s
            if release.is_set():
                return threading.current_thread().name
            await asyncio.sleep(0.01)
        raise AssertionError("never released")

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(portal.run, hold(first_started, release_first))
        assert first_started.wait(timeout=60)
        # The first call's thread runs the loop: this one is handed over to it.
        second = pool.submit(portal.run, hold(second_started, release_second))
        assert second_started.wait(timeout=60)
        assert portal.thread is None

        release_first.set()
        first_ran_on = first.result(timeout=60)
        # The first thread went back to its caller; the loop moved to a daemon thread.
        thread = portal.thread
        assert thread is not None
        assert thread.daemon
        release_second.set()
        second_ran_on = second.result(timeout=60)

    assert first_ran_on != thread.name
    assert second_ran_on == thread.name
    assert idle(client)
    # With nothing in flight, the next call runs in its caller's thread again.
    assert portal.run(hold(threading.Event(), release_first)) == threading.current_thread().name


def test_the_api_key_is_not_in_the_repr(fake: FakeWhop) -> None:
    with Client(KEY, base_url=fake.base_url) as c:
        c.dm_channels.create(with_user_ids=["user_bob"])
        shown = [repr(c), str(c), repr(c.dm_members), repr(c.dm_channels.list())]

    assert all(KEY not in text for text in shown)
    assert fake.base_url in shown[0]


# -- connections left idle between calls -----------------------------------------------


class ClosingIdleConnections(http.server.BaseHTTPRequestHandler):
    """Answers every POST with a membership, and hangs up a connection idle for 50 ms."""

    protocol_version = "HTTP/1.1"  # keep-alive
    timeout = 0.05  # idle this long between requests: the connection is closed
    closed = threading.Semaphore(0)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        body = json.dumps(
            {
                "id": "dmm_1",
                "user_id": "user_bob",
                "channel_id": "feed_1",
                "status": "accepted",
                "last_viewed_at": None,
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def finish(self) -> None:
        super().finish()
        type(self).closed.release()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_pooled_connection_the_server_closed_between_calls_is_not_reused() -> None:
    # Between two calls nobody runs the client's loop, so nothing reads the
    # server's hang-up until the next call. That call must see it before it
    # picks a connection: with retries off, a dead one would be an error.
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), ClosingIdleConnections)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    base_url = f"http://127.0.0.1:{server.server_address[1]}/api/v1"
    try:
        with Client(KEY, base_url=base_url, retry=RetryPolicy.disabled()) as c:
            for _ in range(3):
                member = c.dm_members.create(channel_id="feed_1", user_id="user_bob")
                assert member.user_id == "user_bob"
                # Bounded: the server has hung up the connection this call used.
                assert ClosingIdleConnections.closed.acquire(timeout=60)
    finally:
        server.shutdown()
        server.server_close()
        serving.join(timeout=60)


# -- a running event loop in the caller's thread --------------------------------------


def test_calls_work_from_inside_a_running_event_loop(client: Client, fake: FakeWhop) -> None:
    async def notebook_cell() -> tuple[str, str]:
        asyncio.get_running_loop()  # this code runs inside a loop, as in Jupyter
        channel = client.dm_channels.create(with_user_ids=["user_bob"])
        member = client.dm_members.create(channel_id=channel.id, user_id="user_dave")
        return channel.id, member.user_id

    channel_id, user_id = asyncio.run(notebook_cell())

    assert user_id == "user_dave"
    assert "user_dave" in {m.user_id for m in fake.members_of(channel_id)}


async def test_calls_work_from_an_async_test_function(client: Client) -> None:
    channel = client.dm_channels.create(with_user_ids=["user_carol"])

    assert [c.id for c in client.dm_channels.list()] == [channel.id]


# -- threads ---------------------------------------------------------------------------


def test_32_threads_share_one_client_and_every_membership_lands_once(fake: FakeWhop) -> None:
    threads, per_thread, channel_count = 32, 6, 8
    users = [f"user_t{n:03d}" for n in range(threads * per_thread)]
    for user_id in users:
        fake.add_user(user_id)
    with Client(KEY, base_url=fake.base_url) as c:
        channels = [
            c.dm_channels.create(with_user_ids=["user_bob"], company_id=f"biz_{n}").id
            for n in range(channel_count)
        ]
        wanted = [(channels[n % channel_count], user_id) for n, user_id in enumerate(users)]
        start = threading.Barrier(threads)

        def work(index: int) -> list[tuple[str, str]]:
            start.wait(timeout=60)
            mine = wanted[index::threads]
            return [
                (m.channel_id, m.user_id)
                for m in (c.dm_members.create(channel_id=ch, user_id=u) for ch, u in mine)
            ]

        with concurrent.futures.ThreadPoolExecutor(max_workers=threads) as pool:
            results = list(pool.map(work, range(threads)))
        # Calls ran inline and handed over by turns; none is left over.
        assert idle(c)

    assert sorted(pair for result in results for pair in result) == sorted(wanted)
    added = [(m.channel_id, m.user_id) for m in fake.memberships if m.user_id.startswith("user_t")]
    assert sorted(added) == sorted(wanted)


def test_bulk_create_works_blocking_and_its_progress_callback_runs_where_the_loop_runs(
    client: Client, fake: FakeWhop
) -> None:
    channel = client.dm_channels.create(with_user_ids=["user_bob"])
    inline: set[str] = set()
    handed: set[str] = set()

    result = client.dm_members.bulk_create(
        [(channel.id, "user_carol"), (channel.id, "user_dave")],
        concurrency=2,
        on_progress=lambda done, total: inline.add(threading.current_thread().name),
    )

    async def notebook_cell() -> whop_dm.BulkAddResult:
        # A loop already runs here, so the call is handed to the client's thread.
        return client.dm_members.bulk_create(
            [(channel.id, "user_bob")],
            on_progress=lambda done, total: handed.add(threading.current_thread().name),
        )

    again = asyncio.run(notebook_cell())

    assert result.ok
    assert again.ok
    assert sorted(m.user_id for m in result.added) == ["user_carol", "user_dave"]
    assert inline == {threading.current_thread().name}
    assert client._portal.thread is not None
    assert handed == {client._portal.thread.name}


@pytest.mark.parametrize("close_midway", [False, True], ids=["to-the-end", "closed-midway"])
def test_many_threads_running_and_handing_over_calls_lose_none_and_leave_no_loop_behind(
    close_midway: bool,
) -> None:
    # The hand-over of the loop between callers, straight on the portal: calls
    # that run inline, calls handed over from other threads and from inside
    # running loops, short and sleeping ones, and a close() landing among them.
    portal = _portal.Portal("test-portal")
    threads, calls = 8, 60

    async def echo(value: int, delay: float) -> int:
        if delay:
            await asyncio.sleep(delay)
        return value

    def worker(seed: int) -> list[int | None]:
        rnd = random.Random(seed)
        out: list[int | None] = []
        for value in range(calls):
            delay = rnd.choice([0.0, 0.0, 0.0, 0.0005, 0.002])
            try:
                if rnd.random() < 0.1:

                    async def cell(value: int = value, delay: float = delay) -> int:
                        return portal.run(echo(value, delay))

                    out.append(asyncio.run(cell()))
                else:
                    out.append(portal.run(echo(value, delay)))
            except whop_dm.ClientClosedError:
                out.append(None)
        return out

    with concurrent.futures.ThreadPoolExecutor(max_workers=threads) as pool:
        futures = [pool.submit(worker, seed) for seed in range(threads)]
        if close_midway:
            wait_until(lambda: portal._loop is not None, "the first call")
            portal.close()
        results = [future.result(timeout=60) for future in futures]

    for result in results:
        assert len(result) == calls
        if close_midway:
            # Every call answered its own value, or was refused or cut short.
            assert all(got in (None, want) for want, got in enumerate(result))
        else:
            assert result == list(range(calls))
    if not close_midway:
        assert portal._driver == _portal._IDLE
        assert portal._handed == 0
        portal.close()
    assert portal._loop is not None
    assert portal._loop.is_closed()
    if portal.thread is not None:
        assert not portal.thread.is_alive()


# -- close -----------------------------------------------------------------------------


def test_close_is_idempotent_and_closes_the_loop(client: Client) -> None:
    client.dm_channels.create(with_user_ids=["user_bob"])
    loop = client._portal._loop
    assert loop is not None

    client.close()
    client.close()

    assert client.is_closed
    assert client._async.is_closed
    assert loop.is_closed()
    assert "closed" in repr(client)


def test_close_joins_the_daemon_thread_of_handed_over_calls(client: Client) -> None:
    async def notebook_cell() -> str:
        return client.dm_channels.create(with_user_ids=["user_bob"]).id

    asyncio.run(notebook_cell())
    thread = client._portal.thread
    assert thread is not None
    assert thread.is_alive()

    client.close()

    assert client._async.is_closed
    assert not thread.is_alive()


def test_close_from_inside_a_running_loop_closes_the_pool(fake: FakeWhop) -> None:
    async def notebook_cell() -> Client:
        with Client(KEY, base_url=fake.base_url) as c:
            c.dm_channels.create(with_user_ids=["user_bob"])
        return c

    c = asyncio.run(notebook_cell())

    assert c._async.is_closed
    assert c._portal.thread is not None
    assert not c._portal.thread.is_alive()


def test_the_with_statement_closes_the_client(fake: FakeWhop) -> None:
    with Client(KEY, base_url=fake.base_url) as c:
        c.dm_channels.create(with_user_ids=["user_bob"])

    assert c.is_closed
    assert c._async.is_closed
    assert c._portal._loop is not None
    assert c._portal._loop.is_closed()


def test_a_call_after_close_raises_client_closed_error(client: Client, fake: FakeWhop) -> None:
    client.dm_channels.create(with_user_ids=["user_bob"])
    client.close()
    fake.clear_requests()

    with pytest.raises(whop_dm.ClientClosedError):
        client.dm_channels.create(with_user_ids=["user_bob"])
    with pytest.raises(whop_dm.ClientClosedError):
        client.dm_channels.list().first_page()

    assert fake.requests == []


def test_closing_a_client_that_never_sent_anything_starts_no_thread(fake: FakeWhop) -> None:
    c = Client(KEY, base_url=fake.base_url)
    c.close()

    assert c.is_closed
    assert c._portal.thread is None
    assert c._portal._loop is None
    with pytest.raises(whop_dm.ClientClosedError):
        c.dm_members.create(channel_id="feed_1", user_id="user_bob")


def test_a_call_waiting_in_another_thread_ends_with_client_closed_error(
    client: Client, fake: FakeWhop
) -> None:
    channel = client.dm_channels.create(with_user_ids=["user_bob"])
    fake.clear_requests()
    fake.delay_next(1, 30.0, path="/dm_members")

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        waiting = pool.submit(client.dm_members.create, channel_id=channel.id, user_id="user_dave")
        wait_until(lambda: fake.requests, "the fake to receive the request")
        client.close()
        with pytest.raises(whop_dm.ClientClosedError):
            waiting.result(timeout=60)


def test_a_forgotten_client_is_closed_when_collected(fake: FakeWhop) -> None:
    c = Client(KEY, base_url=fake.base_url)
    c.dm_channels.create(with_user_ids=["user_bob"])
    loop = c._portal._loop
    async_client = c._async
    assert loop is not None

    del c
    gc.collect()

    assert async_client.is_closed
    assert loop.is_closed()


FORGOTTEN = """
import sys
import whop_dm

client = whop_dm.Client(sys.argv[1], base_url=sys.argv[2])
channel = client.dm_channels.create(with_user_ids=["user_bob"])
print(channel.id, flush=True)
"""


def test_a_forgotten_client_does_not_hang_or_warn_at_interpreter_exit(fake: FakeWhop) -> None:
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-W", "always", "-c", textwrap.dedent(FORGOTTEN), KEY, fake.base_url],
        capture_output=True,
        text=True,
        timeout=60,  # a hang guard: a hanging exit would never end
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.strip() in fake.channels


FORKED = """
import os
import sys
import warnings
import whop_dm

warnings.simplefilter("ignore", DeprecationWarning)  # fork() of a threaded process, 3.12+
client = whop_dm.Client(sys.argv[1], base_url=sys.argv[2])
client.dm_channels.create(with_user_ids=["user_bob"])
pid = os.fork()
if pid == 0:
    try:
        client.dm_channels.create(with_user_ids=["user_carol"])
        os._exit(2)
    except whop_dm.ClientClosedError as exc:
        os._exit(0 if "fork" in str(exc) else 3)
_, status = os.waitpid(pid, 0)
print("child", os.waitstatus_to_exitcode(status))
print("parent", client.dm_channels.create(with_user_ids=["user_dave"]).id)
client.close()
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_client_used_before_a_fork_refuses_calls_in_the_child_instead_of_hanging(
    fake: FakeWhop,
) -> None:
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", textwrap.dedent(FORKED), KEY, fake.base_url],
        capture_output=True,
        text=True,
        timeout=60,  # a hang guard: the child would wait forever on a dead loop
        check=False,
    )

    assert done.returncode == 0, done.stderr
    lines = done.stdout.split()
    assert lines[:2] == ["child", "0"], done.stdout + done.stderr
    assert lines[3] in fake.channels


# -- errors ----------------------------------------------------------------------------


def async_error(fake: FakeWhop, api_key: str, channel_id: str) -> whop_dm.APIError:
    async def go() -> whop_dm.APIError:
        async with AsyncClient(api_key, base_url=fake.base_url) as ac:
            try:
                await ac.dm_members.create(channel_id=channel_id, user_id="user_bob")
            except whop_dm.APIError as exc:
                return exc
        raise AssertionError("no error")

    return asyncio.run(go())


def sync_error(fake: FakeWhop, api_key: str, channel_id: str) -> whop_dm.APIError:
    with Client(api_key, base_url=fake.base_url) as c:
        try:
            c.dm_members.create(channel_id=channel_id, user_id="user_bob")
        except whop_dm.APIError as exc:
            return exc
    raise AssertionError("no error")


def fields(error: whop_dm.APIError) -> tuple[object, ...]:
    return (type(error), error.status_code, error.type, error.code, error.param, error.message)


@pytest.mark.parametrize(
    ("api_key", "expected"),
    [(KEY, whop_dm.NotFoundError), ("whop_wrong_key", whop_dm.AuthenticationError)],
    ids=["404", "401"],
)
def test_errors_are_the_same_types_and_fields_as_the_async_clients(
    fake: FakeWhop, api_key: str, expected: type[whop_dm.APIError]
) -> None:
    from_async = async_error(fake, api_key, "feed_missing")
    from_sync = sync_error(fake, api_key, "feed_missing")

    assert isinstance(from_sync, expected)
    assert fields(from_sync) == fields(from_async)


def test_a_server_error_after_retries_is_the_async_clients_error(
    client: Client, fake: FakeWhop
) -> None:
    fake.fail_next(5, 503)

    with pytest.raises(whop_dm.InternalServerError) as caught:
        client.dm_channels.create(with_user_ids=["user_bob"])

    assert caught.value.status_code == 503


def test_a_callback_that_calls_the_client_gets_an_error_not_a_deadlock(fake: FakeWhop) -> None:
    seen: list[BaseException] = []
    holder: list[Client] = []

    def on_retry(event: whop_dm.RetryEvent) -> None:
        try:
            holder[0].dm_channels.create(with_user_ids=["user_carol"])
        except RuntimeError as exc:
            seen.append(exc)

    with Client(KEY, base_url=fake.base_url, retry=RetryPolicy.instant(), on_retry=on_retry) as c:
        holder.append(c)
        fake.fail_next(1, 503)
        c.dm_channels.create(with_user_ids=["user_bob"])

    assert len(seen) == 1
    assert "own event loop" in str(seen[0])


# -- interrupts ------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="needs POSIX signals")
def test_ctrl_c_during_a_call_cancels_its_request_and_the_client_stays_usable(
    client: Client, fake: FakeWhop
) -> None:
    assert threading.current_thread() is threading.main_thread()
    channel = client.dm_channels.create(with_user_ids=["user_bob"])
    fake.clear_requests()
    fake.delay_next(1, 30.0, path="/dm_members")
    main = threading.get_ident()

    def press_ctrl_c() -> None:
        # Once the fake holds the request, the main thread is waiting on it.
        wait_until(lambda: fake.requests, "the fake to receive the request")
        signal.pthread_kill(main, signal.SIGINT)

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    presser = threading.Thread(target=press_ctrl_c)
    try:
        presser.start()
        with pytest.raises(KeyboardInterrupt):
            client.dm_members.create(channel_id=channel.id, user_id="user_dave")
    finally:
        presser.join(timeout=60)
        signal.signal(signal.SIGINT, previous)

    assert [r.method for r in fake.requests] == ["POST"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back
    assert tasks_on_loop(client) == 0
    member = client.dm_members.create(channel_id=channel.id, user_id="user_carol")
    assert member.user_id == "user_carol"


def test_ctrl_c_landing_before_the_call_started_never_runs_it() -> None:
    ran: list[str] = []

    async def call() -> None:
        ran.append("ran")

    loop = asyncio.new_event_loop()
    try:
        inline = _portal._InlineCall(call(), loop)
        inline.interrupted = True  # what the Ctrl-C handler leaves when it lands first
        inline.run()  # returns: the loop is stopped without a task
        with pytest.raises(KeyboardInterrupt):
            inline.outcome(closed=False)
    finally:
        loop.close()

    assert ran == []  # and no "never awaited" warning: warnings are errors here


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="needs POSIX signals")
def test_an_exception_raised_while_the_caller_runs_the_loop_cancels_its_call(
    client: Client,
) -> None:
    # A signal handler of the program's own raises mid-call, on the main
    # thread that is running the client's loop for this call.
    started = threading.Event()
    finished: list[str] = []

    class Interrupt(BaseException):
        pass

    def handler(signum: int, frame: object) -> None:
        raise Interrupt

    async def slow() -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            finished.append("cancelled")
            raise
        finished.append("ran to the end")

    main = threading.get_ident()

    def signal_main() -> None:
        started.wait(timeout=60)
        signal.pthread_kill(main, signal.SIGUSR1)

    previous = signal.signal(signal.SIGUSR1, handler)
    sender = threading.Thread(target=signal_main)
    try:
        sender.start()
        with pytest.raises(Interrupt):
            client._portal.run(slow())
    finally:
        sender.join(timeout=60)
        signal.signal(signal.SIGUSR1, previous)

    assert finished == ["cancelled"]
    assert idle(client)
    assert tasks_on_loop(client) == 0


def test_an_exception_in_the_waiting_thread_cancels_the_coroutine_on_the_loop(
    client: Client,
) -> None:
    # The same path as Ctrl-C, without signals: the wait itself raises.
    started = threading.Event()
    finished: list[str] = []

    async def slow() -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            finished.append("cancelled")
            raise
        finished.append("ran to the end")

    class Interrupt(BaseException):
        pass

    class InterruptedWait:
        """The thread's waiter lock, whose blocking wait for the result raises."""

        def __init__(self) -> None:
            self.lock = threading.Lock()

        def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
            if blocking and timeout == -1:  # the wait for the result
                started.wait(timeout=60)
                raise Interrupt
            return self.lock.acquire(blocking, timeout)

        def release(self) -> None:
            self.lock.release()

    async def notebook_cell() -> None:
        # A loop already runs here: the call is handed over, and this thread waits.
        client._portal.run(slow())

    _portal._waiters.lock = InterruptedWait()
    try:
        with pytest.raises(Interrupt):
            asyncio.run(notebook_cell())
    finally:
        _portal._waiters.lock = None

    assert finished == ["cancelled"]
    assert tasks_on_loop(client) == 0


# -- pagers ----------------------------------------------------------------------------


def make_channels(client: Client, fake: FakeWhop, count: int) -> list[str]:
    ids = [
        client.dm_channels.create(with_user_ids=[USERS[n % len(USERS)]], company_id=f"biz_{n}").id
        for n in range(count)
    ]
    fake.clear_requests()
    return ids[::-1]  # the order of the list: most recently active first


def gets(fake: FakeWhop) -> int:
    return sum(1 for r in fake.requests if r.method == "GET")


def test_iterating_a_list_yields_every_record_in_order_across_pages(
    client: Client, fake: FakeWhop
) -> None:
    ids = make_channels(client, fake, 7)

    pager = client.dm_channels.list(page_size=3)

    assert isinstance(pager, SyncPager)
    assert [channel.id for channel in pager] == ids
    assert gets(fake) == 3


def test_breaking_out_of_a_list_stops_fetching(client: Client, fake: FakeWhop) -> None:
    make_channels(client, fake, 7)

    for _channel in client.dm_channels.list(page_size=3):
        break
    gc.collect()

    assert gets(fake) == 1
    assert tasks_on_loop(client) == 0


def test_pages_by_hand(client: Client, fake: FakeWhop) -> None:
    ids = make_channels(client, fake, 5)
    pager = client.dm_channels.list(page_size=2)

    first = pager.first_page()
    second = pager.fetch_page(first.next_cursor)
    pages = list(pager.pages())

    assert [c.id for c in first.data] == ids[:2]
    assert [c.id for c in second.data] == ids[2:4]
    assert [[c.id for c in page.data] for page in pages] == [ids[:2], ids[2:4], ids[4:]]


def test_a_list_checks_its_arguments_at_call_time(client: Client, fake: FakeWhop) -> None:
    with pytest.raises(ValueError, match="page_size"):
        client.dm_channels.list(page_size=0)

    assert fake.requests == []


def test_an_error_while_paging_is_raised_from_the_iteration(client: Client) -> None:
    pager = client.dm_members.list(channel_id="feed_missing")

    with pytest.raises(whop_dm.NotFoundError):
        list(pager)


# -- methods the sync resources do not declare ------------------------------------------


class AsyncExtras:
    """An async resource with methods no sync class declares."""

    async def double(self, *, n: int) -> int:
        return 2 * n

    def numbers(self, *, pages: int) -> AsyncPager[int]:
        async def fetch(after: str | None) -> Page[int]:
            index = int(after or 0)
            following = str(index + 1) if index + 1 < pages else None
            info = PageInfo(following, None, following is not None, index > 0)
            return Page([10 * index, 10 * index + 1], info)

        return AsyncPager(fetch, "numbers")


def test_an_undeclared_async_method_works_blocking_at_runtime(client: Client) -> None:
    extras = SyncResource(AsyncExtras(), client._portal)

    assert extras.double(n=21) == 42  # type: ignore[attr-defined]
    pager = extras.numbers(pages=3)  # type: ignore[attr-defined]
    assert isinstance(pager, SyncPager)
    assert list(pager) == [0, 1, 10, 11, 20, 21]
    assert [page.data for page in pager.pages()][-1] == [20, 21]


def test_an_undeclared_resource_of_async_client_works_at_runtime(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(AsyncClient.__annotations__, "extras", "AsyncExtras")
    client._async.extras = AsyncExtras()  # type: ignore[attr-defined]

    assert client.extras.double(n=2) == 4  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        client.not_a_resource  # type: ignore[attr-defined]  # noqa: B018
