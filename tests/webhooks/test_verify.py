"""``whop_dm.webhooks.verify``: what passes, and every way a delivery is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from multidict import CIMultiDict

import whop_dm
from whop_dm import webhooks
from whop_dm.webhooks import ChatMessageCreated, WebhookVerificationError

from ._payloads import MESSAGE_CREATED, OTHER_SECRET, SECRET, body_of, payload, sign

BODY = body_of(MESSAGE_CREATED)


def refused(body: bytes, headers: dict[str, str], secret: object = SECRET, **kw: float) -> str:
    """The reason of the WebhookVerificationError, which must be raised."""
    with pytest.raises(WebhookVerificationError) as caught:
        webhooks.verify(body, headers, secret, **kw)  # type: ignore[arg-type]
    # Exactly ours: not a ValueError, KeyError or binascii.Error escaping.
    assert type(caught.value) is WebhookVerificationError
    assert not isinstance(caught.value, (ValueError, KeyError))
    assert SECRET not in str(caught.value)
    return caught.value.reason


def test_the_error_is_exported_from_whop_dm_and_is_a_whop_error() -> None:
    assert whop_dm.WebhookVerificationError is WebhookVerificationError
    assert issubclass(WebhookVerificationError, whop_dm.WhopError)


def test_an_event_signed_by_standardwebhooks_with_the_ws_secret_verifies() -> None:
    event = webhooks.verify(BODY, sign(BODY), SECRET)
    assert isinstance(event, ChatMessageCreated)
    assert event.webhook_id == "msg_9Yb2QwE4tT0pLs8mNc1Rz7Ua"
    assert event.message.content == "Hi, is my order shipped?"


def test_the_key_is_the_whole_secret_prefix_included() -> None:
    stripped = SECRET.removeprefix("ws_")
    assert refused(BODY, sign(BODY, stripped)) == "bad_signature"
    # And a secret passed without its prefix does not verify Whop's signature.
    assert refused(BODY, sign(BODY), stripped) == "bad_signature"


def test_a_signature_made_with_hmac_over_id_timestamp_and_body_verifies() -> None:
    stamp = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"wid_1.{stamp}.".encode() + BODY, hashlib.sha256)
    headers = {
        "webhook-id": "wid_1",
        "webhook-timestamp": stamp,
        "webhook-signature": "v1," + base64.b64encode(digest.digest()).decode(),
    }
    assert webhooks.verify(BODY, headers, SECRET).webhook_id == "wid_1"


def test_any_of_several_secrets_verifies_during_a_rotation() -> None:
    headers = sign(BODY, OTHER_SECRET)
    assert webhooks.verify(BODY, headers, [SECRET, OTHER_SECRET]).type == "chat.message.created"
    assert refused(BODY, headers, [SECRET]) == "bad_signature"


def test_any_of_several_signatures_in_the_header_verifies() -> None:
    headers = sign(BODY)
    good = headers["webhook-signature"]
    wrong = sign(BODY, OTHER_SECRET)["webhook-signature"]
    headers["webhook-signature"] = f"{wrong} v1a,c29tZXRoaW5n {good}"
    assert webhooks.verify(BODY, headers, SECRET).id == MESSAGE_CREATED["id"]


def test_a_malformed_entry_does_not_hide_a_valid_one_beside_it() -> None:
    headers = sign(BODY)
    headers["webhook-signature"] = "garbage v1 v1,A v1,a,b " + headers["webhook-signature"]
    assert webhooks.verify(BODY, headers, SECRET).id == MESSAGE_CREATED["id"]


def test_header_names_match_in_any_case_and_in_a_multidict() -> None:
    headers = {name.upper(): value for name, value in sign(BODY).items()}
    assert webhooks.verify(BODY, headers, SECRET).webhook_id
    assert webhooks.verify(BODY, CIMultiDict(sign(BODY)), SECRET).webhook_id


def test_the_body_may_be_given_as_text() -> None:
    assert webhooks.verify(BODY.decode(), sign(BODY), SECRET).webhook_id


def test_a_tampered_body_is_refused() -> None:
    tampered = BODY.replace(b"shipped", b"shopped")
    assert refused(tampered, sign(BODY)) == "bad_signature"


def test_the_wrong_secret_is_refused() -> None:
    assert refused(BODY, sign(BODY), OTHER_SECRET) == "bad_signature"


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_header_is_refused(missing: str) -> None:
    headers = sign(BODY)
    del headers[missing]
    assert refused(BODY, headers) == "missing_header"


def test_an_empty_header_is_refused() -> None:
    headers = {**sign(BODY), "webhook-signature": "  "}
    assert refused(BODY, headers) == "missing_header"


@pytest.mark.parametrize(
    "signature",
    ["v1", "garbage", "v1,a,b", "v1,A", "v1,!!!!", "v2,c2lnbmF0dXJl", "v1," + "A" * 9000],
)
def test_a_malformed_signature_is_refused(signature: str) -> None:
    headers = {**sign(BODY), "webhook-signature": signature}
    assert refused(BODY, headers) == "malformed_header"


@pytest.mark.parametrize("stamp", ["1.5", "-1", "abc", "1e9", "+1700000000", "0x10"])
def test_a_timestamp_that_is_not_whole_seconds_is_refused(stamp: str) -> None:
    headers = {**sign(BODY), "webhook-timestamp": stamp}
    assert refused(BODY, headers) == "malformed_header"


def test_a_repeated_header_is_refused() -> None:
    headers = CIMultiDict(sign(BODY))
    headers.add("Webhook-Id", "another")
    assert refused(BODY, headers) == "malformed_header"  # type: ignore[arg-type]


def test_a_stale_timestamp_is_refused() -> None:
    headers = sign(BODY, timestamp=time.time() - 301)
    assert refused(BODY, headers) == "stale_timestamp"


def test_a_future_timestamp_is_refused() -> None:
    headers = sign(BODY, timestamp=time.time() + 301)
    assert refused(BODY, headers) == "future_timestamp"


def test_the_tolerance_is_honoured_both_ways() -> None:
    old = sign(BODY, timestamp=time.time() - 120)
    ahead = sign(BODY, timestamp=time.time() + 120)
    assert refused(BODY, old, tolerance=60) == "stale_timestamp"
    assert refused(BODY, ahead, tolerance=60) == "future_timestamp"
    assert webhooks.verify(BODY, old, SECRET, tolerance=600).webhook_id
    assert webhooks.verify(BODY, ahead, SECRET, tolerance=600).webhook_id
    hours_old = sign(BODY, timestamp=time.time() - 3 * 3600)
    assert webhooks.verify(BODY, hours_old, SECRET, tolerance=4 * 3600).webhook_id


def test_a_replay_with_a_new_timestamp_but_the_old_signature_is_refused() -> None:
    original = sign(BODY, timestamp=time.time() - 3600)
    replay = {**original, "webhook-timestamp": str(int(time.time()))}
    assert refused(BODY, replay) == "bad_signature"


def test_a_ten_megabyte_body_with_a_forged_signature_is_refused() -> None:
    big = b'{"pad": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    assert refused(big, sign(BODY)) == "bad_signature"


@pytest.mark.parametrize(
    "body", [b"not json", b"[1, 2]", b'"text"', b"\xff\xfe\x00garbage", b"[" * 100_000]
)
def test_a_correctly_signed_body_that_is_not_a_json_object_is_a_bad_body(body: bytes) -> None:
    stamp = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"wid_2.{stamp}.".encode() + body, hashlib.sha256)
    headers = {
        "webhook-id": "wid_2",
        "webhook-timestamp": stamp,
        "webhook-signature": "v1," + base64.b64encode(digest.digest()).decode(),
    }
    with pytest.raises(WebhookVerificationError) as caught:
        webhooks.verify(body, headers, SECRET)
    assert caught.value.reason == "bad_body"
    assert caught.value.is_bad_body


def test_headers_that_are_not_a_mapping_are_refused() -> None:
    assert refused(BODY, [("webhook-id", "x")]) == "missing_header"  # type: ignore[arg-type]


@pytest.mark.parametrize("secret", ["", "   ", [], [SECRET, ""]])
def test_an_empty_secret_is_a_mistake_of_the_caller(secret: object) -> None:
    with pytest.raises(ValueError, match="secret"):
        webhooks.verify(BODY, sign(BODY), secret)  # type: ignore[arg-type]


def test_a_secret_of_the_wrong_type_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        webhooks.verify(BODY, sign(BODY), 42)  # type: ignore[arg-type]


@pytest.mark.parametrize("tolerance", [-1, float("inf"), float("nan")])
def test_an_unusable_tolerance_is_a_value_error(tolerance: float) -> None:
    with pytest.raises(ValueError, match="tolerance"):
        webhooks.verify(BODY, sign(BODY), SECRET, tolerance=tolerance)


@given(
    st.dictionaries(
        st.sampled_from(["webhook-id", "webhook-timestamp", "webhook-signature", "other"]),
        st.text(max_size=80),
    ),
    st.binary(max_size=200),
)
def test_any_garbage_is_refused_with_the_one_error(headers: dict[str, str], body: bytes) -> None:
    with pytest.raises(WebhookVerificationError):
        webhooks.verify(body, headers, SECRET)


def test_the_receiver_and_verify_agree_on_the_body_they_sign() -> None:
    # A body re-serialized after parsing no longer verifies: the raw bytes are signed.
    headers = sign(BODY)
    reserialized = json.dumps(json.loads(BODY), separators=(",", ":")).encode()
    assert reserialized != BODY
    assert refused(reserialized, headers) == "bad_signature"
    assert payload()["id"] == MESSAGE_CREATED["id"]
