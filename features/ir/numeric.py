"""IR ops: numeric (math functions, rounding, NaN handling, clip, is_between, horizontal reductions).

Output dtypes equal polars 2.1's for Int64 and Float64 operands: math
functions (``exp``, ``log``, ``sqrt``, ``sin``, ...) give Float64; ``abs``,
``sign``, ``floor``, ``ceil`` and ``round`` keep Int64 (the last three leave
integers unchanged); ``is_nan``/``is_finite``/``is_infinite`` give Boolean.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..dtypes import Boolean, DataType, Field, Float64, Int64, Null
from ..errors import ExprTypeError
from .base import NUMERIC, InferContext, Literal, Node, field_of, require, supertype

__all__ = [
    "Abs", "Sign", "Floor", "Ceil", "Round", "Exp", "Log", "Log1p", "Log10", "Sqrt", "Cbrt", "Sin", "Cos", "Tan",
    "Arcsin", "Arctan", "IsNan", "IsFinite", "IsInfinite", "FillNan", "Clip", "IsBetween", "MinHorizontal", "MaxHorizontal",
    "SumHorizontal", "ROUND_MODES", "CLOSED",
]

ROUND_MODES = ("half_to_even", "half_away_from_zero")
CLOSED = ("both", "left", "right", "none")


def require_numeric(node: Node, a: Field, what: str = "operand") -> None:
    """Refuse anything but Int64 and Float64, with a hint for the usual mistakes."""
    if isinstance(a.dtype, NUMERIC):
        return
    hint = ""
    if isinstance(a.dtype, Boolean):
        hint = "; cast Boolean to Int64 first"
    elif isinstance(a.dtype, Null):
        hint = "; give the null a dtype, e.g. lit(None, dtype=Float64)"
    raise ExprTypeError(f"{node.method}() needs a numeric {what} (Int64 or Float64), got {a.dtype!r}{hint}")


# --------------------------------------------------------------------------- unary, same dtype


@dataclass(frozen=True, slots=True)
class _SameDtype(Node):
    """A unary op whose result has the operand's dtype (Int64 stays Int64)."""

    abstract = True
    operand: Node

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        (a,) = args
        require_numeric(self, a)
        return a


@dataclass(frozen=True, slots=True)
class Abs(_SameDtype):
    """``a.abs()``. Int64 wraps like polars: ``abs(INT64_MIN)`` is ``INT64_MIN``. ``abs(-0.0)`` is ``0.0``."""

    method = "abs"


@dataclass(frozen=True, slots=True)
class Sign(_SameDtype):
    """``a.sign()``: -1, 0 or 1 in the operand's dtype. Floats keep NaN and the sign of zero (``-0.0`` -> ``-0.0``)."""

    method = "sign"


@dataclass(frozen=True, slots=True)
class Floor(_SameDtype):
    """``a.floor()``. Int64 is returned unchanged (and stays Int64, as in polars); ``floor(-0.5)`` is ``-1.0``."""

    method = "floor"


@dataclass(frozen=True, slots=True)
class Ceil(_SameDtype):
    """``a.ceil()``. Int64 is returned unchanged; ``ceil(-0.5)`` is ``-0.0``."""

    method = "ceil"


@dataclass(frozen=True, slots=True)
class Round(_SameDtype):
    """``a.round(decimals, mode)``, computed exactly as polars does (not decimal rounding).

    ``decimals == 0`` rounds to an integer (``half_to_even``: ``2.5`` -> ``2.0``;
    ``half_away_from_zero``: ``2.5`` -> ``3.0``). Otherwise the result is
    ``rounded(x * m) / m`` with ``m = 10 ** decimals`` built by repeated squaring,
    so ``2.675`` rounds to ``2.68`` (Python's ``round`` gives ``2.67``), and
    ``x`` itself when that is not finite; from 300 decimals ``m`` is split into
    ``2**d * 5**d``; from 326 the value is unchanged. Int64 is unchanged.
    """

    method = "round"
    decimals: int = 0
    mode: str = "half_to_even"


# --------------------------------------------------------------------------- unary, Float64 result


@dataclass(frozen=True, slots=True)
class _FloatFn(Node):
    """A math function: the result is Float64 (Int64 operands are converted first), IEEE special values."""

    abstract = True
    operand: Node

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        (a,) = args
        require_numeric(self, a)
        return field_of(Float64(), a)


@dataclass(frozen=True, slots=True)
class Exp(_FloatFn):
    """``a.exp()``: ``inf`` on overflow."""

    method = "exp"


@dataclass(frozen=True, slots=True)
class Log(_FloatFn):
    """``a.log(base)``: ``ln(a) / ln(base)``, as polars computes it (also for bases 2 and 10).

    ``log(0)`` is ``-inf`` and ``log`` of a negative number is NaN (no error).
    ``base`` is a number: 1 gives ±inf (NaN at 1), a negative base NaN.
    """

    method = "log"
    base: float = math.e


@dataclass(frozen=True, slots=True)
class Log10(_FloatFn):
    """``a.log10()``: polars computes ``ln(a) / ln(10)``, which differs from C's ``log10``
    in the last bit for about a quarter of the inputs (``log10(1000)`` is ``2.9999999999999996``)."""

    method = "log10"


@dataclass(frozen=True, slots=True)
class Log1p(_FloatFn):
    """``a.log1p()``: ``ln(1 + a)`` accurate near zero; ``-inf`` at -1, NaN below."""

    method = "log1p"


@dataclass(frozen=True, slots=True)
class Sqrt(_FloatFn):
    """``a.sqrt()``: NaN for negative numbers; ``sqrt(-0.0)`` is ``-0.0``."""

    method = "sqrt"


@dataclass(frozen=True, slots=True)
class Cbrt(_FloatFn):
    """``a.cbrt()``: the correctly rounded real cube root (``cbrt(-8.0)`` is ``-2.0``)."""

    method = "cbrt"


@dataclass(frozen=True, slots=True)
class Sin(_FloatFn):
    """``a.sin()`` (radians); NaN for ±inf."""

    method = "sin"


@dataclass(frozen=True, slots=True)
class Cos(_FloatFn):
    """``a.cos()`` (radians); NaN for ±inf."""

    method = "cos"


@dataclass(frozen=True, slots=True)
class Tan(_FloatFn):
    """``a.tan()`` (radians); NaN for ±inf."""

    method = "tan"


@dataclass(frozen=True, slots=True)
class Arcsin(_FloatFn):
    """``a.arcsin()`` in radians, in ``[-pi/2, pi/2]``; NaN outside ``[-1, 1]``."""

    method = "arcsin"
    expr_method = True


@dataclass(frozen=True, slots=True)
class Arctan(_FloatFn):
    """``a.arctan()`` in radians; ``±inf`` gives ``±pi/2``."""

    method = "arctan"


# --------------------------------------------------------------------------- NaN


@dataclass(frozen=True, slots=True)
class _FloatTest(Node):
    abstract = True
    operand: Node

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        (a,) = args
        require_numeric(self, a)
        return field_of(Boolean(), a)


@dataclass(frozen=True, slots=True)
class IsNan(_FloatTest):
    """``a.is_nan()``: null stays null (NaN is not null); always False on Int64."""

    method = "is_nan"


@dataclass(frozen=True, slots=True)
class IsFinite(_FloatTest):
    """``a.is_finite()``: False for NaN and ±inf; always True on Int64."""

    method = "is_finite"


@dataclass(frozen=True, slots=True)
class IsInfinite(_FloatTest):
    """``a.is_infinite()``: True for ±inf only; always False on Int64."""

    method = "is_infinite"


@dataclass(frozen=True, slots=True)
class FillNan(Node):
    """``a.fill_nan(value)``: NaN becomes ``value`` (which may be null); null stays null.

    The dtype is the supertype of both (polars): Int64 filled with a float
    becomes Float64 although an integer is never NaN.
    """

    method = "fill_nan"
    propagates_nulls = False
    operand: Node
    value: Node

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        a, v = args
        require_numeric(self, a)
        require(isinstance(v.dtype, (*NUMERIC, Null)), f"fill_nan() needs a numeric fill value, got {v.dtype!r}")
        dtype = supertype(a.dtype, v.dtype)
        return Field(dtype, a.nullable or (isinstance(a.dtype, Float64) and v.nullable))


# --------------------------------------------------------------------------- bounds


def _int_bound(value: float) -> int:
    """Polars casts a float bound of an Int64 column to Int64 (truncating, strict)."""
    if not math.isfinite(value) or not -(2.0**63) <= value < 2.0**63:
        raise ExprTypeError(f"clip(): bound {value!r} cannot be cast to Int64 (polars raises on it)")
    return int(value)


@dataclass(frozen=True, slots=True)
class Clip(Node):
    """``a.clip(lower_bound, upper_bound)``: ``lower`` if ``a < lower``, else ``upper`` if ``a > upper``, else ``a``.

    Copies polars exactly: a null bound (or a missing one) means no bound;
    comparisons are IEEE, so a NaN value stays NaN and a NaN bound is no bound;
    the lower bound wins when ``lower > upper``. An Int64 column keeps its dtype,
    and a float literal bound is truncated to an integer (``clip(0.5, 9.5)`` on
    Int64 is ``clip(0, 9)``); a Float64 column bound on an Int64 column is refused.
    """

    method = "clip"
    propagates_nulls = False
    operand: Node
    lower: Node
    upper: Node

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        a, lo, hi = args
        require_numeric(self, a)
        for name, node, f in (("lower_bound", self.lower, lo), ("upper_bound", self.upper, hi)):
            require(isinstance(f.dtype, (*NUMERIC, Null)), f"clip(): {name} must be numeric, got {f.dtype!r}")
            if isinstance(a.dtype, Int64) and isinstance(f.dtype, Float64):
                if isinstance(node, Literal):
                    if node.value is not None:
                        _int_bound(node.value)
                else:
                    raise ExprTypeError(
                        f"clip(): a Float64 {name} on an Int64 column would be truncated by polars; cast one of them"
                    )
        return a

    def int_bound(self, node: Node) -> int | None:
        """The Int64 value of a float literal bound (for Int64 columns), as polars casts it."""
        return _int_bound(node.value) if isinstance(node, Literal) and isinstance(node.value, float) else None

    def render(self, args: list[str]) -> str:
        return f"{args[0]}.clip({args[1]}, {args[2]})"


@dataclass(frozen=True, slots=True)
class IsBetween(Node):
    """``a.is_between(lower, upper, closed)``: ``(a >= lower) & (a <= upper)`` with Kleene ``&``.

    ``closed`` is ``"both"``, ``"left"``, ``"right"`` or ``"none"``. Comparisons
    follow polars' float order (NaN above everything, NaN equals NaN): NaN is
    between 0 and NaN. A null bound gives null unless the other side is False
    (``5.is_between(null, 3)`` is False), but an untyped ``None`` bound, or a
    null literal of another dtype than the value, makes every row null, as in
    polars (see :meth:`all_null`).
    """

    method = "is_between"
    propagates_nulls = False
    operand: Node
    lower: Node
    upper: Node
    closed: str = "both"

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        a, lo, hi = args
        for f in (lo, hi):
            ok = (
                isinstance(a.dtype, Null)
                or isinstance(f.dtype, Null)
                or (a.dtype.is_numeric and f.dtype.is_numeric)
                or a.dtype == f.dtype
            )
            require(ok, f"is_between(): cannot compare {a.dtype!r} with a bound of {f.dtype!r}")
        if self.all_null(args):
            return Field(Boolean(), True)
        return field_of(Boolean(), a, lo, hi)

    def all_null(self, args) -> bool:
        """Polars gives null on every row when the value has the Null dtype, or when a bound (or the
        value) is a null *literal* of another dtype than the value, ``lit(None)`` included (measured on
        polars 2.1: ``col("i").is_between(lit(None, dtype=Float64), 3)`` is null even where ``i > 3``).
        A null literal of the value's own dtype, or a null-valued expression such as
        ``coalesce(lit(None))``, follows Kleene logic."""
        if isinstance(args[0].dtype, Null):
            return True
        value = args[0].dtype
        return any(isinstance(n, Literal) and n.value is None and f.dtype != value
                   for n, f in zip(self.children(), args))


# --------------------------------------------------------------------------- horizontal


def _horizontal_dtype(node: Node, args: tuple[Field, ...]) -> DataType:
    require(len(args) >= 1, f"{node.method}() needs at least one expression")
    dtype: DataType = Null()
    for i, f in enumerate(args):
        require(
            isinstance(f.dtype, (*NUMERIC, Null)),
            f"{node.method}(): expression #{i + 1} must be numeric, got {f.dtype!r}"
            + ("; cast Boolean to Int64 first" if isinstance(f.dtype, Boolean) else ""),
        )
        dtype = supertype(dtype, f.dtype)
    require(not isinstance(dtype, Null), f"{node.method}() needs at least one non-null numeric expression")
    return dtype


@dataclass(frozen=True, slots=True)
class MinHorizontal(Node):
    """``min_horizontal(a, b, ...)``: row-wise minimum ignoring nulls (null when all are null).

    NaN is ignored unless every non-null value is NaN (polars); among equal
    values the last wins, which decides between ``0.0`` and ``-0.0``.
    """

    method = "min_horizontal"
    propagates_nulls = False
    exprs: tuple[Node, ...]

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        return Field(_horizontal_dtype(self, args), all(a.nullable for a in args))

    def render(self, args: list[str]) -> str:
        return f"{self.method}({', '.join(args)})"


@dataclass(frozen=True, slots=True)
class MaxHorizontal(MinHorizontal):
    """``max_horizontal(a, b, ...)``: row-wise maximum; same null, NaN and tie rules as :class:`MinHorizontal`."""

    method = "max_horizontal"


@dataclass(frozen=True, slots=True)
class SumHorizontal(Node):
    """``sum_horizontal(a, b, ..., ignore_nulls=True)``: row-wise sum, in polars' order.

    With ``ignore_nulls`` (the default) nulls count as zero, so an all-null row
    sums to 0 and ``-0.0 + null`` is ``0.0``; otherwise any null gives null.
    Int64 wraps on overflow; with a Float64 operand every term is converted to
    Float64 first. The terms are added as polars 2.1 adds them in memory, a
    balanced tree ``sum(t[:n//2]) + sum(t[n//2:])`` — already from three terms:
    ``sum_horizontal(a, b, c)`` is ``a + (b + c)``, so ``(60.0, 60.0, 1.34e-6)``
    is not the left fold. Polars' streaming engine adds five or more terms in
    another order; skewless spells the in-memory tree out on both runtimes
    (:func:`skewless.backends.simplify.sum_tree`). Literal terms: a constant
    sub-sum is added first, and a constant ±0 next to a column is not added
    (polars' scalar kernel returns the column, which keeps ``-0.0``).
    """

    method = "sum_horizontal"
    propagates_nulls = False
    exprs: tuple[Node, ...]
    ignore_nulls: bool = True

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        dtype = _horizontal_dtype(self, args)
        return Field(dtype, (not self.ignore_nulls) and any(a.nullable for a in args))

    def render(self, args: list[str]) -> str:
        extra = "" if self.ignore_nulls else ", ignore_nulls=False"
        return f"{self.method}({', '.join(args)}{extra})"
