"""The base of the resource classes (``client.dm_channels``, ...)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from ._converter import Decoder
from ._transport import Transport

__all__ = ["Resource"]

T = TypeVar("T")


class Resource:
    """One API resource: its methods check arguments, then `_call` the transport.

    Each resource has its own `Decoder`: an operation belongs to one
    resource, so its decoding warnings are given once per client.
    """

    __slots__ = ("_decoder", "_transport")

    def __init__(self, transport: Transport) -> None:
        self._transport = transport
        self._decoder = Decoder(strict=transport.config.strict)

    async def _call(
        self,
        method: str,
        route: str,
        into: type[T],
        *,
        path: str | None = None,
        json_body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        lenient: bool = False,
    ) -> T:
        """Send ``method route`` (at ``path``, when the route holds ids) and
        decode the answer as ``into``."""
        data = await self._transport.request(
            method,
            route if path is None else path,
            route=route,
            json_body=json_body,
            params=params,
            idempotency_key=idempotency_key,
        )
        return self._decoder.decode(data, into, f"{method} {route}", lenient=lenient)
