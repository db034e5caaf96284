"""The online side of windows: per-entity state in an :class:`~skewless.state.OnlineStore`, no polars.

State of one entity: one row of the store table :attr:`EntityWindows.table`, encoded by
:mod:`skewless.windows.state` — a small JSON header (newest event time, horizon, events sealed so far, exact
lifetime partials of the sealed events) and the held events as binary columns with their exact prefix sums,
so a window's count, sum, mean, var and std are differences of two stored prefixes (O(1) in the window's
length) and its min/max/n_unique run at C speed over a slice of the stored values. A state holding more than
``paged_above`` events (default 8,192) is **paged** (:mod:`skewless.windows.pages`): a head row and pages of
``page_size`` (256) events in separate keys of the same table, so that a request and an in-order ingest read
and write the pages they need, not every held event.

The horizon is ``newest − max_lateness − longest period`` (calendar days counted as 26 h), so the state of an
entity holds at most the events of the last ``max_lateness + period`` plus one constant-size exact partial
per lifetime feature — bounded by the event rate, never by the length of the history. Events older than the
horizon are sealed into the lifetime partials (sum, count, min, max merge exactly) and dropped (a paged
state deletes the pages they filled). What a request costs, per entity: one row ≤ ``paged_above`` events
(one round trip); paged, the head (≈ 56 B per page plus 16 per min/max slot) and ≤ 1 + distinct periods
pages (a second round trip) for len/count/sum/mean/var/std/first/last and min/max without null or NaN in
the window; ``n_unique``, string values and min/max over nulls/NaN read every page of their window.

Rules (each tested on SQLite and Redis):

* Ingestion (:meth:`OnlineWindows.ingest`) validates every event as the service validates requests (naming
  the field), computes its values with the source's value feature set, and updates every entity it belongs to
  in one atomic :meth:`~skewless.state.OnlineStore.transact` per table: nothing is written when any event is
  invalid. Idempotent on the order column: an event already held is a no-op; the same id with other
  contents is an :class:`EventConflict`. An event older than the entity's horizon cannot be applied exactly
  and is refused (:class:`LateEvent`); events with a null key part belong to no entity of that key.
* A request (:meth:`OnlineWindows.__call__`) reads the states of all its entities in ONE store round trip
  (then, for the paged ones, their pages in one more, checked against the heads; read again if a page
  changed in between) and computes every window as of its own position (time, and order at
  ``requests_at="events"``): events after that position are never counted, whenever they arrived. A request whose window starts before an
  entity's horizon cannot be answered exactly and raises :class:`RequestBeforeHorizon` (in serving the
  request time is "now", at or after every horizon).
"""

from __future__ import annotations

import bisect
import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from skewless.errors import SkewlessError
from skewless.state.protocol import OnlineStore, StateRow, StoreUnavailable
from skewless.windows import exact, pages
from skewless.windows.spec import EntityWindows, Lifetime, Rolling, Windows, value_kind
from skewless.windows.state import State, decode_state, encode_state, extend_state, find_order, window_value
from skewless.windows.timing import to_micros, window_start


class InvalidEvent(SkewlessError, ValueError):
    """An event that cannot be ingested (a field missing or of the wrong type); names the event and field."""


class EventConflict(SkewlessError, ValueError):
    """An event id already ingested with different contents."""


class LateEvent(SkewlessError, ValueError):
    """An event older than its entity's state horizon (it could no longer be applied exactly)."""


class ConcurrentIngest(SkewlessError, RuntimeError):
    """Events ingested while :meth:`OnlineWindows.materialize` loaded that cannot be merged into the bulk-built
    state exactly; the load is abandoned (nothing switched) and can be run again."""


class RequestBeforeHorizon(SkewlessError, ValueError):
    """A request whose window reaches before the retained state of an entity."""


@dataclass(frozen=True)
class IngestResult:
    """Events accepted, and entity updates that were already held (duplicates: no-ops)."""

    events: int
    duplicates: int


# -- state -----------------------------------------------------------------------------------------------

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


class _Plan:
    """What the online side needs of one entity key's windows (value slots, kinds, prefix sums kept)."""

    def __init__(self, windows: Windows, ent: EntityWindows, page_size: int = pages.PAGE,
                 paged_above: int = pages.PAGED_ABOVE):
        self.ent = ent
        self.page_size, self.paged_above = page_size, paged_above
        schema = windows.values.output_schema()
        self.kinds = [value_kind(schema[v].dtype) for v in ent.values]
        slot = {v: i for i, v in enumerate(ent.values)}
        self.features = [(name, windows.features[name], slot[windows.value_name(name)],
                          windows.value_kind(name)) for name in ent.features]
        self.lifetime = [(name, w.agg, 2 + j, kind) for name, w, j, kind in self.features
                         if isinstance(w.window, Lifetime)]
        self.squared = frozenset(j for _, w, j, _ in self.features if w.agg in ("var", "std"))
        self.blocked = frozenset(j for _, w, j, _ in self.features if w.agg in ("min", "max"))
        self.slots = sorted(j for j in self.blocked if self.kinds[j] != "other")  # page extremes in the head
        self.floats = [2 + j for j, kind in enumerate(self.kinds) if kind == "float"]
        # per feature: (name, agg, slot, kind, upper bound closed, (days, micros, lower bound closed) or None)
        self.compiled = [(name, w, j, kind, w.window.closed in ("right", "both"),
                          (w.window.period.days, w.window.period.micros, w.window.closed in ("left", "both"))
                          if isinstance(w.window, Rolling) else None) for name, w, j, kind in self.features]
        self.keep_us = windows.source.lateness_us + ent.bound_us
        self.empty = decode_state(encode_state(None, None, 0, {}, [], self.kinds, self.squared, self.blocked))

    def add(self, state: State | None, events: Sequence[list[Any]], key: tuple) -> tuple[dict | None, int]:
        """The store row of ``state`` with ``events`` ([time, order, values...]) added (``None``: unchanged),
        and the number of duplicates."""
        if state is None:
            state = self.empty
        fast = self._append(state, events, key)
        if fast is not None:
            return fast
        held = {e[1]: e for e in state.events()}
        dupes = 0
        newest = state.newest
        for ev in events:
            have = held.get(ev[1])
            if have is not None:
                if not _same_event(have, ev):
                    raise EventConflict(f"table {self.ent.table!r} key {key!r}: event {ev[1]} was already "
                                        f"ingested with other contents ({have!r}, now {ev!r})")
                dupes += 1
                continue
            if state.horizon is not None and ev[0] < state.horizon:
                raise LateEvent(f"table {self.ent.table!r} key {key!r}: event {ev[1]} at {ev[0]} us is older than "
                                f"the state horizon {state.horizon} us (newest event - max_lateness - longest "
                                "period); it can no longer be applied exactly")
            held[ev[1]] = ev
            newest = ev[0] if newest is None else max(newest, ev[0])
        if dupes == len(events):
            return None, dupes
        evs = sorted(held.values(), key=lambda e: (e[0], e[1]))
        horizon = newest - self.keep_us
        if state.horizon is not None:
            horizon = max(horizon, state.horizon)
        cut = bisect.bisect_left([e[0] for e in evs], horizon)
        sealed, evs = evs[:cut], evs[cut:]
        partials = self._seal(state.partials, sealed)
        return encode_state(newest, horizon, state.sealed + len(sealed), partials, evs, self.kinds,
                            self.squared, self.blocked), dupes

    def _seal(self, partials: dict[str, Any], sealed: Sequence[list[Any]]) -> dict[str, Any]:
        """The lifetime partials with the ``sealed`` events ([time, order, values...]) merged in."""
        partials = dict(partials)
        for name, agg, slot, kind in self.lifetime:
            part = partials.get(name)
            if part is None:
                part = _empty_partial(agg, kind)
            if sealed:
                part = merge_partials(agg, kind, part, lifetime_partial(agg, kind, (e[slot] for e in sealed)))
            partials[name] = part
        return partials

    def _append(self, state: State, events: Sequence[list[Any]], key: tuple) -> tuple[dict | None, int] | None:
        """:meth:`add` when every new event comes after every held one (in-order arrival, the common case):
        O(new events + sealed events) instead of re-encoding the state; ``None`` when it does not apply (then
        :meth:`add` takes the general path, which also raises what an out-of-order event calls for)."""
        if not state.n:
            return None
        last = (state.times[-1], state.orders[-1])
        fresh: dict[int, list[Any]] = {}
        dupes = 0
        for ev in events:
            have = fresh.get(ev[1])
            if have is None:
                i = find_order(state, ev[1])
                have = None if i is None else state.event(i)
            if have is not None:
                if not _same_event(have, ev):
                    return None  # the general path raises EventConflict naming it
                dupes += 1
                continue
            if (ev[0], ev[1]) <= last:
                return None
            fresh[ev[1]] = ev
        if not fresh:
            return None, dupes
        new = sorted(fresh.values(), key=lambda e: (e[0], e[1]))
        newest = max(state.newest, new[-1][0])
        horizon = max(newest - self.keep_us, state.horizon)
        cut = bisect.bisect_left(state.times, horizon)
        if new[0][0] < horizon or cut == state.n:
            return None
        partials = self._seal(state.partials, state.events(0, cut) if cut and self.lifetime else [])
        row = extend_state(state, cut, new, newest, horizon, state.sealed + cut, partials, self.kinds,
                           self.squared, self.blocked)
        return None if row is None else (row, dupes)

    def merge(self, full: dict[tuple, dict], key: tuple, pending: StateRow,
              loaded: tuple[int, dict]) -> tuple[int, dict]:
        """The bulk-built row ``loaded`` with the events an ingest put into the version being loaded first.

        That row was built from nothing but the ingested events, so adding them to the bulk-built state is
        exact — unless it sealed some (they reached back further than the state keeps) while lifetime
        features read the sealed partials: a sealed event cannot be told apart from a history event any more;
        or it is paged (more than two pages of events ingested during the load). ``full``: the one-row
        states of the keys loaded paged; their merge is stored as one row (re-paged by the next ingest, which
        also deletes the loaded pages, listed in ``"o"``).
        """
        if len(key) != len(self.ent.by) or pages.is_paged(pending.values):
            raise ConcurrentIngest(f"materialize of {self.ent.table!r}: so many events of key "
                                   f"{key[:len(self.ent.by)]!r} were ingested while the load ran that their state was paged; nothing was "
                                   "switched - materialize again")
        ingested = decode_state(pending.values)
        if ingested.sealed and self.lifetime:
            raise ConcurrentIngest(f"materialize of {self.ent.table!r}: events of key {key!r} ingested while the "
                                   f"load ran reach back more than max_lateness + the longest period, and their "
                                   "sealed lifetime partials could overlap the history's; nothing was switched "
                                   "- materialize again")
        paged = full.get(key)
        try:
            row, _ = self.add(decode_state(loaded[1] if paged is None else paged), ingested.events(), key)
        except LateEvent as exc:
            raise ConcurrentIngest(f"materialize of {self.ent.table!r}: an event ingested while the load ran is "
                                   f"older than the history's state horizon ({exc}); nothing was switched - "
                                   "materialize again") from None
        if row is None:
            return loaded[0], loaded[1]
        if paged is not None:
            row = {**row, "w": {**row["w"], "o": sorted(pages.Head(loaded[1], self.kinds).dir.numbers)}}
        return row["w"]["m"], row

    def evaluate(self, state: State | None, t: int, order: int | None, zone: str | None,
                 key: tuple, out: dict[str, Any]) -> None:
        if state is None:
            state = self.empty
        times = state.times
        if order is None:
            hi_open = bisect.bisect_left(times, t)
            hi_closed = bisect.bisect_right(times, t, hi_open)
        else:  # at an event: (time, order) positions; ties of time ordered by the order column
            a = bisect.bisect_left(times, t)
            b = bisect.bisect_right(times, t, a)
            hi_open = bisect.bisect_left(state.orders, order, a, b)
            hi_closed = bisect.bisect_right(state.orders, order, a, b)
        horizon = state.horizon
        columns = state.columns
        los: dict[tuple, int] = {}  # (days, micros, lower bound closed) -> first event in the window
        for name, w, j, kind, upper, bound in self.compiled:
            hi = hi_closed if upper else hi_open
            if bound is not None:
                lo = los.get(bound)
                if lo is None:
                    start = window_start(t, bound[0], bound[1], zone)
                    if horizon is not None and start < horizon:
                        raise RequestBeforeHorizon(f"feature {name!r}: the window of the request at {t} us starts "
                                                   f"at {start} us, before the state horizon {horizon} us of "
                                                   f"{self.ent.table!r} key {key!r}")
                    lo = (bisect.bisect_left if bound[2] else bisect.bisect_right)(times, start)
                    los[bound] = lo
                out[name] = window_value(w.agg, kind, columns[j], lo, hi if hi > lo else lo, w.ddof)
                continue
            if horizon is not None and t < horizon:
                raise RequestBeforeHorizon(f"feature {name!r}: the request at {t} us is before the state "
                                           f"horizon {horizon} us of {self.ent.table!r} key {key!r}")
            col = columns[j]
            # the held events before the request: prefix differences from 0 (the prefixes keep their base)
            present = col.present(hi) - col.present(0)
            if w.agg == "count":
                part = present
            elif w.agg == "sum" and kind == "float":
                part = [(col.total(hi) - col.total(0)) << (col.scale - exact.FLOAT_SCALE), present,
                        *(a - b for a, b in zip(col.specials(hi), col.specials(0)))]
            elif w.agg == "sum":
                part = [col.total(hi) - col.total(0), present]
            else:  # min / max: [best number or None, values seen]
                best = window_value(w.agg, kind, col, 0, hi, w.ddof)
                part = [None if best is None or best != best else int(best) if kind == "bool" else best, present]
            sealed = state.partials.get(name)
            if sealed is not None:
                part = merge_partials(w.agg, kind, sealed, part)
            out[name] = finish_partial(w.agg, kind, part)


#: Reads of a request's states before StoreUnavailable, when their pages keep changing under it.
_READ_ATTEMPTS = 10


class OnlineWindows:
    """Ingest events into ``store`` and answer requests from it (see the module docstring).

    Parameters
    ----------
    windows
        The declared windows.
    store
        Any :class:`~skewless.state.OnlineStore` (SQLite, Redis).
    page_size, paged_above
        Events per page of a paged state (:mod:`skewless.windows.pages`), and how many events a state holds
        before it is paged (the tests page tiny states; the defaults are measured).
    """

    def __init__(self, windows: Windows, store: OnlineStore, *, page_size: int = pages.PAGE,
                 paged_above: int = pages.PAGED_ABOVE):
        if not 1 <= page_size <= paged_above:
            raise ValueError(f"page_size {page_size} and paged_above {paged_above}: need 1 <= page_size <= "
                             "paged_above")
        from skewless.requests import request_validator

        self.windows = windows
        self.store = store
        self._plans = [_Plan(windows, ent, page_size, paged_above) for ent in windows.entities]
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
                event = [t, row[src.order], *(values[v] for v in plan.ent.values)]
                for j in plan.floats:  # Float64 values as floats (an int would not round-trip a float64 column)
                    if type(event[j]) is int:
                        event[j] = float(event[j])
                groups.setdefault(key, []).append(event)
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

            def change(read, plan=plan, groups=groups, counted=counted):
                keys = list(groups)
                writes: dict[tuple, Any] = {}
                for key, current in zip(keys, read(keys)):
                    w, counted[key] = pages.change(plan, key, current, read, groups[key])
                    writes.update(w)
                return writes

            self.store.transact(plan.ent.table, change)
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
        for _ in range(_READ_ATTEMPTS):
            states = self.store.get_many([(plan.ent.table, key) for plan, key in asked])
            paged = []
            for (plan, key), row in zip(asked, states):
                if row is not None and pages.is_paged(row.values):
                    head = pages.Head(row.values, plan.kinds)
                    paged.append(pages.Reading(plan, head, key, t, order, self._zone))
                else:
                    plan.evaluate(None if row is None else decode_state(row.values), t, order, self._zone, key, out)
            if not paged or self._paged(paged, out):
                return {name: out[name] for name in self.windows.features}
        raise StoreUnavailable(self.store.name, f"the window states of a request changed while being read, "
                               f"{_READ_ATTEMPTS} times in a row")

    def _paged(self, readings: list[pages.Reading], out: dict[str, Any]) -> bool:
        """Evaluate the paged states of a request, reading the pages they need (all entities' in one round
        trip each time: the pages of the window ends, then rarely more); ``False`` when a page read does not
        match its head (read everything again)."""
        todo = list(readings)
        while todo:
            need = []
            for r in todo:
                missing = r.needed()
                if not missing:
                    try:
                        r.evaluate(out)
                        continue
                    except pages.Missing as m:
                        missing = m.pages
                need += [(r, k) for k in sorted(missing)]
            if not need:
                break
            rows = self.store.get_many([(r.plan.ent.table, pages.page_key(r.key, r.head.dir.numbers[k]))
                                        for r, k in need])
            for (r, k), row in zip(need, rows):
                if row is None or row.values["w"].get("t") != r.head.dir.tokens[k]:
                    return False
                r.pages[k] = decode_state(row.values)
            todo = list({id(r): r for r, _ in need}.values())
        return True

    # -- bulk ------------------------------------------------------------------------------------------
    def states(self, events: Iterable[Mapping[str, Any]]) -> list[tuple[str, list[tuple[tuple, int, dict]]]]:
        """Per entity table, the store rows ``(key, newest time, row)`` of ``events`` as one bulk build (a paged
        state: its pages, then its head)."""
        return [(table, rows) for table, rows, _, _ in self._build(events)]

    def _build(self, events: Iterable[Mapping[str, Any]]) -> list[tuple[str, list, dict, int]]:
        out = []
        for plan, groups in zip(self._plans, self.prepare(events)):
            rows = []
            full = {}
            for key, evs in groups.items():
                row, _ = plan.add(None, evs, key)
                writes = pages.store_rows(plan, key, row, set())
                head = writes.pop(key)
                if writes:
                    full[key] = row
                rows += [(k, ts, r) for k, (ts, r) in writes.items()]
                rows.append((key, head[0], head[1]))
            out.append((plan.ent.table, rows, full, len(groups)))
        return out

    def materialize(self, events: Iterable[Mapping[str, Any]], *, batch_size: int = 10_000) -> dict[str, int]:
        """Build every entity's state from ``events`` (the history) and load it atomically per table.

        Events ingested while the load runs are kept: they reach the version being loaded (the store applies
        updates to it) and are merged by event id with the bulk-built state of their entity
        (:meth:`_Plan.merge`); what cannot be merged exactly raises :class:`ConcurrentIngest` with nothing
        switched.
        """
        plans = {plan.ent.table: plan for plan in self._plans}
        loaded = {}
        for table, rows, full, entities in self._build(events):
            self.store.load(table, rows, batch_size=batch_size, merge=functools.partial(plans[table].merge, full))
            loaded[table] = entities
        return loaded
