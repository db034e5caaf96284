"""The rule table of the fitted ops: each op's fitting plan and its lowering, side by side.

A fitted op (:mod:`skewless.ir.fitted`) gets one :class:`FittedRule`, registered for its IR class
with :data:`RULES` (like a backend rule)::

    @RULES.register(Standardize)
    class _Standardize(FittedRule):
        def plan(self, node, stats):          # learning: aggregations on the training rows
            mean, std = stats.agg(stats.finite.mean()), stats.agg(stats.finite.std(ddof=node.ddof))
            return lambda r: {"count": r[stats.count], "mean": r[mean], "std": r[std]}

        def lower(self, node, x, field, state):  # applying: ordinary IR holding the state as literals
            return scaled(x, state["mean"], state["std"], state["count"])

``plan`` registers the op's aggregations on a :class:`~skewless.fitting.plan.Stats` (one scalar
``select`` and a few ``group_by`` queries shared by every op of the level) and returns the function
that builds the op's state from their results; ``lower`` is pure Python (serving processes lower
stored state without polars). The state also needs a pydantic model in :mod:`skewless.artifact`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from ..dtypes import Boolean, DataType, Field, Float64, Int64, String
from ..errors import SkewlessError
from ..ir import core
from ..ir.base import Literal, Node
from ..ir.fitted import FITTED_OPS, FittedOp

if TYPE_CHECKING:  # pragma: no cover
    from .plan import Results, Stats

__all__ = ["FitError", "FittedRule", "RULES", "rule_for", "lit", "want", "check_values", "scaled"]

#: Builds an op's state (without ``op`` and ``expr``, added by the fitting loop) from the plan's results.
StateBuilder = Callable[["Results"], dict[str, Any]]


class FitError(SkewlessError, ValueError):
    """Fitting or lowering failed: missing label, inconsistent state, colliding column names."""


class FittedRule:
    """How one fitted op learns its state and what ordinary IR applies it."""

    def plan(self, node: FittedOp, stats: "Stats") -> StateBuilder:
        """Register the aggregations ``node`` needs on ``stats``; return the builder of its state."""
        raise NotImplementedError

    def lower(self, node: FittedOp, x: Node, field: Field, state: Mapping[str, Any]) -> Node:
        """The ordinary IR computing ``node`` whose lowered operand is ``x`` (static ``field``)."""
        raise NotImplementedError

    def lower_feature(self, name: str, node: FittedOp, x: Node, field: Field, state: Mapping[str, Any]) -> Node:
        """The IR of feature ``name`` whose root is ``node`` (one output column unless overridden)."""
        return self.lower(node, x, field, state)


class FittedRules(dict):
    """``{fitted op class: rule}``; :meth:`register` is a class decorator."""

    def register(self, *ops: type[FittedOp]) -> Callable[[type[FittedRule]], type[FittedRule]]:
        def deco(cls: type[FittedRule]) -> type[FittedRule]:
            for op in ops:
                if op in self:
                    raise RuntimeError(f"a fitted rule for {op.__name__} is already registered")
                self[op] = cls()
            return cls

        return deco


#: The rule of every fitted op (filled in by the op family modules of this package).
RULES = FittedRules()


def rule_for(node: FittedOp) -> FittedRule:
    rule = RULES.get(type(node))
    if rule is None:  # pragma: no cover - a fitted op without a rule fails test_every_fitted_op_has_a_rule
        raise FitError(f"no fitting rule for {type(node).__name__}")
    return rule


def missing_rules() -> list[str]:
    """Fitted op classes without a rule (a test keeps this empty)."""
    return sorted(name for name, cls in FITTED_OPS.items() if cls not in RULES)


# --------------------------------------------------------------------------- helpers of the lowerings


def lit(value: Any, dtype: DataType | None = None) -> Literal:
    if dtype is None:
        dtype = {bool: Boolean(), int: Int64(), float: Float64(), str: String()}[type(value)]
    return Literal(value, dtype)


def finite(*values: float) -> bool:
    return all(isinstance(v, float) and math.isfinite(v) for v in values)


def want(cond: bool, node: FittedOp, what: str) -> None:
    if not cond:
        raise FitError(f"invalid state for {node.method}(): {what}")


def check_values(node: FittedOp, values: Iterable[Any], dtype: DataType, what: str) -> None:
    py = {String: str, Int64: int, Boolean: bool, Float64: float}[type(dtype)]
    for v in values:
        want(type(v) is py, node, f"{what} {v!r} is not a {dtype!r} value")


def scaled(x: Node, center: float | None, spread: float | None, count: int) -> Node:
    """``(x - center) / spread``; degenerate statistics give ``x * 0.0 + 0.0`` (0.0, NaN for NaN/±inf)."""
    ok = count > 0 and center is not None and spread is not None and finite(center, spread) and spread > 0
    ok = ok and math.isfinite(1.0 / spread)
    if not ok:
        return core.Add(core.Mul(x, lit(0.0)), lit(0.0))
    return core.TrueDiv(core.Sub(x, lit(center)), lit(spread))
