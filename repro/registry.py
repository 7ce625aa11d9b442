"""Name -> ``"module:attribute"`` registries resolved lazily (attribution methods, models): one lookup rule.

Importing a registry loads no implementation; :func:`resolve` imports the module of one entry when it is used,
and an unknown name is refused with the list of registered ones.
"""

from __future__ import annotations

import importlib
from typing import Any, Mapping

from repro.errors import ReproError


def resolve(registry: Mapping[str, str], name: str, kind: str) -> Any:
    """The object registered under ``name`` in ``registry`` (values ``"package.module:attribute"``).

    Args:
        kind: what the registry holds, for the message (``"attribution method"``, ``"model"``).
    Raises:
        ReproError: ``name`` is not registered; the message lists the registered names.
    """
    if name not in registry:
        raise ReproError(f"unknown {kind} {name!r}; choose from: {', '.join(registry)}")
    module, attribute = registry[name].split(":")
    return getattr(importlib.import_module(module), attribute)
