"""Fit a feature set's fitted ops on training data, then lower them into ordinary IR.

>>> import polars as pl
>>> from skewless import FeatureSet, Input, Float64, String, col, fit, standardize, one_hot
>>> fs = FeatureSet("demo", {"x": Float64, "c": Input(String, nullable=True)},
...                 {"x_std": standardize(col("x")), "c_oh": one_hot(col("c"))})
>>> fitted = fit(fs, pl.DataFrame({"x": [1.0, 2.0, 3.0], "c": ["a", "b", None]}))
>>> fitted.row_fn({"x": 3.0, "c": "zz"})
{'x_std': 1.224744871391589, 'c_oh__a': 0, 'c_oh__b': 0, 'c_oh__other': 1, 'c_oh__null': 0}

How it works
------------
1. **Learn.** Every fitted node (``standardize``, ``one_hot``, ...) in the
   definition gets a *state*: a small JSON-able dict of learned numbers and
   vocabularies. The aggregations of all fitted nodes that do not depend on
   each other run together, in one ``select`` (plus one ``group_by`` per
   ``target_encode``) collected with a single ``polars.collect_all`` over the
   lazy training frame; nested fitted nodes are learned innermost first, one
   such pass per nesting level, each reading the inner ones already lowered.
2. **Lower.** Each fitted node is replaced by ordinary ops holding its state
   as literals: ``(x - mean) / std``, ``map_values(...)``, ``bucketize(...)``,
   ``clip(...)``, ``fill_null(...)``. The result is a plain
   :class:`~skewless.feature_set.FeatureSet` (``fitted.lowered``), so both
   compilers, the code generator and :func:`~skewless.parity.check_parity`
   work on it unchanged. Lowering is pure Python (no polars): loading an
   artifact in a serving process re-lowers the stored state.

Semantics of each op (NaN, constant columns, empty vocabularies, quantiles)
are documented in :mod:`skewless.ir.fitted`.

Out-of-fold target encoding
---------------------------
``transform_training(frame)`` computes the features of the *training rows*
with out-of-fold target encodings: row ``i`` is in fold
``XXH64(str(key_i)) % folds`` where ``key_i`` is the row's 0-based position in
``frame`` (or the value of the ``fold_key`` column, cast to String, when one is
given, so that folds survive a re-ordering of the rows), and its encoding uses
the label sums and counts of its category over the *other* folds, with the
prior (label mean) of the other folds. Every other feature is the serving one
(a fitted op applied on top of a target encoding keeps the state it learned from
the serving encodings and is applied to the out-of-fold ones).
"""

from __future__ import annotations

import bisect
import itertools
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from .compiled import CompiledFeatureSet
from .dtypes import Boolean, DataType, Field, Float64, Int64, Null, String
from .errors import DefinitionError, SkewlessError
from .feature_set import FeatureSet, Input, _digest
from .ir import core
from .ir.applied import Bucketize, MapValues
from .ir.base import INT64_MAX, INT64_MIN, Column, Literal, Node, walk
from .ir.fitted import (
    FittedOp,
    FrequencyEncode,
    Impute,
    MinMaxScale,
    OneHot,
    OrdinalEncode,
    QuantileBucketize,
    RobustScale,
    Standardize,
    TargetEncode,
    UniformBucketize,
    Winsorize,
)
from .ir.numeric import Clip, FillNan

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl


__all__ = ["fit", "FittedFeatureSet", "FitError", "fitted_nodes", "node_key", "lower", "one_hot_columns"]

#: Name of the label column inside the fitting query (cannot collide: inputs are checked).
_LABEL = "__skewless_label"
_OOF = "__skewless_oof_"


class FitError(SkewlessError, ValueError):
    """Fitting or lowering failed: missing label, inconsistent state, colliding column names."""


# --------------------------------------------------------------------------- structure


def node_key(node: Node) -> str:
    """Content hash of a fitted node (its op, parameters and whole operand tree): its state's key."""
    from .ir.serialize import node_to_data

    return _digest(node_to_data(node))


def _inner_fitted(node: FittedOp) -> set[Node]:
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


def _check_one_hot_roots(fs: FeatureSet) -> None:
    for name, feat in fs.features.items():
        for n in walk(feat.node):
            if isinstance(n, OneHot) and n is not feat.node and n != feat.node:
                raise DefinitionError(
                    "one_hot(...) expands into several columns, so it must be a feature of its own and cannot be"
                    " an operand of another expression; use ordinal_encode(...) inside expressions",
                    feature=name,
                )


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


# --------------------------------------------------------------------------- lowering (pure Python)


def _lit(value: Any, dtype: DataType | None = None) -> Literal:
    if dtype is None:
        dtype = {bool: Boolean(), int: Int64(), float: Float64(), str: String()}[type(value)]
    return Literal(value, dtype)


def _finite(*values: float) -> bool:
    return all(isinstance(v, float) and math.isfinite(v) for v in values)


def _scaled(x: Node, center: float | None, spread: float | None, count: int) -> Node:
    """``(x - center) / spread``; degenerate statistics give ``x * 0.0 + 0.0`` (0.0, NaN for NaN/±inf)."""
    ok = count > 0 and center is not None and spread is not None and _finite(center, spread) and spread > 0
    ok = ok and math.isfinite(1.0 / spread)
    if not ok:
        return core.Add(core.Mul(x, _lit(0.0)), _lit(0.0))
    return core.TrueDiv(core.Sub(x, _lit(center)), _lit(spread))


def _want(cond: bool, node: FittedOp, what: str) -> None:
    if not cond:
        raise FitError(f"invalid state for {node.method}(): {what}")


def _check_values(node: FittedOp, values: Iterable[Any], dtype: DataType, what: str) -> None:
    py = {String: str, Int64: int, Boolean: bool, Float64: float}[type(dtype)]
    for v in values:
        _want(type(v) is py, node, f"{what} {v!r} is not a {dtype!r} value")


def _lower_one(node: FittedOp, x: Node, field: Field, state: Mapping[str, Any]) -> Node:
    """The ordinary IR computing ``node`` (whose operand, lowered, is ``x`` of static ``field``)."""
    _want(state.get("op") == type(node).__name__, node, f"state is for {state.get('op')!r}")
    count = state.get("count", 0)
    if isinstance(node, Standardize):
        return _scaled(x, state["mean"], state["std"], count)
    if isinstance(node, MinMaxScale):
        lo, hi = state["min"], state["max"]
        spread = hi - lo if lo is not None and hi is not None and _finite(lo, hi) else None
        return _scaled(x, lo, spread, count)
    if isinstance(node, RobustScale):
        lo, hi = state["q_low_value"], state["q_high_value"]
        spread = hi - lo if lo is not None and hi is not None and _finite(lo, hi) else None
        return _scaled(x, state["median"], spread, count)
    if isinstance(node, Winsorize):
        lo, hi = state["lower_value"], state["upper_value"]
        if count == 0 or lo is None or hi is None:
            return x
        _check_values(node, (lo, hi), Float64(), "bound")
        if isinstance(field.dtype, Int64):
            ilo = INT64_MIN if lo < INT64_MIN else min(math.floor(lo), INT64_MAX)
            ihi = INT64_MAX if hi > INT64_MAX else max(math.ceil(hi), INT64_MIN)
            return Clip(x, _lit(ilo), _lit(ihi))
        return Clip(x, _lit(lo), _lit(hi))
    if isinstance(node, Impute):
        value = state["value"]
        out = Float64() if node.strategy in ("mean", "median") else field.dtype
        if node.fill_value is not None:
            from .ir.base import literal_dtype, supertype

            out = supertype(out, literal_dtype(node.fill_value)) or out
        _check_values(node, [value], out, "fill value")
        v = _lit(value, out)
        if isinstance(field.dtype, Float64):
            x = FillNan(x, v)
        if field.nullable:
            return core.FillNull(x, v)
        return core.Cast(x, out) if out != field.dtype else x
    if isinstance(node, (OrdinalEncode, OneHot)):
        vocab = tuple(state["vocabulary"])
        _check_values(node, vocab, field.dtype, "category")
        _want(len(set(vocab)) == len(vocab) and list(vocab) == sorted(vocab), node, "vocabulary must be sorted and distinct")
        k = len(vocab)
        code: Node = MapValues(x, vocab, tuple(range(k)), k, Int64())
        if field.nullable:
            code = core.FillNull(code, _lit(k + 1))
        return code  # OneHot columns are built from the code by _expand_one_hot
    if isinstance(node, FrequencyEncode):
        keys, counts, rows = tuple(state["keys"]), state["counts"], state["rows"]
        _check_values(node, keys, field.dtype, "category")
        _want(len(keys) == len(counts) and len(set(keys)) == len(keys), node, "keys and counts differ")
        freq = tuple(c / rows if rows else 0.0 for c in counts)
        mapped: Node = MapValues(x, keys, freq, 0.0, Float64())
        if field.nullable:
            mapped = core.FillNull(mapped, _lit(state["null_count"] / rows if rows else 0.0))
        return mapped
    if isinstance(node, TargetEncode):
        keys, counts, sums = tuple(state["keys"]), state["counts"], state["sums"]
        _check_values(node, keys, field.dtype, "category")
        _want(len(keys) == len(counts) == len(sums) and len(set(keys)) == len(keys), node, "keys, counts, sums differ")
        prior, encode = target_encoding(node.smoothing, state["labelled_rows"], state["label_sum"])
        values = tuple(encode(n, s) for n, s in zip(counts, sums))
        mapped = MapValues(x, keys, values, prior, Float64())
        if field.nullable:
            null = encode(state["null_count"], state["null_sum"]) if state["null_count"] else prior
            mapped = core.FillNull(mapped, _lit(null))
        return mapped
    if isinstance(node, (QuantileBucketize, UniformBucketize)):
        edges = tuple(state["edges"])
        _check_values(node, edges, Float64(), "edge")
        return Bucketize(x, edges, "left")
    raise FitError(f"no lowering for {type(node).__name__}")  # pragma: no cover


def target_encoding(smoothing: float, labelled: int, label_sum: float) -> tuple[float, Callable[[int, float], float]]:
    """The prior and ``encode(n_c, sum_c) = (sum_c + m * prior) / (n_c + m)`` (prior when ``n_c + m == 0``)."""
    prior = label_sum / labelled if labelled else 0.0
    m = float(smoothing)

    def encode(n: int, s: float) -> float:
        return (s + m * prior) / (n + m) if n + m > 0 else prior

    return prior, encode


class _Lowerer:
    """Replaces fitted nodes by their lowered IR (memoised; shared subtrees lowered once)."""

    def __init__(self, fs: FeatureSet, state: Mapping[str, Mapping[str, Any]], overrides: Mapping[Node, Node] = {}):
        self.fs = fs
        self.state = state
        self.memo: dict[Node, Node] = dict(overrides)

    def __call__(self, node: Node) -> Node:
        hit = self.memo.get(node)
        if hit is not None:
            return hit
        if isinstance(node, FittedOp):
            key = node_key(node)
            if key not in self.state:
                raise FitError(f"no learned state for {node.method}() (key {key}); fit the feature set again")
            x = self(node.operand)
            out = _lower_one(node, x, self.fs._fields[node.operand], self.state[key])
        else:
            out = node.map_children(self)
        self.memo[node] = out
        return out


def lower(
    fs: FeatureSet, state: Mapping[str, Mapping[str, Any]], *, name: str | None = None,
    overrides: Mapping[Node, Node] | None = None, extra_inputs: Mapping[str, Input] | None = None,
) -> FeatureSet:
    """The plain feature set computing ``fs`` with the given learned ``state`` (no polars needed)."""
    from .api.expr import Expr

    _check_one_hot_roots(fs)
    low = _Lowerer(fs, state, overrides or {})
    features: dict[str, Any] = {}
    for fname, feat in fs.features.items():
        node = feat.node
        if isinstance(node, OneHot):
            code = low(node)
            columns = one_hot_columns(fname, state[node_key(node)]["vocabulary"])
            for i, column in enumerate(columns):
                features[column] = Expr(core.Cast(core.Eq(code, _lit(i)), Int64()))
        else:
            features[fname] = Expr(low(node))
    clash = [c for c in features if c in fs.inputs or c in (extra_inputs or {})]
    taken: dict[str, int] = {}
    for fname, feat in fs.features.items():
        for c in (one_hot_columns(fname, state[node_key(feat.node)]["vocabulary"]) if isinstance(feat.node, OneHot) else [fname]):
            taken[c] = taken.get(c, 0) + 1
    clash += [c for c, n in taken.items() if n > 1]
    if clash:
        raise DefinitionError(f"output column name(s) {sorted(set(clash))!r} collide (one_hot columns are named"
                              " <feature>__<category>, <feature>__other, <feature>__null)")
    inputs = {k: Input(f.dtype, f.nullable) for k, f in fs.inputs.items()}
    inputs.update(extra_inputs or {})
    lowered = FeatureSet(name or fs.name, inputs, features, doc=fs.doc)
    for fname, feat in fs.features.items():
        if isinstance(feat.node, OneHot):
            continue
        got = lowered.features[fname].field
        if got.dtype != feat.dtype or (got.nullable and not feat.nullable):
            raise FitError(f"internal: feature {fname!r} lowered to {got!r}, declared {feat.field!r}")  # pragma: no cover
    return lowered


# --------------------------------------------------------------------------- the fitted feature set


class FittedFeatureSet(CompiledFeatureSet):
    """A feature set with learned state: the definition, the state, and the lowered plain feature set.

    A :class:`~skewless.compiled.CompiledFeatureSet`: its per-request function and batch pipeline
    are those of ``lowered``; :meth:`transform_training` gives the training rows out-of-fold
    target encodings.

    Attributes
    ----------
    definition : FeatureSet
        The feature set as written (with fitted ops).
    state : dict
        ``{node key: {"op": ..., learned values}}`` (JSON-able; see :mod:`skewless.artifact`).
    lowered : FeatureSet
        The plain feature set both runtimes compile (one-hot features expanded).
    meta : dict
        Fit-time facts: ``polars_version``, ``training_rows``, ``label``, ``labelled_rows``.
    """

    def __init__(self, definition: FeatureSet, state: Mapping[str, Mapping[str, Any]], meta: Mapping[str, Any] | None = None):
        self._definition = definition
        self._state = {k: dict(v) for k, v in state.items()}
        self.meta = dict(meta or {})
        self.lowered = lower(definition, self._state)

    @property
    def name(self) -> str:
        return self.definition.name

    def __repr__(self) -> str:
        return (f"<FittedFeatureSet {self.name!r}: {len(self.state)} fitted nodes, "
                f"{len(self.lowered.features)} output columns>")

    # --- the compiled-feature-set interface ---------------------------------------------
    @property
    def definition(self) -> FeatureSet:
        """The feature set as written (with fitted ops)."""
        return self._definition

    @property
    def plain(self) -> FeatureSet:
        """The lowered plain feature set both runtimes compile (one-hot features expanded)."""
        return self.lowered

    def used_inputs(self) -> list[str]:
        return self.lowered.used_inputs()

    def output_schema(self) -> dict[str, Field]:
        """Output columns (one-hot features expanded) and their fields."""
        return self.lowered.output_schema()

    @property
    def needs_state(self) -> bool:
        return False

    @property
    def state(self) -> dict[str, dict[str, Any]]:
        """``{node key: {"op": ..., learned values}}`` (JSON-able; see :mod:`skewless.artifact`)."""
        return self._state

    @property
    def state_fingerprint(self) -> str:
        from .artifact import state_fingerprint

        return state_fingerprint(self.state)

    def prepare(self, training_rows: Any, *, label: Any = None) -> "FittedFeatureSet":
        """``self``: the state is already learned (fit the definition again to relearn it)."""
        return self

    def save_state(self, path: Any) -> Path:
        """Write the artifact (see :func:`skewless.artifact.save`)."""
        from .artifact import save

        return save(self, path)

    def save(self, path: Any) -> Path:
        """Write the artifact (the same as :meth:`save_state`)."""
        return self.save_state(path)

    @property
    def definition_fingerprint(self) -> str:
        return self.definition.fingerprint

    # --- training rows -------------------------------------------------------------
    def target_encode_nodes(self) -> list[TargetEncode]:
        return [n for n in fitted_nodes(self.definition) if isinstance(n, TargetEncode)]

    def transform_training(
        self, frame: Any, *, label: Any = None, fold_key: str | None = None, keep: tuple[str, ...] = (),
        check_rows: bool = True,
    ) -> "pl.LazyFrame":
        """Features of the *training* rows, with out-of-fold target encodings (see the module docstring).

        Parameters
        ----------
        frame : the training rows (the same rows ``fit`` was given)
        label : the label column name or polars expression; defaults to the one given to ``fit`` (by name)
        fold_key : a column whose value (as text) decides each row's fold; default: the row position
        keep : columns passed through in front
        check_rows : refuse a frame whose row and labelled-row counts differ from the fitted ones
            (out-of-fold encodings of other rows would leak their own labels)
        """
        import polars as pl

        from .backends.polars.compiler import conform_inputs
        from .backends.polars.hashing import plh

        nodes = self.target_encode_nodes()
        if not nodes:
            return self.transform(frame, keep=keep)
        lf = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
        label = label if label is not None else self.meta.get("label")
        if not isinstance(label, (str, pl.Expr)):
            raise FitError("transform_training needs the label: pass label= (the fit label was not a column name)")
        y = (pl.col(label) if isinstance(label, str) else label).cast(pl.Float64)
        valid = y.is_finite().fill_null(False)
        if check_rows:
            got = lf.select(pl.len().alias("rows"), valid.sum().alias("labelled")).collect().row(0)
            want = (self.meta.get("training_rows"), self.meta.get("labelled_rows"))
            if tuple(got) != want:
                raise FitError(f"transform_training must be given the training rows the set was fitted on: got "
                               f"{got[0]} rows ({got[1]} labelled), fitted on {want[0]} ({want[1]} labelled)")
        # Folds and per-(category, fold) sums come from a group_by pass over the training rows; each row's
        # encoding is then looked up per batch in the small table of cells (_CellLookup). Window
        # expressions, int_range(len) and a streaming join of the cells all held the whole frame; a row
        # index, a group_by and a per-batch lookup stream (peak memory bounded by the groups).
        pos = "__skewless_row"
        schema = lf.collect_schema()
        base = lf.with_columns(conform_inputs(self.definition, schema))
        if fold_key is None:
            base = base.with_row_index(pos)
            key = pl.col(pos).cast(pl.Int64)
        else:
            key = pl.col(fold_key)
        digest = plh.NonCryptographicHashingNameSpace(key.cast(pl.String)).xxhash64(seed=0)
        cats = _compile_nodes(self.definition, self.state, [n.operand for n in nodes])
        yv, nv = pl.when(valid).then(y).otherwise(0.0), valid.cast(pl.Int64)
        tagged = base.with_columns(
            *(c.alias(f"{_OOF}c{i}") for i, c in enumerate(cats)),
            *((digest % pl.lit(n.folds, dtype=pl.UInt64)).cast(pl.Int64).alias(f"{_OOF}f{i}") for i, n in enumerate(nodes)),
            yv.alias(f"{_OOF}y"), nv.alias(f"{_OOF}n"),
        )
        sums = (pl.col(f"{_OOF}n").sum().alias("n"), pl.col(f"{_OOF}y").sum().alias("s"))
        groups = pl.collect_all([tagged.group_by(f"{_OOF}c{i}", f"{_OOF}f{i}").agg(*sums) for i in range(len(nodes))],
                                engine="streaming", optimizations=pl.QueryOptFlags(comm_subplan_elim=False))
        oof = []
        overrides: dict[Node, Node] = {}
        extra: dict[str, Input] = {}
        for i, (node, g) in enumerate(zip(nodes, groups)):
            c, f = f"{_OOF}c{i}", f"{_OOF}f{i}"
            n_all, s_all = int(g["n"].sum()), float(g["s"].sum())
            m = float(node.smoothing)
            # The encoding of every (category, fold) cell, computed on the small table of cells with the
            # same float operations a per-row formula would use, so each row gets the identical value.
            n_out = pl.lit(n_all) - pl.col("n").sum().over(f)
            s_out = pl.lit(s_all) - pl.col("s").sum().over(f)
            prior = pl.when(n_out > 0).then(s_out / n_out.cast(pl.Float64)).otherwise(0.0)
            n_c = pl.col("n").sum().over(c) - pl.col("n")
            s_c = pl.col("s").sum().over(c) - pl.col("s")
            enc = pl.when(n_c.cast(pl.Float64) + m > 0).then((s_c + m * prior) / (n_c.cast(pl.Float64) + m)).otherwise(prior)
            cells = g.select(c, f, enc.alias("enc"))
            name = f"{_OOF}{i}"
            oof.append(pl.struct(c, f).map_batches(_CellLookup(cells, c, f), return_dtype=pl.Float64,
                                                   is_elementwise=True).alias(name))
            overrides[node] = Column(name)
            extra[name] = Input(Float64())
        helpers = [k for k in tagged.collect_schema() if k.startswith(_OOF) or k == pos]
        base = tagged.with_columns(oof).drop([k for k in helpers if k not in extra])
        training = lower(self.definition, self.state, name=f"{self.name}_training", overrides=overrides,
                         extra_inputs=extra)
        return training.transform(base, keep=keep)


class _CellLookup:
    """Per batch of (category, fold) structs: the encoding of each row's cell (a small eager join).

    A streaming join of the cells onto the rows (maintain_order="left") made the build's memory grow
    with the training rows once the features were computed on top of it (1.29 -> 1.79 GiB from 6.7M
    to 13.4M rows); this lookup runs per batch (``is_elementwise=True``), so nothing is held.
    """

    def __init__(self, cells: Any, c: str, f: str):
        self.cells, self.on = cells, [c, f]

    def __call__(self, batch: Any) -> Any:
        rows = batch.struct.unnest()
        return rows.join(self.cells, on=self.on, how="left", nulls_equal=True, maintain_order="left")["enc"]


# --------------------------------------------------------------------------- fitting (polars)


def _compile_nodes(fs: FeatureSet, state: Mapping[str, Any], nodes: list[Node]) -> list[Any]:
    """Polars expressions of ``nodes`` (fitted nodes inside them lowered with ``state``)."""
    from .api.expr import Expr
    from .backends.polars.compiler import compile_exprs

    low = _Lowerer(fs, state)
    names = [f"__skewless_fit_{i}" for i in range(len(nodes))]
    clash = [n for n in names if n in fs.inputs]
    if clash:  # pragma: no cover
        raise FitError(f"input names {clash} are reserved")
    tmp = FeatureSet(f"{fs.name}_fit", {k: Input(f.dtype, f.nullable) for k, f in fs.inputs.items()},
                     {name: Expr(low(n)) for name, n in zip(names, nodes)})
    exprs = compile_exprs(tmp)
    return [exprs[n] for n in names]


def _training_frame(fs: FeatureSet, data: Any, label: Any) -> "pl.LazyFrame":
    import polars as pl

    from .backends.polars.compiler import conform_inputs
    from .backends.polars.dtypes import to_polars
    from .frames import as_polars

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
        cols.append(y.cast(pl.Float64).alias(_LABEL))
    return lf.select(cols)


class _Plan:
    """The aggregations of one level: scalar ones in one select, plus group_by queries."""

    def __init__(self, lf: "pl.LazyFrame", engine: str = "auto"):
        self.lf = lf
        self.engine = engine
        self.aggs: list[Any] = []
        self.queries: list[Any] = []

    def agg(self, expr: Any) -> str:
        name = f"a{len(self.aggs)}"
        self.aggs.append(expr.alias(name))
        return name

    def query(self, lf: Any) -> int:
        self.queries.append(lf)
        return len(self.queries) - 1

    def run(self) -> tuple[dict[str, Any], list[Any]]:
        import polars as pl

        # No common-subplan elimination: it caches the shared input (the training rows) in memory for
        # the queries to share; scanning it once per query streams (measured on 1e7 rows: peak
        # 0.90 -> 0.41 GiB, no slower).
        frames = pl.collect_all([self.lf.select(self.aggs) if self.aggs else self.lf.select(pl.len()), *self.queries],
                                engine=self.engine, optimizations=pl.QueryOptFlags(comm_subplan_elim=False))
        row = frames[0].row(0, named=True) if self.aggs else {}
        return row, frames[1:]


def _lerp(a: float, b: float, t: float) -> float:
    """numpy's ``_lerp`` (``a + (b - a) t``, from ``b`` when ``t >= 0.5``); exact at ``t == 0``."""
    if t == 0.0 or a == b:
        return a
    diff = b - a
    return b - diff * (1.0 - t) if t >= 0.5 else a + diff * t


class _Quantiles:
    """numpy's "linear" quantiles (type 7) of the finite values, from exact order statistics.

    The order statistics are read off the column's distinct values and their counts (a group_by query
    of its own), not off a sorted copy of the column: memory is bounded by the distinct values, not
    the rows, and the result is the same value a sort would give. One departure: a zero order
    statistic is +0.0 (a sort keeps -0.0 and 0.0 in row order, as numpy's does not define either).
    """

    def __init__(self, plan: _Plan, finite: Any, qs: list[float]):
        import polars as pl

        self.qs = qs
        self.query = plan.query(plan.lf.select(finite.alias("v")).group_by("v")
                                .agg(pl.len().cast(pl.Int64).alias("n")).sort("v"))

    def values(self, row: Mapping[str, Any], frames: list[Any]) -> list[float | None]:
        table = frames[self.query]
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


def _merge_edges(edges: list[float]) -> list[float]:
    """Drop edges equal to the previous kept one; the inner edges are the kept ones without the outer two."""
    kept: list[float] = []
    for e in edges:
        if not kept or e > kept[-1]:
            kept.append(e)
    return [float(e) for e in kept[1:-1]]


def _vocabulary(counts: Mapping[Any, int], rows: int, max_categories: int | None, min_frequency: Any) -> list[Any]:
    items = list(counts.items())
    if min_frequency is not None:
        threshold = min_frequency * rows if isinstance(min_frequency, float) else min_frequency
        items = [(v, c) for v, c in items if c >= threshold]
    if max_categories is not None and len(items) > max_categories:
        items = sorted(items, key=lambda vc: (-vc[1], vc[0]))[:max_categories]
    return sorted(v for v, _ in items)


def _planner(node: FittedOp, x: Any, field: Field, plan: _Plan, lf: Any) -> Callable[[dict, list], dict[str, Any]]:
    """Register ``node``'s aggregations on ``plan``; return the function building its state from the results."""
    import polars as pl

    op = type(node).__name__
    if isinstance(field.dtype, (Int64, Float64)):
        as_float = x.cast(pl.Float64)
        finite = as_float.filter(as_float.is_finite())
        count = plan.agg(finite.len().cast(pl.Int64))

    def counts_of(values: Any) -> int:
        # A group_by query of its own streams; value_counts().implode() in the shared select did not.
        return plan.query(lf.select(values.alias("v")).group_by("v").agg(pl.len().cast(pl.Int64).alias("n")))

    def as_dict(frame: Any) -> dict[Any, int]:
        return {v: int(n) for v, n in frame.iter_rows()}

    if isinstance(node, Standardize):
        mean, std = plan.agg(finite.mean()), plan.agg(finite.std(ddof=node.ddof))
        return lambda r, q: {"op": op, "count": r[count], "mean": r[mean], "std": r[std]}
    if isinstance(node, MinMaxScale):
        lo, hi = plan.agg(finite.min()), plan.agg(finite.max())
        return lambda r, q: {"op": op, "count": r[count], "min": r[lo], "max": r[hi]}
    if isinstance(node, RobustScale):
        qs = _Quantiles(plan, finite, [0.5, node.q_low, node.q_high])

        def robust(r: dict, q: list) -> dict[str, Any]:
            med, lo, hi = qs.values(r, q)
            return {"op": op, "count": r[count], "median": med, "q_low_value": lo, "q_high_value": hi}
        return robust
    if isinstance(node, Winsorize):
        qw = _Quantiles(plan, finite, [node.lower, node.upper])

        def winsor(r: dict, q: list) -> dict[str, Any]:
            lo, hi = qw.values(r, q)
            return {"op": op, "count": r[count], "lower_value": lo, "upper_value": hi}
        return winsor
    if isinstance(node, (QuantileBucketize, UniformBucketize)):
        n_bins = node.n_bins
        if isinstance(node, QuantileBucketize):
            qb = _Quantiles(plan, finite, [i / n_bins for i in range(n_bins + 1)])

            def quantile_state(r: dict, q: list) -> dict[str, Any]:
                full = qb.values(r, q)
                edges = _merge_edges(full) if r[count] else []
                return {"op": op, "count": r[count], "quantiles": full if r[count] else [], "edges": edges}
            return quantile_state
        lo, hi = plan.agg(finite.min()), plan.agg(finite.max())

        def uniform_state(r: dict, q: list) -> dict[str, Any]:
            a, b = r[lo], r[hi]
            edges: list[float] = []
            if r[count] and a < b:
                step = (b - a) / n_bins  # numpy.linspace: start + i * step, the last one exactly stop
                edges = _merge_edges([a + i * step for i in range(n_bins)] + [b])
                edges = [e for e in edges if math.isfinite(e)]
            return {"op": op, "count": r[count], "min": a, "max": b, "edges": edges}
        return uniform_state
    if isinstance(node, Impute):
        out = Float64() if node.strategy in ("mean", "median") else field.dtype
        if node.fill_value is not None:
            from .ir.base import literal_dtype, supertype

            out = supertype(out, literal_dtype(node.fill_value)) or out
        zero = {Float64: 0.0, Int64: 0, String: "", Boolean: False}[type(out)]

        def typed(v: Any) -> Any:
            return float(v) if isinstance(out, Float64) and not isinstance(v, bool) else v

        fallback = typed(node.fill_value) if node.fill_value is not None else zero
        if node.strategy == "constant":
            return lambda r, q: {"op": op, "value": fallback}
        if node.strategy == "mean":
            mean = plan.agg(finite.mean())
            return lambda r, q: {"op": op, "count": r[count], "value": typed(r[mean]) if r[count] else fallback}
        if node.strategy == "median":
            qm = _Quantiles(plan, finite, [0.5])
            return lambda r, q: {"op": op, "count": r[count], "value": typed(qm.values(r, q)[0]) if r[count] else fallback}
        present = x.drop_nulls()
        if isinstance(field.dtype, Float64):
            present = present.filter(~present.is_nan())
        vc = counts_of(present)

        def most_frequent(r: dict, q: list) -> dict[str, Any]:
            counts = as_dict(q[vc])
            if not counts:
                return {"op": op, "count": 0, "value": fallback}
            value = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
            return {"op": op, "count": sum(counts.values()), "value": typed(value)}
        return most_frequent
    if isinstance(node, (OrdinalEncode, OneHot, FrequencyEncode)):
        vc = counts_of(x.drop_nulls())
        rows, nulls = plan.agg(pl.len().cast(pl.Int64)), plan.agg(x.null_count().cast(pl.Int64))
        if isinstance(node, FrequencyEncode):
            def frequency(r: dict, q: list) -> dict[str, Any]:
                counts = as_dict(q[vc])
                keys = sorted(counts)
                return {"op": op, "rows": r[rows], "null_count": r[nulls], "keys": keys,
                        "counts": [counts[k] for k in keys]}
            return frequency

        def vocabulary(r: dict, q: list) -> dict[str, Any]:
            counts = as_dict(q[vc])
            vocab = _vocabulary(counts, r[rows], node.max_categories, node.min_frequency)
            return {"op": op, "rows": r[rows], "null_count": r[nulls], "vocabulary": vocab,
                    "counts": [counts[v] for v in vocab]}
        return vocabulary
    if isinstance(node, TargetEncode):
        y = pl.col(_LABEL)
        valid = y.is_finite().fill_null(False)
        labelled, total = plan.agg(valid.sum().cast(pl.Int64)), plan.agg(y.filter(valid).sum())
        qi = plan.query(
            lf.filter(valid).select(x.alias("c"), y.alias("y")).group_by("c")
            .agg(pl.len().cast(pl.Int64).alias("n"), pl.col("y").sum().alias("s"))
        )

        def target(r: dict, q: list) -> dict[str, Any]:
            groups = {row["c"]: (row["n"], row["s"]) for row in q[qi].iter_rows(named=True)}
            null_n, null_s = groups.pop(None, (0, 0.0))
            keys = sorted(groups)
            return {"op": op, "labelled_rows": r[labelled], "label_sum": float(r[total] or 0.0),
                    "keys": keys, "counts": [groups[k][0] for k in keys], "sums": [float(groups[k][1]) for k in keys],
                    "null_count": null_n, "null_sum": float(null_s)}
        return target
    raise FitError(f"no fitting rule for {op}")  # pragma: no cover


def fit(fs: FeatureSet, training_data: Any, *, label: Any = None, engine: str = "auto") -> FittedFeatureSet:
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

    Returns
    -------
    FittedFeatureSet
    """
    import polars as pl

    nodes = fitted_nodes(fs)
    _check_one_hot_roots(fs)
    if any(isinstance(n, TargetEncode) for n in nodes) and label is None:
        raise FitError("target_encode(...) needs the label: fit(feature_set, data, label='column')")
    if _LABEL in fs.inputs:  # pragma: no cover
        raise FitError(f"input name {_LABEL!r} is reserved")
    lf = _training_frame(fs, training_data, label)
    state: dict[str, dict[str, Any]] = {}
    meta_plan = _Plan(lf, engine)
    rows_cell = meta_plan.agg(pl.len().cast(pl.Int64))
    labelled_cell = None
    if label is not None:
        y = pl.col(_LABEL)
        labelled_cell = meta_plan.agg(y.is_finite().fill_null(False).sum().cast(pl.Int64))
    pending = list(nodes)
    first = True
    while pending or first:
        done = {n for n in nodes if node_key(n) in state}
        ready = [n for n in pending if _inner_fitted(n) <= done]
        if pending and not ready:  # pragma: no cover
            raise FitError("internal: fitted nodes depend on each other in a cycle")
        plan = meta_plan if first else _Plan(lf, engine)
        builders = []
        if ready:
            exprs = _compile_nodes(fs, state, [n.operand for n in ready])
            for n, x in zip(ready, exprs):
                builders.append((n, _planner(n, x, fs._fields[n.operand], plan, lf)))
        row, frames = plan.run()
        if first:
            meta = {"training_rows": row[rows_cell], "labelled_rows": row[labelled_cell] if labelled_cell else None}
            first = False
        for n, build in builders:
            state[node_key(n)] = {**build(row, frames), "expr": _render(n)}
        pending = [n for n in pending if n not in ready]
    meta.update({
        "label": label if isinstance(label, str) else (None if label is None else str(label)),
        "polars_version": pl.__version__,
    })
    return FittedFeatureSet(fs, state, meta)


def _render(node: Node) -> str:
    from .ir.base import render

    return render(node)
