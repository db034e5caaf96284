"""Fitted rules: ``quantile_bucketize`` and ``uniform_bucketize``, lowered to ``bucketize`` against learned edges."""

from __future__ import annotations

import math
from typing import Any, Mapping

from ..dtypes import Field, Float64
from ..ir.applied import Bucketize
from ..ir.base import Node
from ..ir.fitted import QuantileBucketize, UniformBucketize
from .plan import Stats
from .rules import RULES, FittedRule, StateBuilder, check_values


def _merge_edges(edges: list[float]) -> list[float]:
    """Drop edges equal to the previous kept one; the inner edges are the kept ones without the outer two."""
    kept: list[float] = []
    for e in edges:
        if not kept or e > kept[-1]:
            kept.append(e)
    return [float(e) for e in kept[1:-1]]


class _Bucketizer(FittedRule):
    def lower(self, node: QuantileBucketize | UniformBucketize, x: Node, field: Field,
              state: Mapping[str, Any]) -> Node:
        edges = tuple(state["edges"])
        check_values(node, edges, Float64(), "edge")
        return Bucketize(x, edges, "left")


@RULES.register(QuantileBucketize)
class _QuantileBucketize(_Bucketizer):
    def plan(self, node: QuantileBucketize, stats: Stats) -> StateBuilder:
        count = stats.count
        qb = stats.quantiles([i / node.n_bins for i in range(node.n_bins + 1)])

        def quantile_state(r: Any) -> dict[str, Any]:
            full = qb.values(r)
            edges = _merge_edges(full) if r[count] else []
            return {"count": r[count], "quantiles": full if r[count] else [], "edges": edges}
        return quantile_state


@RULES.register(UniformBucketize)
class _UniformBucketize(_Bucketizer):
    def plan(self, node: UniformBucketize, stats: Stats) -> StateBuilder:
        count = stats.count
        lo, hi = stats.minimum(), stats.maximum()
        n_bins = node.n_bins

        def uniform_state(r: Any) -> dict[str, Any]:
            a, b = r[lo], r[hi]
            edges: list[float] = []
            if r[count] and a < b:
                step = (b - a) / n_bins  # numpy.linspace: start + i * step, the last one exactly stop
                edges = _merge_edges([a + i * step for i in range(n_bins)] + [b])
                edges = [e for e in edges if math.isfinite(e)]
            return {"count": r[count], "min": a, "max": b, "edges": edges}
        return uniform_state
