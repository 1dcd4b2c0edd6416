"""The exceptions whop-dm raises.

Every failure of a call is a `WhopError`. Failures the server answered
are `APIError` subclasses chosen by HTTP status; failures to get an
answer at all are `APIConnectionError`; a success whose body is not the
promised JSON is a `ResponseDecodeError`. Bad arguments are plain
``ValueError`` / ``TypeError`` raised before anything is sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from multidict import CIMultiDict, CIMultiDictProxy

from ._retry_after import parse_retry_after

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ConflictError",
    "InternalServerError",
    "MissingAPIKeyError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseDecodeError",
    "VerificationRequiredError",
    "WebhookVerificationError",
    "WhopError",
]

# Bodies are kept on errors for debugging; a proxy's HTML page can be large.
_MAX_KEPT_BODY = 2048


class WhopError(Exception):
    """Base class of every error whop-dm raises for a failed call."""


class MissingAPIKeyError(WhopError, ValueError):
    """No API key was given and ``WHOP_API_KEY`` is not set."""


class ClientClosedError(WhopError, RuntimeError):
    """The client was used after `AsyncClient.aclose` (or ``close``)."""


class APIError(WhopError):
    """The server answered with a non-2xx status.

    Attributes:
        status_code: the HTTP status.
        type: the envelope's ``error.type`` (``"invalid_request_error"``, ...), or None.
        code: the envelope's ``error.code`` (``"parameter_missing"``, ...), or None.
        param: the parameter the server blamed, or None.
        message: the server's message, or a short description of the status.
        request_id: the ``x-request-id`` header, when the server sent one.
        retry_after: seconds the server asked us to wait, when it said so.
        headers: the response headers.
        body: the decoded JSON body, or its text (cut to 2 KiB) when not JSON.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        type: str | None = None,
        code: str | None = None,
        param: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.type = type
        self.code = code
        self.param = param
        self.request_id = request_id
        self.retry_after = retry_after
        self.headers: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict(headers or {}))
        self.body = body

    def __str__(self) -> str:
        parts = [f"{self.status_code}"]
        if self.type:
            parts.append(self.type)
        text = " ".join(parts) + f": {self.message}"
        extras = [
            f"{name}={value}"
            for name, value in (
                ("code", self.code),
                ("param", self.param),
                ("request_id", self.request_id),
                ("retry_after", self.retry_after),
            )
            if value is not None
        ]
        if extras:
            text += " (" + ", ".join(extras) + ")"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status_code={self.status_code!r}, type={self.type!r}, "
            f"code={self.code!r}, param={self.param!r}, message={self.message!r}, "
            f"request_id={self.request_id!r})"
        )


class BadRequestError(APIError):
    """400: the request was refused as malformed (see ``code`` and ``param``)."""


class AuthenticationError(APIError):
    """401: the API key is missing, unknown or revoked."""


class PermissionDeniedError(APIError):
    """403: the key lacks a scope, or the caller may not act on this resource."""


class NotFoundError(APIError):
    """404: an id in the request names nothing the caller can see."""


class ConflictError(APIError):
    """409: e.g. a request with the same ``Idempotency-Key`` is still running."""


class VerificationRequiredError(APIError):
    """422: the account must complete a verification first."""


class RateLimitError(APIError):
    """429: too many requests. ``retry_after`` holds the server's wait, if known."""


class InternalServerError(APIError):
    """5xx: the server (or a proxy in front of it) failed."""


class APIConnectionError(WhopError):
    """No answer: the connection was refused, reset or dropped, or DNS failed.

    Attributes:
        request_not_sent: True when the request certainly never reached the
            server (the connection could not be opened), so sending it again
            is safe for any method.
    """

    def __init__(self, message: str, *, request_not_sent: bool = False) -> None:
        super().__init__(message)
        self.request_not_sent = request_not_sent


class APITimeoutError(APIConnectionError):
    """No answer within the configured timeout."""


class ResponseDecodeError(WhopError):
    """A 2xx answer whose body is not the JSON the API promises.

    Attributes:
        status_code: the HTTP status of the answer.
        body: the body text, cut to 2 KiB.
    """

    def __init__(self, message: str, *, status_code: int, body: str = "") -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body = body[:_MAX_KEPT_BODY]


class WebhookVerificationError(WhopError):
    """A webhook delivery that must not be trusted (see `whop_dm.webhooks.verify`).

    Raised for a missing or malformed ``webhook-*`` header, a signature that
    matches none of the secrets, a timestamp outside the tolerance, and a
    correctly signed body that is not a JSON object. The message says which,
    and never contains a secret.

    Attributes:
        reason: a short code for the failure: ``"missing_header"``,
            ``"malformed_header"``, ``"bad_signature"``, ``"stale_timestamp"``,
            ``"future_timestamp"`` or ``"bad_body"``.
    """

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason

    @property
    def is_bad_body(self) -> bool:
        """True when the signature was good but the body is not a JSON object."""
        return self.reason == "bad_body"


_CLASS_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: VerificationRequiredError,
    429: RateLimitError,
}

# Whop's documented 429 body says "Try again in 12 seconds." and promises no header.
_TRY_AGAIN = re.compile(
    r"try again in\s+(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|secs?|seconds?)\b", re.IGNORECASE
)


def error_class_for(status: int) -> type[APIError]:
    """The APIError subclass for an HTTP status."""
    if status >= 500:
        return InternalServerError
    return _CLASS_BY_STATUS.get(status, APIError)


def retry_after_from(headers: Mapping[str, str], message: str | None) -> float | None:
    """The server's requested wait in seconds, or None when it gave none.

    ``retry-after-ms`` wins over ``Retry-After`` (seconds or an HTTP date),
    which wins over Whop's "Try again in N seconds." message.
    """
    wait = parse_retry_after(headers)
    if wait is not None:
        return wait
    if message:
        match = _TRY_AGAIN.search(message)
        if match:
            value = float(match.group(1))
            return value / 1000.0 if match.group(2).lower().startswith("m") else value
    return None


def error_from_response(
    status: int, headers: Mapping[str, str], raw: bytes, *, redact: str | None = None
) -> APIError:
    """Build the typed error for a non-2xx answer; never raises itself.

    ``redact`` is a secret (the API key) scrubbed from anything kept on the
    error, in case a server or proxy echoes it.
    """
    if not isinstance(headers, (CIMultiDict, CIMultiDictProxy)):
        headers = CIMultiDictProxy(CIMultiDict(headers))
    text = raw.decode("utf-8", errors="replace")
    if redact and redact in text:
        text = text.replace(redact, "***")
    body: Any = text[:_MAX_KEPT_BODY]
    envelope: Mapping[str, Any] = {}
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested past the parser's stack
        parsed = None
    if parsed is not None:
        body = parsed
        if isinstance(parsed, dict) and isinstance(parsed.get("error"), dict):
            envelope = parsed["error"]

    def field(name: str) -> str | None:
        value = envelope.get(name)
        return value if isinstance(value, str) else None

    message = field("message") or _default_message(status, text if parsed is None else "")
    request_id = headers.get("x-request-id")
    cls = error_class_for(status)
    retry_after = retry_after_from(headers, message) if status in (429, 503) else None
    return cls(
        message,
        status_code=status,
        type=field("type"),
        code=field("code"),
        param=field("param"),
        request_id=request_id,
        retry_after=retry_after,
        headers=headers,
        body=body,
    )


def _default_message(status: int, text: str) -> str:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Unexpected status"
    snippet = " ".join(text.split())[:120]
    if snippet:
        return f"{phrase} (body was not a JSON error envelope: {snippet!r})"
    return phrase
