"""A griffe extension: the reference shows the clients' real constructor parameters.

``AsyncClient.__init__`` and ``Client.__init__`` are written once, as
``@takes_options(<config class>) def __init__(self, config)``
(see ``whop_dm/_config.py``). Read from the source, that signature is
``(config)``; this extension replaces it with the one Python reports at run
time, which lists the config record's fields.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import griffe


class ConfigOptions(griffe.Extension):
    def on_function_instance(self, *, func: griffe.Function, **kwargs: Any) -> None:
        if func.name != "__init__" or not any(
            str(decorator.value).startswith("takes_options(") for decorator in func.decorators
        ):
            return
        owner = func.parent
        assert owner is not None
        module = importlib.import_module(owner.module.path)
        signature = inspect.signature(getattr(module, owner.name).__init__)
        func.parameters = griffe.Parameters(
            *(
                griffe.Parameter(
                    p.name,
                    annotation=None if p.annotation is p.empty else str(p.annotation),
                    kind=griffe.ParameterKind(p.kind.description),
                    default=None if p.default is p.empty else repr(p.default),
                )
                for p in signature.parameters.values()
            )
        )
