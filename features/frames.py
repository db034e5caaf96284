"""Frames of every kind, wherever a frame goes: one conversion to polars, lossless or refused.

:func:`as_polars` is called by ``transform``, ``check_parity``, ``fit``, ``build_dataset``,
``compare`` and bundle scoring. It takes

* polars ``DataFrame`` / ``LazyFrame`` (unchanged);
* pandas ``DataFrame``, numpy- or arrow-backed (``pd.ArrowDtype``, ``convert_dtypes(dtype_backend="pyarrow")``);
* pyarrow ``Table``, ``RecordBatch``, ``dataset.Dataset`` (scanned lazily);
* a path, a glob or a list of them (parquet or CSV, see :func:`skewless.io.scan_data`).

Anything else (e.g. an iterable of row dicts) is returned unchanged for the caller to handle.

What is refused, naming the column, because no conversion would be lossless:

* a numpy-backed pandas float column holding NaN: pandas uses NaN for "missing" there, skewless
  keeps NaN and null apart (as polars does) — say which it is: ``df.astype({"x": "Float64"})``
  (NaN becomes missing) or ``pl.from_pandas(df, nan_to_null=False)`` (NaN stays NaN);
* pandas timestamps with a sub-microsecond part (skewless' datetimes are microseconds);
* an object column of mixed Python types, non-string column names.

Nullable integers (``Int64``) and tz-aware timestamps convert as they are: integers stay integers
with nulls, time zones are kept (a naive timestamp where an aware one is declared is refused by the
input check, naming the column). Categorical columns become strings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import SchemaError

__all__ = ["as_polars", "describe_kind"]


def _library(obj: Any) -> str:
    return (type(obj).__module__ or "").partition(".")[0]


def describe_kind(obj: Any) -> str:
    """``"pandas DataFrame"``, ``"pyarrow Table"``, ... (for error messages and build manifests)."""
    return f"{_library(obj)} {type(obj).__name__}"


def as_polars(data: Any, fs: Any = None) -> Any:
    """``data`` as a polars DataFrame or LazyFrame when it is a frame or path of a known kind; else unchanged.

    Raises
    ------
    SchemaError
        Naming the column whose values cannot be converted losslessly (see the module docstring).
    """
    import polars as pl

    if isinstance(data, (pl.DataFrame, pl.LazyFrame)):
        return data
    if isinstance(data, (str, Path)) or (isinstance(data, (list, tuple)) and data
                                         and all(isinstance(p, (str, Path)) for p in data)):
        from .io import scan_data

        paths = [data] if isinstance(data, (str, Path)) else list(data)
        frames = [scan_data(p, fs, columns="all") for p in paths]
        return frames[0] if len(frames) == 1 else pl.concat(frames, how="vertical")
    library = _library(data)
    if library == "pandas" and type(data).__name__ == "DataFrame":
        return _categorical_to_string(_from_pandas(data))
    if library == "pyarrow":
        kind = type(data).__name__
        if kind in ("Table", "RecordBatch"):
            return _categorical_to_string(pl.from_arrow(data))
        if hasattr(data, "scanner") and hasattr(data, "schema"):  # pyarrow.dataset.Dataset
            return _categorical_to_string(pl.scan_pyarrow_dataset(data))
        raise SchemaError(f"a pyarrow {kind} is not a frame; pass a Table, RecordBatch or dataset.Dataset")
    if library == "pandas" and type(data).__name__ == "Series":
        raise SchemaError("a pandas Series is one column; pass a DataFrame (series.to_frame())")
    return data


def _categorical_to_string(frame: Any) -> Any:
    import polars as pl

    schema = frame.collect_schema()
    cats = [n for n, d in schema.items() if isinstance(d, (pl.Categorical, pl.Enum))]
    return frame.with_columns(pl.col(cats).cast(pl.String)) if cats else frame


def _from_pandas(df: Any) -> Any:
    import numpy as np
    import polars as pl

    bad_names = [c for c in df.columns if not isinstance(c, str)]
    if bad_names:
        raise SchemaError(f"pandas column names must be strings, got {bad_names[0]!r}")
    for name in df.columns:
        s = df[name]
        dtype = s.dtype
        if isinstance(dtype, np.dtype) and dtype.kind == "f" and s.isna().to_numpy().any():
            raise SchemaError(
                f"column {name!r} is a numpy-backed pandas {dtype} column holding NaN, which pandas also uses for "
                f"missing values; skewless keeps NaN and null apart: convert it first with "
                f"df.astype({{{name!r}: 'Float64'}}) (NaN -> missing) or pl.from_pandas(df, nan_to_null=False) "
                f"(NaN stays NaN)")
        if isinstance(dtype, np.dtype) and dtype.kind == "M" and np.datetime_data(dtype)[0] == "ns":
            _check_microseconds(name, s.to_numpy().view("int64"), s.isna().to_numpy())
        elif getattr(dtype, "unit", None) == "ns" and getattr(dtype, "tz", None) is not None:
            _check_microseconds(name, s.array.asi8, s.isna().to_numpy())
    columns = []
    for name in df.columns:
        s = df[name]
        # Float columns keep NaN as NaN (a numpy one holding NaN was refused above; an arrow-backed or
        # nullable one has NaN distinct from <NA>); elsewhere (object, str) NaN is pandas' missing marker.
        is_float = getattr(s.dtype, "kind", "") == "f" or "float" in str(s.dtype).lower()
        try:
            columns.append(pl.from_pandas(s, nan_to_null=not is_float).alias(name))
        except Exception as exc:
            raise SchemaError(f"pandas column {name!r} ({s.dtype}) cannot be converted to polars: "
                              f"{' '.join(str(exc).split())[:200]}") from None
    return pl.DataFrame(columns) if columns else pl.DataFrame()


def _check_microseconds(name: str, ns: Any, missing: Any) -> None:
    bad = (ns % 1000 != 0) & ~missing
    if bad.any():
        raise SchemaError(f"column {name!r} holds timestamps with a sub-microsecond part (e.g. row "
                          f"{int(bad.argmax())}); skewless datetimes are microseconds: round them first "
                          f"(s.dt.floor('us'))")
