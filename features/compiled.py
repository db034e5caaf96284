"""The one interface of a feature set that computes features: :class:`CompiledFeatureSet`.

Every layer above the compilers (the build, training, bundles, serving, the parity harness and the
CLI) talks to feature sets through this class only. Two kinds implement it today:

* :class:`~skewless.feature_set.FeatureSet`, a plain definition: it *is* its own definition and its
  own plain set, and holds no state;
* :class:`~skewless.fitting.FittedFeatureSet`, a definition with fitted ops (``standardize``,
  ``one_hot``, ...) plus the state they learned on training rows, computed by the plain set the
  state lowers to.

Entity lookups (:mod:`skewless.state`) are part of the definition and go through the same members: the
batch transforms take the entity tables (``tables={"planes": frame, ...}``) and run the point-in-time
join (:func:`skewless.state.batch.join_lookups`) before the features; per request,
:meth:`~CompiledFeatureSet.online_row_fn` reads every lookup of a request from an online store in one
round trip, then runs the generated function, which takes the looked-up columns as inputs
(``input_schema()``; a request carries ``request_schema()``).

Windowed aggregations (:mod:`skewless.windows.declared`) likewise: the batch transforms take the event
history (``events={"flights": frame}``) and compute each row's windows point in time before the features;
:meth:`~CompiledFeatureSet.online_row_fn` reads them from the same store as the lookups.

A later kind implements the same members: what it learns
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
    from .state.lookups import Lookups
    from .state.protocol import OnlineStore
    from .state.replay import ReplayReport

#: Entity tables by name, for the batch lookups: polars frames (lazy or not) of each table's history.
Tables = Mapping[str, Any]

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
    request_schema(), lookups, lookup_fn(), online_row_fn(), join_lookups(), replay_parity()
        Entity state: what a request carries (the inputs without the looked-up columns), the declared
        lookups, reading a request's lookups from an online store (alone, or followed by the generated
        function), the batch point-in-time join, and replay parity of the two.
    windows, join_windows()
        Windowed aggregations: the declared windows (read per request by ``online_row_fn()`` from the same
        store) and their batch point-in-time computation from the event history.
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
        """What the generated function and the batch pipeline read: the declared inputs and the looked-up columns."""
        return self.definition.input_schema()

    def request_schema(self) -> "dict[str, Field]":
        """What a request carries: the declared inputs (without the looked-up columns)."""
        return self.definition.request_schema()

    @property
    def lookups(self) -> "Lookups | None":
        """The definition's entity lookups (``None`` when it declares none)."""
        return self.definition.lookups

    @property
    def windows(self) -> Any:
        """The definition's windows (:class:`skewless.windows.declared.FeatureWindows`; ``None`` without)."""
        return self.definition.windows

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

    def checked_row_fn(self, *, extra: str = "forbid", allow_non_finite: bool = False,
                       store: "OnlineStore | None" = None) -> RowFn:
        """The per-request function behind the service's validation: see :func:`skewless.requests.checked_row_fn`.

        With lookups, the row is a request (``request_schema()``) and ``store`` serves the lookups.
        """
        from .requests import checked_row_fn

        return checked_row_fn(self, extra=extra, allow_non_finite=allow_non_finite, store=store)

    def lookup_fn(self, store: "OnlineStore", *, observe: Any = None) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
        """``fn(request) -> {looked-up column: value}``: every lookup of a request in one ``store.get_many``.

        No polars. ``observe``: see :meth:`skewless.state.lookups.Lookups.online`.
        """
        from .errors import SkewlessError

        if self.lookups is None:
            raise SkewlessError(f"feature set {self.name!r} declares no lookups")
        return self.lookups.online(store, observe)

    def online_row_fn(self, store: "OnlineStore | None", *, observe: Any = None) -> RowFn:
        """``fn(request) -> features``: the request's lookups read from ``store`` (one round trip), then :attr:`row_fn`.

        The request holds ``request_schema()``'s columns, typed as :attr:`row_fn` requires (unvalidated;
        :meth:`checked_row_fn` validates). Without lookups this is :attr:`row_fn` and ``store`` is unused.
        :class:`~skewless.state.StoreUnavailable` propagates.
        """
        row_fn = self.row_fn
        if self.lookups is None and self.windows is None:
            return row_fn
        if store is None:
            from .errors import SkewlessError

            what = (f"looks up {sorted(self.lookups.tables)}" if self.lookups is not None
                    else f"aggregates the events of {sorted(self.windows.sources)}")
            raise SkewlessError(f"feature set {self.name!r} {what}: give the online store they are read from")
        read = self.lookups.online(store, observe) if self.lookups is not None else None
        windows = self.windows.online(store) if self.windows is not None else None
        if windows is None:
            def online(request: Mapping[str, Any]) -> dict[str, Any]:
                return row_fn({**request, **read(request)})
        elif read is None:
            def online(request: Mapping[str, Any]) -> dict[str, Any]:
                return row_fn({**request, **windows(request)})
        else:
            def online(request: Mapping[str, Any]) -> dict[str, Any]:
                return row_fn({**request, **read(request), **windows(request)})

        return online

    def join_lookups(self, frame: Frame, tables: "Tables | None") -> "pl.LazyFrame":
        """``frame`` with the looked-up columns appended (point-in-time, :func:`skewless.state.batch.join_lookups`).

        Without ``tables`` the frame must already hold every looked-up column the features read (a frame
        joined before, e.g. a feature log of served rows); a set without lookups refuses ``tables``.
        """
        return self._join_history(frame, tables, "lookups")

    def join_windows(self, frame: Frame, events: "Tables | None") -> "pl.LazyFrame":
        """``frame`` with every window output appended, point in time (:meth:`FeatureWindows.join`).

        ``events``: each event source's history by name (a table not given is read from its declared
        ``Windowed(source=...)``). Without ``events`` (and without declared sources) the frame must already
        hold every window output the features read; a set without windows refuses ``events``.
        """
        return self._join_history(frame, events, "windows")

    def _join_history(self, frame: Frame, given: "Tables | None", kind: str) -> "pl.LazyFrame":
        """The stateful inputs' step of both kinds: :meth:`join_lookups` (``kind="lookups"``, ``given`` the entity
        tables) and :meth:`join_windows` (``"windows"``, the event sources).

        A set without that kind refuses ``given``. Without ``given`` the frame must hold every output of that
        kind the features read — except that windows whose sources are all declared (``Windowed(source=)``)
        read them from there (entity tables are read only when given).
        """
        import polars as pl

        from .errors import SchemaError
        from .frames import as_polars

        frame = as_polars(frame, self)
        lf = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
        lookups = kind == "lookups"
        declared = self.lookups if lookups else self.windows
        if declared is None:
            if given:
                what = f"entity tables {sorted(given)}" if lookups else f"events of {sorted(given)}"
                raise SchemaError(f"feature set {self.name!r} declares no {kind}, but {what} were given")
            return lf
        if given is None:
            have = lf.collect_schema()
            used = set(self.used_inputs())
            missing = [c for c in declared.outputs if c in used and c not in have]
            if not missing:
                return lf
            if lookups:
                raise SchemaError(f"feature set {self.name!r} looks up {sorted(declared.tables)}: pass tables={{...}} "
                                  f"(each entity table's history) or a frame that holds the looked-up columns "
                                  f"(missing: {missing[:5]})")
            if any(d.source is None for d in declared.declared):
                raise SchemaError(f"feature set {self.name!r} aggregates the events of {sorted(declared.sources)}: "
                                  f"pass events={{...}} (each source's history) or a frame that holds the window "
                                  f"outputs (missing: {missing[:5]})")
        if lookups:
            from .state.batch import join_lookups

            return join_lookups(declared, lf, {k: as_polars(v) for k, v in given.items()})
        return declared.join(lf, event_frames(declared, given)).lazy()

    def replay_parity(self, spine: Any, tables: "Tables", store: "OnlineStore") -> "ReplayReport":
        """Replay parity of the lookups: :func:`skewless.state.replay.replay_parity` (``store`` must be fresh)."""
        from .errors import SkewlessError
        from .state.replay import replay_parity

        if self.lookups is None:
            raise SkewlessError(f"feature set {self.name!r} declares no lookups")
        return replay_parity(self.lookups, spine, tables, store)

    def python_source(self) -> str:
        """The generated per-request source, for review (stored in artifacts and bundles)."""
        return self.plain.compile_python().source

    def transform(self, frame: Frame, *, keep: tuple[str, ...] = (), per_batch: bool = True,
                  tables: "Tables | None" = None, events: "Tables | None" = None) -> "pl.LazyFrame":
        """The batch pipeline, serving semantics: ``LazyFrame -> LazyFrame`` of the output columns.

        ``keep`` columns are passed through in front. ``per_batch`` (default True) runs the lookup
        kernels of fitted state (``replace_strict``, ``search_sorted``) batch by batch, which keeps
        polars' streaming engine in bounded memory; False emits them natively (identical values,
        checked by ``check_parity``; faster on tiny in-memory frames). ``tables``: the entity tables of
        the lookups, joined point-in-time first (see :meth:`join_lookups`); ``events``: the event sources
        of the windows, computed point-in-time next (see :meth:`join_windows`).
        """
        from .backends.polars.compiler import transform

        if self.lookups is not None or tables:
            frame = self.join_lookups(frame, tables)
        if self.windows is not None or events:
            frame = self.join_windows(frame, events)
        return transform(self.plain, frame, keep=keep, per_batch=per_batch)

    def transform_training(self, frame: Frame, *, label: Label = None, keep: tuple[str, ...] = (),
                           tables: "Tables | None" = None, events: "Tables | None" = None) -> "pl.LazyFrame":
        """The batch pipeline of the *training rows* (the rows :meth:`prepare` learned from).

        The same as :meth:`transform` unless state learned from these rows would leak their labels
        (out-of-fold target encodings, see :meth:`skewless.fitting.FittedFeatureSet.transform_training`).
        """
        return self.transform(frame, keep=keep, tables=tables, events=events)

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


def event_frames(windows: Any, events: "Tables | None", only: Any = None) -> dict[str, "pl.LazyFrame"]:
    """Each event source's history as a LazyFrame: ``events[name]`` or the declared ``Windowed(source=)``
    (``only``: of these sources only).

    A value is a polars (or any :mod:`skewless.frames`) frame, a parquet/CSV path or glob, or a callable
    returning one.
    """
    from pathlib import Path as _Path

    import polars as pl

    from .errors import SchemaError
    from .frames import as_polars

    events = dict(events or {})
    unknown = sorted(set(events) - set(windows.sources))
    if unknown:
        raise SchemaError(f"events of {unknown} are not aggregated by these windows (they read "
                          f"{sorted(windows.sources)})")
    out = {}
    for d in windows.declared:
        name = d.windows.source.name
        if only is not None and name not in only:
            continue
        given = events.get(name, d.source)
        if given is None:
            raise SchemaError(f"event source {name!r}: no events; pass events={{{name!r}: ...}} (a frame, a path or a "
                              f"callable) or declare Windowed(..., source=...)")
        if callable(given) and not isinstance(given, (pl.LazyFrame, pl.DataFrame)):
            given = given()
        if isinstance(given, (str, _Path)):
            from .io import scan_data

            given = scan_data(given, None, columns="all")
        frame = as_polars(given)
        out[name] = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
    return out


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
