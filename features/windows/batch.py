"""The batch side of windows: every spine row's aggregates as of its own position, with polars and numpy.

Each entity table's events are grouped by key and sorted by (time, order) inside each key (not sorted again
when they already are: one compiled pass checks it); every window bound of every request (its position, and
its window start) is placed among its entity's events by a compiled binary search
(:mod:`skewless.windows.kernels`), which gives each request the index range ``[lo, hi)`` of its window's
events. Aggregates then come from prefix differences, exact by construction:

* counts, Int64/Boolean sums: int64 prefix sums (an Int64 sum wraps as polars' does; a difference of wrapped
  prefixes is the wrapped window sum);
* Float64 sums, means, variances: every finite value as an exact integer multiple of the column's lowest set
  bit (``2**scale``), prefix sums of those integers — 128-bit words in compiled loops when the column's range
  allows (:mod:`skewless.windows.kernels`, the rules of :mod:`skewless.windows.fixed`: nearly every real
  column), else 32-bit limbs (:mod:`skewless.windows.limbs`)
  — so ``prefix[hi] - prefix[lo]`` is the window's exact sum, rounded once with the rules of
  :mod:`skewless.windows.exact` (the online side's); variances from exact Σx and Σx² (compiled multiword
  integers on the fixed point, else Python integers), rounded once as :mod:`skewless.windows.exact` defines
  it. NaN and ±inf are counted apart;
* min/max: a range-minimum structure (block minima + a sparse table over blocks) over a total-order integer
  key of each value; first/last: the values at ``lo`` and ``hi - 1``; n_unique: a sliding distinct count.

Nothing here uses polars' rolling kernels (which add and subtract as they slide; see the module docs of
:mod:`skewless.windows.spec`).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

from skewless.backends.polars.dtypes import to_polars
from skewless.errors import SchemaError
from skewless.windows import exact, fixed, kernels, limbs
from skewless.windows.spec import EntityWindows, Lifetime, Rolling, Windows
from skewless.windows.timing import transitions, window_start

_I64_MIN = np.iinfo(np.int64).min
_I64_MAX = np.iinfo(np.int64).max
_ROW = "__skewless_row"
_KERNEL_MAX = 1 << 31  # events per entity table for the compiled 128-bit sums (counts below 2**32)


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

    See :func:`skewless.windows.chunked.write_windows` for a build bounded in memory (entity-partitioned
    chunks streamed to parquet).
    """
    with small_pages():
        ev = _events(windows, events, engine)
        spine = spine.lazy().collect() if isinstance(spine, pl.LazyFrame) else spine
        req = _requests(windows, spine)
        outputs: dict[str, pl.Series] = {}
        for ent in windows.entities:
            outputs.update(_entity(windows, ent, ev, req))
    return pl.DataFrame([outputs[name].cast(to_polars(dtype)).alias(name) for name, dtype in windows.outputs.items()])


@contextlib.contextmanager
def small_pages():
    """numpy's large arrays without ``madvise(MADV_HUGEPAGE)`` while the kernel runs (restored after).

    With ``transparent_hugepage/defrag = madvise`` (a common default) and fragmented memory, the first touch
    of each new huge-page-advised array stalls in synchronous compaction (numpy/numpy#31590): measured here,
    ``hi - lo`` of 10^7 int64 took 0.02-0.34 s of CPU with the advice, a steady 0.04 s without. The kernel
    allocates a few arrays of every request's size, so it opts out for its own duration (the switch is
    numpy's ``_set_madvise_hugepage``, the runtime form of ``NUMPY_MADVISE_HUGEPAGE=0``; absent: no-op).
    """
    switch = getattr(getattr(np, "_core", None) and np._core.multiarray, "_set_madvise_hugepage", None)
    if switch is None:
        yield
        return
    before = switch(False)
    try:
        yield
    finally:
        switch(before)


def _requests(windows: Windows, spine: pl.DataFrame) -> pl.DataFrame:
    src = windows.source
    missing = [c for c in windows.request_columns if c not in spine.columns]
    if missing:
        raise SchemaError(f"windows of {src.name!r}: the spine has no column {missing[0]!r} (requests need "
                          f"{list(windows.request_columns)})")
    tdtype = to_polars(src.columns[src.time])
    return spine.select(
        pl.int_range(pl.len(), dtype=pl.Int64).alias(_ROW),
        *[pl.col(k) for k in dict.fromkeys(k for e in windows.entities for k in e.by)],
        pl.col(src.time).cast(tdtype, strict=True).to_physical().alias("__t"),
        (pl.col(src.order).cast(pl.Int64, strict=True) if windows.requests_at == "events"
         else pl.lit(0, pl.Int64)).alias("__o"),
    )


def _events(windows: Windows, events: pl.DataFrame | pl.LazyFrame, engine: str, *, check: bool = True) -> pl.DataFrame:
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
    if check:
        check_ids(src, df["__o"])
    return df.filter(pl.col("__t").is_not_null())


def check_ids(src, ids: pl.Series) -> None:
    """:class:`SchemaError` for a null or repeated event id (the order column is the unique event id)."""
    if ids.null_count():
        raise SchemaError(f"event source {src.name!r}: the order column {src.order!r} has nulls (every event "
                          "needs its id)")
    if _ids_repeat(ids):
        dupe = ids.filter(ids.is_duplicated()).head(1)[0]
        raise SchemaError(f"event source {src.name!r}: the order column {src.order!r} has the value "
                          f"{dupe} more than once (it is the unique event id)")


def _ids_repeat(ids: pl.Series) -> bool:
    """Whether an id occurs twice: a bitmap pass when the ids span a range of at most 64 per id (row
    numbers, sequences), else polars' hash count."""
    n = ids.len()
    if n > 1 and ids.dtype == pl.Int64:
        low, high = ids.min(), ids.max()
        if high - low < 64 * n:
            arr = ids.to_numpy()
            return kernels.first_repeat_in_range(arr, int(low), int(high - low) + 1) >= 0
    return ids.n_unique() != n


def _entity(windows: Windows, ent: EntityWindows, ev: pl.DataFrame, req: pl.DataFrame) -> dict[str, pl.Series]:
    by = list(ent.by)
    e = _sorted_events(ev.filter(pl.all_horizontal([pl.col(k).is_not_null() for k in by]))
                       .select(*by, "__t", "__o", *ent.values), by)
    groups = e.filter(pl.col("__g") != pl.col("__g").shift(1, fill_value=-1)).select(*by, "__g")
    ok = pl.all_horizontal([pl.col(k).is_not_null() for k in (*by, "__t", "__o")])
    r = (req.filter(ok).select(_ROW, *by, "__t", "__o")
         .join(groups, on=by, how="left", maintain_order="left", nulls_equal=False))
    n_req = r.height
    known = r["__g"].is_not_null().to_numpy()
    g = r["__g"].fill_null(0).to_numpy()
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
        up = ("up", upper_closed)
        if windows.requests_at == "events":
            bounds.setdefault(up, (t, o, 2 if upper_closed else 0))
        else:
            fill = _I64_MAX if upper_closed else _I64_MIN
            bounds.setdefault(up, (t, _constant(fill, n_req), 2 if upper_closed else 0))
        if isinstance(w.window, Lifetime):
            low = ("life",)
            bounds.setdefault(low, (_constant(_I64_MIN, n_req), _constant(_I64_MIN, n_req), 0))
        else:
            p = w.window.period
            lower_closed = w.window.closed in ("left", "both")
            low = ("low", p.days, p.micros, lower_closed)
            if low not in bounds:
                fill = _I64_MIN if lower_closed else _I64_MAX
                if not p.days or zone is None or zone == "UTC":  # a fixed duration: t - period, in the search
                    bounds[low] = (t, _constant(fill, n_req), 0 if lower_closed else 2,
                                   p.days * 86_400_000_000 + p.micros)
                else:
                    bounds[low] = (_starts(t, p.days, p.micros, zone), _constant(fill, n_req), 0 if lower_closed else 2)
        plan.append((name, w, up, low))
    index = place(e["__g"].to_numpy(), e["__t"].to_numpy(), e["__o"].to_numpy(), g, bounds)
    if not known.all():
        for k in index:
            index[k][~known] = 0  # an entity without events: an empty window
    arrays = _Arrays(e, windows, ent)
    out = {name: arrays.aggregate(name, w.agg, w.ddof, index[low], index[up]).alias(name)
           for name, w, up, low in plan}
    if n_req == req.height:  # every request has its keys and time: the rows are the spine's, in order
        return out
    frame = pl.DataFrame([r[_ROW], *out.values()])
    full = req.select(_ROW).join(frame, on=_ROW, how="left", maintain_order="left")
    return {name: full[name] for name in out}


def _sorted_events(e: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """The events grouped by entity (each entity's events contiguous) and sorted by (time, order) inside each
    entity, with ``__g``: the entity's run number (increasing along the rows). Events that already are (a
    source written in that order) are not sorted again: the check is one pass."""
    gkey = pl.col(by[0]) if len(by) == 1 else pl.struct(by)
    if e.height > 1:
        g = e.select(gkey.rle_id().cast(pl.Int64)).to_series()
        runs = int(g[-1]) + 1
        if (kernels.sorted_within_groups(g.to_numpy(), e["__t"].to_numpy(), e["__o"].to_numpy())
                and runs == e.select(gkey.n_unique()).item()):
            return e.with_columns(g.alias("__g"))
    e = e.sort([*by, "__t", "__o"])
    return e.with_columns(gkey.rle_id().cast(pl.Int64).alias("__g"))  # sorted: consecutive ids per entity


def _starts(t: np.ndarray, days: int, micros: int, zone: str | None) -> np.ndarray:
    """Window starts of the request times ``t``: :func:`skewless.windows.timing.window_start`, vectorised.

    Calendar days in a zone: the same wall-clock time ``days`` earlier, with the zone's offsets taken from the
    transitions of the very zone data the online side reads (:func:`~skewless.windows.timing.transitions`) and
    zoneinfo's ``fold=0`` rule (a wall time takes the offset after the last transition whose wall time
    ``instant + max(offset before, after)`` it has reached: ambiguous -> first occurrence, in a gap -> the
    offset before it).
    """
    if not days or zone is None or zone == "UTC":
        return t - (days * 86_400_000_000 + micros)
    if not len(t):
        return t.copy()
    back = days * 86_400_000_000
    lo, hi = int(t.min()) - back - 3 * 86_400_000_000, int(t.max()) + 86_400_000_000
    table = transitions(zone, lo, hi)
    if table is None:  # decades of request times: one call per distinct time
        uniq, inverse = np.unique(t, return_inverse=True)
        starts = np.fromiter((window_start(int(v), days, micros, zone) for v in uniq), np.int64, len(uniq))
        return starts[inverse]
    first, changes = table
    at = np.array([c[0] for c in changes], np.int64)
    before = np.array([c[1] for c in changes], np.int64)
    after = np.array([c[2] for c in changes], np.int64)
    offsets = np.concatenate([[first], after]).astype(np.int64)
    wall = t + offsets[np.searchsorted(at, t, "right")] - back
    wall_at = at + np.maximum(before, after)
    return wall - offsets[np.searchsorted(wall_at, wall, "right")] - micros


def place(eg: np.ndarray, et: np.ndarray, eo: np.ndarray, g: np.ndarray, bounds: dict) -> dict[tuple, np.ndarray]:
    """For each bound ``(times, orders, kind)`` of requests of the entities ``g``: the number of events before it
    in the events sorted by (entity ``eg``, time ``et``, order ``eo``).

    A bound of kind 0 sorts before an event of equal (entity, time, order), kind 2 after it (order sentinels
    ``int64`` min/max put a bound before/after every event of its time); a fourth element ``back`` places the
    bound at ``times - back``. One compiled binary search per
    bound inside its entity's events (:func:`skewless.windows.kernels.place_bounds`); requests that ARE the
    events in their sorted order (a training spine of its own events) are placed as ``arange``.
    """
    n = len(et)
    if n == 0:
        return {name: np.zeros(len(g), np.int64) for name in bounds}
    groups = max(int(eg[-1]), int(g.max()) if len(g) else 0) + 1
    starts = None
    same_entities = len(g) == n and bool((g == eg).all())
    out = {}
    for name, (times, orders, kind, *back) in bounds.items():
        back = back[0] if back else 0
        if same_entities and not back and _same(times, et) and _same(orders, eo):
            out[name] = np.arange(n, dtype=np.int64) + (kind == 2)
            continue
        if starts is None:
            starts = kernels.group_starts(eg, groups)
        out[name] = _split(lambda a, b: (kernels.place_bounds(starts, et, eo, g[a:b], times[a:b], back, orders[a:b],
                                                                kind == 2),), len(g))[0]
    return out


_POOL: list = []
_SPLIT_MIN = 250_000  # rows per thread below which one call is cheaper


def _split(run, m: int) -> tuple[np.ndarray, ...]:
    """``run(a, b)`` (a compiled ``nogil`` kernel over the rows ``[a, b)``, returning arrays) on the rows
    ``[0, m)`` split over polars' thread count (``POLARS_MAX_THREADS``), outputs concatenated in order. The
    rows are independent, so the result does not depend on the split."""
    threads = max(1, min(pl.thread_pool_size(), os.cpu_count() or 1, m // _SPLIT_MIN))
    if threads == 1:
        return run(0, m)
    if not _POOL:
        _POOL.append(concurrent.futures.ThreadPoolExecutor(max(2, min(pl.thread_pool_size(), 16)),
                                                           thread_name_prefix="skewless-windows"))
    cuts = [m * i // threads for i in range(threads + 1)]
    parts = [f.result() for f in [_POOL[0].submit(run, a, b) for a, b in zip(cuts, cuts[1:])]]
    return tuple(np.concatenate([p[k] for p in parts]) for k in range(len(parts[0])))


def _constant(value: int, n: int) -> np.ndarray:
    """``n`` times ``value`` as a read-only int64 array without memory (stride 0)."""
    return np.broadcast_to(np.int64(value), (n,))


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a is b or bool((a == b).all())


def _place_sorted(eg, et, eo, g, bounds: dict) -> dict[tuple, np.ndarray]:
    """:func:`place` by one merged sort of the events and every bound (for keys too wide for int64)."""
    n_req = len(g)
    frames = [pl.DataFrame({"g": eg, "t": et, "o": eo, "k": np.ones(len(et), np.int8),
                            "q": np.full(len(et), -1, np.int64)})]
    names = list(bounds)
    for i, name in enumerate(names):
        times, orders, kind, *back = bounds[name]
        times = times - back[0] if back else times
        frames.append(pl.DataFrame({"g": g, "t": times, "o": orders, "k": np.full(n_req, kind, np.int8),
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


def _masked(values: Any, valid: np.ndarray | None) -> pl.Series:
    """``values`` as a Series, null where not ``valid``."""
    s = values if isinstance(values, pl.Series) else pl.Series(values)
    if valid is None or valid.all():
        return s
    return pl.DataFrame({"v": s, "ok": valid}).select(pl.when(pl.col("ok")).then(pl.col("v"))).to_series()


def _special(nan: np.ndarray, pinf: np.ndarray, ninf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(forced, value)``: windows whose result NaN/±inf force (:func:`skewless.windows.exact.special`)."""
    forced = (nan > 0) | (pinf > 0) | (ninf > 0)
    value = np.where((nan > 0) | ((pinf > 0) & (ninf > 0)), np.nan, np.where(pinf > 0, np.inf, -np.inf))
    return forced, value


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

    def sizes(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """``hi - lo`` (computed once per window: the features of one window share it)."""
        hit = self.cache.get("sizes")
        if hit is None or hit[0] is not lo or hit[1] is not hi:
            hit = self.cache["sizes"] = (lo, hi, hi - lo)
        return hit[2]

    def nonempty(self, count: np.ndarray) -> np.ndarray:
        """``count > 0`` (once per count array)."""
        hit = self.cache.get("nonempty")
        if hit is None or hit[0] is not count:
            hit = self.cache["nonempty"] = (count, count > 0)
        return hit[1]

    def notnull_prefix(self, v: str) -> np.ndarray:
        return self._get(("nn", v), lambda: _prefix(self.e[v].is_not_null().cast(pl.Int64).to_numpy()))

    def int_values(self, v: str) -> tuple[np.ndarray, np.ndarray]:
        def build():
            s = self.e[v].cast(pl.Int64)
            return s.fill_null(0).to_numpy(), s.is_not_null().to_numpy()
        return self._get(("int", v), build)

    def floats(self, v: str) -> dict[str, Any]:
        """The column as float64 (nulls 0), NaN/±inf prefix counts and its fixed point (one compiled pass)."""
        def build():
            s = self.e[v].cast(pl.Float64)
            x = np.ascontiguousarray(s.fill_null(0.0).to_numpy(), dtype=np.float64)
            scale, top, nonfinite = kernels.float_plan(x.view(np.uint64))
            bits = top - scale
            zero = np.zeros(1, np.int64)
            return {"x": x, "scale": scale, "bits": bits, "nonfinite": nonfinite,
                    "fits": fixed.fits(bits, len(x)) and len(x) < _KERNEL_MAX,
                    "sq_fits": fixed.fits(2 * bits, len(x)),
                    "nan": _prefix(np.isnan(x).astype(np.int64)) if nonfinite else zero,
                    "pinf": _prefix(np.isposinf(x).astype(np.int64)) if nonfinite else zero,
                    "ninf": _prefix(np.isneginf(x).astype(np.int64)) if nonfinite else zero}
        return self._get(("floats", v), build)

    def prefix128(self, key: str, build) -> tuple[np.ndarray, np.ndarray]:
        """Exact 128-bit prefix sums ``(hi, lo)`` (:mod:`skewless.windows.kernels`), built on first use."""
        return self._get(("p128", key), build)

    def fixed_sums(self, key: str, ints) -> pl.Series:
        """The Int128 prefix table of the exact integers ``ints()``."""
        return self._get(("fixed", key), lambda: fixed.prefix(ints()))

    def window_sums(self, key: str, ints, lo: np.ndarray, hi: np.ndarray) -> pl.Series:
        """Exact Int128 sums of ``ints()`` over ``[lo, hi)`` (shared by the features of one column and window)."""
        hit = self.cache.get(("wsum", key))
        if hit is not None and hit[0] is lo and hit[1] is hi:
            return hit[2]
        total = fixed.window_sums(self.fixed_sums(key, ints), lo, hi)
        self.cache[("wsum", key)] = (lo, hi, total)
        return total

    def aggregate(self, name: str, agg: str, ddof: int, lo: np.ndarray, hi: np.ndarray) -> pl.Series:
        v = self.windows.value_name(name)
        kind = self.windows.value_kind(name)
        if agg == "len":
            return pl.Series(self.sizes(lo, hi))
        if self.e[v].null_count():
            nn = self.notnull_prefix(v)
            count = nn[hi] - nn[lo]
        else:
            count = self.sizes(lo, hi)
        if agg == "count":
            return pl.Series(count)
        if agg in ("first", "last"):
            return self._first_last(v, agg, lo, hi)
        if agg == "n_unique":
            return pl.Series(self._n_unique(v, lo, hi))
        if agg in ("min", "max"):
            return self._min_max(v, kind, agg, lo, hi, count)
        if kind == "float":
            fl = self.floats(v)
            if fl["fits"]:
                return self._float_fixed(v, fl, agg, ddof, lo, hi, count)
            return self._float_wide(v, agg, ddof, lo, hi, count)
        vals, _ = self.int_values(v)
        if agg == "sum":
            p = self._get(("wrap", v), lambda: _prefix(vals))  # int64 wraps: the wrapped window sum
            return _masked(p[hi] - p[lo], count > 0)
        if agg == "mean" and len(vals) < _KERNEL_MAX:  # Int64: 64 bits + log2(n) always fit 128 bits
            ph, pl_ = self.prefix128(f"i:{v}", lambda: kernels.int_prefix(vals))
            out, slow = _split(lambda a, b: kernels.window_round(ph, pl_, lo[a:b], hi[a:b], count[a:b], 0, True),
                               len(lo))  # never slow at scale 0
            return _masked(out, self.nonempty(count))
        total = self.window_sums(f"i:{v}", lambda: pl.Series(vals), lo, hi)
        if agg == "mean":
            return _masked(fixed.to_mean(total, count, 0), count > 0)
        bits = int(np.abs(vals).max()).bit_length() if len(vals) else 0
        if fixed.fits(2 * bits, len(vals)):
            sq = fixed.window_sums(self.fixed_sums(f"i2:{v}", lambda: pl.Series(vals).cast(pl.Int128) ** 2), lo, hi)
        else:
            pq = self._get(("isq", v), lambda: _obj_prefix(vals.astype(object) ** 2))
            sq = pl.Series(pq[hi] - pq[lo], dtype=pl.Object)
        fn = exact.var if agg == "var" else exact.std
        return pl.Series(_frompy(lambda s, q, n: fn(s, q, 0, n, ddof), total.to_list(), sq.to_list(),
                                 count.tolist()).tolist(), dtype=pl.Float64)

    def _float_fixed(self, v: str, fl: dict, agg: str, ddof: int, lo, hi, count) -> pl.Series:
        scale = fl["scale"]
        nonfinite = fl["nonfinite"]
        if nonfinite:
            nan = fl["nan"][hi] - fl["nan"][lo]
            pinf = fl["pinf"][hi] - fl["pinf"][lo]
            ninf = fl["ninf"][hi] - fl["ninf"][lo]
        else:
            nan = pinf = ninf = np.zeros(len(lo), np.int64)
        if agg in ("sum", "mean"):
            ph, pl_ = self.prefix128(f"f:{v}", lambda: kernels.float_prefix(fl["x"].view(np.uint64), scale))
            out, slow = _split(lambda a, b: kernels.window_round(ph, pl_, lo[a:b], hi[a:b], count[a:b], scale,
                                                                 agg == "mean"), len(lo))
            if nonfinite:
                forced, value = _special(nan, pinf, ninf)
                slow &= ~forced
            if slow.any():  # a mean below the normal range of a coarse column: Python integers
                rows = np.flatnonzero(slow)
                out[rows] = [exact.mean(t, scale, c) for t, c in zip(_int128(ph, pl_, lo[rows], hi[rows]),
                                                                     count[rows].tolist())]
            if nonfinite:
                out = np.where(forced, value, out)
            return _masked(out, self.nonempty(count))
        ph, pl_ = self.prefix128(f"f:{v}", lambda: kernels.float_prefix(fl["x"].view(np.uint64), scale))
        words = -(-(2 * fl["bits"] + len(fl["x"]).bit_length()) // 64)  # <= 4: the column fits 126 bits
        sq = self._get(("sq", v), lambda: kernels.square_prefix(fl["x"].view(np.uint64), scale, max(words, 1)))
        power = 1 if agg == "var" else 2
        out, todo = _split(lambda a, b: kernels.window_var_div(ph, pl_, sq, lo[a:b], hi[a:b], count[a:b], scale,
                                                               ddof, power), len(lo))
        if todo.any():  # windows of more than 65,536 values: midpoint comparisons
            rows = np.flatnonzero(todo)
            more, slow = kernels.window_var(ph, pl_, sq, lo[rows], hi[rows], count[rows], scale, ddof, power)
            out[rows] = more
            if slow.any():  # results outside [2**-1020, 2**1020]: Python integers
                rows = rows[slow]
                fn = exact.var if agg == "var" else exact.std
                totals = _int128(ph, pl_, lo[rows], hi[rows])
                squares = _words(sq, lo[rows], hi[rows])
                out[rows] = [fn(t_, q_, scale, c_, ddof) for t_, q_, c_ in zip(totals, squares, count[rows].tolist())]
        if nonfinite:
            out = np.where(nan + pinf + ninf > 0, np.nan, out)
        return _masked(out, count > ddof)

    def _float_wide(self, v: str, agg: str, ddof: int, lo, hi, count) -> pl.Series:
        """Columns too wide for one Int128 fixed point: 32-bit limbs (sums, means), Python integers (var, std)."""
        fp = self._get(("float", v), lambda: _float_parts(self.e[v]))
        scale = fp["scale"]
        ints = lambda: self._get(("fints", v), lambda: _exact_ints(fp))  # noqa: E731
        sums = lambda: self._get(("fsum", v), lambda: _sum_table(ints(), fp["bits"], len(ints())))  # noqa: E731
        nan = fp["nan"][hi] - fp["nan"][lo]
        pinf = fp["pinf"][hi] - fp["pinf"][lo]
        ninf = fp["ninf"][hi] - fp["ninf"][lo]
        if agg in ("sum", "mean"):
            table = self._get(("limbs", v), lambda: limbs.prefix(limbs.split(fp["mant"], fp["shift"], fp["k"])))
            out = _rounded(table, lo, hi, count, scale, agg)
            forced, value = _special(nan, pinf, ninf)
            slow = np.isnan(out) & ~forced & (count > 0)  # results below the normal range: exact ints
            if slow.any():
                fn = exact.float_sum if agg == "sum" else exact.mean
                out[slow] = _frompy(lambda s, n: fn(int(s), scale, int(n)), sums()[hi[slow]] - sums()[lo[slow]],
                                    count[slow]).tolist()
            out = np.where(forced, value, out)
            return _masked(out, count > 0)
        sq = self._get(("fsq", v), lambda: _sum_table(ints().astype(object) ** 2 if 2 * fp["bits"] > 62
                                                      else ints() * ints(), 2 * fp["bits"], len(ints())))
        q = sq[hi] - sq[lo]
        total = sums()[hi] - sums()[lo]
        fn = exact.var if agg == "var" else exact.std
        return pl.Series(_frompy(lambda s, qq, n, a, b, c: fn(int(s), int(qq), scale, int(n), ddof,
                                                              int(a) + int(b) + int(c)),
                                 total, q, count, nan, pinf, ninf).tolist(), dtype=pl.Float64)

    def _first_last(self, v: str, agg: str, lo, hi) -> pl.Series:
        nonempty = hi > lo
        col = self.e[v]
        if not nonempty.any():
            return pl.Series([None] * len(lo), dtype=col.dtype)
        idx = lo if agg == "first" else hi - 1
        return _masked(col.gather(pl.Series(np.where(nonempty, idx, 0))), nonempty)

    def _min_max(self, v: str, kind: str, agg: str, lo, hi, count) -> pl.Series:
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
            return np.where(bad, sentinel, keys)
        keys = self._get((agg, v), build)
        nonempty = count > 0
        res = np.zeros(len(lo), np.int64)
        if nonempty.any():  # short windows by a compiled loop, long ones by the sparse table (built if needed)
            res, big = kernels.small_extremes(keys, lo, hi, nonempty, agg == "min", 2 * _RangeExtreme._B)
            if big.any():
                rmq = self._get((agg, v, "table"), lambda: _RangeExtreme(keys, agg == "min"))
                res[big] = rmq.query(lo[big], hi[big])
        if kind == "float":
            sentinel = _I64_MAX if agg == "min" else _I64_MIN
            bits = res ^ ((res >> 63) & np.int64(0x7FFFFFFFFFFFFFFF))
            vals = np.where(res == sentinel, np.nan, bits.view(np.float64))  # only NaN in the window: NaN
        elif kind == "bool":
            vals = res.astype(bool)
        else:
            vals = res
        return _masked(vals, nonempty)

    def _n_unique(self, v: str, lo, hi) -> np.ndarray:
        codes = self._get(("codes", v), lambda: _codes(self.e[v]))
        n_codes = int(codes.max()) + 1 if len(codes) else 1
        return kernels.n_unique(codes, lo, hi, np.lexsort((hi, lo)), n_codes)


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


def _int128(ph: np.ndarray, pl_: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> list[int]:
    """The exact window sums ``P[hi] - P[lo]`` of 128-bit prefix sums ``(hi, lo)`` words, as Python ints."""
    def at(i):
        v = (int(ph[i]) << 64) | int(pl_[i])
        return v - (1 << 128) if v >> 127 else v
    return [at(b) - at(a) for a, b in zip(lo.tolist(), hi.tolist())]


def _words(sq: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> list[int]:
    """The exact window sums ``P[hi] - P[lo]`` of multiword prefix sums (rows of uint64 words), as Python ints."""
    def at(i):
        return sum(int(w) << (64 * j) for j, w in enumerate(sq[i].tolist()))
    return [at(b) - at(a) for a, b in zip(lo.tolist(), hi.tolist())]


def _frompy(fn, *arrays: Sequence[Any]) -> np.ndarray:
    if not len(arrays[0]):
        return np.empty(0, dtype=object)
    # Lists of Python ints go in as object arrays, element by element: numpy's own conversion of a list turns
    # ints past int64 into uint64 or float64 (by the values seen), and the exact rules need the ints.
    columns = []
    for a in arrays:
        if isinstance(a, np.ndarray):
            columns.append(a)
        else:
            column = np.empty(len(a), dtype=object)
            column[:] = a
            columns.append(column)
    return np.frompyfunc(fn, len(columns), 1)(*columns).astype(object)


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
