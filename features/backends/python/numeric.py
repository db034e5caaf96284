"""Python rules: numeric.

Math functions are inlined as guarded ``math`` calls where Python would raise
(``log(0)``, ``sqrt(-1)``, ``sin(inf)``) so the common path is one C call; the
rest call helpers from :mod:`skewless.runtime.numeric`.
"""

from __future__ import annotations

import math

from ...dtypes import Float64, Int64, Null
from ...ir import numeric as ops
from ...ir.base import INT64_MAX, INT64_MIN
from ...runtime import arith
from ...runtime import numeric as rt
from ..simplify import sum_tree
from .codegen import Arg, Emitter
from .core import _float_compare, coerce, compare_src  # noqa: PLC2701 (polars' float order, shared)
from .table import RULES

_F64 = Float64()
_INF = float("inf")
_NAN = float("nan")


def _is_int(arg: Arg) -> bool:
    return isinstance(arg.dtype, Int64)


def _num(e: Emitter, arg: Arg) -> str:
    """The operand as a float, for rules whose operand is known not to be null here."""
    if not _is_int(arg):
        return arg.src
    if arg.is_literal:
        return "None" if arg.node.value is None else e.literal(float(arg.node.value))
    return f"float({arg.src})"


def _is_null_literal(arg: Arg) -> bool:
    return arg.is_literal and arg.node.value is None


# --------------------------------------------------------------------------- same dtype


@RULES.register(ops.Abs)
def _abs(e: Emitter, node, args: list[Arg]):
    (a,) = args
    if _is_int(a) and e.ranges.may_overflow(node):  # abs(INT64_MIN) wraps to itself
        return f"({a.src} if {a.src} == {e.literal(INT64_MIN)} else abs({a.src}))"
    return f"abs({a.src})"


@RULES.register(ops.Sign)
def _sign(e: Emitter, node, args: list[Arg]):
    (a,) = args
    x = a.src
    if _is_int(a):
        return f"({x} > 0) - ({x} < 0)"
    return f"(1.0 if {x} > 0.0 else (-1.0 if {x} < 0.0 else {x}))"  # keeps -0.0 and NaN


@RULES.register(ops.Floor)
def _floor(e: Emitter, node, args: list[Arg]):
    (a,) = args
    return a.src if _is_int(a) else f"{e.helper(arith.floorf)}({a.src})"


@RULES.register(ops.Ceil)
def _ceil(e: Emitter, node, args: list[Arg]):
    (a,) = args
    return a.src if _is_int(a) else f"{e.helper(arith.ceilf)}({a.src})"


@RULES.register(ops.Round)
def _round(e: Emitter, node, args: list[Arg]):
    (a,) = args
    if _is_int(a):
        return a.src
    x = a.src
    rounder = e.helper(rt.round_half_even if node.mode == "half_to_even" else rt.round_half_away)
    kind, consts = rt.round_plan(node.decimals)
    if kind == "int":
        return f"{rounder}({x})"
    if kind == "same":
        return x
    inf, ninf = e.literal(_INF), e.literal(-_INF)
    if kind == "split":
        mul2, mul5, inv2 = (e.literal(c) for c in consts)
        scaled = f"{rounder}({x} * {mul2} * {mul5}) / {mul5} * {inv2}"
    else:
        mul = e.literal(consts[0])
        scaled = f"{rounder}({x} * {mul}) / {mul}"
    # Polars keeps the value itself when the rescaled result is not finite (overflow, NaN, inf).
    return [f"{{out}} = {scaled}", f"if not {ninf} < {{out}} < {inf}: {{out}} = {x}"]


# --------------------------------------------------------------------------- Float64 functions


def _ln_src(e: Emitter, a: Arg) -> str:
    if _is_int(a):
        return f"{e.helper(rt.ln)}({_num(e, a)})"
    x = a.src
    return f"({e.helper(math.log)}({x}) if {x} > 0.0 else ({e.literal(-_INF)} if {x} == 0.0 else {e.literal(_NAN)}))"


def _log_over(e: Emitter, a: Arg, divisor: float) -> str:
    """``ln(a) / divisor`` with IEEE division (polars' ``log(base)``)."""
    ln = _ln_src(e, a)
    if divisor == 1.0:
        return ln
    if divisor == 0.0:  # base 1
        return f"{e.helper(arith.fdiv)}({ln}, {e.literal(divisor)})"
    return f"{ln} / {e.literal(divisor)}"


@RULES.register(ops.Log)
def _log(e: Emitter, node, args: list[Arg]):
    return _log_over(e, args[0], rt.log_base_divisor(node.base))


@RULES.register(ops.Log10)
def _log10(e: Emitter, node, args: list[Arg]):
    return _log_over(e, args[0], rt.log_base_divisor(10.0))


@RULES.register(ops.Log1p)
def _log1p(e: Emitter, node, args: list[Arg]):
    (a,) = args
    if _is_int(a):
        return f"{e.helper(rt.log1p)}({_num(e, a)})"
    x = a.src
    return f"({e.helper(math.log1p)}({x}) if {x} > -1.0 else ({e.literal(-_INF)} if {x} == -1.0 else {e.literal(_NAN)}))"


@RULES.register(ops.Sqrt)
def _sqrt(e: Emitter, node, args: list[Arg]):
    (a,) = args
    x = _num(e, a) if a.is_literal else a.src  # math.sqrt converts an int exactly like float()
    return f"({e.helper(math.sqrt)}({x}) if {x} >= 0.0 else {e.literal(_NAN)})"


def _trig(fn):
    def rule(e: Emitter, node, args: list[Arg]):
        (a,) = args
        if _is_int(a):  # never infinite
            return f"{e.helper(fn)}({_num(e, a)})"
        x = a.src
        return f"({e.helper(fn)}({x}) if {e.literal(-_INF)} < {x} < {e.literal(_INF)} else {e.literal(_NAN)})"

    return rule


RULES.register(ops.Sin)(_trig(math.sin))
RULES.register(ops.Cos)(_trig(math.cos))
RULES.register(ops.Tan)(_trig(math.tan))


def _math_fn(fn, domain: tuple[float, float] | None = None):
    """Rule of a unary math function computed by ``fn`` (a ``math`` function, polars' libm result).

    Int64 operands are converted to float first. ``domain``: the closed interval outside which
    polars gives NaN where ``fn`` would raise (NaN stays NaN: it fails the range test).
    """

    def rule(e: Emitter, node, args: list[Arg]):
        x = _num(e, args[0])
        call = f"{e.helper(fn)}({x})"
        if domain is None:
            return call
        lo, hi = (e.literal(float(v)) for v in domain)
        return f"({call} if {lo} <= {x} <= {hi} else {e.literal(_NAN)})"

    return rule


RULES.register(ops.Exp)(_math_fn(rt.exp))
RULES.register(ops.Cbrt)(_math_fn(rt.cbrt))
RULES.register(ops.Arcsin)(_math_fn(math.asin, domain=(-1, 1)))
RULES.register(ops.Arctan)(_math_fn(math.atan))


# --------------------------------------------------------------------------- NaN


@RULES.register(ops.IsNan)
def _is_nan(e: Emitter, node, args: list[Arg]):
    (a,) = args
    return "False" if _is_int(a) else f"{a.src} != {a.src}"


@RULES.register(ops.IsFinite)
def _is_finite(e: Emitter, node, args: list[Arg]):
    (a,) = args
    return "True" if _is_int(a) else f"{e.literal(-_INF)} < {a.src} < {e.literal(_INF)}"


@RULES.register(ops.IsInfinite)
def _is_infinite(e: Emitter, node, args: list[Arg]):
    (a,) = args
    return "False" if _is_int(a) else f"({a.src} == {e.literal(_INF)} or {a.src} == {e.literal(-_INF)})"


@RULES.register(ops.FillNan)
def _fill_nan(e: Emitter, node, args: list[Arg]):
    a, v = args
    dtype = e.fields[node].dtype
    if _is_int(a):  # an integer is never NaN
        return coerce(e, a, dtype)
    x = a.src
    # A null x compares unequal to itself as False, so it stays None.
    return f"({coerce(e, v, dtype)} if {x} != {x} else {x})"


# --------------------------------------------------------------------------- bounds


def _bound_src(e: Emitter, node, operand: Arg, bound: Arg, stmts: list[str]) -> tuple[str, bool] | None:
    """Source of a clip bound in the operand's dtype and whether it may be None; None when there is no bound."""
    if _is_null_literal(bound) or isinstance(bound.dtype, Null):
        return None
    if _is_int(operand) and isinstance(bound.dtype, Float64):
        return e.literal(node.int_bound(bound.node)), False  # polars truncates a float literal bound
    if isinstance(operand.dtype, Float64) and _is_int(bound):
        if bound.is_literal:
            return e.literal(float(bound.node.value)), False
        tmp = e.tmp()
        stmts.append(f"{tmp} = {coerce(e, bound, _F64)}")
        return tmp, bound.nullable
    return bound.src, bound.nullable


@RULES.register(ops.Clip)
def _clip(e: Emitter, node, args: list[Arg]):
    a, lo, hi = args
    stmts: list[str] = []
    x = a.src
    expr = x
    # Polars: lower if x < lower, else upper if x > upper, else x (IEEE comparisons; null bound = none).
    for bound, sym in ((hi, ">"), (lo, "<")):
        b = _bound_src(e, node, a, bound, stmts)
        if b is None:
            continue
        src, nullable = b
        cond = f"{src} is not None and {x} {sym} {src}" if nullable else f"{x} {sym} {src}"
        expr = f"({src} if {cond} else {expr})"
    if a.nullable and expr != x:
        expr = f"(None if {x} is None else {expr})"
    return stmts + [f"{{out}} = {expr}"]


@RULES.register(ops.IsBetween)
def _is_between(e: Emitter, node, args: list[Arg]):
    if node.all_null([a.field for a in args]):
        return "None"
    x, lo, hi = args
    lo_sym = ">=" if node.closed in ("both", "left") else ">"
    hi_sym = "<=" if node.closed in ("both", "right") else "<"
    stmts: list[str] = []
    if any(isinstance(a.dtype, Float64) for a in args):
        # Polars compares all three in their supertype: 2**53 + 1 is between 1.5 and 2**53.
        srcs = []
        for a in args:
            src = _num(e, a)
            if src != a.src and not a.is_literal:  # an Int64 column: convert once
                tmp = e.tmp()
                stmts.append(f"{tmp} = None if {a.src} is None else {src}" if a.nullable else f"{tmp} = {src}")
                src = tmp
            srcs.append(src)
        nan = [_may_be_nan(a, _F64) for a in args]
        tests = [
            f"({_float_compare(lo_sym, srcs[0], srcs[1], nan[0], nan[1])})",
            f"({_float_compare(hi_sym, srcs[0], srcs[2], nan[0], nan[2])})",
        ]
    else:
        tests = [f"({compare_src(e, lo_sym, x, lo)})", f"({compare_src(e, hi_sym, x, hi)})"]
    if not (lo.nullable or hi.nullable):
        both = f"{tests[0]} and {tests[1]}"
        out = f"None if {x.src} is None else ({both})" if x.nullable else both
        return stmts + [f"{{out}} = {out}"] if stmts else out
    # Kleene AND of two comparisons that may each be null: False wins over null.
    names = []
    for test, bound in zip(tests, (lo, hi)):
        name = e.tmp()
        names.append(name)
        nulls = [a.src for a in (x, bound) if a.nullable]
        guard = " or ".join(f"{n} is None" for n in nulls)
        stmts.append(f"{name} = None if {guard} else {test}" if nulls else f"{name} = {test}")
    l, h = names
    stmts.append(f"{{out}} = False if ({l} is False or {h} is False) else (None if ({l} is None or {h} is None) else True)")
    return stmts


# --------------------------------------------------------------------------- horizontal


def _as(e: Emitter, arg: Arg, dtype, stmts: list[str]) -> str:
    """``arg`` converted to ``dtype``, in a temporary when the conversion is not free."""
    src = coerce(e, arg, dtype)
    if src == arg.src or arg.is_literal:
        return src
    tmp = e.tmp()
    stmts.append(f"{tmp} = {src}")
    return tmp


def _may_be_nan(arg: Arg, dtype) -> bool:
    if not isinstance(dtype, Float64) or _is_int(arg):
        return False
    if arg.is_literal:
        v = arg.node.value
        return v != v
    return True


@RULES.register(ops.MinHorizontal, ops.MaxHorizontal)
def _min_max_horizontal(e: Emitter, node, args: list[Arg]):
    dtype = e.fields[node].dtype
    sym = ">=" if isinstance(node, ops.MaxHorizontal) else "<="  # among equal values the last wins
    stmts: list[str] = []
    out_none = out_nan = False
    first = True
    for arg in args:
        if _is_null_literal(arg):
            continue
        src = _as(e, arg, dtype, stmts)
        if first:
            stmts.append(f"{{out}} = {src}")
            out_none, out_nan, first = arg.nullable, _may_be_nan(arg, dtype), False
            continue
        take = [f"{src} {sym} {{out}}"]
        if out_nan:
            take.insert(0, "{out} != {out}")  # NaN is replaced by anything (NaN only when all are NaN)
        if out_none:
            take.insert(0, "{out} is None")
        cond = " or ".join(take)
        if arg.nullable:
            cond = f"{src} is not None and ({cond})"
        stmts.append(f"if {cond}: {{out}} = {src}")
        out_none = out_none and arg.nullable
        out_nan = out_nan or _may_be_nan(arg, dtype)
    if first:  # every operand is a null literal
        stmts.append("{out} = None")
    return stmts


@RULES.register(ops.SumHorizontal)
def _sum_horizontal(e: Emitter, node, args: list[Arg]):
    dtype = e.fields[node].dtype
    is_int = isinstance(dtype, Int64)
    if not node.ignore_nulls and any(_is_null_literal(a) for a in args):
        return "None"
    zero = "0" if is_int else "0.0"
    terms = []
    nullable: list[str] = []
    for arg in args:
        if arg.is_literal:
            v = arg.node.value
            terms.append(("const", 0 if v is None else (int(v) if is_int else float(v))))
            continue
        src = arg.src if is_int else _num(e, arg)
        if arg.nullable:
            nullable.append(arg.src)
            if node.ignore_nulls:
                src = f"({src} if {arg.src} is not None else {zero})"
        terms.append(("expr", src))
    kind, total = sum_tree(terms, is_int=is_int, add=lambda x, y: f"({x} + {y})", constant=e.literal)
    if kind == "const":
        return e.literal(total)
    guard = ""
    if nullable and not node.ignore_nulls:
        guard = " or ".join(f"{n} is None" for n in dict.fromkeys(nullable))
        total = f"None if {guard} else {total}"
    if not is_int or " + " not in total:
        return total  # (one Int64 term cannot overflow)
    maybe_none = "{out} is not None and " if guard else ""
    return [
        f"{{out}} = {total}",
        f"if {maybe_none}not {INT64_MIN} <= {{out}} <= {INT64_MAX}: {{out}} = {e.helper(arith.wrap64)}({{out}})",
    ]
