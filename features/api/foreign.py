"""polars (and other dataframe-library) objects where a skewless expression belongs.

skewless mirrors polars' names, so ``pl.col("x") * 2`` in a feature set is the commonest slip. It is
never translated: a polars expression has no IR, no declared dtype and no per-request code, and a
faithful translation of every polars expression is not possible (``map_elements``, windows, ...).
Instead it fails when the feature set is defined, naming the feature and the skewless spelling.
Detection reads the object's module name only, so this costs nothing and never imports polars.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["is_foreign", "foreign_message"]

_LIBRARIES = ("polars", "pandas", "pyarrow")
_SPELLINGS = [
    (re.compile(r"\bpl\.col\b|\bcol\("), "pl.col(...) -> col(...)"),
    (re.compile(r"\bpl\.lit\b"), "pl.lit(...) -> lit(...)"),
    (re.compile(r"\bpl\.when\b"), "pl.when(...).then(...).otherwise(...) -> when(...).then(...).otherwise(...)"),
]


def is_foreign(value: Any) -> bool:
    """True for an object of polars, pandas or pyarrow (an expression, a series, a dtype, a scalar)."""
    module = type(value).__module__ or ""
    return module.partition(".")[0] in _LIBRARIES


def foreign_message(value: Any) -> str:
    """What the object is and how skewless spells it."""
    kind = type(value).__name__
    library = (type(value).__module__ or "").partition(".")[0]
    if library == "polars" and kind == "Expr":
        try:
            text = str(value)
        except Exception:  # pragma: no cover - a polars repr that fails
            text = "..."
        return (f"a polars expression ({_short(text)}) cannot be a feature or an operand: skewless compiles its own "
                f"expressions to both runtimes; write it with skewless' polars-mirroring API: "
                f"from skewless import col, lit, when (pl.col('x') * 2 -> col('x') * 2, pl.when(...) -> when(...))")
    if library == "polars" and kind in ("Series", "DataFrame", "LazyFrame"):
        return f"a polars {kind} cannot be an expression; features are expressions over declared inputs (col('x'))"
    if "DataType" in [c.__name__ for c in type(value).__mro__] or kind in ("Int64", "Float64", "String", "Boolean"):
        return f"a polars dtype ({value!r}) is not a skewless dtype; use skewless' Int64, Float64, String, ... "
    return (f"a {library} {kind} ({_short(repr(value))}) cannot be used in a skewless expression; pass a Python value "
            f"(int, float, str, bool, datetime, date, timedelta) or lit(value, dtype)")


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
