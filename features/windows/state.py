"""The per-entity window state and its columnar encoding (pure Python, no polars).

One entity's state is one store row of two columns::

    "w": {"m": newest event time, "h": horizon, "c": events sealed so far, "n": events held,
          "s": {feature: exact lifetime partial of the sealed events},
          "k": [column header, ...]}                     # one per value slot, see below
    "b": bytes                                           # the held events, column after column

The held events (every event stamped at or after the horizon), sorted by (time, order), are stored as
columns in ``"b"`` (the codec's binary tail: sliced, never parsed): times and orders (int64), then per value
slot its values (float64 or int64; strings stay in the JSON header) and the **exact prefix sums** that make a
window's sum, mean, var and std two reads whatever its length:

* ``P[i]`` — the exact sum of the slot's first ``i`` finite non-null values as an integer at the slot's own
  lowest bit ``2**scale`` (every finite double is an integer multiple of it; int values at scale 0), stored
  as fixed-width little-endian two's-complement integers (the width fits the largest ``|P[i]|``);
* ``Q[i]`` — the exact sum of their squares at ``4**scale`` (only for a slot that a var/std feature reads);
* ``N[i]`` — non-null values so far, only when the slot has nulls (else ``N[i] = i``); a null mask too;
* ``S[i]`` — NaN, +inf and -inf counts so far, only when the slot has a non-finite value; and a flag
  saying whether any value is ``-0.0`` (a window's min/max of zero then looks at the zeros' signs);
* the min and max of every block of :data:`BLOCK` stored values (only for a slot a min/max feature reads):
  a window without nulls and NaN takes its min/max from the blocks it covers and the values at its two ends.

The prefix columns are only ever read as differences, so they need not start at zero: an in-order ingest
(:func:`extend_state`) drops the sealed events from the front and appends the new ones in O(new events),
and the columns keep their base. A window ``[lo, hi)`` of held events then has the exact ``Σx = (P[hi] − P[lo])·2**scale``,
``Σx² = (Q[hi] − Q[lo])·4**scale`` and ``n = N[hi] − N[lo]``, which :mod:`skewless.windows.exact` rounds once —
the same exact quantities the batch side gets from its own prefix differences.

Bound: ``16 + Σ_slots (8 + W_P + W_Q)`` bytes per held event (plus a null byte and 8 for ``N`` when the
slot has nulls, 24 for ``S`` when it has non-finite values) and a header of a few hundred bytes; ``W_P`` is
about ``(bits of the value range + log2(events)) / 8`` — 9-10 bytes for cents below 10^4 — and ``W_Q`` twice
that. The held events are those of the last ``max_lateness + longest period``. A state holding many events is
split into pages of this format (:mod:`skewless.windows.pages`); :func:`window_value` reads a window from
either.
"""

from __future__ import annotations

import math
from array import array
from itertools import accumulate
from typing import Any

from skewless.windows import exact

#: Events per block of the block minima and maxima (a window's min/max reads O(2·BLOCK + events/BLOCK)).
BLOCK = 64
#: Stored values per slot kind (``bool`` and ``int`` as int64, ``float`` as float64; ``other`` in the header).
_TYPECODE = {"float": "d", "int": "q", "bool": "q"}


def _width(values: list[int]) -> int:
    """Bytes of the two's-complement integer that holds every value of ``values``."""
    top = max((v.bit_length() if v >= 0 else (-v - 1).bit_length() for v in values), default=0)
    return top // 8 + 1


def _ints_bytes(values: list[int], width: int) -> bytes:
    return b"".join(v.to_bytes(width, "little", signed=True) for v in values)


class Column:
    """One value slot of the held events: values, null mask and exact prefix sums (see the module docstring).

    Indices are positions among the held events; ``[lo, hi)`` is a window.
    """

    __slots__ = ("kind", "values", "mask", "counts", "special", "scale", "sums", "width", "squares", "width2", "nulls",
                 "negzero", "lows", "highs")

    def __init__(self, kind: str):
        self.kind = kind
        self.mask = self.counts = self.special = self.sums = self.squares = None
        self.scale = self.width = self.width2 = 0
        self.nulls = self.negzero = False
        self.lows = self.highs = None

    # -- reading ---------------------------------------------------------------------------------------
    def value(self, i: int) -> Any:
        """The value of held event ``i`` (``None`` for null; ``bool`` for a Boolean slot)."""
        if self.mask is not None and not self.mask[i]:
            return None
        v = self.values[i]
        return bool(v) if self.kind == "bool" else v

    def present(self, i: int) -> int:
        """Non-null values among the first ``i`` held events."""
        return i if self.counts is None else self.counts[i]

    def total(self, i: int) -> int:
        """``P[i]``: the exact sum of the first ``i`` values at ``2**scale``."""
        w = self.width
        return int.from_bytes(self.sums[i * w:(i + 1) * w], "little", signed=True)

    def square(self, i: int) -> int:
        """``Q[i]``: the exact sum of the first ``i`` squares at ``4**scale``."""
        w = self.width2
        return int.from_bytes(self.squares[i * w:(i + 1) * w], "little", signed=True)

    def specials(self, i: int) -> tuple[int, int, int]:
        """NaN, +inf and -inf counts among the first ``i`` values."""
        if self.special is None:
            return 0, 0, 0
        s = self.special
        return s[3 * i], s[3 * i + 1], s[3 * i + 2]

    def window_values(self, lo: int, hi: int) -> list[Any]:
        """The values of ``[lo, hi)``, nulls included."""
        if self.kind == "other":
            return self.values[lo:hi]
        if self.mask is None:
            values = self.values[lo:hi].tolist()
            return [bool(v) for v in values] if self.kind == "bool" else values
        return [self.value(i) for i in range(lo, hi)]


class State:
    """An entity's decoded state: meta data, held events as :class:`Column` s."""

    __slots__ = ("newest", "horizon", "sealed", "partials", "n", "times", "orders", "columns")

    def __init__(self, newest: int | None, horizon: int | None, sealed: int, partials: dict[str, Any], n: int,
                 times: array, orders: array, columns: list[Column]):
        self.newest = newest
        self.horizon = horizon
        self.sealed = sealed
        self.partials = partials
        self.n = n
        self.times = times
        self.orders = orders
        self.columns = columns

    def events(self, lo: int = 0, hi: int | None = None) -> list[list[Any]]:
        """The held events ``[lo, hi)`` as ``[time, order, value, ...]`` lists, in (time, order) order."""
        hi = self.n if hi is None else hi
        cols = [c.window_values(lo, hi) for c in self.columns]
        return [[t, o, *vals] for t, o, *vals in zip(self.times[lo:hi].tolist(), self.orders[lo:hi].tolist(), *cols)]

    def event(self, i: int) -> list[Any]:
        """Held event ``i`` as ``[time, order, value, ...]``."""
        return [self.times[i], self.orders[i], *(c.value(i) for c in self.columns)]


def decode_state(row: dict[str, Any]) -> State:
    """The :class:`State` stored in ``row`` (a store row's values)."""
    head = row["w"]
    if "p" in head:
        raise ValueError("the head of a paged windows state (skewless.windows.pages) is not a one-row state")
    if "k" not in head:
        raise ValueError("a windows state of the earlier nested-JSON encoding (before the columnar one): "
                         "build the table again with OnlineWindows.materialize")
    n = head["n"]
    blob = memoryview(row["b"])
    times = array("q")
    times.frombytes(blob[:8 * n])
    orders = array("q")
    orders.frombytes(blob[8 * n:16 * n])
    at = 16 * n
    columns = []
    for spec in head["k"]:
        col = Column(spec[0])
        if col.kind == "other":
            col.values = spec[1]
            col.mask = [v is not None for v in spec[1]]
            col.counts = list(accumulate(col.mask, initial=0))  # non-null strings so far (a lifetime count)
            columns.append(col)
            continue
        _, col.scale, col.width, col.width2, nulls, special, col.negzero, blocks = spec
        col.values = array(_TYPECODE[col.kind])
        col.values.frombytes(blob[at:at + 8 * n])
        at += 8 * n
        if nulls:
            col.nulls = True
            col.mask = blob[at:at + n]
            at += n
            col.counts = array("q")
            col.counts.frombytes(blob[at:at + 8 * (n + 1)])
            at += 8 * (n + 1)
        if special:
            col.special = array("q")
            col.special.frombytes(blob[at:at + 24 * (n + 1)])
            at += 24 * (n + 1)
        col.sums = blob[at:at + col.width * (n + 1)]
        at += col.width * (n + 1)
        if col.width2:
            col.squares = blob[at:at + col.width2 * (n + 1)]
            at += col.width2 * (n + 1)
        if blocks:
            m = -(-n // BLOCK)
            col.lows, col.highs = array(col.values.typecode), array(col.values.typecode)
            col.lows.frombytes(blob[at:at + 8 * m])
            col.highs.frombytes(blob[at + 8 * m:at + 16 * m])
            at += 16 * m
        columns.append(col)
    return State(head["m"], head["h"], head.get("c", 0), head["s"], n, times, orders, columns)


def encode_state(newest: int | None, horizon: int | None, sealed: int, partials: dict[str, Any],
                 events: list[list[Any]], kinds: list[str], squared: Any, blocked: Any = ()) -> dict[str, Any]:
    """The store row of a state holding ``events`` ([time, order, value...], sorted by (time, order)).

    ``kinds`` are the value slots' kinds; ``squared`` the slot indices (0-based) whose squares are kept,
    ``blocked`` those whose block minima and maxima are kept.
    """
    n = len(events)
    parts = [array("q", [e[0] for e in events]).tobytes(), array("q", [e[1] for e in events]).tobytes()]
    specs: list[Any] = []
    for j, kind in enumerate(kinds):
        values = [e[2 + j] for e in events]
        if kind == "other":
            specs.append(["other", values])
            continue
        nulls = any(v is None for v in values)
        if kind == "float":
            stored = array("d", [0.0 if v is None else v for v in values])
            finite = [0.0 if v is None or v - v != 0.0 else v for v in values]
            ratios = [x.as_integer_ratio() for x in finite]
            top = max((den.bit_length() for _, den in ratios), default=1)
            ints = [num << (top - den.bit_length()) for num, den in ratios]
            scale = 1 - top
            special = any(v is not None and v - v != 0.0 for v in values)
            negzero = any(v == 0.0 and math.copysign(1.0, v) < 0 for v in values if v is not None)
        else:
            ints = [0 if v is None else int(v) for v in values]
            stored = array("q", ints)
            scale = 0
            special = negzero = False
        parts.append(stored.tobytes())
        if nulls:
            parts.append(bytes(0 if v is None else 1 for v in values))
            parts.append(array("q", accumulate((v is not None for v in values), initial=0)).tobytes())
        if special:
            counts = [0, 0, 0]
            flat = [0, 0, 0]
            for v in values:
                if v is not None and v - v != 0.0:
                    counts[0 if v != v else 1 if v > 0 else 2] += 1
                flat += counts
            parts.append(array("q", flat).tobytes())
        sums = list(accumulate(ints, initial=0))
        width = _width(sums)
        parts.append(_ints_bytes(sums, width))
        width2 = 0
        if j in squared:
            squares = list(accumulate((v * v for v in ints), initial=0))
            width2 = _width(squares)
            parts.append(_ints_bytes(squares, width2))
        blocks = j in blocked
        if blocks:  # min and max of each block of stored values (nulls as stored, NaN as min/max place it)
            chunks = [stored[i:i + BLOCK] for i in range(0, n, BLOCK)]
            parts.append(array(stored.typecode, map(min, chunks)).tobytes())
            parts.append(array(stored.typecode, map(max, chunks)).tobytes())
        specs.append([kind, scale, width, width2, nulls, special, negzero, blocks])
    head = {"m": newest, "h": horizon, "c": sealed, "n": n, "s": partials, "k": specs}
    return {"w": head, "b": b"".join(parts)}


def find_order(state: State, order: int) -> int | None:
    """The index of the held event with order id ``order`` (C-speed search of the stored ids), or ``None``."""
    raw = state.orders.tobytes()
    needle = order.to_bytes(8, "little", signed=True)
    at = raw.find(needle)
    while at >= 0:
        if at % 8 == 0:
            return at // 8
        at = raw.find(needle, at + 1)
    return None


def extend_state(state: State, cut: int, new: list[list[Any]], newest: int, horizon: int, sealed: int,
                 partials: dict[str, Any], kinds: list[str], squared: Any, blocked: Any) -> dict[str, Any] | None:
    """The row of ``state`` without its first ``cut`` held events and with ``new`` appended — every new event
    after the last held one — in O(new events) for the prefix columns (they are read as differences only, so
    they keep their base); ``None`` when a column's layout has to change (a first null or non-finite value, a
    value finer than the column's scale, a prefix wider than its width): then encode everything again."""
    n_old = state.n
    n = n_old - cut + len(new)
    parts = [(state.times[cut:] + array("q", [e[0] for e in new])).tobytes(),
             (state.orders[cut:] + array("q", [e[1] for e in new])).tobytes()]
    specs: list[Any] = []
    for j, (kind, col) in enumerate(zip(kinds, state.columns)):
        values = [e[2 + j] for e in new]
        if kind == "other":
            specs.append(["other", list(col.values[cut:]) + values])
            continue
        if not col.nulls and any(v is None for v in values):
            return None
        negzero = col.negzero
        if kind == "float":
            if col.special is None and any(v is not None and v - v != 0.0 for v in values):
                return None
            ints = []
            for v in values:
                if v is None or v - v != 0.0:
                    ints.append(0)
                    continue
                num, den = v.as_integer_ratio()
                shift = -col.scale - den.bit_length() + 1
                if shift < 0:
                    return None
                ints.append(num << shift)
                if v == 0.0 and math.copysign(1.0, v) < 0:
                    negzero = True
            stored = array("d", [0.0 if v is None else v for v in values])
        else:
            ints = [0 if v is None else int(v) for v in values]
            stored = array("q", ints)
        sums = list(accumulate(ints, initial=col.total(n_old)))[1:]
        if _width(sums) > col.width:
            return None
        squares = None
        if col.width2:
            squares = list(accumulate((v * v for v in ints), initial=col.square(n_old)))[1:]
            if _width(squares) > col.width2:
                return None
        kept = col.values[cut:] + stored
        parts.append(kept.tobytes())
        if col.nulls:
            parts.append(bytes(col.mask[cut:]) + bytes(0 if v is None else 1 for v in values))
            counts = list(accumulate((v is not None for v in values), initial=col.counts[n_old]))[1:]
            parts.append((col.counts[cut:] + array("q", counts)).tobytes())
        if col.special is not None:
            counts = list(col.special[3 * n_old:3 * n_old + 3])
            flat = []
            for v in values:
                if v is not None and v - v != 0.0:
                    counts[0 if v != v else 1 if v > 0 else 2] += 1
                flat += counts
            parts.append((col.special[3 * cut:] + array("q", flat)).tobytes())
        w = col.width
        parts.append(bytes(col.sums[cut * w:]) + _ints_bytes(sums, w))
        if squares is not None:
            w2 = col.width2
            parts.append(bytes(col.squares[cut * w2:]) + _ints_bytes(squares, w2))
        blocks = j in blocked
        if blocks:
            chunks = [kept[i:i + BLOCK] for i in range(0, n, BLOCK)]
            parts.append(array(kept.typecode, map(min, chunks)).tobytes())
            parts.append(array(kept.typecode, map(max, chunks)).tobytes())
        specs.append([kind, col.scale, col.width, col.width2, col.nulls, col.special is not None, negzero, blocks])
    head = {"m": newest, "h": horizon, "c": sealed, "n": n, "s": partials, "k": specs}
    return {"w": head, "b": b"".join(parts)}


def pick_plain(col: Column, lo: int, hi: int, pick: Any) -> Any:
    """``pick`` (``min`` or ``max``) of the stored values ``[lo, hi)`` (non-empty, no null, no NaN) from the
    block extremes the window covers and the values at its two ends; the sign of a zero is left to the caller."""
    first, last = -(-lo // BLOCK), hi // BLOCK  # the blocks inside the window
    if col.lows is None or last - first <= 1:
        return pick(col.values[lo:hi])
    ends = [pick(col.lows[first:last] if pick is min else col.highs[first:last])]
    if lo < first * BLOCK:
        ends.append(pick(col.values[lo:first * BLOCK]))
    if last * BLOCK < hi:
        ends.append(pick(col.values[last * BLOCK:hi]))
    return pick(ends)


_MOMENTS = frozenset(("sum", "mean", "var", "std"))


def window_value(agg: str, kind: str, col: Any, lo: int, hi: int, ddof: int) -> Any:
    """The canonical ``agg`` of held events ``[lo, hi)`` from the column's prefix sums (or its values)."""
    if agg == "len":
        return hi - lo
    if kind == "other":
        return exact.aggregate(agg, kind, col.window_values(lo, hi), ddof)
    if agg == "count":
        return col.present(hi) - col.present(lo)
    if agg in _MOMENTS:
        n = col.present(hi) - col.present(lo)
        total = col.total(hi) - col.total(lo)
        if kind != "float":
            if agg == "sum":
                return exact.wrap_int64(total) if n else None
            if agg == "mean":
                return exact.mean(total, 0, n)
            sq = col.square(hi) - col.square(lo)
            return (exact.var if agg == "var" else exact.std)(total, sq, 0, n, ddof)
        (nan1, pinf1, ninf1), (nan0, pinf0, ninf0) = col.specials(hi), col.specials(lo)
        nan, pinf, ninf = nan1 - nan0, pinf1 - pinf0, ninf1 - ninf0
        if agg == "sum":
            return exact.float_sum(total, col.scale, n, nan, pinf, ninf)
        if agg == "mean":
            return exact.mean(total, col.scale, n, nan, pinf, ninf)
        sq = col.square(hi) - col.square(lo)
        return (exact.var if agg == "var" else exact.std)(total, sq, col.scale, n, ddof, nan + pinf + ninf)
    if agg == "first":
        return col.value(lo) if hi > lo else None
    if agg == "last":
        return col.value(hi - 1) if hi > lo else None
    # min, max, n_unique: at C speed over the window's values when no null or NaN is among them
    plain = (hi > lo and col.present(hi) - col.present(lo) == hi - lo
             and col.specials(hi)[0] == col.specials(lo)[0])
    if not plain:
        return exact.aggregate(agg, kind, col.window_values(lo, hi), ddof)
    if agg == "n_unique":
        return len(set(col.values[lo:hi]))  # no NaN, no null: -0.0 == 0.0 and 0 == False as exact counts them
    best = pick_plain(col, lo, hi, min if agg == "min" else max)
    if kind == "bool":
        return bool(best)
    if kind == "float" and best == 0.0:  # the sign of a zero: -0.0 before +0.0, whatever their order
        if not col.negzero:
            return 0.0
        return (exact.float_min if agg == "min" else exact.float_max)(col.values[lo:hi].tolist())
    return best
