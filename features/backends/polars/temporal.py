"""Polars rules: temporal (the ``.dt`` namespace)."""

from __future__ import annotations

import functools

from ...dtypes import Null
from ...ir import temporal as ops
from .dtypes import to_polars
from .lazy import pl
from .table import RULES


def _null_safe(rule):
    """A ``lit(None)`` operand (dtype Null) has no ``.dt`` methods in polars: the result is null."""

    @functools.wraps(rule)
    def wrapper(c, node, args):
        if isinstance(args[0].dtype, Null):
            return pl.lit(None, dtype=to_polars(c.dtype(node)))
        return rule(c, node, args)

    return wrapper


@_null_safe
def _field(c, node, args):
    # polars types these Int8/Int16/Int32; skewless widens to Int64 (see skewless.dtypes).
    return getattr(args[0].expr.dt, node.method)().cast(pl.Int64)


RULES.register(
    ops.DtYear, ops.DtMonth, ops.DtDay, ops.DtHour, ops.DtMinute, ops.DtSecond, ops.DtMillisecond,
    ops.DtMicrosecond, ops.DtWeekday, ops.DtOrdinalDay, ops.DtWeek, ops.DtQuarter,
)(_field)
RULES.register(ops.DtEpoch)(_null_safe(lambda c, n, a: a[0].expr.dt.epoch(n.time_unit).cast(pl.Int64)))
RULES.register(ops.DtDate)(_null_safe(lambda c, n, a: a[0].expr.dt.date()))
RULES.register(ops.DtConvertTimeZone)(_null_safe(lambda c, n, a: a[0].expr.dt.convert_time_zone(n.time_zone)))


@RULES.register(
    ops.DtTotalDays, ops.DtTotalHours, ops.DtTotalMinutes, ops.DtTotalSeconds, ops.DtTotalMilliseconds,
    ops.DtTotalMicroseconds,
)
@_null_safe
def _total(c, node, args):
    (a,) = args
    if not node.fractional:
        # Integer result: truncated toward zero (multiplication wraps), exact on any frame.
        return getattr(a.expr.dt, node.method)().cast(pl.Int64)
    # polars computes ``count as f64 * (1 / divisor)``; spelt out so that no engine or frame
    # size can switch it to a true division (see skewless.ir.core.TrueDiv).
    divisor, multiplier = node.factor(a.dtype)
    factor = 1.0 / divisor if divisor != 1 else float(multiplier)
    return a.expr.to_physical().cast(pl.Float64) * pl.lit(factor, dtype=pl.Float64)


# chrono parses and formats in polars itself: the rule is polars' own method with the checked format.
RULES.register(ops.StrToTemporal)(
    lambda c, n, a: a[0].expr.cast(pl.String).str.strptime(to_polars(n.dtype), n.format, strict=n.strict, exact=True)
)
RULES.register(ops.DtToString)(_null_safe(lambda c, n, a: a[0].expr.dt.strftime(n.format)))
RULES.register(ops.DtTruncate)(_null_safe(lambda c, n, a: a[0].expr.dt.truncate(n.every)))
RULES.register(ops.DtOffsetBy)(_null_safe(lambda c, n, a: a[0].expr.dt.offset_by(n.by)))


@RULES.register(ops.MakeDuration)
def _make_duration(c, node, args):
    # polars' own kernel (pl.duration with expression components): wrapping Int64 products and sum
    parts = {p: (a.expr if not isinstance(a.dtype, Null) else pl.lit(None, dtype=pl.Int64)) for p, a in zip(node.parts, args)}
    return pl.duration(**parts, time_unit=node.time_unit)
