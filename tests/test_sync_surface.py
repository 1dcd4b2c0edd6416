"""The sync client declares a typed blocking twin of every async resource and method.

A method or resource added to ``AsyncClient`` works at once in ``Client`` at
runtime (``__getattr__``), but only a declared line gives mypy its signature:
these tests fail until that line is written.
"""

from __future__ import annotations

import inspect
import typing

import pytest

from whop_dm import AsyncClient, Client
from whop_dm._sync import SyncResource, blocking, blocking_pager, resource


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
    kind = blocking if inspect.iscoroutinefunction(async_function) else blocking_pager

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
            if isinstance(value, (blocking, blocking_pager))
        }


@pytest.mark.parametrize(("name", "method"), METHODS, ids=[f"{n}.{m}" for n, m in METHODS])
def test_a_blocking_method_takes_the_same_parameters(name: str, method: str) -> None:
    client = Client("whop_test_key", base_url="http://127.0.0.1:9/api/v1")
    try:
        async_params = inspect.signature(getattr(getattr(client._async, name), method)).parameters
        sync_params = inspect.signature(getattr(getattr(client, name), method)).parameters
    finally:
        client.close()

    assert list(sync_params.values()) == list(async_params.values())


def test_the_constructor_takes_the_async_clients_arguments_but_session() -> None:
    async_params = dict(inspect.signature(AsyncClient.__init__).parameters)
    # An aiohttp session is bound to the loop it was made on; Client's loop is private.
    del async_params["session"]

    assert list(inspect.signature(Client.__init__).parameters.values()) == list(
        async_params.values()
    )
