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
    Two literals (a constant, folded when the feature set is defined) are added by polars'
    scalar arithmetic, IEEE: ``lit(-0.0) + lit(0.0)`` is ``0.0`` on every frame size (measured;
    found by the differential fuzzer's mirror), so there is no shortcut then.
    Returns ``(operand to keep, negate?)`` or None. Used by both backends."""
    if a.is_literal and b.is_literal:
        return None
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


def sum_tree(terms: list, *, is_int: bool, add, constant):
    """``sum_horizontal`` in polars' order: a balanced tree, ``sum(t[:n//2]) + sum(t[n//2:])``.

    Measured on polars 2.1 (in memory, any frame size): the sum of 3 terms is ``t0 + (t1 + t2)``, of 5
    ``(t0 + t1) + (t2 + (t3 + t4))``; the streaming engine adds 5 or more terms in another order, so
    both runtimes spell the tree out with ``+``. ``terms`` holds ``("const", value)`` for a literal
    term (null literals already replaced by 0) and ``("expr", x)`` for the others; constant
    subtrees are added in Python (as polars adds scalars) and a constant ±0 next to a column is
    dropped (polars' scalar kernel returns the column: ``-0.0`` survives). ``add(a, b)`` and
    ``constant(v)`` build the backend's values. Returns ``("const", value)`` or ``("expr", x)``.
    """
    def wrap(v):
        return ((v + 2**63) % 2**64) - 2**63 if is_int else v

    def combine(left, right):
        (lk, lv), (rk, rv) = left, right
        if lk == "const" and rk == "const":
            return "const", wrap(lv + rv)
        if lk == "const" and lv == 0:
            return right
        if rk == "const" and rv == 0:
            return left
        a = constant(lv) if lk == "const" else lv
        b = constant(rv) if rk == "const" else rv
        return "expr", add(a, b)

    def tree(ts):
        if len(ts) == 1:
            return ts[0]
        m = len(ts) // 2
        return combine(tree(ts[:m]), tree(ts[m:]))

    return tree(terms)
