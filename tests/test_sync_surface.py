"""The sync client declares a typed blocking twin of every async resource and method.

There is no fallback: a method or resource added to ``AsyncClient`` exists
in ``Client`` only once its line is declared, and these tests fail until then.
"""

from __future__ import annotations

import inspect
import typing

import pytest

from whop_dm import AsyncClient, AsyncPager, Client
from whop_dm._sync import SyncResource, blocking, blocking_iterator, blocking_pager, resource


def async_resources() -> dict[str, type]:
    # AsyncClient imports some resource classes only for type checking (they
    # load on first use), so their modules are handed to get_type_hints.
    import whop_dm._messages
    import whop_dm._reactions

    localns = {**vars(whop_dm._messages), **vars(whop_dm._reactions)}
    hints = typing.get_type_hints(AsyncClient, localns=localns)
    return {
        name: hint
        for name, hint in hints.items()
        if not name.startswith("_") and isinstance(hint, type)
    }


def public_methods(cls: type) -> list[str]:
    return [
        name
        for name, value in vars(cls).items()
        if not name.startswith("_") and inspect.isfunction(value)
    ]


RESOURCES = async_resources()
METHODS = [(name, method) for name, cls in RESOURCES.items() for method in public_methods(cls)]


def sync_class_of(name: str) -> type[SyncResource[typing.Any]]:
    declared = vars(Client).get(name)
    assert isinstance(declared, resource), f"Client needs: {name} = resource(<SyncClass>)"
    return declared.cls


def test_async_client_has_resources_to_mirror() -> None:
    assert {"dm_channels", "dm_members", "messages", "reactions"} <= set(RESOURCES)


@pytest.mark.parametrize("name", sorted(RESOURCES))
def test_client_declares_each_resource_of_async_client(name: str) -> None:
    sync_class = sync_class_of(name)

    (base,) = getattr(sync_class, "__orig_bases__", (None,))
    assert typing.get_origin(base) is SyncResource
    assert typing.get_args(base) == (RESOURCES[name],)


@pytest.mark.parametrize(("name", "method"), METHODS, ids=[f"{n}.{m}" for n, m in METHODS])
def test_each_async_method_has_a_declared_blocking_twin(name: str, method: str) -> None:
    async_function = vars(RESOURCES[name])[method]
    declared = vars(sync_class_of(name)).get(method)
    returns = str(inspect.signature(async_function).return_annotation)
    if inspect.iscoroutinefunction(async_function):
        kind: type = blocking
    elif returns.startswith("AsyncIterator["):
        kind = blocking_iterator
    else:
        kind = blocking_pager

    assert isinstance(declared, kind), (
        f"{sync_class_of(name).__name__} needs: "
        f"{method} = {kind.__name__}({RESOURCES[name].__name__}.{method})"
    )
    assert declared.method is async_function


def test_the_sync_resources_declare_nothing_the_async_ones_lack() -> None:
    for name, async_class in RESOURCES.items():
        sync_class = sync_class_of(name)
        assert set(public_methods(async_class)) >= {
            attr
            for attr, value in vars(sync_class).items()
            if isinstance(value, (blocking, blocking_pager, blocking_iterator))
        }


def signature_difference(async_method: object, sync_method: object) -> str | None:
    """What a blocking method's own signature does differently from its async twin's.

    ``follow_wrapped=False``: the blocking method's own ``__signature__``, never
    the async function it may point to. The return type must be the async
    one's, awaited; a pager's becomes a ``SyncPager``.
    """
    want = inspect.signature(async_method, follow_wrapped=False)  # type: ignore[arg-type]
    got = inspect.signature(sync_method, follow_wrapped=False)  # type: ignore[arg-type]
    if list(got.parameters.values()) != list(want.parameters.values()):
        return f"parameters {got} != {want}"
    expected_return = (
        str(want.return_annotation)
        .replace("AsyncPager[", "SyncPager[")
        .replace("AsyncIterator[", "Iterator[")
    )
    if str(got.return_annotation) != expected_return:
        return f"returns {got.return_annotation!r}, not {expected_return!r}"
    return None


@pytest.mark.parametrize(("name", "method"), METHODS, ids=[f"{n}.{m}" for n, m in METHODS])
def test_a_blocking_method_takes_the_same_parameters(name: str, method: str) -> None:
    client = Client("whop_test_key", base_url="http://127.0.0.1:9/api/v1")
    try:
        async_method = getattr(getattr(client._async, name), method)
        sync_method = getattr(getattr(client, name), method)
    finally:
        client.close()

    assert signature_difference(async_method, sync_method) is None


def test_a_blocking_pager_method_reports_that_it_returns_a_sync_pager() -> None:
    with Client("whop_test_key", base_url="http://127.0.0.1:9/api/v1") as client:
        returns = inspect.signature(client.dm_members.list).return_annotation

    assert "SyncPager[" in str(returns)
    assert "AsyncPager" not in str(returns)


class AsyncThings:
    async def get(self, id: str, *, fresh: bool = False) -> int:
        return 1

    def list(self, *, page_size: int = 10) -> AsyncPager[int]:
        raise NotImplementedError


class HandWritten(SyncResource[AsyncThings]):
    """Blocking twins written by hand, each one subtly off."""

    def get(self, id: str, *, fresh: bool = True) -> int:  # another default
        return 1

    def list(self, *, page_size: int = 10) -> AsyncPager[int]:  # the async return type
        raise NotImplementedError


class Derived(SyncResource[AsyncThings]):
    get = blocking(AsyncThings.get)
    list = blocking_pager(AsyncThings.list)


def test_the_signature_check_sees_a_hand_written_twin_that_differs() -> None:
    things = AsyncThings()
    hand_written = HandWritten(things, None)  # type: ignore[arg-type]
    derived = Derived(things, None)  # type: ignore[arg-type]

    assert "parameters" in str(signature_difference(things.get, hand_written.get))
    assert "returns" in str(signature_difference(things.list, hand_written.list))
    assert signature_difference(things.get, derived.get) is None
    assert signature_difference(things.list, derived.list) is None


def test_the_constructor_takes_the_async_clients_arguments_but_session() -> None:
    async_params = dict(inspect.signature(AsyncClient.__init__).parameters)
    # An aiohttp session is bound to the loop it was made on; Client's loop is private.
    del async_params["session"]

    assert list(inspect.signature(Client.__init__).parameters.values()) == list(
        async_params.values()
    )
