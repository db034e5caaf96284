"""Fitted rules: the category encoders (``ordinal_encode``, ``one_hot``, ``frequency_encode``, ``target_encode``).

They count the training categories with ``group_by`` queries and lower to ``map_values`` lookups;
``one_hot`` stays one node (:class:`~skewless.ir.applied.OneHotColumns` over the ordinal code)
until each backend generates its columns.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

from ..dtypes import Field, Float64, Int64
from ..exact import Moments
from ..ir import core
from ..ir.applied import MapValues, OneHotColumns
from ..ir.base import Node
from ..ir.fitted import FrequencyEncode, OneHot, OrdinalEncode, TargetEncode
from .plan import LABEL, Stats
from .rules import RULES, FittedRule, StateBuilder, check_values, lit, want

__all__ = ["one_hot_columns", "target_encoding"]


def _vocabulary(counts: Mapping[Any, int], rows: int, max_categories: int | None, min_frequency: Any) -> list[Any]:
    items = list(counts.items())
    if min_frequency is not None:
        threshold = min_frequency * rows if isinstance(min_frequency, float) else min_frequency
        items = [(v, c) for v, c in items if c >= threshold]
    if max_categories is not None and len(items) > max_categories:
        items = sorted(items, key=lambda vc: (-vc[1], vc[0]))[:max_categories]
    return sorted(v for v, _ in items)


def one_hot_columns(name: str, vocabulary: Iterable[Any]) -> list[str]:
    """Output column names of ``name = one_hot(...)``: one per category, then ``__other``, ``__null``."""
    special = [f"{name}__other", f"{name}__null"]
    out = []
    for value in vocabulary:
        text = value if isinstance(value, str) else ("true" if value is True else "false" if value is False else str(value))
        column = f"{name}__{text}"
        if column in special:
            column = f"{name}__{value!r}"
        out.append(column)
    return out + special


def target_encoding(smoothing: float, labelled: int, label_sum: float) -> tuple[float, Callable[[int, float], float]]:
    """The prior and ``encode(n_c, sum_c) = (sum_c + m * prior) / (n_c + m)`` (prior when ``n_c + m == 0``)."""
    prior = label_sum / labelled if labelled else 0.0
    m = float(smoothing)

    def encode(n: int, s: float) -> float:
        return (s + m * prior) / (n + m) if n + m > 0 else prior

    return prior, encode


@RULES.register(OrdinalEncode, OneHot)
class _Vocabulary(FittedRule):
    """A sorted vocabulary; codes ``0 .. k-1``, ``k`` for any other value, ``k + 1`` for null."""

    def plan(self, node: OrdinalEncode | OneHot, stats: Stats) -> StateBuilder:
        import polars as pl

        vc = stats.counts_of(stats.x.drop_nulls())
        rows, nulls = stats.agg(pl.len().cast(pl.Int64)), stats.agg(stats.x.null_count().cast(pl.Int64))

        def vocabulary(r: Any) -> dict[str, Any]:
            counts = r.counts(vc)
            vocab = _vocabulary(counts, r[rows], node.max_categories, node.min_frequency)
            return {"rows": r[rows], "null_count": r[nulls], "vocabulary": vocab, "counts": [counts[v] for v in vocab]}
        return vocabulary

    def lower(self, node: OrdinalEncode | OneHot, x: Node, field: Field, state: Mapping[str, Any]) -> Node:
        vocab = tuple(state["vocabulary"])
        check_values(node, vocab, field.dtype, "category")
        want(len(set(vocab)) == len(vocab) and list(vocab) == sorted(vocab), node, "vocabulary must be sorted and distinct")
        k = len(vocab)
        code: Node = MapValues(x, vocab, tuple(range(k)), k, Int64())
        if field.nullable:
            code = core.FillNull(code, lit(k + 1))
        return code

    def lower_feature(self, name: str, node: OrdinalEncode | OneHot, x: Node, field: Field,
                      state: Mapping[str, Any]) -> Node:
        code = self.lower(node, x, field, state)
        if isinstance(node, OneHot):  # one node with a column per code, expanded by each backend
            return OneHotColumns(code, tuple(one_hot_columns(name, state["vocabulary"])))
        return code


@RULES.register(FrequencyEncode)
class _FrequencyEncode(FittedRule):
    def plan(self, node: FrequencyEncode, stats: Stats) -> StateBuilder:
        import polars as pl

        vc = stats.counts_of(stats.x.drop_nulls())
        rows, nulls = stats.agg(pl.len().cast(pl.Int64)), stats.agg(stats.x.null_count().cast(pl.Int64))

        def frequency(r: Any) -> dict[str, Any]:
            counts = r.counts(vc)
            keys = sorted(counts)
            return {"rows": r[rows], "null_count": r[nulls], "keys": keys, "counts": [counts[k] for k in keys]}
        return frequency

    def lower(self, node: FrequencyEncode, x: Node, field: Field, state: Mapping[str, Any]) -> Node:
        keys, counts, rows = tuple(state["keys"]), state["counts"], state["rows"]
        check_values(node, keys, field.dtype, "category")
        want(len(keys) == len(counts) and len(set(keys)) == len(keys), node, "keys and counts differ")
        freq = tuple(c / rows if rows else 0.0 for c in counts)
        mapped: Node = MapValues(x, keys, freq, 0.0, Float64())
        if field.nullable:
            mapped = core.FillNull(mapped, lit(state["null_count"] / rows if rows else 0.0))
        return mapped


@RULES.register(TargetEncode)
class _TargetEncode(FittedRule):
    """Label sums and counts per category over the rows with a finite label (out of fold for the training
    rows: :meth:`skewless.fitting.FittedFeatureSet.transform_training`)."""

    def plan(self, node: TargetEncode, stats: Stats) -> StateBuilder:
        import polars as pl

        from ..exact import moments_query

        y = pl.col(LABEL)
        valid = y.is_finite().fill_null(False)
        x = stats.x
        labelled = stats.agg(valid.sum().cast(pl.Int64))
        # label sums per category as exact moments (skewless.exact), each rounded once
        qi = stats.query(lambda lf: moments_query(lf.filter(valid).select(x.alias("c"), y.alias("y")), pl.col("y"),
                                                  ["c"]), ["c", "e"])

        def target(r: Any) -> dict[str, Any]:
            groups = r.grouped_moments(qi, "c")
            null = groups.pop(None, None)
            total = sum(groups.values(), null or Moments())
            keys = sorted(groups)
            return {"labelled_rows": r[labelled], "label_sum": total.total(),
                    "keys": keys, "counts": [groups[k].count for k in keys], "sums": [groups[k].total() for k in keys],
                    "null_count": null.count if null else 0, "null_sum": null.total() if null else 0.0}
        return target

    def lower(self, node: TargetEncode, x: Node, field: Field, state: Mapping[str, Any]) -> Node:
        keys, counts, sums = tuple(state["keys"]), state["counts"], state["sums"]
        check_values(node, keys, field.dtype, "category")
        want(len(keys) == len(counts) == len(sums) and len(set(keys)) == len(keys), node, "keys, counts, sums differ")
        prior, encode = target_encoding(node.smoothing, state["labelled_rows"], state["label_sum"])
        values = tuple(encode(n, s) for n, s in zip(counts, sums))
        mapped: Node = MapValues(x, keys, values, prior, Float64())
        if field.nullable:
            null = encode(state["null_count"], state["null_sum"]) if state["null_count"] else prior
            mapped = core.FillNull(mapped, lit(null))
        return mapped
