"""fit(): what is learned, in how many passes, the edge-case policies, lowering, out-of-fold target encoding."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
import xxhash

from skewless import (
    CompileError,
    DefinitionError,
    FeatureSet,
    Float64,
    Input,
    Int64,
    String,
    col,
    fit,
    frequency_encode,
    impute,
    min_max_scale,
    one_hot,
    ordinal_encode,
    quantile_bucketize,
    robust_scale,
    standardize,
    target_encode,
    uniform_bucketize,
    winsorize,
)
from skewless.fitting import FitError, node_key

NAN, INF = float("nan"), float("inf")


def fs_of(features, **inputs):
    inputs = inputs or {"x": Input(Float64, nullable=True)}
    return FeatureSet("t", inputs, features)


def state_of(fitted, feature):
    return fitted.state[node_key(fitted.definition.features[feature].node)]


# --------------------------------------------------------------------------- passes


@pytest.fixture
def collects(monkeypatch):
    calls = []
    real = pl.collect_all

    def counting(frames, *args, **kwargs):
        calls.append(len(frames))
        return real(frames, *args, **kwargs)

    monkeypatch.setattr(pl, "collect_all", counting)
    return calls


def test_independent_fitted_ops_are_learned_in_one_pass(collects):
    fs = fs_of(
        {"a": standardize(col("x")), "b": min_max_scale(col("x")), "c": quantile_bucketize(col("x"), 4),
         "d": one_hot(col("s")), "e": frequency_encode(col("s")), "f": target_encode(col("s")),
         "g": impute(col("x"), "median"), "h": winsorize(col("x").abs(), 0.1, 0.9)},
        x=Input(Float64, nullable=True), s=Input(String, nullable=True),
    )
    df = pl.DataFrame({"x": [1.0, 2.0, None, 4.0], "s": ["a", "b", "a", None], "y": [1.0, 0.0, 1.0, 0.0]})
    fit(fs, df, label="y")
    # One collect_all: the streaming reductions in one select, plus one group_by query per node needing a
    # table (distinct values and counts for the quantiles of c, g, h; counts of d, e; target sums of f;
    # the exact moments of a, skewless.exact).
    assert collects == [8]


def test_nested_fitted_ops_take_one_pass_per_level(collects):
    fs = fs_of({"a": standardize(standardize(col("x")) * 2.0), "b": quantile_bucketize(min_max_scale(col("x")), 3),
                "c": standardize(col("x"))})
    fit(fs, pl.DataFrame({"x": [1.0, 2.0, 3.0, 5.0]}))
    # level 1: the reductions and the exact moments of standardize(x); level 2: the reductions, the moments
    # of the outer standardize and the value counts for quantile_bucketize
    assert collects == [2, 3]


def test_fit_reads_a_lazy_scan_with_the_streaming_engine(tmp_path):
    pl.DataFrame({"x": [float(i) for i in range(1000)]}).write_parquet(tmp_path / "t.parquet")
    fitted = fit(fs_of({"z": standardize(col("x"))}), pl.scan_parquet(tmp_path / "t.parquet"))
    st = state_of(fitted, "z")
    assert st["count"] == 1000 and st["mean"] == 499.5 and st["std"] == float(np.std(np.arange(1000.0)))
    assert fitted.meta["training_rows"] == 1000 and fitted.meta["polars_version"] == pl.__version__


def test_fit_uses_exactly_the_rows_given():
    df = pl.DataFrame({"x": [1.0, 2.0, 3.0, 100.0]})
    fs = fs_of({"z": standardize(col("x"))})
    assert state_of(fit(fs, df.head(3)), "z")["mean"] == 2.0
    assert state_of(fit(fs, df), "z")["mean"] == 26.5


# --------------------------------------------------------------------------- policies


def test_nan_and_inf_are_ignored_in_fit_and_propagate_in_transform():
    fs = fs_of({"z": standardize(col("x")), "m": min_max_scale(col("x")), "imp": impute(col("x"), "mean"),
                "b": quantile_bucketize(col("x"), 2), "w": winsorize(col("x"), 0.25, 0.75)})
    fitted = fit(fs, [{"x": v} for v in [1.0, 3.0, NAN, INF, -INF, None]])
    assert state_of(fitted, "z") | {"expr": ""} == {"op": "Standardize", "count": 2, "mean": 2.0, "std": 1.0, "expr": ""}
    f = fitted.row_fn
    assert f({"x": 3.0}) == {"z": 1.0, "m": 1.0, "imp": 3.0, "b": 1, "w": 2.5}
    out = f({"x": NAN})
    assert math.isnan(out["z"]) and math.isnan(out["m"]) and out["imp"] == 2.0 and out["b"] is None
    assert math.isnan(out["w"])  # clip keeps NaN
    assert f({"x": INF}) == {"z": INF, "m": INF, "imp": INF, "b": 1, "w": 2.5}
    assert f({"x": None}) == {"z": None, "m": None, "imp": 2.0, "b": None, "w": None}


@pytest.mark.parametrize("rows", [[5.0, 5.0, None], [None, NAN], [], [7.0]], ids=["constant", "all_null", "empty", "one"])
def test_degenerate_statistics_give_zero(rows):
    fs = fs_of({"z": standardize(col("x")), "m": min_max_scale(col("x")), "r": robust_scale(col("x")),
                "q": quantile_bucketize(col("x"), 4), "u": uniform_bucketize(col("x"), 4),
                "i": impute(col("x"), "mean"), "w": winsorize(col("x"))})
    f = fit(fs, [{"x": v} for v in rows]).row_fn
    fill = rows[0] if rows and rows[0] == rows[0] and rows[0] is not None else 0.0
    assert f({"x": 5.0}) == {"z": 0.0, "m": 0.0, "r": 0.0, "q": 0, "u": 0, "i": 5.0, "w": 5.0 if len(rows) != 1 else 7.0}
    assert f({"x": -1e300})["z"] == 0.0 and f({"x": None})["i"] == fill
    out = f({"x": NAN})
    assert math.isnan(out["z"]) and math.isnan(out["m"]) and out["q"] is None and out["i"] == fill
    assert math.isnan(f({"x": INF})["z"])


def test_empty_vocabulary_and_all_null_categories():
    fs = fs_of({"o": ordinal_encode(col("s")), "h": one_hot(col("s")), "f": frequency_encode(col("s")),
                "t": target_encode(col("s")), "m": impute(col("s"), "most_frequent")},
               s=Input(String, nullable=True))
    f = fit(fs, [{"s": None, "y": 1.0}, {"s": None, "y": 0.0}], label="y").row_fn
    assert f({"s": "a"}) == {"o": 0, "h__other": 1, "h__null": 0, "f": 0.0, "t": 0.5, "m": "a"}
    assert f({"s": None}) == {"o": 1, "h__other": 0, "h__null": 1, "f": 1.0, "t": 0.5, "m": ""}


def test_vocabulary_selection_and_codes():
    fs = fs_of({"o": ordinal_encode(col("s")), "top2": ordinal_encode(col("s"), max_categories=2),
                "min3": ordinal_encode(col("s"), min_frequency=3), "frac": ordinal_encode(col("s"), min_frequency=0.4)},
               s=Input(String, nullable=True))
    data = ["b"] * 4 + ["a"] * 3 + ["c"] * 3 + ["z", None]
    fitted = fit(fs, [{"s": v} for v in data])
    assert state_of(fitted, "o")["vocabulary"] == ["a", "b", "c", "z"]
    assert state_of(fitted, "top2")["vocabulary"] == ["a", "b"]  # ties (a, c: 3) go to the smaller value
    assert state_of(fitted, "min3")["vocabulary"] == ["a", "b", "c"]
    assert state_of(fitted, "frac")["vocabulary"] == []  # 0.4 * 12 rows = 4.8 > every count
    f = fitted.row_fn
    assert f({"s": "c"}) == {"o": 2, "top2": 2, "min3": 2, "frac": 0}
    assert f({"s": None}) == {"o": 5, "top2": 3, "min3": 4, "frac": 1}
    assert f({"s": "new"}) == {"o": 4, "top2": 2, "min3": 3, "frac": 0}


def test_one_hot_columns_and_naming():
    fs = fs_of({"c": one_hot(col("s")), "n": one_hot(col("i")), "k": standardize(col("i"))},
               s=Input(String, nullable=True), i=Input(Int64))
    fitted = fit(fs, [{"s": s, "i": i} for s, i in [("AA", -1), ("other", 2), ("null", 2), (None, 7)]])
    assert list(fitted.output_schema()) == [
        "c__AA", "c__'null'", "c__'other'", "c__other", "c__null", "n__-1", "n__2", "n__7", "n__other", "n__null", "k"]
    assert all(f.dtype == Int64() and not f.nullable for k, f in fitted.output_schema().items() if k != "k")
    assert fitted.row_fn({"s": "other", "i": 3}) == {
        "c__AA": 0, "c__'null'": 0, "c__'other'": 1, "c__other": 0, "c__null": 0,
        "n__-1": 0, "n__2": 0, "n__7": 0, "n__other": 1, "n__null": 0, "k": fitted.row_fn({"s": None, "i": 3})["k"]}


def test_one_hot_must_be_a_feature_of_its_own():
    fs = fs_of({"oh": one_hot(col("s")), "bad": col("oh") + 1}, s=Input(String))
    with pytest.raises(DefinitionError, match="'bad'.*one_hot.*must be a feature of its own"):
        fit(fs, [{"s": "a"}])


def test_one_hot_column_collisions_are_refused():
    fs = fs_of({"oh": one_hot(col("s")), "oh__a": col("s").str.len_chars()}, s=Input(String))
    with pytest.raises(DefinitionError, match="oh__a.*collide"):
        fit(fs, [{"s": "a"}])


def test_unfitted_feature_sets_do_not_compile():
    fs = fs_of({"z": standardize(col("x"))})
    with pytest.raises(CompileError, match="standardize.*fitted op.*skewless.fit"):
        fs.row_fn
    with pytest.raises(CompileError, match="fitted op"):
        fs.transform(pl.DataFrame({"x": [1.0]}))


def test_type_errors_are_reported_at_definition():
    with pytest.raises(DefinitionError, match="standardize\\(\\) needs a numeric operand"):
        fs_of({"z": standardize(col("s"))}, s=String)
    with pytest.raises(DefinitionError, match="bucketize floats first"):
        fs_of({"z": one_hot(col("x"))})
    with pytest.raises(DefinitionError, match="needs a fill_value"):
        fs_of({"z": impute(col("x"), "constant")})
    with pytest.raises(DefinitionError, match="n_bins"):
        fs_of({"z": quantile_bucketize(col("x"), 1)})


def test_lowered_ir_is_plain_arithmetic_with_the_learned_constants():
    fitted = fit(fs_of({"z": standardize(col("x").log1p())}), [{"x": v} for v in [0.0, 1.0, 3.0]])
    st = state_of(fitted, "z")
    assert fitted.lowered.features["z"].source() == f"((col('x').log1p() - lit({st['mean']!r})) / lit({st['std']!r}))"
    x = 2.0
    assert fitted.row_fn({"x": x})["z"] == (math.log1p(x) - st["mean"]) * (1.0 / st["std"])


def test_int_winsorize_widens_its_bounds():
    fitted = fit(fs_of({"w": winsorize(col("i"), 0.05, 0.95)}, i=Input(Int64)), [{"i": i} for i in range(1, 11)])
    st = state_of(fitted, "w")
    values = np.arange(1, 11)
    assert (st["lower_value"], st["upper_value"]) == (np.quantile(values, 0.05), np.quantile(values, 0.95))
    assert (st["lower_value"], st["upper_value"]) == (1.45, 9.549999999999999)
    assert [fitted.row_fn({"i": i})["w"] for i in (-5, 1, 2, 10, 11)] == [1, 1, 2, 10, 10]


# --------------------------------------------------------------------------- quantiles


def test_quantiles_are_numpy_linear_bitwise():
    rng = np.random.default_rng(7)
    qs = [0.1, 0.25, 1 / 3, 0.5, 0.75, 0.9, 0.01, 0.99]
    fs = fs_of({f"q{i}": winsorize(col("x"), q, 1.0) for i, q in enumerate(qs)})
    for trial in range(40):
        n = int(rng.integers(1, 300))
        values = rng.normal(size=n) * 10.0 ** rng.integers(-5, 8)
        if trial % 3 == 0:
            values = np.round(values)  # ties
        fitted = fit(fs, pl.DataFrame({"x": values}))
        got = [state_of(fitted, f"q{i}")["lower_value"] for i in range(len(qs))]
        assert got == [float(np.quantile(values, q, method="linear")) for q in qs]


def test_median_is_the_linear_half_quantile():
    values = [1.0, 2.0, 4.0, 10.0]
    fitted = fit(fs_of({"m": impute(col("x"), "median"), "r": robust_scale(col("x"))}), [{"x": v} for v in values])
    assert state_of(fitted, "m")["value"] == 3.0 == float(np.median(values))
    assert state_of(fitted, "r")["median"] == 3.0


def test_quantile_edges_merge_ties_like_kbins():
    fitted = fit(fs_of({"b": quantile_bucketize(col("x"), 4)}), [{"x": v} for v in [0.0, 0.0, 0.0, 0.0, 1.0, 2.0]])
    st = state_of(fitted, "b")
    assert st["quantiles"] == [0.0, 0.0, 0.0, 0.75, 2.0]
    assert st["edges"] == [0.75]
    assert [fitted.row_fn({"x": v})["b"] for v in (-1.0, 0.0, 0.75, 5.0)] == [0, 0, 1, 1]


# --------------------------------------------------------------------------- target encoding


def _te_frame(n=200, seed=3):
    rng = np.random.default_rng(seed)
    return pl.DataFrame({
        "s": [None if i % 17 == 0 else f"c{int(v)}" for i, v in enumerate(rng.integers(0, 12, n))],
        "y": [float(v) for v in rng.integers(0, 2, n)],
    }).with_columns(pl.when(pl.int_range(pl.len()) % 23 == 5).then(None).otherwise(pl.col("y")).alias("y"))


def _expected_oof(df, folds, m, keys=None):
    keys = keys if keys is not None else [str(i) for i in range(df.height)]
    fold = [xxhash.xxh64_intdigest(k.encode()) % folds for k in keys]
    s, y = df["s"].to_list(), df["y"].to_list()
    out = []
    for i in range(df.height):
        other = [j for j in range(df.height) if fold[j] != fold[i] and y[j] is not None]
        prior = sum(y[j] for j in other) / len(other) if other else 0.0
        same = [j for j in other if s[j] == s[i]]
        n_c, s_c = len(same), sum(y[j] for j in same)
        out.append((s_c + m * prior) / (n_c + m) if n_c + m > 0 else prior)
    return out


def test_training_rows_get_out_of_fold_encodings():
    df = _te_frame()
    fs = fs_of({"te": target_encode(col("s"), smoothing=3.0, folds=4), "o": ordinal_encode(col("s"))},
               s=Input(String, nullable=True))
    fitted = fit(fs, df, label="y")
    train = fitted.transform_training(df).collect()
    assert train["te"].to_list() == _expected_oof(df, 4, 3.0)
    serve = fitted.transform(df).collect()
    assert train["o"].equals(serve["o"])  # every other feature is the serving one
    assert not train["te"].equals(serve["te"])
    assert fitted.transform_training(df).collect().equals(train)  # deterministic


def test_out_of_fold_encodings_stream_in_order_over_many_batches(tmp_path):
    # Large enough for the streaming engine to cut the rows into many batches; the encodings are
    # looked up per batch, so this checks they stay with their rows. The reference is an independent
    # group_by + join over the whole frame.
    n = 300_000
    df = pl.DataFrame({"s": [None if i % 101 == 0 else f"k{(i * 7919) % 997}" for i in range(n)],
                       "y": [float((i * 31) % 7 < 3) for i in range(n)]})
    fs = fs_of({"te": target_encode(col("s"), smoothing=2.0, folds=5)}, s=Input(String, nullable=True))
    fitted = fit(fs, df, label="y")
    fitted.transform_training(df, keep=("s",)).sink_parquet(tmp_path / "train.parquet", engine="streaming")
    got = pl.read_parquet(tmp_path / "train.parquet")

    import polars_hash as plh

    fold = plh.NonCryptographicHashingNameSpace(pl.int_range(pl.len(), dtype=pl.Int64).cast(pl.String)).xxhash64(seed=0)
    rows = df.with_columns((fold % 5).cast(pl.Int64).alias("f"))
    cells = rows.group_by("s", "f").agg(pl.col("y").sum().alias("sy"), pl.len().alias("ny"))
    per_fold = rows.group_by("f").agg(pl.col("y").sum().alias("fy"), pl.len().alias("fn"))
    ref = (rows.join(cells, on=["s", "f"], how="left", nulls_equal=True, maintain_order="left")
           .join(per_fold, on="f", how="left", maintain_order="left")
           .join(cells.group_by("s").agg(pl.col("sy").sum().alias("cy"), pl.col("ny").sum().alias("cn")),
                 on="s", how="left", nulls_equal=True, maintain_order="left"))
    prior = (ref["y"].sum() - ref["fy"]) / (n - ref["fn"])
    n_c, s_c = ref["cn"] - ref["ny"], ref["cy"] - ref["sy"]
    expected = (s_c + 2.0 * prior) / (n_c + 2.0)
    assert got["s"].equals(df["s"])  # same rows, same order
    assert got["te"].to_list() == expected.to_list()


def test_a_row_never_sees_its_own_label():
    df = _te_frame(60)
    fs = fs_of({"te": target_encode(col("s"))}, s=Input(String, nullable=True))
    base = fit(fs, df, label="y").transform_training(df).collect()["te"]
    for i in (0, 7, 33):
        flipped = df.with_columns(pl.when(pl.int_range(pl.len()) == i).then(1.0 - pl.col("y")).otherwise(pl.col("y"))
                                  .alias("y"))
        if flipped["y"][i] is None:
            continue
        out = fit(fs, flipped, label="y").transform_training(flipped).collect()["te"]
        assert out[i] == base[i]
        assert out.to_list() != base.to_list()  # other rows do see it


def test_fold_key_decides_the_folds():
    df = _te_frame(80).with_columns(pl.format("id-{}", pl.int_range(pl.len())).alias("flight_id"))
    fs = fs_of({"te": target_encode(col("s"), folds=3, smoothing=1.0)}, s=Input(String, nullable=True))
    fitted = fit(fs, df, label="y")
    out = fitted.transform_training(df, fold_key="flight_id").collect()["te"].to_list()
    assert out == _expected_oof(df, 3, 1.0, keys=df["flight_id"].to_list())
    shuffled = df.sample(fraction=1.0, shuffle=True, seed=1)
    again = fitted.transform_training(shuffled, fold_key="flight_id", keep=("flight_id",)).collect()
    assert dict(zip(again["flight_id"], again["te"])) == dict(zip(df["flight_id"], out))


def test_transform_training_refuses_other_rows():
    df = _te_frame(50)
    fitted = fit(fs_of({"te": target_encode(col("s"))}, s=Input(String, nullable=True)), df, label="y")
    with pytest.raises(FitError, match="training rows the set was fitted on"):
        fitted.transform_training(df.head(10))


def test_target_encode_needs_a_label():
    fs = fs_of({"te": target_encode(col("s"))}, s=Input(String, nullable=True))
    with pytest.raises(FitError, match="needs the label"):
        fit(fs, [{"s": "a"}])
    with pytest.raises(FitError, match="label column 'y' is missing"):
        fit(fs, pl.DataFrame({"s": ["a"]}), label="y")


def test_label_can_be_a_polars_expression():
    df = pl.DataFrame({"s": ["a", "a", "b"], "delay": [30, None, 5]})
    fs = fs_of({"te": target_encode(col("s"), smoothing=0.0)}, s=Input(String, nullable=True))
    fitted = fit(fs, df, label=pl.col("delay") > 15)
    assert fitted.row_fn({"s": "a"})["te"] == 1.0 and fitted.row_fn({"s": "b"})["te"] == 0.0
    assert fitted.transform_training(df, label=pl.col("delay") > 15).collect().height == 3


# --------------------------------------------------------------------------- the flights demo


def test_flights_fitted_demo_has_zero_mismatches_on_the_whole_table(tmp_path):
    from skewless.artifact import load, save
    from skewless.datasets import load_flights
    from skewless.definitions.flights_fitted import TRAIN_END, flights_fitted, split, training_label

    df = load_flights()
    train, held_out = split(df)
    assert train.height + held_out.height == df.height == 336_776
    assert train["time_hour"].max() < TRAIN_END <= held_out["time_hour"].min()
    fitted = fit(flights_fitted, train, label=training_label())
    assert fitted.meta["training_rows"] == train.height
    # Vocabularies and edges come from the training months only; the held-out months are still served.
    report = fitted.check_parity(df)
    assert report.rows == 336_776
    assert report.ok, report.summary()
    assert sum(report.mismatch_counts.values()) == 0
    assert len(fitted.output_schema()) > len(flights_fitted.features)  # one-hot columns expanded
    # The stored artifact serves the same values.
    loaded = load(save(fitted, tmp_path / "flights_fitted.json"), flights_fitted)
    sample = held_out.sample(3_000, seed=0)
    assert loaded.transform(sample).collect().equals(fitted.transform(sample).collect())
    assert loaded.check_parity(sample).ok
    # Training rows: out-of-fold target encodings, everything else as served.
    training = fitted.transform_training(train, label=training_label()).collect()
    served = fitted.transform(train).collect()
    assert training.drop("route_te", "carrier_te", "tail_te").equals(served.drop("route_te", "carrier_te", "tail_te"))
    assert (training["route_te"] != served["route_te"]).mean() > 0.9


def test_streaming_engine_learns_the_same_state_up_to_summation_order(tmp_path):
    rng = np.random.default_rng(5)
    df = pl.DataFrame({"x": rng.normal(size=50_000) * 1e3, "s": [f"c{v}" for v in rng.integers(0, 50, 50_000)],
                       "y": rng.integers(0, 2, 50_000).astype(float)})
    df.write_parquet(tmp_path / "d.parquet", row_group_size=5_000)
    fs = fs_of({"z": standardize(col("x")), "q": quantile_bucketize(col("x"), 7), "o": one_hot(col("s")),
                "t": target_encode(col("s")), "m": impute(col("x"), "median")},
               x=Input(Float64, nullable=True), s=Input(String))
    a = fit(fs, pl.scan_parquet(tmp_path / "d.parquet"), label="y", engine="in-memory")
    b = fit(fs, pl.scan_parquet(tmp_path / "d.parquet"), label="y", engine="streaming")
    for key, sa in a.state.items():
        sb = b.state[key]
        for field, va in sa.items():
            if isinstance(va, float):
                assert abs(va - sb[field]) <= 4 * np.spacing(abs(va)), (sa["op"], field)
            elif sa["op"] == "TargetEncode" and field in ("sums", "label_sum"):
                assert np.allclose(va, sb[field], rtol=1e-12)
            else:
                assert va == sb[field], (sa["op"], field)
