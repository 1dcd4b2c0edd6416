"""Calls that change state are safe to retry after a lost answer (against the fake)."""

from __future__ import annotations

import whop_dm
from whop_dm.testing import FakeWhop


def _client(fake: FakeWhop, key: str) -> whop_dm.AsyncClient:
    return whop_dm.AsyncClient(key, base_url=fake.base_url, retry=whop_dm.RetryPolicy.instant())


async def test_a_delete_whose_answer_is_lost_still_reports_success(
    whop_fake: FakeWhop, whop_api_key: str
) -> None:
    whop_fake.add_user("user_bob")
    async with _client(whop_fake, whop_api_key) as client:
        channel = await client.dm_channels.create(with_user_ids=["user_bob"])
        whop_fake.drop_next(1, path="/dm_channels/{id}", method="DELETE", after=True)
        assert await client.dm_channels.delete(channel.id) is True
    deletes = [r for r in whop_fake.requests if r.method == "DELETE"]
    assert len(deletes) == 2
    assert deletes[0].headers["Idempotency-Key"] == deletes[1].headers["Idempotency-Key"]
    assert channel.id not in whop_fake.channels


async def test_a_member_add_whose_answer_is_lost_is_made_once(
    whop_fake: FakeWhop, whop_api_key: str
) -> None:
    whop_fake.add_user("user_bob")
    whop_fake.add_user("user_carol")
    async with _client(whop_fake, whop_api_key) as client:
        channel = await client.dm_channels.create(with_user_ids=["user_bob"])
        whop_fake.drop_next(1, path="/dm_members", after=True)
        member = await client.dm_members.create(channel_id=channel.id, user_id="user_carol")
    carols = [m for m in whop_fake.members_of(channel.id) if m.user_id == "user_carol"]
    assert [m.id for m in carols] == [member.id]
