"""The one cattrs converter that turns API JSON into records and back."""

from __future__ import annotations

import functools
import json
import re
import sys
import types
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar, Union, get_args, get_origin

from ._enums import OpenStrEnum
from ._errors import ResponseDecodeError

__all__ = ["converter", "decode", "get_converter", "parse_timestamp"]

if TYPE_CHECKING:
    import cattrs

T = TypeVar("T")

_NUMERIC = re.compile(r"^\s*-?\d+(\.\d+)?\s*$")
# datetime.fromisoformat on 3.10 takes neither "Z" nor fractions other than 3 or 6 digits.
_FRACTION = re.compile(r"\.(\d+)")


def parse_timestamp(value: Any) -> datetime:
    """A timezone-aware UTC datetime from what the API sends for a time.

    Whop sends some times as milliseconds since the epoch in a string (with or
    without a fraction, e.g. ``"1732530000123"`` or ``"123.45"``), others as
    ISO 8601 (``"2023-12-01T05:00:00.401Z"``). Numbers are taken as
    milliseconds too. A time without a zone is taken as UTC.
    """
    if isinstance(value, bool):
        raise TypeError("a timestamp cannot be a boolean")
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(float(value) / 1000.0, tz=timezone.utc)
    if not isinstance(value, str):
        raise TypeError(f"a timestamp must be a string or a number, not {type(value).__name__}")
    if _NUMERIC.match(value):
        return datetime.fromtimestamp(float(value) / 1000.0, tz=timezone.utc)
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    text = _FRACTION.sub(lambda m: "." + (m.group(1) + "000000")[:6], text, count=1)
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def _strict_str(value: Any, _: type) -> str:
    # cattrs would happily turn {"a": 1} into the string "{'a': 1}": an id
    # that is not a string means the answer is not what the API promised.
    if isinstance(value, str):
        return value
    raise TypeError(f"expected a string, got {type(value).__name__}")


def _interned_str(value: Any, _: type) -> str:
    # Channel ids repeat across the memberships of a bulk run (up to 50 per
    # channel): one shared string instead of one per record keeps a 100,000-pair
    # BulkAddResult ~7 MB smaller.
    return sys.intern(_strict_str(value, str))


def _strict_bool(value: Any, _: type) -> bool:
    if isinstance(value, bool):
        return value
    raise TypeError(f"expected a boolean, got {type(value).__name__}")


@functools.cache
def _known_members(cls: type[OpenStrEnum]) -> dict[str, OpenStrEnum]:
    return {member.value: member for member in cls}


def _structure_open_enum(value: Any, cls: type[OpenStrEnum]) -> OpenStrEnum:
    if not isinstance(value, str):
        raise TypeError(f"expected a string for {cls.__name__}, got {type(value).__name__}")
    # A dict lookup first: calling the enum class costs ~0.3 us per field on
    # the hot path of every record; unknown values still go through
    # ``cls(value)`` (and its ``_missing_``).
    member = _known_members(cls).get(value)
    return member if member is not None else cls(value)


def _is_optional(type_: Any) -> bool:
    """``X | None`` (or ``Optional[X]``) for one type ``X``."""
    args = get_args(type_)
    return get_origin(type_) in (Union, types.UnionType) and len(args) == 2 and type(None) in args


def _format_datetime(value: datetime) -> str:
    return value.isoformat()


def _make_converter() -> cattrs.Converter:
    import cattrs

    conv = cattrs.Converter(forbid_extra_keys=False)
    conv.register_structure_hook(str, _strict_str)
    conv.register_structure_hook(bool, _strict_bool)
    conv.register_structure_hook(datetime, lambda value, _: parse_timestamp(value))
    conv.register_unstructure_hook(datetime, _format_datetime)
    # By class, so that dispatch on the MRO picks it before the str hook.
    conv.register_structure_hook(OpenStrEnum, _structure_open_enum)
    conv.register_unstructure_hook(OpenStrEnum, lambda member: member.value)

    def structure_optional(type_: Any) -> Callable[[Any, Any], Any]:
        # cattrs' generic optional hook looks the inner type's hook up again
        # on every value; this one finds it once per type.
        inner = next(arg for arg in get_args(type_) if arg is not type(None))
        hook = conv.get_structure_hook(inner)
        return lambda value, _: None if value is None else hook(value, inner)

    conv.register_structure_hook_factory(_is_optional, structure_optional)

    from cattrs.gen import make_dict_structure_fn, override

    from ._models import DmMember

    conv.register_structure_hook(
        DmMember,
        make_dict_structure_fn(DmMember, conv, channel_id=override(struct_hook=_interned_str)),
    )
    return conv


_converter: cattrs.Converter | None = None


def get_converter() -> cattrs.Converter:
    """The converter, built on first use: importing cattrs costs ~30 ms that a
    program which never decodes an answer (or not yet) should not pay."""
    global _converter
    if _converter is None:
        _converter = _make_converter()
    return _converter


def __getattr__(name: str) -> Any:
    # ``from whop_dm._converter import converter`` still works, lazily.
    if name == "converter":
        return get_converter()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if TYPE_CHECKING:
    converter: cattrs.Converter


def decode(data: Any, cls: type[T], what: str) -> T:
    """Structure ``data`` as ``cls``, or raise `ResponseDecodeError`.

    ``what`` names the call for the message (``"POST /dm_members"``).
    """
    try:
        return (_converter or get_converter()).structure(data, cls)
    except Exception as exc:  # cattrs raises many kinds; all mean "not the promised shape"
        summary = _summarize(exc)
        raise ResponseDecodeError(
            f"{what} answered JSON that is not a valid {cls.__name__}: {summary}",
            status_code=200,
            body=_preview(data),
        ) from exc


def _summarize(exc: BaseException) -> str:
    from cattrs import transform_error

    try:
        messages = transform_error(exc)
    except Exception:
        messages = [f"{type(exc).__name__}: {exc}"]
    return "; ".join(messages[:3])


def _preview(data: Any) -> str:
    try:
        return json.dumps(data)[:2048]
    except (TypeError, ValueError):
        return repr(data)[:2048]
