"""Parity cases: numeric (math functions, rounding, NaN handling, clip, is_between, horizontal reductions)."""

from __future__ import annotations

import math
import random
import struct

from skewless import Float64, Input, Int64, String, col, lit, max_horizontal, min_horizontal, sum_horizontal

from . import case


def _random_floats(n: int, seed: int) -> list[float]:
    """Deterministic spread of magnitudes: small, unit, large, random bit patterns, exact halves."""
    rng = random.Random(seed)
    out: list[float] = []
    for i in range(n):
        kind = i % 6
        if kind == 0:
            out.append(rng.gauss(0.0, 10.0))
        elif kind == 1:
            out.append(rng.uniform(-1.0, 1.0))
        elif kind == 2:
            out.append(math.copysign(math.exp(rng.uniform(-745.0, 709.0)), rng.random() - 0.5))
        elif kind == 3:
            out.append(struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0])
        elif kind == 4:
            out.append(rng.randint(-(10**6), 10**6) / 8.0)  # exact halves and quarters
        else:
            out.append(rng.randint(-(10**7), 10**7) / 1000.0)  # decimal-looking values
    return out


def _unary(x):
    """Every unary numeric op on ``x`` (Float64 or Int64)."""
    return {
        "abs": x.abs(), "sign": x.sign(), "floor": x.floor(), "ceil": x.ceil(),
        "round0": x.round(), "round0_away": x.round(0, mode="half_away_from_zero"),
        "round1": x.round(1), "round2": x.round(2), "round2_away": x.round(2, "half_away_from_zero"),
        "round3": x.round(3), "round16": x.round(16), "round23": x.round(23), "round300": x.round(300),
        "round310_away": x.round(310, "half_away_from_zero"), "round326": x.round(326),
        "exp": x.exp(), "log": x.log(), "log2": x.log(2), "log10": x.log10(), "log_b10": x.log(10),
        "log_half": x.log(0.5), "log_b1": x.log(1), "log_b0": x.log(0), "log_bneg": x.log(-2.0),
        "log_binf": x.log(float("inf")), "log1p": x.log1p(), "sqrt": x.sqrt(), "cbrt": x.cbrt(),
        "sin": x.sin(), "cos": x.cos(), "tan": x.tan(), "arcsin": x.arcsin(), "arctan": x.arctan(),
        "is_nan": x.is_nan(), "is_finite": x.is_finite(), "is_infinite": x.is_infinite(),
        "fill_nan0": x.fill_nan(0.0), "fill_nan_null": x.fill_nan(None), "fill_nan_int": x.fill_nan(-1),
        "neg_abs": (-x).abs(), "exp_log": x.log().exp(),
    }


case("numeric.unary_float", {"a": Float64}, _unary(col("a")),
     rows=[{"a": v} for v in [2.675, 1.005, 0.125, 981.065, -0.49999999999999994, 0.49999999999999994, 4503599627370497.0,
                              1e-300, 709.782712893384, 709.7827128933841, -745.2, 1e22, 1e23, -8.0, 27.0, 1000.0,
                              -1.0 + 1e-16, -1.0000000000000002, 1.0000000000000002, 0.9999999999999999, 0.5,
                              1e308, math.pi / 2, 1e-5, -1e-320]])
case("numeric.unary_int", {"i": Int64}, _unary(col("i")),
     rows=[{"i": v} for v in [8, -27, 1000, 2**53 - 1, -(2**62), 10**15 + 1]])
case("numeric.unary_float_random", {"a": Input(Float64, nullable=False)}, _unary(col("a")), edges=False,
     rows=[{"a": v} for v in _random_floats(6000, seed=11)])
_irng = random.Random(12)
case("numeric.unary_int_random", {"i": Input(Int64, nullable=False)},
     {k: v for k, v in _unary(col("i")).items() if not k.startswith("round")}, edges=False,
     rows=[{"i": _irng.randint(-(2**63), 2**63 - 1) >> _irng.randint(0, 62)} for _ in range(2000)])

# fill_nan with a column value (null fill values, supertype Int64 -> Float64).
case(
    "numeric.fill_nan_col",
    {"a": Float64, "b": Float64, "i": Int64},
    {"fill_b": col("a").fill_nan(col("b")), "fill_i": col("a").fill_nan(col("i")),
     "int_fill_f": col("i").fill_nan(col("b")), "int_fill_i": col("i").fill_nan(col("i") + 1),
     "fill_expr": (col("a") / col("b")).fill_nan(col("b").fill_nan(-1.0))},
    edge_limit=1500,
)

# clip: literal, column and null bounds; NaN and -0.0; lower > upper; Int64 with float literal bounds.
case(
    "numeric.clip",
    {"a": Float64, "lo": Float64, "hi": Float64, "i": Int64, "j": Int64},
    {
        "lit": col("a").clip(-1.0, 1.0), "lower_only": col("a").clip(0.0), "upper_only": col("a").clip(None, 2.5),
        "none": col("a").clip(), "cols": col("a").clip(col("lo"), col("hi")), "col_lower": col("a").clip("lo"),
        "nan_bounds": col("a").clip(float("nan"), float("nan")), "neg_zero": col("a").clip(-0.0, 0.0),
        "crossed": col("a").clip(3.0, 1.0), "null_lit": col("a").clip(lit(None), 10.0),
        "int_lit": col("i").clip(-3, 7), "int_float_lit": col("i").clip(-3.7, 9.5), "int_cols": col("i").clip(col("j"), 100),
        "float_int_bounds": col("a").clip(col("i"), col("j")), "float_int_lits": col("a").clip(0, 3),
        "int_extremes": col("i").clip(-(2**63), 2**63 - 1), "int_col_null": col("j").clip(col("i")),
    },
    edge_limit=3000,
)

# is_between: every closed mode, NaN bounds, null bounds, Int64 against floats, strings.
case(
    "numeric.is_between",
    {"a": Float64, "lo": Float64, "hi": Float64, "i": Int64, "s": String},
    {
        "both": col("a").is_between(col("lo"), col("hi")),
        "left": col("a").is_between(col("lo"), col("hi"), closed="left"),
        "right": col("a").is_between(col("lo"), col("hi"), closed="right"),
        "none": col("a").is_between(col("lo"), col("hi"), closed="none"),
        "lits": col("a").is_between(-1.0, 2.5), "nan_upper": col("a").is_between(0.0, float("nan")),
        "null_bound": col("a").is_between(None, 3.0), "typed_null": col("a").is_between(lit(None, dtype=Float64), 3.0),
        "int_float": col("i").is_between(1.5, 2**53), "int_cols": col("i").is_between(col("lo"), col("i") + 1),
        "str": col("s").is_between(lit("a"), lit("z"), closed="left"),
        "lit_between_cols": lit(1.0).is_between(col("lo"), col("hi")),
    },
    edge_limit=3000,
)

# Horizontal reductions: nulls ignored, NaN ignored by min/max unless all NaN, ties of 0.0 and -0.0, Int64 wrap.
case(
    "numeric.horizontal",
    {"a": Float64, "b": Float64, "c": Float64, "i": Int64, "j": Int64},
    {
        "min": min_horizontal("a", "b", "c"), "max": max_horizontal(col("a"), col("b"), col("c")),
        "min2": min_horizontal(["a", "b"]), "max1": max_horizontal("a"),
        "sum": sum_horizontal("a", "b", "c"), "sum_strict": sum_horizontal("a", "b", "c", ignore_nulls=False),
        "sum1": sum_horizontal("a"), "sum_wide": sum_horizontal("a", "b", "c", "a", "b", "c", "a"),
        "imin": min_horizontal("i", "j"), "imax": max_horizontal("i", "j", 5), "isum": sum_horizontal("i", "j"),
        "isum_strict": sum_horizontal("i", "j", ignore_nulls=False),
        "mixed_min": min_horizontal("i", "a"), "mixed_max": max_horizontal("a", "i", "b"),
        "mixed_sum": sum_horizontal("i", "a", "j"), "with_null": min_horizontal(lit(None), "a", 1.5),
        "sum_null_lit": sum_horizontal(lit(None), "a"), "sum_null_strict": sum_horizontal(lit(None), "i", ignore_nulls=False),
        "min_lits": max_horizontal(-0.0, "a", 0.0),
    },
    edge_limit=3000,
)
_rng = random.Random(21)
_pool = [None, float("nan"), -0.0, 0.0] + _random_floats(40, seed=22)
case(
    "numeric.horizontal_random",
    {"a": Float64, "b": Float64, "c": Float64, "d": Float64, "e": Float64, "f": Float64},
    {"sum": sum_horizontal("a", "b", "c", "d", "e", "f"), "min": min_horizontal("a", "b", "c", "d", "e", "f"),
     "max": max_horizontal("a", "b", "c", "d", "e", "f"),
     "sum_strict": sum_horizontal("a", "b", "c", "d", "e", "f", ignore_nulls=False)},
    edges=False,
    rows=[{k: _rng.choice(_pool) for k in "abcdef"} for _ in range(3000)]
    + [{k: _rng.uniform(-1e3, 1e3) for k in "abcdef"} for _ in range(2000)],
)

# Pow: polars specialises a single-valued exponent (0.5 -> sqrt, 2..9 -> repeated product); skewless
# pins that for literal exponents and, per row, for column exponents (which polars specialises only on
# one-row frames). Small enough to also run every row as a one-row frame.
_POW_BASES = [None, 0.0, -0.0, 1.1, -1.1, 14.13, 2.0, -8.0, float("inf"), float("-inf"), float("nan"), 1e-300, 3.3]
_POW_EXPS = [None, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, -1.0, -2.0, 0.0, 2.5, 1.5, float("nan")]
case(
    "numeric.pow_exponents",
    {"a": Float64, "b": Float64, "i": Int64},
    {
        "col_col": col("a") ** col("b"), "lit_base": 1.1 ** col("b"), "two_base": 2.0 ** col("b"),
        "neg_zero_base": lit(-0.0) ** col("b"), "int_base": col("i") ** col("b"), "int_exp_col": col("a") ** col("i"),
        **{f"lit_{k}".replace(".", "_").replace("-", "m"): col("a") ** k
           for k in [0.5, 1, 1.0, 2, 3.0, 4, 5, 6, 7, 8, 9, 10, -1, -2, 0, 2.5, 0.25, -0.5]},
        "int_sq": col("i") ** 2.0, "int_half": col("i") ** 0.5, "int_cube": col("i") ** 3, "int_7": col("i") ** 7,
        "lit_lit": lit(1.1) ** 3, "null_exp": col("a") ** lit(None),
    },
    edges=False,
    rows=[{"a": a, "b": b, "i": j} for n, (a, b) in enumerate((a, b) for a in _POW_BASES for b in _POW_EXPS)
          for j in [[None, 0, 3, -3, 2**31, -(2**62)][n % 6]]][:400],
)
case(
    "numeric.pow_random",
    {"a": Input(Float64, nullable=False), "b": Input(Float64, nullable=False)},
    {"col_col": col("a") ** col("b"), "cube": col("a") ** 3, "sq": col("a") ** 2, "p9": col("a") ** 9,
     "p10": col("a") ** 10, "half": col("a") ** 0.5, "neg": col("a") ** -3, "frac": col("a").abs() ** 1.37},
    edges=False,
    rows=[{"a": a, "b": random.Random(31 + n).choice(_POW_EXPS[1:] + [random.Random(n).uniform(-20, 20)])}
          for n, a in enumerate(_random_floats(3000, seed=32))],
)

# sum_horizontal with literal terms: leading literals fold, literal zeros are skipped (polars keeps -0.0).
case(
    "numeric.sum_literals",
    {"a": Float64, "b": Float64, "i": Int64},
    {"lead_zero": sum_horizontal(0.0, "a"), "lead_fold_zero": sum_horizontal(1.0, -1.0, "a"),
     "mid_zero": sum_horizontal("a", 0, "b"), "tail": sum_horizontal("a", 1.5, 2.5, 0.0, "b"),
     "only_lits": sum_horizontal(1.5, 2), "int_lits": sum_horizontal(2**62, "i", 2**62, 0),
     "strict_null": sum_horizontal("a", None, ignore_nulls=False), "ignored_null": sum_horizontal(None, "i")},
    edge_limit=1000,
)

# Literal operands: polars evaluates these on scalars (and may constant-fold them); results broadcast.
_LITS = [-0.0, 2.675, -2.5, 1e-5, float("inf"), float("-inf"), float("nan"), -8.0, 0.0, 1e300]
case(
    "numeric.literal_operands",
    {"a": Float64},
    {
        "a_itself": col("a"),
        **{f"{op}_{n}": getattr(lit(v), op)() for n, v in enumerate(_LITS)
           for op in ("abs", "sign", "floor", "ceil", "exp", "log", "log10", "log1p", "sqrt", "cbrt", "sin", "arctan",
                      "is_nan", "is_infinite")},
        **{f"round_{n}": lit(v).round(2) for n, v in enumerate(_LITS)},
        "int_lit_abs": lit(-(2**63)).abs(), "int_lit_sqrt": lit(-4).sqrt(), "int_lit_log": lit(1000).log(10),
        "lit_clip": lit(5.0).clip(col("a"), 10.0), "lit_fill_nan": lit(float("nan")).fill_nan(col("a")),
        "lit_pow_col": lit(-0.0) ** col("a"), "lit_min": min_horizontal(1.0, -0.0, col("a")),
    },
)

# is_between with null bounds (issue 12, item 4): a null literal of another dtype than the value makes
# every row null in polars; one of the value's dtype, or a null-valued expression, follows Kleene logic.
from skewless import coalesce  # noqa: E402

case(
    "numeric.is_between_null_bounds",
    {"i": Int64, "f": Float64},
    {"mixed_lower": col("i").is_between(lit(None, dtype=Float64), col("i"), closed="none"),
     "mixed_upper": col("f").is_between(0, lit(None, dtype=Int64)),
     "same_dtype": col("i").is_between(lit(None, dtype=Int64), 3),
     "null_valued": col("i").is_between(coalesce(lit(None)), 3),
     "untyped": col("f").is_between(None, 1.5)},
)
# sum_horizontal in polars' order (a balanced tree from three terms; issue 12, item 9).
case(
    "numeric.sum_horizontal_tree",
    {"a": Float64, "b": Float64, "c": Float64, "i": Int64},
    {"three": sum_horizontal("a", "b", "c"), "five": sum_horizontal("a", "b", "c", "i", 1.5),
     "ints_to_float": sum_horizontal("i", "i", "a"), "zero_const": sum_horizontal(0.0, "a", lit(None)),
     "strict": sum_horizontal("a", "i", "b", ignore_nulls=False)},
    edge_limit=1200,
)
