"""``whop-dm listen`` and ``whop-dm serve-fake --webhook``, run as a user runs them."""

from __future__ import annotations

import contextlib
import json
import queue
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import IO

from cli.conftest import command_env, run_whop_dm, serving

from whop_dm.testing import sign_webhook

SECRET = "ws_cli_test_secret_5b7d"
TIMEOUT = 30.0


def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line.rstrip("\n"))
    lines.put(None)


class Listening:
    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.out: queue.Queue[str | None] = queue.Queue()
        self.err: queue.Queue[str | None] = queue.Queue()
        assert process.stdout is not None
        assert process.stderr is not None
        self.pumps = [
            threading.Thread(target=_pump, args=(stream, target), daemon=True)
            for stream, target in ((process.stdout, self.out), (process.stderr, self.err))
        ]
        for pump in self.pumps:
            pump.start()
        self.url = ""
        for _ in range(50):
            line = self.err.get(timeout=TIMEOUT)
            assert line is not None, "listen exited before listening"
            if "listening on " in line:
                self.url = line.split("listening on ", 1)[1].strip()
                break
        assert self.url

    def event(self) -> dict[str, object]:
        line = self.out.get(timeout=TIMEOUT)
        assert line is not None
        parsed = json.loads(line)
        assert isinstance(parsed, dict)
        return parsed

    def stderr_lines(self) -> list[str]:
        found = []
        with contextlib.suppress(queue.Empty):
            while True:
                line = self.err.get_nowait()
                if line is not None:
                    found.append(line)
        return found


@contextlib.contextmanager
def listening(*args: str, **env: str) -> Iterator[Listening]:
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "whop_dm", "listen", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=command_env(**env),
    )
    pumps: list[threading.Thread] = []
    try:
        listen = Listening(process)
        pumps = listen.pumps
        yield listen
    finally:
        process.terminate()
        process.wait(timeout=TIMEOUT)
        for pump in pumps:
            pump.join(timeout=TIMEOUT)
        assert process.stdout is not None
        assert process.stderr is not None
        process.stdout.close()
        process.stderr.close()


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_listen_prints_a_verified_event_as_one_json_line() -> None:
    body = json.dumps({"id": "evt_1", "type": "chat.message.created", "data": {"x": 1}}).encode()
    with listening(WHOP_WEBHOOK_SECRET=SECRET) as listen:
        assert post(listen.url, body, sign_webhook(body, SECRET, webhook_id="evt_1")) == 200
        event = listen.event()
        assert event["webhook_id"] == "evt_1"
        assert event["type"] == "chat.message.created"
        assert event["data"] == {"x": 1}
    assert listen.process.returncode == 0


def test_listen_refuses_a_bad_signature_and_prints_nothing_on_stdout() -> None:
    body = b'{"id": "evt_2", "type": "x", "data": {}}'
    good = b'{"id": "evt_3", "type": "y", "data": {}}'
    with listening(WHOP_WEBHOOK_SECRET=SECRET) as listen:
        assert post(listen.url, body, sign_webhook(body, "ws_wrong", webhook_id="evt_2")) == 401
        assert post(listen.url, good, sign_webhook(good, SECRET, webhook_id="evt_3")) == 200
        # The next line on stdout is the good event: the refused one printed nothing there.
        assert listen.event()["webhook_id"] == "evt_3"
        time.sleep(0.1)
        errors = "\n".join(listen.stderr_lines())
        assert "bad_signature" in errors
        assert SECRET not in errors


def test_listen_without_a_secret_is_a_usage_error() -> None:
    run = run_whop_dm("listen", "--port", "0", env=command_env())
    assert run.code == 2
    assert "WHOP_WEBHOOK_SECRET" in run.stderr


def test_serve_fake_delivers_messages_to_a_listener() -> None:
    with (
        listening(WHOP_WEBHOOK_SECRET=SECRET) as listen,
        serving(
            "-m", "whop_dm", "serve-fake", "--port", "0", "--webhook", listen.url,
            "--webhook-secret", SECRET,
        ) as served,
    ):  # fmt: skip
        assert "webhook_secret" not in served.lines  # a given secret is never printed
        env = command_env(WHOP_BASE_URL=served.base_url, WHOP_API_KEY=served.api_key)
        created = run_whop_dm("channels", "create", "--with", "alice", "--json", env=env)
        assert created.code == 0, created.output
        channel_id = json.loads(created.stdout)["id"]
        sent = run_whop_dm("messages", "send", "--channel", channel_id, "hi alice", env=env)
        assert sent.code == 0, sent.output
        event = listen.event()
        assert event["type"] == "chat.message.created"
        data = event["data"]
        assert isinstance(data, dict)
        assert data["channel"]["id"] == channel_id
        assert data["message"]["content"] == "hi alice"


def test_serve_fake_prints_the_secret_it_made() -> None:
    with serving(
        "-m", "whop_dm.testing", "--port", "0", "--webhook", "http://127.0.0.1:9/hook"
    ) as served:
        assert served.lines["webhook_secret"].startswith("ws_")
