"""The ``.dt`` namespace."""

from __future__ import annotations

from .namespace import Namespace


class DateTimeNamespace(Namespace):
    """Temporal methods, as ``polars.Expr.dt``."""

    _name = "dt"
    __slots__ = ()
