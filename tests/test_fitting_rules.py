"""Fitted ops as rules (skewless.fitting.rules) and one_hot as one node until code generation."""

from __future__ import annotations

import polars as pl
import pytest

from skewless import DefinitionError, FeatureSet, Float64, Input, Int64, String, col, fit, one_hot, standardize
from skewless.api.expr import Expr
from skewless.fitting import RULES, FittedRule
from skewless.fitting.rules import missing_rules
from skewless.ir.applied import OneHotColumns
from skewless.ir.base import walk
from skewless.ir.core import Cast, Eq
from skewless.ir.fitted import FITTED_OPS


def test_every_fitted_op_has_one_rule_with_a_plan_and_a_lowering():
    assert missing_rules() == []
    for op, rule in RULES.items():
        assert op in FITTED_OPS.values() and isinstance(rule, FittedRule)
        assert type(rule).plan is not FittedRule.plan and type(rule).lower is not FittedRule.lower, op.__name__


def test_a_second_rule_for_an_op_is_refused():
    with pytest.raises(RuntimeError, match="already registered"):
        RULES.register(next(iter(FITTED_OPS.values())))(FittedRule)


def _fitted():
    fs = FeatureSet("oh", {"c": Input(String, nullable=True), "x": Float64},
                    {"c_oh": one_hot(col("c")), "z": standardize(col("x"))})
    return fit(fs, pl.DataFrame({"c": ["a", "b", None, "b"], "x": [1.0, 2.0, 3.0, 4.0]}))


def test_one_hot_stays_one_node_in_the_lowered_set():
    fitted = _fitted()
    lowered = fitted.lowered
    assert list(lowered.features) == ["c_oh", "z"]  # one feature per definition feature
    node = lowered.features["c_oh"].node
    assert isinstance(node, OneHotColumns) and node.names == ("c_oh__a", "c_oh__b", "c_oh__other", "c_oh__null")
    assert not any(isinstance(n, (Cast, Eq)) for n in walk(node))  # no per-column expressions before codegen
    assert list(fitted.output_schema()) == [*node.names, "z"]
    assert lowered.features["c_oh"].columns == node.names
    # each backend expands it: polars into one expression per column, python into one table lookup
    assert list(lowered.polars_exprs()) == [*node.names, "z"]
    src = fitted.python_source()
    assert src.count(".get(") == 2 and src.count("**_t") == 1  # the vocabulary lookup and the row table
    rows = [{"c": c, "x": 1.5} for c in ("a", "b", None, "zz")]
    batch = fitted.transform(pl.DataFrame(rows, schema={"c": pl.String, "x": pl.Float64})).collect()
    assert [fitted.row_fn(r) for r in rows] == batch.rows(named=True)
    assert [r["c_oh__a"] + r["c_oh__b"] + r["c_oh__other"] + r["c_oh__null"] for r in batch.rows(named=True)] == [1] * 4


def test_an_op_with_several_columns_is_only_a_feature_root():
    code = col("i")._node
    columns = Expr(OneHotColumns(code, ("k__0", "k__1")))
    fs = FeatureSet("ok", {"i": Int64}, {"k": columns})
    assert list(fs.output_schema()) == ["k__0", "k__1"]
    assert fs.row_fn({"i": 1}) == {"k__0": 0, "k__1": 1} and fs.row_fn({"i": 7}) == {"k__0": 0, "k__1": 0}
    with pytest.raises(DefinitionError, match="several output columns.*feature of its own"):
        FeatureSet("bad", {"i": Int64}, {"k": columns + 1})
    with pytest.raises(DefinitionError, match="collide"):
        FeatureSet("bad", {"i": Int64, "k__0": Int64}, {"k": columns})
    with pytest.raises(DefinitionError, match="non-null Int64 code"):
        FeatureSet("bad", {"i": Input(Int64, nullable=True)}, {"k": columns})
