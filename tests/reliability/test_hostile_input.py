"""Property-based tests (hypothesis): hostile answers and hostile arguments.

- Any JSON the server could send decodes into the promised record or raises
  ``ResponseDecodeError``, never another exception: through
  ``whop_dm._converter.decode`` for every record type, and end to end through
  the transport for a sample of bodies (JSON or not) answered by a loopback
  server, for successes and errors alike.
- Any argument a caller could pass to the create methods either raises
  ``ValueError``/``TypeError`` with nothing sent, or sends a body that the
  spec's request schema accepts.

Example counts are moderate; ``EXAMPLES`` below is the tally for the report.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import typing
from collections.abc import Callable
from typing import Any

import attrs
import jsonschema
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from scripted import ScriptedServer, raw_answer

import whop_dm
from whop_dm._converter import decode
from whop_dm._pagination import Page, PageInfo

DECODE_EXAMPLES = 300
WIRE_EXAMPLES = 150
ARGUMENT_EXAMPLES = 200

fixture_settings = settings(
    max_examples=WIRE_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# -- what a server could send -------------------------------------------------------------

any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | any_text
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=12,
)
timestamps = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**16), max_value=10**16).map(str),
    st.from_regex(r"\A\d{1,30}(\.\d{1,12})?\Z"),
    st.datetimes(timezones=st.none() | st.timezones()).map(lambda d: d.isoformat()),
    st.from_regex(r"\A\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?[Zz]?\Z"),
    any_text,
)


def _plausible(tp: Any, depth: int) -> st.SearchStrategy[Any]:
    """Values shaped like ``tp``, often right, sometimes subtly wrong."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return st.one_of([_plausible(a, depth) for a in args])
    if tp is type(None):
        return st.none()
    if origin in (list, tuple):
        return st.lists(_plausible(args[0], depth + 1), max_size=3)
    if tp is str:
        return any_text
    if tp is bool:
        return st.booleans()
    if tp is int:
        return st.integers() | st.floats() | st.text(max_size=5)
    if tp is dt.datetime:
        return timestamps
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return st.sampled_from([m.value for m in tp]) | any_text
    if attrs.has(tp) and depth < 3:
        return record_dicts(tp, depth + 1)
    return json_values


def _valid(tp: Any) -> st.SearchStrategy[Any]:
    """Values the API could rightly send for ``tp``."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return st.one_of([_valid(a) for a in args])
    if tp is type(None):
        return st.none()
    if origin in (list, tuple):
        return st.lists(_valid(args[0]), max_size=3)
    if origin is Page:
        return st.fixed_dictionaries(
            {"data": st.lists(_valid(args[0]), max_size=3), "page_info": _valid(PageInfo)}
        )
    if tp is str:
        return any_text
    if tp is bool:
        return st.booleans()
    if tp is int:
        return st.integers(min_value=0, max_value=10**9)
    if tp is dt.datetime:
        moments = st.datetimes(min_value=dt.datetime(1971, 1, 1), max_value=dt.datetime(2200, 1, 1))
        return moments.map(lambda d: d.isoformat() + "Z") | moments.map(
            lambda d: str(int(d.replace(tzinfo=dt.timezone.utc).timestamp() * 1000))
        )
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return st.sampled_from([m.value for m in tp]) | any_text
    assert attrs.has(tp), tp
    hints = typing.get_type_hints(tp)
    return st.fixed_dictionaries({f.name: _valid(hints[f.name]) for f in wire_fields(tp)})


def wire_fields(cls: type) -> list[attrs.Attribute[Any]]:
    """The fields an answer fills: all but ``raw``, which the lenient decoder sets."""
    return [f for f in attrs.fields(cls) if f.name != "raw"]


def half(good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``good`` half the time, ``bad`` otherwise (``|`` would weigh by branch count)."""
    return st.booleans().flatmap(lambda pick: good if pick else bad)


def record_dicts(cls: type, depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    """Dicts with ``cls``'s fields (some missing, some of the wrong type) and extra keys."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: hints[f.name] for f in wire_fields(cls)}
    required = {
        name: _plausible(tp, depth) | json_values if depth == 0 else _plausible(tp, depth)
        for name, tp in fields.items()
    }
    base = st.fixed_dictionaries({}, optional=required)
    full = st.fixed_dictionaries({name: _plausible(tp, depth) for name, tp in fields.items()})
    extras = st.dictionaries(any_text, json_values, max_size=2)
    return st.builds(lambda a, b: {**b, **a}, st.one_of(full, base), extras)


def page_dicts(item: type) -> st.SearchStrategy[dict[str, Any]]:
    info = st.fixed_dictionaries(
        {
            "end_cursor": st.none() | any_text,
            "start_cursor": st.none() | any_text,
            "has_next_page": st.booleans() | json_scalars,
            "has_previous_page": st.booleans(),
        }
    )
    return st.fixed_dictionaries(
        {"data": st.lists(record_dicts(item) | json_values, max_size=3), "page_info": info}
    ) | st.dictionaries(st.sampled_from(["data", "page_info"]), json_values)


TARGETS: dict[str, type] = {
    "DmChannel": whop_dm.DmChannel,
    "DmMember": whop_dm.DmMember,
    "Message": whop_dm.Message,
    "bool": bool,
    "Page[DmChannel]": Page[whop_dm.DmChannel],  # type: ignore[dict-item]
    "Page[DmMember]": Page[whop_dm.DmMember],  # type: ignore[dict-item]
    "Page[Message]": Page[whop_dm.Message],  # type: ignore[dict-item]
}


def bodies_for(name: str) -> st.SearchStrategy[Any]:
    if name == "bool":
        return json_values
    if name.startswith("Page["):
        item = TARGETS[name[5:-1]]
        return half(_valid(TARGETS[name]), page_dicts(item) | json_values)
    return half(_valid(TARGETS[name]), record_dicts(TARGETS[name]) | json_values)


def assert_well_formed(value: Any) -> None:
    """Whatever decoded holds the types its annotations promise."""
    if isinstance(value, dt.datetime):
        assert value.tzinfo is not None
    elif attrs.has(type(value)):
        for field in attrs.fields(type(value)):
            assert_well_formed(getattr(value, field.name))
    elif isinstance(value, (list, tuple)):
        for item in value:
            assert_well_formed(item)


@pytest.mark.parametrize("target", list(TARGETS))
@settings(max_examples=DECODE_EXAMPLES // len(TARGETS) + 1, deadline=None)
@given(data=st.data())
def test_any_json_decodes_into_the_record_or_raises_response_decode_error(
    target: str, data: st.DataObject
) -> None:
    body = data.draw(bodies_for(target))
    cls = TARGETS[target]
    failure: whop_dm.ResponseDecodeError | None = None
    try:
        record = decode(body, cls, "GET /x")
    except whop_dm.ResponseDecodeError as error:
        failure = error
    event("ResponseDecodeError" if failure else "decoded")
    if failure is not None:
        assert failure.status_code == 200
        assert "GET /x" in str(failure)
        return
    origin = typing.get_origin(cls) or cls
    assert isinstance(record, origin)
    assert_well_formed(record)


# -- the same through the wire ----------------------------------------------------------------

nested_too_deep = st.integers(min_value=2_000, max_value=200_000).map(lambda n: b"[" * n + b"]" * n)
wire_bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    record_dicts(whop_dm.DmMember).map(lambda v: json.dumps(v).encode()),
    _valid(whop_dm.DmMember).map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=64),
    nested_too_deep,
    nested_too_deep.map(lambda b: b'{"error": ' + b + b"}"),
)


@fixture_settings
@given(body=wire_bodies)
async def test_any_success_body_on_the_wire_gives_a_record_or_response_decode_error(
    scripted_server: ScriptedServer, body: bytes
) -> None:
    scripted_server.seen.clear()
    scripted_server.answer(raw_answer(body, 200))
    async with scripted_server.client() as client:
        try:
            member = await client.dm_members.create(channel_id="feed_1", user_id="user_c")
        except whop_dm.ResponseDecodeError:
            pass
        else:
            assert isinstance(member, whop_dm.DmMember)
    assert len(scripted_server.seen) == 1  # a bad body is not retried


@fixture_settings
@given(body=wire_bodies, status=st.sampled_from([400, 401, 403, 404, 409, 422, 429, 500, 502]))
async def test_any_error_body_on_the_wire_gives_the_typed_api_error(
    scripted_server: ScriptedServer, body: bytes, status: int
) -> None:
    scripted_server.seen.clear()
    scripted_server.answer(raw_answer(body, status))
    async with scripted_server.client(retry=whop_dm.RetryPolicy.disabled()) as client:
        with pytest.raises(whop_dm.APIError) as caught:
            await client.dm_channels.retrieve("feed_1")
    assert caught.value.status_code == status
    assert isinstance(str(caught.value), str)
    assert isinstance(repr(caught.value), str)


# -- what a caller could pass ---------------------------------------------------------------

ID = {"type": "string"}
NULLABLE_TEXT = {"type": ["string", "null"]}
CREATE_CHANNEL = {
    "type": "object",
    "required": ["with_user_ids"],
    "additionalProperties": False,
    "properties": {
        "with_user_ids": {"type": "array", "items": ID, "minItems": 1},
        "company_id": NULLABLE_TEXT,
        "custom_name": NULLABLE_TEXT,
    },
}
CREATE_MEMBER = {
    "type": "object",
    "required": ["channel_id", "user_id"],
    "additionalProperties": False,
    "properties": {"channel_id": ID, "user_id": ID},
}
CREATE_MESSAGE = {
    "type": "object",
    "required": ["channel_id", "content"],
    "additionalProperties": False,
    "properties": {"channel_id": ID, "content": ID, "replying_to_message_id": NULLABLE_TEXT},
}

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | any_text
    | st.binary(max_size=8)
    | st.sampled_from(["user_a", "", " ", "\t", "a\r\nb", "x\x00", "\ud800", "a/b", "\u2028"])
)
good_ids = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), min_size=1, max_size=20
).filter(str.strip)
scalars = half(good_ids, scalars)
id_lists = st.one_of(
    st.lists(good_ids, min_size=1, max_size=4),
    st.lists(good_ids, min_size=1, max_size=4),
    st.lists(good_ids, min_size=1, max_size=4),
    st.lists(scalars, max_size=4),
    st.lists(any_text, max_size=4).map(tuple),
    st.sets(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), scalars, max_size=3),
    st.lists(any_text, max_size=3).map(iter),
    scalars,
)
keys = st.none() | st.text(max_size=8) | st.from_regex(r"\A[\x21-\x7e]{1,300}\Z") | scalars


def _validate(schema: dict[str, Any], body: Any) -> None:
    jsonschema.validate(body, schema, cls=jsonschema.Draft202012Validator)


async def _try_call(
    server: ScriptedServer,
    call: Callable[[whop_dm.AsyncClient], Any],
    schema: dict[str, Any],
    answer: dict[str, Any],
) -> None:
    server.seen.clear()
    server.answer(raw_answer(json.dumps(answer).encode()))
    async with server.client() as client:
        refused = False
        try:
            await call(client)
        except (ValueError, TypeError):
            refused = True
    event("refused" if refused else "sent")
    if refused:
        assert server.seen == [], "refused, yet something was sent"
        return
    assert len(server.seen) == 1
    seen = server.seen[0]
    assert seen.headers["Content-Type"] == "application/json"
    key = seen.headers.get("Idempotency-Key", "")
    assert 1 <= len(key) <= 255
    _validate(schema, json.loads(seen.body.decode("utf-8")))


CHANNEL = {"id": "feed_1", "created_at": "1", "name": None, "last_message_at": None}
MEMBER = {
    "id": "dmm_1",
    "user_id": "u",
    "channel_id": "feed_1",
    "status": "accepted",
    "last_viewed_at": None,
}
MESSAGE = {
    "id": "msg_1",
    "content": "hi",
    "created_at": "1",
    "updated_at": "1",
    "is_edited": False,
    "is_pinned": False,
    "message_type": "regular",
    "replying_to_message_id": None,
    "user": {"id": "user_owner", "username": "owner"},
}

argument_settings = settings(
    max_examples=ARGUMENT_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@argument_settings
@given(with_user_ids=id_lists, company_id=scalars, custom_name=scalars, key=keys)
async def test_any_channel_create_arguments_are_refused_or_send_a_valid_body(
    scripted_server: ScriptedServer, with_user_ids: Any, company_id: Any, custom_name: Any, key: Any
) -> None:
    await _try_call(
        scripted_server,
        lambda c: c.dm_channels.create(
            with_user_ids=with_user_ids,
            company_id=company_id,
            custom_name=custom_name,
            idempotency_key=key,
        ),
        CREATE_CHANNEL,
        CHANNEL,
    )


@argument_settings
@given(channel_id=scalars, user_id=scalars, key=keys)
async def test_any_member_create_arguments_are_refused_or_send_a_valid_body(
    scripted_server: ScriptedServer, channel_id: Any, user_id: Any, key: Any
) -> None:
    await _try_call(
        scripted_server,
        lambda c: c.dm_members.create(channel_id=channel_id, user_id=user_id, idempotency_key=key),
        CREATE_MEMBER,
        MEMBER,
    )


@argument_settings
@given(channel_id=scalars, content=scalars, reply=scalars)
async def test_any_message_create_arguments_are_refused_or_send_a_valid_body(
    scripted_server: ScriptedServer, channel_id: Any, content: Any, reply: Any
) -> None:
    await _try_call(
        scripted_server,
        lambda c: c.messages.create(
            channel_id=channel_id, content=content, replying_to_message_id=reply
        ),
        CREATE_MESSAGE,
        MESSAGE,
    )
