"""Every public name has a docstring: the API reference is built from them.

Walks ``whop_dm.__all__`` and ``whop_dm.testing.__all__``, and every public
method and property of the public classes (the resources and pagers of both
clients, the clients themselves, ``FakeWhop``...).
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Iterator

import pytest

import whop_dm
import whop_dm.testing
from whop_dm.testing import pytest_plugin

MODULES = (whop_dm, whop_dm.testing)
PUBLIC = [(module, name) for module in MODULES for name in module.__all__]
# Constants (__version__, ALL_SCOPES) carry no docstring of their own; the
# reference-page test below still requires each of them to be documented there.
DOCSTRINGED = [
    (m, n) for m, n in PUBLIC if inspect.isclass(getattr(m, n)) or callable(getattr(m, n))
]
CLASSES = sorted(
    {getattr(m, n) for m, n in PUBLIC if inspect.isclass(getattr(m, n))}, key=lambda c: c.__name__
)


def _doc_of_member(value: object) -> str | None:
    """The docstring a reader gets for a class member, or None when it has none to give."""
    if isinstance(value, (classmethod, staticmethod)):
        value = value.__func__
    if isinstance(value, property):
        value = value.fget
    if isinstance(value, types.FunctionType):
        return value.__doc__
    # The sync client's derived methods and lazily built resources: they carry
    # the async method's docstring, or the resource class's.
    if hasattr(value, "method"):
        return getattr(value, "__doc__", None)
    target = getattr(value, "cls", None)
    if inspect.isclass(target):
        return target.__doc__
    return None


def _public_members(cls: type) -> Iterator[tuple[str, str | None]]:
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        # Data fields (attrs slots, plain values) are documented in the class's
        # "Attributes:" section instead.
        if isinstance(value, types.MemberDescriptorType) or not (
            callable(value)
            or isinstance(value, (property, classmethod, staticmethod))
            or hasattr(value, "__get__")
        ):
            continue
        yield name, _doc_of_member(value)


@pytest.mark.parametrize(
    ("module", "name"), DOCSTRINGED, ids=[f"{m.__name__}.{n}" for m, n in DOCSTRINGED]
)
def test_public_name_has_a_docstring(module: types.ModuleType, name: str) -> None:
    value = getattr(module, name)
    assert (value.__doc__ or "").strip(), f"{module.__name__}.{name} has no docstring"


@pytest.mark.parametrize("cls", CLASSES, ids=[c.__name__ for c in CLASSES])
def test_public_methods_have_docstrings(cls: type) -> None:
    missing = [name for name, doc in _public_members(cls) if not (doc or "").strip()]
    assert not missing, f"{cls.__name__}: no docstring on {missing}"


def test_resource_methods_are_walked() -> None:
    # Guards the walk above: it must see the methods of the resources.
    seen = dict(_public_members(whop_dm.DmMembers))
    assert {"create", "bulk_create", "add_many", "list", "retrieve", "update", "delete"} <= set(
        seen
    )
    assert "Add" in (seen["create"] or "")
    assert {"fail_next", "chaos", "in_thread"} <= dict(
        _public_members(whop_dm.testing.FakeWhop)
    ).keys()


@pytest.mark.parametrize("name", ["whop_fake", "whop_api_key", "whop_client"])
def test_pytest_fixtures_have_docstrings(name: str) -> None:
    fixture = getattr(pytest_plugin, name)
    wrapped = getattr(fixture, "__wrapped__", fixture)
    assert (inspect.getdoc(wrapped) or inspect.getdoc(fixture) or "").strip()


def test_every_public_name_is_in_the_api_reference() -> None:
    from docs_samples import DOCS

    reference = "\n".join(p.read_text(encoding="utf-8") for p in (DOCS / "reference").glob("*.md"))
    for module, name in PUBLIC:
        if name.startswith("__"):
            continue
        assert f"::: {module.__name__}.{name}\n" in reference + "\n", f"{module.__name__}.{name}"
