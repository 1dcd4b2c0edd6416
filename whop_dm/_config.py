"""Client options: one frozen record, checked once, shared by both clients.

`ClientConfig` holds every option of `AsyncClient` and `Client`. Its attrs
converters and validators are the only place an option is checked, so a
bad value raises the same error from either client, in the caller's thread,
before any request or event loop exists. `AsyncClientConfig` adds the one
option only the async client can take, an aiohttp ``session``.

Neither client writes its constructor out: `takes_options` gives each
``__init__`` the parameters of a config class, for mypy (through a
ParamSpec) and for ``inspect.signature`` and ``help()`` alike. The transport
and the resources read the record they are given.

Adding an option is a change in this module only: add a keyword-only field
(with its default, and a converter or validator if it needs checking) at
the end of `ClientConfig`, and a line for it in `ClientConfig`'s docstring.
Both constructors take it at once; read it where it is used, as
``transport.config.<name>``.
"""

from __future__ import annotations

import inspect
import ipaddress
import os
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

import aiohttp
import attrs
from yarl import URL

from ._errors import MissingAPIKeyError
from ._observe import check_hook, check_tracer_provider
from ._pacing import RateLimits
from ._retry import RetryEvent, RetryPolicy
from ._timeout import DEFAULT_TIMEOUT, Timeout, TimeoutTypes, coerce_timeout

if TYPE_CHECKING:
    from opentelemetry.trace import TracerProvider

    from ._events import RequestHook, ResponseHook

__all__ = [
    "DEFAULT_BASE_URL",
    "AsyncClientConfig",
    "ClientConfig",
    "check_header_value",
    "takes_options",
]

DEFAULT_BASE_URL = "https://api.whop.com/api/v1"

# Headers the client sets itself, per request or from the key.
_RESERVED_HEADERS = frozenset({"authorization", "idempotency-key", "content-type"})


def check_header_value(name: str, value: object) -> str:
    """Refuse header values that are not strings or would split the header."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, not {type(value).__name__}")
    if any(ch in value for ch in "\r\n\x00"):
        raise ValueError(f"{name} must not contain line breaks or NUL characters")
    return value


def _is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# -- converters: what a caller passed, made into what the record holds ------------------


def _api_key(value: str | None) -> str:
    if value is None:
        value = os.environ.get("WHOP_API_KEY")
        if not value:
            raise MissingAPIKeyError(
                "No API key: pass api_key=... or set the WHOP_API_KEY environment variable "
                "(create a key in your Whop developer dashboard)."
            )
    if not isinstance(value, str):
        raise TypeError(f"api_key must be a string, not {type(value).__name__}")
    if not value.strip():
        raise MissingAPIKeyError(
            "The API key is empty: pass api_key=... or set WHOP_API_KEY to your key."
        )
    if any(ch in value for ch in "\r\n\x00 "):
        # Said without echoing the key itself.
        raise ValueError("api_key must not contain spaces, line breaks or NUL characters")
    return value


def _base_url(value: str | None) -> str:
    if value is None:
        value = os.environ.get("WHOP_BASE_URL") or DEFAULT_BASE_URL
    if not isinstance(value, str):
        raise TypeError(f"base_url must be a string, not {type(value).__name__}")
    # Without its trailing slash: request paths ("/dm_members") are appended to it.
    return str(URL(value)).rstrip("/")


def _timeout(value: TimeoutTypes) -> Timeout:
    # Typed for the constructors' signature; coerce_timeout refuses the rest.
    return coerce_timeout(value)


def _retry(value: RetryPolicy | None) -> RetryPolicy:
    if value is None:
        return RetryPolicy()
    if not isinstance(value, RetryPolicy):
        raise TypeError("retry must be a whop_dm.RetryPolicy (or None for the default)")
    return value


def _rate_limits(value: RateLimits | None) -> RateLimits:
    if value is None:
        return RateLimits.adaptive()
    if not isinstance(value, RateLimits):
        raise TypeError("rate_limits must be a whop_dm.RateLimits (or None for the default)")
    return value


def _headers(value: Mapping[str, str] | None) -> Mapping[str, str]:
    checked: dict[str, str] = {}
    for name, text in (value or {}).items():
        check_header_value("header name", name)
        if name.lower() in _RESERVED_HEADERS:
            raise ValueError(f"the {name} header is set by the client; it cannot be overridden")
        checked[name] = check_header_value(f"header {name}", text)
    return MappingProxyType(checked)


# -- validators: checks that need the whole record, or only look -------------------------


def _check_base_url(config: ClientConfig, _: attrs.Attribute[str], value: str) -> None:
    url = URL(value)
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"base_url must be an absolute http(s) URL, got {value!r}")
    if url.query_string or url.fragment:
        raise ValueError("base_url must not carry a query or fragment")
    if url.user or url.password:
        raise ValueError("base_url must not carry credentials; pass api_key instead")
    if url.scheme == "http" and not (config.allow_http or _is_loopback(url.host)):
        raise ValueError(
            f"base_url {value!r} is plain http to a non-loopback host: the API key "
            "would cross the network unencrypted. Use https, or pass allow_http=True "
            "if you really mean it."
        )


def _check_max_connections(_: object, __: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("max_connections must be an int")
    if value < 1:
        raise ValueError("max_connections must be at least 1")


def _check_api_version(_: object, __: attrs.Attribute[str | None], value: str | None) -> None:
    if value is not None:
        check_header_value("api_version", value)


def _check_rate_limit(_: object, __: attrs.Attribute[float | None], value: float | None) -> None:
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0
    ):
        raise ValueError("rate_limit must be a number of requests per second above 0")


def _check_session(
    _: object, __: attrs.Attribute[aiohttp.ClientSession | None], value: object
) -> None:
    if value is not None and not isinstance(value, aiohttp.ClientSession):
        raise TypeError("session must be an aiohttp.ClientSession")


def _trace_configs(value: Iterable[aiohttp.TraceConfig] | None) -> tuple[aiohttp.TraceConfig, ...]:
    if value is None:
        return ()
    if isinstance(value, aiohttp.TraceConfig) or not isinstance(value, Iterable):
        raise TypeError("trace_configs must be a list of aiohttp.TraceConfig objects")
    configs = tuple(value)
    if not all(isinstance(c, aiohttp.TraceConfig) for c in configs):
        raise TypeError("trace_configs must hold aiohttp.TraceConfig objects")
    return configs


def _check_hook(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    check_hook(attribute.name, value)


def _check_tracer_provider(_: object, __: attrs.Attribute[Any], value: object) -> None:
    check_tracer_provider(value)


@attrs.frozen(kw_only=True)
class ClientConfig:
    """The options of a client, checked once.

    Args:
        api_key: the API key; defaults to ``WHOP_API_KEY``.
        base_url: the API root; defaults to ``WHOP_BASE_URL``, then
            ``https://api.whop.com/api/v1``. Plain http is refused unless the
            host is loopback or ``allow_http=True``.
        timeout: a `Timeout`, or seconds per attempt (default: 60 s per
            attempt, 10 s to connect).
        retry: a `RetryPolicy` (default ``RetryPolicy()``); use
            ``RetryPolicy.disabled()`` for a single attempt.
        max_connections: the most requests in flight at once (default 100).
        headers: extra headers for every request.
        api_version: sent as ``Api-Version-Date`` to pin API behaviour.
        rate_limit: at most this many requests per second from this client,
            whatever the operation (default: no such cap). Whop's own limit
            is per operation: see ``rate_limits``.
        on_retry: called with a `RetryEvent` before each retry wait.
        allow_http: permit a plain-http ``base_url`` to a non-loopback host.
        on_request: called with a `RequestEvent` right before each attempt
            is sent. A hook that raises is logged and ignored.
        on_response: called with a `ResponseEvent` once each attempt's
            answer, or its failure, is known.
        trace_configs: ``aiohttp.TraceConfig`` objects for the session the
            client creates (OpenTelemetry's aiohttp instrumentation, say).
        tracer_provider: the OpenTelemetry ``TracerProvider`` spans come
            from (default: the global one, once an SDK is set up).
        strict: raise `ResponseDecodeError` when an answer holds a value a
            record does not expect. By default (False) the record is kept:
            that field is None, ``record.raw`` holds the JSON as received,
            and a WARNING is logged once per field and operation.
        rate_limits: how requests are paced per operation before Whop would
            refuse them, a `RateLimits` (default ``RateLimits.adaptive()``:
            start slowly, learn the limit from the first 429, pace exactly
            from there; ``RateLimits.whop()`` for Whop's documented 600 a
            minute, ``RateLimits.off()`` for none). A 429 holds only its own
            operation.
    """

    # The only positional option, as in the official SDK: Client("key").
    api_key: str = attrs.field(default=None, converter=_api_key, repr=False, kw_only=False)
    base_url: str = attrs.field(
        default=None,
        converter=_base_url,
        validator=_check_base_url,
    )
    timeout: Timeout = attrs.field(default=DEFAULT_TIMEOUT, converter=_timeout)
    retry: RetryPolicy = attrs.field(default=None, converter=_retry)
    max_connections: int = attrs.field(default=100, validator=_check_max_connections)
    headers: Mapping[str, str] = attrs.field(default=None, converter=_headers, hash=False)
    api_version: str | None = attrs.field(default=None, validator=_check_api_version)
    rate_limit: float | None = attrs.field(default=None, validator=_check_rate_limit)
    on_retry: Callable[[RetryEvent], None] | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.is_callable())
    )
    allow_http: bool = attrs.field(default=False)
    on_request: RequestHook | None = attrs.field(default=None, validator=_check_hook)
    on_response: ResponseHook | None = attrs.field(default=None, validator=_check_hook)
    trace_configs: tuple[aiohttp.TraceConfig, ...] = attrs.field(
        default=(), converter=_trace_configs, eq=False, hash=False
    )
    tracer_provider: TracerProvider | None = attrs.field(
        default=None, validator=_check_tracer_provider, eq=False, hash=False
    )
    strict: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    rate_limits: RateLimits = attrs.field(default=None, converter=_rate_limits, hash=False)

    @property
    def default_headers(self) -> dict[str, str]:
        """The caller's headers for every request, ``Api-Version-Date`` included."""
        headers = dict(self.headers)
        if self.api_version is not None:
            headers["Api-Version-Date"] = self.api_version
        return headers


@attrs.frozen(kw_only=True)
class AsyncClientConfig(ClientConfig):
    """`ClientConfig`, plus an aiohttp session of the caller's (async client only).

    Args:
        session: an ``aiohttp.ClientSession`` of yours; it is used as is and
            never closed by the client. The blocking ``Client`` cannot take
            one: a session is bound to the event loop it was made on, and that
            client's loop is private.
    """

    session: aiohttp.ClientSession | None = attrs.field(
        default=None, validator=_check_session, eq=False
    )

    def __attrs_post_init__(self) -> None:
        if self.session is not None and self.trace_configs:
            raise ValueError(
                "trace_configs apply to the session the client creates; "
                "with session=..., give them to your own aiohttp.ClientSession"
            )


P = ParamSpec("P")
C = TypeVar("C", bound=ClientConfig)
Self = TypeVar("Self")


def takes_options(
    config_class: Callable[P, C],
) -> Callable[[Callable[[Self, C], None]], Callable[Concatenate[Self, P], None]]:
    """Give ``__init__(self, config)`` the parameters of ``config_class``.

    The decorated ``__init__`` takes the options as keywords, builds (and so
    checks) the config, and hands it on. Type checkers see the config's
    parameters through the ParamSpec; ``inspect.signature`` sees them
    through ``__signature__``.
    """

    def decorate(setup: Callable[[Self, C], None]) -> Callable[Concatenate[Self, P], None]:
        options_only = inspect.signature(config_class)

        def __init__(self: Self, /, *args: P.args, **kwargs: P.kwargs) -> None:
            try:
                options_only.bind(*args, **kwargs)
            except TypeError as exc:  # a misspelt option: said in the client's name
                raise TypeError(f"{type(self).__name__}(): {exc}") from None
            setup(self, config_class(*args, **kwargs))

        self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)
        options = options_only.parameters.values()
        __init__.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [self_param, *options], return_annotation=None
        )
        __init__.__qualname__ = setup.__qualname__
        __init__.__doc__ = setup.__doc__
        __init__.__module__ = setup.__module__
        return __init__

    return decorate
