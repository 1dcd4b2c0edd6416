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
from whop_dm import AsyncClient, Client, RetryPolicy, SyncPager, _portal
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


def test_calls_run_on_the_clients_own_loop_thread_started_by_the_first_call(
    fake: FakeWhop,
) -> None:
    async def where() -> threading.Thread:
        return threading.current_thread()

    with Client(KEY, base_url=fake.base_url) as c:
        assert c._portal.thread is None  # nothing started before the first call
        c.dm_channels.create(with_user_ids=["user_bob"])
        thread = c._portal.thread
        ran_on = c._portal.run(where())

    assert thread is not None
    assert thread.daemon
    assert ran_on is thread
    assert not thread.is_alive()  # joined by close()


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
    assert tasks_on_loop(client) == 0


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

    def log_message(self, format: str, *args: object) -> None:
        pass


class CountingHangUps(http.server.ThreadingHTTPServer):
    """Counts the connections it has shut down (the hang-up is on the wire by then)."""

    closed = threading.Semaphore(0)

    def shutdown_request(self, request: object) -> None:
        super().shutdown_request(request)  # type: ignore[arg-type]
        self.closed.release()


def test_a_pooled_connection_the_server_closed_between_calls_is_not_reused() -> None:
    # The server hangs up each connection once it has been idle; the next
    # call must not pick the dead one from the pool: with retries off, that
    # would be an error.
    server = CountingHangUps(("127.0.0.1", 0), ClosingIdleConnections)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    base_url = f"http://127.0.0.1:{server.server_address[1]}/api/v1"
    try:
        with Client(KEY, base_url=base_url, retry=RetryPolicy.disabled()) as c:
            for _ in range(3):
                member = c.dm_members.create(channel_id="feed_1", user_id="user_bob")
                assert member.user_id == "user_bob"
                # Bounded: the server has hung up the connection this call used.
                assert server.closed.acquire(timeout=60)
                # The FIN is in the client's socket now; its loop thread needs a
                # turn to see it. A request racing the hang-up itself would fail
                # with any HTTP client, so the test leaves that turn.
                time.sleep(0.2)
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
        assert tasks_on_loop(c) == 0  # none is left over

    assert sorted(pair for result in results for pair in result) == sorted(wanted)
    added = [(m.channel_id, m.user_id) for m in fake.memberships if m.user_id.startswith("user_t")]
    assert sorted(added) == sorted(wanted)


def test_bulk_create_works_blocking_and_its_progress_callback_runs_on_the_loop_thread(
    client: Client, fake: FakeWhop
) -> None:
    channel = client.dm_channels.create(with_user_ids=["user_bob"])
    seen: set[str] = set()

    result = client.dm_members.bulk_create(
        [(channel.id, "user_carol"), (channel.id, "user_dave")],
        concurrency=2,
        on_progress=lambda progress: seen.add(threading.current_thread().name),
    )

    async def notebook_cell() -> whop_dm.BulkAddResult:
        return client.dm_members.bulk_create(
            [(channel.id, "user_bob")],
            on_progress=lambda progress: seen.add(threading.current_thread().name),
        )

    again = asyncio.run(notebook_cell())

    assert result.ok
    assert again.ok
    assert sorted(m.user_id for m in result.added) == ["user_carol", "user_dave"]
    assert client._portal.thread is not None
    assert seen == {client._portal.thread.name}


@pytest.mark.parametrize("close_midway", [False, True], ids=["to-the-end", "closed-midway"])
def test_many_threads_running_and_handing_over_calls_lose_none_and_leave_no_loop_behind(
    close_midway: bool,
) -> None:
    # Straight on the portal: calls from many threads and from inside running
    # loops, short and sleeping ones, and a close() landing among them.
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


def test_close_joins_the_loop_thread_of_calls_made_inside_a_running_loop(client: Client) -> None:
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


LEFT_OPEN = """
import atexit
import threading


def report() -> None:
    # Registered first, so it runs last of the exit handlers: any thread
    # still alive now would be frozen by finalization and waited on.
    alive = sorted(t.name for t in threading.enumerate() if t is not threading.main_thread())
    print("alive at exit:", alive, flush=True)


atexit.register(report)

import whop_dm
from whop_dm.testing import FakeWhop

opened = FakeWhop.in_thread()
fake = opened.__enter__()  # never exited, as in a REPL or a notebook
fake.add_user("user_owner")
fake.add_user("user_bob")
fake.add_api_key("whop_k", user_id="user_owner")
client = whop_dm.Client("whop_k", base_url=fake.base_url)  # never closed
print(client.dm_channels.create(with_user_ids=["user_bob"]).id, flush=True)
"""


def test_a_fake_and_a_client_left_open_are_stopped_at_exit_with_no_thread_left_behind() -> None:
    # On 3.13 a thread still alive when the interpreter finalizes is joined
    # in vain until its timeout: the exit took 30 s.
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-W", "always", "-c", textwrap.dedent(LEFT_OPEN)],
        capture_output=True,
        text=True,
        timeout=20,  # a hang guard, well under the 30 s such an exit used to take
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    channel_id, alive = done.stdout.splitlines()
    assert channel_id.startswith("feed_")
    assert alive == "alive at exit: []"


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
    assert tasks_on_loop(client) == 0


class WindowsWait:
    """A caller's future, waited on as on Windows.

    There a plain wait on a lock cannot be interrupted: Ctrl-C is raised only
    once a timed wait returns. This one takes timed waits only, and raises
    KeyboardInterrupt as the third one returns.
    """

    def __init__(self, future: concurrent.futures.Future[object]) -> None:
        self.future = future
        self.slices: list[float | None] = []

    def result(self, timeout: float | None = None) -> object:
        self.slices.append(timeout)
        if timeout is None:
            raise AssertionError("a plain wait: Ctrl-C could never land on Windows")
        if len(self.slices) == 3:
            raise KeyboardInterrupt
        return self.future.result(timeout)

    def done(self) -> bool:
        return self.future.done()


def test_ctrl_c_on_windows_lands_between_wait_slices_and_cancels_the_call(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = threading.Event()
    finished: list[str] = []
    waits: list[WindowsWait] = []

    async def slow() -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            finished.append("cancelled")
            raise
        finished.append("ran to the end")

    real_wait = _portal._wait

    def windows_wait(future: concurrent.futures.Future[object]) -> object:
        waits.append(WindowsWait(future))
        return real_wait(waits[-1])  # type: ignore[arg-type]

    monkeypatch.setattr(_portal, "WAIT_SLICE", 0.01)
    monkeypatch.setattr(_portal, "_wait", windows_wait)
    with pytest.raises(KeyboardInterrupt):
        client._portal.run(slow())
    monkeypatch.undo()

    assert started.is_set()
    assert waits[0].slices == [0.01, 0.01, 0.01]
    assert finished == ["cancelled"]
    assert tasks_on_loop(client) == 0
    assert client.dm_channels.create(with_user_ids=["user_bob"]).id  # still usable


def test_a_call_whose_coroutine_raises_timeout_error_is_not_waited_on_again(
    client: Client,
) -> None:
    # The wait in slices tells its own timeout from the coroutine's.
    async def times_out() -> None:
        raise TimeoutError("from the coroutine")

    with pytest.raises(TimeoutError, match="from the coroutine"):
        client._portal.run(times_out())


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


# -- nothing but the declared surface ------------------------------------------------


def test_a_name_no_sync_resource_declares_is_an_attribute_error(client: Client) -> None:
    with pytest.raises(AttributeError):
        client.dm_members.craete  # type: ignore[attr-defined]  # noqa: B018
    with pytest.raises(AttributeError):
        client.not_a_resource  # type: ignore[attr-defined]  # noqa: B018
