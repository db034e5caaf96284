"""A stand-in for the ``polars`` module that imports polars on first attribute access.

Rule modules use ``from .lazy import pl`` so that registering rules (which
happens when a feature set is defined) never imports polars: the serving
process defines feature sets too, and must stay free of polars.
"""

from __future__ import annotations

import importlib
from typing import Any


class _LazyModule:
    def __init__(self, name: str):
        self._name = name
        self._module: Any = None

    def __getattr__(self, attr: str) -> Any:
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attr)


pl: Any = _LazyModule("polars")
