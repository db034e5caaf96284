"""Polars rules: numeric.

Most ops map to the polars method of the same name. Where polars' own result
would depend on the frame or the engine, the rule spells out a deterministic
formulation instead (``sum_horizontal`` adds left to right).
"""

from __future__ import annotations

from ...dtypes import Float64, Int64, Null
from ...ir import numeric as ops
from .core import as_float, cast_to
from .dtypes import to_polars
from ..simplify import sum_tree
from .lazy import pl
from .table import RULES


def _is_int(arg) -> bool:
    return isinstance(arg.dtype, Int64)


def _same_or_float(method: str):
    """Int64 passes through unchanged (polars returns it as is); Float64 calls ``method``."""
    return lambda c, n, a: a[0].expr if _is_int(a[0]) else getattr(a[0].expr, method)()


RULES.register(ops.Abs)(lambda c, n, a: a[0].expr.abs())
RULES.register(ops.Sign)(lambda c, n, a: a[0].expr.sign())
RULES.register(ops.Floor)(_same_or_float("floor"))
RULES.register(ops.Ceil)(_same_or_float("ceil"))
RULES.register(ops.Exp)(lambda c, n, a: as_float(a[0]).exp())
RULES.register(ops.Log)(lambda c, n, a: as_float(a[0]).log(n.base))
RULES.register(ops.Log10)(lambda c, n, a: as_float(a[0]).log10())
RULES.register(ops.Log1p)(lambda c, n, a: as_float(a[0]).log1p())
RULES.register(ops.Sqrt)(lambda c, n, a: as_float(a[0]).sqrt())
RULES.register(ops.Cbrt)(lambda c, n, a: as_float(a[0]).cbrt())
RULES.register(ops.Sin)(lambda c, n, a: as_float(a[0]).sin())
RULES.register(ops.Cos)(lambda c, n, a: as_float(a[0]).cos())
RULES.register(ops.Tan)(lambda c, n, a: as_float(a[0]).tan())
RULES.register(ops.Arcsin)(lambda c, n, a: as_float(a[0]).arcsin())
RULES.register(ops.Arctan)(lambda c, n, a: as_float(a[0]).arctan())
RULES.register(ops.IsNan)(lambda c, n, a: a[0].expr.is_nan())
RULES.register(ops.IsFinite)(lambda c, n, a: a[0].expr.is_finite())
RULES.register(ops.IsInfinite)(lambda c, n, a: a[0].expr.is_infinite())


@RULES.register(ops.Round)
def _round(c, node, args):
    (a,) = args
    if _is_int(a):
        return a.expr
    return a.expr.round(node.decimals, mode=node.mode)


@RULES.register(ops.FillNan)
def _fill_nan(c, node, args):
    a, v = args
    dtype = c.dtype(node)
    if _is_int(a):  # an integer is never NaN
        return cast_to(a, dtype)
    if isinstance(v.dtype, Null):
        return a.expr.fill_nan(pl.lit(None, dtype=pl.Float64))
    return a.expr.fill_nan(cast_to(v, dtype))


def _clip_bound(node, operand, bound):
    if isinstance(bound.dtype, Null):
        return None
    if _is_int(operand) and isinstance(bound.dtype, Float64):
        return pl.lit(node.int_bound(bound.node), dtype=pl.Int64)
    return cast_to(bound, operand.dtype)


@RULES.register(ops.Clip)
def _clip(c, node, args):
    a, lo, hi = args
    lower, upper = _clip_bound(node, a, lo), _clip_bound(node, a, hi)
    if lower is None and upper is None:
        return a.expr
    return a.expr.clip(lower, upper)


@RULES.register(ops.IsBetween)
def _is_between(c, node, args):
    if node.all_null([a.field for a in args]):
        return pl.lit(None, dtype=pl.Boolean)
    a, lo, hi = args
    return a.expr.is_between(lo.expr, hi.expr, closed=node.closed)


def _inputs(c, node, args):
    dtype = c.dtype(node)
    return dtype, [cast_to(a, dtype) for a in args]


RULES.register(ops.MinHorizontal)(lambda c, n, a: pl.min_horizontal(_inputs(c, n, a)[1]))
RULES.register(ops.MaxHorizontal)(lambda c, n, a: pl.max_horizontal(_inputs(c, n, a)[1]))


@RULES.register(ops.SumHorizontal)
def _sum_horizontal(c, node, args):
    # polars' in-memory order spelt out (its streaming engine adds 5+ terms in another order).
    dtype, exprs = _inputs(c, node, args)
    pdtype = to_polars(dtype)
    is_int = isinstance(dtype, Int64)
    if not node.ignore_nulls and any(a.is_literal and a.node.value is None for a in args):
        return pl.lit(None, dtype=pdtype)
    zero = pl.lit(0 if is_int else 0.0, dtype=pdtype)
    terms = []
    for a, expr in zip(args, exprs):
        if a.is_literal:
            v = a.node.value
            terms.append(("const", 0 if v is None else (int(v) if is_int else float(v))))
        else:
            terms.append(("expr", expr.fill_null(zero) if node.ignore_nulls and a.nullable else expr))
    kind, out = sum_tree(terms, is_int=is_int, add=lambda x, y: x + y,
                         constant=lambda v: pl.lit(v, dtype=pdtype))
    return pl.lit(out, dtype=pdtype) if kind == "const" else out
