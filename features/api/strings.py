"""The ``.str`` namespace."""

from __future__ import annotations

from .namespace import Namespace


class StringNamespace(Namespace):
    """String methods, as ``polars.Expr.str``."""

    _name = "str"
    __slots__ = ()
