"""Fitted rules: the scalers (``standardize``, ``min_max_scale``, ``robust_scale``) and ``winsorize``.

They learn over the finite training values (see :mod:`skewless.ir.fitted` for the policies) and
lower to core arithmetic (``(x - center) / spread``) or ``clip``.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from ..dtypes import Field, Float64, Int64
from ..ir.base import INT64_MAX, INT64_MIN, Node
from ..ir.fitted import MinMaxScale, RobustScale, Standardize, Winsorize
from ..ir.numeric import Clip
from .plan import Stats
from .rules import RULES, FittedRule, StateBuilder, check_values, finite, lit, scaled


@RULES.register(Standardize)
class _Standardize(FittedRule):
    def plan(self, node: Standardize, stats: Stats) -> StateBuilder:
        # exact moments, rounded once (skewless.exact): the same bits whatever the partitioning or threads
        count, moments, ddof = stats.count, stats.moments, node.ddof

        def standard(r: Any) -> dict[str, Any]:
            m = r.moments(moments)
            return {"count": r[count], "mean": m.mean(), "std": m.std(ddof)}
        return standard

    def lower(self, node: Standardize, x: Node, field: Field, state: Mapping[str, Any]) -> Node:
        return scaled(x, state["mean"], state["std"], state.get("count", 0))


def _spread(lo: float | None, hi: float | None) -> float | None:
    return hi - lo if lo is not None and hi is not None and finite(lo, hi) else None


@RULES.register(MinMaxScale)
class _MinMaxScale(FittedRule):
    def plan(self, node: MinMaxScale, stats: Stats) -> StateBuilder:
        count = stats.count
        lo, hi = stats.minimum(), stats.maximum()
        return lambda r: {"count": r[count], "min": r[lo], "max": r[hi]}

    def lower(self, node: MinMaxScale, x: Node, field: Field, state: Mapping[str, Any]) -> Node:
        return scaled(x, state["min"], _spread(state["min"], state["max"]), state.get("count", 0))


@RULES.register(RobustScale)
class _RobustScale(FittedRule):
    def plan(self, node: RobustScale, stats: Stats) -> StateBuilder:
        count = stats.count
        qs = stats.quantiles([0.5, node.q_low, node.q_high])

        def robust(r: Any) -> dict[str, Any]:
            med, lo, hi = qs.values(r)
            return {"count": r[count], "median": med, "q_low_value": lo, "q_high_value": hi}
        return robust

    def lower(self, node: RobustScale, x: Node, field: Field, state: Mapping[str, Any]) -> Node:
        return scaled(x, state["median"], _spread(state["q_low_value"], state["q_high_value"]), state.get("count", 0))


@RULES.register(Winsorize)
class _Winsorize(FittedRule):
    def plan(self, node: Winsorize, stats: Stats) -> StateBuilder:
        count = stats.count
        qw = stats.quantiles([node.lower, node.upper])

        def winsor(r: Any) -> dict[str, Any]:
            lo, hi = qw.values(r)
            return {"count": r[count], "lower_value": lo, "upper_value": hi}
        return winsor

    def lower(self, node: Winsorize, x: Node, field: Field, state: Mapping[str, Any]) -> Node:
        lo, hi = state["lower_value"], state["upper_value"]
        if state.get("count", 0) == 0 or lo is None or hi is None:
            return x
        check_values(node, (lo, hi), Float64(), "bound")
        if isinstance(field.dtype, Int64):
            # the float quantiles widened to integers: a value inside the learned range never changes
            ilo = INT64_MIN if lo < INT64_MIN else min(math.floor(lo), INT64_MAX)
            ihi = INT64_MAX if hi > INT64_MAX else max(math.ceil(hi), INT64_MIN)
            return Clip(x, lit(ilo), lit(ihi))
        return Clip(x, lit(lo), lit(hi))
