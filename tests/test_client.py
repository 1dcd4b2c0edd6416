"""Constructing, configuring, sharing and closing an AsyncClient."""

from __future__ import annotations

import asyncio
import gc
import inspect
import pathlib
import subprocess
import sys
import threading
import warnings
from collections.abc import Callable, Iterator

import aiohttp
import attrs
import pytest
from scripted import MEMBER, ScriptedServer, json_answer

import whop_dm
from whop_dm._config import AsyncClientConfig, ClientConfig, takes_options
from whop_dm.testing import FakeWhop


def test_a_missing_key_says_how_to_set_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WHOP_API_KEY", raising=False)
    with pytest.raises(whop_dm.MissingAPIKeyError, match="WHOP_API_KEY"):
        whop_dm.AsyncClient()


def test_the_key_and_base_url_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHOP_API_KEY", "sk_env")
    monkeypatch.setenv("WHOP_BASE_URL", "http://127.0.0.1:9/api/v1/")
    client = whop_dm.AsyncClient()
    assert client.base_url == "http://127.0.0.1:9/api/v1"


def test_the_default_base_url_is_whops(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WHOP_BASE_URL", raising=False)
    assert whop_dm.AsyncClient("k").base_url == "https://api.whop.com/api/v1"


@pytest.mark.parametrize(
    "url", ["http://api.whop.invalid/api/v1", "http://dm.internal.invalid/api/v1"]
)
def test_plain_http_to_a_non_loopback_host_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="https"):
        whop_dm.AsyncClient("k", base_url=url)
    assert whop_dm.AsyncClient("k", base_url=url, allow_http=True).base_url == url.rstrip("/")


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080/api/v1", "http://localhost/api/v1", "http://[::1]:8080/api/v1"]
)
def test_plain_http_to_loopback_is_allowed(url: str) -> None:
    assert whop_dm.AsyncClient("k", base_url=url).base_url == url


@pytest.mark.parametrize(
    "url", ["ftp://x/", "/api/v1", "https://u:p@api.whop.com/", "https://a/?q=1"]
)
def test_malformed_base_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="base_url"):
        whop_dm.AsyncClient("k", base_url=url)


def test_timeout_none_is_refused_rather_than_waiting_forever() -> None:
    with pytest.raises(TypeError, match="forever"):
        whop_dm.AsyncClient("k", timeout=None)  # type: ignore[arg-type]


def test_a_number_is_a_per_attempt_timeout() -> None:
    assert whop_dm.Timeout(total=5.0, connect=5.0) == whop_dm._timeout.coerce_timeout(5)
    with pytest.raises(ValueError, match="finite"):
        whop_dm.Timeout(total=float("inf"))


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"max_connections": 0}, ValueError),
        ({"max_connections": "5"}, TypeError),
        ({"rate_limit": 0}, ValueError),
        ({"retry": 3}, TypeError),
        ({"headers": {"Authorization": "Bearer other"}}, ValueError),
        ({"headers": {"X-A": "1\r\nX-B: 2"}}, ValueError),
        ({"api_version": "2025\n"}, ValueError),
        ({"session": object()}, TypeError),
    ],
)
def test_bad_settings_are_refused_at_construction(
    kwargs: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        whop_dm.AsyncClient("k", **kwargs)  # type: ignore[arg-type]


async def test_a_closed_client_raises_a_clear_error(scripted_server: ScriptedServer) -> None:
    scripted_server.answer(json_answer(MEMBER))
    client = scripted_server.client()
    await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    await client.aclose()
    await client.aclose()  # idempotent
    assert client.is_closed
    with pytest.raises(whop_dm.ClientClosedError, match="closed"):
        await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    assert len(scripted_server.seen) == 1


async def test_closing_an_unused_client_is_fine() -> None:
    client = whop_dm.AsyncClient("k", base_url="http://127.0.0.1:9/api/v1")
    await client.aclose()
    with pytest.raises(whop_dm.ClientClosedError):
        await client.dm_members.create(channel_id="c", user_id="u")


async def test_a_session_passed_in_is_used_and_never_closed(
    scripted_server: ScriptedServer,
) -> None:
    scripted_server.answer(json_answer(MEMBER))
    async with aiohttp.ClientSession() as session:
        async with scripted_server.client(session=session) as client:
            await client.dm_members.create(channel_id="feed_1", user_id="user_c")
        assert not session.closed
    assert scripted_server.seen[0].headers["Authorization"].startswith("Bearer ")


async def test_one_client_serves_a_thousand_concurrent_calls_within_its_pool(
    scripted_server: ScriptedServer,
) -> None:
    in_flight = 0
    peak = 0

    async def counting(_: object) -> aiohttp.web.StreamResponse:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.001)
        in_flight -= 1
        return aiohttp.web.json_response(MEMBER)

    scripted_server.answer(counting)
    async with scripted_server.client(max_connections=8) as client:
        results = await asyncio.gather(
            *(client.dm_members.create(channel_id="feed_1", user_id=f"u{i}") for i in range(1000))
        )
    assert len(results) == 1000
    assert len(scripted_server.seen) == 1000
    assert 1 <= peak <= 8


async def test_a_client_used_on_another_loop_says_so(scripted_server: ScriptedServer) -> None:
    scripted_server.answer(json_answer(MEMBER))
    client = scripted_server.client()
    await client.dm_members.create(channel_id="feed_1", user_id="user_c")

    def other_loop() -> None:
        async def call() -> None:
            await client.dm_members.create(channel_id="feed_1", user_id="user_c")

        with pytest.raises(RuntimeError, match="event loop"):
            asyncio.run(call())

    await asyncio.get_running_loop().run_in_executor(None, other_loop)
    await client.aclose()


async def test_cancelling_a_call_leaves_the_client_usable(scripted_server: ScriptedServer) -> None:
    async def slow(_: object) -> aiohttp.web.StreamResponse:
        await asyncio.sleep(5)
        return aiohttp.web.json_response(MEMBER)

    scripted_server.answer(slow, json_answer(MEMBER))
    async with scripted_server.client() as client:
        task = asyncio.create_task(client.dm_members.create(channel_id="feed_1", user_id="u"))
        for _ in range(500):  # bounded: at most ~5 s
            if scripted_server.seen:
                break
            await asyncio.sleep(0.01)
        assert scripted_server.seen
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        scripted_server.answer(json_answer(MEMBER))
        member = await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    assert member.id == "dmm_1"


# -- one config for both clients (whop_dm/_config.py) ------------------------------------


def test_both_clients_take_the_options_of_client_config_and_nothing_else() -> None:
    options = list(inspect.signature(ClientConfig).parameters.values())
    session = inspect.signature(AsyncClientConfig).parameters["session"]

    assert list(inspect.signature(whop_dm.Client).parameters.values()) == options
    assert list(inspect.signature(whop_dm.AsyncClient).parameters.values()) == [*options, session]


def test_a_field_added_to_a_config_class_becomes_a_constructor_option() -> None:
    # What adding an option to ClientConfig does to both clients, on a stand-in.
    @attrs.frozen(kw_only=True)
    class WithExtra(ClientConfig):
        extra: int = 7

    received: list[ClientConfig] = []

    class Stub:
        @takes_options(WithExtra)
        def __init__(self, config: ClientConfig) -> None:
            received.append(config)

    Stub("k", base_url="http://127.0.0.1:9/api/v1", extra=3)  # type: ignore[call-arg]

    assert "extra" in inspect.signature(Stub).parameters
    assert isinstance(received[0], WithExtra)
    assert received[0].extra == 3
    with pytest.raises(TypeError):
        Stub("k", extr=3)  # type: ignore[call-arg]


@pytest.mark.parametrize("make", [whop_dm.AsyncClient, whop_dm.Client], ids=["async", "sync"])
@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"max_connections": 0}, ValueError, "max_connections"),
        ({"rate_limit": -1}, ValueError, "rate_limit"),
        ({"retry": 3}, TypeError, "RetryPolicy"),
        ({"timeout": "5"}, TypeError, "timeout"),
        ({"headers": {"Idempotency-Key": "x"}}, ValueError, "set by the client"),
        ({"on_retry": 3}, TypeError, "on_retry"),
        ({"base_url": "http://api.whop.invalid/api/v1"}, ValueError, "plain http"),
    ],
)
def test_both_clients_refuse_a_bad_option_with_the_same_error(
    make: Callable[..., object], kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    before = threading.active_count()

    with pytest.raises(error, match=message):
        make("k", **kwargs)

    assert threading.active_count() == before


@pytest.mark.parametrize(
    ("make", "name"), [(whop_dm.AsyncClient, "AsyncClient"), (whop_dm.Client, "Client")]
)
def test_an_unknown_option_is_refused_in_the_clients_name(
    make: Callable[..., object], name: str
) -> None:
    with pytest.raises(TypeError, match=rf"^{name}\(\): .*'max_conections'"):
        make("k", max_conections=5)
    with pytest.raises(TypeError, match=rf"^{name}\(\): too many positional"):
        make("k", "http://127.0.0.1:9/api/v1")


def test_the_sync_client_takes_no_session() -> None:
    with pytest.raises(TypeError, match=r"^Client\(\): .*'session'"):
        whop_dm.Client("k", session=None)  # type: ignore[call-arg]


def test_the_config_is_frozen_and_its_repr_hides_the_key() -> None:
    client = whop_dm.AsyncClient(
        "whop_secret_key", base_url="http://127.0.0.1:9/api/v1/", api_version="2025-01-01"
    )
    config = client._config

    assert "whop_secret_key" not in repr(config)
    assert config.base_url == client.base_url == "http://127.0.0.1:9/api/v1"
    assert config.default_headers == {"Api-Version-Date": "2025-01-01"}
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        config.max_connections = 5  # type: ignore[misc]


def test_the_blocking_client_runs_an_async_client_with_its_own_config() -> None:
    with whop_dm.Client("k", base_url="http://127.0.0.1:9/api/v1", max_connections=7) as client:
        assert client._async._config.max_connections == 7
        assert type(client._async._config) is ClientConfig


# -- a client left open, and closing from another loop -----------------------------------

FAKE_KEY = "whop_test_key_owner"


@pytest.fixture
def fake() -> Iterator[FakeWhop]:
    with FakeWhop.in_thread() as server:
        server.add_user("user_owner")
        server.add_user("user_bob")
        server.add_api_key(FAKE_KEY, user_id="user_owner")
        yield server


UNCLOSED = """
import asyncio
import gc
import sys

import whop_dm


async def main() -> None:
    client = whop_dm.AsyncClient(sys.argv[1], base_url=sys.argv[2])
    await client.dm_channels.create(with_user_ids=["user_bob"])
    # never closed


asyncio.run(main())
gc.collect()
"""


def test_a_client_collected_unclosed_warns_naming_itself_and_where_it_was_made(
    fake: FakeWhop, tmp_path: pathlib.Path
) -> None:
    script = tmp_path / "forgetful.py"
    script.write_text(UNCLOSED)
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-W", "always", "-X", "tracemalloc=5", script, FAKE_KEY, fake.base_url],
        capture_output=True,
        text=True,
        timeout=60,  # a hang guard
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert "ResourceWarning: unclosed <whop_dm.AsyncClient" in done.stderr
    assert "Client created at" in done.stderr
    assert "client = whop_dm.AsyncClient(sys.argv[1]" in done.stderr  # where it was made
    assert FAKE_KEY not in done.stderr


def test_a_client_that_never_opened_its_own_session_is_collected_silently() -> None:
    async def with_own_session() -> None:
        async with aiohttp.ClientSession() as session:
            client = whop_dm.AsyncClient("k", base_url="http://127.0.0.1:9/api/v1", session=session)
            del client

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        unused = whop_dm.AsyncClient("k", base_url="http://127.0.0.1:9/api/v1")
        del unused
        asyncio.run(with_own_session())
        gc.collect()

    assert [w for w in seen if issubclass(w.category, ResourceWarning)] == []


def test_aclose_on_another_loop_closes_the_session_on_its_still_running_loop(
    fake: FakeWhop,
) -> None:
    home = asyncio.new_event_loop()
    thread = threading.Thread(target=home.run_forever)
    thread.start()
    try:
        client = whop_dm.AsyncClient(FAKE_KEY, base_url=fake.base_url)
        create = client.dm_channels.create(with_user_ids=["user_bob"])
        asyncio.run_coroutine_threadsafe(create, home).result(timeout=60)

        asyncio.run(client.aclose())  # another loop, in this thread

        assert client.is_closed
        assert not client._transport.owns_open_session
    finally:
        home.call_soon_threadsafe(home.stop)
        thread.join(timeout=60)
        home.close()
    gc.collect()  # an unclosed transport would warn here, and warnings are errors


def test_aclose_on_another_loop_closes_the_session_on_its_idle_loop(fake: FakeWhop) -> None:
    home = asyncio.new_event_loop()
    try:
        client = whop_dm.AsyncClient(FAKE_KEY, base_url=fake.base_url)
        home.run_until_complete(client.dm_channels.create(with_user_ids=["user_bob"]))

        asyncio.run(client.aclose())

        assert client.is_closed
        assert not client._transport.owns_open_session
    finally:
        home.close()
    gc.collect()


def test_aclose_after_the_clients_loop_was_closed_raises_a_clear_error(fake: FakeWhop) -> None:
    client = whop_dm.AsyncClient(FAKE_KEY, base_url=fake.base_url)
    asyncio.run(client.dm_channels.create(with_user_ids=["user_bob"]))
    # asyncio.run closed its loop: the client's connections are stranded.

    with pytest.raises(RuntimeError, match="loop that has been closed"):
        asyncio.run(client.aclose())

    # Nothing could close them: collecting the client says so (aiohttp too).
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        del client
        gc.collect()
    assert any("unclosed <whop_dm.AsyncClient" in str(w.message) for w in seen)
