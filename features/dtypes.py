"""Data types of skewless expressions, named and spelled as in polars.

Only the types that both runtimes represent exactly are offered:

=================  =====================  ==========================================
skewless dtype     polars dtype           per-request (Python) value
=================  =====================  ==========================================
``Int64``          ``pl.Int64``           ``int`` (wrapped to 64 bits like polars)
``Float64``        ``pl.Float64``         ``float`` (NaN, ±inf and -0.0 preserved)
``Boolean``        ``pl.Boolean``         ``bool``
``String``         ``pl.String``          ``str``
``Date``           ``pl.Date``            ``datetime.date``
``Datetime(u, tz)````pl.Datetime(u, tz)`` ``datetime.datetime`` (aware iff ``tz``)
``Duration(u)``    ``pl.Duration(u)``     ``datetime.timedelta``
=================  =====================  ==========================================

Departure from polars, on purpose: accessors that polars types narrowly
(``dt.hour()`` is ``Int8``, ``str.len_chars()`` is ``UInt32``) return ``Int64``
in skewless.  Narrow integers wrap silently in polars (``dt.hour() * 100``
overflows ``Int8``; ``len_chars() - 10`` underflows ``UInt32``), which is exactly
the kind of silent failure skewless exists to prevent.

Time units are ``"ms"`` and ``"us"``: the per-request runtime uses Python's
``datetime``, whose resolution is one microsecond, so ``"ns"`` is refused
rather than silently truncated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import SchemaError

__all__ = [
    "DataType",
    "Int64",
    "Float64",
    "Boolean",
    "String",
    "Date",
    "Datetime",
    "Duration",
    "Null",
    "Field",
    "to_dtype",
]

TIME_UNITS = ("ms", "us")
UNITS_PER_SECOND = {"ms": 1_000, "us": 1_000_000}


@dataclass(frozen=True, slots=True)
class DataType:
    """Base class of all data types. Instances are immutable and hashable."""

    def __repr__(self) -> str:
        return type(self).__name__

    @property
    def is_numeric(self) -> bool:
        return isinstance(self, (Int64, Float64))

    @property
    def is_temporal(self) -> bool:
        return isinstance(self, (Date, Datetime, Duration))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": type(self).__name__}
        for name in getattr(self, "__dataclass_fields__", {}):
            out[name] = getattr(self, name)
        return out


@dataclass(frozen=True, slots=True, repr=False)
class Int64(DataType):
    """64-bit signed integer. Arithmetic wraps on overflow, as in polars."""


@dataclass(frozen=True, slots=True, repr=False)
class Float64(DataType):
    """64-bit IEEE-754 float."""


@dataclass(frozen=True, slots=True, repr=False)
class Boolean(DataType):
    """Boolean with Kleene (three-valued) logic when nullable."""


@dataclass(frozen=True, slots=True, repr=False)
class String(DataType):
    """UTF-8 string."""


@dataclass(frozen=True, slots=True, repr=False)
class Date(DataType):
    """Calendar date (days since 1970-01-01)."""


@dataclass(frozen=True, slots=True, repr=False)
class Null(DataType):
    """Type of ``lit(None)``; unifies with any other type."""


@dataclass(frozen=True, slots=True)
class Datetime(DataType):
    """Instant (with ``time_zone``) or wall-clock time (without), as in polars.

    Parameters
    ----------
    time_unit : {"us", "ms"}
        Resolution. ``"ns"`` is refused: Python's ``datetime`` cannot hold it.
    time_zone : str or None
        IANA zone name. Values are instants; field accessors read the wall
        clock in this zone.

    Examples
    --------
    >>> Datetime("us", "UTC")
    Datetime(time_unit='us', time_zone='UTC')
    """

    time_unit: str = "us"
    time_zone: str | None = None

    def __post_init__(self) -> None:
        if self.time_unit not in TIME_UNITS:
            raise SchemaError(
                f"Datetime time_unit must be one of {TIME_UNITS}, got {self.time_unit!r}"
                " (the per-request runtime uses Python datetime, microsecond resolution;"
                " cast nanosecond data to 'us' first)"
            )
        if self.time_zone is not None:
            from .runtime.tz import check_zone

            check_zone(self.time_zone)


@dataclass(frozen=True, slots=True)
class Duration(DataType):
    """Signed time span, the result of subtracting two datetimes."""

    time_unit: str = "us"

    def __post_init__(self) -> None:
        if self.time_unit not in TIME_UNITS:
            raise SchemaError(f"Duration time_unit must be one of {TIME_UNITS}, got {self.time_unit!r}")


@dataclass(frozen=True, slots=True)
class Field:
    """Static type of an expression: its dtype and whether it may be null."""

    dtype: DataType
    nullable: bool

    def __repr__(self) -> str:
        return f"{self.dtype!r}{'?' if self.nullable else ''}"


_BY_NAME: dict[str, type[DataType]] = {
    cls.__name__: cls for cls in (Int64, Float64, Boolean, String, Date, Datetime, Duration, Null)
}


def _python_types() -> dict[type, Any]:
    import datetime as dt

    # bool before int does not matter here (a dict by exact type), but both are listed, as polars maps them.
    return {bool: Boolean, int: Int64, float: Float64, str: String, dt.date: Date,
            dt.datetime: lambda: Datetime("us"), dt.timedelta: lambda: Duration("us")}


def to_dtype(value: Any) -> DataType:
    """Normalise ``Int64``, ``Int64()``, ``"Int64"``, a polars dtype or a Python type to a skewless dtype.

    Python types mean what polars makes of them (``pl.col("x").cast(str)``): ``int`` Int64, ``float`` Float64,
    ``str`` String, ``bool`` Boolean, ``datetime.date`` Date, ``datetime.datetime`` Datetime("us") and
    ``datetime.timedelta`` Duration("us").

    Examples
    --------
    >>> from skewless.dtypes import to_dtype
    >>> to_dtype(str), to_dtype(int), to_dtype("Float64")
    (String, Int64, Float64)
    """
    if isinstance(value, DataType):
        return value
    if isinstance(value, type) and issubclass(value, DataType):
        return value()
    python = _PYTHON_TYPES.get(value) if isinstance(value, type) else None
    if python is not None:
        return python()
    if isinstance(value, str) and value in _BY_NAME:
        return _BY_NAME[value]()
    # Accept polars dtypes without importing polars: read their class name and attributes.
    name = type(value).__name__ if not isinstance(value, type) else value.__name__
    if name in _BY_NAME and name not in ("Datetime", "Duration"):
        return _BY_NAME[name]()
    if name == "Datetime":
        return Datetime(getattr(value, "time_unit", None) or "us", getattr(value, "time_zone", None))
    if name == "Duration":
        return Duration(getattr(value, "time_unit", None) or "us")
    raise SchemaError(
        f"unsupported dtype {value!r}; skewless supports {', '.join(sorted(_BY_NAME))}"
    )


_PYTHON_TYPES = _python_types()


def dtype_from_json(data: dict[str, Any]) -> DataType:
    cls = _BY_NAME.get(data.get("type", ""))
    if cls is None:
        raise SchemaError(f"unknown dtype in JSON: {data!r}")
    kwargs = {k: v for k, v in data.items() if k != "type"}
    return cls(**kwargs)
