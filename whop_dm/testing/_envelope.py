"""Whop's error envelope: ``{"error": {"type", "message", "code", "param"}}``."""

from __future__ import annotations

from typing import Any

# The ``type`` Whop puts in the envelope for each status; the spec's examples
# give 400, 401, 403, 404 and 500, the rest follow the same pattern.
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    409: "idempotency_error",
    422: "verification_required",
    429: "rate_limit_exceeded",
    500: "internal_server_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}


def error_type(status: int) -> str:
    if status in ERROR_TYPES:
        return ERROR_TYPES[status]
    return "internal_server_error" if status >= 500 else "invalid_request_error"


def envelope(
    status: int,
    message: str,
    *,
    code: str | None = None,
    param: str | None = None,
    type_: str | None = None,
) -> dict[str, Any]:
    return {
        "error": {
            "type": type_ or error_type(status),
            "message": message,
            "code": code,
            "param": param,
        }
    }


def rate_limit_envelope(seconds: int) -> dict[str, Any]:
    """Whop's 429 body, word for word; its message is the only hint some clients get."""
    return envelope(429, f"Try again in {seconds} seconds.")


class ApiError(Exception):
    """An answer other than success, raised anywhere below a handler."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        type_: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.param = param
        self.type = type_ or error_type(status)

    def body(self) -> dict[str, Any]:
        return envelope(
            self.status, self.message, code=self.code, param=self.param, type_=self.type
        )

    @classmethod
    def missing(cls, param: str) -> ApiError:
        return cls(
            400, f"Missing required parameter: {param}.", code="parameter_missing", param=param
        )

    @classmethod
    def invalid(cls, param: str | None, message: str) -> ApiError:
        return cls(400, message, code="parameter_invalid", param=param)

    @classmethod
    def not_found(cls, param: str | None, what: str) -> ApiError:
        return cls(404, f"{what} not found.", param=param)

    @classmethod
    def forbidden(cls, message: str) -> ApiError:
        return cls(403, message)
