"""Security promises, checked from the outside (see docs/guides/security.md).

- the key never shows in str/repr of the client, records, errors and retry
  events, in any log line at DEBUG (every logger, aiohttp's included), or in
  the output of the ``whop-dm`` command;
- ``base_url`` must be https unless the host is loopback (or ``allow_http``);
- TLS certificates are verified by default (a self-signed loopback server is
  refused before any request reaches it);
- a redirect is not followed, so the ``Authorization`` header never reaches
  another host (and what aiohttp itself does when asked to follow one);
- ids cannot inject headers or change the route: they are refused before
  sending or travel as one escaped path segment (or one query value).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import ssl
import subprocess
import sys
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import aiohttp
import pytest
from aiohttp import web
from faultkit import KEY, OWNER, client_for, seeded_fake

import whop_dm
from whop_dm import _transport
from whop_dm.testing import FakeWhop

ROOT = Path(__file__).resolve().parents[2]


def assert_secret_free(*texts: str) -> None:
    for text in texts:
        assert KEY not in text, text
        # Not even a long slice of it.
        assert KEY[4:-4] not in text, text


# -- str / repr / logs ----------------------------------------------------------------------


@pytest.fixture
async def fake() -> AsyncIterator[FakeWhop]:
    async with seeded_fake(["user_a", "user_b"]) as running:
        yield running


async def collect_errors(fake: FakeWhop) -> list[whop_dm.WhopError]:
    """One error of every kind the client raises, from real calls."""
    errors: list[whop_dm.WhopError] = []

    async def expect(call: Awaitable[Any]) -> None:
        with pytest.raises(whop_dm.WhopError) as caught:
            await call
        errors.append(caught.value)

    once = whop_dm.RetryPolicy.disabled()
    async with client_for(fake.base_url, retry=once) as client:
        channel = await client.dm_channels.create(with_user_ids=["user_a"])
        for status in (400, 403, 404, 409, 422, 429, 500, 503):
            fake.fail_next(1, status=status, retry_after=1)
            await expect(client.dm_members.create(channel_id=channel.id, user_id="user_b"))
        # On a POST: aiohttp itself resends a GET once when a reused connection drops.
        fake.drop_next(1)
        await expect(client.dm_members.create(channel_id=channel.id, user_id="user_b"))
        fake.malformed_next(1)
        await expect(client.dm_channels.retrieve(channel.id))
        fake.delay_next(1, 1.0)
    async with client_for(fake.base_url, retry=once, timeout=0.1) as slow:
        await expect(slow.dm_channels.retrieve(channel.id))
    async with whop_dm.AsyncClient(KEY + "x", base_url=fake.base_url, retry=once) as stranger:
        await expect(stranger.dm_channels.retrieve(channel.id))
    refused = client_for("http://127.0.0.1:9/api/v1", retry=once)
    await expect(refused.dm_channels.retrieve("feed_1"))
    await refused.aclose()
    await expect(refused.dm_channels.retrieve("feed_1"))  # ClientClosedError
    return errors


async def test_the_key_is_in_no_str_or_repr_of_client_records_errors_or_retry_events(
    fake: FakeWhop,
) -> None:
    events: list[whop_dm.RetryEvent] = []
    async with client_for(fake.base_url, on_retry=events.append) as client:
        assert_secret_free(str(client), repr(client), repr(client.dm_members))
        channel = await client.dm_channels.create(with_user_ids=["user_a"], custom_name="x")
        fake.fail_next(1, status=503)
        member = await client.dm_members.create(channel_id=channel.id, user_id="user_b")
        assert_secret_free(repr(channel), str(channel), repr(member), str(member))
    assert events
    assert_secret_free(*(repr(e) for e in events), *(str(e) for e in events))
    errors = await collect_errors(fake)
    kinds = {type(e) for e in errors}
    assert {
        whop_dm.BadRequestError,
        whop_dm.RateLimitError,
        whop_dm.InternalServerError,
        whop_dm.APIConnectionError,
        whop_dm.APITimeoutError,
        whop_dm.ResponseDecodeError,
        whop_dm.AuthenticationError,
        whop_dm.ClientClosedError,
    } <= kinds
    for error in errors:
        shown = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        assert_secret_free(str(error), repr(error), shown, repr(getattr(error, "body", "")))


def test_the_key_is_in_no_str_or_repr_of_the_blocking_client() -> None:
    with FakeWhop.in_thread() as fake:
        fake.add_user(OWNER)
        fake.add_user("user_a")
        fake.add_api_key(KEY, user_id=OWNER)
        with whop_dm.Client(KEY, base_url=fake.base_url) as client:
            channel = client.dm_channels.create(with_user_ids=["user_a"])
            assert_secret_free(str(client), repr(client), repr(client.dm_channels), repr(channel))


async def test_debug_logs_of_every_logger_never_carry_the_key(
    fake: FakeWhop, caplog: pytest.LogCaptureFixture
) -> None:
    names = ("whop_dm", "aiohttp", "aiohttp.client", "asyncio", "tenacity")
    levels = {name: logging.getLogger(name).level for name in names}
    try:
        with caplog.at_level(logging.DEBUG):
            for name in names:
                logging.getLogger(name).setLevel(logging.DEBUG)
            errors = await collect_errors(fake)
            policy = whop_dm.RetryPolicy.instant(max_attempts=5)
            async with client_for(fake.base_url, retry=policy) as client:
                channel = await client.dm_channels.create(with_user_ids=["user_a"])
                fake.fail_next(2, status=503)
                fake.drop_next(1)
                await client.dm_members.create(channel_id=channel.id, user_id="user_b")
    finally:
        # Left at DEBUG, the loggers would change what later tests see.
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
    assert errors
    assert caplog.records, "nothing was logged at DEBUG: the check would prove nothing"
    assert any("retrying" in r.getMessage() for r in caplog.records)
    assert_secret_free(caplog.text, *(r.getMessage() for r in caplog.records))
    for record in caplog.records:
        assert_secret_free(repr(record.args), repr(record.__dict__))


# -- the whop-dm command --------------------------------------------------------------------


async def run_cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("WHOP_")}
    environ.update(env or {})
    environ["COLUMNS"] = "200"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "whop_dm",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=environ,
        cwd=ROOT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 90)
    assert process.returncode is not None
    return process.returncode, out.decode("utf-8", errors="replace")


async def test_the_cli_never_prints_the_key(fake: FakeWhop) -> None:
    channel_of = {"WHOP_API_KEY": KEY, "WHOP_BASE_URL": fake.base_url}
    runs: list[tuple[str, int, str]] = []

    async def run(label: str, *args: str, env: dict[str, str] | None = None) -> None:
        code, out = await run_cli(*args, env=env)
        runs.append((label, code, out))

    await run("ok, key from env", "channels", "create", "--with", "user_a", env=channel_of)
    await run("ok, json", "channels", "create", "--with", "user_a", "--json", env=channel_of)
    await run(
        "ok, key as option, debug",
        "channels",
        "create",
        "--with",
        "user_b",
        "--api-key",
        KEY,
        "--base-url",
        fake.base_url,
        "--debug",
    )
    fake.fail_next(5, status=500)
    await run("500, debug", "channels", "list", "--debug", env=channel_of)
    fake.reset_faults()
    await run(
        "401, debug",
        "channels",
        "list",
        "--debug",
        env={"WHOP_API_KEY": KEY + "x", "WHOP_BASE_URL": fake.base_url},
    )
    await run(
        "connection refused, debug",
        "channels",
        "list",
        "--debug",
        env={"WHOP_API_KEY": KEY, "WHOP_BASE_URL": "http://127.0.0.1:9/api/v1"},
    )
    await run(
        "plain http refused",
        "channels",
        "list",
        env={"WHOP_API_KEY": KEY, "WHOP_BASE_URL": "http://api.whop.invalid/api/v1"},
    )
    await run("help with the key in env", "channels", "list", "--help", env=channel_of)
    await run("bad option", "channels", "list", "--nope", "--api-key", KEY)
    codes = {label: code for label, code, _ in runs}
    assert codes["ok, key from env"] == 0, runs[0]
    assert codes["ok, key as option, debug"] == 0, runs[2]
    assert all(code != 0 for label, code in codes.items() if "refused" in label or "401" in label)
    for label, _, out in runs:
        assert KEY not in out, (label, out)
        assert KEY[4:-4] not in out, (label, out)


# -- base_url ---------------------------------------------------------------------------------

ACCEPTED = [
    "https://api.whop.com/api/v1",
    "https://api.whop.com/api/v1/",
    "http://127.0.0.1:8000/api/v1",
    "http://localhost:8000/api/v1",
    "http://[::1]:8000/api/v1",
]
REFUSED = [
    "http://api.whop.com/api/v1",
    "http://whop.invalid",
    "http://localhost.whop.invalid/api/v1",
    "http://127.0.0.1.nip.io/api/v1",
    "http://unspecified.invalid/api/v1",
    "ftp://api.whop.com/api/v1",
    "ws://127.0.0.1/api/v1",
    "file:///etc/passwd",
    "api.whop.com/api/v1",
    "//api.whop.com/api/v1",
    "https://user:pass@api.whop.com/api/v1",
    "https://api.whop.com/api/v1?key=1",
    "https://api.whop.com/api/v1#x",
    "",
]


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),  # all of 127.0.0.0/8
        ("localhost", True),
        ("LOCALHOST", True),
        ("localhost.", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost.whop.invalid", False),
        ("whop.invalid", False),
        ("0.0.0.0", False),  # noqa: S104 - a host name under test, never bound or reached
        ("api.whop.com", False),
    ],
)
def test_which_hosts_count_as_loopback_for_plain_http(host: str, loopback: bool) -> None:
    # The predicate alone, by host name: the tests name loopback URLs only.
    assert _transport._is_loopback(host) is loopback


@pytest.mark.parametrize("base_url", ACCEPTED)
async def test_https_or_loopback_base_urls_are_accepted(base_url: str) -> None:
    client = whop_dm.AsyncClient(KEY, base_url=base_url)
    assert not client.base_url.endswith("/")
    await client.aclose()


@pytest.mark.parametrize("base_url", REFUSED)
def test_plain_http_to_other_hosts_and_odd_urls_are_refused(base_url: str) -> None:
    with pytest.raises(ValueError, match="base_url") as caught:
        whop_dm.AsyncClient(KEY, base_url=base_url)
    assert_secret_free(str(caught.value))


def test_the_environment_base_url_is_held_to_the_same_rule(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WHOP_BASE_URL", "http://api.whop.com/api/v1")
    with pytest.raises(ValueError, match="http"):
        whop_dm.AsyncClient(KEY)
    with pytest.raises(ValueError, match="http"):
        whop_dm.Client(KEY)


async def test_plain_http_to_another_host_is_an_explicit_opt_in() -> None:
    client = whop_dm.AsyncClient(KEY, base_url="http://api.whop.com/api/v1", allow_http=True)
    assert client.base_url == "http://api.whop.com/api/v1"
    await client.aclose()


# -- TLS ----------------------------------------------------------------------------------------


@pytest.fixture
def self_signed(tmp_path: Path) -> ssl.SSLContext:
    openssl = shutil.which("openssl")
    if openssl is None:  # pragma: no cover - the dev machine and CI have it
        pytest.skip("openssl is needed to make a self-signed certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(  # noqa: S603 - a fixed command line
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


async def start_app(
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ssl_context: ssl.SSLContext | None = None,
) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    port = runner.addresses[0][1]
    scheme = "https" if ssl_context else "http"
    return runner, f"{scheme}://127.0.0.1:{port}"


async def test_tls_certificates_are_verified_by_default(self_signed: ssl.SSLContext) -> None:
    reached: list[str] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        reached.append(request.path)
        return web.json_response(True)

    runner, origin = await start_app(handler, self_signed)
    try:
        client = client_for(origin + "/api/v1")
        with pytest.raises(whop_dm.APIConnectionError) as caught:
            await client.dm_channels.delete("feed_1")
        assert caught.value.request_not_sent
        assert "certificate" in str(caught.value).lower()
        session = client._transport._session
        assert session is not None
        connector = session.connector
        assert isinstance(connector, aiohttp.TCPConnector)
        assert connector._ssl is True  # type: ignore[attr-defined]  # aiohttp: verify, system CAs
        await client.aclose()
    finally:
        await runner.cleanup()
    assert reached == []  # no request, so no Authorization header, reached the server


async def test_the_security_guide_documents_tls_verification() -> None:
    guide = (ROOT / "docs" / "guides" / "security.md").read_text(encoding="utf-8")
    assert "TLS verification is on" in guide


# -- redirects ----------------------------------------------------------------------------------


@pytest.fixture
async def two_servers() -> AsyncIterator[tuple[str, str, list[dict[str, str]]]]:
    """Server A answers every request with a redirect to server B, which records what it gets."""
    seen_by_b: list[dict[str, str]] = []

    async def b_handler(request: web.Request) -> web.StreamResponse:
        seen_by_b.append(dict(request.headers))
        return web.json_response(True)

    runner_b, origin_b = await start_app(b_handler)
    statuses = iter([307, 302, 301, 308, 303] * 20)

    async def a_handler(request: web.Request) -> web.StreamResponse:
        await request.read()
        location = origin_b + request.raw_path
        return web.Response(status=next(statuses), headers={"Location": location})

    runner_a, origin_a = await start_app(a_handler)
    try:
        yield origin_a, origin_b, seen_by_b
    finally:
        await runner_a.cleanup()
        await runner_b.cleanup()


async def test_a_redirect_to_another_host_is_not_followed(
    two_servers: tuple[str, str, list[dict[str, str]]],
) -> None:
    origin_a, _, seen_by_b = two_servers
    async with client_for(origin_a + "/api/v1") as client:
        calls: list[Callable[[], Awaitable[Any]]] = [
            lambda: client.dm_members.create(channel_id="feed_1", user_id="user_b"),
            lambda: client.dm_channels.retrieve("feed_1"),
            lambda: client.dm_channels.delete("feed_1"),
            lambda: client.dm_members.update("dmm_1", status="accepted"),
            lambda: client.dm_channels.list().first_page(),
        ]
        for call in calls:
            with pytest.raises(whop_dm.APIError) as caught:
                await call()
            assert 300 <= caught.value.status_code < 400
            assert_secret_free(str(caught.value), repr(caught.value))
    assert seen_by_b == []


async def test_aiohttp_itself_drops_authorization_when_a_redirect_changes_host(
    two_servers: tuple[str, str, list[dict[str, str]]],
) -> None:
    # Why "not followed" is belt and braces: should a caller's own session
    # follow redirects, aiohttp strips Authorization on a cross-origin hop.
    origin_a, _, seen_by_b = two_servers
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            origin_a + "/api/v1/dm_channels",
            headers={"Authorization": f"Bearer {KEY}"},
            allow_redirects=True,
        ) as answer,
    ):
        assert answer.status == 200
    assert len(seen_by_b) == 1
    assert "Authorization" not in seen_by_b[0]


# -- ids that try to change the request ----------------------------------------------------------

HOSTILE_IDS = [
    "a/b",
    "../dm_members",
    "..",
    ".",
    "feed_1/../../admin",
    "feed_1?limit=1",
    "feed_1#frag",
    "feed_1%2F..%2Fx",
    "%2e%2e",
    "feed_1\r\nX-Injected: 1",
    "feed_1\nX-Injected: 1",
    "feed_1\x00",
    "feed 1",
    "feed_1;x=1",
    "feed_1&first=1",
    "\\..\\x",
    "\u2028feed",
    "ﬀ/",
    "",
    "   ",
]


def _resource_calls(client: whop_dm.AsyncClient, hostile: str) -> list[Callable[[], Any]]:
    return [
        lambda: client.dm_channels.retrieve(hostile),
        lambda: client.dm_channels.update(hostile, custom_name="n"),
        lambda: client.dm_channels.delete(hostile),
        lambda: client.dm_members.retrieve(hostile),
        lambda: client.dm_members.update(hostile, status="accepted"),
        lambda: client.dm_members.delete(hostile),
        lambda: client.messages.retrieve(hostile),
        lambda: client.messages.update(hostile, content="c"),
        lambda: client.messages.delete(hostile),
    ]


@pytest.mark.parametrize("hostile", HOSTILE_IDS, ids=repr)
async def test_an_id_is_refused_or_travels_as_exactly_one_path_segment(
    fake: FakeWhop, hostile: str
) -> None:
    async with client_for(fake.base_url) as client:
        calls = _resource_calls(client, hostile)
        outcomes: list[str] = []
        for call in calls:
            fake.clear_requests()
            try:
                await call()
            except (ValueError, TypeError):
                assert fake.requests == [], "refused, yet something was sent"
                outcomes.append("refused")
                continue
            except whop_dm.NotFoundError:
                pass
            (request,) = fake.requests
            prefix = "/api/v1/"
            assert request.raw_path.startswith(prefix), request.raw_path
            collection, _, segment = request.raw_path[len(prefix) :].partition("/")
            assert collection in ("dm_channels", "dm_members", "messages")
            assert "/" not in segment
            assert "?" not in segment
            assert "#" not in segment
            assert unquote(segment) == hostile
            assert request.query == {}
            assert "X-Injected" not in request.headers
            outcomes.append("escaped")
    assert len(set(outcomes)) == 1  # every method treats an id the same way


@pytest.mark.parametrize("hostile", HOSTILE_IDS, ids=repr)
async def test_a_query_id_is_refused_or_travels_as_exactly_one_value(
    fake: FakeWhop, hostile: str
) -> None:
    async with client_for(fake.base_url) as client:
        for make in (
            lambda: client.dm_members.list(channel_id=hostile),
            lambda: client.messages.list(channel_id=hostile),
            lambda: client.dm_channels.list(company_id=hostile),
        ):
            fake.clear_requests()
            try:
                pager = make()
            except (ValueError, TypeError):
                assert fake.requests == []
                continue
            with contextlib.suppress(whop_dm.NotFoundError, whop_dm.BadRequestError):
                await pager.first_page()
            (request,) = fake.requests
            assert request.path in ("/api/v1/dm_members", "/api/v1/messages", "/api/v1/dm_channels")
            assert set(request.query) == {"channel_id"} or set(request.query) == {"company_id"}
            assert next(iter(request.query.values())) == hostile
            assert "X-Injected" not in request.headers


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Trace": "a\r\nAuthorization: Bearer other"},
        {"X-Trace\r\nX-Evil": "1"},
        {"Authorization": "Bearer other"},
        {"idempotency-key": "k"},
        {"X-Trace": "a\x00b"},
    ],
)
def test_extra_headers_cannot_inject_or_override(headers: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="header"):
        whop_dm.AsyncClient(KEY, base_url="https://api.whop.com/api/v1", headers=headers)


@pytest.mark.parametrize("key", ["k\r\nX-Evil: 1", "k\nX", "k\x00", "a b"])
async def test_an_idempotency_key_cannot_inject_a_header(fake: FakeWhop, key: str) -> None:
    async with client_for(fake.base_url) as client:
        with pytest.raises(ValueError, match="idempotency_key"):
            await client.dm_members.create(
                channel_id="feed_1", user_id="user_a", idempotency_key=key
            )
    assert fake.requests == []
