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
