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

    def __reduce__(self) -> Any:
        # pickled as the module name it imports: a compiled udf kernel refers to ``pl`` and is pickled by value
        # when sent to a Ray worker; the default would unpickle an instance without ``_module`` and recurse in
        # ``__getattr__`` (the query then failed at collect with a RecursionError)
        return (_LazyModule, (self._name,))

    def __getattr__(self, attr: str) -> Any:
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attr)


pl: Any = _LazyModule("polars")
