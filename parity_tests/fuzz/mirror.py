"""The "mirror" oracle: the same expression written in raw polars, for ops with a direct polars spelling.

The spelling is read from each IR node generically — operators by their symbol,
everything else as ``<first operand>[.<namespace>].<method>(*other operands,
**params)`` — so new ops are mirrored without a table. An op whose spelling
polars does not accept (no such method, other parameters) has no mirror, and
features holding one are skipped (counted per op).

Where skewless departs from polars on purpose, the departure is listed once in
:data:`DEVIATIONS` with its reason (each is also stated in the op's docstring and
pinned by a parity case); features holding such an op are not compared.
"""

from __future__ import annotations

import operator
from typing import Any

from skewless.backends.polars.dtypes import to_polars
from skewless.dtypes import DataType, Int64, Null
from skewless.ir import core
from skewless.ir.base import Column, Literal, Node, walk

_BINARY = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
           "//": operator.floordiv, "%": operator.mod, "**": operator.pow, "==": operator.eq,
           "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
           "&": operator.and_, "|": operator.or_, "^": operator.xor}

#: ``{op: why skewless departs from what the same polars expression gives}``. Listed once, here.
DEVIATIONS: dict[str, str] = {
    "Pow": "a column exponent: polars specialises 0.5 (sqrt) and 2..9 (repeated product) only when the exponent "
           "is one value, which a column is on one-row frames only; skewless applies the specialisations per row "
           "on every frame so the batch result does not depend on frame size (see skewless.ir.core.Pow)",
    "HashBucket": "skewless' own stable hash (polars' hash is seeded per version); no polars spelling",
    "ScalarWhen": "a ±0 term next to a when/then whose branches are all literals: polars computes such a when as ONE "
                  "scalar where its condition is the same on every row of the frame (or batch), and adds a ±0 term "
                  "to a scalar exactly (-0.0 + 0.0 = 0.0) but drops it next to a column (-0.0 stays): measured, "
                  "when(c).then(lit(-1.0)).otherwise(lit(-2.0)) * 0.0 + 0.0 is 0.0 for c = [T, T, T] and -0.0 for "
                  "c = [T, F, T] — data-dependent in polars; skewless drops the term on every frame (see "
                  "skewless.backends.simplify; found by fuzz seed 90210 through min_max_scale's (x * 0.0) + 0.0)",
    "NullOperand": "an untyped lit(None) where polars raises on the Null dtype (lit(None).dt.hour(), "
                   "when(lit(None)), lit(None) & lit(None)): skewless gives it the meaning of a typed null on both "
                   "runtimes (see skewless.ir.normalize); compared only where raw polars runs, and then with polars' "
                   "optimizations off, as its eager engine runs (run._as_written says why not lazy): polars 2.1's optimizer rewrites logic over an untyped null into other values "
                   "(measured: (~x.is_between(0, lit(None))).fill_null(False) is True for x = -5 optimized — "
                   "~ pushed through as (x < 0) | null — but False as written, where x.is_between(0, lit(None)) "
                   "is null)",
}


def has_null_operand(node: Node, fields: Any) -> bool:
    """Whether ``node`` holds a sub-expression of the Null dtype (raw polars may raise on it)."""
    return any(isinstance(fields[n].dtype, Null) for n in walk(node) if n in fields)


class NoMirror(Exception):
    """The node has no direct polars spelling."""


def deviation(node: Node) -> str | None:
    """The documented deviation ``node`` holds, if any (Pow only with a non-literal exponent)."""
    for n in walk(node):
        name = type(n).__name__
        if name in ("Add", "Sub") and _zero_term_next_to_a_literal_when(n):
            return "ScalarWhen"
        if name == "Pow" and isinstance(n.right, Literal):
            continue
        if name in DEVIATIONS:
            return name
    return None


def _zero_term_next_to_a_literal_when(node: Node) -> bool:
    def zero(n: Node) -> bool:
        return isinstance(n, Literal) and type(n.value) in (int, float) and n.value == 0

    def literal_when(n: Node) -> bool:
        values = n.children()[1:-1:2] + n.children()[-1:]
        return type(n).__name__ == "When" and all(isinstance(v, Literal) for v in values)

    left, right = node.children()
    return any(zero(z) and any(literal_when(n) for n in walk(other)) for z, other in ((left, right), (right, left)))


def _param(value: Any) -> Any:
    return to_polars(value) if isinstance(value, DataType) else value


def mirror(node: Node, fields: Any) -> Any:
    """The raw polars expression for ``node``; raises :class:`NoMirror` naming the op without one.

    Integer results are cast to Int64, skewless' only integer dtype (polars gives ``dt.hour()`` as
    Int8 and ``str.len_chars()`` as UInt32, and wraps Int8 arithmetic); that is the one systematic
    difference of spelling, not a deviation of values.
    """
    import polars as pl

    out = _mirror(node, fields)
    if not isinstance(node, (Column, Literal)) and isinstance(fields[node].dtype, Int64):
        out = out.cast(pl.Int64)
    return out


def _mirror(node: Node, fields: Any) -> Any:
    import polars as pl

    if isinstance(node, Column):
        return pl.col(node.name)
    if isinstance(node, Literal):
        from skewless.backends.polars.dtypes import literal_expr

        return literal_expr(node.value, node.dtype)  # zoned datetimes from their instant (see there)
    args = [mirror(c, fields) for c in node.children()]
    try:
        if isinstance(node, core.BinaryOp) and node.symbol in _BINARY:
            return _BINARY[node.symbol](*args)
        if isinstance(node, core.Neg):
            return -args[0]
        if isinstance(node, core.Not):
            return ~args[0]
        if isinstance(node, core.When):
            chain: Any = pl
            for i in range(0, len(args) - 1, 2):
                chain = chain.when(args[i]).then(args[i + 1])
            return chain.otherwise(args[-1])
        if isinstance(node, core.IsIn):
            return args[0].is_in([v for v in node.values])
        if type(node).__name__ in ("StrSplitGet", "StrSplitLen"):  # one fused op for polars' split-then-access
            parts = args[0].str.split(node.by, inclusive=node.inclusive).list
            if type(node).__name__ == "StrSplitLen":
                return parts.len()
            if node.accessor in ("first", "last"):
                return getattr(parts, node.accessor)()
            return parts.get(node.index, null_on_oob=node.null_on_oob)
        name = type(node).__name__
        if name in _SPELT:
            return _SPELT[name](node, args, fields)
        params = {k: _param(v) for k, v in node.params().items()}
        if node.method in ("coalesce", "min_horizontal", "max_horizontal", "sum_horizontal", "concat_str"):
            return getattr(pl, node.method)(args, **params)
        target = args[0]
        if node.namespace:
            target = getattr(target, node.namespace)
        return getattr(target, node.method or type(node).__name__.lower())(*args[1:], **params)
    except (AttributeError, TypeError) as exc:
        raise NoMirror(type(node).__name__) from exc


# --------------------------------------------------------------------------- ops spelt out in raw polars
# Ops whose node does not read as one polars call, spelt in plain polars from their documented meaning
# (bucketize by comparisons, not with the compiler's search_sorted kernel).


def _map_values(node: Any, args: list, fields: Any) -> Any:
    import polars as pl

    x, dtype = args[0], to_polars(node.dtype)
    if isinstance(fields[node.operand].dtype, Null):
        return pl.lit(None, dtype=dtype)
    # polars' replace_strict, but null is never looked up (skewless.ir.applied.MapValues). Not a when/then
    # chain of literals: polars computes that as a scalar when the frame's mask is uniform, and a scalar
    # then adds a ±0 term exactly (-0.0 + 0.0 = 0.0) where a column keeps -0.0 (see skewless.backends.simplify)
    keys = pl.Series(list(node.keys), dtype=to_polars(fields[node.operand].dtype))
    mapped = x.replace_strict(keys, pl.Series(list(node.values), dtype=dtype),
                              default=pl.lit(node.default, dtype=dtype), return_dtype=dtype)
    return pl.when(x.is_null()).then(pl.lit(None, dtype=dtype)).otherwise(mapped)


def _bucketize(node: Any, args: list, fields: Any) -> Any:
    import polars as pl

    if isinstance(fields[node.operand].dtype, Null):
        return pl.lit(None, dtype=pl.Int64)
    x = args[0].cast(pl.Float64)
    # the number of edges <= x (closed="left") or < x (closed="right"); NaN (and null) give null
    counts = [((x >= e) if node.closed == "left" else (x > e)).cast(pl.Int64) for e in node.edges]
    counted = pl.sum_horizontal(counts) if counts else pl.lit(0, dtype=pl.Int64)
    return pl.when(x.is_not_null() & ~x.is_nan()).then(counted)


def _make_duration(node: Any, args: list, fields: Any) -> Any:
    import polars as pl

    return pl.duration(**dict(zip(node.parts, args)), time_unit=node.time_unit)


_SPELT = {"MapValues": _map_values, "Bucketize": _bucketize, "MakeDuration": _make_duration}
