"""The one cattrs converter that turns API JSON into records and back, and the
per-client `Decoder` that applies it strictly or leniently.

Lenient decoding (the default of a client) keeps a record whose field holds a
value this version does not expect: that field becomes None, the record's
``raw`` holds the JSON object as received, and a WARNING is logged once per
field and operation for the client. Strict decoding raises
`ResponseDecodeError` instead. Both take the same fast path first: the
converter's own hooks, tried on the whole record; the field-by-field walk
runs only when that fails.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import types
import typing
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar, Union, get_args, get_origin

import attrs

from ._enums import OpenStrEnum
from ._errors import ResponseDecodeError
from ._log import fields, logger

__all__ = ["Decoder", "converter", "decode", "get_converter", "parse_timestamp"]


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


def _strict_int(value: Any, _: type) -> int:
    # cattrs would call int() on it: "42" and 4.7 would pass as 42 and 4.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise TypeError(f"expected an integer, got {type(value).__name__}")


def _is_sequence(type_: Any) -> bool:
    return get_origin(type_) in (list, tuple)


def _strict_bool(value: Any, _: type) -> bool:
    if isinstance(value, bool):
        return value
    raise TypeError(f"expected a boolean, got {type(value).__name__}")


def _structure_open_enum(value: Any, cls: type[OpenStrEnum]) -> OpenStrEnum:
    if not isinstance(value, str):
        raise TypeError(f"expected a string for {cls.__name__}, got {type(value).__name__}")
    return cls(value)


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
    conv.register_structure_hook(int, _strict_int)
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

    def structure_sequence(type_: Any) -> Callable[[Any, Any], Any]:
        # A JSON array only: cattrs would take a string as a list of characters.
        make = get_origin(type_)
        item = get_args(type_)[0]
        hook = conv.get_structure_hook(item)

        def structure(value: Any, _: Any) -> Any:
            if not isinstance(value, list):
                raise TypeError(f"expected a list, got {type(value).__name__}")
            return make(hook(v, item) for v in value)

        return structure

    conv.register_structure_hook_factory(_is_sequence, structure_sequence)

    from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

    # ``raw`` is set by the lenient decoder, never read from an answer (an
    # answer with a "raw" key must not fill it) nor written back out.
    conv.register_structure_hook_factory(
        _has_raw, lambda cls: make_dict_structure_fn(cls, conv, raw=override(omit=True))
    )
    conv.register_unstructure_hook_factory(
        _has_raw, lambda cls: make_dict_unstructure_fn(cls, conv, raw=override(omit=True))
    )

    from ._models import DmMember

    # A channel's id repeats in every membership a bulk run adds to it (up to
    # 50): one shared string instead of one per record. `python -m benchmarks
    # --only rss` measured the growth from 10,000 to 100,000 added pairs about
    # 5 MB smaller with it, over 10% of the whole.
    conv.register_structure_hook(
        DmMember,
        make_dict_structure_fn(
            DmMember,
            conv,
            raw=override(omit=True),
            channel_id=override(struct_hook=_shared_str),
        ),
    )
    return conv


def _shared_str(value: Any, _: type) -> str:
    return sys.intern(_strict_str(value, str))


def _has_raw(cls: Any) -> bool:
    return attrs.has(cls) and "raw" in attrs.fields_dict(cls)


_converter: cattrs.Converter | None = None
_building = threading.Lock()


def get_converter() -> cattrs.Converter:
    """The converter, built on first use: importing cattrs is not free, and a
    program that never decodes an answer (or not yet) should not pay for it."""
    global _converter
    if _converter is None:
        with _building:
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
    """Structure ``data`` as ``cls`` strictly, or raise `ResponseDecodeError`.

    ``what`` names the call for the message (``"POST /dm_members"``).
    """
    try:
        return get_converter().structure(data, cls)
    except Exception as exc:  # cattrs raises many kinds; all mean "not the promised shape"
        raise _decode_error(data, cls, what, exc) from exc


def _decode_error(data: Any, cls: Any, what: str, exc: BaseException) -> ResponseDecodeError:
    name = getattr(cls, "__name__", str(cls))
    return ResponseDecodeError(
        f"{what} answered JSON that is not a valid {name}: {_summarize(exc)}",
        status_code=200,
        body=_preview(data),
    )


class _Unusable(Exception):
    """A value that cannot become even a partial record (not a JSON object)."""


class Decoder:
    """Decodes the answers of one client's calls, strictly or leniently.

    Lenient (``strict=False``): a field whose value does not fit its type
    becomes None (a list keeps the items that fit), the record's ``raw``
    holds the JSON object as received, and a WARNING names the field once
    per operation for the life of this decoder. Only a body that is not a
    JSON object where a record is due raises `ResponseDecodeError`.

    Strict (``strict=True``): any such value raises `ResponseDecodeError`.
    """

    __slots__ = ("_warned", "strict")

    def __init__(self, *, strict: bool = False) -> None:
        self.strict = strict
        self._warned: set[tuple[str, str]] = set()

    def decode(self, data: Any, cls: type[T], operation: str, *, lenient: bool = False) -> T:
        """``data`` as ``cls`` for the call ``operation`` (``"GET /dm_members/{id}"``).

        ``lenient=True`` decodes leniently even for a strict client.
        """
        try:
            return get_converter().structure(data, cls)
        except Exception as exc:
            if (self.strict and not lenient) or not attrs.has(get_origin(cls) or cls):
                raise _decode_error(data, cls, operation, exc) from exc
            problems: list[str] = []
            try:
                value = _lenient(data, cls, "", problems)
            except _Unusable:
                raise _decode_error(data, cls, operation, exc) from exc
        self._warn(operation, cls, problems)
        return typing.cast(T, value)

    def _warn(self, operation: str, cls: Any, problems: list[str]) -> None:
        name = getattr(get_origin(cls) or cls, "__name__", str(cls))
        for field in dict.fromkeys(problems):
            key = (operation, field)
            if key in self._warned:
                continue
            self._warned.add(key)
            # The value itself is not logged: it may hold a user's text.
            logger.warning(
                "%s answered a %s whose %r is missing or holds a value this version does "
                "not expect: it is None, and the record's raw keeps the answer as received "
                "(logged once per field and operation)",
                operation,
                name,
                field,
                extra=fields(operation=operation),
            )


def _field_types(cls: Any) -> dict[str, Any]:
    """Each field's type, with a generic record's parameters filled in."""
    origin = get_origin(cls) or cls
    hints = typing.get_type_hints(origin)
    args = get_args(cls)
    if args:
        params = dict(zip(origin.__parameters__, args, strict=True))
        hints = {name: _substitute(tp, params) for name, tp in hints.items()}
    return hints


def _substitute(tp: Any, params: dict[Any, Any]) -> Any:
    if tp in params:
        return params[tp]
    inner = getattr(tp, "__parameters__", ())
    return tp[tuple(params.get(p, p) for p in inner)] if inner else tp


def _lenient(value: Any, cls: Any, where: str, problems: list[str]) -> Any:
    """``value`` as the record ``cls``, fields that do not fit set to None."""
    origin = get_origin(cls) or cls
    if not isinstance(value, dict):
        raise _Unusable
    types_ = _field_types(cls)
    kwargs: dict[str, Any] = {}
    before = len(problems)
    for field in attrs.fields(origin):
        name = field.name
        if name == "raw":
            continue
        if name not in value:
            if field.default is attrs.NOTHING:
                problems.append(where + name)
                kwargs[name] = None
            continue
        kwargs[name] = _lenient_field(value[name], types_[name], where + name, problems)
    if len(problems) > before and "raw" in attrs.fields_dict(origin):
        kwargs["raw"] = value
    return origin(**kwargs)


_MISFIT: Any = object()


def _structure_or_misfit(value: Any, tp: Any) -> Any:
    try:
        return get_converter().structure(value, tp)
    except Exception:  # cattrs raises many kinds; all mean "does not fit"
        return _MISFIT


def _lenient_field(value: Any, tp: Any, where: str, problems: list[str]) -> Any:
    fitted = _structure_or_misfit(value, tp)
    if fitted is not _MISFIT:
        return fitted
    inner = next((a for a in get_args(tp) if a is not type(None)), tp) if _is_optional(tp) else tp
    container = get_origin(inner)
    if attrs.has(container or inner) and isinstance(value, dict):
        return _lenient(value, inner, where + ".", problems)
    if container in (list, tuple) and isinstance(value, list):
        item_type = get_args(inner)[0]
        items = []
        for item in value:
            fitted = _structure_or_misfit(item, item_type)
            if fitted is not _MISFIT:
                items.append(fitted)
            elif attrs.has(get_origin(item_type) or item_type) and isinstance(item, dict):
                items.append(_lenient(item, item_type, where + "[].", problems))
            else:
                problems.append(where + "[]")
        return tuple(items) if container is tuple else items
    problems.append(where)
    return None


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
