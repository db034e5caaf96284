"""Windowed per-entity aggregations declared in polars' words: the event source, the builder, the IR.

::

    from skewless.windows import EventSource, Windows, col

    flights = EventSource("flights", time="time_hour", order="event_id", columns={...})
    wins = Windows(flights, {
        "tail_departures_24h": col("dep_delay").len().rolling(index_column="time_hour", period="24h",
                                                              closed="left").over("tailnum"),
        "tail_mean_delay_24h": col("dep_delay").rolling_mean_by("time_hour", window_size="24h",
                                                                closed="left").over("tailnum"),
        "carrier_origin_late_rate_7d": (col("dep_delay") > 15).mean().rolling(
            index_column="time_hour", period="7d", closed="left").over("carrier", "origin"),
        "tail_flights_so_far": col("event_id").cum_count().over("tailnum", order_by="time_hour",
                                                                closed="left"),
    }, requests_at="events")

``col`` here is :func:`skewless.col` with aggregations added (any skewless expression of the event's columns
can be aggregated: ``(col("dep_delay") > 15).mean()``). ``expr.rolling(...)`` and ``expr.rolling_*_by(...)``
build the same IR (:class:`WindowAgg`); nothing is ever compiled to polars' add/subtract rolling kernel.

Written semantics (both runtimes; the conformance cases in ``tests/test_windows.py`` check each):

* **Order.** Events are totally ordered by (event time, order column). The order column is the event id:
  Int64, unique, and the key of idempotent ingestion.
* **Request position.** ``requests_at="events"``: a request is at an event's position (time and order; the
  request carries the order column) — events at the same time and earlier in order are before it, later ones
  after it, so an event never sees a later-ordered event at its time. ``requests_at="times"``: a request is at
  a time only; every event stamped at that time is at the request's position.
* **Bounds.** ``period`` ``P``, request time ``t``, window start ``s = t - P``: ``closed="left"`` is
  ``[s, t)``, ``"right"`` ``(s, t]``, ``"both"`` ``[s, t]``, ``"none"`` ``(s, t)``, where the upper end is the
  request's *position*: an upper-closed window contains the events at or before it (the request's own event
  included when ``requests_at="events"``), an upper-open one only those strictly before it (the own event
  excluded). The lower end compares times only. Lifetime windows (``cum_*().over(..., closed=)``) have no
  lower end; ``closed`` is ``"right"`` (the request's position included, polars' ``cum_*``) or ``"left"``.
  ``closed`` is required everywhere: there is no silent default.
* **Durations.** ``"24h"``, ``"90m"``, ``"30s"``, ``"10ms"``, ``"5us"`` are fixed; ``"1d"``/``"1w"`` are calendar
  days in the time column's zone (polars' meaning): ``s`` is the instant whose wall-clock time is ``t``'s minus
  the days (a DST start makes ``"1d"`` 23 h long, ``"24h"`` stays 24 h). A wall time that occurs twice (DST
  end) is its first occurrence; one that does not exist (DST start) is read with the offset before the gap
  (Python's ``fold=0``), i.e. moved forward by the gap. Naive and UTC columns: a day is 24 h.
* **Nulls.** Events with a null key part or time are in no window. A request with a null key part or time
  gets null for every window (it names no entity). An empty window: 0 for ``len``/``count``/``n_unique``,
  null for every other aggregate.
* **Aggregates.** :mod:`skewless.windows.exact` (exact, correctly rounded).
* **Late events.** Events may arrive in any order; the value at a request depends only on which events
  exist, never on their arrival order. Online, each entity keeps the events of the last
  ``max_lateness + period`` (see :mod:`skewless.windows.online` for the bound and what is refused).
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from skewless.api.expr import Expr
from skewless.api.expr import col as _col
from skewless.dtypes import Boolean, DataType, Datetime, Float64, Int64, String
from skewless.errors import DefinitionError
from skewless.ir.base import Column, Node, render
from skewless.state.protocol import check_table

__all__ = ["Aggregate", "Duration", "EventExpr", "EventSource", "Lifetime", "Rolling", "WindowAgg", "Windows", "col"]

_CLOSED = ("left", "right", "both", "none")
_KEY_DTYPES = (Int64, String, Boolean)
#: Upper bound of one calendar day in any zone (DST shifts are at most 2 h), used only to bound online state.
_DAY_BOUND_US = 26 * 3_600_000_000
_UNITS_US = {"us": 1, "ms": 1_000, "s": 1_000_000, "m": 60_000_000, "h": 3_600_000_000}
_DURATION = re.compile(r"(\d+)(mo|ms|us|ns|s|m|h|d|w|q|y|i)")


@dataclass(frozen=True)
class Duration:
    """A window period: calendar ``days`` (wall-clock, in the time column's zone) then fixed ``micros``."""

    text: str
    days: int
    micros: int

    @staticmethod
    def parse(text: Any, where: str) -> "Duration":
        if isinstance(text, _dt.timedelta):
            us = (text.days * 86_400 + text.seconds) * 1_000_000 + text.microseconds
            if us <= 0:
                raise DefinitionError(f"{where}: the period must be positive, got {text!r}")
            return Duration(f"{us}us", 0, us)
        if not isinstance(text, str) or not text:
            raise DefinitionError(f"{where}: the period is a duration string like '24h' or '7d', got {text!r}")
        pos, days, us = 0, 0, 0
        for m in _DURATION.finditer(text):
            if m.start() != pos:
                break
            pos = m.end()
            n, unit = int(m.group(1)), m.group(2)
            if unit in ("d", "w"):
                days += n * (7 if unit == "w" else 1)
            elif unit in _UNITS_US:
                us += n * _UNITS_US[unit]
            else:
                raise DefinitionError(f"{where}: duration unit {unit!r} in {text!r} is not supported "
                                      "(use us, ms, s, m, h for fixed lengths and d, w for calendar days)")
        if pos != len(text):
            raise DefinitionError(f"{where}: cannot read the duration {text!r} (write e.g. '24h', '90m', '7d')")
        if days == 0 and us == 0:
            raise DefinitionError(f"{where}: the period must be positive, got {text!r}")
        return Duration(text, days, us)

    @property
    def bound_us(self) -> int:
        """An upper bound of the period's length in microseconds (calendar days counted as 26 h)."""
        return self.days * _DAY_BOUND_US + self.micros


@dataclass(frozen=True)
class Rolling:
    """A sliding window: events in ``(t - period, t]`` with the bounds ``closed`` says (see the module docs)."""

    index_column: str
    period: Duration
    closed: str

    def render(self) -> str:
        return f"rolling(index_column={self.index_column!r}, period={self.period.text!r}, closed={self.closed!r})"


@dataclass(frozen=True)
class Lifetime:
    """Every event up to the request's position (``closed="right"``: including it; ``"left"``: before it)."""

    index_column: str
    closed: str

    def render(self) -> str:
        return f"order_by={self.index_column!r}, closed={self.closed!r}"


_AGGS = ("len", "count", "sum", "mean", "min", "max", "std", "var", "first", "last", "n_unique")
_CUM = {"cum_sum": "sum", "cum_count": "count", "cum_min": "min", "cum_max": "max"}
#: Aggregates a lifetime window supports: exactly mergeable in constant space (the online state seals them).
LIFETIME_AGGS = frozenset(_CUM.values())


@dataclass(frozen=True)
class WindowAgg:
    """One windowed feature: ``agg`` of the event expression ``value`` over ``window``, per entity ``by``."""

    value: Node
    agg: str
    ddof: int
    window: Rolling | Lifetime
    by: tuple[str, ...]

    def render(self) -> str:
        agg = f"{self.agg}(ddof={self.ddof})" if self.agg in ("std", "var") else f"{self.agg}()"
        keys = ", ".join(repr(k) for k in self.by)
        if isinstance(self.window, Lifetime):
            cum = {v: k for k, v in _CUM.items()}[self.agg]
            return f"{render(self.value)}.{cum}().over({keys}, {self.window.render()})"
        return f"{render(self.value)}.{agg}.{self.window.render()}.over({keys})"

    def __repr__(self) -> str:
        return f"<WindowAgg {self.render()}>"


def _check_closed(closed: Any, where: str, allowed: tuple[str, ...] = _CLOSED) -> str:
    if closed is None:
        raise DefinitionError(f"{where}: closed= is required ({', '.join(map(repr, allowed))}); skewless has "
                              "no silent default (polars' rolling defaults to 'right', which counts the "
                              "request's own event)")
    if closed not in allowed:
        raise DefinitionError(f"{where}: closed={closed!r} is not one of {allowed}")
    return closed


class Aggregate:
    """``expr.mean()`` and friends: needs ``.rolling(...)`` and ``.over(...)`` to become a window."""

    __slots__ = ("_value", "_agg", "_ddof")

    def __init__(self, value: Node, agg: str, ddof: int = 1):
        self._value, self._agg, self._ddof = value, agg, ddof

    def rolling(self, index_column: str, *, period: Any, offset: Any = None, closed: str | None = None) -> "_Rolled":
        """A sliding window of ``period`` ending at the request (polars' ``Expr.rolling``)."""
        where = f"{render(self._value)}.{self._agg}().rolling(...)"
        if offset is not None:
            raise DefinitionError(f"{where}: offset= is not supported (the window always ends at the request)")
        return _Rolled(self, Rolling(index_column, Duration.parse(period, where), _check_closed(closed, where)))

    def over(self, *args: Any, **kwargs: Any) -> None:
        raise DefinitionError(
            f"{render(self._value)}.{self._agg}().over(...) is the whole group's {self._agg}, later events "
            "included (it would leak the future into training rows): write .rolling(index_column=..., "
            "period=..., closed=...).over(...) for a sliding window, or cum_sum/cum_count/cum_min/cum_max"
            "().over(..., order_by=..., closed=...) for a lifetime one")

    def __repr__(self) -> str:
        return f"<Aggregate {render(self._value)}.{self._agg}()>"


class _Rolled:
    __slots__ = ("_agg", "_window")

    def __init__(self, agg: Aggregate, window: Rolling):
        self._agg, self._window = agg, window

    def over(self, *partition_by: str) -> WindowAgg:
        """Per entity: the window's events are those with the same values of ``partition_by``."""
        return WindowAgg(self._agg._value, self._agg._agg, self._agg._ddof, self._window, _keys(partition_by))

    def __repr__(self) -> str:
        return f"<{render(self._agg._value)}.{self._agg._agg}().{self._window.render()}: needs .over(keys)>"


class _Cumulative:
    __slots__ = ("_value", "_agg")

    def __init__(self, value: Node, agg: str):
        self._value, self._agg = value, agg

    def over(self, *partition_by: str, order_by: str | None = None, closed: str | None = None) -> WindowAgg:
        """Lifetime per entity, ordered by ``order_by`` (the event time) and the source's order column."""
        where = f"{render(self._value)}.cum_{self._agg}().over(...)"
        if order_by is None:
            raise DefinitionError(f"{where}: order_by= (the event time column) is required")
        closed = _check_closed(closed, where, ("right", "left"))
        return WindowAgg(self._value, self._agg, 1, Lifetime(order_by, closed), _keys(partition_by))


def _keys(partition_by: tuple) -> tuple[str, ...]:
    flat: list[str] = []
    for k in partition_by:
        flat.extend(k if isinstance(k, (list, tuple)) else [k])
    if not flat or not all(isinstance(k, str) for k in flat):
        raise DefinitionError(f"over() takes the entity key column names, got {partition_by!r}")
    return tuple(flat)


class EventExpr:
    """A skewless expression of an event's columns that can also be aggregated over a window.

    Every :class:`skewless.Expr` method and operator works and returns an ``EventExpr``; the aggregations
    (``len``, ``count``, ``sum``, ``mean``, ``min``, ``max``, ``std``, ``var``, ``first``, ``last``, ``n_unique``,
    ``cum_*``, ``rolling_*_by``) return window builders.
    """

    __slots__ = ("_expr",)

    def __init__(self, expr: Expr):
        object.__setattr__(self, "_expr", expr)

    @property
    def expr(self) -> Expr:
        return self._expr

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._expr, name)
        if not callable(attr):
            return _wrap(attr)
        return lambda *a, **k: _wrap(attr(*(_unwrap(x) for x in a), **{n: _unwrap(v) for n, v in k.items()}))

    def __repr__(self) -> str:
        return f"<EventExpr {render(self._expr._node)}>"

    def __bool__(self) -> bool:
        return bool(self._expr)

    # -- aggregations --------------------------------------------------------------------------------------
    def _agg(self, agg: str, ddof: int = 1) -> Aggregate:
        if ddof not in (0, 1):
            raise DefinitionError(f"{render(self._expr._node)}.{agg}(ddof={ddof!r}): ddof is 0 or 1")
        return Aggregate(self._expr._node, agg, ddof)

    def len(self) -> Aggregate:
        """The number of events in the window (nulls included)."""
        return self._agg("len")

    def count(self) -> Aggregate:
        """The number of non-null values in the window."""
        return self._agg("count")

    def sum(self) -> Aggregate:
        return self._agg("sum")

    def mean(self) -> Aggregate:
        return self._agg("mean")

    def min(self) -> Aggregate:
        return self._agg("min")

    def max(self) -> Aggregate:
        return self._agg("max")

    def std(self, ddof: int = 1) -> Aggregate:
        return self._agg("std", ddof)

    def var(self, ddof: int = 1) -> Aggregate:
        return self._agg("var", ddof)

    def first(self) -> Aggregate:
        return self._agg("first")

    def last(self) -> Aggregate:
        return self._agg("last")

    def n_unique(self) -> Aggregate:
        return self._agg("n_unique")

    def cum_sum(self) -> _Cumulative:
        return _Cumulative(self._expr._node, "sum")

    def cum_count(self) -> _Cumulative:
        return _Cumulative(self._expr._node, "count")

    def cum_min(self) -> _Cumulative:
        return _Cumulative(self._expr._node, "min")

    def cum_max(self) -> _Cumulative:
        return _Cumulative(self._expr._node, "max")

    def _by(self, agg: str, by: str, window_size: Any, min_samples: int, closed: str | None, ddof: int = 1):
        where = f"{render(self._expr._node)}.rolling_{agg}_by(...)"
        if min_samples != 1:
            raise DefinitionError(f"{where}: min_samples={min_samples!r} is not supported (an empty window is "
                                  "null, a non-empty one has a value)")
        return self._agg(agg, ddof).rolling(by, period=window_size, closed=_check_closed(closed, where))

    def rolling_sum_by(self, by: str, window_size: Any, *, min_samples: int = 1, closed: str | None = None):
        """Same IR as ``.sum().rolling(index_column=by, period=window_size, closed=closed)``."""
        return self._by("sum", by, window_size, min_samples, closed)

    def rolling_mean_by(self, by: str, window_size: Any, *, min_samples: int = 1, closed: str | None = None):
        return self._by("mean", by, window_size, min_samples, closed)

    def rolling_min_by(self, by: str, window_size: Any, *, min_samples: int = 1, closed: str | None = None):
        return self._by("min", by, window_size, min_samples, closed)

    def rolling_max_by(self, by: str, window_size: Any, *, min_samples: int = 1, closed: str | None = None):
        return self._by("max", by, window_size, min_samples, closed)

    def rolling_std_by(self, by: str, window_size: Any, *, min_samples: int = 1, closed: str | None = None,
                       ddof: int = 1):
        return self._by("std", by, window_size, min_samples, closed, ddof)

    def rolling_var_by(self, by: str, window_size: Any, *, min_samples: int = 1, closed: str | None = None,
                       ddof: int = 1):
        return self._by("var", by, window_size, min_samples, closed, ddof)


def _unwrap(x: Any) -> Any:
    return x._expr if isinstance(x, EventExpr) else x


def _wrap(x: Any) -> Any:
    if isinstance(x, Expr):
        return EventExpr(x)
    if hasattr(x, "_receiver") or type(x).__name__.endswith("Namespace"):  # str./dt. namespaces, chains
        return _NamespaceProxy(x)
    return x


class _NamespaceProxy:
    __slots__ = ("_ns",)

    def __init__(self, ns: Any):
        self._ns = ns

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._ns, name)
        if not callable(attr):
            return _wrap(attr)
        return lambda *a, **k: _wrap(attr(*(_unwrap(x) for x in a), **{n: _unwrap(v) for n, v in k.items()}))


def _binary(name: str):
    def op(self: EventExpr, other: Any = None) -> EventExpr:
        method = getattr(Expr, name)
        return EventExpr(method(self._expr) if other is None and name in _UNARY else method(self._expr, _unwrap(other)))

    op.__name__ = name
    return op


_UNARY = {"__neg__", "__pos__", "__invert__"}
for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__", "__rtruediv__",
              "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__", "__pow__", "__rpow__", "__eq__", "__ne__",
              "__lt__", "__le__", "__gt__", "__ge__", "__and__", "__rand__", "__or__", "__ror__", "__xor__",
              "__rxor__", *_UNARY):
    setattr(EventExpr, _name, _binary(_name))
EventExpr.__hash__ = None  # type: ignore[assignment]


def col(name: str) -> EventExpr:
    """An event column (:func:`skewless.col`) that can be aggregated over windows."""
    return EventExpr(_col(name))


@dataclass(frozen=True)
class EventSource:
    """A stream of events, declared like an entity table.

    Parameters
    ----------
    name
        The source's name (store table names derive from it).
    time
        The event-time column: a ``Datetime`` (``"us"``) in ``columns``.
    order
        The order column: an Int64 event id, unique per source; ties of event time are ordered by it, and
        ingestion is idempotent on it.
    columns
        Every column of an event and its dtype (key, time and order columns included).
    max_lateness
        How much older than an entity's newest event an arriving event may be and still be applied online
        (older ones are refused, naming the event); bounds the online state with the windows' periods.
    """

    name: str
    time: str
    order: str
    columns: Mapping[str, DataType]
    max_lateness: _dt.timedelta = _dt.timedelta(0)

    def __post_init__(self):
        check_table(self.name)
        where = f"event source {self.name!r}"
        object.__setattr__(self, "columns", dict(self.columns))
        t = self.columns.get(self.time)
        if not isinstance(t, Datetime) or t.time_unit != "us":
            raise DefinitionError(f"{where}: time column {self.time!r} must be a Datetime('us', zone) column, "
                                  f"got {t!r}")
        if not isinstance(self.columns.get(self.order), Int64):
            raise DefinitionError(f"{where}: order column {self.order!r} must be an Int64 column (a unique "
                                  f"event id), got {self.columns.get(self.order)!r}")
        if not isinstance(self.max_lateness, _dt.timedelta) or self.max_lateness < _dt.timedelta(0):
            raise DefinitionError(f"{where}: max_lateness must be a non-negative timedelta")

    @property
    def zone(self) -> str | None:
        return self.columns[self.time].time_zone

    @property
    def lateness_us(self) -> int:
        lt = self.max_lateness
        return (lt.days * 86_400 + lt.seconds) * 1_000_000 + lt.microseconds


def value_kind(dtype: DataType) -> str:
    """``"int"``, ``"float"``, ``"bool"`` or ``"other"``: how :mod:`skewless.windows.exact` treats values."""
    if isinstance(dtype, Int64):
        return "int"
    if isinstance(dtype, Float64):
        return "float"
    if isinstance(dtype, Boolean):
        return "bool"
    return "other"


def output_dtype(agg: str, dtype: DataType, where: str) -> DataType:
    """The dtype of ``agg`` over values of ``dtype``; :class:`DefinitionError` when it has none."""
    kind = value_kind(dtype)
    if agg in ("len", "count", "n_unique"):
        if agg == "n_unique" and not isinstance(dtype, (Int64, Float64, Boolean, String)):
            raise DefinitionError(f"{where}: n_unique of {dtype} is not supported (Int64, Float64, Boolean, String)")
        return Int64()
    if agg in ("first", "last"):
        if not isinstance(dtype, (Int64, Float64, Boolean, String)):
            raise DefinitionError(f"{where}: {agg} of {dtype} is not supported (Int64, Float64, Boolean, String)")
        return dtype
    if kind == "other":
        raise DefinitionError(f"{where}: {agg} needs Int64, Float64 or Boolean values, got {dtype}")
    if agg == "sum":
        return Float64() if kind == "float" else Int64()
    if agg in ("min", "max"):
        return dtype
    return Float64()  # mean, std, var


@dataclass(frozen=True)
class EntityWindows:
    """The windows of one entity key of a source: one online state per entity, one store table."""

    table: str
    by: tuple[str, ...]
    features: tuple[str, ...]
    values: tuple[str, ...]  # the value columns the state keeps per event
    bound_us: int  # the longest period (calendar days as 26 h)
    lifetime: bool


@dataclass(frozen=True)
class Windows:
    """Named windowed features over one event source, type-checked when declared.

    Parameters
    ----------
    source
        The event source.
    features
        Output name -> :class:`WindowAgg`.
    requests_at
        ``"events"`` (a request is at an event's position and carries the order column) or ``"times"``
        (a request is at a time); see the module docstring. Required: it decides whether the request's own
        event can be counted.
    """

    source: EventSource
    features: Mapping[str, WindowAgg]
    requests_at: str | None = None
    _values: Any = field(init=False, repr=False, compare=False)
    _value_names: Any = field(init=False, repr=False, compare=False)
    _outputs: Any = field(init=False, repr=False, compare=False)
    _entities: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        from skewless.feature_set import FeatureSet, Input

        src = self.source
        object.__setattr__(self, "features", dict(self.features))
        if self.requests_at not in ("events", "times"):
            raise DefinitionError("Windows: requests_at= is required: 'events' (a request is at an event and "
                                  "carries the order column) or 'times' (a request is at a time)")
        if not self.features:
            raise DefinitionError("Windows: no features")
        value_names: dict[Node, str] = {}
        for name, w in self.features.items():
            if not isinstance(w, WindowAgg):
                raise DefinitionError(f"a windowed feature must be expr.<agg>().rolling(...).over(...) or "
                                      f"expr.cum_<agg>().over(...), got {type(w).__name__}", feature=name)
            if name in src.columns:
                raise DefinitionError("a windowed feature cannot have the name of an event column", feature=name)
            if w.window.index_column != src.time:
                raise DefinitionError(f"the window is indexed by {w.window.index_column!r}; the source's event "
                                      f"time is {src.time!r}", feature=name, expr=w.render())
            for k in w.by:
                if not isinstance(src.columns.get(k), _KEY_DTYPES):
                    raise DefinitionError(f"entity key {k!r} must be an Int64, String or Boolean column of the "
                                          f"source, got {src.columns.get(k)!r}", feature=name, expr=w.render())
            if isinstance(w.window, Lifetime) and w.agg not in LIFETIME_AGGS:
                raise DefinitionError(f"lifetime windows support cum_sum, cum_count, cum_min, cum_max",
                                      feature=name, expr=w.render())
            value_names.setdefault(w.value, f"__skewless_v{len(value_names)}")
        inputs = {c: Input(d, nullable=True) for c, d in src.columns.items()}
        try:
            values = FeatureSet(f"{src.name}_window_values", inputs, {n: Expr(v) for v, n in value_names.items()})
        except DefinitionError as exc:
            bad = next((k for k, w in self.features.items() if value_names[w.value] == exc.feature), exc.feature)
            raise DefinitionError(exc.reason, feature=bad, expr=exc.expr) from None
        schema = values.output_schema()
        outputs: dict[str, DataType] = {}
        for name, w in self.features.items():
            vdtype = schema[value_names[w.value]].dtype
            outputs[name] = output_dtype(w.agg, vdtype, f"feature {name!r} in {w.render()}")
        entities: dict[tuple[str, ...], list[str]] = {}
        for name, w in self.features.items():
            entities.setdefault(w.by, []).append(name)
        ents = []
        for i, (by, names) in enumerate(entities.items()):
            table = f"{src.name}--{'--'.join(by)}"
            if not re.fullmatch(r"[A-Za-z0-9_-]{1,100}", table):
                table = f"{src.name}--w{i}"
            vals = tuple(dict.fromkeys(value_names[self.features[n].value] for n in names))
            bounds = [self.features[n].window.period.bound_us for n in names
                      if isinstance(self.features[n].window, Rolling)]
            lifetime = any(isinstance(self.features[n].window, Lifetime) for n in names)
            ents.append(EntityWindows(table, by, tuple(names), vals, max(bounds, default=0), lifetime))
        object.__setattr__(self, "_values", values)
        object.__setattr__(self, "_value_names", value_names)
        object.__setattr__(self, "_outputs", outputs)
        object.__setattr__(self, "_entities", tuple(ents))

    @property
    def outputs(self) -> dict[str, DataType]:
        """Output name -> dtype (every output nullable: a null key or request time gives null)."""
        return dict(self._outputs)

    @property
    def values(self):
        """The feature set computing each event's aggregated values (both runtimes, parity-proven)."""
        return self._values

    def value_name(self, name: str) -> str:
        """The value column of feature ``name`` (an output of :attr:`values`)."""
        return self._value_names[self.features[name].value]

    def value_kind(self, name: str) -> str:
        return value_kind(self._values.output_schema()[self.value_name(name)].dtype)

    @property
    def entities(self) -> tuple[EntityWindows, ...]:
        return self._entities

    @property
    def request_columns(self) -> tuple[str, ...]:
        """The columns a request needs: every key, the time, and the order column at events."""
        keys = dict.fromkeys(k for e in self._entities for k in e.by)
        extra = (self.source.order,) if self.requests_at == "events" else ()
        return (*keys, self.source.time, *extra)
