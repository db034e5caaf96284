"""IR ops: temporal (the ``.dt`` namespace).

Field accessors read the wall clock: in the dtype's zone for a zoned
``Datetime`` (polars converts the instant with its own copy of the IANA
database, see :mod:`skewless.runtime.temporal`), as is for a naive one. They
return ``Int64`` where polars returns ``Int8``/``Int16``/``Int32``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..dtypes import Date, Datetime, Duration, Field, Float64, Int64, Null
from ..errors import ExprTypeError, SchemaError
from .base import InferContext, Node, field_of, require

__all__ = [
    "DtField", "DtYear", "DtMonth", "DtDay", "DtHour", "DtMinute", "DtSecond", "DtMillisecond", "DtMicrosecond",
    "DtWeekday", "DtOrdinalDay", "DtWeek", "DtQuarter", "DtEpoch", "DtDate", "DtConvertTimeZone",
    "DtTotal", "DtTotalDays", "DtTotalHours", "DtTotalMinutes", "DtTotalSeconds", "DtTotalMilliseconds",
    "DtTotalMicroseconds", "EPOCH_UNITS",
]


@dataclass(frozen=True, slots=True)
class DtField(Node):
    """A calendar or clock field of a ``Date`` or ``Datetime``, as ``Int64``."""

    abstract = True
    namespace = "dt"
    #: False for clock fields (hour, minute, ...), which polars refuses on ``Date``.
    on_date: ClassVar[bool] = True
    operand: Node

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        (a,) = args
        kinds = (Date, Datetime, Null) if self.on_date else (Datetime, Null)
        require(
            isinstance(a.dtype, kinds),
            f"dt.{self.method}() needs a {'Date or ' if self.on_date else ''}Datetime, got {a.dtype!r}"
            + ("" if self.on_date or not isinstance(a.dtype, Date) else " (a Date has no time of day)"),
        )
        return field_of(Int64(), a)


@dataclass(frozen=True, slots=True)
class DtYear(DtField):
    """Calendar year (proleptic Gregorian; can be 0 or 10000 after a zone shift, as in polars)."""

    method = "year"


@dataclass(frozen=True, slots=True)
class DtMonth(DtField):
    """Month, 1-12."""

    method = "month"


@dataclass(frozen=True, slots=True)
class DtDay(DtField):
    """Day of the month, 1-31."""

    method = "day"


@dataclass(frozen=True, slots=True)
class DtHour(DtField):
    """Hour, 0-23."""

    method = "hour"
    on_date = False


@dataclass(frozen=True, slots=True)
class DtMinute(DtField):
    """Minute, 0-59."""

    method = "minute"
    on_date = False


@dataclass(frozen=True, slots=True)
class DtSecond(DtField):
    """Whole second, 0-59 (the fraction is dropped, also before 1970)."""

    method = "second"
    on_date = False


@dataclass(frozen=True, slots=True)
class DtMillisecond(DtField):
    """Milliseconds within the second, 0-999."""

    method = "millisecond"
    on_date = False


@dataclass(frozen=True, slots=True)
class DtMicrosecond(DtField):
    """Microseconds within the second, 0-999999."""

    method = "microsecond"
    on_date = False


@dataclass(frozen=True, slots=True)
class DtWeekday(DtField):
    """ISO day of the week: Monday = 1 ... Sunday = 7 (polars; Python's ``weekday()`` is 0-6)."""

    method = "weekday"


@dataclass(frozen=True, slots=True)
class DtOrdinalDay(DtField):
    """Day of the year, 1-366."""

    method = "ordinal_day"


@dataclass(frozen=True, slots=True)
class DtWeek(DtField):
    """ISO 8601 week number, 1-53 (2021-01-03 is in week 53 of 2020)."""

    method = "week"


@dataclass(frozen=True, slots=True)
class DtQuarter(DtField):
    """Quarter of the year, 1-4."""

    method = "quarter"


#: Units accepted by ``dt.epoch``; polars' ``"ns"`` is refused like ``Datetime("ns")``.
EPOCH_UNITS = ("s", "ms", "us", "d")


@dataclass(frozen=True, slots=True)
class DtEpoch(Node):
    """Time since 1970-01-01T00:00 UTC in ``time_unit``, floored (so -1 us is -1 s, as in polars).

    For a zoned ``Datetime`` it counts the instant (not the wall clock); a
    ``Date`` counts from its midnight.
    """

    method = "epoch"
    namespace = "dt"
    operand: Node
    time_unit: str = "us"

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        (a,) = args
        require(self.time_unit in EPOCH_UNITS, f"dt.epoch(): time_unit must be one of {EPOCH_UNITS}, got {self.time_unit!r}")
        require(isinstance(a.dtype, (Date, Datetime, Null)), f"dt.epoch() needs a Date or Datetime, got {a.dtype!r}")
        return field_of(Int64(), a)


@dataclass(frozen=True, slots=True)
class DtDate(Node):
    """The calendar date of the wall clock (in the dtype's zone), as ``Date``."""

    method = "date"
    namespace = "dt"
    operand: Node

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        (a,) = args
        require(isinstance(a.dtype, (Date, Datetime, Null)), f"dt.date() needs a Date or Datetime, got {a.dtype!r}")
        return field_of(Date(), a)


@dataclass(frozen=True, slots=True)
class DtConvertTimeZone(Node):
    """Same instant, read in another zone: only the dtype changes, never the value.

    A naive ``Datetime`` is taken as UTC (polars 2.1 does so without a warning).
    """

    method = "convert_time_zone"
    namespace = "dt"
    operand: Node
    time_zone: str

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        (a,) = args
        require(
            isinstance(a.dtype, (Datetime, Null)),
            f"dt.convert_time_zone() needs a Datetime, got {a.dtype!r}",
        )
        unit = a.dtype.time_unit if isinstance(a.dtype, Datetime) else "us"
        try:
            dtype = Datetime(unit, self.time_zone)
        except SchemaError as exc:
            raise ExprTypeError(f"dt.convert_time_zone(): {exc}") from None
        return field_of(dtype, a)


@dataclass(frozen=True, slots=True)
class DtTotal(Node):
    """Length of a ``Duration`` in a unit: ``Int64`` truncated toward zero (-1.5 s is -1),
    or ``Float64`` with ``fractional=True``."""

    abstract = True
    namespace = "dt"
    #: Length of the unit in microseconds.
    unit_us: ClassVar[int] = 1
    operand: Node
    fractional: bool = False

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        (a,) = args
        require(isinstance(a.dtype, (Duration, Null)), f"dt.{self.method}() needs a Duration, got {a.dtype!r}")
        require(type(self.fractional) is bool, f"dt.{self.method}(): fractional must be True or False")
        return field_of(Float64() if self.fractional else Int64(), a)

    def factor(self, dtype: Duration) -> tuple[int, int]:
        """``(divisor, multiplier)`` turning a count of ``dtype.time_unit`` into this unit (one is 1)."""
        have_us = 1 if dtype.time_unit == "us" else 1_000
        if self.unit_us >= have_us:
            return self.unit_us // have_us, 1
        return 1, have_us // self.unit_us


@dataclass(frozen=True, slots=True)
class DtTotalDays(DtTotal):
    method = "total_days"
    unit_us = 86_400_000_000


@dataclass(frozen=True, slots=True)
class DtTotalHours(DtTotal):
    method = "total_hours"
    unit_us = 3_600_000_000


@dataclass(frozen=True, slots=True)
class DtTotalMinutes(DtTotal):
    method = "total_minutes"
    unit_us = 60_000_000


@dataclass(frozen=True, slots=True)
class DtTotalSeconds(DtTotal):
    method = "total_seconds"
    unit_us = 1_000_000


@dataclass(frozen=True, slots=True)
class DtTotalMilliseconds(DtTotal):
    method = "total_milliseconds"
    unit_us = 1_000


@dataclass(frozen=True, slots=True)
class DtTotalMicroseconds(DtTotal):
    method = "total_microseconds"
    unit_us = 1
