"""Numeric methods of :class:`~features.api.expr.Expr` (mixin)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .expr import Expr


class NumericMethods:
    """Math on numbers: ``abs``, ``round``, ``log1p``, ``clip``, ... (polars names)."""

    __slots__ = ()
