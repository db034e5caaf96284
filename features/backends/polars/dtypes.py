"""Mapping between skewless dtypes and polars dtypes."""

from __future__ import annotations

from typing import Any

from ...dtypes import Boolean, DataType, Date, Datetime, Duration, Float64, Int64, Null, String
from .lazy import pl


def to_polars(dtype: DataType) -> Any:
    if isinstance(dtype, Int64):
        return pl.Int64
    if isinstance(dtype, Float64):
        return pl.Float64
    if isinstance(dtype, Boolean):
        return pl.Boolean
    if isinstance(dtype, String):
        return pl.String
    if isinstance(dtype, Date):
        return pl.Date
    if isinstance(dtype, Datetime):
        return pl.Datetime(dtype.time_unit, dtype.time_zone)
    if isinstance(dtype, Duration):
        return pl.Duration(dtype.time_unit)
    if isinstance(dtype, Null):
        return pl.Null
    raise TypeError(f"no polars dtype for {dtype!r}")


def literal_expr(value: Any, dtype: DataType) -> Any:
    """``pl.lit`` of a literal. A zoned datetime is built from its instant (microseconds since the
    epoch, cast to the zoned dtype): ``pl.lit(aware datetime)`` rebuilds the instant from the wall
    clock with polars' own rules, which have no DST after 2099, so ``lit(datetime(2150, 7, 1, 12,
    tzinfo=New_York))`` would be 17:00Z in polars and 16:00Z in Python."""
    if value is not None and isinstance(dtype, Datetime) and dtype.time_zone is not None:
        from ...runtime.convert import literal_to_internal

        return pl.lit(literal_to_internal(value, dtype), dtype=pl.Int64).cast(to_polars(dtype))
    if isinstance(dtype, Null):
        return pl.lit(value)
    return pl.lit(value, dtype=to_polars(dtype))
