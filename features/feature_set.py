"""Feature sets: declared inputs plus named features, type-checked on definition.

Two spellings, same result:

>>> from skewless import FeatureSet, Input, Int64, Float64, col, feature_set
>>> @feature_set
... class trips:
...     distance = Input(Float64)
...     passengers = Input(Int64, nullable=True)
...     log_distance = col("distance").log1p()
...     solo = col("passengers") == 1
>>> trips.output_schema()
{'log_distance': Float64, 'solo': Boolean?}

>>> trips2 = FeatureSet(
...     "trips",
...     inputs={"distance": Float64, "passengers": Input(Int64, nullable=True)},
...     features={"log_distance": col("distance").log1p(), "solo": col("passengers") == 1},
... )

A feature may read an earlier feature with ``col("name")``; names starting
with ``_`` in a class body are helpers (reusable expressions), not features.

Entity state: a ``Lookup`` in the class body (or ``lookups=[...]``) reads columns of an entity table
for each row as of its time, in ``join_asof``'s words (:mod:`skewless.state.lookups`). Its outputs are
columns later features read with ``col(...)``, type-checked like inputs (every output nullable):

>>> import datetime as dt
>>> from skewless import Datetime, EntityTable, Float64, Lookup, String
>>> weather = EntityTable("weather", key="origin", key_dtypes=String(), time="time_hour",
...                       columns={"temp": Float64()})
>>> @feature_set
... class flights_wx:
...     origin = Input(String)
...     time_hour = Input(Datetime("us", "UTC"))
...     wx = Lookup(weather, by="origin", on="time_hour", tolerance=dt.timedelta(hours=3))
...     freezing = col("weather_temp") < 32.0
>>> flights_wx.request_schema()
{'origin': String, 'time_hour': Datetime(time_unit='us', time_zone='UTC')}
>>> flights_wx.input_schema()["weather_temp"]
Float64?

``input_schema()`` (what the generated function and the batch pipeline read) holds the declared inputs
and the looked-up columns; ``request_schema()`` holds what a request carries (the declared inputs).
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from .compiled import CompiledFeatureSet
from .dtypes import DataType, Field, Null, to_dtype
from .errors import DefinitionError, ExprTypeError, SchemaError
from .ir.base import Column, InferContext, Node, render, walk

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

__all__ = ["FeatureSet", "Input", "Feature", "feature_set"]

_COMPILE_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class Input:
    """An input column: its dtype and whether it may be null.

    Parameters
    ----------
    dtype : DataType
        e.g. ``Int64``, ``Datetime("us", "UTC")``.
    nullable : bool, default False
        Whether requests and batch data may hold nulls in this column.
    """

    dtype: Any
    nullable: bool = False
    name: str | None = None

    def field(self) -> Field:
        return Field(to_dtype(self.dtype), bool(self.nullable))


@dataclass(frozen=True, slots=True)
class Feature:
    """A named, type-checked output."""

    name: str
    node: Node
    field: Field

    @property
    def dtype(self) -> DataType:
        return self.field.dtype

    @property
    def nullable(self) -> bool:
        return self.field.nullable

    @property
    def columns(self) -> tuple[str, ...]:
        """Its output columns: the feature itself, or several (a lowered ``one_hot``)."""
        return self.node.output_columns(self.name)

    def source(self) -> str:
        return render(self.node)


def _infer(node: Node, ctx: InferContext, memo: dict[Node, Field]) -> Field:
    # Iterative post-order so that deep expressions cannot hit the recursion limit.
    stack: list[tuple[Node, bool]] = [(node, False)]
    while stack:
        current, expanded = stack.pop()
        if current in memo:
            continue
        if not expanded:
            stack.append((current, True))
            stack.extend((c, False) for c in current.children() if c not in memo)
            continue
        args = tuple(memo[c] for c in current.children())
        try:
            memo[current] = current.infer(ctx, args)
        except ExprTypeError as exc:
            exc.node = current  # type: ignore[attr-defined]
            raise
    return memo[node]


class FeatureSet(CompiledFeatureSet):
    """A named collection of features over declared inputs (a :class:`~skewless.compiled.CompiledFeatureSet`).

    Parameters
    ----------
    name : str
        Used in generated function names, artifacts and error messages.
    inputs : mapping of str to Input or dtype
    features : mapping of str to Expr

    Raises
    ------
    DefinitionError
        On any type error, unknown column or method, naming the feature and the
        offending expression.
    """

    def __init__(self, name: str, inputs: Mapping[str, Any], features: Mapping[str, Any], *,
                 lookups: Iterable[Any] = (), windows: Iterable[Any] = (), doc: str | None = None):
        from .api.expr import Expr, UnknownMethod

        if not isinstance(name, str) or not name:
            raise DefinitionError("a feature set needs a non-empty name")
        self.name = name
        self.doc = doc
        self.inputs: dict[str, Field] = {}
        for key, spec in inputs.items():
            try:
                self.inputs[str(key)] = spec.field() if isinstance(spec, Input) else Field(to_dtype(spec), False)
            except SchemaError as exc:
                raise DefinitionError(f"input {key!r}: {exc}") from None
        #: What a request carries: the declared inputs (``inputs`` adds the looked-up columns).
        self.request_inputs: dict[str, Field] = dict(self.inputs)
        self._lookups = None
        lookups = tuple(lookups)
        if lookups:
            from .state.lookups import Lookups

            self._lookups = Lookups({k: f.dtype for k, f in self.request_inputs.items()}, lookups)
            self.inputs.update({k: Field(d, True) for k, d in self._lookups.outputs.items()})
        self._windows = None
        windows = tuple(windows)
        if windows:
            from .windows.declared import FeatureWindows

            self._windows = FeatureWindows(self.request_inputs, windows, taken=tuple(self.inputs))
            self.inputs.update({k: Field(d, True) for k, d in self._windows.outputs.items()})
        if not features:
            raise DefinitionError(f"feature set {name!r} defines no features")

        self.features: dict[str, Feature] = {}
        resolved: dict[str, Node] = {}
        memo: dict[Node, Field] = {}
        all_names = tuple(str(k) for k in features)
        for key, value in features.items():
            key = str(key)
            if key in self.inputs:
                raise DefinitionError("a feature cannot have the same name as an input", feature=key)
            if isinstance(value, UnknownMethod):
                raise DefinitionError(value.message() + " (and it must be called)", feature=key)
            if not isinstance(value, Expr):
                from .api.foreign import foreign_message, is_foreign

                if is_foreign(value):
                    raise DefinitionError(foreign_message(value), feature=key)
                raise DefinitionError(
                    f"a feature must be an expression, got {type(value).__name__}", feature=key
                )
            node = _resolve_feature_refs(value._node, resolved)
            ctx = InferContext(self.inputs, tuple(n for n in all_names if n != key))
            try:
                field = _infer(node, ctx, memo)
            except ExprTypeError as exc:
                bad = getattr(exc, "node", node)
                later = isinstance(bad, Column) and bad.name in all_names
                msg = str(exc) + (" (features can only use features defined before them)" if later else "")
                raise DefinitionError(msg, feature=key, expr=render(bad)) from None
            if isinstance(field.dtype, Null):
                raise DefinitionError("the feature is always null (dtype Null); give it a type with lit(None, dtype)",
                                      feature=key, expr=render(node))
            from .compiler_checks import check_supported

            check_supported(key, node)
            try:
                node = _normalize(node, ctx, memo)
            except ExprTypeError as exc:
                raise DefinitionError(str(exc), feature=key, expr=render(node)) from None
            field = memo[node]
            resolved[key] = node
            self.features[key] = Feature(key, node, field)
        # (the nodes of the features as normalised: the typing memo also holds the ones they replaced)
        _check_columns(self.features, self.inputs, {m for f in self.features.values() for m in walk(f.node)})
        # Static field of every IR node, shared by the backends.
        self._fields: dict[Node, Field] = memo

    # --- schemas ------------------------------------------------------------
    def input_schema(self) -> dict[str, Field]:
        """Every column the features read: the declared inputs, then the looked-up columns (nullable)."""
        return dict(self.inputs)

    def request_schema(self) -> dict[str, Field]:
        """What a request carries: the declared inputs (the keys and time of the lookups among them)."""
        return dict(self.request_inputs)

    @property
    def lookups(self):
        """The entity lookups (:class:`skewless.state.lookups.Lookups`), or ``None`` when none are declared."""
        return self._lookups

    @property
    def windows(self):
        """The declared windows (:class:`skewless.windows.declared.FeatureWindows`), or ``None``."""
        return self.__dict__.get("_windows")

    def output_schema(self) -> dict[str, Field]:
        """Output columns and their fields, in order (a feature with several columns gives each its field)."""
        return {c: f.field for f in self.features.values() for c in f.columns}

    def used_inputs(self) -> list[str]:
        """Inputs read by at least one feature, in declaration order."""
        return list(self._used_inputs)

    @functools.cached_property
    def _used_inputs(self) -> tuple[str, ...]:
        # Computed once: a feature set does not change after definition.
        used = {n.name for f in self.features.values() for n in walk(f.node) if isinstance(n, Column)}
        return tuple(k for k in self.inputs if k in used)

    def __repr__(self) -> str:
        return f"<FeatureSet {self.name!r}: {len(self.inputs)} inputs, {len(self.features)} features>"

    def describe(self) -> str:
        """One line per input and feature: name, type and definition."""
        lines = [f"feature set {self.name!r}", "inputs:"]
        lines += [f"  {k}: {f!r}" for k, f in self.request_inputs.items()]
        if self.lookups is not None:
            lines.append("lookups:")
            for lk in self.lookups.lookups:
                how = f"on={lk.on!r}, allow_exact_matches={lk.allow_exact_matches}, tolerance={lk.tolerance}" \
                    if lk.on else "static"
                lines.append(f"  {lk.table.name} by {list(lk.by)} ({how}): "
                             + ", ".join(f"{k}: {self.inputs[k]!r}" for k in lk.outputs))
        if self.windows is not None:
            lines.append("windows:")
            lines += self.windows.describe()
        lines.append("features:")
        lines += [f"  {k}: {f.field!r} = {f.source()}" for k, f in self.features.items()]
        return "\n".join(lines)

    # --- identity -------------------------------------------------------------
    def ir_json(self) -> dict[str, Any]:
        """A canonical JSON-able description of inputs and features (for fingerprints)."""
        from .ir.serialize import node_to_data

        data = {
            "name": self.name,
            "inputs": {k: {"dtype": f.dtype.to_json(), "nullable": f.nullable} for k, f in self.request_inputs.items()},
            "features": {k: node_to_data(f.node) for k, f in self.features.items()},
        }
        if self.lookups is not None:  # (absent without lookups: the fingerprints of other sets are unchanged)
            data["lookups"] = self.lookups.to_json()
        if self.windows is not None:  # (likewise absent without windows)
            data["windows"] = self.windows.to_json()
        return data

    def feature_fingerprints(self) -> dict[str, str]:
        """Content hash of each feature's definition (changes when its IR changes)."""
        from .ir.serialize import node_to_data

        return {k: _digest(node_to_data(f.node)) for k, f in self.features.items()}

    @functools.cached_property
    def fingerprint(self) -> str:
        """Content hash of the whole definition (inputs and every feature)."""
        return _digest(self.ir_json())

    # --- the compiled-feature-set interface -------------------------------------------
    @property
    def definition(self) -> "FeatureSet":
        """A plain feature set is its own definition."""
        return self

    @property
    def plain(self) -> "FeatureSet":
        """A plain feature set compiles itself (one with fitted ops must be fitted first)."""
        return self

    @functools.cached_property
    def needs_state(self) -> bool:
        """Whether the definition has fitted ops (``standardize``, ``one_hot``, ...) to learn first."""
        from .ir.fitted import FittedOp

        return any(isinstance(n, FittedOp) for f in self.features.values() for n in walk(f.node))

    @property
    def state(self) -> None:
        """A definition holds no learned state."""
        return None

    @property
    def state_fingerprint(self) -> None:
        return None

    def prepare(self, training_rows: Any, *, label: Any = None) -> CompiledFeatureSet:
        """``self`` when nothing is fitted, else :func:`skewless.fitting.fit` on ``training_rows``."""
        if not self.needs_state:
            return self
        from .fitting import fit

        return fit(self, training_rows, label=label)

    # --- compilation ------------------------------------------------------------
    def compile_python(self):
        """Compile (once) the per-request function; see :mod:`skewless.backends.python`.

        Kept on the instance (not in a ``functools.cache``, which held every feature set ever
        compiled alive), so it goes away with the feature set.
        """
        compiled = self.__dict__.get("_compiled_python")
        if compiled is None:
            with _COMPILE_LOCK:
                compiled = self.__dict__.get("_compiled_python")
                if compiled is None:
                    from .backends.python.codegen import compile_feature_set

                    compiled = compile_feature_set(self)
                    self.__dict__["_compiled_python"] = compiled
        return compiled

    def polars_exprs(self) -> "dict[str, pl.Expr]":
        """One polars expression per feature (imports polars; compiled once, a new dict each call)."""
        return dict(self._compiled_polars())

    def _compiled_polars(self, per_batch: bool = True) -> "Mapping[str, pl.Expr]":
        """The compiled polars expressions, built on first use and shared by every later call.

        Polars expressions are immutable and a query copies them into its plan, so one
        set serves every ``transform`` and every thread; the lock only avoids compiling
        twice when threads race on the first call. ``per_batch``: see :meth:`transform`.
        """
        key = "_polars_exprs" if per_batch else "_polars_exprs_native"
        exprs = self.__dict__.get(key)
        if exprs is None:
            with _COMPILE_LOCK:
                exprs = self.__dict__.get(key)
                if exprs is None:
                    from types import MappingProxyType

                    from .backends.polars.compiler import compile_exprs

                    exprs = MappingProxyType(compile_exprs(self, per_batch=per_batch))
                    self.__dict__[key] = exprs
        return exprs

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (e.g. to a Ray worker) without the compiled caches, rebuilt there on first use: the
        compiled polars expressions hold per-batch Python functions that did not survive a pickle round trip
        (the query then failed at collect with a RecursionError) and the generated function is not picklable."""
        return {k: v for k, v in self.__dict__.items() if k not in ("_compiled_python", "_polars_exprs",
                                                                     "_polars_exprs_native")}

    # ``FeatureSet`` instances are used as dictionary keys by caches.
    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other


def _normalize(node: Node, ctx: InferContext, memo: dict[Node, Field]) -> Node:
    """Fold scalar-valued sub-expressions and type always-null operands (see :mod:`skewless.ir.normalize`)."""
    from .backends.python.codegen import evaluate_constant
    from .ir.normalize import normalize

    return normalize(node, memo, lambda n: _infer(n, ctx, memo), evaluate_constant)


def _digest(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _check_columns(features: Mapping[str, Feature], inputs: Mapping[str, Field], nodes: Iterable[Node]) -> None:
    """Ops with several output columns are only feature roots; output column names are distinct."""
    roots = {f.node for f in features.values()}
    for n in nodes:
        if n not in roots and len(n.output_columns("_")) != 1:
            feature = next(k for k, f in features.items() if any(m == n for m in walk(f.node)))
            raise DefinitionError(f"{n.method}(...) has several output columns, so it must be a feature of its own and"
                                  " cannot be an operand of another expression", feature=feature, expr=render(n))
    seen: set[str] = set()
    clash = set()
    for f in features.values():
        for c in f.columns:
            if c in seen or c in inputs:
                clash.add(c)
            seen.add(c)
    if clash:
        raise DefinitionError(f"output column name(s) {sorted(clash)!r} collide with each other or with inputs")


def _resolve_feature_refs(node: Node, features: Mapping[str, Node]) -> Node:
    """Replace ``col(name)`` of an earlier feature by that feature's expression."""
    if isinstance(node, Column):
        return features.get(node.name, node)
    return node.map_children(lambda c: _resolve_feature_refs(c, features))


def feature_set(cls: type | None = None, *, name: str | None = None) -> Any:
    """Class decorator: ``Input`` attributes are inputs, expressions are features.

    Attributes whose name starts with ``_`` are helpers and are not emitted.
    """

    def build(klass: type) -> FeatureSet:
        from .api.expr import Expr, UnknownMethod
        from .api.foreign import is_foreign

        from .state.lookups import Lookup
        from .windows.declared import Windowed, named
        from .windows.spec import Windows

        inputs: dict[str, Input] = {}
        features: dict[str, Any] = {}
        lookups: list[Lookup] = []
        windows: list[Windowed] = []
        for key, value in vars(klass).items():
            if key.startswith("_"):
                continue
            if isinstance(value, Lookup):
                lookups.append(value)
            elif isinstance(value, (Windowed, Windows)):
                windows.append(named(value, key))
            elif isinstance(value, Input):
                inputs[value.name or key] = value
            elif isinstance(value, (Expr, UnknownMethod)) or is_foreign(value):
                features[key] = value  # a polars expression is refused by FeatureSet, naming the feature
            elif isinstance(value, DataType) or (isinstance(value, type) and issubclass(value, DataType)):
                raise DefinitionError(f"write {key} = Input({value!r}) to declare an input", feature=key)
        return FeatureSet(name or klass.__name__, inputs, features, lookups=lookups, windows=windows,
                          doc=klass.__doc__)

    return build(cls) if cls is not None else build
