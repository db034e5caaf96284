"""Python rules for the core ops (arithmetic, comparison, logic, nulls, when, is_in, cast).

A rule returns either one expression (evaluated only when no null-propagating
operand is null) or a list of statements assigning ``{out}``.
"""

from __future__ import annotations

import dataclasses
import math

from ...dtypes import Boolean, DataType, Date, Datetime, Duration, Float64, Int64, Null, String
from ...ir import core as ops
from ...runtime import arith, casts
from ...runtime import temporal as rt_temporal
from ...runtime.convert import literal_to_internal
from ..simplify import zero_literal_shortcut
from .codegen import Arg, Emitter
from .table import RULES

_MIN, _MAX = arith.INT64_MIN, arith.INT64_MAX


def coerce(e: Emitter, arg: Arg, dtype: DataType) -> str:
    """Source of ``arg`` converted to ``dtype`` (Int64 -> Float64 is the only implicit cast)."""
    if isinstance(dtype, Float64) and isinstance(arg.dtype, Int64):
        if arg.is_literal:  # (a typed null literal stays None)
            return "None" if arg.node.value is None else e.literal(float(arg.node.value))
        return f"float({arg.src})" if not arg.maybe_none else f"(None if {arg.src} is None else float({arg.src}))"
    return arg.src


def _wrap_stmts(e: Emitter, expr: str) -> list[str]:
    return [f"{{out}} = {expr}", f"if not {_MIN} <= {{out}} <= {_MAX}: {{out}} = {e.helper(arith.wrap64)}({{out}})"]


def _out_dtype(e: Emitter, node) -> DataType:
    return e.fields[node].dtype


@RULES.register(ops.Add, ops.Sub, ops.Mul)
def _arith(e: Emitter, node, args: list[Arg]):
    a, b = args
    sym = node.symbol
    dtype = _out_dtype(e, node)
    if isinstance(dtype, Int64) or (isinstance(a.dtype, Int64) and isinstance(b.dtype, Int64)):
        if not e.ranges.may_overflow(node):  # e.g. hhmm // 100 * 60: no wrap can happen
            return f"{a.src} {sym} {b.src}"
        return _wrap_stmts(e, f"{a.src} {sym} {b.src}")
    if isinstance(dtype, Float64):
        skip = zero_literal_shortcut(node, a, b)
        if skip is not None:
            kept, negate = skip
            return f"-{coerce(e, kept, dtype)}" if negate else coerce(e, kept, dtype)
        return f"{coerce(e, a, dtype)} {sym} {coerce(e, b, dtype)}"
    if any(isinstance(x.dtype, (Date, Datetime, Duration)) for x in (a, b)):
        return _temporal_arith(e, node, a, b, dtype)
    return f"{a.src} {sym} {b.src}"  # String concatenation


_PER_DAY = {"us": 86_400_000_000, "ms": 86_400_000}


def _in_unit(e: Emitter, arg: Arg, unit: str) -> str:
    """``arg``'s count in ``unit`` as polars converts it for temporal arithmetic (see ``ir.core.temporal_arith``):
    a Date is its midnight, a Datetime is floored to ``ms``, a Duration truncated toward zero."""
    dtype = arg.dtype
    if isinstance(dtype, Date):
        return f"{arg.src} * {_PER_DAY[unit]}"
    if dtype.time_unit == unit:
        return arg.src
    if isinstance(dtype, Datetime):  # us -> ms: polars' cast floors
        return f"{arg.src} // 1000"
    return f"{e.helper(rt_temporal.trunc_div)}({arg.src}, 1000)"  # Duration us -> ms: truncated toward zero


def _temporal_arith(e: Emitter, node, a: Arg, b: Arg, dtype: DataType):
    """Date/Datetime/Duration ``+``/``-`` on the physical counts, Int64 wrapping as in polars."""
    sym = node.symbol
    if isinstance(dtype, Date):  # Date ± Duration: midnight ± span in the Duration's unit, floored to the day
        unit = (b if isinstance(b.dtype, Duration) else a).dtype.time_unit
        out = [*_wrap_stmts(e, f"{_in_unit(e, a, unit)} {sym} {_in_unit(e, b, unit)}"),
               f"{{out}} = {{out}} // {_PER_DAY[unit]}"]
        if unit == "ms":  # polars' Date is an Int32 day count: a result outside it is null
            out.append(f"if not {-(2**31)} <= {{out}} <= {2**31 - 1}: {{out}} = None")
        return out
    if isinstance(a.dtype, Date) and isinstance(b.dtype, Date):  # day counts -> a Duration in microseconds
        return f"({a.src} - {b.src}) * 86400000000"
    unit = dtype.time_unit
    return _wrap_stmts(e, f"{_in_unit(e, a, unit)} {sym} {_in_unit(e, b, unit)}")




def _reciprocal(value: float) -> float:
    return arith.fdiv(1.0, float(value))


def _quotient(e: Emitter, a: Arg, b: Arg) -> str:
    """``a / b`` as both runtimes compute it (also inside ``//`` and ``%``): a literal divisor becomes a
    reciprocal multiply, except under a literal dividend — a constant, folded when the feature set is defined:
    polars divides two scalars exactly on every frame size and engine (measured for ``/``, ``//`` and ``%``)."""
    fa = coerce(e, a, Float64())
    if b.is_literal and b.node.value is not None and not (a.is_literal and a.node.value is not None):
        return f"{fa} * {e.literal(_reciprocal(b.node.value))}"
    if a.is_literal and b.is_literal and b.node.value is not None:
        return f"{e.helper(arith.fdiv)}({fa}, {coerce(e, b, Float64())})"
    fb = coerce(e, b, Float64())
    if isinstance(b.dtype, Int64):
        return f"({fa} / {fb} if {b.src} else {e.helper(arith.fdiv)}({fa}, {fb}))"
    return f"({fa} / {fb} if {fb} else {e.helper(arith.fdiv)}({fa}, {fb}))"


@RULES.register(ops.TrueDiv)
def _truediv(e: Emitter, node, args: list[Arg]):
    return _quotient(e, *args)


@RULES.register(ops.FloorDiv)
def _floordiv(e: Emitter, node, args: list[Arg]):
    a, b = args
    if isinstance(_out_dtype(e, node), Int64):
        if b.is_literal and b.node.value not in (0, -1):
            return f"{a.src} // {b.src}"
        return [f"{{out}} = {a.src} // {b.src} if {b.src} else None",
                f"if {{out}} == {_MAX + 1}: {{out}} = {_MIN}"]  # INT64_MIN // -1 wraps
    return f"{e.helper(arith.floorf)}({_quotient(e, a, b)})"


@RULES.register(ops.Mod)
def _mod(e: Emitter, node, args: list[Arg]):
    a, b = args
    if isinstance(_out_dtype(e, node), Int64):
        if b.is_literal and b.node.value != 0:
            return f"{a.src} % {b.src}"
        return f"{a.src} % {b.src} if {b.src} else None"
    fb = coerce(e, b, Float64())
    return f"{coerce(e, a, Float64())} - {fb} * {e.helper(arith.floorf)}({_quotient(e, a, b)})"


@RULES.register(ops.Pow)
def _pow(e: Emitter, node, args: list[Arg]):
    """Mirror of the polars rule: sqrt for ``** 0.5``, a repeated product for ``** 2`` .. ``** 9``, else C pow."""
    a, b = args
    if isinstance(_out_dtype(e, node), Int64):
        return f"{e.helper(arith.ipow)}({a.src}, {b.src})"
    if b.is_literal and b.node.value is not None:
        k = float(b.node.value)
        x = f"float({a.src})" if isinstance(a.dtype, Int64) and not a.is_literal else coerce(e, a, Float64())
        if k == 1.0:
            return x
        if k == 0.5:
            return f"{e.helper(arith.fsqrt)}({x})"
        if k in arith.SPECIAL_EXPONENTS:
            if x != a.src and not a.is_literal:  # an Int64 column: convert once
                return [f"{{out}} = {x}", "{out} = " + " * ".join(["{out}"] * int(k))]
            return " * ".join([x] * int(k))
        return f"{e.helper(arith.fpow)}({x}, {e.literal(k)})"
    fn = arith.fpow_scalar
    if a.is_literal and a.node.value is not None and not arith.special_exponents_for(float(a.node.value)):
        fn = arith.fpow
    return f"{e.helper(fn)}({coerce(e, a, Float64())}, {coerce(e, b, Float64())})"


@RULES.register(ops.Neg)
def _neg(e: Emitter, node, args: list[Arg]):
    (a,) = args
    if isinstance(a.dtype, (Int64, Duration)):  # a Duration's count wraps like Int64 (polars)
        if not e.ranges.may_overflow(node):
            return f"-{a.src}"
        return [f"{{out}} = -{a.src}", f"if {{out}} == {_MAX + 1}: {{out}} = {_MIN}"]
    return f"-{a.src}"


# --------------------------------------------------------------------------- comparisons


def _maybe_nan(arg: Arg) -> bool:
    if arg.is_literal:
        v = arg.node.value
        return isinstance(v, float) and v != v
    return isinstance(arg.dtype, Float64)


def _float_compare(sym: str, a: str, b: str, a_nan: bool, b_nan: bool) -> str:
    # a_nan / b_nan: whether the operand may be NaN (False for non-NaN literals and ints).
    """Polars' total order on floats: NaN == NaN, and NaN above everything else."""
    if sym in (">", ">="):  # a > b  <=>  b < a
        return _float_compare("<" if sym == ">" else "<=", b, a, b_nan, a_nan)
    if sym == "==":
        return f"({a} == {b} or ({a} != {a} and {b} != {b}))" if a_nan and b_nan else f"{a} == {b}"
    if sym == "!=":
        return f"not ({a} == {b} or ({a} != {a} and {b} != {b}))" if a_nan and b_nan else f"{a} != {b}"
    if sym == "<":
        if not b_nan:
            return f"{a} < {b}"
        return f"({a} < {b} or ({b} != {b} and {a} == {a}))" if a_nan else f"({a} < {b} or {b} != {b})"
    # "<="
    return f"({a} <= {b} or {b} != {b})" if b_nan else f"{a} <= {b}"


def compare_src(e: Emitter, sym: str, a: Arg, b: Arg) -> str:
    if isinstance(a.dtype, Float64) or isinstance(b.dtype, Float64):
        fa, fb = coerce(e, a, Float64()), coerce(e, b, Float64())
        return _float_compare(sym, fa, fb, _maybe_nan(a), _maybe_nan(b))
    return f"{a.src} {sym} {b.src}"


@RULES.register(ops.Eq, ops.Ne, ops.Lt, ops.Le, ops.Gt, ops.Ge)
def _compare(e: Emitter, node, args: list[Arg]):
    return compare_src(e, node.symbol, *args)


@RULES.register(ops.EqMissing, ops.NeMissing)
def _eq_missing(e: Emitter, node, args: list[Arg]):
    a, b = args
    eq = compare_src(e, "==", a, b)
    if a.nullable and b.nullable:
        eq = f"(({a.src} is None and {b.src} is None) or ({a.src} is not None and {b.src} is not None and {eq}))"
    elif a.nullable or b.nullable:
        maybe_null = a.src if a.nullable else b.src
        eq = f"({maybe_null} is not None and {eq})"
    return f"not {eq}" if isinstance(node, ops.NeMissing) else eq


# --------------------------------------------------------------------------- Kleene logic


@RULES.register(ops.And)
def _and(e: Emitter, node, args: list[Arg]):
    a, b = args
    if not (a.nullable or b.nullable):
        return f"{a.src} and {b.src}"
    return f"False if ({a.src} is False or {b.src} is False) else (None if ({a.src} is None or {b.src} is None) else True)"


@RULES.register(ops.Or)
def _or(e: Emitter, node, args: list[Arg]):
    a, b = args
    if not (a.nullable or b.nullable):
        return f"{a.src} or {b.src}"
    return f"True if ({a.src} is True or {b.src} is True) else (None if ({a.src} is None or {b.src} is None) else False)"


@RULES.register(ops.Xor)
def _xor(e: Emitter, node, args: list[Arg]):
    a, b = args
    return f"{a.src} != {b.src}"


@RULES.register(ops.Not)
def _not(e: Emitter, node, args: list[Arg]):
    return f"not {args[0].src}"


# --------------------------------------------------------------------------- nulls


@RULES.register(ops.IsNull)
def _is_null(e: Emitter, node, args: list[Arg]):
    (a,) = args
    if not a.nullable:
        return "False"
    return f"{a.src} is None"


@RULES.register(ops.IsNotNull)
def _is_not_null(e: Emitter, node, args: list[Arg]):
    (a,) = args
    if not a.nullable:
        return "True"
    return f"{a.src} is not None"


def _first_non_null(e: Emitter, args: list[Arg], dtype: DataType) -> str:
    out = coerce(e, args[-1], dtype)
    for arg in reversed(args[:-1]):
        if not arg.nullable:
            out = coerce(e, arg, dtype)
            continue
        present = dataclasses.replace(arg, guarded=True)  # tested just below: no second None test
        out = f"({coerce(e, present, dtype)} if {arg.src} is not None else {out})"
    return out


@RULES.register(ops.FillNull)
def _fill_null(e: Emitter, node, args: list[Arg]):
    return _first_non_null(e, args, _out_dtype(e, node))


@RULES.register(ops.Coalesce)
def _coalesce(e: Emitter, node, args: list[Arg]):
    return _first_non_null(e, args, _out_dtype(e, node))


@RULES.register(ops.When)
def _when(e: Emitter, node, args: list[Arg]):
    dtype = _out_dtype(e, node)
    out = coerce(e, args[-1], dtype)
    for i in range(len(args) - 3, -1, -2):
        cond, value = args[i], args[i + 1]
        # A null condition is falsy in Python and counts as False in polars.
        out = f"({coerce(e, value, dtype)} if {cond.src} else {out})"
    return out


@RULES.register(ops.IsIn)
def _is_in(e: Emitter, node, args: list[Arg]):
    (a,) = args
    values = [literal_to_internal(v, node.values_dtype) for v in node.values if v is not None]
    has_nan = any(isinstance(v, float) and v != v for v in values)
    members = frozenset(v for v in values if not (isinstance(v, float) and v != v))
    src = f"{a.src} in {e.const(members, 'set')}"
    if has_nan:
        src = f"({src} or {a.src} != {a.src})"
    return src


# --------------------------------------------------------------------------- casts


@RULES.register(ops.Cast)
def _cast(e: Emitter, node, args: list[Arg]):
    (a,) = args
    src, dst, x = a.dtype, node.dtype, a.src
    if src == dst or isinstance(src, Null):
        return x
    strict = node.strict
    if isinstance(dst, Float64):
        if isinstance(src, Int64):
            return f"float({x})"
        if isinstance(src, Boolean):
            return f"1.0 if {x} else 0.0"
        fn = casts.str_to_float_strict if strict else casts.str_to_float
        return f"{e.helper(fn)}({x})"
    if isinstance(dst, Int64):
        if isinstance(src, Boolean):
            return f"1 if {x} else 0"
        if isinstance(src, Float64):
            fn = casts.float_to_int_strict if strict else casts.float_to_int
        else:
            fn = casts.str_to_int_strict if strict else casts.str_to_int
        return f"{e.helper(fn)}({x})"
    if isinstance(dst, Boolean):
        return f"{x} != 0"
    if isinstance(dst, String):
        if isinstance(src, Int64):
            return f"str({x})"
        if isinstance(src, Date):
            return f"{e.helper(casts.date_to_str)}({x})"
        if isinstance(src, Datetime):
            return f"{e.helper(casts.datetime_to_str)}({x}, {src.time_unit!r}, {src.time_zone!r})"
        if isinstance(src, Boolean):
            return f"'true' if {x} else 'false'"
        return f"{e.helper(casts.float_to_str)}({x})"
    raise AssertionError(f"unreachable cast {src!r} -> {dst!r}")


_ = math
