"""Parity cases: fitted ops (fit on ``fit_on``, check the lowered set on edge rows) and the applied ops.

Each fitted case learns its state from a small, deliberately awkward training
set (NaN, ±inf and nulls to ignore, hostile vocabulary strings, a constant
column, an all-null column, no rows at all, a single row), then checks the
lowered feature set on the edge-value rows: unseen categories, nulls, NaN,
±inf and values far outside the training range.
"""

from __future__ import annotations

from skewless import (
    Boolean,
    Float64,
    Input,
    Int64,
    String,
    bucketize,
    col,
    concat_str,
    frequency_encode,
    impute,
    map_values,
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

from ..edges import FLOATS, INTS, STRINGS
from . import case

NAN, INF = float("nan"), float("inf")
I64_MAX = 2**63 - 1

# Vocabulary strings that must stay data: quotes, newlines, code, names of the special buckets.
HOSTILE = ["'quote\"", "line\nbreak", "__import__('os').system('echo pwned')", "\"); raise SystemExit(1); (\"",
           "other", "null", "{out}", "a\\b", "x\x00y"]


def _x(values):
    return [{"x": v} for v in values]


_SCALERS = {
    "std": standardize(col("x")),
    "std_ddof1": standardize(col("x"), ddof=1),
    "minmax": min_max_scale(col("x")),
    "robust": robust_scale(col("x")),
    "robust_10_90": robust_scale(col("x"), quantile_range=(0.1, 0.9)),
    "wins": winsorize(col("x"), 0.1, 0.9),
    "wins_full": winsorize(col("x"), 0.0, 1.0),
    "qbin4": quantile_bucketize(col("x"), 4),
    "qbin10": quantile_bucketize(col("x"), 10),
    "ubin5": uniform_bucketize(col("x"), 5),
    "imp_mean": impute(col("x"), "mean"),
    "imp_median": impute(col("x"), "median"),
    "imp_mode": impute(col("x"), "most_frequent"),
    "imp_const": impute(col("x"), "constant", fill_value=-1.0),
}

# Float64: NaN, ±inf and null in training are ignored by the statistics.
case(
    "fitted.scalers_float",
    {"x": Float64},
    {
        **_SCALERS,
        "std_log": standardize(col("x").abs().log1p()),  # composes with core ops
        "std_std": standardize(standardize(col("x")) * 3.0),  # nested fitted ops, innermost first
        "minmax_affine": min_max_scale(col("x")) * 2.0 - 1.0,
    },
    fit_on=_x([1.0, 2.5, None, NAN, INF, -INF, -3.0, 10.0, 7.25, 2.5, 0.1, -0.0, 2.5]),
    rows=_x([1.0, 2.5, 10.0, -3.0, 7.25, 0.1, 1.75, 4.0, 2.4999999999999996]),
)

# Int64: statistics in Float64; winsorize keeps Int64 with widened integer bounds.
case(
    "fitted.scalers_int",
    {"i": Int64},
    {
        "std": standardize(col("i")), "minmax": min_max_scale(col("i")), "robust": robust_scale(col("i")),
        "wins": winsorize(col("i"), 0.2, 0.8), "wins_huge": winsorize(col("i") * 1_000_000_000_000, 0.1, 0.9),
        "qbin": quantile_bucketize(col("i"), 4), "ubin": uniform_bucketize(col("i"), 3),
        "imp_mean": impute(col("i"), "mean"), "imp_median": impute(col("i"), "median"),
        "imp_mode": impute(col("i"), "most_frequent"), "imp_const": impute(col("i"), "constant", fill_value=7),
        "imp_const_f": impute(col("i"), "constant", fill_value=0.5),
    },
    fit_on=[{"i": v} for v in [3, 1, 4, 1, 5, 9, 2, 6, None, 5, 3, 5, -7, 2**40, 2400]],
    rows=[{"i": v} for v in [3, 1, 4, 5, 9, 2, 6, -7, 2**40, 2**53, 2**53 + 1]],
)

# A non-nullable Int64 input (no null guards; impute(mean) is a plain cast).
case(
    "fitted.non_nullable",
    {"i": Input(Int64), "x": Input(Float64)},
    {"imp_mean": impute(col("i"), "mean"), "std": standardize(col("i")), "imp_x": impute(col("x"), "median"),
     "code": ordinal_encode(col("i")), "qbin": quantile_bucketize(col("x"), 3), "wins": winsorize(col("x"))},
    fit_on=[{"i": v, "x": float(v) / 3} for v in [4, 8, 15, 16, 23, 42]],
)

# Degenerate statistics: constant column (spread 0), all-null/NaN column, no rows, one row.
for tag, rows in [
    ("constant", _x([5.0, 5.0, 5.0, None])),
    ("all_missing", _x([None, NAN, None, INF])),
    ("empty", []),
    ("single_row", _x([-2.5])),
]:
    case(f"fitted.degenerate_{tag}", {"x": Float64}, dict(_SCALERS), fit_on=rows, rows=_x([5.0, 4.0, 6.0]))

    label_rows = [{"s": None if r["x"] is None else str(r["x"]), "b": None, "y": r["x"]} for r in rows]
    case(
        f"fitted.degenerate_vocab_{tag}",
        {"s": String, "b": Boolean},
        {
            "ord": ordinal_encode(col("s")), "oh": one_hot(col("s")), "freq": frequency_encode(col("s")),
            "te": target_encode(col("s")), "ord_b": ordinal_encode(col("b")), "oh_b": one_hot(col("b")),
            "imp_s": impute(col("s"), "most_frequent"), "imp_b": impute(col("b"), "most_frequent"),
            "imp_s_fill": impute(col("s"), "most_frequent", fill_value="?"),
        },
        fit_on=label_rows,
        label="y",
        rows=[{"s": "5.0", "b": True}, {"s": "nan", "b": False}],
    )

# Every fitted op fitted on the edge values themselves (extremes overflow the sums of squares: std is inf,
# which counts as no spread), then checked on the edge rows.
_EDGE_FIT = [
    {"x": FLOATS[k % len(FLOATS)] if k % 29 else None, "i": INTS[k % len(INTS)] if k % 19 else None,
     "s": STRINGS[k % len(STRINGS)] if k % 31 else None, "y": [0.0, 1.0, 0.25, NAN, None][k % 5]}
    for k in range(len(FLOATS) * len(INTS) * 2)
]
case(
    "fitted.fit_on_edges",
    {"x": Float64, "i": Int64, "s": String},
    {
        **_SCALERS,
        "i_std": standardize(col("i")), "i_wins": winsorize(col("i")), "i_qbin": quantile_bucketize(col("i"), 5),
        "i_ubin": uniform_bucketize(col("i"), 4), "i_robust": robust_scale(col("i")), "i_minmax": min_max_scale(col("i")),
        "s_ord": ordinal_encode(col("s"), max_categories=20), "s_oh": one_hot(col("s"), min_frequency=30),
        "s_freq": frequency_encode(col("s")), "s_te": target_encode(col("s")), "i_te": target_encode(col("i")),
        "s_imp": impute(col("s"), "most_frequent"), "i_imp": impute(col("i"), "median"),
    },
    fit_on=_EDGE_FIT,
    label="y",
    edge_limit=2000,
)

# String categories, with hostile vocabulary strings, min_frequency and max_categories.
_S_TRAIN = (["a", "b", "b", "c", "c", "c", "JFK-LAX", "JFK-LAX", "İ", "", None, None, "🙂👍🏽"] + HOSTILE
            + ["other", "null", "line\nbreak"])
case(
    "fitted.encoders_string",
    {"s": String},
    {
        "ord": ordinal_encode(col("s")), "ord_max2": ordinal_encode(col("s"), max_categories=2),
        "ord_min2": ordinal_encode(col("s"), min_frequency=2), "ord_frac": ordinal_encode(col("s"), min_frequency=0.1),
        "oh": one_hot(col("s")), "oh_max3": one_hot(col("s"), max_categories=3),
        "freq": frequency_encode(col("s")), "imp": impute(col("s"), "most_frequent"),
        "imp_c": impute(col("s"), "constant", fill_value="missing"),
    },
    fit_on=[{"s": v} for v in _S_TRAIN],
    rows=[{"s": v} for v in _S_TRAIN],
)

# Int64 and Boolean categories.
case(
    "fitted.encoders_int_bool",
    {"i": Int64, "b": Boolean},
    {"ord_i": ordinal_encode(col("i")), "oh_i": one_hot(col("i"), min_frequency=2), "freq_i": frequency_encode(col("i")),
     "ord_b": ordinal_encode(col("b")), "oh_b": one_hot(col("b")), "freq_b": frequency_encode(col("b")),
     "te_i": target_encode(col("i"), smoothing=2.0), "te_b": target_encode(col("b"), smoothing=0.0),
     "imp_b": impute(col("b"), "most_frequent"), "imp_i": impute(col("i"), "most_frequent")},
    fit_on=[{"i": i, "b": b, "y": y} for i, b, y in [
        (1, True, 1.0), (1, False, 0.0), (2, True, 1.0), (-7, None, 0.5), (None, True, 0.0), (2, True, None),
        (2**53 + 1, False, 3.0), (-(2**63), True, NAN), (1, None, 1.0), (None, None, 2.0),
    ]],
    label="y",
    edge_limit=1000,
)

# Target encoding: smoothing, null and NaN labels ignored, null as a category, unseen -> prior.
case(
    "fitted.target_encode",
    {"s": String, "t": String},
    {
        "te": target_encode(col("s")), "te_m0": target_encode(col("s"), smoothing=0.0),
        "te_m1": target_encode(col("s"), smoothing=1.0, folds=3),
        "te_pair": target_encode(concat_str(col("s"), col("t"), separator="-")),
        "te_std": standardize(target_encode(col("t"), smoothing=0.5)),
    },
    fit_on=[{"s": s, "t": t, "y": y} for s, t, y in [
        ("a", "x", 1.0), ("a", "y", 0.0), ("a", None, 1.0), ("b", "x", 0.0), ("b", "x", None), ("c", "y", NAN),
        (None, "y", 1.0), (None, "x", 0.0), ("'quote\"", "z", 7.5), ("line\nbreak", "z", -2.0), ("d", "x", 0.1),
    ]],
    label="y",
    edge_limit=1000,
    rows=[{"s": s, "t": t} for s in ["a", "b", "c", "d", None, "zz"] for t in ["x", "y", "z", None]],
)

# Fitted ops reading other features and composing with the rest of the API.
case(
    "fitted.composition",
    {"x": Float64, "s": String},
    {
        "d": col("x").abs().log1p(),
        "d_std": standardize(col("d")),
        "code": ordinal_encode(col("s").str.to_lowercase(), max_categories=3),
        "code_plus": col("code") + 1,
        "mix": standardize(col("x")) * frequency_encode(col("s")),
        "bucket_of_std": quantile_bucketize(col("d_std"), 3),
        "imputed_scaled": min_max_scale(impute(col("x"), "median")),
        "filled": impute(col("s").str.to_uppercase(), "most_frequent"),
    },
    fit_on=[{"x": x, "s": s} for x, s in [(1.0, "A"), (2.0, "a"), (None, "b"), (8.0, "B"), (NAN, None), (3.0, "c"),
                                          (-4.0, "d"), (0.5, "a")]],
    edge_limit=1200,
)

# Applied ops used directly: map_values and bucketize.
case(
    "fitted.map_values",
    {"s": String, "i": Int64, "b": Boolean},
    {
        "s_int": map_values(col("s"), {"a": 1, "abc": 2, "": 3, "İ": 4, "'quote\"": 5}, default=0),
        "s_float_null": map_values(col("s"), {"a": 0.5, "ABC": -0.0}, default=None),
        "s_str": map_values(col("s"), {"a": "A", "x\x00y": "nul"}, default="?"),
        "s_empty": map_values(col("s"), {}, default=-1),
        "s_empty_null": map_values(col("s"), {}, dtype=Float64),
        "i_float": map_values(col("i"), {0: 0.0, -1: NAN, I64_MAX: INF, -(2**63): 1.5}, default=2.5),
        "i_bool": map_values(col("i"), {7: True, 15: False}, default=None),
        "b_int": map_values(col("b"), {True: 1}, default=0),
        "b_str": map_values(col("b"), {True: "yes", False: "no"}),
    },
    edge_limit=1200,
)

case(
    "fitted.bucketize",
    {"x": Float64, "i": Int64},
    {
        "left": bucketize(col("x"), [-1.0, 0.0, 2.5, 100.0]),
        "right": bucketize(col("x"), [-1.0, 0.0, 2.5, 100.0], closed="right"),
        "single": bucketize(col("x"), [0.5]),
        "none": bucketize(col("x"), []),
        "tiny": bucketize(col("x"), [-5e-324, 5e-324], closed="right"),
        "i_left": bucketize(col("i"), [0, 7, 2**53, 9.3e18]),
        "i_right": bucketize(col("i"), [0, 7, 2**53], closed="right"),
        "i_none": bucketize(col("i"), []),
    },
    edge_limit=1200,
)
