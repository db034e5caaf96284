"""The Ray engine of :func:`~skewless.training.build.build_dataset`: the same build, partitioned, bitwise equal.

``build_dataset(..., engine="ray")`` (``skewless build --engine ray [--address HOST:PORT]``) runs the
build's passes over the rows as Ray tasks, one per **partition** of the source, and merges their
results on the driver. What makes the result equal to the single-machine build, bit for bit:

* **Partitions are contiguous row ranges of the source** (``partition i`` = rows ``[a_i, a_{i+1})``
  of the files in order). A task reads its range itself with the build's own polars scan
  (``_scan(...).slice(a, n)``: parquet slice push-down reads only the row groups it needs), so
  nothing is shipped through the object store and a row's position in the source — what random
  splits and out-of-fold folds hash — is its global position.
* **Row-level work is the same compiled polars plan per partition**: checks, the split, the
  features of every split (``transform``), written by each task as its own parquet files.
* **Everything learned is an exact, mergeable reduction** (:mod:`skewless.exact`): the row checks
  and split counts are integer sums, the fitted state comes from ``fit(..., partials=...)``
  (every aggregation of a fitting :class:`~skewless.fitting.plan.Plan` is an integer count, an
  order-key extreme or a table of integer sums, merged exactly), and the training rows'
  out-of-fold target encodings from :class:`~skewless.fitting.fitted_set.OutOfFold` (partial cell
  sums per partition, merged on the driver, applied per partition). The single-machine build uses
  the same reductions, so the fitted artifact is the same bytes whatever the partitioning.
* **Lookups (entity-keyed features) are joined per partition**: a point-in-time lookup of a row reads
  only its own key's table rows up to its own time, so a partition never needs another partition's
  rows — only the table rows its keys can read. A first pass gives each partition's keys (and, per key,
  its first and last request time); the driver cuts each entity table down to the rows those requests
  can read (:func:`_readable_rows`: a key's rows in ``[lo, hi]`` and its newest row before ``lo``, or
  ``[lo - tolerance, hi]``) and puts them in the object store for that partition, whose tasks run the
  same ``join_lookups`` as one machine (rows back in their order). No source row moves; the shipped
  table rows are recorded in ``build.json`` (``engine.entity_rows_shipped``).
* **Windows are computed per partition** the same way: a window of a row reads only its own key's events
  up to its own time, so the same first pass gives, per window entity, each key's first and last request
  time; the driver reads and checks the event sources as one machine does, and cuts them to the events
  those requests can read (:func:`_readable_events`: a key's events in ``[lo - longest period, hi]``, all up
  to ``hi`` for a lifetime window); each partition runs the single machine's ``FeatureWindows.join`` over
  them, once (stage ``join``: its joined rows are written next to the output and read back by every later
  stage). Window aggregates are exact, so a value depends only on the events in its window.
  ``build.json``: ``engine.event_rows_shipped``; ``golden_events.json`` comes from every event, on the driver.
* The golden inputs: one streaming pass of the driver over the test period; with lookups or windows (whose
  columns exist in the partitions only) they are taken per partition at their positions in the test period
  (counted first), so they are the single-machine build's rows either way. ``stats.json`` is merged from partial statistics that
  each write task computes over the files it wrote (``build._split_partial``: integer counts,
  order-key extremes, exact moment pieces, value counts, and its share of the quantile sample — the
  rows at multiples of the sample step of the whole split); the single-machine build merges one such
  partial of each split, so the file is the same bytes.

* **A stratified split** ranks each row within its label class over the whole source: the cut keys of
  each class are found exactly from the partitions (:func:`_strata`) and every partition splits its own
  rows against them.
* **Sources**: parquet files are read by row range; a DataFrame is split into the object store; CSV
  files and LazyFrames (which cannot be read by row range) are streamed once by the driver into parquet
  files next to the output, read by row range, and removed at the end.

On the driver: merging (the quantiles of the merged sample, at most ``quantile_rows`` rows per split),
``build.json``, and staging a CSV / LazyFrame source (one streaming pass).

Failures: a worker that dies is retried (``max_retries``; every task is idempotent — a write task
writes hidden staging files and renames them, a retried attempt's leftovers are removed), an error
in a task stops the build with its message; either way the output directory is written atomically
(a hidden temporary directory renamed at the end), so no half-written build looks complete. An
unreachable ``address`` is reported within ``connect_timeout`` seconds. Memory per task is bounded by
``partition_rows``: a source of ``R`` rows gets at least ``ceil(R / partition_rows)`` partitions.

Fault injection (tests): when ``SKEWLESS_RAY_FAULT_DIR`` is set in the workers' environment, a task
of stage ``S`` on partition ``i`` finding the file ``S-i`` there deletes it and kills its own worker
process (``S-i.always``: on every attempt).
"""

from __future__ import annotations

import math
import os
import shutil
import socket
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from skewless.errors import SkewlessError

from . import build as _b
from ._util import atomic_dir, write_json

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

    from skewless.compiled import CompiledFeatureSet
    from skewless.feature_set import FeatureSet
    from skewless.fitting.fitted_set import FittedFeatureSet

__all__ = ["build_on_ray", "connect", "RayEngineError", "DEFAULT_PARTITION_ROWS"]

#: At most this many source rows per partition (the memory bound of one task).
DEFAULT_PARTITION_ROWS = 2_000_000
#: Attempts of a task whose worker died before the build gives up.
MAX_RETRIES = 3
FAULT_DIR = "SKEWLESS_RAY_FAULT_DIR"


class RayEngineError(_b.BuildError):
    """The Ray engine cannot run this build (Ray missing, cluster unreachable, a source it cannot split)."""


# --------------------------------------------------------------------------- connecting


def _probe(address: str, timeout: float) -> None:
    """A TCP connection to ``address`` (``HOST:PORT`` or ``ray://HOST:PORT``) within ``timeout`` seconds."""
    text = address[len("ray://"):] if address.startswith("ray://") else address
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise RayEngineError(f"Ray address {address!r} is not HOST:PORT (e.g. 10.0.0.5:6379, ray://head:10001 or auto)")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            pass
    except OSError as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise RayEngineError(f"cannot reach the Ray cluster at {address!r}: {reason} (within {timeout:g} s); is "
                             f"`ray start --head` running there and the port open?") from None


def connect(address: str | None = None, *, num_cpus: int | None = None, connect_timeout: float = 5.0) -> Any:
    """The ``ray`` module, connected: to ``address`` (a running cluster; ``"auto"``: the local one
    ``ray start`` began), else to the Ray this process already runs, else to a new local instance."""
    try:
        import ray
    except ImportError:
        raise RayEngineError("engine='ray' needs Ray: pip install 'skewless[ray]' (ray[data])") from None
    if ray.is_initialized():
        return ray
    if address not in (None, "auto", "local"):
        _probe(address, connect_timeout)
    kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
    try:
        if address in (None, "local"):
            ray.init(num_cpus=num_cpus, **kwargs)
        else:
            ray.init(address=address, **kwargs)
    except Exception as exc:  # ConnectionError, a version mismatch, ...
        raise RayEngineError(f"cannot connect to the Ray cluster at {address!r}: {type(exc).__name__}: "
                             f"{str(exc).splitlines()[0] if str(exc) else ''}") from None
    return ray


# --------------------------------------------------------------------------- the job shipped to the tasks


@dataclass
class _Job:
    """What every task needs (shipped once through the object store)."""

    feature_set: "CompiledFeatureSet"  # what build_dataset was given
    source: Any  # paths, or None when the rows are in the object store (``frames``)
    event_time: str
    split_by: str
    cols: Any  # build._Columns
    keep_row: Any
    bounds: list[tuple[int, int]]  # (first row, rows) of each partition
    seed: int = 0
    conditions: dict[str, Any] = field(default_factory=dict)
    random_split: Any = None  # the (split, task) of a random split
    frames: list[Any] = field(default_factory=list)  # object refs of in-memory partitions
    strata: Any = None  # a stratified split: {class: (train cut, valid cut)} (:func:`_stratified_split`)
    fit_label: str | None = _b.LABEL_COLUMN  # what fitted ops learn from (None: a multiclass label)
    lookups: Any = None  # the feature set's Lookups, None without
    tables: list[Any] = field(default_factory=list)  # per partition: a ref of {table: the rows its lookups can read}
    windowed: bool = False  # the feature set's windows are computed (it declares some)
    events: list[Any] = field(default_factory=list)  # per partition: a ref of {source: the events its rows can read}
    joined: str | None = None  # once written: the directory of every partition's joined rows (``part-IIIII.parquet``)
    shuffled: list[Any] = field(default_factory=list)  # the window groups shuffled by entity (ray_shuffle.Group)
    routes: list[Any] = field(default_factory=list)  # per partition: a ref of {group: its keys' buckets}
    bucket_events: list[Any] = field(default_factory=list)  # per bucket: a ref of {group: its keys' events}

    def source_rows(self, i: int, ray: Any = None) -> "pl.LazyFrame":
        """Partition ``i``: its source rows, exactly as the single-machine build scans them."""
        import polars as pl

        first, n = self.bounds[i]
        if self.frames:
            df = _get(ray, self.frames[i])
            lf = df.lazy()
            if self.split_by != "time":
                lf = lf.with_row_index(_b.SOURCE_ROW, offset=first).with_columns(pl.col(_b.SOURCE_ROW).cast(pl.Int64))
            return lf
        _, lf, _, _, _ = _b._read_source(self.feature_set, self.source, self.event_time, self.split_by)
        return lf.slice(first, n)

    @property
    def windows(self) -> Any:
        """The feature set's FeatureWindows when computed, else None (read from the feature set: a FeatureWindows
        does not pickle on its own)."""
        return self.feature_set.windows if self.windowed else None

    @property
    def in_partitions(self) -> bool:
        """Whether some input columns (looked-up, windowed) exist in the partitions only, not on the driver."""
        return self.lookups is not None or self.windows is not None

    def rows(self, i: int, ray: Any = None, pieces: Any = None) -> "pl.LazyFrame":
        """Partition ``i``'s source rows with the lookups' columns joined point in time (``join_lookups``, as on
        one machine, against the table rows this partition's keys can read: :func:`_readable_rows`), then its
        windows (``FeatureWindows.join``, as on one machine, over the events its rows can read:
        :func:`_readable_events`). With windows they are computed once (stage ``join``) and read back after."""
        import polars as pl

        if self.joined is not None:
            return pl.scan_parquet(Path(self.joined) / f"part-{i:05d}.parquet")
        lf = self.source_rows(i, ray)
        if self.lookups is not None:
            from skewless.state.batch import join_lookups

            try:  # collected, as the single-machine build collects its join (the partition is bounded)
                lf = join_lookups(self.lookups, lf, _get(ray, self.tables[i])).collect().lazy()
            except SkewlessError:
                raise
            except Exception as exc:
                raise _b.BuildError(f"joining the entity tables failed: {type(exc).__name__}: {exc}") from None
        if self.windows is not None:
            events = {name: frame.lazy() for name, frame in _get(ray, self.events[i]).items()}
            try:  # build._join_windows' computation, on this partition's rows
                if pieces:  # some groups' values come from the shuffle's buckets (ray_shuffle)
                    from .ray_shuffle import join

                    lf = join(self.windows, lf.collect(), {n: e.collect() for n, e in events.items()}, pieces).lazy()
                else:
                    lf = self.windows.join(lf, events).lazy()
            except SkewlessError:
                raise
            except Exception as exc:
                raise _b.BuildError(f"computing the windows failed: {type(exc).__name__}: {exc}") from None
        return lf

    def test_period(self, i: int, ray: Any = None) -> "pl.LazyFrame":
        """Partition ``i``'s rows the golden inputs are taken from (``build._test_period``)."""
        if self.split_by == "time":
            return _b._test_period(self.rows(i, ray), None, self.cols, "time", self.conditions)  # type: ignore
        return _b._test_period(None, self.base(i, ray), self.cols, self.split_by, self.conditions)  # type: ignore

    def base(self, i: int, ray: Any = None, split: bool = True) -> "pl.LazyFrame":
        """The kept rows of partition ``i``, inputs conformed and the label computed (``build._split_rows``),
        with a random or stratified split's column (unless ``split=False``)."""
        cols = self.cols
        base = self.rows(i, ray).filter(self.keep_row).with_columns(cols.conformed) \
            .with_columns(cols.label_expr.alias(_b.LABEL_COLUMN))
        if self.random_split is not None and split:
            if self.split_by == "stratified":
                return base.with_columns(_stratified_split(self.strata, self.seed))
            fractions, task = self.random_split
            _, _, _, base = _b._random_split(base, fractions, self.split_by, self.seed, task)
        return base

    def split_rows(self, i: int, split: str, ray: Any = None) -> "pl.LazyFrame":
        return self.base(i, ray).filter(self.conditions[split])


# A stratified split ranks each row's hash within its label class over the whole source. A row's rank is
# the number of rows of its class with a smaller (hash, source position) — polars' ordinal rank breaks ties
# by order of occurrence — so the rows of class c in train are those below the key of rank k_a(c), the
# number of ranks j with j / n_c < a (the single-machine rule ``(rank - 1) / len < a`` in IEEE arithmetic).
# The cut keys are found exactly in two passes: counts per (class, top 16 bits of the hash), then the rows
# of the one bucket that holds each cut.
_BUCKET = 1 << 48


def _hash(seed: int) -> "pl.Expr":
    import polars as pl

    return pl.col(_b.SOURCE_ROW).hash(seed)


def _stratified_split(strata: dict[Any, tuple[Any, Any]], seed: int) -> "pl.Expr":
    """The split column (0 train, 1 valid, 2 test) from each class's cut keys ``(hash, position)``."""
    import polars as pl

    u, pos = _hash(seed), pl.col(_b.SOURCE_ROW)

    def below(cut: tuple[int, int] | None) -> "pl.Expr":
        if cut is None:  # every row of the class is below
            return pl.lit(True)
        cu = pl.lit(cut[0], dtype=pl.UInt64)
        return (u < cu) | ((u == cu) & (pos < cut[1]))

    expr: Any = None
    for cls, (cut_a, cut_b) in strata.items():
        part = pl.when(below(cut_a)).then(0).when(below(cut_b)).then(1).otherwise(2)
        is_cls = pl.col(_b.LABEL_COLUMN) == pl.lit(cls)
        expr = pl.when(is_cls).then(part) if expr is None else expr.when(is_cls).then(part)
    return expr.otherwise(2).alias(_b._SPLIT)


def _ranks_below(n: int, q: float) -> int:
    """How many ranks ``j`` in ``[0, n)`` have ``float(j) / float(n) < q`` (the division is monotone in j)."""
    k = min(n, max(0, int(q * n)))
    while k > 0 and float(k - 1) / float(n) >= q:
        k -= 1
    while k < n and float(k) / float(n) < q:
        k += 1
    return k


def _strata_counts(job: "_Job", i: int, ray: Any) -> "pl.DataFrame":
    import polars as pl

    return job.base(i, ray, split=False).select(
        pl.col(_b.LABEL_COLUMN).alias("c"), (_hash(job.seed) // pl.lit(_BUCKET, dtype=pl.UInt64)).alias("b")) \
        .group_by("c", "b").agg(pl.len().cast(pl.Int64).alias("n")).collect(engine="streaming")


def _strata_rows(job: "_Job", i: int, ray: Any, wanted: "pl.DataFrame") -> "pl.DataFrame":
    import polars as pl

    return job.base(i, ray, split=False).select(
        pl.col(_b.LABEL_COLUMN).alias("c"), (_hash(job.seed) // pl.lit(_BUCKET, dtype=pl.UInt64)).alias("b"),
        _hash(job.seed).alias("u"), pl.col(_b.SOURCE_ROW).alias("p")) \
        .join(wanted.lazy(), on=["c", "b"], how="semi").collect(engine="streaming")


def _strata(run: Any, fractions: tuple[float, float]) -> dict[Any, tuple[Any, Any]]:
    """Each class's train and valid cut keys over all partitions (two passes; see above)."""
    import polars as pl

    from skewless.exact import merge_sums

    counts = merge_sums(run("strata_counts"), ["c", "b"])
    wanted: dict[tuple[Any, int], list[tuple[Any, int, int]]] = {}  # (class, bucket) -> (class, which, index)
    out: dict[Any, list[Any]] = {}
    for cls in counts["c"].unique(maintain_order=True).to_list():
        table = counts.filter(pl.col("c") == cls) if cls is not None else counts.filter(pl.col("c").is_null())
        buckets, sizes = table["b"].to_list(), table["n"].to_list()
        n = sum(sizes)
        out[cls] = [None, None]
        for which, q in enumerate(fractions):
            k = _ranks_below(n, q)
            if k == n:
                continue  # every row of the class is below this cut
            before = 0
            for b, size in zip(buckets, sizes):
                if k < before + size:
                    wanted.setdefault((cls, b), []).append((cls, which, k - before))
                    break
                before += size
    if wanted:
        ask = pl.DataFrame({"c": [c for c, _ in wanted], "b": [b for _, b in wanted]},
                           schema={"c": counts.schema["c"], "b": counts.schema["b"]})
        rows = pl.concat(run("strata_rows", ask)).sort("u", "p")
        for (cls, b), picks in wanted.items():
            mine = rows.filter((pl.col("c") == cls) & (pl.col("b") == b))
            for _, which, index in picks:
                out[cls][which] = (int(mine["u"][index]), int(mine["p"][index]))
    return {cls: (a, b) for cls, (a, b) in out.items()}


def _classes(job: "_Job", i: int, ray: Any) -> dict[str, list[str]]:
    """A multiclass label's distinct classes in each split of partition ``i``."""
    import polars as pl

    base = job.base(i, ray)
    return {s: base.filter(c).select(pl.col(_b.LABEL_COLUMN).unique()).collect(engine="streaming")
            .to_series().to_list() for s, c in job.conditions.items()}


def _get(ray: Any, value: Any) -> Any:
    """``value``, fetched from the object store when it is a reference."""
    return ray.get(value) if hasattr(value, "hex") else value


def _fault(stage: str, i: int) -> None:
    """Fault injection for the tests (module docstring): kill this worker process."""
    where = os.environ.get(FAULT_DIR)
    if not where:
        return
    once, always = Path(where) / f"{stage}-{i}", Path(where) / f"{stage}-{i}.always"
    if always.exists():
        os._exit(1)
    try:
        once.unlink()
    except FileNotFoundError:
        return
    os._exit(1)


def _stage(stage: str, job: Any, i: int, *args: Any) -> Any:
    """One task: stage ``stage`` of the build on partition ``i`` (runs in a Ray worker)."""
    import ray

    job = ray.get(job) if hasattr(job, "hex") else job
    _fault(stage, i)
    return _STAGES[stage](job, i, ray, *args)


def _check(job: _Job, i: int, ray: Any, checks: list[Any]) -> dict[str, int]:
    return job.rows(i, ray).select(checks).collect(engine="streaming").row(0, named=True)


def _keys(job: _Job, i: int, ray: Any) -> "pl.DataFrame":
    """Distinct event-time keys of the kept rows and their counts (the cut points of a fraction split)."""
    import polars as pl

    return job.base(i, ray).select(job.cols.key.alias("k")).group_by("k").agg(pl.len().cast(pl.Int64).alias("n")) \
        .collect(engine="streaming")


def _entities(job: _Job, i: int, ray: Any) -> tuple[Any, Any]:
    """What partition ``i`` asks for: per lookup, its distinct keys (named as the table's key columns) and, for
    a time-versioned table, each key's first and last request time (``__lo``, ``__hi``): :func:`_asked`; per
    window declaration and entity, the same of its windows' keys (:func:`_asked_windows`). None without."""
    rows = job.source_rows(i, ray)
    return (_asked(job.lookups, rows) if job.lookups is not None else None,
            _asked_windows(job.windows, rows) if job.windows is not None else None)


def _asked(lookups: Any, lf: "pl.LazyFrame") -> list["pl.DataFrame"]:
    """:func:`_entities` of the rows ``lf``."""
    import polars as pl

    out = []
    for lk in lookups.lookups:
        t = lk.table
        asked = lf.select(*[pl.col(b).alias(k) for b, k in zip(lk.by, t.key)],
                          *([pl.col(lk.on).alias("__on")] if t.versioned else [])).drop_nulls()  # nulls match nothing
        if t.versioned:
            asked = asked.group_by(list(t.key)).agg(pl.col("__on").min().alias("__lo"), pl.col("__on").max().alias("__hi"))
        else:
            asked = asked.unique()
        out.append(asked.collect(engine="streaming"))
    return out


def _asked_windows(windows: Any, lf: "pl.LazyFrame") -> list[list["pl.DataFrame"]]:
    """Per window declaration, per entity of its windows: the distinct keys the rows ``lf`` ask for and each
    key's first and last request time (``__lo``, ``__hi``: the physical microseconds of the declaration's
    request time ``at``, computed as ``FeatureWindows.spines`` computes it); null keys and times ask nothing."""
    import polars as pl

    from skewless.backends.polars.dtypes import to_polars

    df = lf.select(list(windows.request_columns)).collect()
    out = []
    for d, spine in zip(windows.declared, windows.spines(df)):
        src = d.windows.source
        t = pl.col(src.time).cast(to_polars(src.columns[src.time]), strict=True).to_physical().alias("__t")
        out.append([spine.select(*ent.by, t).drop_nulls().group_by(list(ent.by))
                    .agg(pl.col("__t").min().alias("__lo"), pl.col("__t").max().alias("__hi"))
                    for ent in d.windows.entities])
    return out


def _count(job: _Job, i: int, ray: Any) -> dict[str, Any]:
    import polars as pl

    key = job.cols.key
    counted = job.base(i, ray).select(
        *[c.sum().cast(pl.Int64).alias(s) for s, c in job.conditions.items()],
        key.min().alias("min"), key.max().alias("max"),
    ).collect(engine="streaming").row(0, named=True)
    if not job.in_partitions:  # golden inputs come from the driver's one pass over the test period
        return counted
    if job.split_by == "time":  # the test period's rows, labelled or not (where golden inputs are taken from);
        # its condition reads the event time only (conformed as in build._test_period), not the joined columns
        et = job.cols.event_time
        conformed = [e for e in job.cols.conformed if e.meta.output_name() == et]
        period = job.source_rows(i, ray).filter(pl.col(et).is_not_null()).with_columns(conformed) \
            .filter(job.conditions["test"])
        counted["test_period"] = int(period.select(pl.len()).collect(engine="streaming").item())
    else:
        counted["test_period"] = int(counted["test"])
    return counted


def _golden(job: _Job, i: int, ray: Any, offset: int, step: int, n: int, extra: int, columns: list[str],
            nullable: list[str]) -> tuple["pl.DataFrame", "pl.DataFrame | None"]:
    """Partition ``i``'s share of ``build._golden_inputs``: the test-period rows at global positions
    ``0, step, 2*step, ...`` (fewer than ``n`` of them) and its first ``extra`` rows with a null nullable input."""
    import polars as pl

    test = job.test_period(i, ray).select(columns)
    g = pl.col("__golden").cast(pl.Int64) + offset
    spread = test.with_row_index("__golden").filter((g % step == 0) & (g < n * step)).drop("__golden") \
        .collect(engine="streaming")
    nulls = test.filter(pl.any_horizontal([pl.col(c).is_null() for c in nullable])).head(extra).collect() \
        if extra else None
    return spread, nulls


def _join(job: _Job, i: int, ray: Any, target: str, *pieces: Any) -> int:
    """Partition ``i``'s joined rows (:meth:`_Job.rows`: lookups, windows; ``pieces``: the shuffled groups'
    values from every bucket) written once as ``<target>/part-IIIII.parquet`` (every later stage reads them
    back); how many rows."""
    rows = job.rows(i, ray, list(pieces)).collect()
    where = Path(target)
    staging = where / f".part-{i:05d}.tmp-{uuid.uuid4().hex[:8]}.parquet"
    rows.write_parquet(staging)
    _fault("joined", i)  # a worker killed after writing, before publishing its file
    os.replace(staging, where / f"part-{i:05d}.parquet")  # a retried attempt publishes the same name
    return rows.height


def _spine(job: _Job, i: int, ray: Any) -> Any:
    """Partition ``i``'s requests of each shuffled window group, one piece per bucket (``ray_shuffle``)."""
    from .ray_shuffle import spine_pieces

    df = job.source_rows(i, ray).collect()
    out = spine_pieces(job.windows, df, job.bounds[i][0], _get(ray, job.routes[i]), len(job.bounds))
    return out if len(out) > 1 else out[0]


def _bucket(job: _Job, b: int, ray: Any, events: Any, *pieces: Any) -> Any:
    """Bucket ``b``'s window values of the shuffled groups, one piece per partition (``ray_shuffle``)."""
    from .ray_shuffle import bucket_windows

    try:
        out = bucket_windows(job.windows, list(pieces), events, [a for a, _ in job.bounds])
    except SkewlessError:
        raise
    except Exception as exc:
        raise _b.BuildError(f"computing the windows failed: {type(exc).__name__}: {exc}") from None
    return out if len(out) > 1 else out[0]


def _fit(job: _Job, i: int, ray: Any, plan: Any) -> list[Any]:
    from skewless.fitting.plan import training_frame

    return plan.partials(training_frame(job.feature_set.definition, job.split_rows(i, "train", ray), job.fit_label))


def _training(job: _Job, i: int, ray: Any, offset: int) -> "pl.LazyFrame":
    """Partition ``i``'s training rows with their position in the training split (the out-of-fold key)."""
    from skewless.fitting.fitted_set import OutOfFold

    return job.split_rows(i, "train", ray).with_row_index(OutOfFold.position, offset=offset)


def _oof(job: _Job, i: int, ray: Any, transformer: "FittedFeatureSet", offset: int) -> list[Any]:
    from skewless.fitting.fitted_set import OutOfFold

    return OutOfFold(transformer, _b.LABEL_COLUMN).partials(_training(job, i, ray, offset))


def _write(job: _Job, i: int, ray: Any, transformer: "CompiledFeatureSet", split: str, target: str, rows_per_file: int,
           offset: int | None, cells: Any, stats: dict[str, Any]) -> tuple[list[str], dict[str, Any] | None]:
    """The features of partition ``i``'s ``split`` rows, written as ``<target>/part-IIIII-JJJJJ.parquet``, and
    the mergeable statistics of what it wrote (``build._split_partial`` with ``stats``; None when nothing)."""
    import polars as pl

    keep = (job.cols.event_time, _b.LABEL_COLUMN)
    if cells is not None:
        from skewless.fitting.fitted_set import OutOfFold

        out = OutOfFold(transformer, _b.LABEL_COLUMN).apply(_training(job, i, ray, offset), cells, keep)
    elif split == "train":
        out = transformer.transform_training(job.split_rows(i, split, ray), label=job.fit_label, keep=keep)
    else:
        out = transformer.transform(job.split_rows(i, split, ray), keep=keep)
    target_dir = Path(target)
    staging = target_dir / f".part-{i:05d}.tmp-{uuid.uuid4().hex[:8]}"
    written = _sink_parts(out, staging, rows_per_file, f"computing the {split} features failed")
    _fault(f"written-{split}", i)  # a worker killed after writing, before publishing its files
    names = []
    for f in written:
        if pl.scan_parquet(f).select(pl.len()).collect().item() == 0:
            continue  # an empty partition of this split publishes nothing
        name = f"part-{i:05d}-{len(names):05d}.parquet"
        os.replace(f, target_dir / name)  # a retried attempt publishes the same names
        names.append(name)
    shutil.rmtree(staging, ignore_errors=True)
    if not names:
        return names, None
    return names, _b._split_partial(pl.scan_parquet([target_dir / n for n in names]), transformer, job.cols, **stats)


_STAGES: dict[str, Callable[..., Any]] = {"entities": _entities, "check": _check, "keys": _keys,
                                          "strata_counts": _strata_counts, "strata_rows": _strata_rows,
                                          "count": _count, "classes": _classes, "fit": _fit, "oof": _oof,
                                          "write": _write, "golden": _golden, "join": _join,
                                          "spine": _spine, "bucket": _bucket}


# --------------------------------------------------------------------------- the driver


class _Runner:
    """Runs one stage on every partition as Ray tasks and gathers the results in partition order."""

    def __init__(self, ray: Any, job: _Job, max_retries: int):
        self.ray = ray
        self.ref = ray.put(job)
        self.n = len(job.bounds)
        self.task = ray.remote(max_retries=max_retries, retry_exceptions=False)(_stage)

    def submit(self, stage: str, returns: int, per_partition: Callable[[int], tuple]) -> list[list[Any]]:
        """Stage ``stage`` on every partition, not waited for: each task's ``returns`` object references."""
        task = self.task.options(num_returns=returns)
        refs = [task.remote(stage, self.ref, i, *per_partition(i)) for i in range(self.n)]
        return [r if isinstance(r, list) else [r] for r in refs]

    def __call__(self, stage: str, *args: Any, per_partition: Callable[[int], tuple] | None = None) -> list[Any]:
        refs = [self.task.remote(stage, self.ref, i, *(per_partition(i) if per_partition else ()), *args)
                for i in range(self.n)]
        try:
            return self.ray.get(refs)
        except Exception as exc:
            for r in refs:
                self.ray.cancel(r, force=True)
            raise _task_error(stage, exc) from None


def _task_error(stage: str, exc: BaseException) -> SkewlessError:
    """The error of a failed task: its own SkewlessError, or what happened to its worker."""
    import ray.exceptions as rex

    cause = getattr(exc, "cause", None)
    if isinstance(cause, SkewlessError):
        return cause
    if isinstance(exc, (rex.WorkerCrashedError, rex.NodeDiedError, rex.ObjectLostError)) or "died" in str(exc):
        return RayEngineError(f"the Ray build failed in its {stage!r} stage: a worker died and the task failed "
                              f"{MAX_RETRIES + 1} times ({type(exc).__name__}); nothing was written")
    text = str(cause if cause is not None else exc).strip().splitlines()
    return RayEngineError(f"the Ray build failed in its {stage!r} stage: {type(cause or exc).__name__}: "
                          f"{text[-1] if text else ''}")


def _partition_bounds(total: int, partitions: int | None, partition_rows: int, cpus: int) -> list[tuple[int, int]]:
    if partitions is not None and (isinstance(partitions, bool) or not isinstance(partitions, int) or partitions < 1):
        raise RayEngineError(f"partitions must be a positive integer, got {partitions!r}")
    if isinstance(partition_rows, bool) or not isinstance(partition_rows, int) or partition_rows < 1:
        raise RayEngineError(f"partition_rows must be a positive integer, got {partition_rows!r}")
    n = max(partitions or 2 * cpus, math.ceil(total / partition_rows), 1)
    n = min(n, max(total, 1))
    edges = [total * k // n for k in range(n + 1)]
    return [(a, b - a) for a, b in zip(edges, edges[1:])]


def _sources(source: Any, fs: "FeatureSet") -> tuple[Any, list[Any], "pl.LazyFrame | None"]:
    """``(paths, [], None)`` for parquet paths; ``(None, [DataFrame], None)`` for in-memory rows; ``(None, [],
    rows)`` for a source that cannot be read by row range — CSV files, a LazyFrame — to be staged as parquet."""
    import polars as pl

    from skewless.io import CsvSource

    if type(source).__module__.partition(".")[0] in ("pandas", "pyarrow"):
        from skewless.frames import as_polars

        source = as_polars(source, fs)
    if isinstance(source, pl.DataFrame):
        return None, [source], None
    if isinstance(source, pl.LazyFrame):
        return None, [], source
    if isinstance(source, CsvSource):
        return None, [], _b._scan(source, fs)[0]  # CSV files with their options, staged as any CSV
    paths = [source] if isinstance(source, (str, Path)) else source
    if isinstance(paths, (list, tuple)) and all(isinstance(p, (str, Path)) for p in paths):
        if all(str(p).lower().endswith((".parquet", ".pq")) for p in paths):
            return source, [], None
        return None, [], _b._scan(source, fs)[0]  # the build's own CSV scan (declared dtypes)
    raise RayEngineError(f"source must be parquet or CSV paths or globs, or a polars frame, not {type(source).__name__}")


def _sink_parts(rows: "pl.LazyFrame", where: Path, max_rows: int, failed: str) -> list[Path]:
    """``rows`` streamed into parquet files of at most ``max_rows`` rows under ``where``, in row order (a
    failure is a BuildError starting with ``failed``)."""
    import polars as pl

    try:
        rows.sink_parquet(pl.PartitionBy(where, max_rows_per_file=max_rows, approximate_bytes_per_file=None),
                          mkdir=True, engine="streaming")
    except SkewlessError:
        raise
    except Exception as exc:
        raise _b.BuildError(f"{failed}: {type(exc).__name__}: {exc}") from None
    return sorted(where.glob("*.parquet"), key=lambda p: (len(p.name), p.name))


def _stage_source(rows: "pl.LazyFrame", where: Path, partition_rows: int) -> list[str]:
    """``rows`` streamed once into parquet files of at most ``partition_rows`` rows under ``where`` (in order)."""
    return [str(f) for f in _sink_parts(rows, where, partition_rows, "cannot read the source")]


def _cuts_from_keys(keys: "pl.DataFrame", split: tuple[float, float]) -> tuple[int, int]:
    """polars' ``quantile(q, interpolation="lower")`` of the keys: the element at ``floor(q * (n - 1))``."""
    import bisect
    import itertools

    table = keys.sort("k")
    values, upto = table["k"].to_list(), list(itertools.accumulate(table["n"].to_list()))
    n = upto[-1]
    return tuple(int(values[bisect.bisect_right(upto, math.floor(q * (n - 1)))]) for q in split)  # type: ignore


def _golden_inputs(run: _Runner, fs: "FeatureSet", schema: Any, counts: list[dict[str, Any]], rows: int,
                   n: int) -> "pl.DataFrame":
    """``build._golden_inputs`` over the partitions: the same rows (positions in the test period), in order."""
    import polars as pl

    columns = [c for c in fs.inputs if c in schema]
    nullable = [c for c in columns if fs.inputs[c].nullable]
    n = max(0, min(n, rows))
    step = max(1, rows // max(n, 1))
    extra = max(1, n // 8) if nullable and n else 0
    offsets = [0]
    for c in counts:
        offsets.append(offsets[-1] + int(c["test_period"]))
    parts = run("golden", columns, nullable, per_partition=lambda i: (offsets[i], step, n, extra))
    spread = pl.concat([p[0] for p in parts])
    nulls = pl.concat([p[1] for p in parts]).head(extra) if extra else None
    out = pl.concat([spread, nulls]) if nulls is not None and nulls.height else spread
    return out.unique(maintain_order=True)


def _readable_rows(lookups: Any, tables: dict[str, "pl.DataFrame"], asked: list["pl.DataFrame"]) -> dict[str, "pl.DataFrame"]:
    """Each table's rows, in table order, that lookups asking for ``asked`` (:func:`_entities`) can read.

    A point-in-time lookup of key ``k`` at time ``t`` reads the newest row of ``k`` stamped at or before
    ``t`` (the last of its time), so for requests of ``k`` in ``[lo, hi]`` only these rows can be read: those
    stamped in ``[lo, hi]`` and every row stamped at the newest time before ``lo`` — with a ``tolerance``, the
    rows stamped in ``[lo - tolerance, hi]``. A static table: the rows of the asked keys. Dropping the other
    rows (order kept) changes no lookup's answer, so the partition's join equals the single-machine join on
    its rows while only these rows are shipped to it.
    """
    import polars as pl

    out = {}
    for name, t in lookups.tables.items():
        table = tables[name].with_row_index("__pos")
        keys, chosen = list(t.key), []
        for lk, want in zip(lookups.lookups, asked):
            if lk.table.name != name:
                continue
            if not t.versioned:
                chosen.append(table.join(want, on=keys, how="semi").select("__pos"))
                continue
            tm, lo, hi = pl.col(t.time), pl.col("__lo"), pl.col("__hi")
            if lk.tolerance is not None:
                keep = (tm >= lo - lk.tolerance) & (tm <= hi)
            else:
                keep = ((tm >= lo) & (tm <= hi)) | (tm == pl.when(tm < lo).then(tm).max().over(keys))
            chosen.append(table.join(want, on=keys, how="inner").filter(keep).select("__pos"))
        rows = pl.concat(chosen).unique() if chosen else table.head(0).select("__pos")
        out[name] = table.join(rows, on="__pos", how="semi").sort("__pos").drop("__pos")
    return out


_I64_MIN = -(1 << 63)


def _readable_events(windows: Any, events: dict[str, "pl.DataFrame"], asked: list[list["pl.DataFrame"]],
                     skip: Any = ()) -> dict[str, "pl.DataFrame"]:
    """Each event source's events, in their order (the source's columns), that windows asked for ``asked``
    (:func:`_asked_windows`) can read.

    A window of key ``k`` requested at ``t`` holds events of ``k`` stamped at or before ``t`` and no earlier
    than its window start, which is at or after ``t`` minus the entity's longest period counted with calendar
    days as 26 h (``EntityWindows.bound_us``, the bound the online horizon and ``golden_events.json`` use); a
    lifetime window holds every earlier event. So for requests of ``k`` in ``[lo, hi]`` only the events of
    ``k`` stamped in ``[lo - bound, hi]`` (lifetime: ``<= hi``) can be read. Every aggregate is exact (one
    rounding of an exact reduction: :mod:`skewless.windows.batch`), so a window's value depends only on the
    multiset of its events: dropping the others changes no value, and the partition's ``FeatureWindows.join``
    equals the single-machine one on its rows while only these events are shipped to it.

    ``skip``: entity groups (:class:`~skewless.training.ray_shuffle.Group`) whose events are not cut (they are
    shuffled).
    """
    import numpy as np
    import polars as pl

    from skewless.backends.polars.dtypes import to_polars

    from .ray_shuffle import Group

    out = {}
    for k, (d, per) in enumerate(zip(windows.declared, asked)):
        src = d.windows.source
        ev = events[src.name].select(list(src.columns))
        keys = list(dict.fromkeys(k for ent in d.windows.entities for k in ent.by))
        at = ev.select(*keys, pl.col(src.time).cast(to_polars(src.columns[src.time]), strict=True).to_physical()
                       .alias("__t")).with_row_index("__pos")
        chosen = []
        for j, (ent, want) in enumerate(zip(d.windows.entities, per)):
            if Group(k, j) in skip:
                continue
            keep = pl.col("__t") <= pl.col("__hi")
            if not ent.lifetime:
                lo = pl.col("__lo")
                start = pl.when(lo < _I64_MIN + ent.bound_us).then(pl.lit(_I64_MIN)).otherwise(lo - ent.bound_us)
                keep = keep & (pl.col("__t") >= start)
            chosen.append(at.join(want, on=list(ent.by), how="inner").filter(keep).select("__pos"))
        keep = np.zeros(ev.height, dtype=bool)
        for c in chosen:
            keep[c.to_series().to_numpy()] = True
        out[src.name] = ev.filter(pl.Series(keep))
    return out


def _outputs_of_the_partitions(_: Any) -> Any:
    raise RuntimeError("internal: the window outputs exist in the Ray partitions only, not in the driver's plan")


def _partition_columns(lf: "pl.LazyFrame", schema: Any, names: Any) -> "pl.LazyFrame":
    """The driver's lazy plan with the columns ``names`` the partitions compute (of their dtypes in ``schema``):
    the plan gives every schema, and evaluating such a column on the driver fails instead of inventing values."""
    import polars as pl

    return lf.with_columns(pl.int_range(pl.len()).map_batches(_outputs_of_the_partitions, return_dtype=schema[n])
                           .alias(n) for n in names)


def build_on_ray(feature_set: "CompiledFeatureSet", source: Any, out_dir: str | Path, *, label: Any,
                 event_time: str | None, split: tuple[Any, Any], split_by: str, seed: int, task: str | None,
                 overwrite: bool, rows_per_file: int, golden_rows: int, top_k: int, quantile_rows: int,
                 progress: Callable[[str], None] | None, tables: Any = None, events: Any = None,
                 address: str | None = None,
                 partitions: int | None = None,
                 partition_rows: int = DEFAULT_PARTITION_ROWS, connect_timeout: float = 5.0,
                 max_retries: int = MAX_RETRIES) -> _b.BuildResult:
    """:func:`~skewless.training.build.build_dataset` on Ray (module docstring); the same files and state."""
    started = time.perf_counter()
    steps = _b._Steps(progress)
    steps("connecting to Ray")
    ray = connect(address, connect_timeout=connect_timeout)
    steps("reading the source")
    fs, lf, source_info, schema, event_time = _b._read_source(feature_set, source, event_time, split_by)
    paths, frames, unsplittable = _sources(source, fs)
    staging = None
    if unsplittable is not None:  # CSV, a LazyFrame: streamed once into parquet next to the output, then read
        # by row range like any parquet source (the staged rows are the source's rows in order)
        steps("staging the source as parquet")
        staging = Path(out_dir).absolute().parent / f".{Path(out_dir).name}.source-{uuid.uuid4().hex[:8]}"
        try:
            paths = _stage_source(unsplittable, staging, partition_rows)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    try:
        return _build(ray, steps, started, feature_set, fs, lf, source_info, schema, event_time, paths, frames,
                      out_dir, label=label, split=split, split_by=split_by, seed=seed, task=task,
                      overwrite=overwrite, rows_per_file=rows_per_file, golden_rows=golden_rows, top_k=top_k,
                      quantile_rows=quantile_rows, tables=tables, events=events, partitions=partitions,
                      partition_rows=partition_rows, max_retries=max_retries)
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)


def _build(ray: Any, steps: Any, started: float, feature_set: "CompiledFeatureSet", fs: "FeatureSet",
           lf: "pl.LazyFrame", source_info: dict[str, Any], schema: Any, event_time: str, paths: Any,
           frames: list[Any], out_dir: str | Path, *, label: Any, split: tuple[Any, Any], split_by: str, seed: int,
           task: str | None, overwrite: bool, rows_per_file: int, golden_rows: int, top_k: int, quantile_rows: int,
           tables: Any, events: Any, partitions: int | None, partition_rows: int,
           max_retries: int) -> _b.BuildResult:
    """:func:`build_on_ray` once the source can be read by row range (``paths``) or is in memory (``frames``)."""
    import polars as pl

    total = frames[0].height if frames else lf.select(pl.len()).collect().item()
    cpus = int(ray.cluster_resources().get("CPU", 1))
    bounds = _partition_bounds(total, partitions, partition_rows, cpus)
    refs = [ray.put(frames[0].slice(a, n)) for a, n in bounds] if frames else []
    job = _Job(feature_set, paths, event_time, split_by, None, None, bounds, seed, frames=refs)
    lookups, table_lfs, table_info, shipped = fs.lookups, {}, {}, {}
    windows, event_lfs, event_info, events_shipped = feature_set.windows, {}, {}, {}
    if lookups is None and tables:
        raise _b.BuildError(f"feature set {fs.name!r} declares no lookups, but entity tables {sorted(tables)} were given")
    if lookups is not None:  # the entity tables: the rows each partition's keys can read go to that partition
        steps("joining the entity tables (point in time)")
        table_lfs, table_info = _b._entity_frames(feature_set, tables)
        from skewless.state.batch import join_lookups

        try:
            lf = join_lookups(lookups, lf, table_lfs)  # the driver's lazy plan (schemas); checks the tables
            schema = lf.collect_schema()
            held = {name: t.collect() for name, t in table_lfs.items()}
            job.lookups = lookups
        except SkewlessError:
            raise
        except Exception as exc:
            raise _b.BuildError(f"joining the entity tables failed: {type(exc).__name__}: {exc}") from None
    if windows is not None or events:  # the event sources: read and checked as on one machine (the same
        # function, over no source row), held by the driver; the events each partition's rows can read go to it
        empty, schema, event_lfs, event_info = _b._join_windows(feature_set, lf.head(0), events, steps)
        lf = _partition_columns(lf, schema, windows.outputs)
        held_events = {name: e.collect() for name, e in event_lfs.items()}  # in memory already (read once)
        job.windowed = True
    if job.in_partitions:
        asked = _Runner(ray, job, max_retries)("entities")
    if lookups is not None:
        try:
            readable = [_readable_rows(lookups, held, a) for a, _ in asked]
        except SkewlessError:
            raise
        except Exception as exc:
            raise _b.BuildError(f"joining the entity tables failed: {type(exc).__name__}: {exc}") from None
        job.tables = [ray.put(r) for r in readable]
        shipped = {name: {"rows": held[name].height, "rows_per_partition": [r[name].height for r in readable]}
                   for name in held}
        del held, readable
    joined_dir = None
    if windows is not None:
        steps("computing the windows per partition (point in time)")
        from . import ray_shuffle

        windows_asked = [w for _, w in asked]
        job.shuffled = ray_shuffle.choose(windows, held_events, windows_asked, lambda k, skip: sum(
            _readable_events(windows, held_events, w, skip=skip)[windows.declared[k].windows.source.name].height
            for w in windows_asked))
        cuts = [_readable_events(windows, held_events, w, skip=job.shuffled) for w in windows_asked]
        job.events = [ray.put(c) for c in cuts]
        events_shipped = {name: {"rows": held_events[name].height, "rows_per_partition": [c[name].height for c in cuts]}
                          for name in held_events}
        del cuts
        if job.shuffled:
            routes, bucket_events = ray_shuffle.plan(windows, held_events, windows_asked, job.shuffled)
            job.routes = [ray.put(r) for r in routes]
            job.bucket_events = [ray.put(e) for e in bucket_events]
            for g in job.shuffled:  # each event of the group went to one bucket (and the requests there and back)
                w = windows.declared[g.declaration].windows
                events_shipped[w.source.name].setdefault("shuffled_by_entity", []).append(
                    {"entity": g.by(windows), "features": list(w.entities[g.entity].features),
                     "events_per_bucket": [e[g].height for e in bucket_events]})
            del routes, bucket_events
        # computed once per partition and written next to the output (like a staged source); every later stage
        # reads them back
        joined_dir = Path(out_dir).absolute().parent / f".{Path(out_dir).name}.joined-{uuid.uuid4().hex[:8]}"
        joined_dir.mkdir(parents=True)
    try:
        return _build_joined(ray, steps, started, job, feature_set, fs, lf, source_info, schema, event_time, out_dir,
                             joined_dir, label=label, split=split, split_by=split_by, seed=seed, task=task,
                             overwrite=overwrite, rows_per_file=rows_per_file, golden_rows=golden_rows, top_k=top_k,
                             quantile_rows=quantile_rows, max_retries=max_retries, table_lfs=table_lfs,
                             table_info=table_info, shipped=shipped, event_lfs=event_lfs, event_info=event_info,
                             events_shipped=events_shipped, bounds=bounds)
    finally:
        if joined_dir is not None:
            shutil.rmtree(joined_dir, ignore_errors=True)


def _build_joined(ray: Any, steps: Any, started: float, job: _Job, feature_set: "CompiledFeatureSet", fs: "FeatureSet",
                  lf: "pl.LazyFrame", source_info: dict[str, Any], schema: Any, event_time: str, out_dir: str | Path,
                  joined_dir: Path | None, *, label: Any, split: tuple[Any, Any], split_by: str, seed: int,
                  task: str | None, overwrite: bool, rows_per_file: int, golden_rows: int, top_k: int,
                  quantile_rows: int, max_retries: int, table_lfs: dict[str, Any], table_info: dict[str, Any],
                  shipped: dict[str, Any], event_lfs: dict[str, Any], event_info: dict[str, Any],
                  events_shipped: dict[str, Any], bounds: list[tuple[int, int]]) -> _b.BuildResult:
    """:func:`_build` once each partition has what its lookups and windows read."""
    import polars as pl

    from skewless.exact import merge_sums
    from skewless.fitting.fitted_set import FittedFeatureSet, OutOfFold

    lookups, windows = fs.lookups, job.windows
    if joined_dir is not None:  # the windows (and lookups) of each partition, once
        run = _Runner(ray, job, max_retries)
        back: list[list[Any]] = [[] for _ in bounds]  # per partition: its rows' values from every bucket
        if job.shuffled:  # requests to the buckets, values back (ray_shuffle); waited for by the join stage
            n = len(bounds)
            spines = run.submit("spine", n, lambda i: ())
            values = run.submit("bucket", n, lambda b: (job.bucket_events[b], *(spines[i][b] for i in range(n))))
            back = [[values[b][i] for b in range(n)] for i in range(n)]
        joined = run("join", per_partition=lambda i: (str(joined_dir), *back[i]))
        job.bucket_events, job.routes = [], []
        del back
        job.joined, job.events, job.tables = str(joined_dir), [], []
        if sum(joined) != sum(n for _, n in bounds):  # pragma: no cover - a partition is its source rows
            raise _b.BuildError(f"internal: the joined partitions hold {sum(joined)} rows, not {sum(n for _, n in bounds)}")
    steps("checking the inputs")
    cols = _b._check_columns(fs, lf, schema, event_time=event_time, label=label, task=task)
    checks, keep_row = _b._row_checks(fs, cols)
    job.cols, job.keep_row = cols, keep_row
    run = _Runner(ray, job, max_retries)
    checked = run("check", checks)
    facts = {k: sum(int(p[k]) for p in checked) for k in checked[0]}
    _b._judge_rows(fs, cols, facts)

    steps("splitting by time")

    def quantiles(a: float, b: float) -> tuple[int, int]:  # the same lower quantiles, from merged key counts
        return _cuts_from_keys(merge_sums(run("keys"), ["k"]), (a, b))

    base = _b._kept_rows(lf, cols, keep_row)  # the driver's lazy plan of the whole (schemas, golden inputs)
    conditions, info, base = _b._split_conditions(base, cols, split, split_by=split_by, seed=seed, quantiles=quantiles)
    job.conditions = conditions
    if split_by != "time":
        job.random_split = (split, cols.task)
    if split_by == "stratified":
        job.strata = _strata(_Runner(ray, job, max_retries), split)
    run = _Runner(ray, job, max_retries)
    counts = run("count")
    counted = {s: sum(int(c[s]) for c in counts) for s in _b.SPLITS}
    keys = [c[k] for c in counts for k in ("min", "max") if c[k] is not None]
    _b._check_split_counts({**counted, "min": min(keys, default=None), "max": max(keys, default=None)}, info,
                           split_by, facts["kept"], cols)
    driver = _b._Split(split_by, base, {s: base.filter(c) for s, c in conditions.items()}, conditions, counted, info)
    if cols.task == "multiclass":
        seen = run("classes")
        cols.classes = _b._judge_classes({s: sorted({c for p in seen for c in p[s]}) for s in _b.SPLITS}, cols)
    fit_label = job.fit_label = _b._fit_label(feature_set, cols)
    run = _Runner(ray, job, max_retries)

    steps("fitting on the training split")
    definition = feature_set.definition
    if isinstance(feature_set, FittedFeatureSet) or not definition.needs_state:
        transformer = feature_set
    else:
        from skewless.fitting import fit

        empty = pl.DataFrame(schema=driver.frames["train"].collect_schema())  # the schema; the rows: the partitions'
        transformer = fit(definition, empty, label=fit_label, partials=lambda plan: run("fit", plan))
    want = _b._expected_schema(transformer, cols.event_time, cols.et_dtype, cols.out_label_dtype)
    keep = (cols.event_time, _b.LABEL_COLUMN)
    oof_nodes = isinstance(transformer, FittedFeatureSet) and bool(transformer.target_encode_nodes())
    for s, lf_s in driver.frames.items():  # step 5 before writing, on the driver's lazy plans (nothing collected;
        # out-of-fold encodings have the serving encodings' dtype, and the written files are checked again)
        out = (transformer.transform_training(lf_s, label=fit_label, keep=keep) if s == "train" and not oof_nodes
               else transformer.transform(lf_s, keep=keep))
        _b.assert_schema(out.collect_schema(), want, f"the {s} features")
    offsets = [0]  # each partition's first position in the training split (the out-of-fold key)
    for c in counts:
        offsets.append(offsets[-1] + int(c["train"]))
    cells = None
    if oof_nodes:
        steps("out-of-fold target encodings")
        parts = run("oof", per_partition=lambda i: (transformer, offsets[i]))
        cells = OutOfFold(transformer, _b.LABEL_COLUMN).cells(parts)
    with atomic_dir(Path(out_dir), marker=_b.BUILD_FILE, overwrite=overwrite) as tmp:
        files: dict[str, list[str]] = {}
        partials: dict[str, list[dict[str, Any]]] = {}
        from .stats import sample_step

        for s in _b.SPLITS:
            steps(f"writing the {s} split ({counted[s]:,} rows)")
            target = tmp / s
            target.mkdir()
            starts = [0]  # each partition's first position in split s (where its rows fall in the stats' sample)
            for c in counts:
                starts.append(starts[-1] + int(c[s]))
            stats_of = {"top_k": top_k, "step": sample_step(counted[s], quantile_rows), "sketch": s == "train"}
            written = run("write", per_partition=lambda i, s=s, starts=starts, stats_of=stats_of: (
                transformer, s, str(target), rows_per_file, offsets[i] if s == "train" else None,
                cells if s == "train" else None, {**stats_of, "offset": starts[i]}))
            for leftover in target.glob(".part-*"):  # a killed attempt's staging files
                shutil.rmtree(leftover, ignore_errors=True)
            files[s] = sorted(n for names, _ in written for n in names)
            partials[s] = [part for _, part in written if part is not None]
            if not files[s]:  # pragma: no cover - the split was counted non-empty
                raise _b.BuildError(f"internal: the {s} split wrote no file")
            _b.assert_schema(pl.read_parquet_schema(target / files[s][0]), want, f"the written {s} file")
        steps("computing statistics")  # merged from the write tasks' partials (exact, in partition order)
        stats = _b._statistics(tmp, fs, transformer, want, cols, driver, facts, top_k=top_k,
                               quantile_rows=quantile_rows, partials=partials)
        del partials
        write_json(tmp / _b.STATS_FILE, stats, compact_depth=3)
        steps("writing the fitted state and golden inputs")
        fitted_file = _b._write_state(tmp, transformer)
        if not job.in_partitions:  # one streaming pass over the test period (it stops early for the null rows)
            golden = _b._golden(lf, fs, cols, driver, schema, golden_rows)
        else:  # the looked-up / windowed columns exist in the partitions only: each gives its rows at their positions
            golden = _golden_inputs(run, fs, schema, counts, counted["test"], golden_rows)
        golden.write_parquet(tmp / _b.GOLDEN_INPUTS_FILE)
        state_file = _b._golden_state(tmp, fs, golden, table_lfs)
        events_file = _b._golden_events(tmp, fs, golden, event_lfs)  # from every event, as on one machine
        manifest = _b._manifest(tmp, fs, transformer, fitted_file, source_info, cols, driver, stats, want, files)
        if lookups is not None:
            manifest["entity_tables"] = table_info
            manifest["golden_state"] = state_file
        if windows is not None:
            manifest["event_sources"] = event_info
            manifest["golden_events"] = events_file
        manifest["engine"] = {"name": "ray", "ray": ray.__version__, "partitions": len(bounds),
                              "partition_rows": [n for _, n in bounds],
                              **({"entity_rows_shipped": shipped} if shipped else {}),
                              **({"event_rows_shipped": events_shipped} if events_shipped else {})}
        timings = steps.done()
        manifest["timings_seconds"] = timings
        write_json(tmp / _b.BUILD_FILE, manifest)  # written last: its presence marks a complete build
    return _b.BuildResult(Path(out_dir), manifest, stats, transformer, time.perf_counter() - started, timings)
