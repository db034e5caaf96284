"""The batch side of windows: every spine row's aggregates as of its own position, with polars and numpy.

Each entity table's events are sorted by (key, time, order); every window bound of every request (its
position, and its window start) is placed among them by one merged sort, which gives each request the index
range ``[lo, hi)`` of its window's events. Aggregates then come from prefix differences, exact by
construction:

* counts, Int64/Boolean sums: int64 prefix sums (an Int64 sum wraps as polars' does; a difference of wrapped
  prefixes is the wrapped window sum);
* Float64 sums, means, variances: every finite value as an exact integer multiple of the column's lowest set
  bit (``2**scale``), prefix sums of those integers and of their squares — in int64 when the column's range
  cannot overflow, else in Python integers — so ``prefix[hi] - prefix[lo]`` is the window's exact sum; the one
  rounding is :mod:`skewless.windows.exact`'s, shared with the online side. NaN and ±inf are counted apart;
* min/max: a range-minimum structure (block minima + a sparse table over blocks) over a total-order integer
  key of each value; first/last: the values at ``lo`` and ``hi - 1``; n_unique: a sliding distinct count.

Nothing here uses polars' rolling kernels (which add and subtract as they slide; see the module docs of
:mod:`skewless.windows.spec`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

from skewless.backends.polars.dtypes import to_polars
from skewless.errors import SchemaError
from skewless.windows import exact, limbs
from skewless.windows.spec import EntityWindows, Lifetime, Rolling, Windows
from skewless.windows.timing import window_start

_I64_MIN = np.iinfo(np.int64).min
_I64_MAX = np.iinfo(np.int64).max
_ROW = "__skewless_row"


def compute_windows(windows: Windows, spine: pl.DataFrame | pl.LazyFrame,
                    events: pl.DataFrame | pl.LazyFrame, *, engine: str = "auto") -> pl.DataFrame:
    """Every windowed feature of every ``spine`` row (in the spine's order), from the history ``events``.

    Parameters
    ----------
    windows
        The declared windows.
    spine
        The requests: the keys, the time column and (``requests_at="events"``) the order column.
    events
        The event history: every column of the source.
    engine
        The polars engine reading the events and computing their values (``"streaming"`` too: the values
        are row-wise and every aggregate exact, so the result does not depend on it).
    """
    src = windows.source
    ev = _events(windows, events, engine)
    spine = spine.lazy().collect() if isinstance(spine, pl.LazyFrame) else spine
    missing = [c for c in windows.request_columns if c not in spine.columns]
    if missing:
        raise SchemaError(f"windows of {src.name!r}: the spine has no column {missing[0]!r} (requests need "
                          f"{list(windows.request_columns)})")
    tdtype = to_polars(src.columns[src.time])
    req = spine.select(
        pl.int_range(pl.len(), dtype=pl.Int64).alias(_ROW),
        *[pl.col(k) for k in dict.fromkeys(k for e in windows.entities for k in e.by)],
        pl.col(src.time).cast(tdtype, strict=True).to_physical().alias("__t"),
        (pl.col(src.order).cast(pl.Int64, strict=True) if windows.requests_at == "events"
         else pl.lit(0, pl.Int64)).alias("__o"),
    )
    outputs: dict[str, np.ndarray] = {}
    for ent in windows.entities:
        outputs.update(_entity(windows, ent, ev, req))
    height = spine.height
    cols = []
    for name, dtype in windows.outputs.items():
        cols.append(pl.Series(name, outputs[name].tolist() if height else [], dtype=to_polars(dtype)))
    return pl.DataFrame(cols)


def _events(windows: Windows, events: pl.DataFrame | pl.LazyFrame, engine: str) -> pl.DataFrame:
    src = windows.source
    lf = events.lazy()
    names = lf.collect_schema().names()
    missing = [c for c in src.columns if c not in names]
    if missing:
        raise SchemaError(f"event source {src.name!r}: the events have no column {missing[0]!r}")
    keys = tuple(dict.fromkeys(k for e in windows.entities for k in e.by))
    values = windows.values.transform(lf.select(list(src.columns)), keep=tuple(dict.fromkeys((*keys, src.time, src.order))))
    df = values.with_columns(pl.col(src.time).cast(to_polars(src.columns[src.time]), strict=True)
                             .to_physical().alias("__t"),
                             pl.col(src.order).cast(pl.Int64, strict=True).alias("__o")).collect(engine=engine)
    if df["__o"].null_count():
        raise SchemaError(f"event source {src.name!r}: the order column {src.order!r} has nulls (every event "
                          "needs its id)")
    dupes = df.filter(pl.col("__o").is_duplicated()).head(1)
    if dupes.height:
        raise SchemaError(f"event source {src.name!r}: the order column {src.order!r} has the value "
                          f"{dupes['__o'][0]} more than once (it is the unique event id)")
    return df.filter(pl.col("__t").is_not_null())


def _entity(windows: Windows, ent: EntityWindows, ev: pl.DataFrame, req: pl.DataFrame) -> dict[str, np.ndarray]:
    by = list(ent.by)
    e = (ev.filter(pl.all_horizontal([pl.col(k).is_not_null() for k in by]))
         .select(*by, "__t", "__o", *ent.values).sort([*by, "__t", "__o"]))
    groups = e.select(by).unique(maintain_order=True).with_row_index("__g")
    e = e.join(groups, on=by, how="left", maintain_order="left")
    ok = pl.all_horizontal([pl.col(k).is_not_null() for k in (*by, "__t", "__o")])
    r = (req.filter(ok).select(_ROW, *by, "__t", "__o")
         .join(groups, on=by, how="left", maintain_order="left"))
    n_req = r.height
    known = r["__g"].is_not_null().to_numpy()
    g = r["__g"].fill_null(0).cast(pl.Int64).to_numpy()
    t = r["__t"].to_numpy()
    o = r["__o"].to_numpy()
    # The bounds to place: (name, times, orders, kind); kind 0 sorts before events of equal (time, order),
    # kind 2 after them.
    bounds: dict[tuple, tuple[np.ndarray, np.ndarray, int]] = {}
    plan = []
    zone = windows.source.zone
    for name in ent.features:
        w = windows.features[name]
        upper_closed = w.window.closed in ("right", "both")
        if windows.requests_at == "events":
            up = ("up", upper_closed)
            bounds.setdefault(up, (t, o, 2 if upper_closed else 0))
        else:
            up = ("up", upper_closed)
            fill = _I64_MAX if upper_closed else _I64_MIN
            bounds.setdefault(up, (t, np.full(n_req, fill, np.int64), 2 if upper_closed else 0))
        if isinstance(w.window, Lifetime):
            low = ("life",)
            bounds.setdefault(low, (np.full(n_req, _I64_MIN, np.int64), np.full(n_req, _I64_MIN, np.int64), 0))
        else:
            p = w.window.period
            lower_closed = w.window.closed in ("left", "both")
            low = ("low", p.days, p.micros, lower_closed)
            if low not in bounds:
                starts = _starts(t, p.days, p.micros, zone)
                fill = _I64_MIN if lower_closed else _I64_MAX
                bounds[low] = (starts, np.full(n_req, fill, np.int64), 0 if lower_closed else 2)
        plan.append((name, w, up, low))
    index = _place(e, g, bounds)
    for k in index:
        index[k][~known] = 0  # an entity without events: an empty window
    arrays = _Arrays(e, windows, ent)
    out: dict[str, np.ndarray] = {}
    rows = r[_ROW].to_numpy()
    total = req.height
    for name, w, up, low in plan:
        lo, hi = index[low], index[up]
        vals = arrays.aggregate(name, w.agg, w.ddof, lo, hi, g)
        full = np.full(total, None, dtype=object)
        full[rows] = vals
        out[name] = full
    return out


def _starts(t: np.ndarray, days: int, micros: int, zone: str | None) -> np.ndarray:
    if not days or zone is None or zone == "UTC":
        return t - (days * 86_400_000_000 + micros)
    uniq, inverse = np.unique(t, return_inverse=True)
    starts = np.fromiter((window_start(int(v), days, micros, zone) for v in uniq), np.int64, len(uniq))
    return starts[inverse]


def _place(e: pl.DataFrame, g: np.ndarray, bounds: dict) -> dict[tuple, np.ndarray]:
    """For each bound, the number of events (in the sorted events) before it."""
    n_req = len(g)
    frames = [pl.DataFrame({"g": e["__g"].cast(pl.Int64), "t": e["__t"], "o": e["__o"],
                            "k": pl.repeat(1, e.height, dtype=pl.Int8, eager=True),
                            "q": pl.repeat(-1, e.height, dtype=pl.Int64, eager=True)})]
    names = list(bounds)
    for i, name in enumerate(names):
        times, orders, kind = bounds[name]
        frames.append(pl.DataFrame({"g": g, "t": times, "o": orders,
                                    "k": np.full(n_req, kind, np.int8),
                                    "q": np.arange(n_req, dtype=np.int64) + i * n_req}))
    allp = pl.concat(frames, how="vertical").sort(["g", "t", "o", "k"])
    is_event = (allp["k"] == 1).cast(pl.Int64)
    before = (is_event.cum_sum() - is_event).to_numpy()
    q = allp["q"].to_numpy()
    mask = q >= 0
    placed = np.empty(len(names) * n_req, np.int64)
    placed[q[mask]] = before[mask]
    return {name: placed[i * n_req:(i + 1) * n_req].copy() for i, name in enumerate(names)}


def _prefix(x: np.ndarray) -> np.ndarray:
    out = np.zeros(len(x) + 1, dtype=x.dtype)
    np.cumsum(x, out=out[1:])
    return out


def _obj_prefix(x: np.ndarray) -> np.ndarray:
    out = np.empty(len(x) + 1, dtype=object)
    out[0] = 0
    out[1:] = np.cumsum(x.astype(object)) if len(x) else x.astype(object)
    return out


def _sum_table(ints: np.ndarray, bits: int, n: int) -> np.ndarray:
    """Exact prefix sums of ``ints`` (int64 when ``bits + log2(n)`` cannot overflow, else Python ints)."""
    if bits + max(n, 1).bit_length() <= 62:
        return _prefix(ints.astype(np.int64))
    return _obj_prefix(ints)


class _Arrays:
    """The sorted events' value columns and their prefix tables, built on first use."""

    def __init__(self, e: pl.DataFrame, windows: Windows, ent: EntityWindows):
        self.e = e
        self.windows = windows
        self.cache: dict[tuple, Any] = {}

    def _get(self, key: tuple, build):
        if key not in self.cache:
            self.cache[key] = build()
        return self.cache[key]

    def column(self, v: str) -> pl.Series:
        return self.e[v]

    def notnull_prefix(self, v: str) -> np.ndarray:
        return self._get(("nn", v), lambda: _prefix(self.e[v].is_not_null().cast(pl.Int64).to_numpy()))

    def int_values(self, v: str) -> tuple[np.ndarray, np.ndarray]:
        def build():
            s = self.e[v].cast(pl.Int64)
            return s.fill_null(0).to_numpy(), s.is_not_null().to_numpy()
        return self._get(("int", v), build)

    def float_parts(self, v: str) -> dict[str, Any]:
        return self._get(("float", v), lambda: _float_parts(self.e[v]))

    def aggregate(self, name: str, agg: str, ddof: int, lo: np.ndarray, hi: np.ndarray, g: np.ndarray) -> np.ndarray:
        v = self.windows.value_name(name)
        kind = self.windows.value_kind(name)
        if agg == "len":
            return (hi - lo).astype(object)
        nn = self.notnull_prefix(v)
        count = nn[hi] - nn[lo]
        if agg == "count":
            return count.astype(object)
        if agg in ("first", "last"):
            return self._first_last(v, agg, lo, hi)
        if agg == "n_unique":
            return self._n_unique(v, lo, hi)
        if agg in ("min", "max"):
            return self._min_max(v, kind, agg, lo, hi, count)
        if kind == "float":
            return self._float(v, agg, ddof, lo, hi, count)
        vals, _ = self.int_values(v)
        if agg == "sum":
            p = self._get(("wrap", v), lambda: _prefix(vals))  # int64 wraps: the wrapped window sum
            s = (p[hi] - p[lo]).astype(object)
            s[count == 0] = None
            return s
        bits = int(np.abs(vals).max()).bit_length() if len(vals) else 0
        if agg == "mean":
            k = limbs.limb_count(64, len(vals))
            table = self._get(("ilimbs", v), lambda: limbs.prefix(limbs.split(vals, np.zeros(len(vals), np.int64), k)))
            out = np.empty(len(lo), dtype=object)
            out[:] = _rounded(table, lo, hi, count, 0, "mean").tolist()
            out[count == 0] = None
            return out
        ps = self._get(("isum", v), lambda: _sum_table(vals, bits, len(vals)))
        total = ps[hi] - ps[lo]
        pq = self._get(("isq", v), lambda: _sum_table(vals.astype(object) ** 2 if 2 * bits > 62 else vals * vals,
                                                      2 * bits, len(vals)))
        sq = pq[hi] - pq[lo]
        fn = exact.var if agg == "var" else exact.std
        return _frompy(lambda s, q, n: fn(int(s), int(q), 0, int(n), ddof), total, sq, count)

    def _float(self, v: str, agg: str, ddof: int, lo, hi, count) -> np.ndarray:
        fp = self.float_parts(v)
        scale = fp["scale"]
        ints = lambda: self._get(("fints", v), lambda: _exact_ints(fp))  # noqa: E731
        sums = lambda: self._get(("fsum", v), lambda: _sum_table(ints(), fp["bits"], len(ints())))  # noqa: E731
        nan = fp["nan"][hi] - fp["nan"][lo]
        pinf = fp["pinf"][hi] - fp["pinf"][lo]
        ninf = fp["ninf"][hi] - fp["ninf"][lo]
        if agg in ("sum", "mean"):
            table = self._get(("limbs", v), lambda: limbs.prefix(limbs.split(fp["mant"], fp["shift"], fp["k"])))
            fast = _rounded(table, lo, hi, count, scale, agg)
            forced = (nan > 0) | (pinf > 0) | (ninf > 0)
            out = np.empty(len(lo), dtype=object)
            out[:] = fast.tolist()
            out[forced] = np.where(nan[forced] > 0, np.nan, np.where(pinf[forced] > 0,
                                   np.where(ninf[forced] > 0, np.nan, np.inf), -np.inf)).tolist()
            slow = np.isnan(fast) & ~forced & (count > 0)  # results below the normal range: exact ints
            if slow.any():
                fn = exact.float_sum if agg == "sum" else exact.mean
                out[slow] = _frompy(lambda s, n: fn(int(s), scale, int(n)), sums()[hi[slow]] - sums()[lo[slow]],
                                    count[slow]).tolist()
            out[count == 0] = None
            return out
        sq = self._get(("fsq", v), lambda: _sum_table(ints().astype(object) ** 2 if 2 * fp["bits"] > 62
                                                      else ints() * ints(), 2 * fp["bits"], len(ints())))
        q = sq[hi] - sq[lo]
        total = sums()[hi] - sums()[lo]
        fn = exact.var if agg == "var" else exact.std
        return _frompy(lambda s, qq, n, a, b, c: fn(int(s), int(qq), scale, int(n), ddof, int(a) + int(b) + int(c)),
                       total, q, count, nan, pinf, ninf)

    def _first_last(self, v: str, agg: str, lo, hi) -> np.ndarray:
        values = self._get(("obj", v), lambda: np.array(self.e[v].to_list() + [None], dtype=object))
        idx = lo if agg == "first" else hi - 1
        out = values[np.where(hi > lo, idx, len(values) - 1)]
        return out

    def _min_max(self, v: str, kind: str, agg: str, lo, hi, count) -> np.ndarray:
        def build():
            s = self.e[v]
            if kind == "float":
                x = s.fill_null(np.nan).to_numpy().astype(np.float64)
                bits = x.view(np.int64)
                keys = bits ^ ((bits >> 63) & np.int64(0x7FFFFFFFFFFFFFFF))  # IEEE total order as int64
                bad = np.isnan(x)
            else:
                keys = s.cast(pl.Int64).fill_null(0).to_numpy()
                bad = s.is_null().to_numpy()
            sentinel = _I64_MAX if agg == "min" else _I64_MIN
            keys = np.where(bad, sentinel, keys)
            return _RangeExtreme(keys, agg == "min")
        rmq = self._get((agg, v), build)
        nonempty = count > 0
        res = np.zeros(len(lo), np.int64)
        if nonempty.any():
            res[nonempty] = rmq.query(lo[nonempty], hi[nonempty])
        out = np.empty(len(lo), dtype=object)
        if kind == "float":
            sentinel = _I64_MAX if agg == "min" else _I64_MIN
            bits = res ^ ((res >> 63) & np.int64(0x7FFFFFFFFFFFFFFF))
            vals = bits.view(np.float64)
            out[:] = vals.tolist()
            out[nonempty & (res == sentinel)] = float("nan")  # only NaN in the window
        elif kind == "bool":
            out[:] = res.astype(bool).tolist()
        else:
            out[:] = res.tolist()
        out[~nonempty] = None
        return out

    def _n_unique(self, v: str, lo, hi) -> np.ndarray:
        codes = self._get(("codes", v), lambda: _codes(self.e[v]))
        out = np.zeros(len(lo), dtype=np.int64)
        order = np.lexsort((hi, lo))
        counts = [0] * (int(codes.max()) + 1 if len(codes) else 1)
        c = codes.tolist()
        cur_lo = cur_hi = 0
        distinct = 0
        lo_l, hi_l = lo.tolist(), hi.tolist()
        for i in order.tolist():
            a, b = lo_l[i], hi_l[i]
            if a >= b:
                out[i] = 0
                continue
            if a >= cur_hi or b <= cur_lo:  # disjoint: restart
                for j in range(cur_lo, cur_hi):
                    counts[c[j]] = 0
                distinct = 0
                cur_lo = cur_hi = a
            while cur_hi < b:
                k = c[cur_hi]
                if counts[k] == 0:
                    distinct += 1
                counts[k] += 1
                cur_hi += 1
            while cur_hi > b:
                cur_hi -= 1
                k = c[cur_hi]
                counts[k] -= 1
                if counts[k] == 0:
                    distinct -= 1
            while cur_lo < a:
                k = c[cur_lo]
                counts[k] -= 1
                if counts[k] == 0:
                    distinct -= 1
                cur_lo += 1
            while cur_lo > a:
                cur_lo -= 1
                k = c[cur_lo]
                if counts[k] == 0:
                    distinct += 1
                counts[k] += 1
            out[i] = distinct
        return out.astype(object)


def _codes(s: pl.Series) -> np.ndarray:
    """Dense integer codes of values under n_unique's equality (null one value, NaN one, -0.0 == 0.0)."""
    if s.dtype == pl.Float64:
        x = s.to_numpy().astype(np.float64) + 0.0  # -0.0 + 0.0 == +0.0
        bits = x.view(np.int64).copy()
        bits[np.isnan(x)] = 0x7FF8000000000000
        null = s.is_null().to_numpy()
        bits[null] = 0
        _, inv = np.unique(bits, return_inverse=True)
        inv = inv.astype(np.int64) + 1
        inv[null] = 0
        return inv
    codes = s.rank("dense").fill_null(0).cast(pl.Int64).to_numpy()
    return codes


def _float_parts(s: pl.Series) -> dict[str, Any]:
    x = s.cast(pl.Float64).to_numpy().astype(np.float64)
    null = s.is_null().to_numpy()
    nan = np.isnan(x) & ~null
    pinf = np.isposinf(x)
    ninf = np.isneginf(x)
    finite = np.isfinite(x) & ~null
    fx = np.where(finite, x, 0.0)
    m, e = np.frexp(fx)
    mant = (m * 9007199254740992.0).astype(np.int64)  # x = mant * 2**(e - 53), exactly
    exp = e.astype(np.int64) - 53
    nz = mant != 0
    if nz.any():
        low = mant[nz] & -mant[nz]
        tz = np.log2(low.astype(np.float64)).astype(np.int64)  # trailing zeros (low is a power of two)
        scale = int((exp[nz] + tz).min())
    else:
        scale = 0
    shift = exp - scale  # >= -trailing zeros: shifting right drops zero bits only
    bits_needed = int((exp[nz] + 53 - scale).max()) if nz.any() else 0
    return {"scale": scale, "bits": bits_needed, "mant": np.where(nz, mant, 0), "shift": shift,
            "k": limbs.limb_count(bits_needed, len(x)),
            "nan": _prefix(nan.astype(np.int64)), "pinf": _prefix(pinf.astype(np.int64)),
            "ninf": _prefix(ninf.astype(np.int64))}


def _exact_ints(fp: dict[str, Any]) -> np.ndarray:
    """The column's finite values as exact integers at its scale (int64 when they fit, else Python ints)."""
    mant, shift = fp["mant"], fp["shift"]
    if fp["bits"] <= 62:
        return np.where(shift >= 0, mant << np.clip(shift, 0, 62), mant >> np.clip(-shift, 0, 62))
    ints = np.empty(len(mant), dtype=object)
    ints[:] = [m << s if s >= 0 else m >> -s for m, s in zip(mant.tolist(), shift.tolist())]
    return ints


def _rounded(table: np.ndarray, lo: np.ndarray, hi: np.ndarray, count: np.ndarray, scale: int, agg: str) -> np.ndarray:
    """Correctly rounded window sums (or means over ``count`` values) from limb prefix sums; NaN: not handled."""
    mag, neg = limbs.normalise(table[:, hi] - table[:, lo])
    if agg == "sum":
        out = limbs.round_limbs(mag, scale)
    else:
        q, rem = limbs.divide(mag, np.maximum(count, 1).astype(np.int64))
        out = limbs.round_limbs(q, scale - 32 * limbs.EXTRA, rem)
    return np.where(neg, -out, out)


def _frompy(fn, *arrays: Sequence[Any]) -> np.ndarray:
    if not len(arrays[0]):
        return np.empty(0, dtype=object)
    return np.frompyfunc(fn, len(arrays), 1)(*arrays).astype(object)


class _RangeExtreme:
    """Range minimum (or maximum) over int64 keys in O(1) per query: block extremes + a sparse table."""

    _B = 64

    def __init__(self, keys: np.ndarray, is_min: bool):
        self.is_min = is_min
        self.op = np.minimum if is_min else np.maximum
        fill = _I64_MAX if is_min else _I64_MIN
        n = len(keys)
        nb = max(1, -(-n // self._B))
        padded = np.full(nb * self._B, fill, np.int64)
        padded[:n] = keys
        self.keys = padded
        blocks = padded.reshape(nb, self._B)
        self.pre = self.op.accumulate(blocks, axis=1).ravel()
        self.suf = self.op.accumulate(blocks[:, ::-1], axis=1)[:, ::-1].ravel()
        level = blocks.min(axis=1) if is_min else blocks.max(axis=1)
        self.table = [level]
        width = 1
        while 2 * width <= nb:
            level = self.op(level[:-width], level[width:])
            self.table.append(level)
            width *= 2

    def query(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Extreme of ``keys[lo:hi]`` for non-empty ranges."""
        B = self._B
        last = hi - 1
        bl, bh = lo // B, last // B
        out = np.empty(len(lo), np.int64)
        same = bl == bh
        if same.any():
            l_s, h_s = lo[same], hi[same]
            offs = np.arange(B)
            idx = l_s[:, None] + offs[None, :]
            valid = idx < h_s[:, None]
            fill = _I64_MAX if self.is_min else _I64_MIN
            vals = np.where(valid, self.keys[np.minimum(idx, len(self.keys) - 1)], fill)
            out[same] = vals.min(axis=1) if self.is_min else vals.max(axis=1)
        diff = ~same
        if diff.any():
            l_d, h_d, b1, b2 = lo[diff], last[diff], bl[diff] + 1, bh[diff]
            res = self.op(self.suf[l_d], self.pre[h_d])
            inner = b2 > b1
            if inner.any():
                a, b = b1[inner], b2[inner]
                span = b - a
                k = np.floor(np.log2(span)).astype(np.int64)
                part = np.empty(len(a), np.int64)
                for lv in np.unique(k):
                    sel = k == lv
                    tab = self.table[lv]
                    part[sel] = self.op(tab[a[sel]], tab[b[sel] - (1 << lv)])
                res[inner] = self.op(res[inner], part)
            out[diff] = res
        return out
