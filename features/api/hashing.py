"""Hashing methods of :class:`~skewless.api.expr.Expr` (mixin): ``hash_bucket``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import ExprTypeError
from ..ir.base import INT64_MAX, canonical_literal
from ..ir.hashing import HashBucket

if TYPE_CHECKING:
    from .expr import Expr


class HashingMethods:
    """Stable hashing (skewless' own op; polars' ``Expr.hash`` is not stable across versions)."""

    __slots__ = ()

    def hash_bucket(self, n: Any) -> "Expr":
        """Bucket of each value in ``0 .. n-1`` by a stable hash (``Int64``; null stays null).

        The bucket is ``XXH64(text, seed=0) % n`` where ``text`` is the UTF-8 of
        the value's polars ``cast(String)`` (Int64 ``-7`` hashes ``"-7"``,
        Boolean ``"true"``/``"false"``, Date ``"2024-02-29"``), and the modulo
        is of the unsigned 64-bit hash. XXH64 is a published algorithm: the same
        value lands in the same bucket in training and serving, on every
        machine and with every library version. ``n`` must be a positive int.

        Examples
        --------
        >>> col("carrier").hash_bucket(16)
        <Expr col('carrier').hash_bucket(n=16)>
        """
        value = canonical_literal(n)
        if type(value) is not int or not 1 <= value <= INT64_MAX:
            raise ExprTypeError(f"hash_bucket(n): n must be a positive int literal (at most 2**63 - 1), got {n!r}")
        return self._new(HashBucket(self._node, value))  # type: ignore[attr-defined]
