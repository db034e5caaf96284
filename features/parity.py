"""Check that the batch (polars) and per-request (Python) runtimes agree.

The batch runtime is the reference. :func:`check_parity` runs the batch
pipeline on the data (in memory and with the streaming engine, and optionally
on one-row frames, to prove the batch result does not depend on the engine or
frame size), then calls the generated per-request function on every row and
compares, feature by feature:

* the same dtype (the batch column's dtype is the declared one; each Python
  value has the Python type of the declared dtype);
* null equals null; NaN equals NaN (any payload); other floats bitwise
  (so ``-0.0`` differs from ``0.0``) unless a tolerance in ULPs is given;
* strings byte-identical; datetimes equal as instants and in the same zone.

A runtime error (polars raises on a strict cast for the whole column) is
parity when the other runtime raises too: the per-request function must raise
on at least one row, and on no row when polars did not raise. Such a report is
OK only when the caller said the error was expected (``expect_error=True``):
otherwise a batch pipeline that cannot run is reported as an error, with polars'
message, even when the per-request side fails too.

The report is never OK when nothing was checked: the batch frame must have one
row per input row (a feature set of constants still has one value per row),
and the per-request function runs on every row.

Zoned datetimes are compared as instants read from polars' physical integers
(and dates and durations as their integers), so values outside Python's range
in a zone (a wall clock in year 0) are compared too, and the OS time-zone copy
polars uses to build Python values (``EST`` before 1908) plays no part.
"""

from __future__ import annotations

import functools
import math
import struct
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from .dtypes import Boolean, DataType, Date, Datetime, Duration, Float64, Int64, String

import datetime as _datetime

_UTC = _datetime.timezone.utc

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

    from .compiled import CompiledFeatureSet, Frame
    from .feature_set import FeatureSet

__all__ = ["check_parity", "ParityReport", "Mismatch", "same_value"]

_PY_TYPES: dict[type, tuple[type, ...]] = {
    Int64: (int,),
    Float64: (float,),
    Boolean: (bool,),
    String: (str,),
}


def _bits(x: float) -> int:
    return struct.unpack("<q", struct.pack("<d", x))[0]


def ulp_distance(a: float, b: float) -> int:
    """Distance in units of least precision between two finite floats of the same sign."""
    ia, ib = _bits(a), _bits(b)
    if ia < 0:
        ia = -(2**63) - ia
    if ib < 0:
        ib = -(2**63) - ib
    return abs(ia - ib)


def same_value(a: Any, b: Any, dtype: DataType, ulps: int = 0) -> bool:
    """Parity equality of one batch value ``a`` and one per-request value ``b``."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(dtype, Float64):
        if type(b) is not float:
            return False
        if a != a or b != b:
            return a != a and b != b
        if ulps and math.isfinite(a) and math.isfinite(b):
            return ulp_distance(a, b) <= ulps
        return _bits(a) == _bits(b)
    py = _PY_TYPES.get(type(dtype))
    if py is not None:
        if type(b) not in py:
            return False
        return a == b
    if isinstance(dtype, Datetime):
        if type(b).__name__ != "datetime" or (b.tzinfo is None) != (dtype.time_zone is None):
            return False
        if dtype.time_zone is not None and getattr(b.tzinfo, "key", "UTC") != dtype.time_zone:
            return False
        if dtype.time_zone is not None:
            # Compare instants: ``==`` between aware datetimes of two tzinfo objects (polars builds
            # values with the OS zoneinfo, the per-request side with tzdata's) is always False for
            # ambiguous wall-clock times (PEP 495), while subtraction honours ``fold``.
            return a.tzinfo is not None and not (a - b)
        return a == b
    if isinstance(dtype, Date):
        return type(b).__name__ == "date" and a == b
    if isinstance(dtype, Duration):
        return type(b).__name__ == "timedelta" and a == b
    return a == b


@dataclass
class Mismatch:
    feature: str
    row: int
    inputs: dict[str, Any]
    batch: Any
    per_request: Any

    def __str__(self) -> str:
        return f"row {self.row}: batch={self.batch!r} per_request={self.per_request!r} inputs={self.inputs!r}"


@dataclass
class ParityReport:
    """Result of :func:`check_parity`. ``ok`` is True when nothing differs."""

    feature_set: str
    rows: int
    mismatches: dict[str, list[Mismatch]] = field(default_factory=dict)
    mismatch_counts: dict[str, int] = field(default_factory=dict)
    dtype_errors: list[str] = field(default_factory=list)
    engine_differences: list[str] = field(default_factory=list)
    tz_differences: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    batch_error: str | None = None
    #: rows on which the per-request function raised
    per_request_errors: int = 0
    seconds: float = 0.0
    #: features computed through a udf: compared on these rows, but outside the op-by-op proof
    udf_features: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (
            self.mismatch_counts or self.dtype_errors or self.engine_differences or self.errors or self.tz_differences
        )

    def summary(self) -> str:
        lines = [
            f"parity {self.feature_set!r}: {self.rows} rows, "
            f"{sum(self.mismatch_counts.values())} mismatching values in {len(self.mismatch_counts)} features"
            f" ({self.seconds:.1f}s)"
        ]
        if self.udf_features:
            lines.append(f"  udf features (user functions, outside the op-by-op proof; compared on these rows): "
                         f"{', '.join(self.udf_features)}")
        if self.batch_error is not None:
            lines.append(f"  batch raised: {self.batch_error}; the per-request function raised on "
                         f"{self.per_request_errors} of {self.rows} rows (values not compared)")
        lines += [f"  dtype: {d}" for d in self.dtype_errors]
        lines += [f"  engine: {d}" for d in self.engine_differences]
        lines += [f"  time zone database: {d}" for d in self.tz_differences]
        lines += [f"  error: {d}" for d in self.errors]
        for feat, count in self.mismatch_counts.items():
            lines.append(f"  {feat}: {count} rows differ, e.g.")
            lines += [f"    {m}" for m in self.mismatches[feat][:3]]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


@functools.cache
def _zone_differences(zone: str) -> tuple[str, ...]:
    from .backends.polars.tzcheck import compare_with_polars

    return tuple(compare_with_polars([zone]))


def _mismatching_rows(want: list[Any], have: list[Any], dtype: DataType, ulps: int) -> list[int]:
    """Indexes where :func:`same_value` fails; vectorised for the common all-equal case."""
    if isinstance(dtype, Float64) and not ulps and {type(v) for v in have} <= {float, type(None)}:
        import numpy as np

        null_w = np.fromiter((v is None for v in want), bool, len(want))
        null_h = np.fromiter((v is None for v in have), bool, len(have))
        a = np.array([0.0 if v is None else v for v in want], dtype=np.float64)
        b = np.array([0.0 if v is None else v for v in have], dtype=np.float64)
        nan_a, nan_b = np.isnan(a), np.isnan(b)
        same = (null_w == null_h) & (nan_a == nan_b) & ((a.view(np.int64) == b.view(np.int64)) | nan_a | null_w)
        return [int(i) for i in np.flatnonzero(~same)]
    py = _PY_TYPES.get(type(dtype))
    if py is not None and want == have and {type(v) for v in have} <= {*py, type(None)}:
        return []
    return [i for i, (x, y) in enumerate(zip(want, have)) if not same_value(x, y, dtype, ulps)]


def _frame(fs: "FeatureSet", data: "Frame | Iterable[Mapping[str, Any]]") -> "pl.DataFrame":
    import polars as pl

    from .backends.polars.compiler import conform_inputs
    from .frames import as_polars

    data = as_polars(data, fs)  # pandas, pyarrow, paths: converted losslessly or refused naming the column
    if isinstance(data, pl.LazyFrame):
        data = data.collect()
    if not isinstance(data, pl.DataFrame):
        from .backends.polars.dtypes import to_polars

        rows = list(data)
        schema = {k: to_polars(f.dtype) for k, f in fs.inputs.items()}
        data = pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)
    exprs = conform_inputs(fs, data.schema)
    if not exprs:  # no input is read: keep the height (a frame of no columns has none)
        return data.select(pl.int_range(pl.len()).alias(_ROW_INDEX))
    return data.select(exprs)


#: the only column of a frame whose feature set reads no input (it keeps the frame's height)
_ROW_INDEX = "__skewless_row__"


def _physical(df: "pl.DataFrame", name: str, dtype: DataType) -> list[Any]:
    """A batch column as Python values; temporal ones as their physical integers (see module docstring)."""
    column = df[name]
    if isinstance(dtype, (Datetime, Date, Duration)):
        import polars as pl

        return column.to_physical().cast(pl.Int64).to_list()
    return column.to_list()


def _request_rows(fs: "FeatureSet", df: "pl.DataFrame", used: list[str]) -> list[dict[str, Any]]:
    """The rows as requests. Zoned datetimes are rebuilt from their instants with skewless' zones:
    polars builds Python values from its wall clock plus the OS's zone copy, which for some zones
    (``EST`` before 1908) is another instant."""
    if not used:
        return [{} for _ in range(df.height)]
    inputs = fs.input_schema()
    zoned = [k for k in used if isinstance(inputs[k].dtype, Datetime) and inputs[k].dtype.time_zone]
    plain = df.select([k for k in used if k not in zoned]).rows(named=True) if len(zoned) < len(used) \
        else [{} for _ in range(df.height)]
    if not zoned:
        return plain
    from .runtime.convert import epoch_to_datetime

    for k in zoned:
        dtype = inputs[k].dtype
        for row, v in zip(plain, df[k].to_physical().to_list()):
            row[k] = None if v is None else epoch_to_datetime(v, dtype.time_unit, dtype.time_zone)
    return [{k: row[k] for k in used} for row in plain]


class _Unconvertible:
    """A per-request value that is not of its feature's temporal dtype (never equal to anything)."""

    def __repr__(self) -> str:
        return "<not a value of the dtype>"


def _physical_or_bad(value: Any, dtype: DataType) -> Any:
    out = _to_physical(value, dtype)
    return _Unconvertible() if out is None else out


def _readable(df: "pl.DataFrame", name: str, row: int, physical: Any) -> Any:
    """A batch value for a report: the Python value, or its physical integer when Python cannot hold it."""
    try:
        return df[name][row]
    except (OverflowError, ValueError):
        return f"<physical {physical}>"


def _to_physical(value: Any, dtype: DataType) -> Any:
    """A per-request temporal value as the integer polars stores (None when it is not one of the dtype)."""
    from .runtime import convert

    try:
        if isinstance(dtype, Datetime):
            if type(value).__name__ != "datetime" or (value.tzinfo is None) != (dtype.time_zone is None):
                return None
            if dtype.time_zone is not None and getattr(value.tzinfo, "key", "UTC") != dtype.time_zone:
                return None
            return convert.datetime_to_epoch_us(value) if dtype.time_unit == "us" else \
                convert.datetime_to_epoch_ms(value)
        if isinstance(dtype, Date):
            return convert.date_to_days(value) if type(value).__name__ == "date" else None
        if isinstance(dtype, Duration):
            if type(value).__name__ != "timedelta":
                return None
            return convert.timedelta_to_us(value) if dtype.time_unit == "us" else convert.timedelta_to_ms(value)
    except (OverflowError, ValueError, TypeError):
        return None
    return value


def _has_per_batch_kernels(fs: "FeatureSet") -> bool:
    from .ir.applied import Bucketize, MapValues
    from .ir.base import walk

    return any(isinstance(n, (MapValues, Bucketize)) for f in fs.features.values() for n in walk(f.node))


def _collect(fs: "CompiledFeatureSet", df: "pl.DataFrame", engine: str) -> "pl.DataFrame":
    return fs.transform(df.lazy()).collect(engine=engine)


def _frames_equal(fs: "CompiledFeatureSet", a: "pl.DataFrame", b: "pl.DataFrame") -> list[str]:
    out = []
    if a.height != b.height:
        return [f"{b.height} rows instead of {a.height}"]
    for name, out_field in fs.output_schema().items():
        ca, cb = _physical(a, name, out_field.dtype), _physical(b, name, out_field.dtype)
        dtype = Int64() if isinstance(out_field.dtype, (Datetime, Date, Duration)) else out_field.dtype
        bad = [i for i, (x, y) in enumerate(zip(ca, cb)) if not same_value(x, y, dtype)]
        if bad:
            out.append(f"{name}: {len(bad)} rows, e.g. row {bad[0]}: {ca[bad[0]]!r} vs {cb[bad[0]]!r}")
    return out


def check_parity(
    fs: "CompiledFeatureSet",
    data: "Frame | Iterable[Mapping[str, Any]]",
    *,
    engines: Iterable[str] = ("in-memory", "streaming"),
    single_row_frames: bool = False,
    tolerances: Mapping[str, int] | None = None,
    max_examples: int = 5,
    expect_error: bool = False,
) -> ParityReport:
    """Compare the batch and per-request runtimes of ``fs`` on ``data``.

    Parameters
    ----------
    fs : CompiledFeatureSet
        A plain or fitted feature set (see :mod:`skewless.compiled`).
    data : polars DataFrame or LazyFrame, or an iterable of row dicts
        Must hold the feature set's inputs (extra columns are ignored).
    engines : engines to run the batch pipeline on; the first is the reference.
    single_row_frames : also run the batch pipeline on each row as its own frame.
    tolerances : ``{feature: ulps}`` for features whose case documents why bitwise
        equality cannot hold.
    expect_error : the batch pipeline is expected to raise on ``data`` (a strict cast of a bad
        value); the report is then OK when the per-request function raises on some row too.
        Otherwise a batch error is always reported.

    Returns
    -------
    ParityReport
    """
    from .backends.polars.dtypes import to_polars

    started = time.perf_counter()
    tolerances = dict(tolerances or {})
    plain = fs.plain  # the IR both runtimes compile
    outputs_schema = fs.output_schema()
    df = _frame(plain, data)
    report = ParityReport(fs.name, df.height)
    from .ir.base import walk
    from .ir.udf import Udf

    report.udf_features = [k for k, f in plain.features.items() if any(isinstance(n, Udf) for n in walk(f.node))]
    zones = sorted({f.dtype.time_zone for f in plain._fields.values() if isinstance(f.dtype, Datetime) and f.dtype.time_zone})
    if zones:
        # The two runtimes read different copies of the IANA database (polars' compiled-in
        # one, the tzdata package): rows only cover some instants, so compare the zones too.
        report.tz_differences = [d for z in zones for d in _zone_differences(z)]
    engines = list(engines)
    batch = None
    try:
        batch = _collect(fs, df, engines[0])
    except Exception as exc:  # polars raised: per-request must raise somewhere too
        report.batch_error = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    if batch is not None:
        for name, out_field in outputs_schema.items():
            want = to_polars(out_field.dtype)
            if batch.schema[name] != want:
                report.dtype_errors.append(f"{name}: batch dtype {batch.schema[name]} != declared {want}")
        for engine in engines[1:]:
            other = _collect(fs, df, engine)
            report.engine_differences += [f"{engine}: {d}" for d in _frames_equal(fs, batch, other)]
        if _has_per_batch_kernels(plain):  # lookups run per batch by default: natively they must agree
            native = fs.transform(df.lazy(), per_batch=False).collect(engine=engines[0])
            report.engine_differences += [f"native kernels: {d}" for d in _frames_equal(fs, batch, native)]
        if single_row_frames and df.height:
            import polars as pl

            singles = pl.concat([_collect(fs, df.slice(i, 1), engines[0]) for i in range(df.height)])
            report.engine_differences += [f"one-row frames: {d}" for d in _frames_equal(fs, batch, singles)]

    row_fn = fs.row_fn
    used = fs.used_inputs()
    inputs = _request_rows(fs, df, used)
    outputs: list[dict[str, Any] | None] = []
    raised = 0
    for i, row in enumerate(inputs):
        try:
            outputs.append(row_fn(row))
        except Exception as exc:
            outputs.append(None)
            raised += 1
            if batch is not None and len(report.errors) < max_examples:
                report.errors.append(
                    f"row {i}: per-request raised {type(exc).__name__}: {exc} (batch did not); inputs={row!r}"
                )
    report.per_request_errors = raised
    if batch is not None and batch.height != df.height:
        report.errors.append(f"the batch pipeline returned {batch.height} rows for {df.height} input rows")
    elif batch is not None and raised == 0:
        for name, out_field in outputs_schema.items():
            want = _physical(batch, name, out_field.dtype)
            have = [out[name] for out in outputs]  # type: ignore[index]
            dtype = out_field.dtype
            if isinstance(dtype, (Datetime, Date, Duration)):
                have_values = have
                have = [None if v is None else _physical_or_bad(v, dtype) for v in have_values]
                dtype = Int64()
            bad = _mismatching_rows(want, have, dtype, tolerances.get(name, 0))
            if bad:
                report.mismatch_counts[name] = len(bad)
                report.mismatches[name] = [
                    Mismatch(name, i, dict(inputs[i]), _readable(batch, name, i, want[i]), outputs[i][name])  # type: ignore[index]
                    for i in bad[:max_examples]
                ]
    if batch is None and raised == 0:
        report.errors.append(f"batch raised ({report.batch_error}) but the per-request function raised on no row")
    elif batch is None and not expect_error:
        report.errors.append(f"batch raised ({report.batch_error}) (and the per-request function on {raised} rows);"
                             " pass expect_error=True when that is expected")
    report.seconds = time.perf_counter() - started
    return report
