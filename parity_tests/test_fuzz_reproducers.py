"""The reproducers of issue 12 (found by an outside differential fuzzer), each fixed or refused clearly."""

from __future__ import annotations

import datetime as dt
import gc
import weakref
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from skewless import Boolean, DefinitionError, Input, FeatureSet, Float64, Int64, coalesce, col, lit, min_horizontal, when
from skewless.parity import check_parity


def _parity(features, inputs, rows, **kwargs):
    fs = FeatureSet("repro", inputs, features)
    report = check_parity(fs, rows, single_row_frames=True, **kwargs)
    assert report.ok, report.summary()
    return fs, report


def test_item1_scalar_valued_divisors_and_zero_terms():
    fs, _ = _parity({"d": col("f") / -lit(3.0), "q": col("f") // lit(0.1).fill_nan(1.0),
                     "z": col("f") + (-lit(0)), "m": 0.0 % col("f")},
                    {"f": Float64}, [{"f": 7.0}, {"f": 0.7}, {"f": 0.7}, {"f": -0.0}, {"f": 1.0}])
    out = fs.transform(pl.DataFrame({"f": [7.0, 0.7, 0.7, 1.0]})).collect()
    assert out["d"][0] == -2.333333333333333 and out["q"][1] == 7.0
    assert str(fs.features["d"].source()) == "(col('f') / lit(-3.0))"  # folded when defined
    assert fs.row_fn({"f": -0.0})["z"] == 0.0 and str(fs.row_fn({"f": -0.0})["z"]) == "-0.0"
    # 0.0 % 1.0 is 0.0 in raw polars; the spelt-out a - b*floor(a/b) must not become -0.0
    raw = pl.DataFrame({"f": [1.0, 1.0, 1.0]}).select(pl.lit(0.0) % pl.col("f"))["literal"].to_list()
    assert [str(v) for v in out["m"][3:]] == [str(v) for v in raw[:1]] == ["0.0"]


def test_item3_zoned_literal_after_2099():
    when_ny = dt.datetime(2150, 7, 1, 12, tzinfo=ZoneInfo("America/New_York"))
    fs, _ = _parity({"h": lit(when_ny).dt.hour(), "delta": col("t") - lit(when_ny)},
                    {"t": pl.Datetime("us", "America/New_York")}, [{"t": when_ny}, {"t": when_ny}])
    assert fs.row_fn({"t": when_ny})["delta"] == dt.timedelta(0)


def test_item4_mixed_dtype_null_bound():
    fs, _ = _parity({"x": col("i").is_between(lit(None, dtype=Float64), col("i"), closed="none")},
                    {"i": Int64}, [{"i": 1}, {"i": 5}])
    assert fs.row_fn({"i": 1}) == {"x": None}


def test_item5_typed_null_literals_compile():
    fs, _ = _parity({"le": col("f") <= lit(None, dtype=Int64), "add": col("f") + lit(None, dtype=Int64),
                     "co": coalesce(col("f"), lit(None, dtype=Int64)), "exp": lit(None, dtype=Int64).exp() + col("f"),
                     "mh": min_horizontal(lit(None, dtype=Float64), col("f")),
                     "sl": coalesce(lit(None).str.slice(1), col("s"))},
                    {"f": Float64, "s": pl.String}, [{"f": 1.5, "s": "ab"}, {"f": -0.0, "s": ""}])
    assert "None[" not in fs.python_source()


def test_item6_null_typed_operands_run_in_batch():
    _parity({"w": when(lit(None)).then(col("f")).otherwise(2.0), "p": (lit(None) ** 2) + col("f"),
             "n": col("f").fill_null(-lit(None)), "inv": (~lit(None)) | col("b"), "a": (lit(None) & lit(None)) | col("b")},
            {"f": Float64, "b": Boolean}, [{"f": 1.0, "b": True}, {"f": 2.0, "b": False}])


def test_item8_constant_feature_sets_check_every_row():
    fs = FeatureSet("consts", {"b": Boolean}, {"k": lit(1.5), "between": col("b").is_between(None, True)})
    out = fs.transform(pl.DataFrame({"b": [True, False, True]})).collect()
    assert out.height == 3
    report = check_parity(fs, [{"b": True}, {"b": False}, {"b": True}], single_row_frames=True)
    assert report.ok and report.rows == 3, report.summary()


def test_item8_batch_error_is_shown_and_not_ok_unless_expected():
    fs = FeatureSet("bad", {"f": Float64}, {"i": col("f").cast(Int64)})
    report = check_parity(fs, [{"f": float("inf")}, {"f": 1.0}])
    assert report.batch_error is not None and not report.ok
    assert "batch raised" in report.summary() and "InvalidOperationError" in report.summary()
    assert check_parity(fs, [{"f": float("inf")}], expect_error=True).ok


def test_item8_a_constant_that_cannot_be_evaluated_is_refused():
    with pytest.raises(DefinitionError, match="cannot be evaluated"):
        FeatureSet("bad", {"f": Float64}, {"x": col("f") + lit("abc").cast(Int64)})


def test_item10_compiled_feature_sets_are_not_kept_alive():
    fs = FeatureSet("gc", {"f": Float64}, {"x": col("f") + 1})
    fs.row_fn({"f": 1.0})
    ref = weakref.ref(fs)
    del fs
    gc.collect()
    assert ref() is None


def test_item10_zoned_values_compare_as_instants_before_1908():
    est = ZoneInfo("EST")
    rows = [{"t": dt.datetime(1850, 12, 15, 16, 36, tzinfo=est)}, {"t": dt.datetime(1, 3, 30, 19, 59, tzinfo=est)}]
    _parity({"same": col("t"), "lit": lit(rows[0]["t"])}, {"t": pl.Datetime("us", "EST")}, rows)


def test_item7_check_parity_reports_values_python_cannot_hold():
    # 0001-01-01T00:00Z is in year 0 in St. John's: polars holds it, Python's datetime cannot.
    fs = FeatureSet("edge", {"t": pl.Datetime("us", "UTC")}, {"x": col("t").dt.convert_time_zone("America/St_Johns")})
    report = check_parity(fs, [{"t": dt.datetime(1, 1, 1, tzinfo=dt.timezone.utc)}])  # must not raise
    assert report.rows == 1


def test_item2_branches_are_evaluated_only_where_polars_does():
    nan = float("nan")
    fs, _ = _parity({"w": when(col("b")).then(col("f").cast(Int64)), "n": col("f").fill_nan(col("g").cast(Int64))},
                    {"b": Boolean, "f": Float64, "g": Float64}, [{"b": False, "f": nan, "g": 3.0},
                                                                 {"b": True, "f": 2.5, "g": nan}])
    assert fs.row_fn({"b": False, "f": nan, "g": 3.0}) == {"w": None, "n": 3.0}
    # a cast used twice is hoisted by polars' common sub-expression elimination: computed on every row
    shared = col("g").cast(Int64)
    fs = FeatureSet("hoisted", {"b": Boolean, "f": Float64, "g": Float64},
                    {"w": when(col("b")).then(1).when(shared > 2).then(col("f")).otherwise(shared)})
    report = check_parity(fs, [{"b": False, "f": nan, "g": 3.0}, {"b": True, "f": 2.5, "g": nan}], expect_error=True)
    assert report.ok and report.batch_error is not None and report.per_request_errors == 1, report.summary()


def _raw(df, expr):
    return df.with_columns(expr.alias("__raw"))["__raw"].to_list()


def test_item9_sum_horizontal_adds_in_polars_order():
    from skewless import sum_horizontal

    df = pl.DataFrame({"a": [60.0, -9223372036854775806.0], "b": [60.0, 9223372036854775807.0],
                       "c": [1.34e-6, 1.0], "i": [-9223372036854775806, 1], "j": [2**63 - 1, 2]})
    fs, _ = _parity({"s": sum_horizontal("a", "b", "c"), "m": sum_horizontal("i", "j", 1.0)},
                    {"a": Float64, "b": Float64, "c": Float64, "i": Int64, "j": Int64}, df.rows(named=True))
    out = fs.transform(df).collect()
    assert out["s"].to_list() == _raw(df, pl.sum_horizontal("a", "b", "c"))
    assert out["m"].to_list() == _raw(df, pl.sum_horizontal("i", "j", pl.lit(1.0)))


def test_item9_is_between_null_valued_bound_follows_polars():
    df = pl.DataFrame({"i": [1, 5, None, 3]})
    fs, _ = _parity({"x": col("i").is_between(coalesce(lit(None)), 3)}, {"i": Input(Int64, nullable=True)},
                    df.rows(named=True))
    assert fs.transform(df).collect()["x"].to_list() == _raw(df, pl.col("i").is_between(pl.coalesce(pl.lit(None)), 3))


def test_item9_pow_with_a_column_exponent_is_the_documented_deviation():
    # skewless.ir.core.Pow: a column exponent of 2..9 (or 0.5) is a repeated product (sqrt) on every
    # frame; raw polars uses C pow on frames of 2+ rows (and the product on one-row frames).
    x = next(v / 7 for v in range(1, 10_000) if (v / 7) * (v / 7) * (v / 7) != (v / 7) ** 3.0)
    df = pl.DataFrame({"a": [x, x], "b": [3.0, 3.0]})
    fs, _ = _parity({"p": col("a") ** col("b")}, {"a": Float64, "b": Float64}, df.rows(named=True))
    assert fs.transform(df).collect()["p"][0] == x * x * x
    assert _raw(df, pl.col("a") ** pl.col("b"))[0] == x ** 3.0 != x * x * x


def test_constant_folding_keeps_polars_meaning():
    df = pl.DataFrame({"i": [-9223372036854775807, 1]})
    fs, _ = _parity({"fn": col("i").fill_nan(lit(9007199254740992.0))}, {"i": Int64}, df.rows(named=True))
    out = fs.transform(df).collect()
    assert out["fn"].to_list() == _raw(df, pl.col("i").fill_nan(pl.lit(9007199254740992.0)))
    assert fs.output_schema()["fn"].dtype == Float64()


def test_coalesce_after_a_never_null_operand_is_that_operand():
    # found by the 30-minute fuzz run after the last landing: polars reduces coalesce(lit(False), col, ...)
    # to the literal, and a feature of scalars only gave one row
    rows = [{"b": False}, {"b": True}]
    fs, report = _parity({"x": lit("a").is_not_null().eq_missing(coalesce(lit(False), col("b"), lit(True)))},
                         {"b": Input(Boolean, nullable=True)}, rows)
    assert report.rows == 2


# ---- found by the differential fuzzer (seed 1201, stop 12)


def test_dates_computed_past_year_9999_or_before_year_1_read_as_polars():
    """``(d + duration).dt.day()`` crashed the per-request function (``date.fromordinal``) where polars gives
    a value, and ``cast(String)`` wrote ``-109`` for polars' ``-0109``; the parity case
    ``temporal.computed_past_year_range`` covers every calendar field."""
    far = dt.timedelta(days=40_000)
    fs, _ = _parity({"day": (col("d") - lit(far)).dt.day(), "text": (col("d") - lit(far)).cast(pl.String),
                     "big": (col("d") + lit(far * 10)).cast(pl.String), "year": (col("d") + lit(far * 10)).dt.year()},
                    {"d": pl.Date}, [{"d": dt.date(1, 1, 1)}, {"d": dt.date(9999, 12, 31)}])
    assert fs.row_fn({"d": dt.date(1, 1, 1)})["text"] == "-0109-06-27"
    assert fs.row_fn({"d": dt.date(9999, 12, 31)}) == {"day": 25, "text": "9890-06-25", "big": "+11095-02-28",
                                                      "year": 11095}


def test_the_mirror_reads_untyped_nulls_as_written_not_as_polars_optimizer_rewrites_them():
    """Raw polars gave ``(~d.is_between(lo, lit(None))).fill_null(False)`` True where ``d < lo``: its optimizer
    pushes ``~`` through (``(d < lo) | null``), while the expression as written (and skewless) gives False."""
    import importlib
    import random

    from parity_tests.fuzz.schema import SCHEMA, random_rows

    fuzz_run = importlib.import_module("parity_tests.fuzz.run")  # (the package exports a function named run)
    feature = (~col("d").is_between(lit(dt.date(2013, 1, 1)), lit(None), closed="both")).fill_null(lit(False))
    fs = FeatureSet("fuzz", SCHEMA, {"f0": feature})
    rows = [{**r, "d": d} for r, d in zip(random_rows(random.Random(0), 2), [dt.date(2020, 12, 31), dt.date(1, 1, 1)])]
    assert fuzz_run._mirror(fs, rows, None, {"f0": feature._node}) == []  # no finding: compared with the query as written
    assert fs.row_fn(rows[1])["f0"] is False
    raw = pl.DataFrame({"d": [dt.date(2020, 12, 31), dt.date(1, 1, 1)]}).lazy().select(
        (~pl.col("d").is_between(dt.date(2013, 1, 1), pl.lit(None), closed="both")).fill_null(False))
    assert raw.collect()["d"].to_list() == [False, True]  # polars' optimizer (if this changes, drop the special case)
    assert raw.collect(optimizations=pl.QueryOptFlags.none())["d"].to_list() == [False, False]


def test_a_literal_compared_with_a_maybe_scalar_expression_keeps_every_row():
    """polars' in-memory engine gave ONE row for ``lit(False) > when(b_n).then(lit(False)).otherwise(b)`` when
    every ``b_n`` is true (the streaming engine two): the batch pipeline returned 1 row for 2. The compiler now
    emits the mirrored comparison; every comparison op, with a when/then, coalesce and fill_null operand."""
    from skewless import Boolean as B

    rows = [{"b": False, "b_n": True, "f": 1.0, "i": 1}, {"b": True, "b_n": True, "f": 2.0, "i": 3}]
    maybe_scalar = {"when": when(col("b_n")).then(lit(1.0)).otherwise(col("f")), "coalesce": coalesce(lit(1.0), col("f")),
                    "fill_null": lit(1).fill_null(col("i")), "when_bool": when(col("b_n")).then(lit(False)).otherwise(col("b"))}
    features = {}
    for name, x in maybe_scalar.items():
        k = lit(False) if name == "when_bool" else lit(0.5)
        for op, f in {"gt": k > x, "ge": k >= x, "lt": k < x, "le": k <= x, "eq": k == x, "ne": k != x,
                      "eq_missing": k.eq_missing(x), "ne_missing": k.ne_missing(x)}.items():
            features[f"{name}_{op}"] = f
    inputs = {"b": B, "b_n": Input(B, nullable=True), "f": Float64, "i": Int64}
    for name, feature in features.items():  # one feature per set: a select of only that column
        fs, _ = _parity({name: feature}, inputs, rows)
        assert fs.transform(pl.DataFrame(rows).lazy()).collect(engine="in-memory").height == 2, name


def test_the_mirror_divides_by_a_literal_as_polars_does_on_every_frame_size():
    """Fuzz seed 31: ``min_max_scale(col('f').cbrt().clip(col('f'), lit(None)))`` lowers to ``(x - min) / range``;
    its untyped null sends the mirror to polars without the optimizer, and polars' LAZY engine then cuts a 2-row
    frame into one-row pieces, dividing each exactly (1.0) where polars' eager and optimized paths, and skewless,
    multiply by the reciprocal (0.9999999999999999). The mirror runs the unoptimized query as eager polars does."""
    import importlib
    import random

    from skewless import min_max_scale
    from parity_tests.fuzz.schema import SCHEMA, random_rows

    fuzz_run = importlib.import_module("parity_tests.fuzz.run")
    rows = [{**r, "f": f} for r, f in zip(random_rows(random.Random(0), 2), [5e-324, 0.1])]
    fs = FeatureSet("fuzz", SCHEMA, {"f0": min_max_scale(col("f").cbrt().clip(col("f"), lit(None)))})
    assert fuzz_run.check(fs, rows) == []
    k = 0.4641588833612779  # (x / k on x == k: exactly 1.0, by the reciprocal 0.9999999999999999)
    frame = pl.DataFrame({"x": [k, k]})
    lazy = frame.lazy().select(pl.col("x") / k).collect(optimizations=pl.QueryOptFlags.none())["x"].to_list()
    assert lazy == [1.0, 1.0]  # polars' lazy engine, unoptimized (if this changes, _as_written may go)
    assert frame.select(pl.col("x") / k)["x"].to_list() == [0.9999999999999999] * 2  # eager: the reciprocal
    assert fuzz_run._as_written(frame, pl.col("x") / k).to_list() == [0.9999999999999999] * 2


def test_constants_with_a_zero_term_add_as_polars_adds_scalars():
    """``lit(-0.0) + lit(0.0)`` folded to -0.0 (the dropped-±0-term shortcut, which polars takes on columns only)
    where polars' scalar arithmetic gives 0.0 on every frame size; found by the mirror through
    ``min_max_scale(...)`` / ``robust_scale(...)``'s lowered ``(x * 0.0) + 0.0``. Every ±0/±x pair, + and -."""
    import itertools

    values = [0.0, -0.0, 1.5, -1.5, 0, 3, float("inf"), float("nan")]
    pairs = [(a, b) for a, b in itertools.product(values, values) if not (type(a) is int and type(b) is int)]
    feats, raw = {}, []
    for i, (a, b) in enumerate(pairs):
        feats[f"add{i}"], feats[f"sub{i}"] = lit(a) + lit(b), lit(a) - lit(b)
        raw += [(pl.lit(a) + pl.lit(b)).alias(f"add{i}"), (pl.lit(a) - pl.lit(b)).alias(f"sub{i}")]
    fs = FeatureSet("zero_terms", {"f": Float64}, feats)
    for height in (1, 3):
        frame = pl.DataFrame({"f": [1.0] * height})
        want = {k: str(v) for k, v in frame.select(raw).row(0, named=True).items()}
        got = {k: str(v) for k, v in fs.transform(frame.lazy()).collect().row(0, named=True).items()}
        assert got == want and {k: str(v) for k, v in fs.row_fn({"f": 1.0}).items()} == want
    assert str(fs.features["add8"].source()) == "lit(0.0)"  # (-0.0) + 0.0, folded IEEE


def test_a_constant_quotient_divides_as_polars_divides_two_scalars():
    """``lit(27.69...) / lit(6.07...)`` folded by the reciprocal rule (4.559936510798567) where polars divides two
    scalars exactly on every frame size and engine (4.5599365107985665); was the mirror deviation
    ``ConstantQuotient``, now gone. Floor division and modulo of two scalars divide exactly too: fuzz seed 5150
    found ``lit(-0.0) % lit(-5e-324)`` NaN (1 / 5e-324 is inf) where polars gives 0.0."""
    import random

    rng = random.Random(2)
    pairs = [(rng.uniform(-100, 100), rng.choice([3.0, 7.0, 0.1, 300.0, rng.uniform(-10, 10)])) for _ in range(60)]
    pairs += [(55.0, 3), (1.0, 0.0), (-1.0, -0.0), (0.0, 0.0), (7, 2), (float("inf"), 2.0), (1e308, 1e-308), (3, 0),
              (-0.0, -5e-324), (-0.0, 5e-324), (1.5, 1e-310), (-7, 5e-324), (float("nan"), 3.0)]
    feats, raw = {}, []
    for i, (a, b) in enumerate(pairs):
        for sym, mine, theirs in (("d", lit(a) / lit(b), pl.lit(a) / pl.lit(b)), ("f", lit(a) // lit(b), pl.lit(a) // pl.lit(b)),
                                  ("m", lit(a) % lit(b), pl.lit(a) % pl.lit(b)), ("c", col("f") / (lit(a) / lit(b)), None)):
            feats[f"{sym}{i}"] = mine
            if theirs is not None:
                raw.append(theirs.alias(f"{sym}{i}"))
    fs, _ = _parity(feats, {"f": Float64}, [{"f": 1.0}, {"f": -3.5}, {"f": 0.1}])
    for height in (1, 3):
        frame = pl.DataFrame({"f": [1.0] * height})
        want = {k: str(v) for k, v in frame.lazy().with_columns(raw).collect().row(0, named=True).items() if k != "f"}
        got = {k: str(v) for k, v in fs.transform(frame.lazy()).collect().row(0, named=True).items() if k in want}
        assert got == want


def test_a_zero_term_next_to_a_when_of_literals_is_the_documented_scalar_when_deviation():
    """Fuzz seed 90210: ``min_max_scale(when(b_n).then(lit(A)).otherwise(lit(B)))`` lowers to ``(x * 0.0) + 0.0``
    when A/B make the range 0; polars computes a when of literals as ONE scalar where the condition is uniform,
    and a scalar adds the ±0 term exactly (0.0) where a column keeps -0.0. skewless gives -0.0 on every frame."""
    import importlib
    import random

    from parity_tests.fuzz.schema import SCHEMA, random_rows

    fuzz_run = importlib.import_module("parity_tests.fuzz.run")
    x = when(col("b")).then(lit(-1.0)).otherwise(lit(-2.0)) * 0.0 + 0.0
    for mask in ([True, True, True], [True, False, True]):
        frame = pl.DataFrame({"b": mask})
        raw = frame.with_columns((pl.when(pl.col("b")).then(pl.lit(-1.0)).otherwise(pl.lit(-2.0)) * 0.0 + 0.0).alias("x"))
        assert [str(v) for v in raw["x"]] == (["0.0"] * 3 if all(mask) else ["-0.0"] * 3)  # polars, data-dependent
        fs, _ = _parity({"x": x}, {"b": Boolean}, frame.rows(named=True))
        assert [str(v) for v in fs.transform(frame.lazy()).collect()["x"]] == ["-0.0"] * 3
    stats = fuzz_run.Stats(0)
    fs = FeatureSet("fuzz", SCHEMA, {"f0": when(col("b_n")).then(lit(-1.0)).otherwise(lit(-2.0)) * 0.0 + 0.0})
    rows = [{**r, "b_n": b} for r, b in zip(random_rows(random.Random(0), 2), [None, False])]
    assert fuzz_run.check(fs, rows, stats) == [] and stats.mirror_deviation["ScalarWhen"] == 1
