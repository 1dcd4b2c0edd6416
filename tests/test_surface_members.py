"""dm_members.list / retrieve / update / delete over the fake."""

from __future__ import annotations

import pytest

from whop_dm import (
    AsyncClient,
    DmMember,
    MemberStatus,
    NotFoundError,
    NotificationPreference,
    PermissionDeniedError,
)
from whop_dm.testing import FakeWhop

pytest_plugins = ["surface_support"]


async def channel_with(owner: AsyncClient, *users: str) -> str:
    return (await owner.dm_channels.create(with_user_ids=list(users))).id


async def membership_of(fake: FakeWhop, channel_id: str, user_id: str) -> str:
    return next(m.id for m in fake.members_of(channel_id) if m.user_id == user_id)


async def test_list_yields_every_member_in_join_order_across_pages(
    owner: AsyncClient, surface_fake: FakeWhop
) -> None:
    channel_id = await channel_with(owner, "user_bob", "user_carol", "user_dave")
    members = [m async for m in owner.dm_members.list(channel_id=channel_id, page_size=1)]
    assert [m.user_id for m in members] == ["user_owner", "user_bob", "user_carol", "user_dave"]
    assert all(isinstance(m, DmMember) and m.channel_id == channel_id for m in members)
    gets = [r for r in surface_fake.requests if r.method == "GET"]
    assert len(gets) == 4
    assert all(r.query["channel_id"] == channel_id for r in gets)


async def test_list_of_a_channel_the_caller_is_not_in_raises_not_found_when_iterated(
    owner: AsyncClient, dave: AsyncClient
) -> None:
    channel_id = await channel_with(owner, "user_bob")
    pager = dave.dm_members.list(channel_id=channel_id)
    with pytest.raises(NotFoundError):
        await pager.first_page()


def test_list_refuses_an_empty_channel_id_at_call_time(owner: AsyncClient) -> None:
    with pytest.raises(ValueError, match="channel_id"):
        owner.dm_members.list(channel_id="")


async def test_retrieve_returns_the_membership(owner: AsyncClient, surface_fake: FakeWhop) -> None:
    channel_id = await channel_with(owner, "user_bob")
    member_id = await membership_of(surface_fake, channel_id, "user_bob")
    member = await owner.dm_members.retrieve(member_id)
    assert (member.id, member.user_id, member.channel_id) == (member_id, "user_bob", channel_id)
    assert member.status is MemberStatus.ACCEPTED
    assert member.notification_preference is NotificationPreference.ALL


async def test_retrieve_of_an_unknown_id_raises_not_found(owner: AsyncClient) -> None:
    with pytest.raises(NotFoundError):
        await owner.dm_members.retrieve("dmm_doesnotexist")


async def test_update_takes_enum_members(owner: AsyncClient, surface_fake: FakeWhop) -> None:
    channel_id = await channel_with(owner, "user_bob")
    member_id = await membership_of(surface_fake, channel_id, "user_bob")
    member = await owner.dm_members.update(
        member_id,
        status=MemberStatus.HIDDEN,
        notification_preference=NotificationPreference.MENTIONS,
    )
    assert member.status is MemberStatus.HIDDEN
    assert member.notification_preference is NotificationPreference.MENTIONS
    assert surface_fake.requests[-1].json == {
        "status": "hidden",
        "notification_preference": "mentions",
    }


async def test_update_takes_plain_string_values(owner: AsyncClient, surface_fake: FakeWhop) -> None:
    channel_id = await channel_with(owner, "user_bob")
    member_id = await membership_of(surface_fake, channel_id, "user_bob")
    member = await owner.dm_members.update(member_id, notification_preference="none")
    assert member.notification_preference is NotificationPreference.NONE
    assert member.status is MemberStatus.ACCEPTED
    assert surface_fake.requests[-1].json == {"notification_preference": "none"}


@pytest.mark.parametrize(
    ("changes", "error", "match"),
    [
        ({}, ValueError, "status or notification_preference"),
        ({"status": "sleeping"}, ValueError, "status must be one of"),
        ({"status": "mentions"}, ValueError, "status must be one of"),
        ({"notification_preference": "hidden"}, ValueError, "notification_preference"),
        ({"notification_preference": "ALL"}, ValueError, "notification_preference"),
        ({"status": 1}, TypeError, "status"),
    ],
)
async def test_update_refuses_bad_values_before_sending(
    owner: AsyncClient,
    surface_fake: FakeWhop,
    changes: dict[str, object],
    error: type[Exception],
    match: str,
) -> None:
    with pytest.raises(error, match=match):
        await owner.dm_members.update("dmm_x", **changes)  # type: ignore[arg-type]
    assert surface_fake.requests == []


async def test_update_refuses_a_status_the_client_does_not_know(
    owner: AsyncClient, surface_fake: FakeWhop
) -> None:
    unknown = MemberStatus("muted")  # as decoded from a newer API's answer
    with pytest.raises(ValueError, match="status"):
        await owner.dm_members.update("dmm_x", status=unknown)
    assert surface_fake.requests == []


async def test_a_member_may_update_its_own_membership(
    owner: AsyncClient, bob: AsyncClient, surface_fake: FakeWhop
) -> None:
    channel_id = await channel_with(owner, "user_bob", "user_carol")
    bobs = await membership_of(surface_fake, channel_id, "user_bob")
    carols = await membership_of(surface_fake, channel_id, "user_carol")
    assert (await bob.dm_members.update(bobs, status="archived")).status is MemberStatus.ARCHIVED
    with pytest.raises(PermissionDeniedError):
        await bob.dm_members.update(carols, status="archived")


async def test_delete_removes_the_membership(owner: AsyncClient, surface_fake: FakeWhop) -> None:
    channel_id = await channel_with(owner, "user_bob", "user_carol")
    member_id = await membership_of(surface_fake, channel_id, "user_carol")
    assert await owner.dm_members.delete(member_id) is True
    assert [m.user_id for m in surface_fake.members_of(channel_id)] == ["user_owner", "user_bob"]
    with pytest.raises(NotFoundError):
        await owner.dm_members.retrieve(member_id)


async def test_a_member_who_left_no_longer_sees_the_channel(
    owner: AsyncClient, bob: AsyncClient, surface_fake: FakeWhop
) -> None:
    channel_id = await channel_with(owner, "user_bob", "user_carol")
    bobs = await membership_of(surface_fake, channel_id, "user_bob")
    assert await bob.dm_members.delete(bobs) is True
    with pytest.raises(NotFoundError):
        await bob.dm_channels.retrieve(channel_id)


async def test_a_stranger_cannot_see_or_change_memberships(
    owner: AsyncClient, dave: AsyncClient, surface_fake: FakeWhop
) -> None:
    channel_id = await channel_with(owner, "user_bob")
    bobs = await membership_of(surface_fake, channel_id, "user_bob")
    with pytest.raises(NotFoundError):
        await dave.dm_members.retrieve(bobs)
    with pytest.raises(NotFoundError):
        await dave.dm_members.update(bobs, status="closed")
    with pytest.raises(NotFoundError):
        await dave.dm_members.delete(bobs)
