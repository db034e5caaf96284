"""Simplifications that polars applies on some frame sizes only, applied by both backends always."""

from __future__ import annotations

from ..ir import core as ops


def _is_zero_literal(arg) -> bool:
    v = arg.node.value if arg.is_literal else None
    return type(v) in (int, float) and v == 0


def zero_literal_shortcut(node, a, b):
    """Polars drops a literal ±0 term on frames of 2+ rows (but not on one-row frames):
    ``x + 0.0`` is ``x`` (keeping ``-0.0``) and ``0.0 - x`` is ``-x``. Both runtimes emit
    that simplification explicitly so the result does not depend on frame size.
    Returns ``(operand to keep, negate?)`` or None. Used by both backends."""
    if isinstance(node, ops.Add):
        if _is_zero_literal(b):
            return a, False
        if _is_zero_literal(a):
            return b, False
    elif isinstance(node, ops.Sub):
        if _is_zero_literal(b):
            return a, False
        if _is_zero_literal(a):
            return b, True
    return None
