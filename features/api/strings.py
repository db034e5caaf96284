"""The ``.str`` namespace."""

from __future__ import annotations

from .namespace import Namespace


class StringNamespace(Namespace):
    """String methods, as ``polars.Expr.str``."""

    _name = "str"
    __slots__ = ()


def concat_str(*exprs, separator: str = "", ignore_nulls: bool = False):
    """Concatenate strings (exported from ``features``); filled in by the strings category."""
    raise NotImplementedError("concat_str")
