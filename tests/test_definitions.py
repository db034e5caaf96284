"""Definition-time errors name the feature and the offending expression."""

from __future__ import annotations

import pytest

from skewless import (
    Boolean, Datetime, DefinitionError, SchemaError, FeatureSet, Float64, Input, Int64, String, col, feature_set, lit, when,
)


def define(**features):
    return FeatureSet(
        "t",
        {"x": Input(Float64), "n": Input(Int64), "s": Input(String), "b": Input(Boolean),
         "ts": Input(Datetime("us", "UTC"))},
        features,
    )


@pytest.mark.parametrize(
    "expr, expected",
    [
        (lambda: col("s") + col("n"), "cannot add String and Int64"),
        (lambda: col("x").dt.hour(), "Float64"),
        (lambda: col("xx") * 2, "unknown column 'xx'; did you mean 'x'?"),
        (lambda: col("x").log1pp(), "has no method 'log1pp'; did you mean one of 'log1p'"),
        (lambda: col("s").str.to_lowercas(), "no method 'to_lowercas'; did you mean one of 'to_lowercase'"),
        (lambda: col("ts").dt.hourr(), "did you mean 'hour'?"),
        (lambda: col("b") + 1, "cast Boolean to Int64 first"),
        (lambda: when(col("x")).then(1).otherwise(0), "condition #1 must be Boolean"),
        (lambda: col("n").is_in(["a"]), "cannot look up Int64 values in a list of String"),
        (lambda: col("s").cast(Boolean), "polars cannot cast String to Boolean"),
        (lambda: col("n") ** col("n"), "literal exponent"),
        (lambda: col("ts").dt.convert_time_zone("Mars/Olympus"), "Mars/Olympus"),
    ],
)
def test_definition_error_names_feature_and_expression(expr, expected):
    with pytest.raises(DefinitionError) as info:
        define(my_feature=expr())
    message = str(info.value)
    assert info.value.feature == "my_feature"
    assert "feature 'my_feature'" in message
    assert expected in message, message
    assert info.value.expr and "col(" in info.value.expr


def test_error_points_at_the_offending_subexpression():
    with pytest.raises(DefinitionError) as info:
        define(ok=col("x") + 1, bad=(col("x").log1p() * 2) + col("s"))
    assert info.value.feature == "bad"
    assert info.value.expr == "(((col('x').log1p()) * lit(2)) + col('s'))" or "col('s')" in info.value.expr


def test_features_may_use_earlier_features_only():
    fs = define(a=col("x") * 2, c=col("a") + 1)
    assert fs.row_fn({"x": 1.0, "n": 0, "s": "", "b": True, "ts": None}) == {"a": 2.0, "c": 3.0}
    with pytest.raises(DefinitionError, match="defined before them"):
        define(c=col("a") + 1, a=col("x") * 2)


def test_class_syntax_and_helpers():
    @feature_set
    class demo:
        x = Input(Float64, nullable=True)
        _doubled = col("x") * 2
        doubled_plus_one = _doubled + 1

    assert list(demo.features) == ["doubled_plus_one"]
    assert demo.output_schema()["doubled_plus_one"].nullable is True


def test_inputs_must_be_declared_with_input():
    with pytest.raises(DefinitionError, match="Input"):
        @feature_set
        class bad:
            x = Float64
            y = col("x") + 1


def test_uncalled_misspelt_method():
    with pytest.raises(DefinitionError, match="must be called"):
        define(f=col("x").abss)


def test_nanosecond_inputs_are_refused_with_a_reason():
    with pytest.raises(SchemaError, match="microsecond"):
        FeatureSet("t", {"ts": Input(Datetime("ns", "UTC"))}, {"h": col("ts").dt.hour()})


def test_always_null_feature_is_refused():
    with pytest.raises(DefinitionError, match="always null"):
        define(nothing=lit(None))


def test_expressions_are_immutable_and_not_truthy():
    e = col("x")
    with pytest.raises(AttributeError):
        e.foo = 1  # type: ignore[attr-defined]
    with pytest.raises(TypeError, match="ambiguous"):
        bool(col("x") > 1)


def test_datetime_literals_never_guess_a_zone():
    import datetime as dt

    from skewless import ExprTypeError

    with pytest.raises(ExprTypeError, match="naive datetime literal"):
        lit(dt.datetime(2013, 1, 1), dtype=Datetime("us", "UTC"))
    with pytest.raises(ExprTypeError, match="aware datetime literal"):
        lit(dt.datetime(2013, 1, 1, tzinfo=dt.timezone.utc), dtype=Datetime("us", None))
    moved = lit(dt.datetime(2013, 6, 1, 12, tzinfo=dt.timezone.utc), dtype=Datetime("us", "America/New_York"))
    assert moved._node.value.hour == 8
