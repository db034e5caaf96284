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


def date_to_str(days: int) -> str:
    """Polars' Date -> String of a day count since 1970-01-01: ISO ``YYYY-MM-DD`` (``0001-01-01``)."""
    from .temporal import civil

    d = civil(days)
    return f"{year_text(d.year)}-{d.month:02d}-{d.day:02d}"


def year_text(year: int) -> str:
    """A year as polars (chrono) writes it: 4 digits within 0-9999 (``0000``), else signed (``-0109``,
    ``+11095``)."""
    return f"{year:04d}" if 0 <= year <= 9999 else f"{year:+05d}"


def offset_text(offset_s: int, sep: str = ":") -> str:
    """A UTC offset as polars (chrono) writes it, ``+HH:MM`` (``sep`` between hours and minutes): a
    local-mean-time offset's seconds are ROUNDED to the nearest minute, half away from zero
    (``-03:30:52`` is ``-03:31``, ``-05:46:30`` is ``-05:47``, ``-04:56:02`` is ``-04:56``; measured on every
    zone's offsets with seconds before 1900: 2,520 of 2,520)."""
    minutes = (abs(offset_s) + 30) // 60
    return f"{'-' if offset_s < 0 else '+'}{minutes // 60:02d}{sep}{minutes % 60:02d}"


def datetime_to_str(value: int, unit: str, key: str | None) -> str:
    """Polars' Datetime -> String (measured on polars 2.1) of a count of ``unit`` since the epoch (UTC).

    ``YYYY-MM-DD HH:MM:SS.ffffff`` (3 fractional digits for ``ms``) of the wall clock, plus, in a zone,
    its offset as :func:`offset_text` writes it (``-03:30:52`` is ``-03:31``), and the year as :func:`year_text` (``0000``, ``-0109``, ``+11095``) as polars does.
    """
    from .temporal import UNITS_PER_SECOND, civil, local_value

    per_second = UNITS_PER_SECOND[unit]
    local = local_value(value, unit, key)
    days, rest = divmod(local, 86_400 * per_second)
    seconds, frac = divmod(rest, per_second)
    d = civil(days)
    digits = 6 if unit == "us" else 3
    text = (f"{year_text(d.year)}-{d.month:02d}-{d.day:02d} {seconds // 3600:02d}:{seconds // 60 % 60:02d}:"
            f"{seconds % 60:02d}.{frac:0{digits}d}")
    if key is None:
        return text
    return text + offset_text((local - value) // per_second)


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
