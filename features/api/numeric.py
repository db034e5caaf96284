"""Numeric methods of :class:`~features.api.expr.Expr` (mixin)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .expr import Expr


class NumericMethods:
    """Math on numbers: ``abs``, ``round``, ``log1p``, ``clip``, ... (polars names)."""

    __slots__ = ()


# Top-level functions of this category (exported from ``features``); filled in by the numeric category.
def min_horizontal(*exprs: Any) -> "Expr":
    raise NotImplementedError("min_horizontal")


def max_horizontal(*exprs: Any) -> "Expr":
    raise NotImplementedError("max_horizontal")


def sum_horizontal(*exprs: Any) -> "Expr":
    raise NotImplementedError("sum_horizontal")
