"""Hashing methods of :class:`~features.api.expr.Expr` (mixin): ``hash_bucket``."""

from __future__ import annotations


class HashingMethods:
    __slots__ = ()
