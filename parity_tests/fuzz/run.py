"""The fuzz loop: draw feature sets, check them, shrink and classify what differs, count everything.

Oracles, for every accepted feature set on random rows (edge values half the time):

* **parity** — :func:`skewless.parity.check_parity` on the rows: the batch pipeline in
  memory, with the streaming engine and on one-row frames, against the generated
  per-request function (dtypes, values bitwise, errors on both sides or neither);
* **mirror** — skewless' batch column against the same expression written in raw
  polars (:mod:`.mirror`), on the same multi-row frame.

Outcome kinds: ``refusal`` (a :class:`~skewless.errors.SkewlessError` at definition
time, counted by kind — never a finding), ``mismatch`` (the parity oracle failed),
``crash`` (an internal exception anywhere: the API, a compiler, a runtime helper
when the batch did not raise, ``check_parity`` itself, a warning from the generated
code) and ``mirror``. Every finding is shrunk to one feature, the fewest rows and
the smallest sub-expression that still shows it, then deduplicated by
``(kind, where, ops of the shrunk expression)``.
"""

from __future__ import annotations

import random
import time
import traceback
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

from skewless import Expr, FeatureSet
from skewless.dtypes import Int64
from skewless.errors import SkewlessError
from skewless.ir.base import OPS, Column, Literal, Node, render, walk
from skewless.ir.fitted import FittedOp
from skewless.parity import check_parity, same_value

from . import mirror as mirror_mod
from .grammar import Generator, Typed, productions, refusal_kind
from .schema import SCHEMA, random_rows

ROW_COUNTS = (1, 2, 2, 3, 4, 6, 8, 12)


@dataclass
class Finding:
    kind: str  # "mismatch", "crash" or "mirror"
    where: str
    detail: str
    expr: str = ""
    rows: list[dict[str, Any]] = field(default_factory=list)
    ops: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()

    def key(self) -> tuple:
        return (self.kind, self.where, self.ops)

    def __str__(self) -> str:
        rows = [{k: r[k] for k in self.columns if k in r} for r in self.rows]
        return f"[{self.kind}] {self.where}: {self.detail}\n    feature: {self.expr}\n    rows: {rows!r}"


@dataclass
class Stats:
    seed: int
    expressions: int = 0
    feature_sets: int = 0
    accepted_sets: int = 0
    rows: int = 0
    values: int = 0
    both_raised: int = 0
    mirror_compared: int = 0
    mirror_deviation: Counter = field(default_factory=Counter)
    mirror_missing: Counter = field(default_factory=Counter)
    refusals: Counter = field(default_factory=Counter)
    ops: Counter = field(default_factory=Counter)
    pairs: Counter = field(default_factory=Counter)
    productions: Counter = field(default_factory=Counter)
    findings: dict[tuple, Finding] = field(default_factory=dict)
    finding_counts: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    def distinct(self, kind: str | None = None) -> list[Finding]:
        return [f for f in self.findings.values() if kind is None or f.kind == kind]


# --------------------------------------------------------------------------- oracles


def _ops(node: Node) -> tuple[str, ...]:
    return tuple(sorted({type(n).__name__ for n in walk(node) if not isinstance(n, (Column, Literal))}))


def _has_fitted(fs: FeatureSet) -> bool:
    return any(isinstance(n, FittedOp) for f in fs.features.values() for n in walk(f.node))


def _exc(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()[-1][:300]


def pl_errors() -> tuple[type[BaseException], ...]:
    import polars as pl

    return (pl.exceptions.InvalidOperationError, pl.exceptions.ComputeError)


def _where_internal(exc: BaseException) -> str:
    tb = traceback.extract_tb(exc.__traceback__)
    inner = [f for f in tb if "/skewless/" in f.filename.replace("\\", "/") or "/features/" in f.filename]
    frame = inner[-1] if inner else (tb[-1] if tb else None)
    return f"{frame.filename.rsplit('/', 2)[-2]}/{frame.filename.rsplit('/', 1)[-1]}:{frame.name}" if frame else "?"


def check(fs: FeatureSet, rows: list[dict[str, Any]], stats: Stats | None = None,
          originals: dict[str, Node] | None = None) -> list[Finding]:
    """Every finding of ``fs`` on ``rows`` (both oracles); ``stats`` counts what was compared.

    ``originals``: each feature's expression as written (before skewless normalises it), which the
    mirror oracle spells in raw polars; by default the normalised ones."""
    out: list[Finding] = []
    if _has_fitted(fs):
        originals = None  # the lowered expressions are the ones to mirror
        from skewless.fitting import fit

        try:
            fs = fit(fs, rows, label="f").lowered
            if stats is not None:  # the ops fitted ops lower to (OneHotColumns, MapValues, ...)
                for feat in fs.features.values():
                    for n in walk(feat.node):
                        if not stats.ops.get(type(n).__name__):
                            stats.ops[type(n).__name__] += 1
        except SkewlessError as exc:
            if stats is not None:
                stats.refusals[refusal_kind("fit", exc)] += 1
            return []
        except pl_errors() as exc:  # the training rows fail a strict cast: a data error, as in batch
            if stats is not None:
                stats.refusals[refusal_kind("fit (polars raised on the rows)", exc)] += 1
            return []
        except Exception as exc:
            return [Finding("crash", f"fit: {_where_internal(exc)}", _exc(exc))]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            fs.compile_python()
    except Exception as exc:
        return [Finding("crash", f"per-request compiler: {_where_internal(exc)}", _exc(exc))]
    try:
        report = check_parity(fs, rows, single_row_frames=True, expect_error=True)
    except Exception as exc:
        return [Finding("crash", f"check_parity: {_where_internal(exc)}", _exc(exc))]
    if report.tz_differences and not (report.mismatch_counts or report.engine_differences or report.errors
                                      or report.dtype_errors):
        return [Finding("tzdb", "parity", "; ".join(report.tz_differences)[:300])]
    range_only = (report.errors and not report.mismatch_counts and not report.engine_differences
                  and not report.dtype_errors and all("can hold (" in e for e in report.errors))
    if not report.ok and range_only and stats is not None:
        # a temporal result polars holds but a Python date/datetime/timedelta cannot (year 10000 after Date + Duration):
        # the per-request function raises naming it -- the documented PythonRange deviation
        stats.mirror_deviation["PythonRange"] += 1
    elif not report.ok and range_only:
        pass
    elif not report.ok:
        crash = [e for e in report.errors if "per-request raised" in e and "InvalidOperationError" not in e]
        kind = "crash" if crash else "mismatch"
        lines = report.summary().splitlines()[1:]
        out.append(Finding(kind, "parity", " | ".join(x.strip() for x in lines)[:600]))
    elif report.batch_error is not None and stats is not None:
        stats.both_raised += 1
    if report.batch_error is None and len(rows) >= 2:
        out += _mirror(fs, rows, stats, originals or {})
    return out


def _mirror(fs: FeatureSet, rows: list[dict[str, Any]], stats: Stats | None,
            originals: dict[str, Node]) -> list[Finding]:
    import polars as pl

    from skewless.backends.polars.dtypes import to_polars

    df = pl.DataFrame(rows, schema={k: to_polars(v.field().dtype) for k, v in SCHEMA.items()}, orient="row")
    batch = fs.transform(df.lazy()).collect()
    out = []
    for name, feat in fs.features.items():
        node = originals.get(name, feat.node)
        dev = mirror_mod.deviation(node)
        if dev is not None:
            if stats is not None:
                stats.mirror_deviation[dev] += 1
            continue
        try:
            expr = mirror_mod.mirror(node, fs._fields)
        except mirror_mod.NoMirror as exc:
            if stats is not None:
                stats.mirror_missing[str(exc)] += 1
            continue
        null_operand = mirror_mod.has_null_operand(node, fs._fields)
        try:
            # with_columns broadcasts a scalar-valued expression to the frame's height, as a feature is
            if null_operand:
                # polars' optimizer rewrites logic over an untyped null into other values than the expression
                # gives as written (see mirror.DEVIATIONS["NullOperand"]): compare with the unoptimized query
                raw_series = _as_written(df, expr)
            else:
                raw_series = _raw_polars(df, expr)
        except Exception as exc:
            if null_operand:
                if stats is not None:
                    stats.mirror_deviation["NullOperand"] += 1
                continue
            out.append(Finding("mirror", "raw polars raised", _exc(exc)))
            continue
        raw, want, dtype = _values(raw_series, batch[name], feat.dtype)
        bad = [i for i, (a, b) in enumerate(zip(want, raw)) if not _mirror_same(b, a, dtype)]
        if stats is not None:
            stats.mirror_compared += 1
        if bad or len(raw) != len(want):
            i = bad[0] if bad else 0
            out.append(Finding("mirror", "skewless batch != raw polars",
                               f"row {i}: skewless {want[i] if want else None!r}, polars {raw[i] if raw else None!r}"))
    _ = pl
    return out


def _values(raw: Any, want: Any, dtype: Any) -> tuple[list, list, Any]:
    """The two series' values to compare, and their skewless dtype: polars' integers for temporals of one dtype
    on both sides (a duration past timedelta's range makes polars PANIC converting it) and for dates/datetimes
    Python cannot hold (year 0 or 10000); Python values otherwise."""
    if not (raw.dtype == want.dtype and raw.dtype.is_temporal()):
        try:
            return raw.to_list(), want.to_list(), dtype
        except (OverflowError, ValueError):
            pass
    return raw.to_physical().to_list(), want.to_physical().to_list(), Int64()


def _as_written(df: Any, expr: Any) -> Any:
    """``expr`` on ``df`` in raw polars without the expression optimizer, as polars' eager ``with_columns`` runs
    it (``QueryOptFlags._eager()``) but for ``simplify_expression``. Not ``QueryOptFlags.none()`` on the lazy
    engine: that engine cuts a frame of 2 or 3 rows into one-row pieces, and polars divides a one-row piece by a
    scalar exactly but a longer one by its reciprocal (``x * (1 / k)``), so the lazy unoptimized ``x / k`` gives
    the exact quotient on 2-row frames and a mix on 3-row ones, where every other engine (eager, optimized lazy
    from 4 rows, the streaming engine on long frames) and skewless (skewless.ir.core.TrueDiv) multiply by the
    reciprocal: measured, found by fuzz seed 31 (min_max_scale's lowered ``(x - min) / range``: 1.0 vs
    0.9999999999999999)."""
    import polars as pl

    flags = pl.QueryOptFlags.none()
    flags._pyoptflags.eager = True  # (polars' private switch, the one its eager DataFrame methods set)
    return df.lazy().with_columns(expr.alias("__mirror__")).collect(optimizations=flags)["__mirror__"]


def _raw_polars(df: Any, expr: Any) -> Any:
    """``expr`` on ``df`` in raw polars. polars 2.1's in-memory engine computes a literal compared with an
    expression it takes for a possible scalar (``lit(True) >= coalesce(lit(True), col("b"))``) as ONE row and
    then refuses to broadcast it; its streaming engine computes every row, so the mirror asks that one (the
    skewless compiler mirrors such comparisons, see skewless.backends.polars.core._comparison)."""
    import polars as pl

    try:
        return df.with_columns(expr.alias("__mirror__"))["__mirror__"]
    except pl.exceptions.InvalidOperationError as exc:
        if "to be broadcasted" not in str(exc):
            raise
        return df.lazy().with_columns(expr.alias("__mirror__")).collect(engine="streaming")["__mirror__"]


def _mirror_same(polars_value: Any, skewless_value: Any, dtype: Any) -> bool:
    # Raw polars may give a narrower integer dtype (Int8 for dt.hour, UInt32 for len_chars): compare values.
    if isinstance(polars_value, bool) != isinstance(skewless_value, bool):
        return False
    return same_value(polars_value, skewless_value, dtype)


# --------------------------------------------------------------------------- shrinking


def _single(expr_node: Node) -> FeatureSet:
    return FeatureSet("fuzz", SCHEMA, {"f0": Expr(expr_node)})


def shrink(fs: FeatureSet, rows: list[dict[str, Any]], finding: Finding, budget: int = 150,
           originals: dict[str, Node] | None = None) -> Finding:
    """The same kind of finding with one feature, the fewest rows and the smallest sub-expression."""
    calls = [0]

    def fails(node: Node, rs: list[dict[str, Any]]) -> Finding | None:
        if calls[0] >= budget:
            return None
        calls[0] += 1
        try:
            cand = _single(node)
        except SkewlessError:
            return None
        except Exception as exc:
            hit = Finding("crash", f"definition: {_where_internal(exc)}", _exc(exc))
            return hit if hit.kind == finding.kind else None
        for f in check(cand, rs, originals={"f0": node}):
            if f.kind == finding.kind and f.where == finding.where:
                return f
        return None

    node, best = None, None
    for name, feat in fs.features.items():
        start = (originals or {}).get(name, feat.node)
        hit = fails(start, rows)
        if hit is not None:
            node, best = start, hit
            break
    if node is None:
        finding.expr = "; ".join(render(f.node) for f in fs.features.values())
        finding.rows = rows
        finding.ops = tuple(sorted({o for f in fs.features.values() for o in _ops(f.node)}))
        finding.columns = tuple(fs.used_inputs())
        return finding
    # rows: a single row if one shows it, else drop rows one at a time
    for r in rows:
        hit = fails(node, [r])
        if hit is not None:
            rows, best = [r], hit
            break
    else:
        i = 0
        while i < len(rows) and len(rows) > 1:
            hit = fails(node, rows[:i] + rows[i + 1:])
            if hit is not None:
                rows, best = rows[:i] + rows[i + 1:], hit
            else:
                i += 1
    # expression: replace a node by one of its operands while the finding stays
    changed = True
    while changed and calls[0] < budget:
        changed = False
        for sub in list(walk(node)):
            for child in sub.children():
                cand = _replace(node, sub, child)
                hit = fails(cand, rows)
                if hit is not None:
                    node, best, changed = cand, hit, True
                    break
            if changed:
                break
    best.expr, best.rows, best.ops = render(node), rows, _ops(node)
    best.columns = tuple(sorted({n.name for n in walk(node) if isinstance(n, Column)}))
    return best


def _replace(root: Node, old: Node, new: Node) -> Node:
    if root is old:
        return new
    return root.map_children(lambda c: _replace(c, old, new))


# --------------------------------------------------------------------------- the loop


def run(seed: int = 0, *, seconds: float | None = None, feature_sets: int | None = None,
        log: Callable[[str], None] | None = None) -> Stats:
    """Fuzz until ``seconds`` have passed or ``feature_sets`` were tried (whichever is given first)."""
    if seconds is None and feature_sets is None:
        raise ValueError("give a time (seconds) or a number of feature sets")
    rng = random.Random(seed)
    gen = Generator(rng, productions())
    stats = Stats(seed)
    started = time.perf_counter()
    crashes_seen = 0
    while True:
        if seconds is not None and time.perf_counter() - started >= seconds:
            break
        if feature_sets is not None and stats.feature_sets >= feature_sets:
            break
        stats.feature_sets += 1
        typed: list[Typed] = [gen.feature() for _ in range(rng.randint(1, 4))]
        stats.expressions += len(typed)
        for prod, text in gen.crashes[crashes_seen:]:
            _record(stats, Finding("crash", f"api {prod}", text), log)
        crashes_seen = len(gen.crashes)
        try:
            fs = FeatureSet("fuzz", SCHEMA, {f"f{i}": t.expr for i, t in enumerate(typed)})
        except SkewlessError as exc:
            stats.refusals[refusal_kind("definition", exc)] += 1
            continue
        except Exception as exc:
            _record(stats, Finding("crash", f"definition: {_where_internal(exc)}", _exc(exc),
                                   expr="; ".join(str(t.expr) for t in typed)), log)
            continue
        stats.accepted_sets += 1
        for feat in fs.features.values():
            for n in walk(feat.node):
                stats.ops[type(n).__name__] += 1
                for c in n.children():
                    stats.pairs[(type(n).__name__, type(c).__name__)] += 1
        rows = random_rows(rng, rng.choice(ROW_COUNTS))
        CURRENT[:] = ["; ".join(f"{n} = {render(f.node)}" for n, f in fs.features.items()), repr(rows)]
        stats.rows += len(rows)
        stats.values += len(rows) * len(fs.features)
        originals = {f"f{i}": t.expr._node for i, t in enumerate(typed)}
        for finding in check(fs, rows, stats, originals):
            stats.finding_counts[finding.kind] += 1
            _record(stats, shrink(fs, rows, finding, originals=originals), log)
    stats.productions = Counter(gen.used)
    stats.refusals.update(gen.refusals)
    stats.seconds = time.perf_counter() - started
    return stats


#: the feature set being checked and its rows (rendered), for the memory guard's report
CURRENT: list[str] = []


def memory_guard(max_rss_bytes: int, interval: float = 0.2) -> None:
    """Start a thread that ends the process (exit 3) when its resident memory passes ``max_rss_bytes``,
    printing the feature set being checked: a generated case that makes polars or the generated code
    allocate without bound is a finding, not a swap storm for the machine (seed 5150 reached 21 GB once)."""
    import os
    import sys
    import threading

    page = os.sysconf("SC_PAGE_SIZE")

    def watch() -> None:
        while True:
            try:
                with open("/proc/self/statm") as fh:
                    rss = int(fh.read().split()[1]) * page
            except OSError:  # not Linux: no guard
                return
            if rss > max_rss_bytes:
                sys.stdout.write(f"[memory] resident memory {rss / 2**30:.1f} GiB > {max_rss_bytes / 2**30:.1f} GiB "
                                 f"while checking:\n    feature set: {CURRENT[:1]}\n    rows: {CURRENT[1:]}\n")
                sys.stdout.flush()
                os._exit(3)
            time.sleep(interval)

    threading.Thread(target=watch, name="fuzz-memory-guard", daemon=True).start()


def _record(stats: Stats, finding: Finding, log: Callable[[str], None] | None) -> None:
    key = finding.key()
    if key not in stats.findings:
        stats.findings[key] = finding
        if log is not None:
            log(str(finding))


# --------------------------------------------------------------------------- report


def coverage(stats: Stats) -> dict[str, Any]:
    """Which ops, op pairs and API productions the run exercised."""
    from skewless.compiler_checks import backends

    # ops a backend declares as a gap are refused at definition time by design: never in an accepted set
    gaps = sorted({op.__name__ for rules in backends().values() for op in getattr(rules, "gaps", {})})
    # ops that declare why they are not drawn (``not_fuzzed``, e.g. Udf: no user function to call)
    not_fuzzed = sorted(n for n, cls in OPS.items() if getattr(cls, "not_fuzzed", None))
    all_ops = sorted(set(OPS) - {"Column", "Literal"} - set(gaps) - set(not_fuzzed))
    missing_ops = [o for o in all_ops if not stats.ops.get(o)]
    # fitted ops are lowered before the backends see them: count them as exercised when drawn
    names = [p.name for p in productions()]
    return {
        "ops": len(all_ops) - len(missing_ops), "ops_total": len(all_ops), "missing_ops": missing_ops,
        "gaps": gaps, "not_fuzzed": not_fuzzed,
        "op_pairs": len(stats.pairs),
        "productions": sum(1 for n in names if stats.productions.get(n)), "productions_total": len(names),
        "missing_productions": [n for n in names if not stats.productions.get(n)],
    }


def report(stats: Stats) -> str:
    cov = coverage(stats)
    kinds = Counter(f.kind for f in stats.findings.values())
    lines = [
        f"fuzz seed {stats.seed}: {stats.seconds:.0f} s, {stats.expressions} expressions, "
        f"{stats.feature_sets} feature sets ({stats.accepted_sets} accepted), {stats.rows} rows, "
        f"{stats.values} feature-row values",
        f"distinct findings: mismatch {kinds['mismatch']}, crash {kinds['crash']}, mirror {kinds['mirror']} "
        f"(before dedup: {dict(stats.finding_counts)})",
        f"both runtimes raised (runtime errors in parity): {stats.both_raised}",
        f"mirror: {stats.mirror_compared} features compared; skipped as documented deviations "
        f"{dict(stats.mirror_deviation)}; no polars spelling {dict(stats.mirror_missing)}",
        f"coverage: ops {cov['ops']}/{cov['ops_total']} (missing {cov['missing_ops']}; declared gaps,"
        f" refused by design: {cov['gaps']}; not fuzzed: {cov['not_fuzzed']}), "
        f"{cov['op_pairs']} distinct op pairs, API productions {cov['productions']}/{cov['productions_total']}"
        f" (missing {cov['missing_productions']})",
        f"refusals: {sum(stats.refusals.values())} in {len(stats.refusals)} kinds; most common:",
    ]
    lines += [f"  {n:6d}  {k}" for k, n in stats.refusals.most_common(12)]
    for f in stats.findings.values():
        lines.append(str(f))
    return "\n".join(lines)
