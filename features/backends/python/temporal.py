"""Python rules: temporal (the ``.dt`` namespace).

Values are ints (see :mod:`skewless.runtime.convert`). A zoned ``Datetime`` is
turned into its wall-clock count once per (value, zone) with one ``bisect``
into the zone's transition table (:func:`skewless.runtime.temporal.zone_table`);
the day count and the calendar date derived from it are shared the same way,
so ``year``, ``month`` and ``week`` of one column cost one conversion.
"""

from __future__ import annotations

import datetime as _dt
from bisect import bisect_right

from ...dtypes import Date, Datetime, Null
from ...ir import temporal as ops
from ...ir.base import Column
from ...runtime import arith
from ...runtime import calendar, chrono
from ...runtime import temporal as rt
from .codegen import Arg, Emitter
from .table import RULES

_UNITS_PER_DAY = {"us": 86_400_000_000, "ms": 86_400_000}


def _shared(e: Emitter, arg: Arg, key: tuple, expr: str) -> str:
    """A per-function variable holding ``expr``; null-guarded, since it is emitted before the rule's guard."""
    return e.shared(key, lambda: f"None if {arg.src} is None else {expr}" if arg.nullable else expr)


def local_src(e: Emitter, arg: Arg) -> str:
    """Source of the wall-clock count (the dtype's unit) of a ``Datetime`` operand."""
    dtype = arg.dtype
    tz = dtype.time_zone
    if tz is None or tz == "UTC":
        return arg.src
    starts, offsets = rt.zone_table(tz, dtype.time_unit)
    if not starts:
        if offsets[0] == 0:
            return arg.src
        expr = f"{arg.src} + {e.literal(offsets[0])}"
    else:
        lookup = f"{e.helper(bisect_right)}({e.const(starts, 'starts')}, {arg.src})"
        expr = f"{arg.src} + {e.const(offsets, 'offsets')}[{lookup}]"
    return _shared(e, arg, ("dt.local", arg.src, tz, dtype.time_unit), expr)


def days_src(e: Emitter, arg: Arg) -> str:
    """Source of the day count of the wall clock (a ``Date`` is one already)."""
    if isinstance(arg.dtype, Date):
        return arg.src
    local = local_src(e, arg)
    per_day = _UNITS_PER_DAY[arg.dtype.time_unit]
    return _shared(e, arg, ("dt.days", local, per_day), f"{local} // {per_day}")


def civil_src(e: Emitter, arg: Arg) -> str:
    """Source of the wall clock's calendar date (``datetime.date``, or ``ProlepticDate`` out of range)."""
    days = days_src(e, arg)
    fromordinal = e.helper(_dt.date.fromordinal)
    expr = f"{fromordinal}({days} + {rt.EPOCH_ORDINAL})"
    if _may_leave_range(arg):
        expr = f"({expr} if {rt.MIN_DAYS} <= {days} <= {rt.MAX_DAYS} else {e.helper(rt.ProlepticDate)}({days}))"
    return _shared(e, arg, ("dt.civil", days), expr)


def _may_leave_range(arg: Arg) -> bool:
    # A zoned value's wall clock can fall in year 0 or 10000 (polars reads it there). A Date or naive
    # Datetime read from an input or a literal is a Python value, within years 1-9999; one computed by
    # arithmetic (Date + Duration, Datetime - Duration, dt.offset_by, ...) can be any year polars holds.
    if isinstance(arg.dtype, Datetime) and arg.dtype.time_zone is not None:
        return True
    return not (arg.is_literal or isinstance(arg.node, Column))


def _null_operand(rule):
    def wrapper(e: Emitter, node, args: list[Arg]):
        if isinstance(args[0].dtype, Null):
            return "None"
        return rule(e, node, args)

    wrapper.__name__ = rule.__name__
    return wrapper


# --------------------------------------------------------------------------- calendar fields


@RULES.register(ops.DtYear)
@_null_operand
def _year(e: Emitter, node, args: list[Arg]):
    return f"{civil_src(e, args[0])}.year"


@RULES.register(ops.DtMonth)
@_null_operand
def _month(e: Emitter, node, args: list[Arg]):
    return f"{civil_src(e, args[0])}.month"


@RULES.register(ops.DtDay)
@_null_operand
def _day(e: Emitter, node, args: list[Arg]):
    return f"{civil_src(e, args[0])}.day"


@RULES.register(ops.DtQuarter)
@_null_operand
def _quarter(e: Emitter, node, args: list[Arg]):
    return f"({civil_src(e, args[0])}.month + 2) // 3"


@RULES.register(ops.DtWeek)
@_null_operand
def _week(e: Emitter, node, args: list[Arg]):
    return f"{civil_src(e, args[0])}.isocalendar()[1]"


@RULES.register(ops.DtWeekday)
@_null_operand
def _weekday(e: Emitter, node, args: list[Arg]):
    # 1970-01-01 was a Thursday (4).
    return f"({days_src(e, args[0])} + 3) % 7 + 1"


@RULES.register(ops.DtOrdinalDay)
@_null_operand
def _ordinal_day(e: Emitter, node, args: list[Arg]):
    (a,) = args
    civil = civil_src(e, a)
    days = days_src(e, a)
    # The day count is already in a variable: subtract January 1st's from a table.
    fast = f"{days} - {e.const(rt.jan1_table(), 'jan1st')}[{civil}.year] + 1"
    if _may_leave_range(a):
        # A zoned wall clock can be in any year (the table covers 0-10000; a negative
        # year would index it from the end).
        return f"({fast} if {rt.JAN1_MIN_DAYS} <= {days} <= {rt.JAN1_MAX_DAYS} else {e.helper(rt.ordinal_day)}({civil}))"
    return fast


# --------------------------------------------------------------------------- clock fields


def _clock(divisor_s: int, modulo: int):
    def rule(e: Emitter, node, args: list[Arg]):
        (a,) = args
        unit = rt.UNITS_PER_SECOND[a.dtype.time_unit]
        return f"{local_src(e, a)} // {divisor_s * unit} % {modulo}"

    return _null_operand(rule)


RULES.register(ops.DtHour)(_clock(3600, 24))
RULES.register(ops.DtMinute)(_clock(60, 60))
RULES.register(ops.DtSecond)(_clock(1, 60))


@RULES.register(ops.DtMillisecond)
@_null_operand
def _millisecond(e: Emitter, node, args: list[Arg]):
    (a,) = args
    local = local_src(e, a)
    return f"{local} // 1000 % 1000" if a.dtype.time_unit == "us" else f"{local} % 1000"


@RULES.register(ops.DtMicrosecond)
@_null_operand
def _microsecond(e: Emitter, node, args: list[Arg]):
    (a,) = args
    local = local_src(e, a)
    return f"{local} % 1000000" if a.dtype.time_unit == "us" else f"{local} % 1000 * 1000"


# --------------------------------------------------------------------------- conversions

_EPOCH_US = {"d": 86_400_000_000, "s": 1_000_000, "ms": 1_000, "us": 1}


@RULES.register(ops.DtEpoch)
@_null_operand
def _epoch(e: Emitter, node, args: list[Arg]):
    (a,) = args
    want = _EPOCH_US[node.time_unit]
    if isinstance(a.dtype, Date):
        per_day = 86_400_000_000 // want
        return a.src if per_day == 1 else f"{a.src} * {per_day}"
    have = _EPOCH_US[a.dtype.time_unit]
    if want > have:  # floored, as polars
        return f"{a.src} // {want // have}"
    if want < have:
        return f"{a.src} * {have // want}"
    return a.src


@RULES.register(ops.DtDate)
@_null_operand
def _date(e: Emitter, node, args: list[Arg]):
    return days_src(e, args[0])


@RULES.register(ops.DtConvertTimeZone)
def _convert_time_zone(e: Emitter, node, args: list[Arg]):
    # The internal value is the UTC instant in every zone (a naive value is read as UTC, like polars).
    return args[0].src


# --------------------------------------------------------------------------- durations


@RULES.register(
    ops.DtTotalDays, ops.DtTotalHours, ops.DtTotalMinutes, ops.DtTotalSeconds, ops.DtTotalMilliseconds,
    ops.DtTotalMicroseconds,
)
@_null_operand
def _total(e: Emitter, node, args: list[Arg]):
    (a,) = args
    divisor, multiplier = node.factor(a.dtype)
    v = a.src
    if node.fractional:
        if divisor != 1:
            return f"float({v}) * {e.literal(1.0 / divisor)}"
        return f"float({v}) * {e.literal(float(multiplier))}" if multiplier != 1 else f"float({v})"
    if divisor != 1:
        return f"({v} // {divisor} if {v} >= 0 else -(-{v} // {divisor}))"
    if multiplier != 1:
        return [
            f"{{out}} = {v} * {multiplier}",
            f"if not {arith.INT64_MIN} <= {{out}} <= {arith.INT64_MAX}: {{out}} = {e.helper(arith.wrap64)}({{out}})",
        ]
    return v


# --------------------------------------------------------------------------- text


@RULES.register(ops.StrToTemporal)
@_null_operand
def _strptime(e: Emitter, node, args: list[Arg]):
    # polars' fixed-width fast path, then chrono's scan (a possessive regex plus its resolution rules)
    parser = chrono.TextParser(node.format)
    unit = None if isinstance(node.dtype, Date) else node.dtype.time_unit
    s = args[0].src
    if not node.strict:
        return f"{e.const(parser.parse, 'parse_text')}({s}, {e.literal(unit)})"
    target = "date" if unit is None else f"datetime[{unit}]"
    return f"{e.const(parser.parse_strict, 'parse_text')}({s}, {e.literal(unit)}, {e.literal(target)})"


@RULES.register(ops.DtToString)
@_null_operand
def _strftime(e: Emitter, node, args: list[Arg]):
    (a,) = args
    items = e.const(chrono.tokenize(node.format, parse=False), "fmt_items")
    fn = e.helper(chrono.format_value)
    if isinstance(a.dtype, Date):
        return f"{fn}({items}, {a.src}, None, None, None)"
    unit = a.dtype.time_unit
    per_day = _UNITS_PER_DAY[unit]
    per_s = rt.UNITS_PER_SECOND[unit]
    scale = 1 if unit == "us" else 1000
    local = local_src(e, a)
    tod = f"{local} % {per_day}" if scale == 1 else f"{local} % {per_day} * {scale}"
    offset = "None" if a.dtype.time_zone is None else f"({local} - {a.src}) // {per_s}"
    return f"{fn}({items}, {local} // {per_day}, {tod}, {offset}, {a.src} // {per_s})"


# --------------------------------------------------------------------------- calendar windows (polars' Duration arithmetic)


def _window(fn, param: str):
    def rule(e: Emitter, node, args: list[Arg]):
        (a,) = args
        spec = calendar.parse_every(getattr(node, param), what=param)
        unit = a.dtype.time_unit if isinstance(a.dtype, Datetime) else None
        zone = a.dtype.time_zone if isinstance(a.dtype, Datetime) else None
        return f"{e.helper(fn)}({a.src}, {e.const(spec, param)}, {e.literal(unit)}, {e.literal(zone)})"

    return _null_operand(rule)


RULES.register(ops.DtTruncate)(_window(calendar.truncate_value, "every"))
RULES.register(ops.DtOffsetBy)(_window(calendar.offset_value, "by"))


@RULES.register(ops.MakeDuration)
def _make_duration(e: Emitter, node, args: list[Arg]):
    if any(isinstance(a.dtype, Null) for a in args):
        return "None"
    terms = []
    for a, factor in zip(args, node.factors()):
        if factor == 0:  # the ms unit's microseconds: truncated toward zero on their own (polars)
            terms.append(f"{e.helper(rt.trunc_div)}({a.src}, 1000)")
        else:
            terms.append(a.src if factor == 1 else f"{a.src} * {factor}")
    return [f"{{out}} = {' + '.join(terms)}",
            f"if not {arith.INT64_MIN} <= {{out}} <= {arith.INT64_MAX}: {{out}} = {e.helper(arith.wrap64)}({{out}})"]
