"""Polars rules for the core ops. Rules receive ``PArg`` operands (``.expr``, ``.field``, ``.node``)."""

from __future__ import annotations

import math
import operator

from ...dtypes import Float64, Int64
from ...ir import core as ops
from ...runtime import arith
from ..simplify import zero_literal_shortcut
from .dtypes import to_polars
from .lazy import pl
from .table import RULES


def as_float(arg):
    return arg.expr.cast(pl.Float64) if isinstance(arg.dtype, Int64) else arg.expr


def quotient(a, b):
    """``a / b``; a literal divisor becomes ``a * (1 / k)`` (see :class:`skewless.ir.core.TrueDiv`), except
    under a literal dividend: polars divides two scalars exactly."""
    if b.is_literal and b.node.value is not None and not (a.is_literal and a.node.value is not None):
        return as_float(a) * pl.lit(arith.fdiv(1.0, float(b.node.value)), dtype=pl.Float64)
    return as_float(a) / as_float(b)


def cast_to(arg, dtype):
    return arg.expr if arg.dtype == dtype else arg.expr.cast(to_polars(dtype))




@RULES.register(ops.Add, ops.Sub)
def _add_sub(c, node, args):
    a, b = args
    if isinstance(c.dtype(node), Float64):
        skip = zero_literal_shortcut(node, a, b)
        if skip is not None:
            kept, negate = skip
            return -as_float(kept) if negate else as_float(kept)
    return a.expr + b.expr if isinstance(node, ops.Add) else a.expr - b.expr


RULES.register(ops.Mul)(lambda c, n, a: a[0].expr * a[1].expr)
RULES.register(ops.TrueDiv)(lambda c, n, a: quotient(a[0], a[1]))
RULES.register(ops.Neg)(lambda c, n, a: -a[0].expr)


def _comparison(compare, mirrored):
    """A comparison rule. With a literal on the left only, the mirrored comparison is emitted (``lit(0.5) > x``
    as ``x < lit(0.5)``, the same value in polars' total order and null rules): polars 2.1's in-memory engine
    gives ONE row for a literal compared with an expression it takes for a possible scalar — ``when(c).then(
    lit(1.0)).otherwise(f)``, ``coalesce(lit, col)``, ``lit.fill_null(col)`` — when the frame has more (the
    streaming engine and the mirrored form give every row; measured, found by the differential fuzzer)."""

    def rule(c, node, args):
        left, right = args
        if left.is_literal and not right.is_literal:
            return mirrored(right.expr, left.expr)
        return compare(left.expr, right.expr)

    return rule


RULES.register(ops.Eq)(_comparison(operator.eq, operator.eq))
RULES.register(ops.Ne)(_comparison(operator.ne, operator.ne))
RULES.register(ops.Lt)(_comparison(operator.lt, operator.gt))
RULES.register(ops.Le)(_comparison(operator.le, operator.ge))
RULES.register(ops.Gt)(_comparison(operator.gt, operator.lt))
RULES.register(ops.Ge)(_comparison(operator.ge, operator.le))
RULES.register(ops.EqMissing)(_comparison(lambda x, y: x.eq_missing(y), lambda x, y: x.eq_missing(y)))
RULES.register(ops.NeMissing)(_comparison(lambda x, y: x.ne_missing(y), lambda x, y: x.ne_missing(y)))
RULES.register(ops.And)(lambda c, n, a: a[0].expr & a[1].expr)
RULES.register(ops.Or)(lambda c, n, a: a[0].expr | a[1].expr)
RULES.register(ops.Xor)(lambda c, n, a: a[0].expr ^ a[1].expr)
RULES.register(ops.Not)(lambda c, n, a: ~a[0].expr)
RULES.register(ops.IsNull)(lambda c, n, a: a[0].expr.is_null())
RULES.register(ops.IsNotNull)(lambda c, n, a: a[0].expr.is_not_null())
RULES.register(ops.Cast)(lambda c, n, a: a[0].expr.cast(to_polars(n.dtype), strict=n.strict))


@RULES.register(ops.FloorDiv)
def _floordiv(c, node, args):
    a, b = args
    if isinstance(c.dtype(node), Int64):
        return a.expr // b.expr
    return quotient(a, b).floor()


@RULES.register(ops.Mod)
def _mod(c, node, args):
    a, b = args
    if isinstance(c.dtype(node), Int64):
        return a.expr % b.expr
    # polars' float modulo is a - b * floor(a / b); spelt out so the division follows TrueDiv.
    y = as_float(b) * quotient(a, b).floor()
    if a.is_literal and type(a.node.value) in (int, float) and a.node.value == 0:
        # ``lit(0.0) - y`` would meet polars' own ``0.0 - x -> -x`` (giving -0.0 for y = 0.0), which
        # its modulo kernel does not do. With a = ±0, y is ±0, NaN or null: a - y spelt out.
        if math.copysign(1.0, float(a.node.value)) < 0:
            return -y
        return pl.when(y.is_nan() | y.is_null()).then(y).otherwise(pl.lit(0.0, dtype=pl.Float64))
    return as_float(a) - y


@RULES.register(ops.Pow)
def _pow(c, node, args):
    """Pin polars' scalar-exponent specialisations so the result never depends on the frame.

    Polars computes ``x ** y`` with C ``pow`` except when the exponent is a
    single value: ``0.5`` becomes ``sqrt`` and the integers 2..9 a repeated
    product. A column exponent is "a single value" on a one-row frame only, so
    for columns the same specialisations are spelt out per row with when/then
    (only those that can change the result when the base is a literal).
    """
    from ...dtypes import Null

    def product(x, k: int):  # x * x * ... * x, left to right, as polars' loop
        out = x
        for _ in range(k - 1):
            out = out * x
        return out

    a, b = args
    if isinstance(c.dtype(node), Int64):
        return a.expr.pow(pl.lit(b.node.value, dtype=pl.UInt32))
    x = as_float(a)
    if b.is_literal and b.node.value is not None:
        k = float(b.node.value)
        if k == 1.0:
            return x
        if k == 0.5:
            return x.sqrt()
        if k in arith.SPECIAL_EXPONENTS:
            return product(x, int(k))
        return x.pow(pl.lit(k, dtype=pl.Float64))
    if isinstance(b.dtype, Null):
        return pl.lit(None, dtype=pl.Float64)
    y = as_float(b)
    specials = arith.SPECIAL_EXPONENTS
    if a.is_literal and a.node.value is not None:
        specials = arith.special_exponents_for(float(a.node.value))
    chain = None
    for k in specials:
        value = x.sqrt() if k == 0.5 else product(x, int(k))
        chain = (pl if chain is None else chain).when(y == k).then(value)
    return x.pow(y) if chain is None else chain.otherwise(x.pow(y))


@RULES.register(ops.FillNull)
def _fill_null(c, node, args):
    dtype = c.dtype(node)
    return cast_to(args[0], dtype).fill_null(cast_to(args[1], dtype))


@RULES.register(ops.Coalesce)
def _coalesce(c, node, args):
    dtype = c.dtype(node)
    return pl.coalesce([cast_to(a, dtype) for a in args])


@RULES.register(ops.When)
def _when(c, node, args):
    dtype = c.dtype(node)
    chain = pl
    for i in range(0, len(args) - 1, 2):
        chain = chain.when(args[i].expr).then(cast_to(args[i + 1], dtype))
    return chain.otherwise(cast_to(args[-1], dtype))


@RULES.register(ops.IsIn)
def _is_in(c, node, args):
    (a,) = args
    values = [v for v in node.values if v is not None]
    dtype = to_polars(args[0].dtype if values else node.values_dtype)
    return a.expr.is_in(pl.lit(pl.Series(values, dtype=dtype)).implode())


