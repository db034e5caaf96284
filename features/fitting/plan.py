"""Learning the state with polars: the training frame, the aggregation plan of a level, quantiles.

The fitted ops of one *level* (those whose inner fitted ops are already learned) share one
:class:`Plan`: their scalar aggregations run in one ``select`` and their ``group_by`` queries
beside it, all collected by a single ``polars.collect_all`` over the lazy training frame. Each op
sees the plan through a :class:`Stats` of its own operand and reads the results through
:class:`Results` (see :mod:`skewless.fitting.rules`).
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
from typing import TYPE_CHECKING, Any, Callable, Mapping

from .. import exact
from ..dtypes import Field
from ..dtypes import Float64 as Float64Type
from ..feature_set import FeatureSet, Input
from ..ir.base import Node
from .rules import FitError

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

__all__ = ["LABEL", "Plan", "Stats", "Results", "Quantiles", "training_frame", "compile_nodes"]

#: Name of the label column inside the fitting query (cannot collide: inputs are checked).
LABEL = "__skewless_label"


def training_frame(fs: FeatureSet, data: Any, label: Any) -> "pl.LazyFrame":
    """The used inputs of ``data`` with their declared dtypes, plus the label as Float64 (:data:`LABEL`)."""
    import polars as pl

    from ..backends.polars.compiler import conform_inputs
    from ..backends.polars.dtypes import to_polars
    from ..frames import as_polars

    data = as_polars(data, fs)  # pandas, pyarrow, paths: converted losslessly or refused naming the column
    if isinstance(data, pl.DataFrame):
        lf = data.lazy()
    elif isinstance(data, pl.LazyFrame):
        lf = data
    else:
        rows = [dict(r) for r in data]
        schema = {k: to_polars(f.dtype) for k, f in fs.inputs.items()}
        if isinstance(label, str):
            schema[label] = pl.Float64
        lf = pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema, orient="row").lazy() \
            if rows else pl.DataFrame(schema=schema).lazy()
    schema = lf.collect_schema()
    cols = conform_inputs(fs, schema)
    if label is not None:
        if isinstance(label, str) and label not in schema:
            raise FitError(f"label column {label!r} is missing from the training data")
        y = pl.col(label) if isinstance(label, str) else label
        cols.append(y.cast(pl.Float64).alias(LABEL))
    return lf.select(cols)


def compile_nodes(fs: FeatureSet, state: Mapping[str, Any], nodes: list[Node]) -> list[Any]:
    """Polars expressions of ``nodes`` (fitted nodes inside them lowered with ``state``)."""
    from ..api.expr import Expr
    from ..backends.polars.compiler import compile_exprs
    from .lowering import Lowerer

    low = Lowerer(fs, state)
    names = [f"__skewless_fit_{i}" for i in range(len(nodes))]
    clash = [n for n in names if n in fs.inputs]
    if clash:  # pragma: no cover
        raise FitError(f"input names {clash} are reserved")
    tmp = FeatureSet(f"{fs.name}_fit", {k: Input(f.dtype, f.nullable) for k, f in fs.inputs.items()},
                     {name: Expr(low(n)) for name, n in zip(names, nodes)})
    exprs = compile_exprs(tmp)
    return [exprs[n] for n in names]


class Results:
    """What a level's plan computed: ``results[cell]`` (scalar aggregations) and the query frames."""

    def __init__(self, row: Mapping[str, Any], frames: list[Any], keyed: frozenset[str] = frozenset()):
        self.row, self.frames, self.keyed = row, frames, keyed

    def __getitem__(self, cell: str) -> Any:
        value = self.row[cell]
        return exact.from_order_key(value) if cell in self.keyed else value

    def frame(self, query: int) -> Any:
        return self.frames[query]

    def counts(self, query: int) -> dict[Any, int]:
        """``{value: count}`` of a :meth:`Stats.counts_of` query."""
        return {v: int(n) for v, n in self.frames[query].iter_rows()}

    def moments(self, query: int) -> exact.Moments:
        """The exact :class:`~skewless.exact.Moments` of a :meth:`Stats.moments` query."""
        return exact.read_moments(self.frames[query])

    def grouped_moments(self, query: int, by: str) -> dict[Any, exact.Moments]:
        """``{group: Moments}`` of a grouped :meth:`Stats.moments` query."""
        return exact.read_grouped_moments(self.frames[query], [by])


#: How the partial results of a scalar aggregation of several partitions merge.
MERGES = ("sum", "min", "max")


class Plan:
    """The aggregations of one level: scalar ones in one select, plus group_by queries.

    Every aggregation is **mergeable and exact**: a scalar one is an integer count (merged by
    summing) or a minimum / maximum (of :func:`~skewless.exact.order_key` values for floats); a query
    is a group_by whose value columns are integer sums, merged by summing per key columns
    (:func:`~skewless.exact.merge_sums`) and sorted by its keys. :meth:`partials` computes them on
    any frame of training rows and :meth:`merge` combines the partials of any partitioning into the
    same :class:`Results`, bit for bit (the single-machine fit is one partition; the Ray engine runs
    :meth:`partials` on each of its partitions).
    """

    def __init__(self, lf: "pl.LazyFrame", engine: str = "auto"):
        self.lf = lf
        self.engine = engine
        self.aggs: list[tuple[str, Any, str]] = []  # (cell, expression, merge)
        self.queries: list[tuple[Callable[[Any], Any], list[str]]] = []  # (build over the rows, key columns)
        self.keyed: set[str] = set()

    def agg(self, expr: Any, merge: str = "sum", *, float_key: bool = False) -> str:
        """A scalar aggregation (an integer ``sum`` such as a count, or a ``min`` / ``max``); its cell.

        With ``float_key``, ``expr`` is a float expression whose extreme is taken in IEEE's total order
        (through :func:`~skewless.exact.order_key`) and read back as the float.
        """
        if merge not in MERGES:  # pragma: no cover
            raise ValueError(f"merge must be one of {MERGES}")
        name = f"a{len(self.aggs)}"
        if float_key:
            expr = getattr(exact.order_key(expr), merge)()
            self.keyed.add(name)
        self.aggs.append((name, expr.alias(name), merge))
        return name

    def query(self, build: Callable[[Any], Any], keys: list[str]) -> int:
        """A group_by query ``build(rows)`` with key columns ``keys`` and integer sums as its other columns."""
        self.queries.append((build, list(keys)))
        return len(self.queries) - 1

    def partials(self, lf: "pl.LazyFrame") -> list[Any]:
        """The partial results on the training rows ``lf``: the scalar row, then each query's frame."""
        import polars as pl

        select = lf.select([e for _, e, _ in self.aggs]) if self.aggs else lf.select(pl.len())
        # No common-subplan elimination: it caches the shared input (the training rows) in memory for
        # the queries to share; scanning it once per query streams (measured on 1e7 rows: peak
        # 0.90 -> 0.41 GiB, no slower).
        return pl.collect_all([select, *(build(lf) for build, _ in self.queries)], engine=self.engine,
                              optimizations=pl.QueryOptFlags(comm_subplan_elim=False))

    def merge(self, parts: list[list[Any]]) -> Results:
        """The results of partials computed on the partitions of the training rows (exact, any partitioning)."""
        if not parts:  # pragma: no cover
            raise FitError("internal: no partial results to merge")
        row: dict[str, Any] = {}
        for name, _, merge in self.aggs:
            values = [p[0][name][0] for p in parts]
            if merge == "sum":
                row[name] = sum(int(v) for v in values if v is not None)
            else:
                present = [v for v in values if v is not None]
                row[name] = (min if merge == "min" else max)(present) if present else None
        frames = [exact.merge_sums([p[i + 1] for p in parts], keys) for i, (_, keys) in enumerate(self.queries)]
        return Results(row, frames, frozenset(self.keyed))

    def run(self, partials: Callable[["Plan"], list[list[Any]]] | None = None) -> Results:
        """Collect the plan: on ``self.lf`` (one partition), or through ``partials`` (the plan -> each
        partition's :meth:`partials`; the Ray engine)."""
        return self.merge(partials(self) if partials is not None else [self.partials(self.lf)])


class Stats:
    """One fitted op's view of its level's :class:`Plan`: aggregations over its operand ``x``.

    ``x`` is the operand's polars expression (inner fitted ops lowered) and ``field`` its static field.
    """

    def __init__(self, plan: Plan, x: Any, field: Field):
        self.plan, self.x, self.field = plan, x, field

    def agg(self, expr: Any, merge: str = "sum", *, float_key: bool = False) -> str:
        """Add a scalar aggregation to the level's select (:meth:`Plan.agg`); returns its cell in :class:`Results`."""
        return self.plan.agg(expr, merge, float_key=float_key)

    def query(self, build: Callable[[Any], Any], keys: list[str]) -> int:
        """Add a mergeable query of its own (:meth:`Plan.query`); returns its index in :class:`Results`."""
        return self.plan.query(build, keys)

    @functools.cached_property
    def finite(self) -> Any:
        """The finite values of a numeric operand, as Float64 (null, NaN and ±inf left out)."""
        import polars as pl

        as_float = self.x.cast(pl.Float64)
        return as_float.filter(as_float.is_finite())

    @functools.cached_property
    def count(self) -> str:
        """Cell of the number of finite values (numeric operands)."""
        import polars as pl

        return self.agg(self.finite.len().cast(pl.Int64))

    def minimum(self) -> str:
        """Cell of the smallest finite value (IEEE total order: -0.0 before 0.0; None when there is none)."""
        return self.agg(self.finite, "min", float_key=True)

    def maximum(self) -> str:
        """Cell of the largest finite value (IEEE total order: 0.0 after -0.0)."""
        return self.agg(self.finite, "max", float_key=True)

    @functools.cached_property
    def moments(self) -> int:
        """Query of the exact moments of the finite values (read with :meth:`Results.moments`)."""
        finite = self.finite
        return self.query(lambda lf: exact.moments_query(lf.select(finite.alias("x")), _col("x")), ["e"])

    def counts_of(self, values: Any) -> int:
        """A query counting each distinct value of ``values`` (read with :meth:`Results.counts`).

        Float zeros are counted as ``0.0``: a group_by keeps whichever zero it met first.
        """
        import polars as pl

        if isinstance(self.field.dtype, Float64Type):
            values = pl.when(values == 0.0).then(pl.lit(0.0)).otherwise(values)
        # A group_by query of its own streams; value_counts().implode() in the shared select did not.
        return self.query(lambda lf: lf.select(values.alias("v")).group_by("v")
                          .agg(pl.len().cast(pl.Int64).alias("n")), ["v"])

    def quantiles(self, qs: list[float]) -> "Quantiles":
        """numpy's "linear" quantiles ``qs`` of the finite values (read with :meth:`Quantiles.values`)."""
        return Quantiles(self, self.finite, qs)


def _col(name: str) -> Any:
    import polars as pl

    return pl.col(name)


def _lerp(a: float, b: float, t: float) -> float:
    """numpy's ``_lerp`` (``a + (b - a) t``, from ``b`` when ``t >= 0.5``); exact at ``t == 0``."""
    if t == 0.0 or a == b:
        return a
    diff = b - a
    return b - diff * (1.0 - t) if t >= 0.5 else a + diff * t


class Quantiles:
    """numpy's "linear" quantiles (type 7) of the finite values, from exact order statistics.

    The order statistics are read off the column's distinct values and their counts (a group_by query
    of its own), not off a sorted copy of the column: memory is bounded by the distinct values, not
    the rows, and the result is the same value a sort would give. One departure: a zero order
    statistic is +0.0 (a sort keeps -0.0 and 0.0 in row order, as numpy's does not define either).
    """

    def __init__(self, stats: Stats, finite: Any, qs: list[float]):
        import polars as pl

        self.qs = qs
        # sorted by value: the merged query is sorted by its key (Plan.merge)
        self.query = stats.query(lambda lf: lf.select(finite.alias("v")).group_by("v")
                                 .agg(pl.len().cast(pl.Int64).alias("n")), ["v"])

    def values(self, results: Results) -> list[float | None]:
        table = results.frame(self.query)
        distinct = table["v"].to_list()
        upto = list(itertools.accumulate(table["n"].to_list()))  # upto[i]: rows with a value <= distinct[i]
        n = upto[-1] if upto else 0

        def nth(k: int) -> float:  # the k-th (0-based) value of the sorted column
            v = float(distinct[bisect.bisect_right(upto, k)])
            return 0.0 if v == 0.0 else v

        out: list[float | None] = []
        for q in self.qs:
            if not n:
                out.append(None)
                continue
            vi = (n - 1) * q
            prev = math.floor(vi)
            out.append(_lerp(nth(prev), nth(min(prev + 1, n - 1)), vi - prev))
        return out
