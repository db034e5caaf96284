"""The user-facing expression API. Mirrors polars' ``Expr``: same names, same meanings.

An :class:`Expr` is a thin immutable wrapper around an IR node; every method
returns a new :class:`Expr`. Nothing here imports polars.

Methods are grouped by category in mixins (``api/numeric.py``, ``api/strings.py``,
``api/temporal.py``). A unary op without parameters can skip this layer: an IR
class with ``expr_method = True`` gets its method generated here
(:func:`_install_expr_methods`), documented by the class docstring.
"""

from __future__ import annotations

import datetime as _dt
import inspect
from typing import Any, Iterable

from ..dtypes import DataType, Null, to_dtype
from ..errors import ExprTypeError
from ..ir import core
from ..ir.base import OPS, Column, Literal, Node, canonical_literal, literal_dtype, render
from .foreign import foreign_message, is_foreign
from ..suggest import did_you_mean
from .hashing import HashingMethods
from .numeric import NumericMethods
from .strings import StringNamespace
from .temporal import DateTimeNamespace

__all__ = ["Expr", "col", "lit", "when", "coalesce", "wrap", "UnknownMethod", "ListExpr", "ListNamespace"]


def wrap(value: Any, *, str_as_col: bool = False) -> Node:
    """Turn an :class:`Expr` or a Python scalar into an IR node.

    Scalars become literals, except that with ``str_as_col`` a string names a
    column: polars reads ``then("a")``, ``otherwise("a")`` and ``coalesce("a", "b")``
    that way, while ``col("x") == "a"`` and ``fill_null("a")`` compare with and
    fill in the string ``"a"``.
    """
    if str_as_col and isinstance(value, str):
        return Column(value)
    if isinstance(value, Expr):
        return value._node
    if isinstance(value, UnknownMethod):
        return value._as_node()
    if isinstance(value, (list, tuple, set, frozenset, dict)):
        raise ExprTypeError(f"cannot use a {type(value).__name__} as an expression; did you mean .is_in(...)?")
    if is_foreign(value):  # e.g. col("x") * pl.col("y"): reported by the feature set, naming the feature
        return _Refused(foreign_message(value))
    return lit(value)._node


class Expr(NumericMethods, HashingMethods):
    """A column expression. Build with :func:`col`, :func:`lit` and :func:`when`.

    Examples
    --------
    >>> from skewless import col
    >>> (col("distance").log1p() / 2).round(3)
    <Expr (col('distance').log1p() / lit(2)).round(decimals=3, mode='half_to_even')>
    """

    __slots__ = ("_node",)

    def __init__(self, node: Node):
        object.__setattr__(self, "_node", node)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Expr is immutable")

    def __setstate__(self, state: Any) -> None:
        """Unpickling (e.g. a feature set with windows sent to a Ray worker): the slots are set as ``__init__``
        sets them (pickle's default would call the refusing ``__setattr__``)."""
        attrs, slots = state if isinstance(state, tuple) else (state, None)
        for name, value in {**(attrs or {}), **(slots or {})}.items():
            object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        return f"<Expr {render(self._node)}>"

    def __str__(self) -> str:
        return render(self._node)

    def __bool__(self) -> bool:
        raise TypeError(
            "the truth value of an Expr is ambiguous; use '&' and '|' instead of 'and' and 'or',"
            " and a.is_between(lo, hi) instead of 'lo < a < hi'"
        )

    __hash__ = None  # type: ignore[assignment]  # == builds an expression, as in polars

    def __getattr__(self, name: str) -> Any:
        # Unknown methods are recorded instead of raised, so that the feature set
        # can report the error with the feature's name (see UnknownMethod).
        if name.startswith("_"):
            raise AttributeError(name)
        return UnknownMethod(self, None, name, _public_names(type(self)))

    def _new(self, node: Node) -> "Expr":
        return Expr(node)

    # --- namespaces ------------------------------------------------------
    @property
    def str(self) -> StringNamespace:
        """String methods, as ``polars.Expr.str``."""
        return StringNamespace(self)

    @property
    def dt(self) -> DateTimeNamespace:
        """Temporal methods, as ``polars.Expr.dt``."""
        return DateTimeNamespace(self)

    @property
    def list(self) -> "ListNamespace":
        """Element access after ``str.split(...)``, as ``polars.Expr.list`` (skewless has no List dtype)."""
        return ListNamespace(self)

    # --- operators -------------------------------------------------------
    def __add__(self, other: Any) -> "Expr":
        return Expr(core.Add(self._node, wrap(other)))

    def __radd__(self, other: Any) -> "Expr":
        return Expr(core.Add(wrap(other), self._node))

    def __sub__(self, other: Any) -> "Expr":
        return Expr(core.Sub(self._node, wrap(other)))

    def __rsub__(self, other: Any) -> "Expr":
        return Expr(core.Sub(wrap(other), self._node))

    def __mul__(self, other: Any) -> "Expr":
        return Expr(core.Mul(self._node, wrap(other)))

    def __rmul__(self, other: Any) -> "Expr":
        return Expr(core.Mul(wrap(other), self._node))

    def __truediv__(self, other: Any) -> "Expr":
        return Expr(core.TrueDiv(self._node, wrap(other)))

    def __rtruediv__(self, other: Any) -> "Expr":
        return Expr(core.TrueDiv(wrap(other), self._node))

    def __floordiv__(self, other: Any) -> "Expr":
        return Expr(core.FloorDiv(self._node, wrap(other)))

    def __rfloordiv__(self, other: Any) -> "Expr":
        return Expr(core.FloorDiv(wrap(other), self._node))

    def __mod__(self, other: Any) -> "Expr":
        return Expr(core.Mod(self._node, wrap(other)))

    def __rmod__(self, other: Any) -> "Expr":
        return Expr(core.Mod(wrap(other), self._node))

    def __pow__(self, other: Any) -> "Expr":
        return Expr(core.Pow(self._node, wrap(other)))

    def __rpow__(self, other: Any) -> "Expr":
        return Expr(core.Pow(wrap(other), self._node))

    def pow(self, exponent: Any) -> "Expr":
        """``self ** exponent``; see :class:`skewless.ir.core.Pow`."""
        return self ** exponent

    def __neg__(self) -> "Expr":
        return Expr(core.Neg(self._node))

    def __pos__(self) -> "Expr":
        return self

    def __eq__(self, other: Any) -> "Expr":  # type: ignore[override]
        return Expr(core.Eq(self._node, wrap(other)))

    def __ne__(self, other: Any) -> "Expr":  # type: ignore[override]
        return Expr(core.Ne(self._node, wrap(other)))

    def __lt__(self, other: Any) -> "Expr":
        return Expr(core.Lt(self._node, wrap(other)))

    def __le__(self, other: Any) -> "Expr":
        return Expr(core.Le(self._node, wrap(other)))

    def __gt__(self, other: Any) -> "Expr":
        return Expr(core.Gt(self._node, wrap(other)))

    def __ge__(self, other: Any) -> "Expr":
        return Expr(core.Ge(self._node, wrap(other)))

    def __and__(self, other: Any) -> "Expr":
        return Expr(core.And(self._node, wrap(other)))

    def __rand__(self, other: Any) -> "Expr":
        return Expr(core.And(wrap(other), self._node))

    def __or__(self, other: Any) -> "Expr":
        return Expr(core.Or(self._node, wrap(other)))

    def __ror__(self, other: Any) -> "Expr":
        return Expr(core.Or(wrap(other), self._node))

    def __xor__(self, other: Any) -> "Expr":
        return Expr(core.Xor(self._node, wrap(other)))

    def __rxor__(self, other: Any) -> "Expr":
        return Expr(core.Xor(wrap(other), self._node))

    def __invert__(self) -> "Expr":
        return Expr(core.Not(self._node))

    # --- named comparison / logic ---------------------------------------
    def eq(self, other: Any) -> "Expr":
        return self == other

    def ne(self, other: Any) -> "Expr":
        return self != other

    def lt(self, other: Any) -> "Expr":
        return self < other

    def le(self, other: Any) -> "Expr":
        return self <= other

    def gt(self, other: Any) -> "Expr":
        return self > other

    def ge(self, other: Any) -> "Expr":
        return self >= other

    def eq_missing(self, other: Any) -> "Expr":
        """Equality where null equals null; never returns null.

        Examples
        --------
        >>> col("a").eq_missing(None)
        <Expr col('a').eq_missing(lit(None))>
        """
        return Expr(core.EqMissing(self._node, wrap(other)))

    def ne_missing(self, other: Any) -> "Expr":
        """Inequality where null equals null; never returns null."""
        return Expr(core.NeMissing(self._node, wrap(other)))

    def not_(self) -> "Expr":
        """Kleene negation, same as ``~self``."""
        return ~self

    def and_(self, *others: Any) -> "Expr":
        out = self
        for o in others:
            out = out & o
        return out

    def or_(self, *others: Any) -> "Expr":
        out = self
        for o in others:
            out = out | o
        return out

    def xor(self, other: Any) -> "Expr":
        return self ^ other

    # --- nulls -------------------------------------------------------------
    def is_null(self) -> "Expr":
        """True where the value is null. NaN is not null."""
        return Expr(core.IsNull(self._node))

    def is_not_null(self) -> "Expr":
        """True where the value is not null."""
        return Expr(core.IsNotNull(self._node))

    def fill_null(self, value: Any) -> "Expr":
        """Replace nulls with ``value`` (an expression or scalar). NaN is kept.

        Examples
        --------
        >>> col("dep_delay").fill_null(0)
        <Expr col('dep_delay').fill_null(lit(0))>
        """
        return Expr(core.FillNull(self._node, wrap(value)))

    def is_in(self, values: Iterable[Any]) -> "Expr":
        """True where the value is one of ``values`` (a literal collection).

        Copies polars: a null value gives null; NaN is found in a list holding
        NaN; ``-0.0`` is found in ``[0.0]``. A null in ``values`` never matches.
        """
        if isinstance(values, (str, bytes, Expr)):
            raise ExprTypeError("is_in takes a list of literal values")
        items = tuple(canonical_literal(v) for v in values)
        dtype: DataType = Null()
        for v in items:
            vt = literal_dtype(v)
            if isinstance(vt, Null):
                continue
            if isinstance(dtype, Null):
                dtype = vt
            elif vt != dtype:
                raise ExprTypeError(f"is_in: mixed value types {dtype!r} and {vt!r}")
        # Keep a deterministic order (for fingerprints and generated source) without
        # changing meaning: the order of a membership list is irrelevant.
        unique = tuple(sorted(set(items), key=lambda v: (v is None, repr(v))))
        return Expr(core.IsIn(self._node, unique, dtype))

    def cast(self, dtype: Any, *, strict: bool = True) -> "Expr":
        """Cast to ``dtype``; see :class:`skewless.ir.core.Cast` for the exact rules."""
        return Expr(core.Cast(self._node, to_dtype(dtype), strict))

    def alias(self, name: str) -> "Expr":
        raise ExprTypeError("name features by assigning them in the feature set, not with alias()")


class UnknownMethod:
    """A misspelt method, recorded so the feature set can report it with the feature's name."""

    __slots__ = ("_receiver", "_namespace", "_name", "_candidates")

    def __init__(self, receiver: Expr, namespace: str | None, name: str, candidates: list[str]):
        self._receiver = receiver
        self._namespace = namespace
        self._name = name
        self._candidates = candidates

    def __call__(self, *args: Any, **kwargs: Any) -> Expr:
        return Expr(_Unknown(self._receiver._node, self._namespace, self._name, self.message()))

    def message(self) -> str:
        from .polars_names import polars_hint

        where = f"Expr.{self._namespace}" if self._namespace else "Expr"
        # a polars name is answered from polars' vocabulary, not by edit distance (rank -> arctan)
        hint = polars_hint(self._namespace, self._name) or did_you_mean(self._name, self._candidates)
        return f"{where} has no method {self._name!r}{hint}"

    def __getattr__(self, name: str) -> "UnknownMethod":
        # A chain that goes on past the unknown method (col("s").str.split(",").list.get(0) reads .list on an
        # Expr, then .get on this) keeps the first error instead of an AttributeError.
        if name.startswith("_"):
            raise AttributeError(name)
        return self

    def _as_node(self) -> Node:
        return _Unknown(self._receiver._node, self._namespace, self._name, self.message())

    def __repr__(self) -> str:
        return f"<unknown method {self._name!r}>"


from dataclasses import dataclass  # noqa: E402

from ..dtypes import Field  # noqa: E402
from ..ir.base import InferContext  # noqa: E402


@dataclass(frozen=True, slots=True)
class _Unknown(Node):
    """Placeholder for a misspelt method; fails type inference with a 'did you mean'."""

    abstract = True  # not an op: never reaches a backend
    operand: Node
    ns: str | None
    name: str
    message: str

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        raise ExprTypeError(self.message)

    def render(self, args: list[str]) -> str:
        ns = f"{self.ns}." if self.ns else ""
        return f"{args[0]}.{ns}{self.name}(...)"


@dataclass(frozen=True, slots=True)
class _Refused(Node):
    """Placeholder for something skewless cannot take (a polars expression as an operand, a udf it refuses):
    fails type inference with ``message``, so the feature set's error names the feature; shown as ``shown``."""

    abstract = True  # not an op: never reaches a backend
    message: str
    shown: str = "<polars object>"

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        raise ExprTypeError(self.message)

    def render(self, args: list[str]) -> str:
        return self.shown


def _public_names(cls: type) -> list[str]:
    return [n for n in dir(cls) if not n.startswith("_")]


def col(name: str) -> Expr:
    """Reference an input column, or a feature defined earlier in the same feature set.

    Examples
    --------
    >>> col("distance")
    <Expr col('distance')>
    """
    if not isinstance(name, str):
        raise ExprTypeError(f"col() takes a column name, got {name!r}")
    return Expr(Column(str(name)))


def lit(value: Any, dtype: Any = None) -> Expr:
    """A literal value. ``dtype`` defaults to polars' choice for the Python type.

    Examples
    --------
    >>> lit(1.5)
    <Expr lit(1.5)>
    """
    if is_foreign(value):
        raise ExprTypeError(foreign_message(value))
    value = canonical_literal(value)
    if isinstance(value, Expr):
        return value
    inferred = literal_dtype(value)
    target = to_dtype(dtype) if dtype is not None else inferred
    if dtype is not None and value is not None and target != inferred:
        if isinstance(value, int) and not isinstance(value, bool) and type(target).__name__ == "Float64":
            value = float(value)
        elif isinstance(value, _dt.datetime) and type(target).__name__ == "Datetime":
            value = _datetime_for(value, target)
        elif isinstance(value, _dt.timedelta) and type(target).__name__ == "Duration":
            # lit(timedelta, dtype=Duration("ms")): polars truncates toward zero to whole milliseconds
            ms = abs(value) // _dt.timedelta(milliseconds=1)
            value = _dt.timedelta(milliseconds=ms if value >= _dt.timedelta(0) else -ms)
        else:
            raise ExprTypeError(f"literal {value!r} is not a {target!r}")
    return Expr(Literal(value, target))


def _datetime_for(value: _dt.datetime, target: Any) -> _dt.datetime:
    """Fit a datetime literal to a Datetime dtype without guessing a zone.

    polars reads a naive value as wall-clock time in the target zone and refuses
    some aware ones; skewless refuses both ambiguous spellings instead, and moves
    an aware value into the target zone (same instant).
    """
    zone = target.time_zone
    if value.tzinfo is None:
        if zone is not None:
            raise ExprTypeError(
                f"naive datetime literal {value!r} for {target!r}: give an aware datetime (same instant in any zone)"
            )
        return value
    if zone is None:
        raise ExprTypeError(f"aware datetime literal {value!r} for the zone-less {target!r}: pass a naive datetime")
    from ..runtime.tz import get_zone

    return value.astimezone(get_zone(zone))


class _When:
    def __init__(self, operands: tuple[Node, ...]):
        self._operands = operands

    def then(self, value: Any) -> "_Then":
        return _Then((*self._operands, wrap(value, str_as_col=True)))


class _Then(Expr):
    """Result of ``when(...).then(...)``: an expression (default null) that can chain."""

    __slots__ = ("_operands",)

    def __init__(self, operands: tuple[Node, ...]):
        object.__setattr__(self, "_operands", operands)
        super().__init__(core.When((*operands, Literal(None, Null()))))

    def when(self, condition: Any) -> _When:
        return _When((*self._operands, wrap(condition)))

    def otherwise(self, value: Any) -> Expr:
        return Expr(core.When((*self._operands, wrap(value, str_as_col=True))))


def when(condition: Any) -> _When:
    """Start a conditional: ``when(c).then(a).when(c2).then(b).otherwise(d)``.

    A null condition counts as False, as in polars.

    Examples
    --------
    >>> when(col("x") > 0).then(1).otherwise(0)
    <Expr when((col('x') > lit(0))).then(lit(1)).otherwise(lit(0))>
    """
    return _When((wrap(condition),))


def coalesce(*exprs: Any) -> Expr:
    """First non-null value among ``exprs``, as ``polars.coalesce``."""
    flat: list[Any] = []
    for e in exprs:
        flat.extend(e if isinstance(e, (list, tuple)) else [e])
    if not flat:
        raise ExprTypeError("coalesce needs at least one expression")
    return Expr(core.Coalesce(tuple(wrap(e, str_as_col=True) for e in flat)))


def _expr_method(op: type[Node]) -> Any:
    """``Expr.<op.method>()`` (or the namespace's) building ``op`` on the receiver, documented from ``op``."""

    def method(self: Any) -> Expr:
        return Expr(op(self._node))

    receiver = f"col('x').{op.namespace}" if op.namespace else "col('x')"
    typed = receiver.replace("'", '"')
    method.__name__ = op.method
    method.__qualname__ = f"{_NAMESPACES[op.namespace].__name__}.{op.method}"
    summary = inspect.cleandoc(op.__doc__ or op.method)
    method.__doc__ = f"{summary}\n\nExamples\n--------\n>>> {typed}.{op.method}()\n<Expr {receiver}.{op.method}()>\n"
    return method


_NAMESPACES: dict[str | None, type] = {None: Expr, "str": StringNamespace, "dt": DateTimeNamespace}


def _install_expr_methods() -> None:
    """Give every op declaring ``expr_method = True`` its method (the IR registry is complete here)."""
    for op in OPS.values():
        if not op.expr_method:
            continue
        target = _NAMESPACES[op.namespace]
        if not op.method or op.method in vars(target) or any(op.method in vars(b) for b in target.__mro__[1:-1]):
            raise RuntimeError(f"{op.__name__}: expr_method needs a method name that {target.__name__} does not have")
        setattr(target, op.method, _expr_method(op))


_install_expr_methods()


from ..ir import strings as strings_ir  # noqa: E402
from .namespace import Namespace  # noqa: E402


@dataclass(frozen=True, slots=True)
class _BareList(Node):
    """``str.split(...)`` not followed by an element access: skewless has no List dtype; fails type inference."""

    abstract = True  # not an op: never reaches a backend
    operand: Node
    by: Any
    inclusive: Any

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        raise ExprTypeError(
            f"str.split({self.by!r}) gives a List, and skewless has no List dtype: take one element with"
            " .list.get(i, null_on_oob=True), .list.first(), .list.last(), or count them with .list.len()"
        )

    def render(self, args: list[str]) -> str:
        return f"{args[0]}.str.split({self.by!r})"


@dataclass(frozen=True, slots=True)
class _NotAList(Node):
    """``.list.<method>()`` on anything but ``str.split(...)``; fails type inference."""

    abstract = True  # not an op: never reaches a backend
    operand: Node
    name: str

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        raise ExprTypeError(
            f"list.{self.name}() needs a List, and skewless has no List dtype: .list.get(), .list.first(), .list.last()"
            " and .list.len() work directly after str.split(by)"
        )

    def render(self, args: list[str]) -> str:
        return f"{args[0]}.list.{self.name}(...)"


class ListExpr(Expr):
    """The result of ``str.split(...)``: usable only through its ``.list`` accessors (see :class:`ListNamespace`)."""

    __slots__ = ("_split",)

    def __init__(self, text: Node, by: Any, inclusive: Any):
        super().__init__(_BareList(text, by, inclusive))
        object.__setattr__(self, "_split", (text, by, inclusive))


class ListNamespace(Namespace):
    """``expr.list``: element access after ``str.split(...)`` (the only List skewless builds).

    Examples
    --------
    >>> col("s").str.split(",").list.len()
    <Expr col('s').str.split(',').list.len()>
    """

    _name = "list"
    __slots__ = ()

    def _op(self, name: str, make) -> Expr:
        split = getattr(self._expr, "_split", None)
        if split is None:
            return Expr(_NotAList(self._node, name))
        text, by, inclusive = split
        return Expr(make(text, by, inclusive))

    def get(self, index: int, *, null_on_oob: bool = False) -> Expr:
        """Part ``index`` of the split (negative from the end); null out of range with ``null_on_oob=True``.

        Examples
        --------
        >>> col("s").str.split(",").list.get(-1)
        <Expr col('s').str.split(',').list.get(-1)>
        """
        if isinstance(index, Expr):
            raise ExprTypeError("list.get(index): index must be an int (an expression index is not supported)")
        return self._op("get", lambda t, by, inc: strings_ir.StrSplitGet(t, by, index, inc, null_on_oob, "get"))

    def first(self) -> Expr:
        """The first part (null when there is none, as in polars).

        Examples
        --------
        >>> col("s").str.split(",").list.first()
        <Expr col('s').str.split(',').list.first()>
        """
        return self._op("first", lambda t, by, inc: strings_ir.StrSplitGet(t, by, 0, inc, True, "first"))

    def last(self) -> Expr:
        """The last part (null when there is none, as in polars).

        Examples
        --------
        >>> col("s").str.split(",").list.last()
        <Expr col('s').str.split(',').list.last()>
        """
        return self._op("last", lambda t, by, inc: strings_ir.StrSplitGet(t, by, -1, inc, True, "last"))

    def len(self) -> Expr:
        """The number of parts, as Int64 (polars: UInt32).

        Examples
        --------
        >>> col("s").str.split(" ").list.len()
        <Expr col('s').str.split(' ').list.len()>
        """
        return self._op("len", lambda t, by, inc: strings_ir.StrSplitLen(t, by, inc))
