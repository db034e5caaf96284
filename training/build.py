"""Batch feature builds: raw history -> train / validation / test feature files, fitted state and ``stats.json``.

>>> from skewless.training.build import build_dataset                       # doctest: +SKIP
>>> from skewless.definitions.flights import flights                # doctest: +SKIP
>>> result = build_dataset(flights, "flights.parquet", "out/build",  # doctest: +SKIP
...                        label="arr_delay > 15", event_time="time_hour",
...                        split=("2013-09-01", "2013-11-01"))

What it does, in order (each step fails with a :class:`~skewless.errors.SkewlessError`
naming the column, path or split at fault):

1. **Read** (:func:`_read_source`). ``source`` is a polars ``LazyFrame``/``DataFrame``, a path, a glob
   or a list of them (parquet or CSV, see :func:`skewless.io.scan_data`).
2. **Check the inputs** (:func:`_check_columns`, then :func:`_check_rows` in one
   pass over the rows). Every input the features read is present with its
   declared dtype; the event-time and label columns exist and are temporal /
   boolean-or-numeric; the data has rows; no used input is entirely null; a
   non-nullable input holds no null. Rows without an event time or a label are
   dropped (and counted).
3. **Split by time** (:func:`_split_rows`) on the event-time column: ``train`` = before
   ``train_end``, ``valid`` = ``[train_end, valid_end)``, ``test`` = from
   ``valid_end`` on. ``split`` gives the two cut points (dates, datetimes, ISO
   text) or two row fractions (``(0.7, 0.85)``: cut points at those quantiles
   of the event time). No part may be empty. ``split_by="random"`` or
   ``"stratified"`` splits at random instead (:func:`_random_split`).
4. **Fit on train only** (:func:`_features`, through
   :meth:`~skewless.compiled.CompiledFeatureSet.prepare`): fitted ops (``standardize``,
   ``target_encode``, ...) learn their state from the training rows; the
   training rows' target encodings are out of fold. Validation and test rows
   get the serving transform.
5. **Assert the schema** (:func:`assert_schema`): the output columns (event time, label, then every
   feature) must equal the feature set's declared output schema: names, order,
   dtypes and count, before writing and again on the written files; a
   non-nullable feature must hold no null.
6. **Write** (:func:`_write_splits`, :func:`_statistics`, :func:`_write_state`, :func:`_golden`,
   :func:`_manifest`) each split with the streaming engine (``sink_parquet``, one file
   per ``rows_per_file`` rows) into ``<split>/``, then ``stats.json``, the
   fitted artifact ``fitted.json`` (when anything is fitted), a small sample of
   test inputs ``golden_inputs.parquet`` (for the bundle's golden rows) and
   ``build.json`` (what was built from what). Everything is written into a
   hidden temporary directory next to ``out_dir`` and renamed at the end: a
   directory named ``out_dir`` is always complete.
"""

from __future__ import annotations

import datetime as _dt
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from skewless.errors import SchemaError, SkewlessError

from ._util import atomic_dir, git_info, now_iso, sha256_files, spec_of, versions, write_json

# The stateful inputs' step (lookups and windows) lives in .history; its names stay importable from here
# (training/ray_engine.py reads build._entity_frames and build._golden_state).
from .history import (GOLDEN_STATE_FILE, _entity_frames, _golden_events, _golden_state, _history_frames,  # noqa: F401
                      _join_tables, _join_windows, _table_frame)

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

    from skewless.compiled import CompiledFeatureSet
    from skewless.feature_set import FeatureSet

__all__ = ["build_dataset", "BuildResult", "BuildError", "read_build", "split_frames", "SPLITS", "LABEL_COLUMN"]

SPLITS = ("train", "valid", "test")
#: Name of the label column in the written files.
LABEL_COLUMN = "label"
BUILD_FILE = "build.json"
STATS_FILE = "stats.json"
FITTED_FILE = "fitted.json"
GOLDEN_INPUTS_FILE = "golden_inputs.parquet"
FORMAT = "skewless.build"
FORMAT_VERSION = 1

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_US = _dt.timedelta(microseconds=1)


class BuildError(SkewlessError, ValueError):
    """A build cannot run on this input: the message names the column, path or split."""


@dataclass
class BuildResult:
    """What :func:`build_dataset` wrote (``out_dir``) and learned."""

    out_dir: Path
    manifest: dict[str, Any]
    stats: dict[str, Any]
    transformer: "CompiledFeatureSet"  # the feature set, prepared (fitted) on the train split
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def rows(self) -> dict[str, int]:
        return {s: self.manifest["rows"][s] for s in SPLITS}

    def split_glob(self, split: str) -> str:
        return str(self.out_dir / split / "*.parquet")


# --------------------------------------------------------------------------- progress


class _Steps:
    """Calls ``progress(step_name)`` at each step and records how long each took."""

    def __init__(self, progress: Callable[[str], None] | None):
        self.progress = progress
        self.timings: dict[str, float] = {}
        self._name: str | None = None
        self._t = time.perf_counter()

    def __call__(self, name: str) -> None:
        self._close()
        self._name, self._t = name, time.perf_counter()
        if self.progress is not None:
            self.progress(name)

    def _close(self) -> None:
        if self._name is not None:
            self.timings[self._name] = round(time.perf_counter() - self._t, 3)
            self._name = None

    def done(self) -> dict[str, float]:
        self._close()
        return self.timings


# --------------------------------------------------------------------------- source and label


def _scan(source: Any, fs: "FeatureSet") -> tuple["pl.LazyFrame", dict[str, Any]]:
    """A LazyFrame over ``source`` and a description of it (paths and their hash)."""
    import glob

    import polars as pl

    from skewless.frames import as_polars, describe_kind
    from skewless.io import CsvSource, is_url, scan_data

    if type(source).__module__.partition(".")[0] in ("pandas", "pyarrow"):
        kind = describe_kind(source)
        source = as_polars(source, fs)  # converted losslessly or refused naming the column
        return source.lazy(), {"kind": kind}
    if isinstance(source, pl.LazyFrame):
        return source, {"kind": "LazyFrame"}
    if isinstance(source, pl.DataFrame):
        return source.lazy(), {"kind": "DataFrame", "rows": source.height}
    if isinstance(source, CsvSource):
        lf = source.scan(fs, columns="all")  # the label and event time are not inputs
        return lf, {"kind": "files", "paths": list(source.paths), "files": source.files(), "csv": source.options()}
    if isinstance(source, (str, Path)):
        sources = [source]
    elif isinstance(source, Sequence) and source and all(isinstance(s, (str, Path)) for s in source):
        sources = list(source)
    else:
        raise BuildError(f"source must be a polars LazyFrame/DataFrame, a path, a glob, a list of paths or a "
                         f"skewless.io.CsvSource, not {type(source).__name__}")
    frames = [scan_data(s, fs, columns="all") for s in sources]  # the label and event time are not inputs
    files: list[str] = []
    for s in sources:
        text = str(s)
        if is_url(s):
            continue  # an object-store URL is recorded by its URL (``paths``), not listed or hashed
        files += sorted(glob.glob(text)) if any(ch in text for ch in "*?[") else [text]
    try:
        lf = frames[0] if len(frames) == 1 else pl.concat(frames, how="vertical")
    except Exception as exc:  # schemas of the files differ
        raise BuildError(f"cannot combine the sources {[str(s) for s in sources]}: {exc}") from None
    return lf, {"kind": "files", "paths": [str(s) for s in sources], "files": files}


# A column, then one comparison: ``arr_delay > 15``, ``species == 'Adelie'``. A column whose name is not an
# identifier is written as is (``Absenteeism time in hours > 8``) or between backticks, exactly
# (`` `Work load Average/day ` > 250``: spaces kept), as in SQL and pandas' query().
_COLUMN = r"\s*(?:`([^`]+)`|([^`<>=!]*[^`<>=!\s]))\s*"
_LABEL_RE = re.compile(rf"^{_COLUMN}(>=|<=|==|!=|>|<)\s*(-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")
_NAME_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*$|^`([^`]+)`$")
# ``species == 'Adelie'``: a column compared with a quoted string (== or != only).
_LABEL_TEXT_RE = re.compile(rf"""^{_COLUMN}(==|!=)\s*(?:'([^']*)'|"([^"]*)")\s*$""")


def _column_text(name: str) -> str:
    """A column as the label's text writes it: parsed back to the same column (backticks unless an identifier)."""
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) else f"`{name}`"


def parse_label(label: Any) -> tuple["pl.Expr", str, list[str]]:
    """``(expression, text, source columns)`` of a label given as a column name, ``"col > 15"`` or a polars expression.

    The text form accepts one comparison of a column with a number
    (``> >= < <= == !=``) or with a quoted string (``species == 'Adelie'``, ``==`` and ``!=``);
    a column whose name is not an identifier is written as it is (``Absenteeism time in hours > 8``) or
    between backticks to keep its spaces exactly; anything else must be a polars expression.

    Examples
    --------
    >>> from skewless.training.build import parse_label
    >>> parse_label("arr_delay > 15")[1:]
    ('arr_delay > 15', ['arr_delay'])
    >>> parse_label("Absenteeism time in hours >= 8")[1:]
    ('`Absenteeism time in hours` >= 8', ['Absenteeism time in hours'])
    >>> parse_label("`Work load Average/day ` > 250.5")[2]
    ['Work load Average/day ']
    """
    import polars as pl

    if isinstance(label, pl.Expr):
        try:
            roots = label.meta.root_names()
        except Exception:  # pragma: no cover
            roots = []
        return label, str(label), list(roots)
    if not isinstance(label, str):
        raise BuildError(f"label must be a column name, a comparison such as 'arr_delay > 15' or a polars "
                         f"expression, not {type(label).__name__}")
    m = _LABEL_RE.match(label)
    if m:
        quoted, plain, op, num = m.groups()
        name = quoted if quoted is not None else plain
        value: float | int = float(num) if any(c in num for c in ".eE") else int(num)
        x = pl.col(name)
        expr = {">": x > value, ">=": x >= value, "<": x < value, "<=": x <= value, "==": x == value,
                "!=": x != value}[op]
        return expr, f"{_column_text(name)} {op} {num}", [name]
    m = _LABEL_TEXT_RE.match(label)
    if m:
        quoted, plain, op, single, double = m.groups()
        name = quoted if quoted is not None else plain
        text = single if single is not None else double
        x = pl.col(name)
        return (x == text) if op == "==" else (x != text), f"{_column_text(name)} {op} {text!r}", [name]
    m = _NAME_RE.match(label)
    if m:
        name = m.group(1) or m.group(2)
        return pl.col(name), name, [name]
    if label.strip() and not any(c in label for c in "`<>=!'\""):
        return pl.col(label), label, [label]  # a column whose name is not an identifier, e.g. with spaces
    raise BuildError(f"cannot read the label {label!r}: write a column name, 'column OP number' "
                     f"(OP one of > >= < <= == !=), \"column == 'text'\" (or !=), or pass a polars expression")


# --------------------------------------------------------------------------- event time and split

#: The event-time column of a build whose data has none: the row's position in the source.
SOURCE_ROW = "source_row"
_SPLIT = "_skewless_split"


def _random_split(base: "pl.LazyFrame", split: Any, split_by: str, seed: int, task: str) -> tuple:
    """``(cuts, split_info, conditions, base)`` of a seeded random or stratified split on row fractions.

    Each row's position in the source is hashed with ``seed`` (polars' ``hash``; stable for a polars
    version, recorded in ``build.json``) into a number in [0, 1); a random split cuts that number at
    the fractions, a stratified one ranks it within each label class and cuts each class at the
    fractions of its own size, so every split keeps the classes' proportions (to a row).
    """
    import polars as pl

    if len(split) != 2 or not all(_is_fraction(v) for v in split):
        raise BuildError(f"a {split_by} split takes two row fractions such as (0.7, 0.85), got {split!r}")
    a, b = split
    if not 0.0 < a < b < 1.0:
        raise BuildError(f"split fractions must satisfy 0 < train < valid < 1, got {split!r}")
    if split_by == "stratified" and task == "regression":
        raise BuildError(f"a stratified split needs class labels (a Boolean or String label); this one is {task}: use "
                         f"split_by='random'")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise BuildError(f"seed must be an integer, got {seed!r}")
    u = pl.col(SOURCE_ROW).hash(seed)
    if split_by == "random":
        position = u.cast(pl.Float64) / 2.0 ** 64
    else:
        position = (u.rank("ordinal").over(LABEL_COLUMN).cast(pl.Float64) - 1.0) / pl.len().over(LABEL_COLUMN)
    assign = pl.when(position < a).then(0).when(position < b).then(1).otherwise(2).alias(_SPLIT)
    base = base.with_columns(assign)
    conditions = {"train": pl.col(_SPLIT) == 0, "valid": pl.col(_SPLIT) == 1, "test": pl.col(_SPLIT) == 2}
    info = {"mode": split_by, "fractions": [a, b], "seed": seed, "hash": f"polars {pl.__version__} hash(seed)",
            "rule": (f"{split_by}: each row's position in the source hashed with seed {seed}; "
                     + ("" if split_by == "random" else "ranked within its label class; ")
                     + f"train below {a}, valid below {b}, test the rest")}
    return None, info, conditions, base



def _time_kind(dtype: Any) -> str | None:
    import polars as pl

    if isinstance(dtype, pl.Datetime):
        return "datetime"
    if dtype == pl.Date:
        return "date"
    if dtype in (pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32):
        return "int"
    return None


def _time_key(expr: "pl.Expr", dtype: Any) -> "pl.Expr":
    """A comparable Int64 of the event time: microseconds since the epoch (instants for zoned datetimes)."""
    import polars as pl

    kind = _time_kind(dtype)
    if kind == "datetime":
        return expr.dt.epoch("us")
    if kind == "date":
        return expr.cast(pl.Int64) * 86_400_000_000
    return expr.cast(pl.Int64)


def _cut_key(value: Any, dtype: Any, event_time: str, what: str) -> int:
    """The time key of a cut point given as a date, datetime, ISO text or (integer event times) an int."""
    from zoneinfo import ZoneInfo

    kind = _time_kind(dtype)
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise BuildError(f"{what} must be an integer: event time {event_time!r} is {dtype}, got {value!r}")
        return value
    if isinstance(value, str):
        try:
            value = _dt.date.fromisoformat(value) if len(value.strip()) == 10 else _dt.datetime.fromisoformat(value)
        except ValueError:
            raise BuildError(f"{what} {value!r} is not an ISO date or datetime (e.g. 2013-09-01 or "
                             f"2013-09-01T00:00:00+00:00)") from None
    if isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        value = _dt.datetime(value.year, value.month, value.day)
    if not isinstance(value, _dt.datetime):
        raise BuildError(f"{what} must be a date, a datetime or ISO text, got {type(value).__name__}")
    zone = getattr(dtype, "time_zone", None)
    if value.tzinfo is None:
        # a naive cut point is read in the column's zone (wall clock for naive columns)
        value = value.replace(tzinfo=ZoneInfo(zone) if zone else _dt.timezone.utc)
    elif kind == "datetime" and zone is None:
        raise BuildError(f"{what} {value.isoformat()} has a time zone but event time {event_time!r} is a naive "
                         f"datetime; give a naive cut point")
    return (value - _EPOCH) // _US


def _key_text(key: int | None, dtype: Any) -> str | None:
    from zoneinfo import ZoneInfo

    if key is None:
        return None
    kind = _time_kind(dtype)
    if kind == "int":
        return str(key)
    instant = _EPOCH + _dt.timedelta(microseconds=key)
    if kind == "date":
        return instant.date().isoformat()
    zone = getattr(dtype, "time_zone", None)
    if zone:
        return instant.astimezone(ZoneInfo(zone)).isoformat()
    return instant.replace(tzinfo=None).isoformat()


def _is_fraction(v: Any) -> bool:
    return isinstance(v, float) and not isinstance(v, bool)


# --------------------------------------------------------------------------- checks


def _expected_schema(transformer: "CompiledFeatureSet", event_time: str, et_dtype: Any, label_dtype: Any) -> dict[str, Any]:
    from skewless.backends.polars.dtypes import to_polars

    out = {event_time: et_dtype, LABEL_COLUMN: label_dtype}
    for name, f in transformer.output_schema().items():
        out[name] = to_polars(f.dtype)
    return out


def assert_schema(got: Any, want: dict[str, Any], where: str) -> None:
    """Raise :class:`SchemaError` naming every column whose name, position or dtype differs (and the counts)."""
    got = dict(got)
    problems = []
    if len(got) != len(want):
        problems.append(f"{len(got)} columns, expected {len(want)}")
    missing = [c for c in want if c not in got]
    extra = [c for c in got if c not in want]
    if missing:
        problems.append(f"missing {missing}")
    if extra:
        problems.append(f"unexpected {extra}")
    for c in want:
        if c in got and got[c] != want[c]:
            problems.append(f"column {c!r} is {got[c]}, declared {want[c]}")
    if not missing and not extra and list(got) != list(want):
        problems.append("the column order differs from the declared one")
    if problems:
        raise SchemaError(f"{where} does not match the feature set's declared output schema: " + "; ".join(problems))


# --------------------------------------------------------------------------- the build


def build_dataset(
    feature_set: "CompiledFeatureSet",
    source: Any,
    out_dir: str | Path,
    *,
    label: Any,
    event_time: str | None,
    split: tuple[Any, Any] = (0.7, 0.85),
    split_by: str = "time",
    seed: int = 0,
    task: str | None = None,
    overwrite: bool = False,
    rows_per_file: int = 5_000_000,
    golden_rows: int = 64,
    top_k: int = 10,
    quantile_rows: int = 1_000_000,
    progress: Callable[[str], None] | None = None,
    tables: Mapping[str, Any] | None = None,
    events: Mapping[str, Any] | None = None,
    window_chunk_events: int = 2_000_000,
    engine: str = "polars",
    **engine_options: Any,
) -> BuildResult:
    """Build train / valid / test feature files from ``source``; see the module docstring.

    Parameters
    ----------
    feature_set : CompiledFeatureSet
        A FeatureSet (with or without fitted ops: fitted on the train split) or a FittedFeatureSet (used as is)
    source : polars LazyFrame or DataFrame, path, glob, or list of paths
    out_dir : directory to create (replaced only with ``overwrite``)
    label : column name, ``"column OP number"`` (e.g. ``"arr_delay > 15"``) or a polars expression
    event_time : column the split is made on (Datetime, Date or integer); ``None`` when the data has no
        event time (then ``split_by`` must be ``"random"`` or ``"stratified"``, and the output's event-time
        column is ``source_row``, the row's position in the source)
    split : ``(train_end, valid_end)`` cut points, or two row fractions such as ``(0.7, 0.85)``
    split_by : ``"time"`` (default: on ``event_time``), ``"random"`` (each row by a seeded hash of its position
        in the source) or ``"stratified"`` (the same, within each label class, so every split has the classes'
        proportions; Boolean labels); the last two take fractions and record ``seed`` in ``build.json``
    seed : the seed of a random or stratified split
    task : ``"binary"`` or ``"regression"``; default: binary for a Boolean label, regression otherwise
    rows_per_file : each split is written as parquet files of at most this many rows
    golden_rows : how many test rows to keep as golden inputs (for the bundle's self-check)
    top_k : how many top values ``stats.json`` lists for text and boolean features
    quantile_rows : quantiles in ``stats.json`` are computed on at most about this many rows per split
        (every k-th row of larger splits), keeping memory bounded
    progress : called with the name of each step as it starts
    tables : the entity tables of the feature set's lookups, by name: a polars frame, a path or glob, or a
        callable returning a frame; a table not given is read from its declared ``EntityTable(source=...)``.
        They are joined point-in-time onto the source rows first (``join_lookups``: never a state stamped
        after a row's time), so every later step sees the looked-up columns as inputs
    events : the event histories of the feature set's windows, by event source name (the same kinds of
        values as ``tables``; a source not given is read from its declared ``Windowed(source=...)``). Each
        source row's windows are computed point in time next (the source rows are the spine: only events
        before a row's position are counted), so every later step sees the window outputs as inputs. A parquet
        path or glob is scanned, never read whole, when the source has more than ``window_chunk_events``
        events
    window_chunk_events : an event source with at most this many events is aggregated in memory
        (:func:`skewless.windows.batch.compute_windows`); a larger one by the bounded writer
        (:func:`skewless.windows.chunked.write_windows`, entity-partitioned chunks of about this many events
        written into the build's temporary directory): peak memory follows this number and the source rows,
        not the events. The same bits either way
    engine : ``"polars"`` (default: this process) or ``"ray"``: the same build on Ray, bitwise equal
        (:mod:`skewless.training.ray_engine`; its options ``address``, ``partitions``, ``partition_rows``)

    Returns
    -------
    BuildResult
    """
    if engine != "polars" or engine_options:
        if engine != "ray":
            raise BuildError(f"engine must be 'polars' or 'ray', not {engine!r}"
                             + (f" (options {sorted(engine_options)} are the Ray engine's)" if engine_options else ""))
        from .ray_engine import build_on_ray

        return build_on_ray(feature_set, source, out_dir, label=label, event_time=event_time, split=split,
                            split_by=split_by, seed=seed, task=task, overwrite=overwrite, rows_per_file=rows_per_file,
                            golden_rows=golden_rows, top_k=top_k, quantile_rows=quantile_rows, progress=progress,
                            tables=tables, events=events, **engine_options)
    started = time.perf_counter()
    steps = _Steps(progress)
    steps("reading the source")
    fs, lf, source_info, schema, event_time = _read_source(feature_set, source, event_time, split_by)
    with atomic_dir(Path(out_dir), marker=BUILD_FILE, overwrite=overwrite) as tmp:
        lf, schema, table_frames, table_info = _join_tables(feature_set, lf, tables, steps)
        lf, schema, event_frames, event_info = _join_windows(feature_set, lf, events, steps, work_dir=tmp / ".windows",
                                                             chunk_events=window_chunk_events)
        steps("checking the inputs")
        cols = _check_columns(fs, lf, schema, event_time=event_time, label=label, task=task)
        facts, keep_row = _check_rows(fs, lf, cols)
        steps("splitting by time")
        parts = _split_rows(lf, cols, keep_row, split, split_by=split_by, seed=seed, kept=facts["kept"])
        cols.classes = _classes(parts, cols) if cols.task == "multiclass" else None
        steps("fitting on the training split")
        transformer, want, outputs = _features(feature_set, parts, cols)
        files = _write_splits(tmp, outputs, parts.counted, want, rows_per_file, steps)
        steps("computing statistics")
        stats = _statistics(tmp, fs, transformer, want, cols, parts, facts, top_k=top_k, quantile_rows=quantile_rows)
        write_json(tmp / STATS_FILE, stats, compact_depth=3)
        steps("writing the fitted state and golden inputs")
        fitted_file = _write_state(tmp, transformer)
        golden = _golden(lf, fs, cols, parts, schema, golden_rows)
        golden.write_parquet(tmp / GOLDEN_INPUTS_FILE)
        state_file = _golden_state(tmp, fs, golden, table_frames)
        events_file = _golden_events(tmp, fs, golden, event_frames)
        manifest = _manifest(tmp, fs, transformer, fitted_file, source_info, cols, parts, stats, want, files)
        if fs.lookups is not None:
            manifest["entity_tables"] = table_info
            manifest["golden_state"] = state_file
        if fs.windows is not None:
            manifest["event_sources"] = event_info
            manifest["golden_events"] = events_file
        timings = steps.done()
        manifest["timings_seconds"] = timings
        write_json(tmp / BUILD_FILE, manifest)  # written last: its presence marks a complete build
    return BuildResult(Path(out_dir), manifest, stats, transformer, time.perf_counter() - started, timings)


# --------------------------------------------------------------------------- the steps of a build


def _read_source(feature_set: "CompiledFeatureSet", source: Any, event_time: str | None,
                 split_by: str) -> tuple["FeatureSet", "pl.LazyFrame", dict[str, Any], Any, str]:
    """Step 1: the definition, a LazyFrame over ``source``, a description of the source, its schema and the
    event-time column (``source_row``, the row's position, for a random split of data without one)."""
    import polars as pl

    from skewless.compiled import CompiledFeatureSet

    if not isinstance(feature_set, CompiledFeatureSet):
        raise BuildError(f"feature_set must be a FeatureSet, not {type(feature_set).__name__}")
    fs = feature_set.definition
    lf, source_info = _scan(source, fs)
    if split_by not in ("time", "random", "stratified"):
        raise BuildError(f"split_by must be 'time', 'random' or 'stratified', not {split_by!r}")
    if split_by != "time":
        # the row's position in the source: what a random split hashes (and the event time when there is none)
        lf = lf.with_row_index(SOURCE_ROW).with_columns(pl.col(SOURCE_ROW).cast(pl.Int64))
    if event_time is None:
        if split_by == "time":
            raise BuildError("a time split needs event_time=...; without an event-time column use "
                             "split_by='random' or 'stratified'")
        event_time = SOURCE_ROW
    try:
        schema = lf.collect_schema()
    except Exception as exc:
        raise BuildError(f"cannot read the source: {exc}") from None
    return fs, lf, source_info, schema, event_time


@dataclass
class _Columns:
    """What step 2 learned about the columns: the event time, the label (as written and as computed), the task."""

    event_time: str
    et_dtype: Any
    label_expr: "pl.Expr"
    label_text: str
    task: str
    out_label_dtype: Any
    conformed: list[Any]  # the used inputs with their declared dtypes
    classes: list[str] | None = None  # multiclass: the training split's class names, sorted (class i -> i)

    @property
    def key(self) -> "pl.Expr":
        """The comparable Int64 time key of the event time."""
        import polars as pl

        return _time_key(pl.col(self.event_time), self.et_dtype)


def _check_columns(fs: "FeatureSet", lf: "pl.LazyFrame", schema: Any, *, event_time: str, label: Any,
                   task: str | None) -> _Columns:
    """Step 2: the event-time and label columns exist and have usable dtypes; the inputs have their declared ones."""
    import polars as pl

    from skewless.backends.polars.compiler import conform_inputs

    if event_time not in schema:
        from skewless.suggest import did_you_mean

        raise SchemaError(f"event-time column {event_time!r} is missing from the data{did_you_mean(event_time, schema)}")
    et_dtype = schema[event_time]
    if _time_kind(et_dtype) is None:
        raise SchemaError(f"event-time column {event_time!r} has dtype {et_dtype}; expected a Datetime, Date or integer")
    label_expr, label_text, label_columns = parse_label(label)
    for c in label_columns:
        if c not in schema:
            from skewless.suggest import did_you_mean

            raise SchemaError(f"label column {c!r} is missing from the data{did_you_mean(c, schema)}")
    try:
        label_dtype = lf.select(label_expr.alias(LABEL_COLUMN)).collect_schema()[LABEL_COLUMN]
    except Exception as exc:
        raise SchemaError(f"the label {label_text!r} cannot be computed on the data: {exc}") from None
    if label_dtype == pl.Boolean:
        task = task or "binary"
    elif label_dtype.is_numeric():
        task = task or "regression"
    elif label_dtype in (pl.String, pl.Categorical) or isinstance(label_dtype, pl.Enum):
        task = task or "multiclass"
    else:
        raise SchemaError(f"the label {label_text!r} has dtype {label_dtype}; expected Boolean (binary), numeric "
                          f"(regression) or String (multiclass)")
    if task not in ("binary", "regression", "multiclass"):
        raise BuildError(f"task must be 'binary', 'regression' or 'multiclass', not {task!r}")
    if task == "multiclass" and (label_dtype == pl.Boolean or label_dtype.is_float()):
        raise SchemaError(f"the label {label_text!r} has dtype {label_dtype}; a multiclass label is a String "
                          f"(or integer) column of class names")
    out_label_dtype = {"binary": pl.Boolean, "regression": pl.Float64, "multiclass": pl.String}[task]
    if task == "binary" and label_dtype != pl.Boolean:
        label_expr = label_expr.cast(pl.Boolean, strict=False)
    elif task == "regression":
        label_expr = label_expr.cast(pl.Float64)
    elif task == "multiclass" and label_dtype != pl.String:
        label_expr = label_expr.cast(pl.String)  # class names are written as text
    conformed = conform_inputs(fs, schema)  # SchemaError naming a missing or mistyped input
    taken = set(fs.output_schema())
    for name in (event_time, LABEL_COLUMN):
        if name in taken:
            raise BuildError(f"output column {name!r} (event time / label) clashes with a feature of the same name")
    if event_time == LABEL_COLUMN:
        raise BuildError(f"the event-time column cannot be called {LABEL_COLUMN!r}")
    return _Columns(event_time, et_dtype, label_expr, label_text, task, out_label_dtype, conformed)


def _check_rows(fs: "FeatureSet", lf: "pl.LazyFrame", cols: _Columns) -> tuple[dict[str, Any], "pl.Expr"]:
    """Step 2 (one pass over the rows): rows, nulls per used input, event-time and label nulls.

    Returns the counts and the condition of the rows kept (an event time and a label, finite for
    regression).
    """
    checks, keep_row = _row_checks(fs, cols)
    try:
        facts = lf.select(checks).collect(engine="streaming").row(0, named=True)
    except Exception as exc:
        raise BuildError(f"cannot read the source: {exc}") from None
    _judge_rows(fs, cols, facts)
    return facts, keep_row


def _row_checks(fs: "FeatureSet", cols: _Columns) -> tuple[list["pl.Expr"], "pl.Expr"]:
    """The integer counts of step 2 (sums: mergeable over partitions) and the condition of the kept rows."""
    import polars as pl

    used = fs.used_inputs()
    et, y = pl.col(cols.event_time), cols.label_expr
    keep_row = et.is_not_null() & y.is_not_null()
    if cols.task == "regression":
        keep_row = keep_row & y.is_finite()
    checks = [
        pl.len().cast(pl.Int64).alias("rows"),
        et.null_count().cast(pl.Int64).alias("et_nulls"),
        y.is_null().sum().cast(pl.Int64).alias("label_nulls"),
        keep_row.sum().cast(pl.Int64).alias("kept"),
        *[(pl.col(c).is_null() & keep_row).sum().cast(pl.Int64).alias(f"nulls:{c}") for c in used],
    ]
    return checks, keep_row


def _judge_rows(fs: "FeatureSet", cols: _Columns, facts: dict[str, Any]) -> None:
    """Step 2's verdict on the counts: no rows, no labelled rows, an all-null input, nulls where none may be."""
    if facts["rows"] == 0:
        raise BuildError("the source has no rows (empty data)")
    if facts["kept"] == 0:
        raise BuildError(f"no row has both an event time ({cols.event_time!r}: {facts['et_nulls']} nulls) and a label "
                         f"({cols.label_text!r}: {facts['label_nulls']} nulls)")
    for c in fs.used_inputs():
        n = facts[f"nulls:{c}"]
        if n == facts["kept"]:
            raise BuildError(f"input column {c!r} is entirely null ({n:,} rows); the features reading it would be "
                             f"constant. Fix the source or drop the features that read {c!r}")
        if n and not fs.inputs[c].nullable:
            raise SchemaError(f"input column {c!r} holds {n:,} nulls but is declared non-nullable; declare it "
                              f"Input(..., nullable=True) or filter those rows")


@dataclass
class _Split:
    """Step 3's result: the kept rows (``base``) split, each split's rows, condition and row count."""

    by: str  # time, random or stratified
    base: "pl.LazyFrame"
    frames: dict[str, "pl.LazyFrame"]
    conditions: dict[str, "pl.Expr"]
    counted: dict[str, int]
    info: dict[str, Any]


def _split_rows(lf: "pl.LazyFrame", cols: _Columns, keep_row: "pl.Expr", split: tuple[Any, Any], *, split_by: str,
                seed: int, kept: int) -> _Split:
    """Step 3: the kept rows (inputs conformed, label computed) split at two cut points of the event time, or
    at random (:func:`_random_split`); no split may be empty."""
    import polars as pl

    key = cols.key
    base = _kept_rows(lf, cols, keep_row)

    def quantiles(a: float, b: float) -> tuple[int, int]:
        qa, qb = base.select(key.quantile(a, interpolation="lower").alias("a"),
                             key.quantile(b, interpolation="lower").alias("b")).collect(engine="streaming").row(0)
        return int(qa), int(qb)

    conditions, split_info, base = _split_conditions(base, cols, split, split_by=split_by, seed=seed,
                                                     quantiles=quantiles)
    counted = base.select(
        *[c.sum().cast(pl.Int64).alias(s) for s, c in conditions.items()],
        key.min().alias("min"), key.max().alias("max"),
    ).collect(engine="streaming").row(0, named=True)
    _check_split_counts(counted, split_info, split_by, kept, cols)
    return _Split(split_by, base, {s: base.filter(c) for s, c in conditions.items()}, conditions,
                  {s: counted[s] for s in SPLITS}, split_info)


def _kept_rows(lf: "pl.LazyFrame", cols: _Columns, keep_row: "pl.Expr") -> "pl.LazyFrame":
    """The kept rows, inputs conformed to their declared dtypes and the label computed."""
    return lf.filter(keep_row).with_columns(cols.conformed).with_columns(cols.label_expr.alias(LABEL_COLUMN))


def _split_conditions(base: "pl.LazyFrame", cols: _Columns, split: tuple[Any, Any], *, split_by: str, seed: int,
                      quantiles: Callable[[float, float], tuple[int, int]]) -> tuple[dict[str, "pl.Expr"], dict[str, Any],
                                                                                    "pl.LazyFrame"]:
    """Step 3's rule: each split's condition, the split's description and ``base`` (with a random split's
    column); ``quantiles(a, b)`` gives the cut keys of a fraction split (the event time's lower quantiles)."""
    event_time, et_dtype, key = cols.event_time, cols.et_dtype, cols.key
    if len(split) != 2:
        raise BuildError(f"split must be two cut points or two fractions, got {split!r}")
    if split_by != "time":
        _, split_info, conditions, base = _random_split(base, split, split_by, seed, cols.task)
        return conditions, split_info, base
    if all(_is_fraction(v) for v in split):
        a, b = split
        if not 0.0 < a < b < 1.0:
            raise BuildError(f"split fractions must satisfy 0 < train < valid < 1, got {split!r}")
        cuts = quantiles(a, b)
        split_info: dict[str, Any] = {"mode": "fractions", "fractions": [a, b]}
    else:
        cuts = (_cut_key(split[0], et_dtype, event_time, "train_end"), _cut_key(split[1], et_dtype, event_time, "valid_end"))
        if cuts[0] > cuts[1]:
            raise BuildError(f"train_end {split[0]} is after valid_end {split[1]}")
        split_info = {"mode": "cut points"}
    conditions = {"train": key < cuts[0], "valid": (key >= cuts[0]) & (key < cuts[1]), "test": key >= cuts[1]}
    split_info.update({"train_end": _key_text(cuts[0], et_dtype), "valid_end": _key_text(cuts[1], et_dtype),
                       "rule": f"train: {event_time} < train_end; valid: train_end <= {event_time} < valid_end; "
                               f"test: {event_time} >= valid_end"})
    return conditions, split_info, base


def _check_split_counts(counted: dict[str, Any], split_info: dict[str, Any], split_by: str, kept: int,
                        cols: _Columns) -> None:
    """No split may be empty (the message says the rule and the event time's range)."""
    for s in SPLITS:
        if counted[s] == 0 and split_by != "time":
            raise BuildError(f"the {s} split is empty: {split_info['rule']} on {kept:,} rows; give larger "
                             f"fractions or more rows")
        if counted[s] == 0:
            raise BuildError(
                f"the {s} split is empty: {split_info['rule']} with train_end = {split_info['train_end']}, "
                f"valid_end = {split_info['valid_end']}, but {cols.event_time!r} spans "
                f"{_key_text(counted['min'], cols.et_dtype)} .. {_key_text(counted['max'], cols.et_dtype)}"
            )


def _classes(parts: _Split, cols: _Columns) -> list[str]:
    """Step 3 (multiclass): the training split's class names, sorted (class ``i`` is the model's output ``i``).

    A class in the validation or test split that the training split lacks is refused naming the label:
    the model could never predict it and its metrics would be undefined.
    """
    import polars as pl

    seen = {s: sorted(parts.frames[s].select(pl.col(LABEL_COLUMN).unique()).collect(engine="streaming")
                      .to_series().to_list()) for s in SPLITS}
    return _judge_classes(seen, cols)


def _judge_classes(seen: dict[str, list[str]], cols: _Columns) -> list[str]:
    """:func:`_classes`' verdict on each split's sorted distinct labels."""
    classes = seen["train"]
    if len(classes) < 2:
        raise BuildError(f"the multiclass label {cols.label_text!r} has {len(classes)} class in the train split "
                         f"({classes}); it needs at least two")
    for s in ("valid", "test"):
        unknown = sorted(set(seen[s]) - set(classes))
        if unknown:
            raise BuildError(f"the label {cols.label_text!r} has classes in the {s} split that the train split "
                             f"lacks: {unknown[:10]} (train has {classes[:20]}); use a stratified split or more rows")
    return classes


def _features(feature_set: "CompiledFeatureSet", parts: _Split,
              cols: _Columns) -> tuple["CompiledFeatureSet", dict[str, Any], dict[str, "pl.LazyFrame"]]:
    """Step 4: fit on the train split only, then each split's features (lazy) and the schema they must have.

    Fitted ops learn their state from the training split (no leakage into validation or test); the
    training rows' target encodings are out of fold, the other splits get the serving transform.
    """
    fit_label = _fit_label(feature_set, cols)
    transformer = feature_set.prepare(parts.frames["train"], label=fit_label)
    want = _expected_schema(transformer, cols.event_time, cols.et_dtype, cols.out_label_dtype)
    keep = (cols.event_time, LABEL_COLUMN)
    outputs = {
        s: (transformer.transform_training(lf_s, label=fit_label, keep=keep) if s == "train"
            else transformer.transform(lf_s, keep=keep))
        for s, lf_s in parts.frames.items()
    }
    for s, out in outputs.items():  # step 5, before writing
        assert_schema(out.collect_schema(), want, f"the {s} features")
    return transformer, want, outputs


def _fit_label(feature_set: "CompiledFeatureSet", cols: _Columns) -> str | None:
    """The label column fitted ops learn from: none for a multiclass label (class names are not numbers)."""
    if cols.task != "multiclass":
        return LABEL_COLUMN
    from skewless.fitting.lowering import fitted_nodes
    from skewless.ir.fitted import TargetEncode

    if any(isinstance(n, TargetEncode) for n in fitted_nodes(feature_set.definition)):
        raise BuildError(f"target_encode(...) needs a Boolean or numeric label; the label {cols.label_text!r} "
                         f"is multiclass (class names)")
    return None


def _write_splits(tmp: Path, outputs: dict[str, "pl.LazyFrame"], counted: dict[str, int], want: dict[str, Any],
                  rows_per_file: int, steps: _Steps) -> dict[str, list[str]]:
    """Step 6: each split streamed into ``<split>/*.parquet``; the written schema checked again (step 5)."""
    import polars as pl

    files: dict[str, list[str]] = {}
    for s, out in outputs.items():
        steps(f"writing the {s} split ({counted[s]:,} rows)")
        target = tmp / s
        try:
            out.sink_parquet(pl.PartitionBy(target, max_rows_per_file=rows_per_file,
                                            approximate_bytes_per_file=None), mkdir=True, engine="streaming")
        except SkewlessError:
            raise
        except Exception as exc:
            raise BuildError(f"computing the {s} features failed: {type(exc).__name__}: {exc}") from None
        files[s] = sorted(p.name for p in target.glob("*.parquet"))
        assert_schema(pl.read_parquet_schema(target / files[s][0]), want, f"the written {s} file")
    return files


def _split_partial(lf: "pl.LazyFrame", transformer: "CompiledFeatureSet", cols: _Columns, *, top_k: int, step: int,
                   offset: int, sketch: bool) -> dict[str, Any]:
    """The mergeable statistics of some rows of one written split (``offset``: the first one's position in it)."""
    import polars as pl

    from .stats import column_partial, label_partial

    et = lf.select(pl.col(cols.event_time).min().alias("from"), pl.col(cols.event_time).max().alias("to")) \
        .collect().row(0, named=True)
    return {"columns": column_partial(lf, list(transformer.output_schema()), top_k=top_k, step=step, offset=offset,
                                      sketch=sketch),
            "label": label_partial(lf, LABEL_COLUMN, cols.task), "from": et["from"], "to": et["to"]}


def _statistics(tmp: Path, fs: "FeatureSet", transformer: "CompiledFeatureSet", want: dict[str, Any], cols: _Columns,
                parts: _Split, facts: dict[str, Any], *, top_k: int, quantile_rows: int,
                partials: dict[str, list[dict[str, Any]]] | None = None) -> dict[str, Any]:
    """Step 6: ``stats.json`` of the written files (per split: rows, time range, label, every feature), merged from
    ``partials`` (:func:`_split_partial` of each part of each split, in order) or computed over the files."""
    import polars as pl

    from .stats import merge_column_partials, merge_label_partials, sample_step

    event_time, task, counted = cols.event_time, cols.task, parts.counted
    declared = transformer.output_schema()
    split_stats: dict[str, Any] = {}
    feature_stats: dict[str, dict[str, Any]] = {name: {"dtype": str(want[name])} for name in declared}
    for s in SPLITS:
        step = sample_step(counted[s], quantile_rows)
        pieces = partials[s] if partials is not None else [_split_partial(
            pl.scan_parquet(tmp / s / "*.parquet"), transformer, cols, top_k=top_k, step=step, offset=0,
            sketch=s == "train")]  # the drift reference (skewless.monitoring)
        stats_of = merge_column_partials([p["columns"] for p in pieces], {c: want[c] for c in declared}, top_k=top_k,
                                         rows=counted[s], step=step, sketch=s == "train")
        starts = [p["from"] for p in pieces if p["from"] is not None]
        ends = [p["to"] for p in pieces if p["to"] is not None]
        split_stats[s] = {"rows": counted[s], "from": min(starts) if starts else None,
                          "to": max(ends) if ends else None,
                          "label": merge_label_partials([p["label"] for p in pieces], task)}
        if split_stats[s]["label"]["rows"] != counted[s]:
            raise BuildError(f"internal: the {s} split has {split_stats[s]['label']['rows']} rows written, "
                             f"{counted[s]} counted")
        for name, st in stats_of.items():
            st.pop("dtype", None)
            if st.get("nulls") and not declared[name].nullable:
                raise SchemaError(f"feature {name!r} is declared non-nullable but has {st['nulls']:,} nulls in "
                                  f"the {s} split")
            feature_stats[name][s] = st
    return {
        "feature_set": fs.name,
        "event_time": event_time,
        "label": {"definition": cols.label_text, "column": LABEL_COLUMN, "task": task},
        "split": parts.info,
        "rows": {**{s: counted[s] for s in SPLITS}, "total": sum(counted[s] for s in SPLITS),
                 "dropped_without_event_time_or_label": facts["rows"] - facts["kept"]},
        "splits": split_stats,
        "features": feature_stats,
    }


def _write_state(tmp: Path, transformer: "CompiledFeatureSet") -> str | None:
    """Step 6: the fitted artifact ``fitted.json`` when the feature set holds learned state."""
    if transformer.state is None:
        return None
    transformer.save_state(tmp / FITTED_FILE)
    return FITTED_FILE


def _manifest(tmp: Path, fs: "FeatureSet", transformer: "CompiledFeatureSet", fitted_file: str | None,
              source_info: dict[str, Any], cols: _Columns, parts: _Split, stats: dict[str, Any], want: dict[str, Any],
              files: dict[str, list[str]]) -> dict[str, Any]:
    """Step 6: ``build.json``, what was built from what (without the timings, added last)."""
    data_files = [tmp / s / f for s in SPLITS for f in files[s]]
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": now_iso(),
        "feature_set": {
            "name": fs.name,
            "spec": spec_of(fs),
            "fingerprint": fs.fingerprint,
            "feature_fingerprints": fs.feature_fingerprints(),
            "fitted": fitted_file is not None,
            "state_fingerprint": transformer.state_fingerprint,
        },
        "source": source_info | ({"sha256": sha256_files(Path(f) for f in source_info["files"])}
                                 if source_info.get("files") else {}),
        "event_time": {"column": cols.event_time, "dtype": str(cols.et_dtype)},
        "label": {"definition": cols.label_text, "column": LABEL_COLUMN, "task": cols.task,
                  "dtype": str(cols.out_label_dtype),
                  **({"classes": cols.classes, "encoding": "class i = classes[i] (sorted names of the train split)"}
                     if cols.classes is not None else {})},
        "split": parts.info,
        "rows": stats["rows"],
        "columns": {name: str(dtype) for name, dtype in want.items()},
        "feature_columns": list(transformer.output_schema()),
        "files": {s: [f"{s}/{f}" for f in files[s]] for s in SPLITS},
        "fitted_artifact": fitted_file,
        "golden_inputs": GOLDEN_INPUTS_FILE,
        "stats": STATS_FILE,
        "data_hash": sha256_files(data_files),
        "versions": versions("polars"),
        "git": git_info(_module_file(fs)),
    }


def _golden(lf: "pl.LazyFrame", fs: "FeatureSet", cols: _Columns, parts: _Split, schema: Any,
            n: int) -> "pl.DataFrame":
    """Step 6: golden inputs from every test-period row, labelled or not: serving sees unlabelled rows too
    (here: cancelled flights with null inputs)."""
    inputs_present = [c for c in fs.inputs if c in schema]
    test_period = _test_period(lf, parts.base, cols, parts.by, parts.conditions)
    return _golden_inputs(test_period, fs, inputs_present, parts.counted["test"], n)


def _test_period(lf: "pl.LazyFrame", base: "pl.LazyFrame", cols: _Columns, by: str,
                 conditions: dict[str, "pl.Expr"]) -> "pl.LazyFrame":
    """The rows golden inputs are taken from: every test-period row of a time split (labelled or not), the test
    rows of a random split (which exists for labelled rows only)."""
    import polars as pl

    if by == "time":
        return lf.filter(pl.col(cols.event_time).is_not_null()).with_columns(cols.conformed).filter(conditions["test"])
    return base.filter(conditions["test"])




def _module_file(fs: "FeatureSet") -> str | None:
    import sys

    spec = spec_of(fs)
    if not spec:
        return None
    module = sys.modules.get(spec.partition(":")[0])
    return getattr(module, "__file__", None)


def _golden_inputs(test: "pl.LazyFrame", fs: "FeatureSet", columns: list[str], rows: int, n: int) -> "pl.DataFrame":
    """``n`` test rows spread evenly over the split, plus a few whose nullable inputs are null."""
    import polars as pl

    lf = test.select(columns)
    n = max(0, min(n, rows))
    step = max(1, rows // max(n, 1))
    spread = lf.gather_every(step).head(n).collect(engine="streaming")
    nullable = [c for c in columns if fs.inputs[c].nullable]
    extra = None
    if nullable and n:
        extra = lf.filter(pl.any_horizontal([pl.col(c).is_null() for c in nullable])).head(max(1, n // 8)).collect()
    out = pl.concat([spread, extra]) if extra is not None and extra.height else spread
    return out.unique(maintain_order=True)


# --------------------------------------------------------------------------- reading a build


def read_build(build_dir: str | Path) -> dict[str, Any]:
    """The ``build.json`` of a complete build (raises naming the path otherwise)."""
    import json

    build_dir = Path(build_dir)
    path = build_dir / BUILD_FILE
    if not build_dir.is_dir():
        raise BuildError(f"no build at {str(build_dir)!r} (directory not found)")
    if not path.is_file():
        raise BuildError(f"{str(build_dir)!r} is not a complete skewless build (no {BUILD_FILE})")
    from pydantic import ValidationError

    from skewless.bundle.manifest import MAX_MANIFEST_BYTES, BuildRecord

    try:
        raw = path.read_bytes()
        if len(raw) > MAX_MANIFEST_BYTES:
            raise ValueError(f"{len(raw):,} bytes, over the limit of {MAX_MANIFEST_BYTES:,}")
        doc = json.loads(raw)
    except (OSError, ValueError, RecursionError) as exc:
        raise BuildError(f"cannot read {str(path)!r}: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("format_version") != FORMAT_VERSION:
        raise BuildError(f"{str(path)!r} is not a skewless build manifest of version {FORMAT_VERSION}")
    try:  # the strict record: known keys, exact types
        return BuildRecord.model_validate_json(raw).model_dump(mode="json")
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors[:5])
        raise BuildError(f"{str(path)!r} is not a valid build record: {detail}") from None


def split_frames(build_dir: str | Path) -> dict[str, "pl.LazyFrame"]:
    """Lazy scans of the train / valid / test files of a build."""
    import polars as pl

    build_dir = Path(build_dir)
    manifest = read_build(build_dir)
    return {s: pl.scan_parquet([build_dir / f for f in manifest["files"][s]]) for s in SPLITS}
