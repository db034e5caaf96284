"""A polars expression where a skewless one belongs never passes silently (issue 13).

Before: ``doubled = pl.col("x") * 2`` in a class body was skipped (the set had one feature fewer), and
``col("x") * pl.col("y")`` or ``col("d") > pl.lit(date)`` crashed with RecursionError in canonical_literal.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from skewless import (
    Date,
    DefinitionError,
    ExprTypeError,
    FeatureSet,
    Float64,
    Input,
    Int64,
    col,
    feature_set,
    lit,
    standardize,
    when,
)


def test_a_polars_expression_in_a_class_body_is_refused_naming_the_feature():
    with pytest.raises(DefinitionError, match=r"feature 'doubled'.*polars expression.*col\('x'\) \* 2"):
        @feature_set
        class s:
            x = Input(Int64)
            y = col("x") + 1
            doubled = pl.col("x") * 2


def test_a_polars_when_in_a_class_body_is_refused():
    with pytest.raises(DefinitionError, match=r"feature 'band'.*when\(\.\.\.\)"):
        @feature_set
        class s:
            x = Input(Int64)
            band = pl.when(pl.col("x") > 1).then(1).otherwise(0)


@pytest.mark.parametrize("make", [
    lambda: col("x") * pl.col("y"),
    lambda: col("d") > pl.lit(dt.date(2020, 1, 1)),
    lambda: when(col("x") > 1).then(pl.lit(1)).otherwise(0),
    lambda: col("x").fill_null(pl.col("y")),
    lambda: col("x").is_between(pl.lit(1), 3),
    lambda: standardize(pl.col("x")),
], ids=["operand", "polars literal", "then", "fill_null", "is_between", "fitted op"])
def test_a_polars_operand_fails_at_definition_naming_the_feature(make):
    with pytest.raises(DefinitionError, match=r"feature 'f'.*a polars expression.*from skewless import col, lit, when"):
        FeatureSet("s", {"x": Input(Int64), "y": Input(Int64), "d": Input(Date)}, {"f": make()})


def test_a_polars_object_given_to_lit_is_refused_without_recursion():
    with pytest.raises(ExprTypeError, match="polars expression"):
        lit(pl.col("x"))
    with pytest.raises(ExprTypeError, match="polars Series"):
        lit(pl.Series([1, 2]))


def test_numpy_scalars_still_become_literals():
    import numpy as np

    fs = FeatureSet("s", {"x": Input(Float64)}, {"f": col("x") * np.float32(2), "g": col("x") + np.int64(1)})
    assert fs.row_fn({"x": 1.5}) == {"f": 3.0, "g": 2.5}
