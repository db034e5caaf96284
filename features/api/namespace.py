"""Base class of the ``.str`` and ``.dt`` namespaces."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .expr import Expr


class Namespace:
    """Methods reached through ``expr.<name>``, as in polars."""

    _name = ""
    __slots__ = ("_expr",)

    def __init__(self, expr: "Expr"):
        self._expr = expr

    def _new(self, node: Any) -> "Expr":
        from .expr import Expr

        return Expr(node)

    @property
    def _node(self) -> Any:
        return self._expr._node

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        from .expr import UnknownMethod

        candidates = [n for n in dir(type(self)) if not n.startswith("_")]
        return UnknownMethod(self._expr, self._name, name, candidates)
