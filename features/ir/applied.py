"""IR ops that apply learned state: dictionary lookups and bucketing against fixed edges.

Fitting (:mod:`skewless.fitting`) lowers every fitted op (``standardize``,
``one_hot``, ``quantile_bucketize``, ...) into ordinary ops; these two are the
only ones it needs beyond the core ones. They are regular ops with a rule in
each backend and their own parity cases, and they can be used directly through
:func:`features.map_values` and :func:`features.bucketize`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..dtypes import Boolean, DataType, Field, Float64, Int64, Null, String
from .base import NUMERIC, InferContext, Node, literal_dtype, require

__all__ = ["MapValues", "Bucketize", "OneHotColumns", "MAP_KEY_DTYPES", "MAP_VALUE_DTYPES", "BUCKET_CLOSED"]

#: Dtypes a :class:`MapValues` can look up (categories).
MAP_KEY_DTYPES = (String, Int64, Boolean)
#: Dtypes a :class:`MapValues` can return.
MAP_VALUE_DTYPES = (Int64, Float64, String, Boolean)
#: ``closed`` of :class:`Bucketize`: which end of each bucket holds its edge.
BUCKET_CLOSED = ("left", "right")


def _exact(value: Any, dtype: DataType) -> bool:
    """True when ``value`` is a Python scalar of exactly ``dtype``'s builtin type."""
    return type(value) is {String: str, Int64: int, Boolean: bool, Float64: float}[type(dtype)]


@dataclass(frozen=True, slots=True)
class MapValues(Node):
    """``map_values(x, {key: value, ...}, default)``: look ``x`` up in a fixed mapping.

    A key that is not in the mapping gives ``default`` (which may be None);
    a null ``x`` gives null (null is never looked up, unlike polars'
    ``replace_strict``, which maps null to the default: the polars rule masks
    it). Keys are String, Int64 or Boolean values of ``x``'s dtype; values all
    have dtype ``dtype``. Comparison is exact (strings byte for byte).
    """

    method = "map_values"
    operand: Node
    keys: tuple[Any, ...]
    values: tuple[Any, ...]
    default: Any
    dtype: DataType

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        (a,) = args
        require(isinstance(a.dtype, (*MAP_KEY_DTYPES, Null)),
                f"map_values() looks up String, Int64 or Boolean values, got {a.dtype!r}")
        require(isinstance(self.dtype, MAP_VALUE_DTYPES),
                f"map_values() returns Int64, Float64, String or Boolean values, got {self.dtype!r}")
        require(len(self.keys) == len(self.values), "map_values(): as many values as keys are needed")
        require(len(set(self.keys)) == len(self.keys), "map_values(): keys must be distinct")
        if not isinstance(a.dtype, Null):
            bad = [k for k in self.keys if not _exact(k, a.dtype)]
            require(not bad, f"map_values(): key {bad[:1]!r} is not a {a.dtype!r} value")
        bad = [v for v in self.values if not _exact(v, self.dtype)]
        require(not bad, f"map_values(): value {bad[:1]!r} is not a {self.dtype!r} value")
        require(self.default is None or _exact(self.default, self.dtype),
                f"map_values(): default {self.default!r} is not a {self.dtype!r} value")
        return Field(self.dtype, a.nullable or self.default is None)

    def mapping(self) -> dict[Any, Any]:
        return dict(zip(self.keys, self.values))

    def render(self, args: list[str]) -> str:
        items = [f"{k!r}: {v!r}" for k, v in zip(self.keys[:4], self.values[:4])]
        if len(self.keys) > 4:
            items.append(f"... ({len(self.keys)} keys)")
        return f"map_values({args[0]}, {{{', '.join(items)}}}, default={self.default!r})"


@dataclass(frozen=True, slots=True)
class Bucketize(Node):
    """``bucketize(x, edges, closed)``: the index of ``x``'s bucket among fixed edges, as Int64.

    ``edges`` are finite and strictly increasing; ``k`` edges make ``k + 1``
    buckets numbered ``0 .. k``. With ``closed="left"`` buckets are
    ``[e_i, e_{i+1})`` (the index is the number of edges ``<= x``, like
    ``bisect_right`` and ``numpy.digitize``); with ``closed="right"`` they are
    ``(e_i, e_{i+1}]`` (the number of edges ``< x``). ``-inf`` is in bucket 0,
    ``+inf`` in bucket ``k``; ``-0.0`` equals ``0.0``. NaN and null give null.
    An Int64 ``x`` is compared after conversion to Float64 (as polars compares
    Int64 with Float64).
    """

    method = "bucketize"
    operand: Node
    edges: tuple[float, ...]
    closed: str = "left"

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        (a,) = args
        require(isinstance(a.dtype, (*NUMERIC, Null)), f"bucketize() needs a numeric operand, got {a.dtype!r}")
        require(self.closed in BUCKET_CLOSED, f"bucketize(): closed must be one of {BUCKET_CLOSED}, got {self.closed!r}")
        require(all(type(e) is float and math.isfinite(e) for e in self.edges),
                "bucketize(): edges must be finite floats")
        require(all(a < b for a, b in zip(self.edges, self.edges[1:])), "bucketize(): edges must be strictly increasing")
        return Field(Int64(), a.nullable or isinstance(a.dtype, Float64))

    def render(self, args: list[str]) -> str:
        edges = ", ".join(repr(e) for e in self.edges[:6]) + (", ..." if len(self.edges) > 6 else "")
        return f"bucketize({args[0]}, [{edges}], closed={self.closed!r})"


@dataclass(frozen=True, slots=True)
class OneHotColumns(Node):
    """A lowered ``one_hot``: the Int64 0/1 columns ``names``, column ``i`` being 1 where ``code == i``.

    ``code`` is a non-null Int64 (the ordinal code of a ``one_hot``: ``0 .. k-1`` for the
    vocabulary, ``k`` other, ``k + 1`` null), so exactly one column is 1 when the code is in
    ``0 .. len(names) - 1``. The node has several output columns: it can only be the root of a
    feature (whose columns are ``names``), and each backend expands it when it generates code (the
    polars one into one expression per column, the python one into a lookup of ready-made rows).
    """

    method = "one_hot_columns"
    operand: Node
    names: tuple[str, ...]

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        (a,) = args
        require(isinstance(a.dtype, Int64) and not a.nullable,
                f"one_hot_columns() needs a non-null Int64 code, got {a!r}")
        require(len(self.names) >= 1 and all(type(n) is str for n in self.names),
                "one_hot_columns() needs one column name (a str) per code")
        require(len(set(self.names)) == len(self.names), "one_hot_columns(): column names must be distinct")
        return Field(Int64(), False)

    def output_columns(self, feature: str) -> tuple[str, ...]:
        return self.names

    def render(self, args: list[str]) -> str:
        names = ", ".join(repr(n) for n in self.names[:4]) + (", ..." if len(self.names) > 4 else "")
        return f"one_hot_columns({args[0]}, [{names}])"


_ = literal_dtype
