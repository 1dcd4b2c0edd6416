"""The DM operations of Whop's spec, read from the copy beside this file.

``dm-surface.openapi.json`` is the DM part of Whop's published OpenAPI
document (the project's wire contract), copied here so that the conformance
checks run from a clean clone. Each check walks the same list, so a new
operation in the spec is one no check can miss.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

SPEC_PATH = Path(__file__).with_name("dm-surface.openapi.json")


@dataclass(frozen=True)
class Operation:
    operation_id: str  # "createDmChannel"
    method: str  # "POST"
    path: str  # "/dm_channels"

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


def spec_operations() -> list[Operation]:
    """Every operation of the spec, in the spec's order."""
    spec = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    return [
        Operation(operation["operationId"], method.upper(), path)
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
    ]


# The library method that serves each operation: the same name on
# ``AsyncClient`` and ``Client``.
LIBRARY_METHODS = {
    "listDmChannel": "dm_channels.list",
    "createDmChannel": "dm_channels.create",
    "deleteDmChannel": "dm_channels.delete",
    "retrieveDmChannel": "dm_channels.retrieve",
    "updateDmChannel": "dm_channels.update",
    "listDmMember": "dm_members.list",
    "createDmMember": "dm_members.create",
    "deleteDmMember": "dm_members.delete",
    "retrieveDmMember": "dm_members.retrieve",
    "updateDmMember": "dm_members.update",
    "listMessage": "messages.list",
    "createMessage": "messages.create",
    "deleteMessage": "messages.delete",
    "retrieveMessage": "messages.retrieve",
    "updateMessage": "messages.update",
    "listReaction": "reactions.list",
    "createReaction": "reactions.create",
    "deleteReaction": "reactions.delete",
    "retrieveReaction": "reactions.retrieve",
}

# The official SDK's method for each operation (``whop_sdk.Whop``).
SDK_METHODS = dict(LIBRARY_METHODS)
