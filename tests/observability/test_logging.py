"""Structured logs: every ``whop_dm`` record carries its fields, and never the key."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog
from pythonjsonlogger.json import JsonFormatter
from scripted import API_KEY, CHANNEL, MEMBER, ScriptedServer, json_answer

import whop_dm

FIELDS = ("operation", "status", "request_id", "attempt", "wait")
DOWN = {"error": {"type": "internal_server_error", "message": "An unexpected error occurred"}}
DENIED = {"error": {"type": "unauthorized", "message": f"Bad key {API_KEY}"}}


class Records(logging.Handler):
    """Keeps every record of the ``whop_dm`` logger, at every level."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def records() -> Iterator[list[logging.LogRecord]]:
    logger = logging.getLogger("whop_dm")
    handler = Records()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def answer(payload: object, status: int = 200, request_id: str = "req_1") -> object:
    return json_answer(payload, status, {"x-request-id": request_id})


async def _a_retried_call(scripted_server: ScriptedServer) -> None:
    scripted_server.answer(answer(DOWN, 503, "req_1"), answer(MEMBER, 200, "req_2"))
    async with scripted_server.client() as client:
        await client.dm_members.create(channel_id="feed_1", user_id="user_c")


async def test_every_record_carries_the_five_fields(
    scripted_server: ScriptedServer, records: list[logging.LogRecord]
) -> None:
    await _a_retried_call(scripted_server)
    assert records
    for record in records:
        assert all(name in record.__dict__ for name in FIELDS), record.getMessage()


async def test_the_retry_warning_says_what_is_retried_and_how_long_it_waits(
    scripted_server: ScriptedServer, records: list[logging.LogRecord]
) -> None:
    await _a_retried_call(scripted_server)
    (warning,) = [r for r in records if r.levelno == logging.WARNING]
    fields = {name: warning.__dict__[name] for name in FIELDS}
    assert fields["operation"] == "POST /dm_members"
    assert fields["status"] == 503
    assert fields["request_id"] == "req_1"
    assert fields["attempt"] == 1
    assert isinstance(fields["wait"], float)
    assert fields["wait"] > 0


async def test_each_attempt_is_logged_at_debug_with_its_outcome(
    scripted_server: ScriptedServer, records: list[logging.LogRecord]
) -> None:
    await _a_retried_call(scripted_server)
    attempts = [r for r in records if r.levelno == logging.DEBUG]
    assert [(r.__dict__["attempt"], r.__dict__["status"]) for r in attempts] == [
        (1, 503),
        (2, 200),
    ]
    assert [r.__dict__["request_id"] for r in attempts] == ["req_1", "req_2"]
    assert {r.__dict__["operation"] for r in attempts} == {"POST /dm_members"}


async def test_a_429_attempt_is_logged_at_debug_too(
    scripted_server: ScriptedServer, records: list[logging.LogRecord]
) -> None:
    limited = {"error": {"type": "rate_limit_exceeded", "message": "Too many requests."}}
    scripted_server.answer(
        json_answer(limited, 429, {"x-request-id": "req_1", "Retry-After": "0"}),
        answer(MEMBER, 200, "req_2"),
    )
    async with scripted_server.client() as client:
        await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    attempts = [r for r in records if r.levelno == logging.DEBUG and "->" in r.getMessage()]
    assert [(r.__dict__["attempt"], r.__dict__["status"]) for r in attempts] == [
        (1, 429),
        (2, 200),
    ]


async def test_a_record_logged_without_the_fields_still_has_them(
    records: list[logging.LogRecord],
) -> None:
    logging.getLogger("whop_dm").info("something happened")
    (record,) = records
    assert {name: record.__dict__[name] for name in FIELDS} == dict.fromkeys(FIELDS)


async def test_a_value_decoded_leniently_is_logged_with_its_operation(
    scripted_server: ScriptedServer, records: list[logging.LogRecord]
) -> None:
    scripted_server.answer(answer({**CHANNEL, "created_at": "not a time"}))
    async with scripted_server.client() as client:
        await client.dm_channels.retrieve("feed_1")
    (warning,) = [r for r in records if r.levelno == logging.WARNING]
    assert warning.__dict__["operation"] == "GET /dm_channels/{id}"


def test_records_of_the_webhooks_logger_carry_the_fields_too(
    records: list[logging.LogRecord],
) -> None:
    import whop_dm.webhooks  # noqa: F401 - its modules name the logger

    logging.getLogger("whop_dm.webhooks").warning("a delivery was rejected")
    (record,) = records
    assert {name: record.__dict__[name] for name in FIELDS} == dict.fromkeys(FIELDS)


async def test_the_key_is_in_no_record(
    scripted_server: ScriptedServer, records: list[logging.LogRecord]
) -> None:
    scripted_server.answer(
        answer(DOWN, 503), answer(DENIED, 401, "req_2"), answer(MEMBER, 200, "req_3")
    )

    def broken(event: object) -> None:
        raise RuntimeError(f"hook saw {event!r}")

    async with scripted_server.client(on_request=broken, on_response=broken) as client:
        with pytest.raises(whop_dm.AuthenticationError):
            await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    assert len(records) >= 4
    formatter = logging.Formatter()
    for record in records:
        text = formatter.format(record) + repr(vars(record))
        assert API_KEY not in text


async def test_python_json_logger_shows_the_fields_without_parsing(
    scripted_server: ScriptedServer,
) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("whop_dm")
    logger.addHandler(handler)
    try:
        await _a_retried_call(scripted_server)
    finally:
        logger.removeHandler(handler)
    (line,) = stream.getvalue().splitlines()  # the retry warning; debug is off
    logged = json.loads(line)
    assert logged["operation"] == "POST /dm_members"
    assert logged["status"] == 503
    assert logged["request_id"] == "req_1"
    assert logged["attempt"] == 1
    assert logged["wait"] > 0


async def test_structlog_shows_the_fields_through_its_extra_adder(
    scripted_server: ScriptedServer,
) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.ExtraAdder()],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    logger = logging.getLogger("whop_dm")
    logger.addHandler(handler)
    try:
        await _a_retried_call(scripted_server)
    finally:
        logger.removeHandler(handler)
    (line,) = stream.getvalue().splitlines()
    logged = json.loads(line)
    assert (logged["operation"], logged["status"], logged["attempt"]) == (
        "POST /dm_members",
        503,
        1,
    )
    assert logged["request_id"] == "req_1"
    assert logged["wait"] > 0
