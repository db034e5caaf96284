"""Core ops: arithmetic, comparison, Kleene logic, nulls, conditionals, membership, casts.

Each class documents the polars behaviour it copies where that behaviour is not
what plain Python does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

from ..dtypes import Boolean, DataType, Date, Datetime, Duration, Field, Float64, Int64, Null, String
from ..errors import ExprTypeError
from .base import NUMERIC, InferContext, Literal, Node, field_of, require, supertype

# --------------------------------------------------------------------------- binary base


@dataclass(frozen=True, slots=True)
class BinaryOp(Node):
    """An infix operator ``left <symbol> right``."""

    abstract = True
    symbol: ClassVar[str] = "?"
    left: Node
    right: Node

    def render(self, args: list[str]) -> str:
        return f"({args[0]} {self.symbol} {args[1]})"


def _numeric_pair(node: BinaryOp, a: Field, b: Field) -> DataType:
    require(
        isinstance(a.dtype, (*NUMERIC, Null)) and isinstance(b.dtype, (*NUMERIC, Null)),
        f"operator {node.symbol!r} needs numeric operands, got {a.dtype!r} and {b.dtype!r}"
        + (" (cast Boolean to Int64 first)" if isinstance(a.dtype, Boolean) or isinstance(b.dtype, Boolean) else ""),
    )
    st = supertype(a.dtype, b.dtype)
    return Int64() if isinstance(st, Null) else st


def is_nonzero_literal(node: Node) -> bool:
    return isinstance(node, Literal) and isinstance(node.value, (int, float)) and node.value != 0


_TEMPORAL = (Date, Datetime, Duration)


def common_unit(*dtypes: DataType) -> str:
    """polars' unit of a temporal result: ``"ms"`` when any operand is in milliseconds, else ``"us"``."""
    return "ms" if any(getattr(d, "time_unit", "us") == "ms" for d in dtypes) else "us"


def temporal_arith(node: BinaryOp, a: Field, b: Field) -> Field | None:
    """Typing of ``+``/``-`` with a Date, Datetime or Duration operand (None when neither is one).

    Copies polars 2.1 (measured): ``Datetime ± Duration`` and ``Duration + Datetime`` keep the
    zone and take the coarser unit (``ms`` if either is ``ms``; the Datetime is floored to it,
    the Duration truncated toward zero); a zoned value shifts as an instant (one hour across a
    DST change is one hour of real time). ``Date ± Duration`` is a Date: midnight plus the
    Duration, floored to the day (2020-03-01 - 1h is 2020-02-29); with a ``Duration("ms")``
    a result beyond polars' Date range is null. ``Datetime - Datetime`` (same zone, any units),
    ``Datetime - Date``, ``Date - Datetime`` (a Date is its midnight as a UTC instant, whatever
    the zone) and ``Date - Date`` give a Duration; ``Duration ± Duration`` a Duration. Int64
    wraps everywhere. Everything else polars refuses is refused here: ``Duration - Datetime``,
    ``Datetime + Datetime``, a zoned minus a naive Datetime, numbers or nulls mixed with
    temporal values.
    """
    x, y = a.dtype, b.dtype
    if not (isinstance(x, _TEMPORAL) or isinstance(y, _TEMPORAL)):
        return None
    sym = node.symbol
    refused = f"operator {sym!r} is not defined for {x!r} and {y!r} (as in polars)"
    hint = ""
    if isinstance(x, Null) or isinstance(y, Null):
        hint = "; give the null a dtype, e.g. lit(None, dtype=Duration('us'))"
    elif x.is_numeric or y.is_numeric:
        hint = "; build a Duration with duration(days=..., hours=...) or a datetime.timedelta literal"
    is_sub = sym == "-"
    if isinstance(x, (Datetime, Date)) and isinstance(y, Duration):
        if isinstance(x, Date):
            return field_of(Date(), a, b, nullable=a.nullable or b.nullable or y.time_unit == "ms")
        return field_of(Datetime(common_unit(x, y), x.time_zone), a, b)
    if not is_sub and isinstance(x, Duration) and isinstance(y, (Datetime, Date)):
        if isinstance(y, Date):
            return field_of(Date(), a, b, nullable=a.nullable or b.nullable or x.time_unit == "ms")
        return field_of(Datetime(common_unit(x, y), y.time_zone), a, b)
    if isinstance(x, Duration) and isinstance(y, Duration):
        return field_of(Duration(common_unit(x, y)), a, b)
    if is_sub and isinstance(x, Date) and isinstance(y, Date):
        return field_of(Duration("us"), a, b)
    if is_sub and isinstance(x, (Datetime, Date)) and isinstance(y, (Datetime, Date)):
        zones = {d.time_zone for d in (x, y) if isinstance(d, Datetime)}
        require(
            len(zones) == 1,
            f"can only subtract Datetimes of the same zone, got {x!r} and {y!r} (polars finds no supertype);"
            " convert one with dt.convert_time_zone()",
        )
        return field_of(Duration(common_unit(x, y)), a, b)
    raise ExprTypeError(refused + hint)


# --------------------------------------------------------------------------- arithmetic


@dataclass(frozen=True, slots=True)
class Add(BinaryOp):
    """``a + b``. Int64 wraps on overflow like polars; on strings it concatenates; Date/Datetime/Duration
    operands follow :func:`temporal_arith` (polars 2.1)."""

    symbol = "+"

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        a, b = args
        if isinstance(a.dtype, String) or isinstance(b.dtype, String):
            require(
                isinstance(a.dtype, (String, Null)) and isinstance(b.dtype, (String, Null)),
                f"cannot add {a.dtype!r} and {b.dtype!r}; use concat_str or cast to String",
            )
            return field_of(String(), a, b)
        temporal = temporal_arith(self, a, b)
        if temporal is not None:
            return temporal
        return field_of(_numeric_pair(self, a, b), a, b)


@dataclass(frozen=True, slots=True)
class Sub(BinaryOp):
    """``a - b``. Temporal operands follow :func:`temporal_arith` (polars 2.1): Datetime minus Datetime
    (same zone) and Date minus Date give a Duration, Datetime/Date minus Duration a Datetime/Date."""

    symbol = "-"

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        a, b = args
        temporal = temporal_arith(self, a, b)
        if temporal is not None:
            return temporal
        return field_of(_numeric_pair(self, a, b), a, b)


@dataclass(frozen=True, slots=True)
class Mul(BinaryOp):
    """``a * b``. Int64 wraps on overflow like polars."""

    symbol = "*"

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        a, b = args
        return field_of(_numeric_pair(self, a, b), a, b)


@dataclass(frozen=True, slots=True)
class TrueDiv(BinaryOp):
    """``a / b``, always Float64, IEEE division: ``x / 0`` is ±inf or NaN (polars), never an error.

    Division by a literal is computed as multiplication by its reciprocal,
    ``a * (1 / k)``, on both runtimes. Polars' own kernel does exactly that on
    pieces of two or more rows but true division on one-row pieces, so the
    batch result would otherwise depend on frame and chunk sizes (measured:
    polars' lazy engine divides a 2-row frame exactly and a 3-row one partly,
    as it runs them in one-row pieces; eager polars multiplies from 2 rows).
    A literal divided by a literal (a constant, folded when the feature set is
    defined) is divided exactly, as polars divides two scalars on every frame.
    """

    symbol = "/"

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        a, b = args
        _numeric_pair(self, a, b)
        return field_of(Float64(), a, b)


@dataclass(frozen=True, slots=True)
class FloorDiv(BinaryOp):
    """``a // b``. Integers: floored, ``x // 0`` is null (polars), ``INT64_MIN // -1`` wraps.

    Floats: ``floor(a / b)`` with ``/`` as in :class:`TrueDiv` (polars), which
    differs from Python's ``1.0 // 0.1 == 9.0``: skewless gives ``10.0``.
    """

    symbol = "//"

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        a, b = args
        dtype = _numeric_pair(self, a, b)
        may_be_null = isinstance(dtype, Int64) and not is_nonzero_literal(self.right)
        return field_of(dtype, a, b, nullable=a.nullable or b.nullable or may_be_null)


@dataclass(frozen=True, slots=True)
class Mod(BinaryOp):
    """``a % b`` with the sign of ``b``. Integers: ``x % 0`` is null (polars).

    Floats: ``a - b * floor(a / b)`` (polars), not C's fmod that Python uses:
    ``1.0 % 0.1`` is ``0.0`` here and ``0.09999999999999995`` in Python.
    """

    symbol = "%"

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        a, b = args
        dtype = _numeric_pair(self, a, b)
        may_be_null = isinstance(dtype, Int64) and not is_nonzero_literal(self.right)
        return field_of(dtype, a, b, nullable=a.nullable or b.nullable or may_be_null)


@dataclass(frozen=True, slots=True)
class Pow(BinaryOp):
    """``a ** b``. Float: as polars computes it, never an exception or a complex number.

    Polars specialises a single-valued exponent: ``0.5`` is ``sqrt`` (so
    ``(-0.0) ** 0.5`` is ``-0.0``) and whole numbers 2..9 are a left-to-right
    product ``x * x * ...``; other exponents use C ``pow`` (``(-8.0) ** (1/3)`` is
    NaN, ``0.0 ** -1`` is inf). Both runtimes spell these cases out explicitly.

    Deliberate departure from polars: with a *column* exponent, polars uses C
    ``pow`` on every row of a frame of two or more rows but the specialisations on
    a one-row frame (where the column is "a single value"). skewless applies the
    specialisations per row on every frame, so the batch result does not depend on
    the frame size: ``col("a") ** col("b")`` with ``b = 3.0`` is ``a * a * a``,
    which can differ from polars' multi-row ``pow(a, 3.0)`` by 1-2 ulp (pinned by
    ``parity_tests/test_fuzz_reproducers.py``; listed in the fuzzer's mirror deviations).

    ``Int64 ** k`` for a literal ``k >= 0`` stays Int64 and wraps like polars;
    an integer exponent column is refused (polars raises at run time on a
    negative exponent) — cast it to Float64.
    """

    symbol = "**"

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        a, b = args
        dtype = _numeric_pair(self, a, b)
        if isinstance(dtype, Int64):
            require(
                isinstance(self.right, Literal) and isinstance(self.right.value, int)
                and 0 <= self.right.value < 2**32,
                "Int64 ** Int64 needs a literal exponent 0 <= k < 2**32 (polars raises on negative exponents"
                " and casts the exponent to UInt32); cast the base to Float64 for other exponents",
            )
        return field_of(dtype, a, b)


@dataclass(frozen=True, slots=True)
class Neg(Node):
    """``-a`` of a number or a Duration. Int64 (and a Duration's count): ``-INT64_MIN`` wraps to ``INT64_MIN`` (polars)."""

    method = "neg"
    operand: Node

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        (a,) = args
        require(isinstance(a.dtype, (*NUMERIC, Duration, Null)), f"cannot negate {a.dtype!r}")
        return a

    def render(self, args: list[str]) -> str:
        return f"(-{args[0]})"


# --------------------------------------------------------------------------- comparisons


def _comparable(node: BinaryOp, a: Field, b: Field) -> None:
    ok = (
        isinstance(a.dtype, Null)
        or isinstance(b.dtype, Null)
        or (a.dtype.is_numeric and b.dtype.is_numeric)
        or a.dtype == b.dtype
    )
    require(ok, f"cannot compare {a.dtype!r} with {b.dtype!r} using {node.symbol!r}")


@dataclass(frozen=True, slots=True)
class Compare(BinaryOp):
    """Comparison. Polars semantics for floats: NaN equals NaN and is greater than
    every other value (including inf); ``-0.0 == 0.0``. Int64 against Float64
    compares after converting the integer to Float64 (so ``2**53 + 1 == 2.0**53``)."""

    abstract = True

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        a, b = args
        _comparable(self, a, b)
        return field_of(Boolean(), a, b)


@dataclass(frozen=True, slots=True)
class Eq(Compare):
    symbol = "=="


@dataclass(frozen=True, slots=True)
class Ne(Compare):
    symbol = "!="


@dataclass(frozen=True, slots=True)
class Lt(Compare):
    symbol = "<"


@dataclass(frozen=True, slots=True)
class Le(Compare):
    symbol = "<="


@dataclass(frozen=True, slots=True)
class Gt(Compare):
    symbol = ">"


@dataclass(frozen=True, slots=True)
class Ge(Compare):
    symbol = ">="


@dataclass(frozen=True, slots=True)
class EqMissing(BinaryOp):
    """``a.eq_missing(b)``: like ``==`` but null equals null and null != value; never null."""

    method = "eq_missing"
    symbol = "eq_missing"
    propagates_nulls = False

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        _comparable(self, *args)
        return Field(Boolean(), False)

    def render(self, args: list[str]) -> str:
        return f"{args[0]}.{self.method}({args[1]})"


@dataclass(frozen=True, slots=True)
class NeMissing(EqMissing):
    """``a.ne_missing(b)``: negation of :class:`EqMissing`; never null."""

    method = "ne_missing"
    symbol = "ne_missing"


# --------------------------------------------------------------------------- Kleene logic


def _logical(node: BinaryOp, a: Field, b: Field) -> Field:
    require(
        isinstance(a.dtype, (Boolean, Null)) and isinstance(b.dtype, (Boolean, Null)),
        f"operator {node.symbol!r} needs Boolean operands, got {a.dtype!r} and {b.dtype!r}"
        " (skewless does not offer bitwise integer operators)",
    )
    return field_of(Boolean(), a, b)


@dataclass(frozen=True, slots=True)
class Logical(BinaryOp):
    """A Boolean operator (``&``, ``|``, ``^``)."""

    abstract = True

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        return _logical(self, *args)


@dataclass(frozen=True, slots=True)
class And(Logical):
    """``a & b`` with Kleene logic: ``null & False`` is False, ``null & True`` is null."""

    symbol = "&"
    propagates_nulls = False


@dataclass(frozen=True, slots=True)
class Or(Logical):
    """``a | b`` with Kleene logic: ``null | True`` is True, ``null | False`` is null."""

    symbol = "|"
    propagates_nulls = False


@dataclass(frozen=True, slots=True)
class Xor(Logical):
    """``a ^ b``: null if either side is null."""

    symbol = "^"


@dataclass(frozen=True, slots=True)
class Not(Node):
    """``~a``: ``~null`` is null (polars), unlike Python's ``not None``."""

    method = "not_"
    operand: Node

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        (a,) = args
        require(isinstance(a.dtype, (Boolean, Null)), f"operator '~' needs a Boolean operand, got {a.dtype!r}")
        return field_of(Boolean(), a)

    def render(self, args: list[str]) -> str:
        return f"(~{args[0]})"


# --------------------------------------------------------------------------- nulls


@dataclass(frozen=True, slots=True)
class IsNull(Node):
    """``a.is_null()``. NaN is not null."""

    method = "is_null"
    propagates_nulls = False
    operand: Node

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        return Field(Boolean(), False)


@dataclass(frozen=True, slots=True)
class IsNotNull(IsNull):
    """``a.is_not_null()``."""

    method = "is_not_null"


def _unify(what: str, fields: tuple[Field, ...]) -> DataType:
    dtype: DataType = Null()
    for f in fields:
        st = supertype(dtype, f.dtype)
        if st is None:
            raise ExprTypeError(f"{what}: cannot combine {dtype!r} and {f.dtype!r}")
        dtype = st
    return dtype


@dataclass(frozen=True, slots=True)
class FillNull(Node):
    """``a.fill_null(value)``. NaN is not null and is kept (use ``fill_nan``)."""

    method = "fill_null"
    propagates_nulls = False
    operand: Node
    value: Node

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        a, v = args
        return Field(_unify("fill_null", args), a.nullable and v.nullable)


@dataclass(frozen=True, slots=True)
class Coalesce(Node):
    """``coalesce(a, b, ...)``: first non-null value. ``""`` and NaN are values, not nulls."""

    method = "coalesce"
    propagates_nulls = False
    exprs: tuple[Node, ...]

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        require(len(args) >= 1, "coalesce needs at least one expression")
        return Field(_unify("coalesce", args), all(a.nullable for a in args))


@dataclass(frozen=True, slots=True)
class When(Node):
    """``when(c1).then(v1).when(c2).then(v2).otherwise(d)``.

    A null condition counts as False (polars). Without ``otherwise`` the
    default is null. ``operands`` holds ``c1, v1, c2, v2, ..., d``.
    """

    method = "when"
    propagates_nulls = False
    operands: tuple[Node, ...]

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        conds, values = args[0:-1:2], (*args[1:-1:2], args[-1])
        for i, c in enumerate(conds):
            require(isinstance(c.dtype, (Boolean, Null)), f"when() condition #{i + 1} must be Boolean, got {c.dtype!r}")
        return Field(_unify("when/then/otherwise", values), any(v.nullable for v in values))

    def render(self, args: list[str]) -> str:
        out = ""
        for i in range(0, len(args) - 1, 2):
            out += f"{'when' if i == 0 else '.when'}({args[i]}).then({args[i + 1]})"
        return out + f".otherwise({args[-1]})"


@dataclass(frozen=True, slots=True)
class IsIn(Node):
    """``a.is_in(values)``. A null ``a`` gives null (polars' ``nulls_equal=False``);
    NaN is in a list holding NaN; ``-0.0`` is in ``[0.0]``."""

    method = "is_in"
    operand: Node
    values: tuple[Any, ...]
    values_dtype: DataType

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        (a,) = args
        ok = isinstance(self.values_dtype, Null) or a.dtype == self.values_dtype or isinstance(a.dtype, Null)
        require(ok, f"is_in: cannot look up {a.dtype!r} values in a list of {self.values_dtype!r}")
        return field_of(Boolean(), a)

    def render(self, args: list[str]) -> str:
        return f"{args[0]}.is_in({list(self.values)!r})"


# --------------------------------------------------------------------------- casts

_CASTABLE = (Int64, Float64, Boolean, String)


@dataclass(frozen=True, slots=True)
class Cast(Node):
    """``a.cast(dtype, strict=True)`` between Int64, Float64, Boolean and String.

    Copies polars: Float64 -> Int64 truncates toward zero; NaN, ±inf and values
    outside Int64 fail. String -> Int64 accepts ``[+-]?[0-9]+`` only (no spaces,
    no underscores, unlike Python's ``int``). String -> Float64 accepts what
    Rust's float parser does (``"1e3"``, ``"inf"``, ``"NaN"``, ``".5"``) and no
    surrounding spaces. Float64 -> String writes polars' format (``"1e-7"``,
    ``"NaN"``, ``"1e+16"``). Boolean -> String is ``"true"``/``"false"``.
    String -> Boolean is refused, as polars refuses it. Date -> String is ISO
    (``"0001-01-01"``); Datetime -> String is polars' ``"2020-01-02 03:04:05.000000"``
    (6 fractional digits for ``us``, 3 for ``ms``) plus, for a zoned input, the wall
    time's offset as ``"+05:30"`` — seconds of a local-mean-time offset rounded to the
    nearest minute, as polars writes them (``"-04:56"`` for New York's -4:56:02 before 1883,
    ``"-03:31"`` for St John's -3:30:52). ``strict=True`` raises
    :class:`~skewless.errors.InvalidOperationError` on a value that cannot be
    converted; ``strict=False`` gives null.
    """

    method = "cast"
    operand: Node
    dtype: DataType
    strict: bool = True

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        (a,) = args
        src, dst = a.dtype, self.dtype
        if src == dst or isinstance(src, Null):
            return Field(dst, a.nullable)
        if isinstance(src, (Date, Datetime)) and isinstance(dst, String):
            return Field(dst, a.nullable)  # ISO text, polars' format (runtime.casts.date_to_str / datetime_to_str)
        require(
            isinstance(src, _CASTABLE) and isinstance(dst, _CASTABLE),
            f"cannot cast {src!r} to {dst!r} (casts are offered between Int64, Float64, Boolean and String, "
            f"and from Date and Datetime to String)",
        )
        require(not (isinstance(src, String) and isinstance(dst, Boolean)), "polars cannot cast String to Boolean")
        can_fail = (isinstance(src, Float64) and isinstance(dst, Int64)) or (
            isinstance(src, String) and isinstance(dst, (Int64, Float64))
        )
        return Field(dst, a.nullable or (can_fail and not self.strict))

    def render(self, args: list[str]) -> str:
        strict = "" if self.strict else ", strict=False"
        return f"{args[0]}.cast({self.dtype!r}{strict})"


_ = (math, Date)  # re-exported names used by sibling modules
