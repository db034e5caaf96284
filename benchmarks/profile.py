"""Where the time goes when a target is missed (issue 6, part 4).

    .venv/bin/python -m benchmarks.profile row     # generated per-request function (flights), ~1 minute
    .venv/bin/python -m benchmarks.profile batch   # compiled polars pipeline (flights, 10^6 rows), ~2 minutes

``row``: a line profiler distorts a function made of ~100 cheap lines (its
per-line overhead is larger than most lines), so this measures by *ablation*:
each candidate change is applied to the generated source text, the variant is
re-executed with the same globals, asserted to give identical output on every
sample row, and timed call-by-call interleaved with the original. The saving
of each change is reported next to the gap between the generated and the
hand-written function, plus cProfile's count of helper calls per row.
(Variants are valid for this data only, e.g. dropping ``float()`` is exact
while ints stay below 2**53: they size a codegen change, they are not one.)

``batch``: each feature's compiled polars expression against its hand-written
twin at 10^6 rows; the fixed cost of ``fs.transform`` (schema check, expression
compilation); and one compiler change measured on the real expressions (read
the local wall clock once for all ``dt`` accessors of a converted column).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as _dt
import math
import pstats
import random
import re
import statistics
import sys
import time
from typing import Any, Callable

from . import _common as C


# --- per request -------------------------------------------------------------------------------------------


def _variant(fn: Callable, source: str, extra: dict[str, Any]) -> Callable:
    ns = dict(fn.__globals__)
    ns.update(extra)
    exec(compile(source, "<variant>", "exec"), ns)
    return ns[fn.__name__]


def _row_variants(src: str) -> list[tuple[str, Callable[[str], tuple[str, dict[str, Any]]]]]:
    """(description, transform) pairs; a transform maps source text to (new text, extra globals)."""
    from skewless.runtime.convert import datetime_to_epoch_us
    from skewless.runtime.temporal import days_from_civil

    out: list[tuple[str, Callable[[str], tuple[str, dict[str, Any]]]]] = []
    over = re.compile(r"\n\s*if not -9223372036854775808 <= (_t\d+) <= 9223372036854775807: \1 = _wrap64\(\1\)")
    out.append((f"drop the {len(over.findall(src))} Int64 overflow checks", lambda s: (over.sub("", s), {})))
    flt = re.compile(r"float\((in_\w+|_t\d+)\)")
    out.append((f"drop the {len(flt.findall(src))} float() conversions of ints", lambda s: (flt.sub(r"\1", s), {})))
    dup = re.compile(r"\(None if (in_\w+|_t\d+) is None else (float\(\1\)|\1)\)")
    out.append(("drop the repeated null test inside an already guarded expression",
                lambda s: (dup.sub(r"\2", s), {})))

    utc_zi = __import__("zoneinfo").ZoneInfo("UTC")
    epoch_zi = _dt.datetime(1970, 1, 1, tzinfo=utc_zi)
    epoch_utc = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)

    def epoch_us_fast(v):
        # Same tzinfo object on both sides: CPython subtracts without calling utcoffset();
        # exact for UTC only (a shared DST zone would subtract wall clocks).
        tz = v.tzinfo
        if tz is utc_zi:
            td = v - epoch_zi
        elif tz is _dt.timezone.utc:
            td = v - epoch_utc
        else:
            return datetime_to_epoch_us(v)
        return (td.days * 86400 + td.seconds) * 1000000 + td.microseconds

    if "_datetime_to_epoch_us(" in src:
        out.append(("UTC fast path for datetime -> epoch µs on entry",
                    lambda s: (s.replace("_datetime_to_epoch_us(", "_epoch_us_fast("),
                               {"_epoch_us_fast": epoch_us_fast})))

    jan1 = {y: days_from_civil(y, 1, 1) for y in range(1, 10000)}

    def ordinal(s):
        m = re.search(r"(_t\d+) = \(_fromordinal\((_t\d+) \+ 719163\)", s)
        if not m:
            return s, {}
        date_var, days_var = m.groups()
        return s.replace(f"_ordinal_day({date_var})", f"({days_var} - _JAN1[{date_var}.year] + 1)"), {"_JAN1": jan1}

    if "_ordinal_day(" in src:
        out.append(("ordinal_day from the day count and a Jan-1 table (no helper call)", ordinal))

    if "_str_to_int(" in src:
        from skewless.runtime.casts import str_to_int as slow  # type: ignore[attr-defined]

        def str_to_int_fast(value):
            if value.isascii() and value.isdigit() and len(value) < 19:
                return int(value)
            return slow(value)

        out.append(("ASCII-digits fast path in String -> Int64 (after str.extract)",
                    lambda s: (s.replace("_str_to_int(", "_str_to_int_fast("), {"_str_to_int_fast": str_to_int_fast})))
    rnd = re.compile(r"_round_half_even\(([^()]*)\)")
    if rnd.search(src):
        out.append(("round_half_even inlined as float(round(x)) (finite positive values)",
                    lambda s: (rnd.sub(r"float(round(\1))", s), {})))
    l1p = re.compile(r"_log1p\(((?:float\()?(?:in_\w+|_t\d+)\)?)\)")
    if l1p.search(src):
        out.append((f"log1p inlined: math.log1p(x) if x > -1.0 else helper ({len(l1p.findall(src))} calls)",
                    lambda s: (l1p.sub(r"(_math_log1p(\1) if \1 > -1.0 else _log1p(\1))", s),
                               {"_math_log1p": math.log1p})))
    joins = re.compile(r"('[^'\\]*')\.join\(\((\w+), (\w+),\)\)")
    if joins.search(src):
        out.append(("two-part concat_str as a + sep + b", lambda s: (joins.sub(r"\2 + \1 + \3", s), {})))
    return out


def _pair(a: Callable, b: Callable, rows: list, reps: int) -> tuple[float, float]:
    from .per_request import time_interleaved

    ma, mb = [], []
    for rep in range(reps):
        shuffled = rows[:]
        random.Random(rep).shuffle(shuffled)
        ta, tb = time_interleaved([a, b], shuffled)
        ma.append(C.median(ta) / 1000)
        mb.append(C.median(tb) / 1000)
    return C.median(ma), C.median(mb)


def profile_row(n_rows: int, reps: int) -> None:
    from skewless.definitions.flights import flights

    from .handwritten import hand_flights_row
    from .per_request import flights_rows

    fn = flights.row_fn
    src = flights.python_source()
    rows = flights_rows(n_rows)
    n_lines = sum(1 for ln in src.splitlines() if ln.startswith("    ") and not ln.strip().startswith("#"))
    print(f"generated function: {n_lines} body lines for {len(flights.features)} features")

    prof = cProfile.Profile()
    prof.enable()
    for r in rows:
        fn(r)
    prof.disable()
    st = pstats.Stats(prof)
    print(f"\nhelper calls per row (cProfile, {len(rows)} rows; times inflated by the profiler):")
    items = sorted(st.stats.items(), key=lambda kv: -kv[1][2])  # type: ignore[attr-defined]
    for (file, line, name), (cc, nc, tt, ct, _callers) in items[:14]:
        if name == fn.__name__:
            continue
        print(f"   {nc / len(rows):5.2f}/row  {tt / nc * 1e9:7.0f} ns/call own  {name}  ({file.rsplit('/', 1)[-1]})")

    gen, hand = _pair(fn, hand_flights_row, rows, reps)
    gap = gen - hand
    print(f"\ngenerated {gen:.2f} µs vs hand-written {hand:.2f} µs: ratio {gen / hand:.3f}x, gap {gap:.2f} µs "
          f"(the 1.2x target needs <= {1.2 * hand:.2f} µs)")
    print("\nablation (each variant alone vs the original, interleaved call by call):")
    total = 0.0
    combined, all_extra = src, {}
    for name, transform in _row_variants(src):
        vsrc, extra = transform(src)
        v = _variant(fn, vsrc, extra)
        for r in rows:
            diff = C.same_dict(fn(r), v(r))
            if diff:
                raise SystemExit(f"variant {name!r} changes {diff[:3]} on {r}")
        base, var = _pair(fn, v, rows, reps)
        saved = base - var
        total += saved
        print(f"   {saved * 1000:+6.0f} ns  ({saved / gap * 100 if gap > 0 else 0:5.1f}% of the gap)  {name}", flush=True)
        combined, more = transform(combined)
        all_extra.update(more)
    v_all = _variant(fn, combined, all_extra)
    for r in rows:
        if C.same_dict(fn(r), v_all(r)):
            raise SystemExit("the combined variant changes the output")
    base, var = _pair(fn, v_all, rows, reps)
    gen2, hand2 = _pair(v_all, hand_flights_row, rows, reps)
    print(f"   {(base - var) * 1000:+6.0f} ns  all of the above together (sum of the parts {total * 1000:+.0f} ns); "
          f"variant / hand-written = {gen2 / hand2:.3f}x")


# --- batch -------------------------------------------------------------------------------------------------


def _median_ms(f: Callable[[], Any], reps: int) -> float:
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts) * 1e3


def _rotated_ms(fns: list[Callable[[], Any]], reps: int) -> list[float]:
    """Median ms of each function, called in rotating order within each repetition."""
    times: list[list[float]] = [[] for _ in fns]
    for rep in range(reps):
        for j in range(len(fns)):
            k = (rep + j) % len(fns)
            times[k].append(_median_ms(fns[k], 1))
    return [statistics.median(t) for t in times]


def profile_batch(n: int, reps: int) -> None:
    import polars as pl

    from skewless.definitions.flights import flights

    from .batch import base_frame, resample
    from .handwritten import hand_flights_exprs

    df = resample(base_frame(), n, seed=1)
    lf = df.lazy()
    comp = flights.polars_exprs()
    hand = {e.meta.output_name(): e for e in hand_flights_exprs()}
    hand_all = list(hand.values())

    def run(exprs):
        return lambda: lf.select(exprs).collect(engine="streaming")

    run(hand_all)()
    t_build = _median_ms(lambda: flights.transform(lf), 20)
    t_comp, t_pipe, t_hand = _rotated_ms([
        lambda: lf.select(list(flights.polars_exprs().values())).collect(engine="streaming"),
        lambda: flights.transform(lf).collect(engine="streaming"),
        run(hand_all),
    ], reps)
    print(f"{n:,} rows, medians of {reps} (the three runs rotate within each repetition):")
    print(f"   fs.transform(lf) build alone (schema check + compile_exprs): {t_build:.2f} ms")
    print(f"   compiled exprs, select+collect:   {t_comp:8.1f} ms")
    print(f"   fs.transform(...).collect():      {t_pipe:8.1f} ms")
    print(f"   hand-written exprs:               {t_hand:8.1f} ms   (pipeline / hand = {t_pipe / t_hand:.3f}x)")

    print("\nper feature, alone (compiled vs hand-written, timed back to back), sorted by cost:")
    rows = []
    for k, e in comp.items():
        ta, tb, ratios = [], [], []
        for rep in range(reps):
            x, y = _rotated_ms([run([e]), run([hand[k]])] if rep % 2 == 0 else [run([hand[k]]), run([e])], 1)
            a, b = (x, y) if rep % 2 == 0 else (y, x)
            ta.append(a)
            tb.append(b)
            ratios.append(a / b)
        rows.append((statistics.median(ta), statistics.median(tb), statistics.median(ratios), k))
    for a, b, r, k in sorted(rows, reverse=True):
        print(f"   {k:25s} {a:8.1f} ms  hand {b:8.1f} ms  ({r:.2f}x)")

    # A compiler change, measured: dt accessors on a tz-aware column look the zone up per value per
    # accessor; reading them off the local wall clock (replace_time_zone(None), computed once) gives
    # the same fields.
    aware = pl.col("time_hour").dt.convert_time_zone("America/New_York")
    naive = aware.dt.replace_time_zone(None)

    def fields(x):
        return [getattr(x.dt, f)().cast(pl.Int64).alias(f) for f in
                ("hour", "weekday", "month", "quarter", "ordinal_day", "week")]

    a_out = lf.select(fields(aware)).collect()
    n_out = lf.select(fields(naive)).collect()
    assert a_out.equals(n_out)
    ta, tn = _rotated_ms([run(fields(aware)), run(fields(naive))], reps)
    print(f"\nsix dt accessors of convert_time_zone(...): on the aware column {ta:.1f} ms, "
          f"on its wall clock (replace_time_zone(None), once) {tn:.1f} ms (identical output)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["row", "batch"])
    ap.add_argument("--rows", type=int, default=None)
    ap.add_argument("--reps", type=int, default=None)
    args = ap.parse_args(argv)
    C.print_machine(C.machine_info())
    if args.what == "row":
        profile_row(args.rows or 3000, args.reps or 7)
    else:
        profile_batch(args.rows or 10**6, args.reps or 5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
