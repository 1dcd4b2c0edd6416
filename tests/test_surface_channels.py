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


async def test_any_member_may_rename_a_channel(owner: AsyncClient, bob: AsyncClient) -> None:
    created = await owner.dm_channels.create(with_user_ids=["user_bob"])
    assert (await bob.dm_channels.update(created.id, custom_name="Bob's")).name == "Bob's"


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
