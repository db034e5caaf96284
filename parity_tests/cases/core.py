"""Parity cases: arithmetic, comparisons, Kleene logic, nulls, when, is_in, casts."""

from __future__ import annotations

from skewless import Boolean, Date, Datetime, Float64, Input, Int64, String, coalesce, col, lit, when

from . import case

import datetime as _dt  # noqa: E402

from skewless.runtime.tz import get_zone as _zone  # noqa: E402

_UTC = _dt.timezone.utc

# Arithmetic: every operator on Float64 x Float64, Int64 x Int64 and mixed.
for left, right, tag in [(Float64, Float64, "ff"), (Int64, Int64, "ii"), (Int64, Float64, "if")]:
    a, b = col("a"), col("b")
    case(
        f"core.arith_{tag}",
        {"a": left, "b": right},
        {
            "add": a + b, "sub": a - b, "mul": a * b, "truediv": a / b, "floordiv": a // b, "mod": a % b,
            "neg": -a, "eq": a == b, "ne": a != b, "lt": a < b, "le": a <= b, "gt": a > b, "ge": a >= b,
            "eq_missing": a.eq_missing(b), "ne_missing": a.ne_missing(b),
        },
    )

# Division, floor division and modulo by literals (reciprocal multiplication, zero, -1).
case(
    "core.arith_literals",
    {"a": Float64, "i": Int64},
    {
        "div300": (col("a") - 120.0) / 300.0,
        "div3": col("a") / 3, "div0": col("a") / 0.0, "rdiv": 1 / col("a"), "fdiv_lit": col("a") // 0.1,
        "fmod_lit": col("a") % 2.5, "fmod_neg": col("a") % -2.0, "idiv_lit": col("i") // 7, "idiv0": col("i") // 0,
        "idiv_m1": col("i") // -1, "imod_lit": col("i") % -3, "imod0": col("i") % 0, "i_over_lit": col("i") / 10,
        "fpow_half": col("a") ** 0.5, "fpow_int": col("a") ** 3, "fpow_neg": col("a") ** -1.0,
        "ipow": col("i") ** 3, "ipow0": col("i") ** 0, "ipow64": col("i") ** 64, "a_plus_int": col("a") + 1,
        "i_times": col("i") * 3, "lit_minus": 2 - col("i"),
    },
    rows=[{"a": 14.13, "i": 2}, {"a": 1.0, "i": 5}],
)
# Polars drops a literal ±0 term on 2+ row frames; both runtimes do so on every frame size.
case(
    "core.zero_literals",
    {"a": Float64, "i": Int64},
    {"plus0": col("a") + 0.0, "zero_plus": 0.0 + col("a"), "plus_neg0": col("a") + (-0.0), "minus0": col("a") - 0.0,
     "minus_neg0": col("a") - (-0.0), "zero_minus": 0.0 - col("a"), "int_zero_minus": 0 - col("a"),
     "i_plus0f": col("i") + 0.0, "zero_minus_i": 0.0 - col("i"), "i_plus0": col("i") + 0},
)
case("core.pow_cols", {"a": Float64, "b": Float64}, {"pow": col("a") ** col("b"), "rpow": 2.0 ** col("b")})

# Kleene logic on every combination of True / False / null.
case(
    "core.logic",
    {"p": Boolean, "q": Boolean},
    {"and": col("p") & col("q"), "or": col("p") | col("q"), "xor": col("p") ^ col("q"), "not": ~col("p"),
     "and_lit": col("p") & True, "or_lit": False | col("q"), "not_not": ~~col("p")},
)

# Nulls: is_null, fill_null (with supertype), coalesce, eq_missing on strings.
case(
    "core.nulls",
    {"a": Float64, "i": Int64, "s": String},
    {
        "is_null": col("a").is_null(), "is_not_null": col("s").is_not_null(), "fill_f": col("a").fill_null(0.0),
        "fill_i_with_f": col("i").fill_null(0.5), "fill_s": col("s").fill_null("missing"),
        "fill_col": col("i").fill_null(col("a")), "coalesce": coalesce(col("a"), col("i"), lit(-1.0)),
        "coalesce_s": coalesce(col("s"), lit("unknown")), "s_eq_missing": col("s").eq_missing("a"),
        "s_lt": col("s") < "b", "s_cmp_col": col("s") >= col("s").fill_null(""),
    },
    edge_limit=1500,
)

# when/then/otherwise: chained, without otherwise, null conditions, supertype of branches.
case(
    "core.when",
    {"a": Float64, "i": Int64, "s": String},
    {
        "chain": when(col("a") < 0).then(lit("neg")).when(col("a") < 10).then(lit("small")).otherwise(lit("big")),
        "no_otherwise": when(col("i") > 2).then(col("i")),
        "mixed": when(col("i") > 0).then(col("i")).otherwise(col("a")),
        "null_cond": when(col("s") == "a").then(1).otherwise(2),
        "col_names": when(col("a").is_null()).then("i").otherwise("a"),
        "nested": when(col("i") % 2 == 0).then(when(col("a") > 0).then(1.0).otherwise(-1.0)).otherwise(col("a")),
    },
    edge_limit=1500,
)

# is_in: strings, ints, floats with NaN and -0.0, nulls in the list.
case(
    "core.is_in",
    {"a": Float64, "i": Int64, "s": String},
    {
        "s_in": col("s").is_in(["a", "abc", "İ", "", None]), "i_in": col("i").is_in([0, 1, 2400, -(2**63)]),
        "f_in": col("a").is_in([0.0, float("nan"), 1.5]), "f_in_negzero": col("a").is_in([-0.0]),
        "empty": col("i").is_in([]),
    },
    edge_limit=1500,
)

# Casts between Int64, Float64, Boolean and String (non-strict where a value can fail).
case(
    "core.cast",
    {"a": Float64, "i": Int64, "s": String, "p": Boolean},
    {
        "f2i": col("a").cast(Int64, strict=False), "f2s": col("a").cast(String), "f2b": col("a").cast(Boolean),
        "i2f": col("i").cast(Float64), "i2s": col("i").cast(String), "i2b": col("i").cast(Boolean),
        "s2i": col("s").cast(Int64, strict=False), "s2f": col("s").cast(Float64, strict=False),
        "b2i": col("p").cast(Int64), "b2f": col("p").cast(Float64), "b2s": col("p").cast(String),
        "same": col("i").cast(Int64),
    },
    rows=[{"a": 1e-5, "s": "1e-5", "i": 5, "p": True}, {"a": 123456789.0, "s": ".5", "i": 0, "p": False},
          {"a": 1e15, "s": "5.", "i": 1, "p": None}, {"a": 1e-4, "s": "-0", "i": 2, "p": True},
          {"a": 0.0001234, "s": "Infinity", "i": 3, "p": True}, {"a": 1e21, "s": "9223372036854775808", "i": 4, "p": True}],
    edge_limit=2000,
)

# Date and Datetime to String: polars' text (four-digit years, 6 or 3 fractional digits, the wall time's
# offset to the minute: local mean time offsets lose their seconds).
case(
    "core.cast_temporal_to_string",
    {"d": Date, "t": Datetime("us", None), "u": Datetime("us", "UTC"), "ny": Datetime("us", "America/New_York"),
     "k": Datetime("us", "Asia/Kolkata"), "m": Datetime("ms", "Europe/London")},
    {"d2s": col("d").cast(String), "t2s": col("t").cast(String), "u2s": col("u").cast(String),
     "ny2s": col("ny").cast(String), "k2s": col("k").cast(String), "m2s": col("m").cast(String)},
    rows=[  # local mean time (New York -4:56:02 before 1883, Kolkata +5:53:28 before 1854, London -0:01:15)
        {"d": _dt.date(1, 1, 1), "t": _dt.datetime(1, 1, 1), "u": _dt.datetime(1850, 1, 1, tzinfo=_UTC),
         "ny": _dt.datetime(1850, 1, 1, tzinfo=_UTC).astimezone(_zone("America/New_York")),
         "k": _dt.datetime(1850, 1, 1, tzinfo=_UTC).astimezone(_zone("Asia/Kolkata")),
         "m": _dt.datetime(1840, 1, 1, 0, 0, 0, 123000, tzinfo=_UTC).astimezone(_zone("Europe/London"))},
        {"d": None, "t": None, "u": None, "ny": None, "k": None, "m": None},
    ],
    edge_limit=400,
)

# Strict casts raise in both runtimes when a value cannot be converted.
case("core.cast_strict_fails", {"s": String}, {"s2i": col("s").cast(Int64)}, edges=False,
     rows=[{"s": "12"}, {"s": "abc"}], expect_error=True)
case("core.cast_strict_ok", {"s": String, "a": Float64}, {"s2i": col("s").cast(Int64), "f2i": col("a").cast(Int64)},
     edges=False, rows=[{"s": "12", "a": 3.7}, {"s": None, "a": -3.7}, {"s": "-9223372036854775808", "a": None}])
_ = Input

# Scalar-valued divisors and terms that are not bare literals (issue 12, item 1): polars treats every
# scalar-valued expression as a broadcast scalar on 2+ rows (reciprocal multiply, dropped ±0 terms);
# skewless folds them into literals when the feature set is defined, so both runtimes agree.
case(
    "core.scalar_valued_operands",
    {"f": Float64, "i": Int64},
    {"neg_lit": col("f") / -lit(3.0), "cast_lit": col("f") / lit(3).cast(Float64), "prod_lit": col("f") / (lit(1.5) * 2),
     "fill_nan_lit": col("f") // lit(0.1).fill_nan(1.0), "coalesce_lit": col("f") % coalesce(lit(None), lit(0.7)),
     "fill_null_lit": col("f") / lit(None, dtype=Float64).fill_null(7.0), "i_by_scalar": col("i") / -lit(7),
     "plus_neg_zero": col("f") + (-lit(0)), "plus_len0": col("f") + lit("").str.len_chars(),
     "zero_minus": (lit(0.0) * 3) - col("f"), "zero_mod": 0.0 % col("f"), "neg_zero_mod": -0.0 % col("f")},
    rows=[{"f": 7.0, "i": 7}, {"f": 0.7, "i": 1}, {"f": 0.7, "i": -1}, {"f": -0.0, "i": 0}, {"f": 1.0, "i": 3}],
)
# Null literals (issue 12, items 5 and 6): typed nulls in a Float64 context, untyped ones where polars
# raises on the Null dtype (when, ~, &, **, -); both runtimes give the typed-null meaning.
case(
    "core.null_literals",
    {"f": Float64, "b": Boolean},
    {"le_int_null": col("f") <= lit(None, dtype=Int64), "add_int_null": col("f") + lit(None, dtype=Int64),
     "coalesce_int_null": coalesce(col("f"), lit(None, dtype=Int64)),
     "when_null": when(lit(None)).then(col("f")).otherwise(1.0), "pow_null": lit(None) ** 2 + col("f"),
     "neg_null": col("f").fill_null(-lit(None)), "not_null": (~lit(None)) | col("b"),
     "and_null": (lit(None) & lit(None)) | col("b"), "kleene_and": col("b") & lit(None),
     "fill_null_null": col("b").fill_null(lit(None))},
)
# Strict casts in branches (issue 12, item 2): polars evaluates then/otherwise values and later
# conditions (and a fill_nan value) only on the rows that reach them; so does the generated code.
case(
    "core.lazy_branches",
    {"b": Boolean, "f": Float64, "s": String},
    {"then_cast": when(col("b")).then(col("f").cast(Int64)),
     "otherwise_cast": when(~col("f").is_finite()).then(-1).otherwise((col("f") * 2).cast(Int64)),
     "later_condition": when(col("f").is_nan()).then(0).when(col("s").cast(Int64) > 2).then(1).otherwise(2),
     "fill_nan_cast": col("f").fill_nan(col("s").cast(Float64))},
    edges=False,
    rows=[{"b": False, "f": float("nan"), "s": "1.5"}, {"b": True, "f": 2.5, "s": "7"},
          {"b": None, "f": None, "s": "-3"}, {"b": False, "f": -3.5, "s": "10"}, {"b": True, "f": 7.0, "s": "0"}],
)
