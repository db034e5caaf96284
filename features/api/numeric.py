"""Numeric methods of :class:`~skewless.api.expr.Expr` (mixin) and the horizontal reductions.

Names, signatures and results follow polars 2.1; each docstring says where
polars differs from plain Python.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..errors import ExprTypeError
from ..ir import numeric as ops

if TYPE_CHECKING:
    from .expr import Expr


def _wrap(value: Any, *, str_as_col: bool = False):
    from .expr import wrap

    return wrap(value, str_as_col=str_as_col)


def _expr(node) -> "Expr":
    from .expr import Expr

    return Expr(node)


def _bound(value: Any):
    """A clip / is_between bound: ``None`` is a null literal; strings name columns (polars)."""
    return _wrap(value, str_as_col=True)


class NumericMethods:
    """Math on numbers: ``abs``, ``round``, ``log1p``, ``clip``, ... (polars names)."""

    __slots__ = ()

    # --- sign and magnitude --------------------------------------------------
    def abs(self) -> "Expr":
        """Absolute value, in the operand's dtype.

        Copies polars: ``abs(-0.0)`` is ``0.0``; on Int64 ``abs(-2**63)`` wraps to ``-2**63``.

        Examples
        --------
        >>> col("delay").abs()
        <Expr col('delay').abs()>
        """
        return _expr(ops.Abs(self._node))

    def sign(self) -> "Expr":
        """-1, 0 or 1 by the sign of the value, in the operand's dtype.

        Copies polars on floats: ``sign(-0.0)`` is ``-0.0`` and ``sign(NaN)`` is NaN.

        Examples
        --------
        >>> col("delay").sign()
        <Expr col('delay').sign()>
        """
        return _expr(ops.Sign(self._node))

    # --- rounding --------------------------------------------------------------
    def floor(self) -> "Expr":
        """Largest integer not above the value. Int64 is returned unchanged (still Int64).

        Examples
        --------
        >>> col("x").floor()
        <Expr col('x').floor()>
        """
        return _expr(ops.Floor(self._node))

    def ceil(self) -> "Expr":
        """Smallest integer not below the value (``ceil(-0.5)`` is ``-0.0``). Int64 is unchanged.

        Examples
        --------
        >>> col("x").ceil()
        <Expr col('x').ceil()>
        """
        return _expr(ops.Ceil(self._node))

    def round(self, decimals: int = 0, mode: str = "half_to_even") -> "Expr":
        """Round to ``decimals`` decimal places.

        Parameters
        ----------
        decimals : int, 0 or more
        mode : ``"half_to_even"`` (default) or ``"half_away_from_zero"``
            How exact halves are rounded: ``2.5`` becomes ``2.0`` or ``3.0``.

        Notes
        -----
        Copies polars, which is not decimal rounding: with ``decimals > 0`` the
        value is scaled, rounded to an integer and scaled back, so
        ``2.675`` rounds to ``2.68`` (it is ``267.49999999999997`` as a double,
        but ``2.675 * 100`` is ``267.5``) where Python's ``round`` gives ``2.67``.
        Int64 values are unchanged.

        Examples
        --------
        >>> col("fare").round(2)
        <Expr col('fare').round(decimals=2, mode='half_to_even')>
        """
        if isinstance(decimals, bool) or not isinstance(decimals, int):
            raise ExprTypeError(f"round(): decimals must be an int, got {decimals!r}")
        if not 0 <= decimals < 2**32:
            raise ExprTypeError(f"round(): decimals must be between 0 and 2**32 - 1, got {decimals}")
        if mode not in ops.ROUND_MODES:
            raise ExprTypeError(f"round(): mode must be one of {ops.ROUND_MODES}, got {mode!r}")
        return _expr(ops.Round(self._node, int(decimals), str(mode)))

    # --- exponentials and logarithms --------------------------------------------
    def exp(self) -> "Expr":
        """``e ** x`` as Float64; ``inf`` on overflow (no error).

        Examples
        --------
        >>> col("logit").exp()
        <Expr col('logit').exp()>
        """
        return _expr(ops.Exp(self._node))

    def log(self, base: float = math.e) -> "Expr":
        """Logarithm to ``base`` (natural by default), as Float64.

        Copies polars: ``log(0)`` is ``-inf`` and the log of a negative number
        is NaN (Python raises); any other base is computed as
        ``ln(x) / ln(base)``, including 2 and 10. ``base`` must be a number
        (polars also accepts an expression; skewless does not).

        Examples
        --------
        >>> col("income").log(10)
        <Expr col('income').log(base=10.0)>
        """
        if isinstance(base, bool) or not isinstance(base, (int, float)):
            raise ExprTypeError(f"log(): base must be a number, got {type(base).__name__}")
        return _expr(ops.Log(self._node, float(base)))

    def log10(self) -> "Expr":
        """Base-10 logarithm, as polars computes it: ``ln(x) / ln(10)``.

        Not C's ``log10``: ``log10(1000)`` is ``2.9999999999999996`` (as in polars).

        Examples
        --------
        >>> col("income").log10()
        <Expr col('income').log10()>
        """
        return _expr(ops.Log10(self._node))

    def log1p(self) -> "Expr":
        """``ln(1 + x)``, accurate near zero; ``-inf`` at -1 and NaN below (no error).

        Examples
        --------
        >>> col("distance").log1p()
        <Expr col('distance').log1p()>
        """
        return _expr(ops.Log1p(self._node))

    def sqrt(self) -> "Expr":
        """Square root as Float64; NaN for negative values; ``sqrt(-0.0)`` is ``-0.0``.

        Examples
        --------
        >>> col("area").sqrt()
        <Expr col('area').sqrt()>
        """
        return _expr(ops.Sqrt(self._node))

    def cbrt(self) -> "Expr":
        """Real cube root as Float64 (``cbrt(-8)`` is ``-2.0``), correctly rounded like polars'.

        Examples
        --------
        >>> col("volume").cbrt()
        <Expr col('volume').cbrt()>
        """
        return _expr(ops.Cbrt(self._node))

    # --- trigonometry ---------------------------------------------------------
    def sin(self) -> "Expr":
        """Sine of an angle in radians; NaN for ±inf.

        Examples
        --------
        >>> col("angle").sin()
        <Expr col('angle').sin()>
        """
        return _expr(ops.Sin(self._node))

    def cos(self) -> "Expr":
        """Cosine of an angle in radians; NaN for ±inf.

        Examples
        --------
        >>> col("angle").cos()
        <Expr col('angle').cos()>
        """
        return _expr(ops.Cos(self._node))

    def tan(self) -> "Expr":
        """Tangent of an angle in radians; NaN for ±inf.

        Examples
        --------
        >>> col("angle").tan()
        <Expr col('angle').tan()>
        """
        return _expr(ops.Tan(self._node))

    def arctan(self) -> "Expr":
        """Inverse tangent in radians, in ``[-pi/2, pi/2]``.

        Examples
        --------
        >>> col("slope").arctan()
        <Expr col('slope').arctan()>
        """
        return _expr(ops.Arctan(self._node))

    # --- NaN ------------------------------------------------------------------
    def is_nan(self) -> "Expr":
        """True where the value is NaN. Null stays null (NaN is not null); Int64 is never NaN.

        Examples
        --------
        >>> col("ratio").is_nan()
        <Expr col('ratio').is_nan()>
        """
        return _expr(ops.IsNan(self._node))

    def is_finite(self) -> "Expr":
        """True where the value is neither NaN nor ±inf. Null stays null.

        Examples
        --------
        >>> col("ratio").is_finite()
        <Expr col('ratio').is_finite()>
        """
        return _expr(ops.IsFinite(self._node))

    def is_infinite(self) -> "Expr":
        """True where the value is ±inf. Null stays null.

        Examples
        --------
        >>> col("ratio").is_infinite()
        <Expr col('ratio').is_infinite()>
        """
        return _expr(ops.IsInfinite(self._node))

    def fill_nan(self, value: Any) -> "Expr":
        """Replace NaN with ``value`` (a number, an expression, or ``None`` for null).

        Copies polars: nulls are not NaN and stay null (use ``fill_null``); the
        result has the supertype, so an Int64 column filled with ``0.5``
        becomes Float64.

        Examples
        --------
        >>> col("ratio").fill_nan(0.0)
        <Expr col('ratio').fill_nan(lit(0.0))>
        """
        return _expr(ops.FillNan(self._node, _wrap(value)))

    # --- bounds ---------------------------------------------------------------
    def clip(self, lower_bound: Any = None, upper_bound: Any = None) -> "Expr":
        """Limit values to ``[lower_bound, upper_bound]``; a bound that is ``None`` (or null) is no bound.

        Bounds may be numbers or expressions; a string names a column (polars).
        Copies polars: NaN stays NaN, a NaN bound is ignored, the lower bound
        wins when it exceeds the upper one, and an Int64 column stays Int64 with
        float literal bounds truncated (``clip(0.5, 9.5)`` acts as ``clip(0, 9)``).

        Examples
        --------
        >>> col("age").clip(0, 100)
        <Expr col('age').clip(lit(0), lit(100))>
        """
        return _expr(ops.Clip(self._node, _bound(lower_bound), _bound(upper_bound)))

    def is_between(self, lower_bound: Any, upper_bound: Any, closed: str = "both") -> "Expr":
        """True where ``lower_bound <= value <= upper_bound`` (``closed`` picks which ends count).

        Parameters
        ----------
        lower_bound, upper_bound : number or expression; a string names a column (polars)
        closed : ``"both"`` (default), ``"left"``, ``"right"`` or ``"none"``

        Notes
        -----
        Same as ``(x >= lower) & (x <= upper)`` in polars: NaN is greater than
        every number; a null bound gives null unless the other comparison is
        False; a bare ``None`` bound makes every row null (polars).

        Examples
        --------
        >>> col("age").is_between(18, 65)
        <Expr col('age').is_between(lit(18), lit(65), closed='both')>
        """
        if closed not in ops.CLOSED:
            raise ExprTypeError(f"is_between(): closed must be one of {ops.CLOSED}, got {closed!r}")
        return _expr(ops.IsBetween(self._node, _bound(lower_bound), _bound(upper_bound), str(closed)))


# --------------------------------------------------------------------------- top-level functions


def _flatten(what: str, exprs: tuple[Any, ...]) -> tuple:
    flat: list[Any] = []
    for e in exprs:
        if isinstance(e, (list, tuple)):
            flat.extend(e)
        else:
            flat.append(e)
    if not flat:
        raise ExprTypeError(f"{what}() needs at least one expression")
    return tuple(_wrap(e, str_as_col=True) for e in flat)


def min_horizontal(*exprs: Any) -> "Expr":
    """Row-wise minimum of several numeric expressions (strings name columns).

    Copies polars: nulls are ignored (null only when all are null), and NaN
    is ignored unless every non-null value is NaN, so ``min_horizontal(1.0, NaN)``
    is ``1.0`` where Python's ``min(1.0, nan)`` is ``1.0`` but ``min(nan, 1.0)`` NaN.

    Examples
    --------
    >>> min_horizontal("a", col("b") * 2)
    <Expr min_horizontal(col('a'), (col('b') * lit(2)))>
    """
    return _expr(ops.MinHorizontal(_flatten("min_horizontal", exprs)))


def max_horizontal(*exprs: Any) -> "Expr":
    """Row-wise maximum; same null and NaN rules as :func:`min_horizontal`.

    Examples
    --------
    >>> max_horizontal("a", "b")
    <Expr max_horizontal(col('a'), col('b'))>
    """
    return _expr(ops.MaxHorizontal(_flatten("max_horizontal", exprs)))


def sum_horizontal(*exprs: Any, ignore_nulls: bool = True) -> "Expr":
    """Row-wise sum, added left to right.

    With ``ignore_nulls=True`` (polars' default) nulls count as zero, so an
    all-null row sums to ``0``; with ``False`` any null makes the sum null.
    Int64 wraps on overflow; Int64 and Float64 inputs give Float64.

    Examples
    --------
    >>> sum_horizontal("a", "b", ignore_nulls=False)
    <Expr sum_horizontal(col('a'), col('b'), ignore_nulls=False)>
    """
    return _expr(ops.SumHorizontal(_flatten("sum_horizontal", exprs), bool(ignore_nulls)))

