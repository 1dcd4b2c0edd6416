"""A plain aiohttp client for the fake that checks every JSON answer against
the spec's schemas, copied into ``data/dm_schemas.json``."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema

from whop_dm.testing import FakeWhop

SCHEMAS = json.loads((Path(__file__).parent / "data" / "dm_schemas.json").read_text())

_ROUTE_SCHEMAS = {
    ("POST", "/dm_channels"): "DmChannel",
    ("GET", "/dm_channels"): "DmChannelPage",
    ("GET", "/dm_channels/{id}"): "DmChannel",
    ("PATCH", "/dm_channels/{id}"): "DmChannel",
    ("DELETE", "/dm_channels/{id}"): "DeleteAnswer",
    ("POST", "/dm_members"): "DmMember",
    ("GET", "/dm_members"): "DmMemberPage",
    ("GET", "/dm_members/{id}"): "DmMember",
    ("PATCH", "/dm_members/{id}"): "DmMember",
    ("DELETE", "/dm_members/{id}"): "DeleteAnswer",
    ("POST", "/messages"): "Message",
    ("GET", "/messages"): "MessagePage",
    ("GET", "/messages/{id}"): "Message",
    ("PATCH", "/messages/{id}"): "Message",
    ("DELETE", "/messages/{id}"): "DeleteAnswer",
    ("POST", "/reactions"): "Reaction",
    ("GET", "/reactions"): "ReactionPage",
    ("GET", "/reactions/{id}"): "Reaction",
    ("DELETE", "/reactions/{id}"): "DeleteAnswer",
}
_ID_SEGMENT = re.compile(r"^(/[a-z_]+)/[^/]+$")

_formats = jsonschema.FormatChecker()


@_formats.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    # Whop writes UTC with a Z; fromisoformat only learnt the Z in 3.11.
    datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


def validate(name: str, instance: Any) -> None:
    """Raise if ``instance`` does not match the spec's schema ``name``."""
    schema = {**SCHEMAS, "$ref": f"#/components/schemas/{name}"}
    jsonschema.Draft202012Validator(schema, format_checker=_formats).validate(instance)


def schema_for(method: str, api_path: str, status: int) -> str | None:
    if status != 200:
        return "ErrorEnvelope"
    match = _ID_SEGMENT.match(api_path)
    template = f"{match.group(1)}/{{id}}" if match else api_path
    return _ROUTE_SCHEMAS.get((method, template))


VALIDATED: list[str] = []  # names of the schemas checked in this run, for the coverage test


@dataclass
class Answer:
    status: int
    headers: Mapping[str, str]
    text: str

    @property
    def json(self) -> Any:
        return json.loads(self.text)

    @property
    def error(self) -> dict[str, Any]:
        error: dict[str, Any] = self.json["error"]
        return error


class Api:
    """A plain aiohttp client for the fake; validates every JSON answer it gets."""

    def __init__(self, session: aiohttp.ClientSession, fake: FakeWhop, key: str | None) -> None:
        self.session = session
        self.fake = fake
        self.key = key

    def as_key(self, key: str | None) -> Api:
        return Api(self.session, self.fake, key)

    async def call(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        data: bytes | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        sent = dict(headers or {})
        if self.key is not None:
            sent.setdefault("Authorization", f"Bearer {self.key}")
        if data is not None:
            sent.setdefault("Content-Type", "application/json")
        async with self.session.request(
            method,
            self.fake.base_url + path,
            json=json_body,
            data=data,
            params=params,
            headers=sent,
        ) as response:
            answer = Answer(response.status, response.headers, await response.text())
        name = schema_for(method, path.split("?")[0], answer.status)
        if name is not None:
            validate(name, answer.json)
            VALIDATED.append(name)
        return answer

    async def post(self, path: str, body: Any, **kwargs: Any) -> Answer:
        return await self.call("POST", path, json_body=body, **kwargs)

    async def get(self, path: str, **params: str) -> Answer:
        return await self.call("GET", path, params=params or None)

    async def patch(self, path: str, body: Any, **kwargs: Any) -> Answer:
        return await self.call("PATCH", path, json_body=body, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> Answer:
        return await self.call("DELETE", path, **kwargs)

    async def channel(self, *with_user_ids: str, **extra: Any) -> dict[str, Any]:
        answer = await self.post("/dm_channels", {"with_user_ids": list(with_user_ids), **extra})
        assert answer.status == 200, answer.text
        channel: dict[str, Any] = answer.json
        return channel
