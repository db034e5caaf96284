""":func:`fit`: learn the state of every fitted op of a feature set from its training rows.

The steps, in order:

1. :func:`_check_fittable` — the fitted nodes (innermost first), the label if any needs one;
2. :func:`~skewless.fitting.plan.training_frame` — the used inputs and the label over the rows;
3. :func:`_levels` — the nodes grouped by nesting level: a level holds the nodes whose inner fitted
   nodes are all learned;
4. per level, :func:`_plan_level` registers every node's aggregations on one
   :class:`~skewless.fitting.plan.Plan` (the first one also counts the rows, :class:`_RowCounts`),
   ``plan.run()`` collects them together (exact, mergeable partial statistics: the same state
   whatever the thread count or partitioning), and :func:`_states` builds each node's state;
5. :func:`_meta` — the fit-time facts kept with the state.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

from ..feature_set import FeatureSet
from ..ir.base import Node, render
from ..ir.fitted import FittedOp, TargetEncode
from .fitted_set import FittedFeatureSet
from .lowering import check_one_hot_roots, fitted_nodes, inner_fitted, node_key
from .plan import LABEL, Plan, Results, Stats, compile_nodes, training_frame
from .rules import FitError, StateBuilder, rule_for

__all__ = ["fit"]


def fit(fs: FeatureSet, training_data: Any, *, label: Any = None, engine: str = "auto",
        partials: Callable[[Plan], list[list[Any]]] | None = None) -> FittedFeatureSet:
    """Learn the state of every fitted op of ``fs`` from ``training_data`` (exactly these rows).

    Parameters
    ----------
    fs : FeatureSet
        A definition using fitted ops (``standardize``, ``one_hot``, ...).
    training_data : polars DataFrame or LazyFrame, or an iterable of row dicts
        The training split; it must hold the inputs the features read.
    label : str or polars expression, optional
        The label, needed by ``target_encode`` (a column name, or a polars
        expression such as ``pl.col("arr_delay") > 15``). Cast to Float64; rows
        whose label is null, NaN or ±inf do not count for target encodings.
    engine : polars engine of the fitting queries (``"auto"``, ``"streaming"``, ``"in-memory"``)
    partials : how a level's :class:`~skewless.fitting.plan.Plan` is computed on partitions of the rows
        (the plan -> each partition's ``plan.partials(rows)``); default: on ``training_data`` whole. Every
        aggregation is exact and mergeable, so the state is the same bits whatever the partitioning
        (``training_data`` then only gives the schema: the Ray engine passes an empty frame).

    Returns
    -------
    FittedFeatureSet
    """
    nodes = _check_fittable(fs, label)
    lf = training_frame(fs, training_data, label)
    state: dict[str, dict[str, Any]] = {}
    first = Plan(lf, engine)
    counts = _RowCounts(first, label)  # the row counts ride along the first level's select
    for level, ready in enumerate(_levels(nodes, state)):
        plan = first if level == 0 else Plan(lf, engine)
        builders = _plan_level(fs, state, ready, plan)
        results = plan.run(partials)
        if level == 0:
            counts.read(results)
        state.update(_states(builders, results))
    return FittedFeatureSet(fs, state, _meta(counts, label))


def _check_fittable(fs: FeatureSet, label: Any) -> list[FittedOp]:
    """The distinct fitted nodes of ``fs`` (innermost first); refuses what cannot be fitted."""
    nodes = fitted_nodes(fs)
    check_one_hot_roots(fs)
    if any(isinstance(n, TargetEncode) for n in nodes) and label is None:
        raise FitError("target_encode(...) needs the label: fit(feature_set, data, label='column')")
    if LABEL in fs.inputs:  # pragma: no cover
        raise FitError(f"input name {LABEL!r} is reserved")
    return nodes


def _levels(nodes: list[FittedOp], state: dict[str, Any]) -> Iterator[list[FittedOp]]:
    """The nodes level by level: each level holds the pending nodes whose inner fitted nodes are learned
    (``state`` is filled in by the caller between levels). Always at least one level (maybe empty)."""
    pending = list(nodes)
    first = True
    while pending or first:
        first = False
        done = {n for n in nodes if node_key(n) in state}
        ready = [n for n in pending if inner_fitted(n) <= done]
        if pending and not ready:  # pragma: no cover
            raise FitError("internal: fitted nodes depend on each other in a cycle")
        yield ready
        pending = [n for n in pending if n not in ready]


class _RowCounts:
    """Training rows, and rows with a finite label (when there is a label), counted in a plan's select."""

    def __init__(self, plan: Plan, label: Any):
        import polars as pl

        self.rows_cell = plan.agg(pl.len().cast(pl.Int64))
        self.labelled_cell = None
        if label is not None:
            self.labelled_cell = plan.agg(pl.col(LABEL).is_finite().fill_null(False).sum().cast(pl.Int64))
        self.rows: int | None = None
        self.labelled: int | None = None

    def read(self, results: Results) -> None:
        self.rows = results[self.rows_cell]
        self.labelled = results[self.labelled_cell] if self.labelled_cell else None


def _plan_level(fs: FeatureSet, state: dict[str, Any], ready: list[FittedOp],
                plan: Plan) -> list[tuple[FittedOp, StateBuilder]]:
    """Register the aggregations of every node of a level on ``plan`` (operands compiled with the inner
    nodes' state); each node's state builder."""
    if not ready:
        return []
    operands: list[Node] = [n.operand for n in ready]
    exprs = compile_nodes(fs, state, operands)
    return [(n, rule_for(n).plan(n, Stats(plan, x, fs._fields[n.operand]))) for n, x in zip(ready, exprs)]


def _states(builders: list[tuple[FittedOp, StateBuilder]], results: Results) -> dict[str, dict[str, Any]]:
    """``{node key: {"op": ..., learned values, "expr": ...}}`` of a level."""
    return {node_key(n): {"op": type(n).__name__, **build(results), "expr": render(n)} for n, build in builders}


def _meta(counts: _RowCounts, label: Any) -> dict[str, Any]:
    import polars as pl

    return {
        "training_rows": counts.rows,
        "labelled_rows": counts.labelled,
        "label": label if isinstance(label, str) else (None if label is None else str(label)),
        "polars_version": pl.__version__,
    }
