"""Paged window state: a head row and pages of held events in separate keys of the same store table.

A state holding at most ``paged_above`` events (:data:`PAGED_ABOVE`) is one row (the format of
:mod:`skewless.windows.state`). A larger one is split into **pages** of at most ``page_size`` (:data:`PAGE`)
consecutive held events, each a row of the same table under the key ``(*entity key, "#", page number)`` (the
entity keys of a table have one arity, so a page key never names an entity), and a **head** row under the
entity key::

    "w": {"m", "h", "c", "n", "s": as the one-row state, "k": per value slot [kind, scale, nulls, non-finite,
          -0.0 seen, block extremes], "z"/"y": per slot the prefix sums at the first held event / after the
          last, "f"/"e": (time, order) of the first / last held event,
          "p": {"B": page size, "x": the slots with page extremes, "np": pages}}
    "b": the page directory, binary: per page its number, first global position, first (time, order), a
         random token, its smallest and largest event id, and per min/max slot its smallest and largest value

Positions are global: event ``g`` is the ``g``-th event of the entity's history in (time, order) (``"c"``
events sealed so far, then the ``"n"`` held ones); page ``p`` holds positions within ``[p·B, (p+1)·B)`` — the
first page may still hold some sealed events before ``c`` (never read: every window starts at or after the
horizon). Every page is a row of the one-row format whose prefix columns continue the previous page's
(prefixes are only read as differences), so a window's count, sum, mean, var and std are the prefixes of its
two ends, whichever pages they are in (or the head's, at the first held event and after the last); min/max
combine the partial end pages with the directory's extremes of the pages covered whole.

**A request** reads the heads (one round trip, as for one-row states), then the pages its window ends fall in
— none for an end before the first or after the last held event — and the pages of the values it reads at
those ends (first, last, a partial page's min/max), for every paged entity of the request in one more round
trip; each page's token must match the directory (a page rewritten or a version switched in between: the
request reads again). Cost per paged entity: the head (56 B plus 16 per min/max slot, per page) and ≤ 1 +
(distinct periods) + 1 pages of ≤ B events — not the held events. A window end exactly at a page boundary
may need the next page (a third round trip, rare). ``n_unique``, string values, and min/max over a window
with a null or NaN (or a zero when a ``-0.0`` was seen) read every page of the window (exact over its
values).

**An ingest** (one :meth:`~skewless.state.OnlineStore.transact` per table) of events after every held one
(in-order arrival) reads the head, the last page, the pages whose event-id range holds a new event's id
(duplicates: increasing ids touch only the last page; ids in random order may touch every page), and the
pages the new horizon seals; it writes the last page (split when full) and the head, and deletes the pages
the horizon passed: O(pages touched), not O(held events). Anything else (an out-of-order event, a first null
or non-finite value, a finer float scale, a wider prefix, a conflict) reads every page and re-encodes the
state (O(held), as a one-row state always was), paging it again only above ``paged_above`` events.

Bound: the pages of the held events (``max_lateness + longest period``) plus one; their keys are deleted as
the horizon passes them. A one-row state of any size (written before paging existed) is read as it is and
paged by its next ingest.
"""

from __future__ import annotations

import bisect
import random
from array import array
from typing import Any

from skewless.windows import exact
from skewless.windows.state import (
    BLOCK, State, decode_state, encode_state, extend_state, find_order, pick_plain, window_value,
)

#: Events per page.
PAGE = 256
#: A state holding more events than this is paged (at most this many: one row). Measured (SQLite, 10 features,
#: all held events in the window, load ~9): one row 50 µs at 10^3 held events, 64 at 3·10^3, 135 at 10^4;
#: paged 100-120 µs from 10^3 to 10^4 (two round trips, the head and ≤ 3 pages), 153 at 10^5.
PAGED_ABOVE = 8192
#: The part of a page key between the entity key and the page number.
MARK = "#"
_FIELDS = 7  # number, start, first time, first order, token, lowest id, highest id


def page_key(key: tuple, number: int) -> tuple:
    """The store key of page ``number`` of entity ``key``."""
    return (*key, MARK, number)


def is_paged(row: dict[str, Any]) -> bool:
    """Whether a store row's values are the head of a paged state."""
    return "p" in row["w"]


def _token() -> int:
    return random.getrandbits(63)


class Directory:
    """The head's page directory (see the module docstring); index ``i`` is the ``i``-th page held."""

    __slots__ = ("count", "numbers", "starts", "times", "orders", "tokens", "low_ids", "high_ids", "lows", "highs")

    def __init__(self, count: int, blob: memoryview | bytes, slots: list[int], kinds: list[str]):
        self.count = count
        arrays = []
        at = 0
        for _ in range(_FIELDS):
            a = array("q")
            a.frombytes(blob[at:at + 8 * count])
            arrays.append(a)
            at += 8 * count
        (self.numbers, self.starts, self.times, self.orders, self.tokens, self.low_ids, self.high_ids) = arrays
        self.lows: dict[int, array] = {}
        self.highs: dict[int, array] = {}
        for j in slots:
            code = "d" if kinds[j] == "float" else "q"
            for into in (self.lows, self.highs):
                a = array(code)
                a.frombytes(blob[at:at + 8 * count])
                into[j] = a
                at += 8 * count

    def page_of(self, g: int) -> int:
        """The index of the page holding the event at global position ``g``."""
        return bisect.bisect_right(self.starts, g) - 1


class Head:
    """A decoded paged head."""

    __slots__ = ("newest", "horizon", "sealed", "partials", "n", "specs", "base", "top", "first", "last", "size",
                 "slots", "dir")

    def __init__(self, row: dict[str, Any], kinds: list[str]):
        w = row["w"]
        self.newest, self.horizon, self.sealed, self.partials, self.n = w["m"], w["h"], w["c"], w["s"], w["n"]
        self.specs, self.base, self.top = w["k"], w["z"], w["y"]
        self.first, self.last = tuple(w["f"]), tuple(w["e"])
        p = w["p"]
        self.size, self.slots = p["B"], p["x"]
        self.dir = Directory(p["np"], memoryview(row["b"]), self.slots, kinds)


def _summary(state: State, a: int, b: int, slots: list[int]) -> list[Any]:
    """The directory fields of events ``[a, b)`` of ``state`` as a page (number and start filled in later)."""
    ids = state.orders[a:b]
    extremes = []
    for j in slots:
        values = state.columns[j].values[a:b]
        extremes.append((min(values), max(values)))
    return [state.times[a], state.orders[a], min(ids), max(ids), extremes]


def slice_row(state: State, a: int, b: int, start: int, token: int) -> dict[str, Any]:
    """The page row of events ``[a, b)`` of ``state`` (one-row format, prefix columns sliced: their base
    continues), at global position ``start``."""
    n = b - a
    parts = [state.times[a:b].tobytes(), state.orders[a:b].tobytes()]
    specs: list[Any] = []
    for col in state.columns:
        if col.kind == "other":
            specs.append(["other", list(col.values[a:b])])
            continue
        values = col.values[a:b]
        parts.append(values.tobytes())
        if col.nulls:
            parts.append(bytes(col.mask[a:b]))
            parts.append(col.counts[a:b + 1].tobytes())
        if col.special is not None:
            parts.append(col.special[3 * a:3 * (b + 1)].tobytes())
        w = col.width
        parts.append(bytes(col.sums[a * w:(b + 1) * w]))
        if col.width2:
            w2 = col.width2
            parts.append(bytes(col.squares[a * w2:(b + 1) * w2]))
        blocks = col.lows is not None
        if blocks:
            chunks = [values[i:i + BLOCK] for i in range(0, n, BLOCK)]
            parts.append(array(values.typecode, map(min, chunks)).tobytes())
            parts.append(array(values.typecode, map(max, chunks)).tobytes())
        specs.append([col.kind, col.scale, col.width, col.width2, col.nulls, col.special is not None, col.negzero,
                      blocks])
    return {"w": {"m": None, "h": None, "c": start, "n": n, "s": {}, "k": specs, "t": token}, "b": b"".join(parts)}


def _base(state: State, i: int, g: int) -> list[Any]:
    """Per value slot, the prefix sums at event ``i`` of ``state`` (global position ``g``)."""
    out: list[Any] = []
    for col in state.columns:
        if col.kind == "other":
            out.append(None)
            continue
        out.append([g if col.counts is None else col.counts[i], col.total(i), *col.specials(i),
                    col.square(i) if col.width2 else 0])
    return out


def _head(newest: int, horizon: int, sealed: int, partials: dict[str, Any], n: int, specs: list[Any],
          base: list[Any], size: int, slots: list[int], entries: list[list[Any]], first: tuple[int, int],
          last: tuple[int, int], top: list[Any]) -> dict[str, Any]:
    """The head row; ``entries``: per page ``[number, start, time, order, token, low id, high id, extremes]``;
    ``first``/``last``: (time, order) of the first and last held events; ``base``/``top``: the prefix sums at
    the first held event and after the last."""
    cols = [array("q", [e[f] for e in entries]) for f in range(_FIELDS)]
    for k, j in enumerate(slots):
        code = "d" if specs[j][0] == "float" else "q"
        cols.append(array(code, [e[7][k][0] for e in entries]))
        cols.append(array(code, [e[7][k][1] for e in entries]))
    w = {"m": newest, "h": horizon, "c": sealed, "n": n, "s": partials, "k": specs, "z": base, "y": top,
         "f": list(first), "e": list(last), "p": {"B": size, "x": slots, "np": len(entries)}}
    return {"w": w, "b": b"".join(a.tobytes() for a in cols)}


def _flags(state: State) -> list[Any]:
    return [[c.kind, c.scale, c.nulls, c.special is not None, c.negzero, c.lows is not None] for c in state.columns]


def split(state: State, size: int, slots: list[int]) -> tuple[dict[str, Any], dict[int, dict[str, Any]]]:
    """The head and pages (by number) of the one-row ``state``."""
    c, n = state.sealed, state.n
    pages: dict[int, dict[str, Any]] = {}
    entries = []
    g = c
    while g < c + n:
        number = g // size
        end = min((number + 1) * size, c + n)
        token = _token()
        pages[number] = slice_row(state, g - c, end - c, g, token)
        t, o, lo_id, hi_id, extremes = _summary(state, g - c, end - c, slots)
        entries.append([number, g, t, o, token, lo_id, hi_id, extremes])
        g = end
    head = _head(state.newest, state.horizon, c, state.partials, n, _flags(state), _base(state, 0, c), size, slots,
                 entries, (state.times[0], state.orders[0]), (state.times[n - 1], state.orders[n - 1]),
                 _base(state, n, c + n))
    return head, pages


# -- requests ----------------------------------------------------------------------------------------------

class Missing(Exception):
    """The pages (directory indices) a paged request needs next."""

    def __init__(self, pages: set[int]):
        super().__init__(pages)
        self.pages = pages


class _Need(Exception):
    pass


def locate(d: Directory, t: int, o: int | None, right: bool) -> int:
    """The directory index of the page where the search of (``t``, ``o``) ends: the last page whose first event
    is before (``right``: at or before) it."""
    side = bisect.bisect_right if right else bisect.bisect_left
    if o is None:
        i = side(d.times, t) - 1
    else:
        a = bisect.bisect_left(d.times, t)
        b = bisect.bisect_right(d.times, t, a)
        i = side(d.orders, o, a, b) - 1
    return max(i, 0)


def local(page: State, t: int, o: int | None, right: bool) -> int:
    side = bisect.bisect_right if right else bisect.bisect_left
    if o is None:
        return side(page.times, t)
    a = bisect.bisect_left(page.times, t)
    b = bisect.bisect_right(page.times, t, a)
    return side(page.orders, o, a, b)


class _Base:
    """The prefix sums of one slot at the first held event (``c``), read as a column at index 0."""

    __slots__ = ("z", "scale")

    def __init__(self, z: list[Any], scale: int):
        self.z, self.scale = z, scale

    def present(self, i: int) -> int:
        return self.z[0]

    def total(self, i: int) -> int:
        return self.z[1]

    def square(self, i: int) -> int:
        return self.z[5]

    def specials(self, i: int) -> tuple[int, int, int]:
        return self.z[2], self.z[3], self.z[4]

    def value(self, i: int) -> Any:
        return None

    def window_values(self, lo: int, hi: int) -> list[Any]:
        return []


_FIRST, _END = "first", "end"  # the prefix sums at the first held event / after the last: in the head


class _Ends:
    """Slot ``j`` of a paged state read at global positions: prefix sums at the positions searched (a page and
    its index there, or ``None``: the first held event, from the head), values through the pages loaded."""

    __slots__ = ("j", "scale", "points", "view", "base", "top")

    def __init__(self, j: int, head: Head, points: dict[int, tuple[Any, int]], view: _View):
        self.j, self.scale, self.points, self.view = j, head.specs[j][1], points, view
        self.base, self.top = _Base(head.base[j], self.scale), _Base(head.top[j], self.scale)

    def column(self, g: int) -> tuple[Any, int]:
        """The column (of a page, or the head) holding the prefix sums at ``g``, and its index there."""
        page, i = self.points[g]
        if page is _FIRST:
            return self.base, 0
        if page is _END:
            return self.top, 0
        return page.columns[self.j], i

    def present(self, g: int) -> int:
        col, i = self.column(g)
        if isinstance(col, _Base):
            return col.present(i)
        return g if col.counts is None else col.counts[i]

    def total(self, g: int) -> int:
        col, i = self.column(g)
        return col.total(i)

    def square(self, g: int) -> int:
        col, i = self.column(g)
        return col.square(i)

    def specials(self, g: int) -> tuple[int, int, int]:
        col, i = self.column(g)
        return col.specials(i)

    def value(self, g: int) -> Any:
        d = self.view.dir
        k = d.page_of(g)
        return self.view.page(k).columns[self.j].value(g - d.starts[k])


class _View:
    """The pages of one paged state loaded so far (by directory index)."""

    __slots__ = ("dir", "pages", "missing")

    def __init__(self, d: Directory, pages: dict[int, State]):
        self.dir, self.pages, self.missing = d, pages, set()

    def page(self, k: int) -> State:
        page = self.pages.get(k)
        if page is None:
            self.missing.add(k)
            raise _Need()
        return page

    def values(self, j: int, lo: int, hi: int) -> list[Any]:
        """The values of slot ``j`` at global positions ``[lo, hi)`` (every page of them must be loaded)."""
        d = self.dir
        first, last = d.page_of(lo), d.page_of(hi - 1)
        for k in range(first, last + 1):  # ask for all of them at once
            if k not in self.pages:
                self.missing.add(k)
        if self.missing:
            raise _Need()
        out: list[Any] = []
        for k in range(first, last + 1):
            s = d.starts[k]
            page = self.pages[k]
            out += page.columns[j].window_values(max(lo - s, 0), min(hi - s, page.n))
        return out


def _paged_window(agg: str, kind: str, j: int, lo: int, hi: int, ddof: int, head: Head, view: _View,
                  ends: _Ends) -> Any:
    """``agg`` of slot ``j`` over global positions ``[lo, hi)`` of a paged state (``_Need``: a page to load)."""
    if agg == "len":
        return hi - lo
    d = view.dir
    if hi <= lo:
        col, i = ends.column(lo)
        return window_value(agg, kind, col, i, i, ddof)
    a, b = d.page_of(lo), d.page_of(hi - 1)
    if a == b:  # inside one page: the one-row reading, block extremes included
        s = d.starts[a]
        return window_value(agg, kind, view.page(a).columns[j], lo - s, hi - s, ddof)
    if kind == "other" or agg == "n_unique":
        return exact.aggregate(agg, kind, view.values(j, lo, hi), ddof)
    if agg not in ("min", "max"):
        return window_value(agg, kind, ends, lo, hi, ddof)
    plain = ends.present(hi) - ends.present(lo) == hi - lo and ends.specials(hi)[0] == ends.specials(lo)[0]
    if not plain:
        return exact.aggregate(agg, kind, view.values(j, lo, hi), ddof)
    pick = min if agg == "min" else max
    sa, sb = d.starts[a], d.starts[b]
    end_b = d.starts[b + 1] if b + 1 < d.count else head.sealed + head.n
    full_a, full_b = lo == sa, hi == end_b  # edge pages the window covers whole: their extremes suffice
    parts = []
    if not full_a:
        page = view.page(a)
        parts.append(pick_plain(page.columns[j], lo - sa, page.n, pick))
    if not full_b:
        parts.append(pick_plain(view.page(b).columns[j], 0, hi - sb, pick))
    inner = (d.lows if agg == "min" else d.highs)[j][a if full_a else a + 1:b + 1 if full_b else b]
    if inner:
        parts.append(pick(inner))
    best = pick(parts)
    if kind == "bool":
        return bool(best)
    if kind == "float" and best == 0.0:  # the sign of a zero: -0.0 before +0.0, whatever their order
        if not head.specs[j][4]:
            return 0.0
        return (exact.float_min if agg == "min" else exact.float_max)(view.values(j, lo, hi))
    return best


class Reading:
    """One request's reading of one paged state: its searches (from the head, made once), then the pages
    loaded so far (``pages``, by directory index); :meth:`evaluate` raises :class:`Missing` for the pages it
    needs next."""

    __slots__ = ("plan", "head", "key", "t", "pages", "searches", "found", "starts", "ends_at", "extra")

    def __init__(self, plan: Any, head: Head, key: tuple, t: int, order: int | None, zone: str | None):
        from skewless.windows.online import RequestBeforeHorizon
        from skewless.windows.timing import window_start

        self.plan, self.head, self.key, self.t, self.pages = plan, head, key, t, {}
        horizon = head.horizon
        self.ends_at = ((t, order, False), (t, order, True))
        self.starts: dict[tuple, tuple] = {}
        for name, w, j, kind, upper, bound in plan.compiled:
            if bound is not None:
                if bound not in self.starts:
                    start = window_start(t, bound[0], bound[1], zone)
                    if horizon is not None and start < horizon:
                        raise RequestBeforeHorizon(f"feature {name!r}: the window of the request at {t} us starts "
                                                   f"at {start} us, before the state horizon {horizon} us of "
                                                   f"{plan.ent.table!r} key {key!r}")
                    self.starts[bound] = (start, None, not bound[2])
            elif horizon is not None and t < horizon:
                raise RequestBeforeHorizon(f"feature {name!r}: the request at {t} us is before the state "
                                           f"horizon {horizon} us of {plan.ent.table!r} key {key!r}")
        d = head.dir
        self.found: dict[tuple, int] = {}  # searches ending at or before the first, or after the last held event
        self.searches: dict[tuple, int] = {}  # the others: the page they end in
        c, end = head.sealed, head.sealed + head.n
        for s in (*self.ends_at, *self.starts.values()):
            x, o, right = s
            at = x if o is None else (x, o)
            first, last = (head.first[0], head.last[0]) if o is None else (head.first, head.last)
            if (at < first) if right else (at <= first):
                self.found[s] = c
            elif (at >= last) if right else (at > last):
                self.found[s] = end
            else:
                self.searches[s] = locate(d, *s)
        # the pages the values at those window ends are read from (first, last, min/max of a partial page):
        # read with the searches' pages, in the same round trip
        self.extra: set[int] = set()
        first_page = d.page_of(c)
        for name, w, j, kind, upper, bound in plan.compiled:
            if w.agg == "last" and self.found.get(self.ends_at[1 if upper else 0]) == end:
                self.extra.add(d.count - 1)
            at_first = bound is None or self.found.get(self.starts[bound]) == c
            if at_first and (w.agg == "first" or w.agg in ("min", "max") and d.starts[first_page] < c):
                self.extra.add(first_page)  # (a partial first page: some of its events are sealed)

    def needed(self) -> set[int]:
        """The pages the searches end in (and the ends' values are read from) that are not loaded yet."""
        return {k for k in (*self.searches.values(), *self.extra) if k not in self.pages}

    def evaluate(self, out: dict[str, Any]) -> None:
        """:meth:`skewless.windows.online._Plan.evaluate` on the paged state (``Missing``: pages to load)."""
        from skewless.windows.online import finish_partial, lifetime_partial, merge_partials

        missing = {k for k in self.searches.values() if k not in self.pages}
        if missing:
            raise Missing(missing)
        head, pages, d = self.head, self.pages, self.head.dir
        c, end = head.sealed, head.sealed + head.n
        # global position -> where its prefix sums are: (page, index), or the head's
        points: dict[int, tuple[Any, int]] = {c: (_FIRST, 0), end: (_END, 0)}
        found = dict(self.found)
        for s, k in self.searches.items():
            i = local(pages[k], *s)
            g = d.starts[k] + i
            if g <= c:  # at (or, never for a valid request, before) the first held event
                g = c
            elif g < end:
                points[g] = (pages[k], i)
            found[s] = g
        view = _View(d, pages)
        hi_open, hi_closed = found[self.ends_at[0]], found[self.ends_at[1]]
        slots: dict[int, _Ends] = {}
        for name, w, j, kind, upper, bound in self.plan.compiled:
            hi = hi_closed if upper else hi_open
            ends = slots.get(j)
            if ends is None:
                ends = slots[j] = _Ends(j, head, points, view)
            try:
                if bound is not None:
                    lo = found[self.starts[bound]]
                    out[name] = _paged_window(w.agg, kind, j, lo, hi if hi > lo else lo, w.ddof, head, view, ends)
                    continue
                if kind == "other":  # a lifetime count of strings: from their values
                    part = lifetime_partial(w.agg, kind, view.values(j, c, hi)) if hi > c else 0
                    sealed = head.partials.get(name)
                    out[name] = finish_partial(w.agg, kind, part if sealed is None else
                                               merge_partials(w.agg, kind, sealed, part))
                    continue
                present = ends.present(hi) - ends.present(c)
                if w.agg == "count":
                    part = present
                elif w.agg == "sum" and kind == "float":
                    part = [(ends.total(hi) - ends.total(c)) << (ends.scale - exact.FLOAT_SCALE), present,
                            *(x - y for x, y in zip(ends.specials(hi), ends.specials(c)))]
                elif w.agg == "sum":
                    part = [ends.total(hi) - ends.total(c), present]
                else:  # min / max: [best number or None, values seen]
                    best = _paged_window(w.agg, kind, j, c, hi, w.ddof, head, view, ends)
                    part = [None if best is None or best != best else int(best) if kind == "bool" else best,
                            present]
                sealed = head.partials.get(name)
                if sealed is not None:
                    part = merge_partials(w.agg, kind, sealed, part)
                out[name] = finish_partial(w.agg, kind, part)
            except _Need:
                continue
        if view.missing:
            raise Missing(view.missing)


# -- ingest ------------------------------------------------------------------------------------------------

class Corrupt(ValueError):
    """A paged state whose pages do not match its head."""


def _read_pages(read: Any, key: tuple, head: Head, indices: list[int]) -> dict[int, State]:
    d = head.dir
    rows = read([page_key(key, d.numbers[k]) for k in indices])
    out = {}
    for k, row in zip(indices, rows):
        if row is None or row.values["w"].get("t") != d.tokens[k]:
            raise Corrupt(f"page {d.numbers[k]} of key {key!r} is missing or does not match its head: build the "
                          "table again with OnlineWindows.materialize")
        out[k] = decode_state(row.values)
    return out


def store_rows(plan: Any, key: tuple, row: dict[str, Any], old: set[int]) -> dict:
    """The writes of the one-row state ``row``: itself, or split into a head and pages when it holds more than
    ``plan.paged_above`` events; pages of ``old`` (numbers) not written again are deleted."""
    size, slots = plan.page_size, plan.slots
    newest = row["w"]["m"]
    writes: dict[tuple, Any] = {}
    if row["w"]["n"] > plan.paged_above:
        head, pages = split(decode_state(row), size, slots)
        writes[key] = (newest, head)
        for number, page in pages.items():
            writes[page_key(key, number)] = (newest, page)
    else:
        writes[key] = (newest, row)
    for number in old:
        writes.setdefault(page_key(key, number), None)
    return writes


def _join(plan: Any, key: tuple, head: Head, read: Any) -> State:
    """The one-row state of a paged one (every page read)."""
    d = head.dir
    pages = _read_pages(read, key, head, list(range(d.count)))
    events: list[list[Any]] = []
    c = head.sealed
    for k in range(d.count):
        page = pages[k]
        events += page.events(max(c - d.starts[k], 0), page.n)
    return decode_state(encode_state(head.newest, head.horizon, c, head.partials, events, plan.kinds, plan.squared,
                                     plan.blocked))


def change(plan: Any, key: tuple, current: Any, read: Any, events: list[list[Any]]) -> tuple[dict, int]:
    """The writes (store key -> (event time, row), or ``None``: delete) that add ``events`` to the state of
    ``key`` whose head (or one row) is ``current`` (a StateRow or ``None``); ``read`` reads more rows of the
    same transaction. Returns them and the number of duplicates."""
    if current is None or not is_paged(current.values):
        state = None if current is None else decode_state(current.values)
        row, dupes = plan.add(state, events, key)
        if row is None:
            return {}, dupes
        old = set() if current is None else set(current.values["w"].get("o", ()))
        return store_rows(plan, key, row, old), dupes
    head = Head(current.values, plan.kinds)
    fast = _append(plan, key, head, read, events)
    if fast is not None:
        return fast
    row, dupes = plan.add(_join(plan, key, head, read), events, key)
    if row is None:
        return {}, dupes
    return store_rows(plan, key, row, set(head.dir.numbers)), dupes


def _append(plan: Any, key: tuple, head: Head, read: Any, events: list[list[Any]]) -> tuple[dict, int] | None:
    """:func:`change` when every new event comes after every held one: reads and writes the pages it touches
    only; ``None`` when it does not apply (then every page is read and the state re-encoded)."""
    from skewless.windows.online import _same_event

    d = head.dir
    size, slots = head.size, head.slots
    c, end, last = head.sealed, head.sealed + head.n, d.count - 1
    wanted = {last, d.page_of(c)}
    for ev in events:  # pages that may hold an event of the same id (a duplicate, or a conflict)
        wanted.update(k for k in range(d.count) if d.low_ids[k] <= ev[1] <= d.high_ids[k])
    pages = _read_pages(read, key, head, sorted(wanted))
    tail = pages[last]
    last_key = (tail.times[-1], tail.orders[-1])
    fresh: dict[int, list[Any]] = {}
    dupes = 0
    for ev in events:
        have = fresh.get(ev[1])
        if have is None:
            for k in wanted:
                i = find_order(pages[k], ev[1])
                if i is not None and d.starts[k] + i >= c:  # a held event (sealed ones are gone)
                    have = pages[k].event(i)
                    break
        if have is not None:
            if not _same_event(have, ev):
                return None  # the general path raises EventConflict naming it
            dupes += 1
            continue
        if (ev[0], ev[1]) <= last_key:
            return None
        fresh[ev[1]] = ev
    if not fresh:
        return {}, dupes
    new = sorted(fresh.values(), key=lambda e: (e[0], e[1]))
    newest = max(head.newest, new[-1][0])
    horizon = max(newest - plan.keep_us, head.horizon)
    if new[0][0] < horizon:
        return None
    k_cut = locate(d, horizon, None, False)
    if k_cut not in pages:
        pages.update(_read_pages(read, key, head, [k_cut]))
    cut = max(d.starts[k_cut] + local(pages[k_cut], horizon, None, False), c)
    if cut == end:
        return None
    sealed: list[list[Any]] = []
    if plan.lifetime and cut > c:
        span = list(range(d.page_of(c), d.page_of(cut - 1) + 1))
        pages.update(_read_pages(read, key, head, [k for k in span if k not in pages]))
        for k in span:
            s = d.starts[k]
            sealed += pages[k].events(max(c - s, 0), min(cut - s, pages[k].n))
    partials = plan._seal(head.partials, sealed)
    k_base = d.page_of(cut)
    if k_base not in pages:  # cut at the end of page k_cut: the prefix sums there are that page's last ones
        k_base = k_cut
    base_page = pages[k_base]
    base = _base(base_page, cut - d.starts[k_base], cut)
    ext = extend_state(tail, 0, new, newest, horizon, d.starts[last], {}, plan.kinds, plan.squared, plan.blocked)
    if ext is None:
        return None
    grown = decode_state(ext)
    writes: dict[tuple, Any] = {}
    entries = []
    first_live = d.page_of(cut)
    for k in range(d.count):
        if k < first_live:
            writes[page_key(key, d.numbers[k])] = None  # every event of it sealed
        elif k < last:
            entries.append([d.numbers[k], d.starts[k], d.times[k], d.orders[k], d.tokens[k], d.low_ids[k],
                            d.high_ids[k], [(d.lows[j][k], d.highs[j][k]) for j in slots]])
    g, stop, s0 = d.starts[last], d.starts[last] + grown.n, d.starts[last]
    while g < stop:
        number = g // size
        e = min((number + 1) * size, stop)
        token = _token()
        writes[page_key(key, number)] = (newest, slice_row(grown, g - s0, e - s0, g, token))
        t, o, lo_id, hi_id, extremes = _summary(grown, g - s0, e - s0, slots)
        entries.append([number, g, t, o, token, lo_id, hi_id, extremes])
        g = e
    specs = [list(spec) for spec in head.specs]
    for spec, col in zip(specs, grown.columns):
        if col.kind != "other":
            spec[4] = spec[4] or col.negzero
    k_first = d.page_of(cut)
    if k_first in pages:
        i = cut - d.starts[k_first]
        first = (pages[k_first].times[i], pages[k_first].orders[i])
    else:  # cut at the start of a page not read
        first = (d.times[k_first], d.orders[k_first])
    if k_first == last:
        i = cut - d.starts[last]
        first = (grown.times[i], grown.orders[i])
    writes[key] = (newest, _head(newest, horizon, cut, partials, stop - cut, specs, base, size, slots, entries,
                                 first, (grown.times[-1], grown.orders[-1]), _base(grown, grown.n, stop)))
    return writes, dupes
