"""Casts with polars' exact rules (see :class:`skewless.ir.core.Cast`)."""

from __future__ import annotations

import re

from ..errors import InvalidOperationError
from .arith import INT64_MAX, INT64_MIN

_INT_RE = re.compile(r"[+-]?[0-9]+")
# Rust's f64 grammar: optional sign, digits with optional point (".5", "5." allowed),
# optional exponent; or inf / infinity / nan in any case. No spaces, no underscores.
_FLOAT_RE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?:inf|infinity|nan)", re.I)
_TWO63 = 9223372036854775808.0


def _fail(value: object, dtype: str) -> InvalidOperationError:
    return InvalidOperationError(f"conversion from `{type(value).__name__}` to `{dtype}` failed for value {value!r}")


def str_to_int(value: str) -> int | None:
    """Polars' ``str -> i64``: ASCII digits with an optional sign; None when malformed or out of range."""
    # Fast path: up to 18 ASCII digits always fit in Int64 (``isdigit`` alone would also
    # accept other scripts' digits and superscripts, which polars refuses).
    if len(value) < 19 and value.isascii() and value.isdigit():
        return int(value)
    if not _INT_RE.fullmatch(value) or not value.isascii():
        return None
    out = int(value)
    return out if INT64_MIN <= out <= INT64_MAX else None


def str_to_int_strict(value: str) -> int:
    out = str_to_int(value)
    if out is None:
        raise _fail(value, "i64")
    return out


def str_to_float(value: str) -> float | None:
    if not value.isascii() or not _FLOAT_RE.fullmatch(value):
        return None
    return float(value)


def str_to_float_strict(value: str) -> float:
    out = str_to_float(value)
    if out is None:
        raise _fail(value, "f64")
    return out


def float_to_int(value: float) -> int | None:
    """Truncate toward zero; None for NaN, ±inf and values outside Int64."""
    if value != value or not -_TWO63 <= value < _TWO63:
        return None
    return int(value)


def float_to_int_strict(value: float) -> int:
    out = float_to_int(value)
    if out is None:
        raise _fail(value, "i64")
    return out


def float_to_str(value: float) -> str:
    """Polars' float formatting (measured on polars 2.1).

    Shortest round-trip digits like ``repr``, with three differences: NaN is
    ``"NaN"``; the exponent has no zero padding and always a sign (``1e-7``,
    ``1e+16``); and values whose decimal exponent is -5 are written in full
    (``0.00001``, ``0.000015000000000000002``) where ``repr`` switches to
    scientific notation. So scientific notation is used exactly when the
    decimal exponent is below -5 or at least 16.
    """
    if value != value:
        return "NaN"
    text = repr(value)
    if "e" not in text:
        return text
    mantissa, exp = text.split("e")
    exponent = int(exp)
    if exponent == -5:
        sign = "-" if mantissa.startswith("-") else ""
        return f"{sign}0.0000{mantissa.lstrip('-').replace('.', '')}"
    return f"{mantissa}e{'-' if exponent < 0 else '+'}{abs(exponent)}"
