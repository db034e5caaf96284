"""What both runtimes do around a udf's function: the Python values it is given, the check of its result.

The generated per-request function and the polars backend call the same helpers, so the function sees
the same values in both and a result is accepted or refused by the same rule (:func:`result_checker`):

* arguments (:func:`to_python`): the internal value (polars' physical one: epoch counts for Datetime,
  days for Date, unit counts for Duration) converted as the per-request function converts its outputs
  (:mod:`skewless.runtime.convert`, the pinned time-zone database); ``None`` for null;
* results: exact Python types, never cast (a ``0`` for a Float64 udf is refused, not made ``0.0``),
  converted back to the internal value. Floats are kept bit for bit (NaN payloads, ``-0.0``).
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Callable

from ..dtypes import Boolean, DataType, Date, Datetime, Duration, Float64, Int64, String
from . import convert

__all__ = ["to_python", "result_checker", "caller", "call_batch"]

_INT64_MIN, _INT64_MAX = -(2 ** 63), 2 ** 63 - 1


def to_python(dtype: DataType) -> Callable[[Any], Any] | None:
    """``internal value -> Python value`` for a non-null value of ``dtype``; None when they are the same."""
    if isinstance(dtype, Datetime):
        unit, tz = dtype.time_unit, dtype.time_zone
        return lambda v: convert.epoch_to_datetime(v, unit, tz)
    if isinstance(dtype, Date):
        return convert.days_to_date
    if isinstance(dtype, Duration):
        unit = dtype.time_unit
        return lambda v: convert.int_to_timedelta(v, unit)
    return None


def _describe(value: Any) -> str:
    text = repr(value)
    return f"{text[:60]}..." if len(text) > 60 else text


def result_checker(dtype: DataType, nullable: bool, where: str) -> Callable[[Any], Any]:
    """``result -> internal value``: the udf's result checked against its declared ``dtype`` and ``nullable``.

    ``where`` names the udf and the feature (``"udf mod:fn (feature 'x')"``); a refused result raises
    :class:`~skewless.ir.udf.UdfError` with it.
    """
    from ..ir.udf import UdfError

    def refuse(value: Any, why: str) -> Exception:
        return UdfError(f"{where} returned {_describe(value)} ({type(value).__name__}): {why}")

    name = repr(dtype)
    null_why = f"None, but it is declared nullable=False"

    if isinstance(dtype, Float64):
        def check(v: Any) -> Any:
            if type(v) is float:
                return v
            if v is None:
                if nullable:
                    return None
                raise UdfError(f"{where} returned {null_why}")
            raise refuse(v, f"a Float64 udf must return a float (or None), never cast: return float(...) yourself")
        return check
    if isinstance(dtype, Int64):
        def check(v: Any) -> Any:
            if type(v) is int:
                if _INT64_MIN <= v <= _INT64_MAX:
                    return v
                raise refuse(v, "outside Int64")
            if v is None:
                if nullable:
                    return None
                raise UdfError(f"{where} returned {null_why}")
            raise refuse(v, "an Int64 udf must return an int (not a bool, not a float), or None")
        return check
    exact = {Boolean: bool, String: str, Date: _dt.date, Datetime: _dt.datetime, Duration: _dt.timedelta}[type(dtype)]
    if isinstance(dtype, Datetime):
        unit, zoned = dtype.time_unit, dtype.time_zone is not None
        to_internal = convert.datetime_to_epoch_us if unit == "us" else convert.datetime_to_epoch_ms
    elif isinstance(dtype, Date):
        to_internal = convert.date_to_days
    elif isinstance(dtype, Duration):
        unit = dtype.time_unit
        to_internal = convert.timedelta_to_us if unit == "us" else convert.timedelta_to_ms
    else:
        to_internal = None

    def check(v: Any) -> Any:
        if v is None:
            if nullable:
                return None
            raise UdfError(f"{where} returned {null_why}")
        if type(v) is not exact:
            raise refuse(v, f"a {name} udf must return a {exact.__module__}.{exact.__qualname__}".replace(
                "builtins.", "") + (" or None" if nullable else ""))
        if to_internal is None:
            return v
        if isinstance(dtype, Datetime):
            if (v.tzinfo is not None) != zoned:
                raise refuse(v, f"a {name} udf must return {'an aware' if zoned else 'a naive'} datetime")
            if unit == "ms" and v.microsecond % 1000:
                raise refuse(v, "finer than the declared unit 'ms' (never truncated)")
        elif isinstance(dtype, Duration) and unit == "ms" and v.microseconds % 1000:
            raise refuse(v, "finer than the declared unit 'ms' (never truncated)")
        return to_internal(v)
    return check


def caller(fn: Callable[..., Any], check: Callable[[Any], Any]) -> Callable[..., Any]:
    """The per-request call: ``fn`` on Python values, its result checked and made internal."""

    def call(*args: Any) -> Any:
        return check(fn(*args))

    return call


#: Result dtypes whose internal value is the Python value itself, by their exact Python type.
_SAME = {Float64: float, Int64: int, Boolean: bool, String: str}
_NONE = type(None)


def call_batch(fn: Callable[..., Any], columns: list[list[Any]], dtype: DataType, nullable: bool,
               check: Callable[[Any], Any]) -> list[Any]:
    """``[check(fn(*row)) for row in zip(*columns)]``, faster: the function is mapped over the columns at
    C speed and the results' types are checked in one pass (``set(map(type, ...))``); only when that finds
    something to convert or refuse is ``check`` called per value, so the error is the same one, on the
    first offending row, as per request."""
    out = list(map(fn, *columns))
    same = _SAME.get(type(dtype))
    if same is None:
        return [check(v) for v in out]
    kinds = set(map(type, out))
    if not kinds <= {same, _NONE} or (_NONE in kinds and not nullable):
        return [check(v) for v in out]
    if same is int:
        present = [v for v in out if v is not None] if _NONE in kinds else out
        if present and (min(present) < _INT64_MIN or max(present) > _INT64_MAX):
            return [check(v) for v in out]
    return out
