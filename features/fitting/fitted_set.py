"""The fitted feature set: a definition, the state its fitted ops learned, and the plain set it lowers to.

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

from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from ..compiled import CompiledFeatureSet
from ..dtypes import Field, Float64
from ..feature_set import FeatureSet, Input
from ..ir.base import Column, Node
from ..ir.fitted import TargetEncode
from .lowering import fitted_nodes, lower
from .plan import compile_nodes
from .rules import FitError

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

__all__ = ["FittedFeatureSet"]

_OOF = "__skewless_oof_"


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
        from ..artifact import state_fingerprint

        return state_fingerprint(self.state)

    def prepare(self, training_rows: Any, *, label: Any = None) -> "FittedFeatureSet":
        """``self``: the state is already learned (fit the definition again to relearn it)."""
        return self

    def save_state(self, path: Any) -> Path:
        """Write the artifact (see :func:`skewless.artifact.save`)."""
        from ..artifact import save

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
        check_rows: bool = True, tables: Any = None, events: Any = None,
    ) -> "pl.LazyFrame":
        """Features of the *training* rows, with out-of-fold target encodings (see the module docstring).

        Parameters
        ----------
        frame : the training rows (the same rows ``fit`` was given)
        label : the label column name or polars expression; defaults to the one given to ``fit`` (by name)
        fold_key : a column whose value (as text) decides each row's fold; default: the row position
        keep : columns passed through in front
        tables : the entity tables of the lookups, joined point-in-time first (see ``join_lookups``)
        events : the event sources of the windows, computed point-in-time next (see ``join_windows``)
        check_rows : refuse a frame whose row and labelled-row counts differ from the fitted ones
            (out-of-fold encodings of other rows would leak their own labels)
        """
        import polars as pl

        if not self.target_encode_nodes():
            return self.transform(frame, keep=keep, tables=tables, events=events)
        if self.lookups is not None or tables:
            frame = self.join_lookups(frame, tables)
        if self.windows is not None or events:
            frame = self.join_windows(frame, events)
        lf = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
        oof = OutOfFold(self, label, fold_key)
        if check_rows:
            got = lf.select(pl.len().alias("rows"), oof.valid.sum().alias("labelled")).collect().row(0)
            oof.check_counts(*got)
        # Folds and per-(category, fold) sums come from a group_by pass over the training rows; each row's
        # encoding is then looked up per batch in the small table of cells (_CellLookup). Window
        # expressions, int_range(len) and a streaming join of the cells all held the whole frame; a row
        # index, a group_by and a per-batch lookup stream (peak memory bounded by the groups).
        if fold_key is None:
            lf = lf.with_row_index(oof.position)
        return oof.apply(lf, oof.cells([oof.partials(lf)]), keep)


class OutOfFold:
    """The out-of-fold target encodings of training rows, as mergeable steps (used whole or per partition).

    :meth:`partials` computes, on any part of the training rows (each row carrying its fold key),
    the exact label sums and counts per (category, fold) cell; :meth:`cells` merges the partials of
    all parts (exactly: :mod:`skewless.exact`) into each cell's encoding; :meth:`apply` computes the
    features of a part with those encodings. ``transform_training`` runs the three on the whole frame;
    the Ray engine runs :meth:`partials` and :meth:`apply` per partition, with the rows' global
    positions as the fold key.
    """

    #: The row-position column when the fold key is the row's position.
    position = "__skewless_row"

    def __init__(self, fitted: FittedFeatureSet, label: Any = None, fold_key: str | None = None):
        import polars as pl

        self.fitted, self.nodes = fitted, fitted.target_encode_nodes()
        label = label if label is not None else fitted.meta.get("label")
        if not isinstance(label, (str, pl.Expr)):
            raise FitError("transform_training needs the label: pass label= (the fit label was not a column name)")
        self.y = (pl.col(label) if isinstance(label, str) else label).cast(pl.Float64)
        self.valid = self.y.is_finite().fill_null(False)
        self.fold_key = fold_key

    def check_counts(self, rows: int, labelled: int) -> None:
        want = (self.fitted.meta.get("training_rows"), self.fitted.meta.get("labelled_rows"))
        if (rows, labelled) != want:
            raise FitError(f"transform_training must be given the training rows the set was fitted on: got "
                           f"{rows} rows ({labelled} labelled), fitted on {want[0]} ({want[1]} labelled)")

    def _tagged(self, lf: "pl.LazyFrame") -> "pl.LazyFrame":
        """The rows with their conformed inputs, each node's category and fold, the label (0.0 when not finite)
        and whether it counts."""
        import polars as pl

        from ..backends.polars.compiler import conform_inputs
        from ..backends.polars.hashing import plh

        base = lf.with_columns(conform_inputs(self.fitted.definition, lf.collect_schema()))
        key = pl.col(self.position).cast(pl.Int64) if self.fold_key is None else pl.col(self.fold_key)
        digest = plh.NonCryptographicHashingNameSpace(key.cast(pl.String)).xxhash64(seed=0)
        cats = compile_nodes(self.fitted.definition, self.fitted.state, [n.operand for n in self.nodes])
        yv, nv = pl.when(self.valid).then(self.y).otherwise(0.0), self.valid.cast(pl.Int64)
        return base.with_columns(
            *(c.alias(f"{_OOF}c{i}") for i, c in enumerate(cats)),
            *((digest % pl.lit(n.folds, dtype=pl.UInt64)).cast(pl.Int64).alias(f"{_OOF}f{i}")
              for i, n in enumerate(self.nodes)),
            yv.alias(f"{_OOF}y"), nv.alias(f"{_OOF}n"),
        )

    def partials(self, lf: "pl.LazyFrame") -> list["pl.DataFrame"]:
        """Per node: the exact label moments of each (category, fold) cell of these rows (mergeable)."""
        import polars as pl

        from ..exact import moments_query

        tagged = self._tagged(lf)
        y, n = pl.col(f"{_OOF}y"), pl.col(f"{_OOF}n")
        return pl.collect_all([moments_query(tagged, y, [f"{_OOF}c{i}", f"{_OOF}f{i}"], count=n)
                               for i in range(len(self.nodes))],
                              engine="streaming", optimizations=pl.QueryOptFlags(comm_subplan_elim=False))

    def cells(self, parts: list[list["pl.DataFrame"]]) -> list["pl.DataFrame"]:
        """Per node: ``(category, fold, enc)`` of every cell, from the partials of all parts."""
        import polars as pl

        from ..exact import Moments, merge_sums, read_grouped_moments

        out = []
        for i, node in enumerate(self.nodes):
            c, f = f"{_OOF}c{i}", f"{_OOF}f{i}"
            merged = merge_sums([p[i] for p in parts], [c, f, "e"])
            cells = read_grouped_moments(merged, [c, f])
            by_fold: dict[int, Moments] = {}
            by_cat: dict[Any, Moments] = {}
            for (cat, fold), m in cells.items():
                by_fold[fold] = by_fold.get(fold, Moments()) + m
                by_cat[cat] = by_cat.get(cat, Moments()) + m
            whole = sum(by_fold.values(), Moments())
            m_ = float(node.smoothing)
            keys, folds, encs = [], [], []
            for (cat, fold), m in sorted(cells.items(), key=lambda kv: (kv[0][0] is None, kv[0])):
                # the other folds' prior and this category's sums over the other folds, each exact sum
                # rounded once; then the float formula of the serving encoding
                n_out = whole.count - by_fold[fold].count
                s_out = Moments(0, whole.sum - by_fold[fold].sum).total()
                prior = s_out / float(n_out) if n_out > 0 else 0.0
                n_c = by_cat[cat].count - m.count
                s_c = Moments(0, by_cat[cat].sum - m.sum).total()
                enc = (s_c + m_ * prior) / (float(n_c) + m_) if float(n_c) + m_ > 0 else prior
                keys.append(cat)
                folds.append(fold)
                encs.append(enc)
            out.append(pl.DataFrame({c: keys, f: folds, "enc": encs},
                                    schema={c: merged.schema[c], f: pl.Int64, "enc": pl.Float64}))
        return out

    def apply(self, lf: "pl.LazyFrame", cells: list["pl.DataFrame"], keep: tuple[str, ...] = ()) -> "pl.LazyFrame":
        """The training features of ``lf`` (rows with their fold keys) with the cells' encodings."""
        import polars as pl

        tagged = self._tagged(lf)
        oof = []
        overrides: dict[Node, Node] = {}
        extra: dict[str, Input] = {}
        for i, (node, table) in enumerate(zip(self.nodes, cells)):
            c, f = f"{_OOF}c{i}", f"{_OOF}f{i}"
            name = f"{_OOF}{i}"
            oof.append(pl.struct(c, f).map_batches(_CellLookup(table, c, f), return_dtype=pl.Float64,
                                                   is_elementwise=True).alias(name))
            overrides[node] = Column(name)
            extra[name] = Input(Float64())
        helpers = [k for k in tagged.collect_schema() if k.startswith(_OOF) or k == self.position]
        base = tagged.with_columns(oof).drop([k for k in helpers if k not in extra])
        training = lower(self.fitted.definition, self.fitted.state, name=f"{self.fitted.name}_training",
                         overrides=overrides, extra_inputs=extra)
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
