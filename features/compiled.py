"""The one interface of a feature set that computes features: :class:`CompiledFeatureSet`.

Every layer above the compilers (the build, training, bundles, serving, the parity harness and the
CLI) talks to feature sets through this class only. Two kinds implement it today:

* :class:`~skewless.feature_set.FeatureSet`, a plain definition: it *is* its own definition and its
  own plain set, and holds no state;
* :class:`~skewless.fitting.FittedFeatureSet`, a definition with fitted ops (``standardize``,
  ``one_hot``, ...) plus the state they learned on training rows, computed by the plain set the
  state lowers to.

A third kind (entity lookups, windowed aggregations) implements the same members: what it learns
or reads from training rows is produced by :meth:`~CompiledFeatureSet.prepare`, saved by
:meth:`~CompiledFeatureSet.save_state` and read back by :func:`load`; how it computes the
training rows' features (point-in-time) is :meth:`~CompiledFeatureSet.transform_training`.

>>> import polars as pl
>>> from skewless import CompiledFeatureSet, FeatureSet, Float64, col, standardize
>>> plain = FeatureSet("p", {"x": Float64}, {"x2": col("x") * 2.0})
>>> ready = plain.prepare(pl.DataFrame({"x": [1.0]}), label=None)
>>> ready is plain, ready.state is None, isinstance(ready, CompiledFeatureSet)
(True, True, True)
>>> written = FeatureSet("f", {"x": Float64}, {"z": standardize(col("x"))})
>>> written.needs_state
True
>>> fitted = written.prepare(pl.DataFrame({"x": [1.0, 3.0]}), label=None)
>>> type(fitted).__name__, fitted.definition is written, fitted.row_fn({"x": 3.0})
('FittedFeatureSet', True, {'z': 1.0})
"""

from __future__ import annotations

import abc
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Union

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

    from .dtypes import Field
    from .feature_set import FeatureSet
    from .parity import ParityReport

__all__ = ["CompiledFeatureSet", "load", "Frame", "Label", "RowFn", "State"]

#: What the batch transforms take: a polars frame (lazy or not).
Frame = Union["pl.LazyFrame", "pl.DataFrame"]
#: A label: a column name or a polars expression.
Label = Union[str, "pl.Expr", None]
#: The per-request function: input row -> feature row.
RowFn = Callable[[Mapping[str, Any]], dict[str, Any]]
#: Learned state, JSON-able: ``{node key: {"op": ..., learned values}}``.
State = Mapping[str, Mapping[str, Any]]


class CompiledFeatureSet(abc.ABC):
    """A feature set the layers above compile, run, store and serve.

    Members
    -------
    name, definition, fingerprint, feature_fingerprints()
        Identity: the feature set as written in code and its content hashes (what builds and bundles
        record and check).
    input_schema(), used_inputs(), output_schema()
        The declared inputs, the ones read, and the output columns (one-hot features expanded).
    row_fn, checked_row_fn(), python_source(), transform(), transform_training(), check_parity()
        The per-request function (unvalidated hot path; ``checked_row_fn()`` validates as the service
        does) and its reviewed source, the batch pipeline (serving semantics),
        the batch pipeline of the training rows (out-of-fold where it matters), and the parity
        check of the two runtimes.
    plain
        The plain :class:`~skewless.feature_set.FeatureSet` whose IR both runtimes compile.
    needs_state, state, state_fingerprint, prepare(), save_state()
        Learned state: whether the definition needs some, the state itself (``None`` when there is
        none), its hash, learning it from training rows, and writing it (read back by :func:`load`).
    """

    name: str

    # --- identity ---------------------------------------------------------------------
    @property
    @abc.abstractmethod
    def definition(self) -> "FeatureSet":
        """The feature set as written in code (its fingerprints identify builds and bundles)."""

    @property
    def fingerprint(self) -> str:
        """Content hash of the definition (inputs and every feature as written)."""
        return self.definition.fingerprint

    def feature_fingerprints(self) -> dict[str, str]:
        """Content hash of each feature's definition, by feature name."""
        return self.definition.feature_fingerprints()

    # --- schemas ----------------------------------------------------------------------
    def input_schema(self) -> "dict[str, Field]":
        """The declared inputs and their fields."""
        return self.definition.input_schema()

    @abc.abstractmethod
    def used_inputs(self) -> list[str]:
        """Inputs read by at least one output column, in declaration order."""

    @abc.abstractmethod
    def output_schema(self) -> "dict[str, Field]":
        """The output columns and their fields, in order."""

    # --- computing ----------------------------------------------------------------------
    @property
    @abc.abstractmethod
    def plain(self) -> "FeatureSet":
        """The plain feature set (ordinary IR only) whose compiled code computes this set."""

    @property
    def row_fn(self) -> RowFn:
        """``fn(row: Mapping) -> dict``: the generated per-request function (never imports polars).

        The fast, **unvalidated** hot path: the row must hold every declared input with its declared
        Python type (``float`` for Float64, not ``int``; ``None`` only where nullable); nothing is
        checked. To validate and coerce a row as the HTTP service does (an int for a Float64 input
        becomes a float, datetimes go to the declared zone, missing keys and nulls in non-nullable
        inputs are refused naming the field) use :meth:`checked_row_fn` (see :mod:`skewless.requests`).
        """
        return self.plain.compile_python().row_fn

    def checked_row_fn(self, *, extra: str = "forbid", allow_non_finite: bool = False) -> RowFn:
        """The per-request function behind the service's validation: see :func:`skewless.requests.checked_row_fn`."""
        from .requests import checked_row_fn

        return checked_row_fn(self, extra=extra, allow_non_finite=allow_non_finite)

    def python_source(self) -> str:
        """The generated per-request source, for review (stored in artifacts and bundles)."""
        return self.plain.compile_python().source

    def transform(self, frame: Frame, *, keep: tuple[str, ...] = (), per_batch: bool = True) -> "pl.LazyFrame":
        """The batch pipeline, serving semantics: ``LazyFrame -> LazyFrame`` of the output columns.

        ``keep`` columns are passed through in front. ``per_batch`` (default True) runs the lookup
        kernels of fitted state (``replace_strict``, ``search_sorted``) batch by batch, which keeps
        polars' streaming engine in bounded memory; False emits them natively (identical values,
        checked by ``check_parity``; faster on tiny in-memory frames).
        """
        from .backends.polars.compiler import transform

        return transform(self.plain, frame, keep=keep, per_batch=per_batch)

    def transform_training(self, frame: Frame, *, label: Label = None, keep: tuple[str, ...] = ()) -> "pl.LazyFrame":
        """The batch pipeline of the *training rows* (the rows :meth:`prepare` learned from).

        The same as :meth:`transform` unless state learned from these rows would leak their labels
        (out-of-fold target encodings, see :meth:`skewless.fitting.FittedFeatureSet.transform_training`).
        """
        return self.transform(frame, keep=keep)

    def check_parity(self, data: Any, **kwargs: Any) -> "ParityReport":
        """:func:`skewless.parity.check_parity` of this set on ``data``."""
        from .parity import check_parity

        return check_parity(self, data, **kwargs)

    # --- learned state --------------------------------------------------------------------
    @property
    @abc.abstractmethod
    def needs_state(self) -> bool:
        """Whether computing this set needs state it does not hold yet (call :meth:`prepare`)."""

    @property
    @abc.abstractmethod
    def state(self) -> State | None:
        """The learned state (JSON-able), or ``None`` when this set has none."""

    @property
    @abc.abstractmethod
    def state_fingerprint(self) -> str | None:
        """SHA-256 of the canonical JSON of :attr:`state` (``None`` without state)."""

    @abc.abstractmethod
    def prepare(self, training_rows: Any, *, label: Label = None) -> "CompiledFeatureSet":
        """The set ready to compute features, learning its state from ``training_rows`` when it needs some.

        Returns ``self`` when there is nothing to learn (a plain set, or one that holds its state).
        ``training_rows``: a polars frame or an iterable of row dicts; ``label``: needed by
        ``target_encode``.
        """

    def save_state(self, path: str | os.PathLike[str]) -> Path:
        """Write the state to ``path`` (read back by :func:`load`); refuses a set without state."""
        from .errors import SkewlessError

        raise SkewlessError(f"feature set {self.name!r} holds no state to save")


def load(definition: "FeatureSet", state_file: str | os.PathLike[str] | None, *,
         check_source: bool = True) -> CompiledFeatureSet:
    """The compiled feature set stored as ``definition`` (in code now) plus an optional state file.

    Without a state file the definition itself is returned (refused when it needs state); with one,
    the state is read and verified by :func:`skewless.artifact.load` (pydantic, no polars).
    """
    from .errors import SkewlessError

    if state_file is None:
        if definition.needs_state:
            raise SkewlessError(f"feature set {definition.name!r} has fitted ops but no fitted state was stored")
        return definition
    from .artifact import load as load_artifact

    return load_artifact(Path(state_file), definition, check_source=check_source)
