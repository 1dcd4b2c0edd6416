"""dm_channels.retrieve / update / delete, and who may see a channel."""

from __future__ import annotations

import pytest

from whop_dm import (
    AsyncClient,
    DmChannel,
    NotFoundError,
    PermissionDeniedError,
    ResponseDecodeError,
)
from whop_dm.testing import FakeWhop

pytest_plugins = ["surface_support"]


async def test_retrieve_returns_the_channel(owner: AsyncClient) -> None:
    created = await owner.dm_channels.create(with_user_ids=["user_bob"], custom_name="Team")
    got = await owner.dm_channels.retrieve(created.id)
    assert got == created
    assert isinstance(got, DmChannel)


async def test_retrieve_of_an_unknown_id_raises_not_found(owner: AsyncClient) -> None:
    with pytest.raises(NotFoundError) as caught:
        await owner.dm_channels.retrieve("feed_doesnotexist")
    assert caught.value.status_code == 404


async def test_update_renames_the_channel(owner: AsyncClient, surface_fake: FakeWhop) -> None:
    created = await owner.dm_channels.create(with_user_ids=["user_bob"])
    renamed = await owner.dm_channels.update(created.id, custom_name="Launch team")
    assert renamed.id == created.id
    assert renamed.name == "Launch team"
    assert surface_fake.channels[created.id].name == "Launch team"
    patch = surface_fake.requests[-1]
    assert patch.method == "PATCH"
    assert patch.json == {"custom_name": "Launch team"}


async def test_update_with_none_clears_the_custom_name(owner: AsyncClient) -> None:
    created = await owner.dm_channels.create(with_user_ids=["user_bob"], custom_name="Old")
    cleared = await owner.dm_channels.update(created.id, custom_name=None)
    assert cleared.name is None


async def test_a_member_who_is_not_an_admin_may_not_rename_a_channel(
    owner: AsyncClient, bob: AsyncClient, surface_fake: FakeWhop
) -> None:
    created = await owner.dm_channels.create(with_user_ids=["user_bob"], custom_name="Team")
    with pytest.raises(PermissionDeniedError):
        await bob.dm_channels.update(created.id, custom_name="Bob's")
    assert surface_fake.channels[created.id].name == "Team"


async def test_update_of_an_unknown_id_raises_not_found(owner: AsyncClient) -> None:
    with pytest.raises(NotFoundError):
        await owner.dm_channels.update("feed_doesnotexist", custom_name="x")


async def test_delete_answers_true_and_the_channel_is_gone(
    owner: AsyncClient, surface_fake: FakeWhop
) -> None:
    created = await owner.dm_channels.create(with_user_ids=["user_bob"])
    assert await owner.dm_channels.delete(created.id) is True
    assert created.id not in surface_fake.channels
    with pytest.raises(NotFoundError):
        await owner.dm_channels.retrieve(created.id)


async def test_deleting_twice_raises_not_found(owner: AsyncClient) -> None:
    created = await owner.dm_channels.create(with_user_ids=["user_bob"])
    await owner.dm_channels.delete(created.id)
    with pytest.raises(NotFoundError):
        await owner.dm_channels.delete(created.id)


async def test_only_the_admin_may_delete_a_channel(owner: AsyncClient, bob: AsyncClient) -> None:
    created = await owner.dm_channels.create(with_user_ids=["user_bob"])
    with pytest.raises(PermissionDeniedError):
        await bob.dm_channels.delete(created.id)


async def test_a_user_who_is_not_a_member_cannot_see_the_channel(
    owner: AsyncClient, dave: AsyncClient
) -> None:
    created = await owner.dm_channels.create(with_user_ids=["user_bob"])
    with pytest.raises(NotFoundError):
        await dave.dm_channels.retrieve(created.id)
    with pytest.raises(NotFoundError):
        await dave.dm_channels.update(created.id, custom_name="mine now")
    with pytest.raises(NotFoundError):
        await dave.dm_channels.delete(created.id)
    assert [c async for c in dave.dm_channels.list()] == []


async def test_the_list_shows_only_channels_the_caller_belongs_to(
    owner: AsyncClient, bob: AsyncClient
) -> None:
    with_bob = await owner.dm_channels.create(with_user_ids=["user_bob"])
    await owner.dm_channels.create(with_user_ids=["user_carol"])
    assert [c.id async for c in bob.dm_channels.list()] == [with_bob.id]


async def test_update_refuses_a_custom_name_that_is_not_a_string(
    owner: AsyncClient, surface_fake: FakeWhop
) -> None:
    with pytest.raises(TypeError, match="custom_name"):
        await owner.dm_channels.update("feed_x", custom_name=42)  # type: ignore[arg-type]
    assert surface_fake.requests == []


async def test_a_delete_answer_that_is_not_a_boolean_is_a_decode_error(
    owner: AsyncClient, surface_fake: FakeWhop
) -> None:
    created = await owner.dm_channels.create(with_user_ids=["user_bob"])
    surface_fake.malformed_next(path="/dm_channels/{id}", method="DELETE", body=b'{"deleted": 1}')
    with pytest.raises(ResponseDecodeError):
        await owner.dm_channels.delete(created.id)


async def test_create_sends_account_id_under_its_own_name(
    owner: AsyncClient, surface_fake: FakeWhop
) -> None:
    channel = await owner.dm_channels.create(with_user_ids=["user_bob"], account_id="biz_1")
    body = surface_fake.requests[-1].json
    assert body["account_id"] == "biz_1"
    assert "company_id" not in body
    assert surface_fake.channels[channel.id].company_id == "biz_1"


async def test_create_keeps_sending_company_id_as_company_id(
    owner: AsyncClient, surface_fake: FakeWhop
) -> None:
    by_company = await owner.dm_channels.create(with_user_ids=["user_bob"], company_id="biz_1")
    body = surface_fake.requests[-1].json
    assert body["company_id"] == "biz_1"
    assert "account_id" not in body
    by_account = await owner.dm_channels.create(with_user_ids=["user_bob"], account_id="biz_1")
    assert by_account.id == by_company.id


async def test_list_sends_account_id_or_company_id_as_given(
    owner: AsyncClient, surface_fake: FakeWhop
) -> None:
    made = await owner.dm_channels.create(with_user_ids=["user_bob"], account_id="biz_1")
    await owner.dm_channels.create(with_user_ids=["user_bob"])
    for name in ("account_id", "company_id"):
        listed = [c.id async for c in owner.dm_channels.list(**{name: "biz_1"})]
        assert listed == [made.id]
        assert surface_fake.requests[-1].query == {name: "biz_1"}


async def test_account_id_and_company_id_together_are_refused_before_sending(
    owner: AsyncClient, surface_fake: FakeWhop
) -> None:
    with pytest.raises(ValueError, match="account_id or company_id"):
        await owner.dm_channels.create(
            with_user_ids=["user_bob"], account_id="biz_1", company_id="biz_1"
        )
    with pytest.raises(ValueError, match="account_id or company_id"):
        owner.dm_channels.list(account_id="biz_1", company_id="biz_2")
    assert surface_fake.requests == []


async def test_create_sends_notifications_enabled(
    owner: AsyncClient, surface_fake: FakeWhop
) -> None:
    channel = await owner.dm_channels.create(
        with_user_ids=["user_bob"], notifications_enabled=False
    )
    assert surface_fake.requests[-1].json["notifications_enabled"] is False
    assert surface_fake.channels[channel.id].notifications_enabled is False
    with pytest.raises(TypeError, match="notifications_enabled"):
        await owner.dm_channels.create(with_user_ids=["user_bob"], notifications_enabled=1)  # type: ignore[arg-type]


async def test_the_list_is_most_recently_active_first(
    owner: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Everything within one millisecond, as on a fast machine: order still holds.
    monkeypatch.setattr("whop_dm.testing._store.now_ms", lambda: 1_767_225_600_000)
    older = await owner.dm_channels.create(with_user_ids=["user_bob"])
    newer = await owner.dm_channels.create(with_user_ids=["user_carol"])
    assert [c.id async for c in owner.dm_channels.list()] == [newer.id, older.id]
    await owner.messages.create(channel_id=older.id, content="still here")
    assert [c.id async for c in owner.dm_channels.list()] == [older.id, newer.id]
