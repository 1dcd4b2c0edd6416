"""Every non-2xx answer becomes the right error class with the right fields."""

from __future__ import annotations

import pytest
from scripted import ScriptedServer, json_answer, raw_answer

import whop_dm
from whop_dm._errors import error_from_response

SPEC_STATUSES = [
    (400, whop_dm.BadRequestError),
    (401, whop_dm.AuthenticationError),
    (403, whop_dm.PermissionDeniedError),
    (404, whop_dm.NotFoundError),
    (409, whop_dm.ConflictError),
    (422, whop_dm.VerificationRequiredError),
    (429, whop_dm.RateLimitError),
    (500, whop_dm.InternalServerError),
    (502, whop_dm.InternalServerError),
    (503, whop_dm.InternalServerError),
]


@pytest.mark.parametrize(("status", "cls"), SPEC_STATUSES)
async def test_each_status_maps_to_its_class_with_the_envelope_fields(
    scripted_server: ScriptedServer, status: int, cls: type[whop_dm.APIError]
) -> None:
    envelope = {
        "error": {
            "type": "invalid_request_error",
            "code": "parameter_missing",
            "message": "Missing required parameter: user_id.",
            "param": "user_id",
        }
    }
    scripted_server.answer(json_answer(envelope, status, headers={"x-request-id": "req_42"}))
    async with scripted_server.client(retry=whop_dm.RetryPolicy.disabled()) as client:
        with pytest.raises(cls) as caught:
            await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    error = caught.value
    assert type(error) is cls
    assert isinstance(error, whop_dm.APIError)
    assert isinstance(error, whop_dm.WhopError)
    assert error.status_code == status
    assert error.type == "invalid_request_error"
    assert error.code == "parameter_missing"
    assert error.param == "user_id"
    assert error.message == "Missing required parameter: user_id."
    assert error.request_id == "req_42"
    assert error.headers["X-Request-Id"] == "req_42"
    assert error.body == envelope


def test_an_envelope_without_code_and_param_leaves_them_none() -> None:
    raw = b'{"error": {"type": "unauthorized", "message": "Invalid or missing API key"}}'
    error = error_from_response(401, {}, raw)
    assert isinstance(error, whop_dm.AuthenticationError)
    assert (error.type, error.code, error.param) == ("unauthorized", None, None)
    assert error.message == "Invalid or missing API key"
    assert error.request_id is None


def test_the_specs_422_example_with_a_null_error_still_gives_its_class() -> None:
    error = error_from_response(422, {}, b'{"error": null}')
    assert isinstance(error, whop_dm.VerificationRequiredError)
    assert error.type is None
    assert "Unprocessable" in error.message
    assert error.body == {"error": None}


async def test_an_html_502_from_a_proxy_is_an_internal_server_error(
    scripted_server: ScriptedServer,
) -> None:
    page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
    scripted_server.answer(raw_answer(page, 502, content_type="text/html"))
    async with scripted_server.client(retry=whop_dm.RetryPolicy.disabled()) as client:
        with pytest.raises(whop_dm.InternalServerError) as caught:
            await client.dm_members.create(channel_id="feed_1", user_id="user_c")
    assert caught.value.status_code == 502
    assert "Bad Gateway" in caught.value.message
    assert isinstance(caught.value.body, str)


@pytest.mark.parametrize(
    "raw",
    [b"", b"not json", b"[1, 2]", b'{"error": "flat string"}', b"\xff\xfe", b'{"error": 5}'],
)
def test_odd_error_bodies_never_raise_a_second_exception(raw: bytes) -> None:
    error = error_from_response(400, {}, raw)
    assert isinstance(error, whop_dm.BadRequestError)
    assert error.message
    assert str(error).startswith("400")


def test_statuses_outside_the_table_are_plain_api_errors() -> None:
    error = error_from_response(418, {}, b"{}")
    assert type(error) is whop_dm.APIError
    assert error.status_code == 418


def test_str_is_one_readable_line_with_the_useful_fields() -> None:
    raw = b'{"error": {"type": "invalid_request_error", "code": "parameter_invalid", "message": "Bad id.", "param": "user_id"}}'  # noqa: E501
    text = str(error_from_response(400, {"x-request-id": "req_7"}, raw))
    assert "\n" not in text
    assert text == (
        "400 invalid_request_error: Bad id. (code=parameter_invalid, param=user_id, "
        "request_id=req_7)"
    )


async def test_a_200_whose_body_is_not_json_is_a_response_decode_error(
    scripted_server: ScriptedServer,
) -> None:
    scripted_server.answer(raw_answer(b'{"id": "feed_'))
    async with scripted_server.client() as client:
        with pytest.raises(whop_dm.ResponseDecodeError) as caught:
            await client.dm_channels.create(with_user_ids=["user_b"])
    assert caught.value.status_code == 200
    assert caught.value.body == '{"id": "feed_'
    # A malformed success is not retried: the operation may well have happened.
    assert len(scripted_server.seen) == 1


async def test_a_200_with_json_of_the_wrong_shape_is_a_response_decode_error_when_strict(
    scripted_server: ScriptedServer,
) -> None:
    scripted_server.answer(json_answer({"id": 5, "created_at": []}))
    async with scripted_server.client(strict=True) as client:
        with pytest.raises(whop_dm.ResponseDecodeError, match="DmChannel"):
            await client.dm_channels.create(with_user_ids=["user_b"])


async def test_a_200_that_is_no_json_object_is_a_response_decode_error_even_when_lenient(
    scripted_server: ScriptedServer,
) -> None:
    scripted_server.answer(json_answer(["feed_1"]))
    async with scripted_server.client() as client:
        with pytest.raises(whop_dm.ResponseDecodeError, match="DmChannel"):
            await client.dm_channels.create(with_user_ids=["user_b"])


def test_rate_limit_retry_after_comes_from_whops_message_when_no_header() -> None:
    raw = b'{"error": {"type": "rate_limit_exceeded", "message": "Try again in 12 seconds."}}'
    error = error_from_response(429, {}, raw)
    assert isinstance(error, whop_dm.RateLimitError)
    assert error.retry_after == 12.0


def test_rate_limit_header_wins_over_the_message() -> None:
    raw = b'{"error": {"type": "rate_limit_exceeded", "message": "Try again in 12 seconds."}}'
    error = error_from_response(429, {"Retry-After": "3"}, raw)
    assert error.retry_after == 3.0
    error = error_from_response(429, {"retry-after-ms": "250", "Retry-After": "3"}, raw)
    assert error.retry_after == 0.25
