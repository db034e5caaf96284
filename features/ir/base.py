"""The intermediate representation: one small frozen class per op.

Every op is a frozen dataclass deriving from :class:`Node`. Fields holding a
:class:`Node` (or a tuple of them) are the op's operands; every other field is a
parameter. Each op states its static typing rule in :meth:`Node.infer`, which
receives the inferred :class:`~skewless.dtypes.Field` of each operand and
returns the op's own, or raises :class:`~skewless.errors.ExprTypeError`.

Ops register themselves in :data:`OPS` on definition, so that the parity suite
can fail when an op has no parity case and each backend can fail at compile
time when an op has no rule.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import re
from typing import Any, ClassVar, Iterator

from ..dtypes import Boolean, DataType, Date, Datetime, Duration, Field, Float64, Int64, Null, String
from ..errors import ExprTypeError

__all__ = ["Node", "OPS", "Column", "Literal", "InferContext", "supertype", "walk", "render"]

#: Every concrete op class, by class name. Filled in by ``Node.__init_subclass__``.
OPS: dict[str, type["Node"]] = {}

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
#: Zoned instants whose wall clock is a Python datetime (years 1..9999) in every zone (offsets < 1 day).
DATETIME_MIN = _dt.datetime(1, 1, 2)
DATETIME_MAX = _dt.datetime(9999, 12, 30, 23, 59, 59, 999999)


class InferContext:
    """What type inference needs besides the operands' fields: the input schema."""

    def __init__(self, schema: dict[str, Field], feature_names: tuple[str, ...] = ()):
        self.schema = schema
        self.feature_names = feature_names


@dataclasses.dataclass(frozen=True, slots=True)
class Node:
    """Base class of IR ops.

    Class attributes
    ----------------
    method : str
        The polars-style method name used to render the op (``"log1p"``).
    namespace : str or None
        ``"str"`` or ``"dt"`` for namespaced methods.
    propagates_nulls : bool
        True (the default) when a null operand makes the result null; backends
        then add the null checks themselves, only for operands that may be null.
    abstract : bool
        True on intermediate base classes that are not ops themselves.
    expr_method : bool
        True on a unary op without parameters that needs no hand-written API method:
        :mod:`skewless.api.expr` then gives :class:`~skewless.api.expr.Expr` (or its
        ``str``/``dt`` namespace) the method ``method()``, documented by the class docstring.
    """

    method: ClassVar[str] = ""
    namespace: ClassVar[str | None] = None
    expr_method: ClassVar[bool] = False
    propagates_nulls: ClassVar[bool] = True
    abstract: ClassVar[bool] = True
    _operand_fields: ClassVar[tuple[str, ...] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # (no super() call: slots=True dataclasses re-create the class, breaking the __class__ cell)
        if "abstract" not in cls.__dict__:
            cls.abstract = False
        cls._operand_fields = None
        if not cls.abstract:
            OPS[cls.__name__] = cls

    # --- structure -------------------------------------------------------
    @classmethod
    def _operands(cls, instance: "Node | None" = None) -> tuple[str, ...]:
        """Names of the operand fields: those annotated ``Node`` or ``tuple[Node, ...]``."""
        names = cls._operand_fields
        if names is None:
            names = tuple(
                f.name for f in dataclasses.fields(cls) if re.fullmatch(r"Node|tuple\[Node, \.\.\.\]", str(f.type))
            )
            cls._operand_fields = names
        return names

    def children(self) -> tuple["Node", ...]:
        out: list[Node] = []
        for name in type(self)._operands(self):
            value = getattr(self, name)
            if isinstance(value, Node):
                out.append(value)
            else:
                out.extend(value)
        return tuple(out)

    def params(self) -> dict[str, Any]:
        operands = set(type(self)._operands(self))
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in operands}

    def map_children(self, fn) -> "Node":
        """Return a copy with every operand replaced by ``fn(operand)``."""
        changes: dict[str, Any] = {}
        for name in type(self)._operands(self):
            value = getattr(self, name)
            new = fn(value) if isinstance(value, Node) else tuple(fn(v) for v in value)
            if new is not value:
                changes[name] = new
        return dataclasses.replace(self, **changes) if changes else self

    # --- typing ----------------------------------------------------------
    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        raise NotImplementedError(f"{type(self).__name__} has no typing rule")

    def output_columns(self, feature: str) -> tuple[str, ...]:
        """The output columns of a feature named ``feature`` whose root is this node (each of the
        inferred field). One, the feature itself, except for ops with several columns
        (:class:`~skewless.ir.applied.OneHotColumns`), which can only be a feature's root."""
        return (feature,)

    # --- display ---------------------------------------------------------
    def render(self, args: list[str]) -> str:
        """Polars-like source text for error messages, e.g. ``col("a").log1p()``."""
        receiver, rest = (args[0], args[1:]) if args else ("", [])
        params = [f"{k}={_fmt_param(v)}" for k, v in self.params().items()]
        ns = f"{self.namespace}." if self.namespace else ""
        method = self.method or type(self).__name__.lower()
        inner = ", ".join([*rest, *params])
        return f"{receiver}.{ns}{method}({inner})" if receiver else f"{method}({inner})"


def _fmt_param(value: Any) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(_fmt_param(v) for v in value) + "]"
    return repr(value)


def walk(node: Node) -> Iterator[Node]:
    """Yield ``node`` and all its descendants (pre-order; shared subtrees repeat)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children()))


def render(node: Node) -> str:
    """Render an IR tree as polars-like source text."""
    return node.render([render(c) for c in node.children()])


# --------------------------------------------------------------------------- leaves


@dataclasses.dataclass(frozen=True, slots=True)
class Column(Node):
    """Reference to an input column (or, before resolution, an earlier feature)."""

    name: str

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        try:
            return ctx.schema[self.name]
        except KeyError:
            from ..suggest import did_you_mean

            hint = did_you_mean(self.name, [*ctx.schema, *ctx.feature_names])
            raise ExprTypeError(f"unknown column {self.name!r}{hint}") from None

    def render(self, args: list[str]) -> str:
        return f"col({self.name!r})"


_LITERAL_TYPES = (type(None), bool, int, float, str, _dt.datetime, _dt.date, _dt.timedelta)


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class Literal(Node):
    """A constant. ``value`` is a plain Python value of an exact builtin type.

    Equality and hashing use ``(dtype, type, repr)`` so that ``-0.0`` and
    ``0.0`` stay distinct constants and ``nan`` equals itself; both matter when
    backends share common subexpressions.
    """

    value: Any
    dtype: DataType

    def __post_init__(self) -> None:
        if type(self.value) not in _LITERAL_TYPES:
            raise ExprTypeError(f"unsupported literal {self.value!r} of type {type(self.value).__name__}")
        if type(self.value) is int and not INT64_MIN <= self.value <= INT64_MAX:
            raise ExprTypeError(f"integer literal {self.value} does not fit in Int64")
        if type(self.value) is _dt.datetime and self.value.tzinfo is not None:
            try:
                instant = self.value.astimezone(_dt.timezone.utc)
            except (OverflowError, ValueError):
                instant = None
            if instant is None or not DATETIME_MIN <= instant.replace(tzinfo=None) <= DATETIME_MAX:
                raise ExprTypeError(
                    f"datetime literal {self.value!r} is outside the instants skewless computes with"
                    f" ({DATETIME_MIN:%Y-%m-%d} .. {DATETIME_MAX:%Y-%m-%d} UTC, so that its wall clock in every"
                    " zone is a Python datetime)"
                )

    def _key(self) -> tuple:
        return (self.dtype, type(self.value), repr(self.value))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Literal) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        return Field(self.dtype, self.value is None)

    def render(self, args: list[str]) -> str:
        if isinstance(self.value, float) and not math.isfinite(self.value):
            return f"lit(float({str(self.value)!r}))"
        return f"lit({self.value!r})"


def literal_dtype(value: Any) -> DataType:
    """The dtype polars would give a Python scalar (restricted to skewless' dtypes)."""
    if value is None:
        return Null()
    if isinstance(value, bool):
        return Boolean()
    if isinstance(value, int):
        return Int64()
    if isinstance(value, float):
        return Float64()
    if isinstance(value, str):
        return String()
    if isinstance(value, _dt.datetime):
        tz = value.tzinfo
        if tz is None:
            return Datetime("us", None)
        key = getattr(tz, "key", None) or ("UTC" if value.utcoffset() == _dt.timedelta(0) else None)
        if key is None:
            raise ExprTypeError(f"datetime literal {value!r} needs an IANA time zone (zoneinfo.ZoneInfo)")
        return Datetime("us", key)
    if isinstance(value, _dt.date):
        return Date()
    if isinstance(value, _dt.timedelta):
        return Duration("us")
    raise ExprTypeError(f"unsupported literal {value!r} of type {type(value).__name__}")


def canonical_literal(value: Any) -> Any:
    """Coerce subclasses of builtins (e.g. ``str`` subclasses, ``numpy.float64``) to exact builtins."""
    if value is None or type(value) in _LITERAL_TYPES:
        return value
    if isinstance(value, bool):
        return bool(value)
    for kind in (int, float, str):
        if isinstance(value, kind):
            return kind(value)
    # numpy scalars are not int/float subclasses (except float64); use .item().
    module = (type(value).__module__ or "").partition(".")[0]
    if module in ("polars", "pandas", "pyarrow"):  # their .item() returns another expression: never recurse
        from ..api.foreign import foreign_message
        from ..errors import ExprTypeError

        raise ExprTypeError(foreign_message(value))
    item = getattr(value, "item", None)
    if callable(item):
        out = item()
        return value if type(out) is type(value) else canonical_literal(out)
    return value


# --------------------------------------------------------------------------- typing helpers


def supertype(a: DataType, b: DataType) -> DataType | None:
    """The common numeric type of two operands (polars' rule restricted to our dtypes)."""
    if isinstance(a, Null):
        return b
    if isinstance(b, Null):
        return a
    if a == b:
        return a
    if a.is_numeric and b.is_numeric:
        return Float64()
    return None


def field_of(dtype: DataType, *args: Field, nullable: bool | None = None) -> Field:
    """A field of ``dtype``, nullable when any operand is (unless stated)."""
    if nullable is None:
        nullable = any(a.nullable for a in args)
    return Field(dtype, nullable)


def require(condition: bool, message: str) -> None:
    if not condition:
        raise ExprTypeError(message)


def is_dtype(field: Field, *kinds: type[DataType]) -> bool:
    return isinstance(field.dtype, kinds) or isinstance(field.dtype, Null)


NUMERIC = (Int64, Float64)
__all__ += ["literal_dtype", "canonical_literal", "field_of", "require", "is_dtype", "NUMERIC", "INT64_MIN", "INT64_MAX"]
