"""The base of the resource classes (``client.dm_channels``, ...)."""

from __future__ import annotations

from ._transport import Transport

__all__ = ["Resource"]


class Resource:
    """One API resource: its methods check arguments, then call the shared transport."""

    __slots__ = ("_transport",)

    def __init__(self, transport: Transport) -> None:
        self._transport = transport
