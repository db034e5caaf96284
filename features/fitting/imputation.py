"""Fitted rule: ``impute`` (mean, median, most frequent or constant), lowered to ``fill_nan`` / ``fill_null``."""

from __future__ import annotations

from typing import Any, Mapping

from ..dtypes import Boolean, DataType, Field, Float64, Int64, String
from ..ir import core
from ..ir.base import Node, literal_dtype, supertype
from ..ir.fitted import Impute
from ..ir.numeric import FillNan
from .plan import Stats
from .rules import RULES, FittedRule, StateBuilder, check_values, lit


def _out_dtype(node: Impute, field: Field) -> DataType:
    """The result dtype: Float64 for mean / median, else the operand's, widened to hold ``fill_value``."""
    out = Float64() if node.strategy in ("mean", "median") else field.dtype
    if node.fill_value is not None:
        out = supertype(out, literal_dtype(node.fill_value)) or out
    return out


@RULES.register(Impute)
class _Impute(FittedRule):
    def plan(self, node: Impute, stats: Stats) -> StateBuilder:
        out = _out_dtype(node, stats.field)
        zero = {Float64: 0.0, Int64: 0, String: "", Boolean: False}[type(out)]

        def typed(v: Any) -> Any:
            return float(v) if isinstance(out, Float64) and not isinstance(v, bool) else v

        fallback = typed(node.fill_value) if node.fill_value is not None else zero
        if node.strategy == "constant":
            return lambda r: {"value": fallback}
        if node.strategy == "mean":
            count, moments = stats.count, stats.moments  # the exact mean (skewless.exact)
            return lambda r: {"count": r[count], "value": typed(r.moments(moments).mean()) if r[count] else fallback}
        if node.strategy == "median":
            count, qm = stats.count, stats.quantiles([0.5])
            return lambda r: {"count": r[count], "value": typed(qm.values(r)[0]) if r[count] else fallback}
        # most_frequent: ties go to the smallest value (scikit-learn)
        present = stats.x.drop_nulls()
        if isinstance(stats.field.dtype, Float64):
            present = present.filter(~present.is_nan())
        vc = stats.counts_of(present)

        def most_frequent(r: Any) -> dict[str, Any]:
            counts = r.counts(vc)
            if not counts:
                return {"count": 0, "value": fallback}
            value = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
            return {"count": sum(counts.values()), "value": typed(value)}
        return most_frequent

    def lower(self, node: Impute, x: Node, field: Field, state: Mapping[str, Any]) -> Node:
        out = _out_dtype(node, field)
        value = state["value"]
        check_values(node, [value], out, "fill value")
        v = lit(value, out)
        if isinstance(field.dtype, Float64):
            x = FillNan(x, v)  # NaN is missing, as in scikit-learn's SimpleImputer
        if field.nullable:
            return core.FillNull(x, v)
        return core.Cast(x, out) if out != field.dtype else x
