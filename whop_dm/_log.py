"""The ``whop_dm`` logger, and the fields every one of its records carries.

Each record has the attributes ``operation`` (``"POST /dm_members"``),
``status``, ``request_id``, ``attempt`` and ``wait``, None where they do not
apply, so a JSON formatter (python-json-logger, structlog's ``ExtraAdder``)
puts them in its output without parsing the message. Messages never hold the
API key: they name operations and paths, and error texts are redacted where
they are built.
"""

from __future__ import annotations

import logging

__all__ = ["FIELDS", "fields", "get_logger", "logger"]

FIELDS = ("operation", "status", "request_id", "attempt", "wait")


def fields(
    *,
    operation: str | None = None,
    status: int | None = None,
    request_id: str | None = None,
    attempt: int | None = None,
    wait: float | None = None,
) -> dict[str, object]:
    """The ``extra=`` of a ``whop_dm`` log call."""
    return {
        "operation": operation,
        "status": status,
        "request_id": request_id,
        "attempt": attempt,
        "wait": wait,
    }


class _EveryRecordHasTheFields(logging.Filter):
    """Gives a record logged without some of the fields those fields, as None.

    A filter of a logger runs for every record made by it (not for records of
    child loggers passing through, hence `get_logger` for those), so a log
    line added anywhere in the package keeps the promise even when it forgets
    ``extra=``.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        attributes = record.__dict__
        for name in FIELDS:
            attributes.setdefault(name, None)
        return True


def get_logger(name: str) -> logging.Logger:
    """The logger ``name`` (``whop_dm`` or one below it) whose records carry the fields."""
    named = logging.getLogger(name)
    if not any(isinstance(f, _EveryRecordHasTheFields) for f in named.filters):
        named.addFilter(_EveryRecordHasTheFields())
    return named


logger = get_logger("whop_dm")
