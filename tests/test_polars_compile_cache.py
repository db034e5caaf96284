"""The batch pipeline compiles a feature set's polars expressions once and adds no identity step."""

from __future__ import annotations

import threading

import polars as pl
import pytest

from skewless import Float64, Input, Int64, String, col, feature_set
from skewless.errors import SchemaError


def _make():
    @feature_set
    class cached:
        n = Input(Int64, nullable=True)
        s = Input(String)
        x = Input(Float64)
        doubled = col("n") * 2
        upper = col("s").str.to_uppercase()
        ratio = col("x") / (col("n") + 1)

    return cached


def _frame(n_dtype=pl.Int64) -> pl.DataFrame:
    return pl.DataFrame({"n": pl.Series([1, None, -3], dtype=n_dtype), "s": ["a", "bé", ""], "x": [0.5, 1.0, -2.0],
                         "extra": [1, 2, 3]})


def test_expressions_are_compiled_once_and_shared():
    fs = _make()
    first, second = fs.polars_exprs(), fs.polars_exprs()
    assert first is not second  # callers get their own dict ...
    assert all(first[k] is second[k] for k in first)  # ... of the same compiled expressions
    first.clear()
    assert list(fs.polars_exprs()) == ["doubled", "upper", "ratio"]


def test_repeated_and_concurrent_transforms_give_the_same_frame():
    fs = _make()
    want = fs.transform(_frame()).collect()
    assert want.to_dict(as_series=False) == {
        "doubled": [2, None, -6], "upper": ["A", "BÉ", ""], "ratio": [0.25, None, 1.0]}
    fresh = _make()
    results: list = []

    def run():
        results.append(fresh.transform(_frame(), keep=("extra",)).collect())

    threads = [threading.Thread(target=run) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8
    for got in results:
        assert got.drop("extra").equals(want)
        assert got["extra"].to_list() == [1, 2, 3]


def test_no_conform_step_when_dtypes_already_match():
    fs = _make()
    plan = fs.transform(_frame()).explain(optimized=False)
    assert "WITH_COLUMNS" not in plan
    widened = fs.transform(_frame(pl.Int32))  # a lossless widening still gets its cast
    assert "WITH_COLUMNS" in widened.explain(optimized=False)
    assert widened.collect().equals(fs.transform(_frame()).collect())


def test_schema_errors_are_still_raised_with_cached_expressions():
    fs = _make()
    fs.transform(_frame())
    with pytest.raises(SchemaError, match="'s'"):
        fs.transform(_frame().drop("s"))
    with pytest.raises(SchemaError, match="'n' has dtype"):
        fs.transform(_frame().with_columns(pl.col("n").cast(pl.String)))


@pytest.mark.parametrize("column, dtype", [
    ("n", pl.Int8), ("n", pl.Int16), ("n", pl.Int32), ("n", pl.UInt8), ("n", pl.UInt16), ("n", pl.UInt32),
    ("x", pl.Float32), ("s", pl.Categorical),
])
def test_lossless_widenings_are_accepted(column, dtype):
    fs = _make()
    frame = _frame().with_columns(pl.col("n").fill_null(0).abs())
    assert fs.transform(frame.with_columns(pl.col(column).cast(dtype))).collect().equals(fs.transform(frame).collect())


@pytest.mark.parametrize("column, dtype", [("n", pl.UInt64), ("n", pl.Float64), ("x", pl.Int64), ("s", pl.Int64)])
def test_other_dtypes_are_refused_naming_the_column(column, dtype):
    fs = _make()
    frame = _frame().with_columns(pl.lit(1, dtype=dtype).alias(column))
    with pytest.raises(SchemaError, match=f"input column '{column}' has dtype"):
        fs.transform(frame)


def test_native_kernels_are_compiled_once_too_and_agree():
    from skewless import FeatureSet, fit, ordinal_encode, quantile_bucketize

    df = pl.DataFrame({"s": ["a", "b", None, "a", "c"] * 40, "x": [float(i) for i in range(200)]})
    fitted = fit(FeatureSet("lookups", {"s": Input(String, nullable=True), "x": Input(Float64)},
                            {"code": ordinal_encode(col("s")), "bin": quantile_bucketize(col("x"), 4)}), df)
    fs = fitted.lowered
    assert fs._compiled_polars(False) is fs._compiled_polars(False)
    assert fs._compiled_polars(False) is not fs._compiled_polars(True)
    per_batch = fs.transform(df).collect(engine="streaming")
    native = fs.transform(df, per_batch=False).collect()
    assert per_batch.equals(native) and per_batch["code"].n_unique() == 4 and per_batch["bin"].n_unique() == 4
