"""The ``.dt`` namespace."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import ExprTypeError
from ..ir import temporal as ops
from .namespace import Namespace

if TYPE_CHECKING:
    from .expr import Expr


class DateTimeNamespace(Namespace):
    """Temporal methods, as ``polars.Expr.dt``.

    Field accessors work on ``Date`` and ``Datetime`` (clock fields on
    ``Datetime`` only) and return ``Int64`` (polars: ``Int8``/``Int16``/``Int32``).
    A zoned ``Datetime`` is read on the wall clock of its zone, a naive one as is.
    """

    _name = "dt"
    __slots__ = ()

    # --- calendar fields -------------------------------------------------
    def year(self) -> "Expr":
        """Calendar year.

        Examples
        --------
        >>> col("ts").dt.year()
        <Expr col('ts').dt.year()>
        """
        return self._new(ops.DtYear(self._node))

    def month(self) -> "Expr":
        """Month, 1-12.

        Examples
        --------
        >>> col("ts").dt.month()
        <Expr col('ts').dt.month()>
        """
        return self._new(ops.DtMonth(self._node))

    def day(self) -> "Expr":
        """Day of the month, 1-31.

        Examples
        --------
        >>> col("ts").dt.day()
        <Expr col('ts').dt.day()>
        """
        return self._new(ops.DtDay(self._node))

    def weekday(self) -> "Expr":
        """ISO day of the week, Monday = 1 ... Sunday = 7.

        Copies polars, not Python: ``datetime.weekday()`` is 0-6 from Monday.

        Examples
        --------
        >>> col("ts").dt.weekday()
        <Expr col('ts').dt.weekday()>
        """
        return self._new(ops.DtWeekday(self._node))

    def ordinal_day(self) -> "Expr":
        """Day of the year, 1-366.

        Examples
        --------
        >>> col("ts").dt.ordinal_day()
        <Expr col('ts').dt.ordinal_day()>
        """
        return self._new(ops.DtOrdinalDay(self._node))

    def week(self) -> "Expr":
        """ISO 8601 week number, 1-53.

        Early January can belong to the last week of the previous year
        (2021-01-03 is in week 53) and late December to week 1.

        Examples
        --------
        >>> col("ts").dt.week()
        <Expr col('ts').dt.week()>
        """
        return self._new(ops.DtWeek(self._node))

    def quarter(self) -> "Expr":
        """Quarter of the year, 1-4.

        Examples
        --------
        >>> col("ts").dt.quarter()
        <Expr col('ts').dt.quarter()>
        """
        return self._new(ops.DtQuarter(self._node))

    # --- clock fields ----------------------------------------------------
    def hour(self) -> "Expr":
        """Hour of the wall clock, 0-23 (``Datetime`` only).

        Examples
        --------
        >>> col("ts").dt.hour()
        <Expr col('ts').dt.hour()>
        """
        return self._new(ops.DtHour(self._node))

    def minute(self) -> "Expr":
        """Minute, 0-59 (``Datetime`` only).

        Examples
        --------
        >>> col("ts").dt.minute()
        <Expr col('ts').dt.minute()>
        """
        return self._new(ops.DtMinute(self._node))

    def second(self) -> "Expr":
        """Whole second, 0-59 (``Datetime`` only); the fraction is dropped.

        Examples
        --------
        >>> col("ts").dt.second()
        <Expr col('ts').dt.second()>
        """
        return self._new(ops.DtSecond(self._node))

    def millisecond(self) -> "Expr":
        """Milliseconds within the second, 0-999 (``Datetime`` only).

        Examples
        --------
        >>> col("ts").dt.millisecond()
        <Expr col('ts').dt.millisecond()>
        """
        return self._new(ops.DtMillisecond(self._node))

    def microsecond(self) -> "Expr":
        """Microseconds within the second, 0-999999 (``Datetime`` only).

        Examples
        --------
        >>> col("ts").dt.microsecond()
        <Expr col('ts').dt.microsecond()>
        """
        return self._new(ops.DtMicrosecond(self._node))

    # --- conversions -----------------------------------------------------
    def epoch(self, time_unit: str = "us") -> "Expr":
        """Time since 1970-01-01T00:00 UTC in ``time_unit`` (``"s"``, ``"ms"``, ``"us"`` or ``"d"``).

        Floored like polars: 1969-12-31T23:59:59.5 is ``-1`` in seconds (not 0).
        A zoned ``Datetime`` counts the instant, not its wall clock. ``"ns"``
        is refused (skewless has no nanosecond resolution).

        Examples
        --------
        >>> col("ts").dt.epoch("s")
        <Expr col('ts').dt.epoch(time_unit='s')>
        """
        if time_unit not in ops.EPOCH_UNITS:
            raise ExprTypeError(f"dt.epoch(): time_unit must be one of {ops.EPOCH_UNITS}, got {time_unit!r}")
        return self._new(ops.DtEpoch(self._node, time_unit))

    def date(self) -> "Expr":
        """The date of the wall clock, as ``Date`` (a zoned ``Datetime`` is read in its zone).

        Examples
        --------
        >>> col("ts").dt.date()
        <Expr col('ts').dt.date()>
        """
        return self._new(ops.DtDate(self._node))

    def convert_time_zone(self, time_zone: str) -> "Expr":
        """The same instants, read in ``time_zone`` (an IANA name from the ``tzdata`` package).

        Only the dtype changes; comparisons and differences are unaffected,
        field accessors then read the new zone's wall clock. Copies polars
        2.1: a naive ``Datetime`` is taken as UTC. Unknown zones (and offsets
        such as ``"+05:00"``, which polars renames) are refused when the feature
        set is defined.

        Examples
        --------
        >>> col("ts").dt.convert_time_zone("Asia/Kathmandu")
        <Expr col('ts').dt.convert_time_zone(time_zone='Asia/Kathmandu')>
        """
        # The zone is checked (with skewless.runtime.tz.check_zone) when the feature set is
        # defined, so that the error names the feature.
        return self._new(ops.DtConvertTimeZone(self._node, time_zone))

    # --- windows ---------------------------------------------------------------
    def truncate(self, every: "str | Any") -> "Expr":
        """The start of the ``every`` window holding the value; see :class:`skewless.ir.temporal.DtTruncate`.

        ``every`` is polars' duration string (``"15m"``, ``"1h"``, ``"1d"``, ``"1w"``, ``"1mo"``, ``"1y"``)
        or a ``datetime.timedelta``.

        Examples
        --------
        >>> col("ts").dt.truncate("15m")
        <Expr col('ts').dt.truncate(every='15m')>
        """
        return self._new(ops.DtTruncate(self._node, _duration_string(every, "truncate")))

    def offset_by(self, by: "str | Any") -> "Expr":
        """Shift by polars' duration string (calendar months clamp to the month's end); see
        :class:`skewless.ir.temporal.DtOffsetBy`.

        Examples
        --------
        >>> col("ts").dt.offset_by("1mo")
        <Expr col('ts').dt.offset_by(by='1mo')>
        """
        return self._new(ops.DtOffsetBy(self._node, _duration_string(by, "offset_by")))

    # --- text ------------------------------------------------------------------
    def strftime(self, format: str) -> "Expr":
        """The value as text in a chrono ``format``, as polars writes it; see :class:`skewless.ir.temporal.DtToString`.

        Examples
        --------
        >>> col("ts").dt.strftime("%Y-%m-%d %H:%M")
        <Expr col('ts').dt.strftime(format='%Y-%m-%d %H:%M')>
        """
        return self._new(ops.DtToString(self._node, format))

    def to_string(self, format: str | None = None) -> "Expr":
        """Same as :meth:`strftime` (polars' other name); without a format use ``cast(String)`` (ISO text).

        Examples
        --------
        >>> col("ts").dt.to_string("%d/%m/%Y")
        <Expr col('ts').dt.strftime(format='%d/%m/%Y')>
        """
        if format is None or format == "iso":
            raise ExprTypeError("dt.to_string() needs an explicit chrono format here; cast(String) writes polars' ISO text")
        return self.strftime(format)

    # --- durations ---------------------------------------------------------
    def total_days(self, *, fractional: bool = False) -> "Expr":
        """Length of a ``Duration`` in days.

        ``Int64`` truncated toward zero (polars: -36 hours is -1 day, not -2);
        ``fractional=True`` gives ``Float64``.

        Examples
        --------
        >>> (col("arrive") - col("depart")).dt.total_days()
        <Expr (col('arrive') - col('depart')).dt.total_days(fractional=False)>
        """
        return self._new(ops.DtTotalDays(self._node, _flag(fractional)))

    def total_hours(self, *, fractional: bool = False) -> "Expr":
        """Length of a ``Duration`` in hours (truncated toward zero unless ``fractional``).

        Examples
        --------
        >>> (col("arrive") - col("depart")).dt.total_hours()
        <Expr (col('arrive') - col('depart')).dt.total_hours(fractional=False)>
        """
        return self._new(ops.DtTotalHours(self._node, _flag(fractional)))

    def total_minutes(self, *, fractional: bool = False) -> "Expr":
        """Length of a ``Duration`` in minutes (truncated toward zero unless ``fractional``).

        Examples
        --------
        >>> (col("arrive") - col("depart")).dt.total_minutes()
        <Expr (col('arrive') - col('depart')).dt.total_minutes(fractional=False)>
        """
        return self._new(ops.DtTotalMinutes(self._node, _flag(fractional)))

    def total_seconds(self, *, fractional: bool = False) -> "Expr":
        """Length of a ``Duration`` in seconds.

        ``Int64`` truncated toward zero (polars: -1.5 s is -1, while Python's
        ``timedelta.total_seconds()`` is the float -1.5); ``fractional=True``
        gives that float.

        Examples
        --------
        >>> (col("arrive") - col("depart")).dt.total_seconds()
        <Expr (col('arrive') - col('depart')).dt.total_seconds(fractional=False)>
        """
        return self._new(ops.DtTotalSeconds(self._node, _flag(fractional)))

    def total_milliseconds(self, *, fractional: bool = False) -> "Expr":
        """Length of a ``Duration`` in milliseconds (truncated toward zero unless ``fractional``).

        Examples
        --------
        >>> (col("arrive") - col("depart")).dt.total_milliseconds()
        <Expr (col('arrive') - col('depart')).dt.total_milliseconds(fractional=False)>
        """
        return self._new(ops.DtTotalMilliseconds(self._node, _flag(fractional)))

    def total_microseconds(self, *, fractional: bool = False) -> "Expr":
        """Length of a ``Duration`` in microseconds.

        On a millisecond ``Duration`` this multiplies by 1000 and wraps on
        Int64 overflow, as polars does.

        Examples
        --------
        >>> (col("arrive") - col("depart")).dt.total_microseconds()
        <Expr (col('arrive') - col('depart')).dt.total_microseconds(fractional=False)>
        """
        return self._new(ops.DtTotalMicroseconds(self._node, _flag(fractional)))


def _duration_string(value: object, method: str) -> str:
    """polars' duration string for ``value`` (a string as is; a timedelta in whole microseconds)."""
    import datetime as _dt

    if isinstance(value, _dt.timedelta):
        us = value // _dt.timedelta(microseconds=1)
        return f"-{-us}us" if us < 0 else f"{us}us"
    if not isinstance(value, str):
        raise ExprTypeError(f"dt.{method}() takes a duration string ('1h', '1mo', ...) or a timedelta, got {value!r}"
                            " (an expression is not supported)")
    return value


def _flag(value: object) -> bool:
    if type(value) is not bool:
        raise ExprTypeError(f"fractional must be True or False, got {value!r}")
    return value


#: ``duration()``'s components and their length in microseconds, in the order polars documents them.
_DURATION_US = {
    "weeks": 604_800_000_000, "days": 86_400_000_000, "hours": 3_600_000_000, "minutes": 60_000_000,
    "seconds": 1_000_000, "milliseconds": 1_000, "microseconds": 1,
}


def duration(
    *,
    weeks: Any = 0,
    days: Any = 0,
    hours: Any = 0,
    minutes: Any = 0,
    seconds: Any = 0,
    milliseconds: Any = 0,
    microseconds: Any = 0,
    time_unit: str = "us",
) -> "Expr":
    """A ``Duration`` from its components, as ``polars.duration``.

    With literal components it is a literal: the components add up (``duration(hours=1, minutes=30)`` is
    90 minutes; negative components subtract) and ``time_unit="ms"`` truncates the total toward zero to
    whole milliseconds, as polars does for literals (``seconds=1, microseconds=-7`` is 999 ms). A float
    component is accepted when its product with its unit is a whole number of microseconds (``hours=1.5``);
    others (``microseconds=0.7``, which polars truncates silently) are refused, and so is a total outside
    Int64 (polars wraps it).

    With an ``Int64`` expression among the components (``duration(minutes=col("delay"))``) it is an
    expression (:class:`skewless.ir.temporal.MakeDuration`): polars' kernel then multiplies each component
    by its unit and adds them with Int64 wrap-around, and with ``time_unit="ms"`` truncates the
    *microseconds component* toward zero on its own (``seconds=col("one"), microseconds=-7`` is 1000 ms);
    a null component gives null. Float components are refused there (polars computes in floating point).

    Examples
    --------
    >>> from skewless import duration
    >>> duration(hours=1, minutes=30)
    <Expr lit(datetime.timedelta(seconds=5400))>
    >>> col("ts") + duration(days=1)
    <Expr (col('ts') + lit(datetime.timedelta(days=1)))>
    >>> col("sched") + duration(minutes=col("delay"))
    <Expr (col('sched') + duration(minutes=col('delay'), time_unit='us'))>
    """
    import datetime as _dt

    from ..dtypes import Duration
    from .expr import Expr, lit, wrap

    parts = dict(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds,
                 milliseconds=milliseconds, microseconds=microseconds)
    if any(isinstance(v, Expr) for v in parts.values()):
        if time_unit not in ("us", "ms"):
            raise ExprTypeError(f"duration(): time_unit must be 'us' or 'ms', got {time_unit!r} (skewless has no 'ns')")
        names, nodes = [], []
        for name, value in parts.items():
            if not isinstance(value, Expr) and (type(value) is not int or value == 0):
                if type(value) is int or (type(value) is float and value == 0):
                    continue
                raise ExprTypeError(
                    f"duration({name}={value!r}) next to an expression component: give ints (polars computes a"
                    " float component in floating point and truncates it)")
            names.append(name)
            nodes.append(wrap(value))
        return Expr(ops.MakeDuration(tuple(nodes), tuple(names), time_unit))
    if time_unit not in ("us", "ms"):
        raise ExprTypeError(f"duration(): time_unit must be 'us' or 'ms', got {time_unit!r} (skewless has no 'ns')")
    parts = dict(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds,
                 milliseconds=milliseconds, microseconds=microseconds)
    total_us = 0
    for name, value in parts.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise ExprTypeError(
                f"duration({name}=...): got {type(value).__name__} {value!r}; give an int, a float or an Int64"
                " expression"
            )
        factor = _DURATION_US[name]
        if type(value) is float:
            # polars multiplies in floating point and truncates the sum: exact only for whole products
            product = value * factor
            if not (product == product and abs(product) < 2**53 and product == int(product)):
                raise ExprTypeError(
                    f"duration({name}={value!r}) is not a whole number of microseconds (polars would truncate"
                    " it silently); give an int of a smaller unit"
                )
            total_us += int(product)
        else:
            total_us += value * factor
    # polars sums the components at a finer resolution and truncates the total toward zero to the unit
    # (measured: seconds=1, microseconds=-7 is 999 ms; seconds=-0.25, microseconds=1 is -249 ms).
    per_unit = 1 if time_unit == "us" else 1_000
    total = abs(total_us) // per_unit * (1 if total_us >= 0 else -1)
    if not -(2**63) <= total <= 2**63 - 1:
        raise ExprTypeError(f"duration(): the total {total} {time_unit} does not fit in Int64 (polars would wrap it)")
    delta = _dt.timedelta(microseconds=total * per_unit)
    return lit(delta, dtype=Duration(time_unit))
