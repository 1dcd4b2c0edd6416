"""Checking a delivery's Standard Webhooks signature with Whop's ``ws_`` secret.

Why the standard library's ``hmac`` and not the ``standardwebhooks`` package:
the check is a dozen lines, and the package would have to be wrapped at every
step. It wants a base64 key, while Whop's HMAC key is the secret's literal
bytes (``ws_`` prefix included), so the secret would have to be encoded only
for the package to decode it again. It raises a bare ``ValueError`` or
``binascii.Error`` on a malformed header, and one malformed entry rejects a
header whose other entry is valid. Its 5-minute tolerance is fixed, while
``tolerance=`` here is the caller's. With ``hmac`` there is no extra runtime
dependency and every failure is ours to name. The tests sign events with
``standardwebhooks`` and check them here, so the two cannot drift apart.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

from .._errors import WebhookVerificationError

__all__ = [
    "ID_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "check_secrets",
    "check_tolerance",
    "verified_payload",
]

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
_WANTED = (ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER)

# Unix seconds as digits only: no sign, no fraction, no exponent, no spaces.
_TIMESTAMP = re.compile(r"[0-9]{1,15}")
# Generous bounds on what an attacker may make us parse; Whop's ids are ~30
# characters and one signature entry is 47.
_MAX_ID_LENGTH = 256
_MAX_SIGNATURE_HEADER = 8192


def check_secrets(secret: object) -> tuple[bytes, ...]:
    """The HMAC keys of one secret or a sequence of them (for rotation).

    Whop signs with the literal UTF-8 bytes of the whole ``ws_...`` string, so
    that is the key: the prefix is kept and nothing is base64-decoded.
    """
    secrets: Sequence[object]
    if isinstance(secret, (str, bytes)):
        secrets = [secret]
    elif isinstance(secret, Sequence):
        secrets = secret
    else:
        raise TypeError(
            f"secret must be a string or a sequence of strings, not {type(secret).__name__}"
        )
    keys: list[bytes] = []
    for item in secrets:
        if isinstance(item, str):
            key = item.strip().encode("utf-8")
        elif isinstance(item, bytes):
            key = item.strip()
        else:
            raise TypeError(f"each secret must be a string, not {type(item).__name__}")
        if not key:
            raise ValueError(
                "a webhook secret is empty: pass the endpoint's ws_... secret "
                "(e.g. from the WHOP_WEBHOOK_SECRET environment variable)"
            )
        keys.append(key)
    if not keys:
        raise ValueError("no webhook secret given")
    return tuple(keys)


def check_tolerance(tolerance: object) -> float:
    """Seconds a timestamp may be away from now, in either direction."""
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)):
        raise TypeError(f"tolerance must be a number of seconds, not {type(tolerance).__name__}")
    if not 0 <= tolerance < float("inf"):
        raise ValueError(
            f"tolerance must be a finite number of seconds, 0 or more, not {tolerance}"
        )
    return float(tolerance)


def _headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The three ``webhook-*`` headers, found in any case; a repeated one is refused."""
    if not isinstance(headers, Mapping):
        raise WebhookVerificationError(
            f"headers must be a mapping, not {type(headers).__name__}", reason="missing_header"
        )
    found: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str):
            continue
        lowered = name.lower()
        if lowered not in _WANTED:
            continue
        if lowered in found:
            raise WebhookVerificationError(
                f"the {lowered} header is given more than once", reason="malformed_header"
            )
        if not isinstance(value, str):
            raise WebhookVerificationError(
                f"the {lowered} header is not text", reason="malformed_header"
            )
        found[lowered] = value
    for name in _WANTED:
        if not found.get(name, "").strip():
            raise WebhookVerificationError(
                f"the {name} header is missing or empty", reason="missing_header"
            )
    return found


def _signatures(header: str) -> list[bytes]:
    """The ``v1`` signatures of a ``webhook-signature`` header.

    Entries of other versions (``v1a,...``) are skipped, and so is a malformed
    entry: one bad entry does not hide a good one beside it.
    """
    if len(header) > _MAX_SIGNATURE_HEADER:
        raise WebhookVerificationError(
            "the webhook-signature header is too long", reason="malformed_header"
        )
    found: list[bytes] = []
    for entry in header.split():
        version, comma, encoded = entry.partition(",")
        if not comma or version != "v1" or "," in encoded:
            continue
        try:
            found.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue
    if not found:
        raise WebhookVerificationError(
            "the webhook-signature header holds no well-formed v1 signature",
            reason="malformed_header",
        )
    return found


def verified_payload(
    body: bytes | bytearray | memoryview | str,
    headers: Mapping[str, str],
    keys: tuple[bytes, ...],
    tolerance: float,
) -> tuple[str, dict[str, Any]]:
    """Check a delivery and return its ``webhook-id`` and its decoded JSON object."""
    if isinstance(body, str):
        raw = body.encode("utf-8")
    elif isinstance(body, (bytes, bytearray, memoryview)):
        raw = bytes(body)
    else:
        raise WebhookVerificationError(
            f"the body must be bytes, not {type(body).__name__}", reason="bad_body"
        )
    found = _headers(headers)
    webhook_id = found[ID_HEADER].strip()
    if len(webhook_id) > _MAX_ID_LENGTH or not webhook_id.isprintable():
        raise WebhookVerificationError(
            "the webhook-id header is not a plausible id", reason="malformed_header"
        )
    stamp = found[TIMESTAMP_HEADER].strip()
    if not _TIMESTAMP.fullmatch(stamp):
        raise WebhookVerificationError(
            "the webhook-timestamp header is not a whole number of seconds",
            reason="malformed_header",
        )
    signatures = _signatures(found[SIGNATURE_HEADER])

    # The signature is checked before the time, so that a forged delivery
    # learns nothing about the clock; both must pass.
    signed = f"{webhook_id}.{stamp}.".encode() + raw
    expected = [hmac.new(key, signed, hashlib.sha256).digest() for key in keys]
    matched = False
    for candidate in signatures:
        for digest in expected:
            # No early exit: every pair is compared, in constant time each.
            matched |= hmac.compare_digest(candidate, digest)
    if not matched:
        raise WebhookVerificationError(
            "no signature matches the body with the given secret(s)", reason="bad_signature"
        )

    age = time.time() - int(stamp)
    if age > tolerance:
        raise WebhookVerificationError(
            f"the webhook-timestamp is {age:.0f} s old, beyond the {tolerance:g} s tolerance",
            reason="stale_timestamp",
        )
    if -age > tolerance:
        raise WebhookVerificationError(
            f"the webhook-timestamp is {-age:.0f} s in the future, beyond the "
            f"{tolerance:g} s tolerance",
            reason="future_timestamp",
        )

    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested past the stack
        raise WebhookVerificationError(
            "the body is not JSON (it was signed correctly)", reason="bad_body"
        ) from None
    if not isinstance(payload, dict):
        raise WebhookVerificationError(
            f"the body is JSON but not an object ({type(payload).__name__})", reason="bad_body"
        )
    return webhook_id, payload
