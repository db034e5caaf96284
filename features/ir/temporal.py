"""IR ops: temporal (the ``.dt`` namespace).

Field accessors read the wall clock: in the dtype's zone for a zoned
``Datetime`` (polars converts the instant with its own copy of the IANA
database, see :mod:`skewless.runtime.temporal`), as is for a naive one. They
return ``Int64`` where polars returns ``Int8``/``Int16``/``Int32``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..dtypes import DataType, Date, Datetime, Duration, Field, Float64, Int64, Null, String  # noqa: F401
from ..errors import ExprTypeError, SchemaError
from .base import InferContext, Node, field_of, require

__all__ = [
    "DtField", "DtYear", "DtMonth", "DtDay", "DtHour", "DtMinute", "DtSecond", "DtMillisecond", "DtMicrosecond",
    "DtWeekday", "DtOrdinalDay", "DtWeek", "DtQuarter", "DtEpoch", "DtDate", "DtConvertTimeZone",
    "DtTotal", "DtTotalDays", "DtTotalHours", "DtTotalMinutes", "DtTotalSeconds", "DtTotalMilliseconds",
    "DtTotalMicroseconds", "EPOCH_UNITS", "StrToTemporal", "DtToString",
    "DtTruncate", "DtOffsetBy", "MakeDuration", "DURATION_US",
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


# --------------------------------------------------------------------------- text <-> temporal


def _format_items(node: Node, fmt: object, *, parse: bool):
    from ..runtime import chrono

    if not isinstance(fmt, str):
        raise ExprTypeError(f"{node.namespace}.{node.method}(): format must be a string, got {fmt!r}")
    try:
        if parse:
            return chrono.TextParser(fmt)  # type: ignore[arg-type]
        return chrono.tokenize(fmt, parse=False)  # type: ignore[arg-type]
    except chrono.FormatError as exc:
        raise ExprTypeError(f"{node.namespace}.{node.method}(): {exc}") from None


@dataclass(frozen=True, slots=True)
class StrToTemporal(Node):
    """``s.str.strptime(dtype, format, strict=True)`` (also ``str.to_date`` / ``str.to_datetime``): parse text
    with an explicit chrono format into a ``Date`` or a ``Datetime`` (naive or UTC).

    Copies polars 2.1, which parses with Rust's chrono (the rules are listed in
    :mod:`skewless.runtime.chrono`): lenient numbers (``2024-1-2`` matches ``%Y-%m-%d``; a numeric
    field skips leading whitespace), format whitespace matches any run of whitespace including none,
    literal text is case-sensitive, ``%y`` 00-69 is 20xx, second 60 is a leap second (one second later),
    impossible dates fail, the whole string must match. ``strict=True`` (polars' default) raises
    :class:`~skewless.errors.InvalidOperationError` when a value does not parse (polars fails the
    column); ``strict=False`` gives null. A ``Date`` target ignores the time fields but still checks
    their ranges. Supported directives: ``%Y %y %m %b %B %h %d %e %j %H %k %I %l %p %M %S %f %.f %.3f
    %.6f %.9f %3f %6f %9f %F %T %R %D %n %t %%`` and ``%z``/``%:z`` (``+0100``, ``+01:00``, ``-05 30``; the
    result is then the UTC instant, as ``Datetime(unit, "UTC")`` whatever zone was asked, as in polars; a
    ``Date`` target keeps the date as written); others (``%Z``, ``%a``, ``%s``, ...) are refused when the
    feature set is defined, and so are formats polars refuses (an hour without a
    minute, ``%I`` without ``%p``) or that cannot give a whole date.
    """

    method = "strptime"
    namespace = "str"
    operand: Node
    dtype: DataType
    format: str
    strict: bool = True

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        (a,) = args
        require(isinstance(a.dtype, (String, Null)), f"str.strptime() needs a String operand, got {a.dtype!r}")
        require(
            isinstance(self.dtype, Date) or (isinstance(self.dtype, Datetime) and self.dtype.time_zone in (None, "UTC")),
            f"str.strptime() parses into Date or Datetime (naive or UTC), got {self.dtype!r}: other zones need"
            " polars' ambiguous/non-existent wall-clock rules, which skewless does not copy yet; parse as naive and"
            " declare the zone upstream",
        )
        require(type(self.strict) is bool, "str.strptime(): strict must be True or False")
        parser = _format_items(self, self.format, parse=True)
        dtype = self.dtype
        if isinstance(dtype, Datetime) and any(f == "zsign" for f in parser.fields):
            dtype = Datetime(dtype.time_unit, "UTC")  # polars: a %z format gives the UTC instant, zoned UTC
        return Field(dtype, a.nullable or not self.strict)

    def render(self, args: list[str]) -> str:
        strict = "" if self.strict else ", strict=False"
        return f"{args[0]}.str.strptime({self.dtype!r}, {self.format!r}{strict})"


@dataclass(frozen=True, slots=True)
class DtToString(Node):
    """``t.dt.strftime(format)`` (also ``dt.to_string(format)``): a ``Date`` or ``Datetime`` as text, with chrono's
    directives as polars 2.1 writes them.

    A zoned value is written on its zone's wall clock (``%z`` is its offset, ``-0456`` for New York's
    local mean time: the seconds of an offset are rounded to the nearest minute, half away from zero, as
    polars does: ``-0331`` for St John's -3:30:52). Numbers are zero-padded
    (``%e``, ``%k``, ``%l`` space-padded; ``%-d`` unpadded); ``%Y`` outside 0-9999 gets a sign
    (``+10000``); ``%f`` is nanoseconds (9 digits), ``%.f`` the shortest of ``.mmm``/``.uuuuuu``/
    ``.nnnnnnnnn`` that is exact (nothing for a whole second), ``%.3f`` truncates; ``%s`` is the epoch
    second (floored); names are English. What polars refuses is refused when the feature set is
    defined: time directives on a ``Date``, ``%z`` on a naive ``Datetime``; and so are directives skewless
    does not copy (``%Z`` abbreviations, ``%c``/``%x``/``%X``/``%r``, ``%C``, ``%+``, padding modifiers
    other than ``-``).
    """

    method = "strftime"
    namespace = "dt"
    operand: Node
    format: str

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        from ..runtime import chrono

        (a,) = args
        require(isinstance(a.dtype, (Date, Datetime, Null)), f"dt.strftime() needs a Date or Datetime, got {a.dtype!r}")
        items = _format_items(self, self.format, parse=False)
        if isinstance(a.dtype, Date):
            require(not chrono.has_time(items) and not chrono.has_zone(items),
                    f"dt.strftime({self.format!r}): a Date has no time of day or zone (polars cannot format it either)")
        if isinstance(a.dtype, Datetime) and a.dtype.time_zone is None:
            require(not chrono.has_zone(items),
                    f"dt.strftime({self.format!r}): %z needs a zoned Datetime (polars cannot format a naive one with it)")
        return field_of(String(), a)


# --------------------------------------------------------------------------- calendar windows


def _every(node: Node, text: object, a: Field):
    from ..runtime import calendar

    unit = a.dtype.time_unit if isinstance(a.dtype, Datetime) else None
    try:
        return calendar.check_every(text, method=node.method, dtype=a.dtype, unit=unit)  # type: ignore[arg-type]
    except calendar.EveryError as exc:
        raise ExprTypeError(str(exc)) from None


@dataclass(frozen=True, slots=True)
class DtTruncate(Node):
    """``t.dt.truncate(every)``: the start of the window of length ``every`` holding the value, as polars 2.1.

    ``every`` is polars' duration string, one kind of unit: sub-daily (``"15m"``, ``"1h30m"``; windows from
    1970-01-01T00:00), days (``"3d"``, from the epoch), weeks (``"2w"``, from Monday 1969-12-29) or months
    (``"1mo"``, ``"1q"``, ``"1y"``, ``"13mo"``: counted from 1970-01, so ``"2y"`` gives even years; spans over a
    year follow polars' own day arithmetic). A zoned
    value is truncated on its wall clock and put back in its zone as polars does (measured on 178,740
    instants around every transition of eight zones, 1900-2100): a wall clock the zone repeats takes the
    original value's offset (01:30 EDT truncated by 1h is 01:00 EDT, 01:30 EST is 01:00 EST), one a
    daylight-saving change skips takes the standard offset; in a wall clock skipped by a change of
    standard offset (Kathmandu 1986-01-01) polars raises, and so does the per-request function. A ``Date``
    is truncated as its midnight (``"7h"`` can give the day before, as in polars). Refused at definition:
    mixed kinds (``"1d12h"``), negative or zero spans, a sub-daily part finer than the dtype's unit.
    """

    method = "truncate"
    namespace = "dt"
    operand: Node
    every: str

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        (a,) = args
        require(isinstance(a.dtype, (Date, Datetime, Null)), f"dt.truncate() needs a Date or Datetime, got {a.dtype!r}")
        _every(self, self.every, a)
        return a


@dataclass(frozen=True, slots=True)
class DtOffsetBy(Node):
    """``t.dt.offset_by(by)``: shift by polars' duration string (``"1mo"``, ``"-2w"``, ``"1d12h"``, ``"-15m"``).

    Calendar months first (the day clamped to the month's end: 2024-01-31 + ``"1mo"`` is 2024-02-29,
    + ``"1y"`` from a 29 February is 28 February), then weeks and days, then the sub-daily part (truncated
    toward zero to the unit, as polars). On a ``Date`` the sub-daily part moves its midnight and the result
    is floored to the day. On a zoned ``Datetime`` (other than UTC) only a fixed offset (h, m, s, ms, us) is
    supported: it moves the instant, so ``"24h"`` across a DST change is 24 hours of real time; calendar
    offsets there are refused (polars moves the wall clock and resolves skipped or repeated wall clocks
    in ways skewless does not copy).
    """

    method = "offset_by"
    namespace = "dt"
    operand: Node
    by: str

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        (a,) = args
        require(isinstance(a.dtype, (Date, Datetime, Null)), f"dt.offset_by() needs a Date or Datetime, got {a.dtype!r}")
        _every(self, self.by, a)
        return a


#: ``duration()``'s components and their length in microseconds.
DURATION_US = {
    "weeks": 604_800_000_000, "days": 86_400_000_000, "hours": 3_600_000_000, "minutes": 60_000_000,
    "seconds": 1_000_000, "milliseconds": 1_000, "microseconds": 1,
}


@dataclass(frozen=True, slots=True)
class MakeDuration(Node):
    """``duration(weeks=..., ..., microseconds=..., time_unit=...)`` with ``Int64`` expression components, as
    polars' kernel computes it: each component times its unit, summed with Int64 wrap-around; with
    ``time_unit="ms"`` the microseconds component is truncated toward zero to milliseconds on its own. A null
    component gives null. (Literal-only durations are literals; see :func:`skewless.duration`.)
    """

    method = "duration"
    operands: tuple[Node, ...]
    parts: tuple[str, ...]
    time_unit: str = "us"

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        require(self.time_unit in ("us", "ms"), f"duration(): time_unit must be 'us' or 'ms', got {self.time_unit!r}")
        require(len(self.parts) == len(args) and set(self.parts) <= set(DURATION_US)
                and len(set(self.parts)) == len(self.parts), f"duration(): bad components {self.parts!r}")
        for name, a in zip(self.parts, args):
            require(isinstance(a.dtype, (Int64, Null)),
                    f"duration({name}=...) needs an Int64 expression, got {a.dtype!r}"
                    + (" (polars computes float components in floating point; cast to Int64 or use a smaller unit)"
                       if isinstance(a.dtype, Float64) else ""))
        return field_of(Duration(self.time_unit), *args)

    def factors(self) -> tuple[int, ...]:
        """Each component's multiplier into the unit (0 marks the ms unit's truncated microseconds)."""
        if self.time_unit == "us":
            return tuple(DURATION_US[p] for p in self.parts)
        return tuple(0 if p == "microseconds" else DURATION_US[p] // 1000 for p in self.parts)

    def render(self, args: list[str]) -> str:
        inner = ", ".join(f"{p}={a}" for p, a in zip(self.parts, args))
        return f"duration({inner}, time_unit={self.time_unit!r})"
