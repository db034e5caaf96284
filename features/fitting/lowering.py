"""Lowering (pure Python, no polars): a definition plus learned state becomes a plain feature set.

Each fitted node is replaced by the ordinary IR its rule builds from its state
(:meth:`~skewless.fitting.rules.FittedRule.lower`), innermost first; a serving process lowers the
stored state of an artifact the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from ..errors import DefinitionError
from ..feature_set import FeatureSet, Input, _digest
from ..ir.base import Node, walk
from ..ir.fitted import FittedOp, OneHot
from .rules import FitError, rule_for

if TYPE_CHECKING:  # pragma: no cover
    from ..compiled import State

__all__ = ["node_key", "fitted_nodes", "inner_fitted", "check_one_hot_roots", "Lowerer", "lower"]


def node_key(node: Node) -> str:
    """Content hash of a fitted node (its op, parameters and whole operand tree): its state's key."""
    from ..ir.serialize import node_to_data

    return _digest(node_to_data(node))


def inner_fitted(node: FittedOp) -> set[Node]:
    """The fitted nodes inside ``node``'s operand (learned before it)."""
    return {n for n in walk(node.operand) if isinstance(n, FittedOp)}


def fitted_nodes(fs: FeatureSet) -> list[FittedOp]:
    """The distinct fitted nodes of ``fs``, innermost first, in definition order."""
    seen: dict[Node, None] = {}
    for feat in fs.features.values():
        # post-order so that inner fitted nodes come first
        order: list[Node] = []
        stack: list[tuple[Node, bool]] = [(feat.node, False)]
        while stack:
            n, expanded = stack.pop()
            if expanded:
                order.append(n)
                continue
            stack.append((n, True))
            stack.extend((c, False) for c in reversed(n.children()))
        for n in order:
            if isinstance(n, FittedOp):
                seen.setdefault(n, None)
    return list(seen)  # type: ignore[arg-type]


def check_one_hot_roots(fs: FeatureSet) -> None:
    """``one_hot`` expands into several columns: it must be a feature of its own."""
    for name, feat in fs.features.items():
        for n in walk(feat.node):
            if isinstance(n, OneHot) and n is not feat.node and n != feat.node:
                raise DefinitionError(
                    "one_hot(...) expands into several columns, so it must be a feature of its own and cannot be"
                    " an operand of another expression; use ordinal_encode(...) inside expressions",
                    feature=name,
                )


class Lowerer:
    """Replaces fitted nodes by their lowered IR (memoised; shared subtrees lowered once).

    ``overrides`` replace given nodes outright (the out-of-fold encodings of the training rows).
    """

    def __init__(self, fs: FeatureSet, state: "State", overrides: Mapping[Node, Node] | None = None):
        self.fs = fs
        self.state = state
        self.memo: dict[Node, Node] = dict(overrides or {})

    def state_of(self, node: FittedOp) -> Mapping[str, Any]:
        key = node_key(node)
        if key not in self.state:
            raise FitError(f"no learned state for {node.method}() (key {key}); fit the feature set again")
        state = self.state[key]
        if state.get("op") != type(node).__name__:
            raise FitError(f"invalid state for {node.method}(): state is for {state.get('op')!r}")
        return state

    def __call__(self, node: Node) -> Node:
        hit = self.memo.get(node)
        if hit is not None:
            return hit
        if isinstance(node, FittedOp):
            state = self.state_of(node)
            out = rule_for(node).lower(node, self(node.operand), self.fs._fields[node.operand], state)
        else:
            out = node.map_children(self)
        self.memo[node] = out
        return out

    def feature(self, name: str, node: Node) -> Node:
        """The lowered root of feature ``name`` (a fitted root may lower to several columns: ``one_hot``)."""
        if isinstance(node, FittedOp) and node not in self.memo:
            state = self.state_of(node)
            return rule_for(node).lower_feature(name, node, self(node.operand), self.fs._fields[node.operand], state)
        return self(node)


def lower(
    fs: FeatureSet, state: "State", *, name: str | None = None,
    overrides: Mapping[Node, Node] | None = None, extra_inputs: Mapping[str, Input] | None = None,
) -> FeatureSet:
    """The plain feature set computing ``fs`` with the given learned ``state`` (no polars needed)."""
    from ..api.expr import Expr

    check_one_hot_roots(fs)
    low = Lowerer(fs, state, overrides)
    # lowering first: it checks each state (types, sorted distinct vocabularies) before names are made of it
    roots = {fname: low.feature(fname, feat.node) for fname, feat in fs.features.items()}
    columns = {fname: list(root.output_columns(fname)) for fname, root in roots.items()}
    taken: dict[str, int] = {}
    for cs in columns.values():
        for c in cs:
            taken[c] = taken.get(c, 0) + 1
    clash = [c for cs in columns.values() for c in cs if c in fs.inputs or c in (extra_inputs or {})]
    clash += [c for c, n in taken.items() if n > 1]
    if clash:
        raise DefinitionError(f"output column name(s) {sorted(set(clash))!r} collide (one_hot columns are named"
                              " <feature>__<category>, <feature>__other, <feature>__null)")
    features = {fname: Expr(root) for fname, root in roots.items()}
    inputs = {k: Input(f.dtype, f.nullable) for k, f in fs.inputs.items()}
    inputs.update(extra_inputs or {})
    lowered = FeatureSet(name or fs.name, inputs, features, doc=fs.doc)
    for fname, feat in fs.features.items():
        got = lowered.features[fname].field
        if got.dtype != feat.dtype or (got.nullable and not feat.nullable):
            raise FitError(f"internal: feature {fname!r} lowered to {got!r}, declared {feat.field!r}")  # pragma: no cover
    return lowered
