"""The online side of windows: per-entity state in an :class:`~skewless.state.OnlineStore`, no polars.

State of one entity (one row of the store table :attr:`EntityWindows.table`: a JSON document in column ``w``
(the codec's ``["j", ...]``); the row's event time is the entity's newest event time)::

    {"m": newest event time, "h": horizon,
     "e": [[time, order, value, ...], ...],      # every event stamped at or after the horizon, by (time, order)
     "s": {feature: partial}}                     # lifetime features: exact partials of the events before it

The horizon is ``newest − max_lateness − longest period`` (calendar days counted as 26 h), so the state of an
entity holds at most the events of the last ``max_lateness + period`` plus one constant-size exact partial
per lifetime feature — bounded by the event rate, never by the length of the history. Events older than the
horizon are sealed into the lifetime partials (sum, count, min, max merge exactly) and dropped.

Rules (each tested on SQLite and Redis):

* Ingestion (:meth:`OnlineWindows.ingest`) validates every event as the service validates requests (naming
  the field), computes its values with the source's value feature set, and updates every entity it belongs to
  in one atomic :meth:`~skewless.state.OnlineStore.update` per table: nothing is written when any event is
  invalid. Idempotent on the order column: an event already held is a no-op; the same id with other
  contents is an :class:`EventConflict`. An event older than the entity's horizon cannot be applied exactly
  and is refused (:class:`LateEvent`); events with a null key part belong to no entity of that key.
* A request (:meth:`OnlineWindows.__call__`) reads the states of all its entities in ONE store round trip
  and computes every window as of its own position (time, and order at ``requests_at="events"``): events
  after that position are never counted, whenever they arrived. A request whose window starts before an
  entity's horizon cannot be answered exactly and raises :class:`RequestBeforeHorizon` (in serving the
  request time is "now", at or after every horizon).
"""

from __future__ import annotations

import bisect
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from skewless.errors import SkewlessError
from skewless.state.protocol import OnlineStore, StateRow
from skewless.windows import exact
from skewless.windows.spec import EntityWindows, Lifetime, Rolling, Windows
from skewless.windows.timing import to_micros, window_start


class InvalidEvent(SkewlessError, ValueError):
    """An event that cannot be ingested (a field missing or of the wrong type); names the event and field."""


class EventConflict(SkewlessError, ValueError):
    """An event id already ingested with different contents."""


class LateEvent(SkewlessError, ValueError):
    """An event older than its entity's state horizon (it could no longer be applied exactly)."""


class RequestBeforeHorizon(SkewlessError, ValueError):
    """A request whose window reaches before the retained state of an entity."""


@dataclass(frozen=True)
class IngestResult:
    """Events accepted, and entity updates that were already held (duplicates: no-ops)."""

    events: int
    duplicates: int


# -- state -----------------------------------------------------------------------------------------------

def empty_state() -> dict[str, Any]:
    return {"m": None, "h": None, "e": [], "s": {}}


def _same_event(a: list[Any], b: list[Any]) -> bool:
    """Bitwise equality of two stored events (NaN equal to NaN, -0.0 not equal to 0.0, True not 1)."""
    return json.dumps(a, allow_nan=True) == json.dumps(b, allow_nan=True)


def lifetime_partial(agg: str, kind: str, values: Iterable[Any]) -> Any:
    """The exact, mergeable partial of a lifetime aggregate over ``values`` (nulls skipped)."""
    present = [v for v in values if v is not None]
    if agg == "count":
        return len(present)
    if agg == "sum":
        if kind != "float":
            return [sum(int(v) for v in present), len(present)]
        total = nan = pinf = ninf = 0
        for x in present:
            if x - x == 0.0:
                total += exact.exact_int(x)
            elif x != x:
                nan += 1
            elif x > 0:
                pinf += 1
            else:
                ninf += 1
        return [total, len(present), nan, pinf, ninf]
    # min / max: [best number or None, values seen]
    if kind == "float":
        best = (exact.float_min if agg == "min" else exact.float_max)(present)
        if best is not None and best != best:
            best = None
    else:
        ints = [int(v) for v in present]
        best = (min(ints) if agg == "min" else max(ints)) if ints else None
    return [best, len(present)]


def merge_partials(agg: str, kind: str, a: Any, b: Any) -> Any:
    if agg == "count":
        return a + b
    if agg == "sum":
        return [x + y for x, y in zip(a, b)]
    best = [v for v in (a[0], b[0]) if v is not None]
    if best:
        if kind == "float":
            best = (exact.float_min if agg == "min" else exact.float_max)(best)
        else:
            best = min(best) if agg == "min" else max(best)
    else:
        best = None
    return [best, a[1] + b[1]]


def finish_partial(agg: str, kind: str, p: Any) -> Any:
    if agg == "count":
        return p
    if agg == "sum":
        if kind != "float":
            return exact.wrap_int64(p[0]) if p[1] else None
        total, n, nan, pinf, ninf = p
        return exact.float_sum(total, exact.FLOAT_SCALE, n, nan, pinf, ninf)
    best, n = p
    if n == 0:
        return None
    if best is None:
        return float("nan")  # only NaN values were seen
    return bool(best) if kind == "bool" else best


def _empty_partial(agg: str, kind: str) -> Any:
    return lifetime_partial(agg, kind, ())


_PREFIXED = frozenset(("count", "sum", "mean", "var", "std"))


class _Prefix:
    """Exact prefix sums of one value slot over a state's events, built once per request on first use.

    ``n[i]`` non-null values, ``total[i]`` their exact sum (floats at scale 2**-1074), NaN/±inf counts, and
    (lazily) ``squares[i]``, over the first ``i`` events: a window's quantities are differences, so several
    features over one column cost one pass, whatever their windows.
    """

    __slots__ = ("kind", "n", "total", "nan", "pinf", "ninf", "scale", "_ints", "_squares")

    def __init__(self, evs: Sequence[list[Any]], slot: int, kind: str):
        from itertools import accumulate

        self.kind = kind
        values = [e[slot] for e in evs]
        present = [0 if v is None else 1 for v in values]
        self.n = list(accumulate(present, initial=0))
        if kind == "float":
            finite = [0.0 if v is None or v - v != 0.0 else v for v in values]
            self.nan = list(accumulate((1 if v is not None and v != v else 0 for v in values), initial=0))
            self.pinf = list(accumulate((1 if v == math.inf else 0 for v in values), initial=0))
            self.ninf = list(accumulate((1 if v == -math.inf else 0 for v in values), initial=0))
            # exact integers at the slot's own lowest bit (as_integer_ratio is reduced: den is that bit)
            ratios = [x.as_integer_ratio() for x in finite]
            top = max((den.bit_length() for _, den in ratios), default=1)
            ints = [num << (top - den.bit_length()) for num, den in ratios]
            self.scale = 1 - top
        else:
            ints = [0 if v is None else int(v) for v in values]
            self.nan = self.pinf = self.ninf = None
            self.scale = 0
        self._ints = ints
        self.total = list(accumulate(ints, initial=0))
        self._squares = None

    @property
    def squares(self) -> list[int]:
        if self._squares is None:
            from itertools import accumulate

            self._squares = list(accumulate((v * v for v in self._ints), initial=0))
        return self._squares

    def aggregate(self, agg: str, lo: int, hi: int, ddof: int) -> Any:
        n = self.n[hi] - self.n[lo]
        if agg == "count":
            return n
        total = self.total[hi] - self.total[lo]
        if self.kind != "float":
            if agg == "sum":
                return exact.wrap_int64(total) if n else None
            if agg == "mean":
                return exact.mean(total, 0, n)
            sq = self.squares[hi] - self.squares[lo]
            return (exact.var if agg == "var" else exact.std)(total, sq, 0, n, ddof)
        nan, pinf, ninf = (self.nan[hi] - self.nan[lo], self.pinf[hi] - self.pinf[lo], self.ninf[hi] - self.ninf[lo])
        if agg == "sum":
            return exact.float_sum(total, self.scale, n, nan, pinf, ninf)
        if agg == "mean":
            return exact.mean(total, self.scale, n, nan, pinf, ninf)
        sq = self.squares[hi] - self.squares[lo]
        return (exact.var if agg == "var" else exact.std)(total, sq, self.scale, n, ddof, nan + pinf + ninf)

    def sum_partial(self, hi: int) -> list[int]:
        """The lifetime ``sum`` partial of the first ``hi`` events (floats at the partials' scale 2**-1074)."""
        if self.kind != "float":
            return [self.total[hi], self.n[hi]]
        return [self.total[hi] << (self.scale - exact.FLOAT_SCALE), self.n[hi], self.nan[hi], self.pinf[hi],
                self.ninf[hi]]


class _Plan:
    """What the online side needs of one entity key's windows (indices into an event's stored values)."""

    def __init__(self, windows: Windows, ent: EntityWindows):
        self.ent = ent
        self.slot = {v: 2 + i for i, v in enumerate(ent.values)}
        self.features = [(name, windows.features[name], self.slot[windows.value_name(name)],
                          windows.value_kind(name)) for name in ent.features]
        self.lifetime = [(name, w.agg, slot, kind) for name, w, slot, kind in self.features
                         if isinstance(w.window, Lifetime)]
        self.keep_us = windows.source.lateness_us + ent.bound_us

    def add(self, state: dict[str, Any] | None, events: Sequence[list[Any]], key: tuple) -> tuple[dict, int]:
        """``state`` with ``events`` ([time, order, values...]) added; returns (new state, duplicates)."""
        state = empty_state() if state is None else {**state, "e": list(state["e"]), "s": dict(state["s"])}
        held = {e[1]: e for e in state["e"]}
        dupes = 0
        newest = state["m"]
        for ev in events:
            have = held.get(ev[1])
            if have is not None:
                if not _same_event(have, ev):
                    raise EventConflict(f"table {self.ent.table!r} key {key!r}: event {ev[1]} was already "
                                        f"ingested with other contents ({have!r}, now {ev!r})")
                dupes += 1
                continue
            if state["h"] is not None and ev[0] < state["h"]:
                raise LateEvent(f"table {self.ent.table!r} key {key!r}: event {ev[1]} at {ev[0]} us is older than "
                                f"the state horizon {state['h']} us (newest event - max_lateness - longest "
                                "period); it can no longer be applied exactly")
            held[ev[1]] = ev
            newest = ev[0] if newest is None else max(newest, ev[0])
        evs = sorted(held.values(), key=lambda e: (e[0], e[1]))
        horizon = newest - self.keep_us
        if state["h"] is not None:
            horizon = max(horizon, state["h"])
        cut = bisect.bisect_left([e[0] for e in evs], horizon)
        sealed, evs = evs[:cut], evs[cut:]
        for name, agg, slot, kind in self.lifetime:
            part = state["s"].get(name)
            if part is None:
                part = _empty_partial(agg, kind)
            if sealed:
                part = merge_partials(agg, kind, part, lifetime_partial(agg, kind, (e[slot] for e in sealed)))
            state["s"][name] = part
        state.update(m=newest, h=horizon, e=evs)
        return state, dupes

    def evaluate(self, state: dict[str, Any] | None, t: int, order: int | None, zone: str | None,
                 key: tuple, out: dict[str, Any]) -> None:
        evs = state["e"] if state is not None else []
        times = [e[0] for e in evs]
        positions = [(e[0], e[1]) for e in evs] if order is not None else None
        horizon = state["h"] if state is not None else None
        prefixes: dict[int, _Prefix] = {}
        for name, w, slot, kind in self.features:
            win = w.window
            upper_closed = win.closed in ("right", "both")
            if order is None:
                hi = (bisect.bisect_right if upper_closed else bisect.bisect_left)(times, t)
            else:
                hi = (bisect.bisect_right if upper_closed else bisect.bisect_left)(positions, (t, order))
            if isinstance(win, Rolling):
                start = window_start(t, win.period.days, win.period.micros, zone)
                if horizon is not None and start < horizon:
                    raise RequestBeforeHorizon(f"feature {name!r}: the window of the request at {t} us starts at "
                                               f"{start} us, before the state horizon {horizon} us of "
                                               f"{self.ent.table!r} key {key!r}")
                lo = (bisect.bisect_left if win.closed in ("left", "both") else bisect.bisect_right)(times, start)
                if w.agg in _PREFIXED and kind != "other":
                    prefix = prefixes.get(slot)
                    if prefix is None:
                        prefix = prefixes[slot] = _Prefix(evs, slot, kind)
                    out[name] = prefix.aggregate(w.agg, lo, max(lo, hi), w.ddof)
                else:
                    out[name] = exact.aggregate(w.agg, kind, [e[slot] for e in evs[lo:hi]], w.ddof)
            else:
                if horizon is not None and t < horizon:
                    raise RequestBeforeHorizon(f"feature {name!r}: the request at {t} us is before the state "
                                               f"horizon {horizon} us of {self.ent.table!r} key {key!r}")
                if w.agg in ("sum", "count") and kind != "other":
                    prefix = prefixes.get(slot)
                    if prefix is None:
                        prefix = prefixes[slot] = _Prefix(evs, slot, kind)
                    part = prefix.n[hi] if w.agg == "count" else prefix.sum_partial(hi)
                else:
                    part = lifetime_partial(w.agg, kind, (e[slot] for e in evs[:hi]))
                sealed = state["s"].get(name) if state is not None else None
                if sealed is not None:
                    part = merge_partials(w.agg, kind, sealed, part)
                out[name] = finish_partial(w.agg, kind, part)


class OnlineWindows:
    """Ingest events into ``store`` and answer requests from it (see the module docstring).

    Parameters
    ----------
    windows
        The declared windows.
    store
        Any :class:`~skewless.state.OnlineStore` (SQLite, Redis).
    """

    def __init__(self, windows: Windows, store: OnlineStore):
        from skewless.requests import request_validator

        self.windows = windows
        self.store = store
        self._plans = [_Plan(windows, ent) for ent in windows.entities]
        self._validate = request_validator(windows.values, extra="ignore", allow_non_finite=True)
        self._row_fn = windows.values.row_fn
        self._zone = windows.source.zone

    # -- events ----------------------------------------------------------------------------------------
    def prepare(self, events: Iterable[Mapping[str, Any]]) -> list[dict[tuple, list[list[Any]]]]:
        """Validated events grouped per entity table and key (``[time, order, values...]``); nothing written."""
        src = self.windows.source
        grouped: list[dict[tuple, list[list[Any]]]] = [{} for _ in self._plans]
        for i, event in enumerate(events):
            try:
                row = self._validate(event)
            except ValueError as exc:
                raise InvalidEvent(f"event {i} of source {src.name!r}: {exc}") from None
            for name in (src.time, src.order):
                if row[name] is None:
                    raise InvalidEvent(f"event {i} of source {src.name!r}: {name!r} is null (an event needs its "
                                       "time and its order id)")
            t = to_micros(row[src.time], self._zone)
            values = self._row_fn(row)
            for plan, groups in zip(self._plans, grouped):
                key = tuple(row[k] for k in plan.ent.by)
                if any(part is None for part in key):
                    continue  # a null key part names no entity
                groups.setdefault(key, []).append([t, row[src.order], *(values[v] for v in plan.ent.values)])
        return grouped

    def ingest(self, events: Iterable[Mapping[str, Any]]) -> IngestResult:
        """Apply ``events`` (dicts of the source's columns) to the store; see the module docstring."""
        events = list(events)
        grouped = self.prepare(events)
        dupes = 0
        for plan, groups in zip(self._plans, grouped):
            if not groups:
                continue
            counted: dict[tuple, int] = {}

            def change(key: tuple, current: StateRow | None, plan=plan, groups=groups, counted=counted):
                state = None if current is None else current.values["w"]
                new, d = plan.add(state, groups[key], key)
                counted[key] = d
                if state is not None and new == state:
                    return None
                return new["m"], {"w": new}

            self.store.update(plan.ent.table, list(groups), change)
            dupes += sum(counted.values())
        return IngestResult(len(events), dupes)

    # -- requests --------------------------------------------------------------------------------------
    def __call__(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """Every windowed feature of ``request`` (keys, the time and, at events, the order column)."""
        src = self.windows.source
        out: dict[str, Any] = {}
        at = request[src.time]
        order = request[src.order] if self.windows.requests_at == "events" else None
        asked: list[tuple[_Plan, tuple]] = []
        for plan in self._plans:
            key = tuple(request[k] for k in plan.ent.by)
            if at is None or any(part is None for part in key) or (self.windows.requests_at == "events"
                                                                   and order is None):
                out.update(dict.fromkeys(plan.ent.features))
                continue
            asked.append((plan, key))
        if not asked:
            return {name: out[name] for name in self.windows.features}
        t = to_micros(at, self._zone)
        states = self.store.get_many([(plan.ent.table, key) for plan, key in asked])
        for (plan, key), row in zip(asked, states):
            state = None if row is None else row.values["w"]
            plan.evaluate(state, t, order, self._zone, key, out)
        return {name: out[name] for name in self.windows.features}

    # -- bulk ------------------------------------------------------------------------------------------
    def states(self, events: Iterable[Mapping[str, Any]]) -> list[tuple[str, list[tuple[tuple, int, dict]]]]:
        """Per entity table, the store rows ``(key, newest time, row)`` of ``events`` as one bulk build."""
        out = []
        for plan, groups in zip(self._plans, self.prepare(events)):
            rows = []
            for key, evs in groups.items():
                state, _ = plan.add(None, evs, key)
                rows.append((key, state["m"], {"w": state}))
            out.append((plan.ent.table, rows))
        return out

    def materialize(self, events: Iterable[Mapping[str, Any]], *, batch_size: int = 10_000) -> dict[str, int]:
        """Build every entity's state from ``events`` (the history) and load it atomically per table."""
        return {table: self.store.load(table, rows, batch_size=batch_size).rows
                for table, rows in self.states(events)}
