"""Integer value ranges of IR nodes, so that codegen can omit Int64 overflow checks.

Polars' Int64 arithmetic wraps on overflow, so the generated code follows each
``+``, ``-``, ``*`` with ``if not MIN <= v <= MAX: v = wrap64(v)``. Most of
these never fire: ``hhmm // 100 * 60 + hhmm % 100`` or ``359 - ordinal_day``
cannot leave Int64 whatever the input. This module infers, per node, a closed
interval ``(lo, hi)`` containing every non-null value the *generated code*
computes for it, and a rule omits its check when the unwrapped result's
interval provably fits in Int64.

Soundness rules:

* Only the ops listed in :data:`_RULES` have an interval; any other node is
  unknown (``None``) and the checks that depend on it stay.
* An Int64 input column spans all of Int64: that is its contract (the serving
  schema refuses ints outside it, and a polars frame cannot hold one).
* The interval describes the generated code (Python's floor ``//`` and ``%``),
  which the parity suite proves equal to polars.
* Null is not a value: a rule's interval covers the non-null results only,
  which is all an overflow check looks at.
"""

from __future__ import annotations

from typing import Callable, Mapping, Optional

from ...dtypes import Boolean, Field, Int64
from ...ir import core, numeric, temporal
from ...ir.base import INT64_MAX, INT64_MIN, Column, Literal, Node

__all__ = ["Interval", "INT64", "ValueRanges", "fits_int64"]

Interval = tuple[int, int]
MaybeInterval = Optional[Interval]
#: Every Int64 value.
INT64: Interval = (INT64_MIN, INT64_MAX)


def fits_int64(iv: MaybeInterval) -> bool:
    """True when every value of ``iv`` is an Int64 (no wrap can happen)."""
    return iv is not None and INT64_MIN <= iv[0] and iv[1] <= INT64_MAX


def _hull(ivs: list[MaybeInterval]) -> MaybeInterval:
    if not ivs or any(iv is None for iv in ivs):
        return None
    return min(iv[0] for iv in ivs), max(iv[1] for iv in ivs)  # type: ignore[index]


def _int_literal(node: Node) -> int | None:
    """The value of an integer literal (not a bool, not null), else None."""
    if isinstance(node, Literal) and type(node.value) is int:
        return node.value
    return None


# A rule maps (node, operand intervals) to the interval of the node's *unwrapped* result
# (what Python computes before any wrap64), or None when it does not know.
Rule = Callable[[Node, list[MaybeInterval]], MaybeInterval]
_RULES: dict[type, Rule] = {}


def _rule(*classes: type) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        for cls in classes:
            _RULES[cls] = fn
        return fn

    return register


@_rule(core.Add)
def _add(node, r):
    a, b = r
    return None if a is None or b is None else (a[0] + b[0], a[1] + b[1])


@_rule(core.Sub)
def _sub(node, r):
    a, b = r
    return None if a is None or b is None else (a[0] - b[1], a[1] - b[0])


@_rule(core.Mul)
def _mul(node, r):
    a, b = r
    if a is None or b is None:
        return None
    products = [x * y for x in a for y in b]  # extremes of a bilinear function are at the corners
    return min(products), max(products)


@_rule(core.FloorDiv)
def _floordiv(node, r):
    a = r[0]
    c = _int_literal(node.right)
    if a is None or c is None or c == 0:
        return None
    # x // c is monotonic in x (non-decreasing for c > 0, non-increasing for c < 0).
    lo, hi = a[0] // c, a[1] // c
    return (lo, hi) if c > 0 else (hi, lo)


@_rule(core.Mod)
def _mod(node, r):
    a = r[0]
    c = _int_literal(node.right)
    if c is None or c == 0:
        return None
    # Python's % takes the divisor's sign: [0, c - 1] or [c + 1, 0]; x itself when already there.
    span = (0, c - 1) if c > 0 else (c + 1, 0)
    if a is not None and span[0] <= a[0] and a[1] <= span[1]:
        return a
    return span


@_rule(core.Neg)
def _neg(node, r):
    a = r[0]
    return None if a is None else (-a[1], -a[0])


@_rule(numeric.Abs)
def _abs(node, r):
    a = r[0]
    if a is None:
        return None
    lo, hi = a
    if lo >= 0:
        return a
    if hi <= 0:
        return -hi, -lo
    return 0, max(-lo, hi)


@_rule(numeric.Sign)
def _sign(node, r):
    return (-1, 1) if r[0] is not None else None


@_rule(numeric.Clip)
def _clip(node, r):
    a, lo_r, hi_r = r
    if a is None:
        return None
    lower = _clip_bound(node, node.lower, lo_r)
    upper = _clip_bound(node, node.upper, hi_r)
    if lower is False or upper is False:
        return None
    # lower if x < lower, else upper if x > upper, else x.
    if all(b is None or b[0] == b[1] for b in (lower, upper)):
        # Literal (or absent) bounds: exact. x stays only within [L, U] (never when L > U).
        lo_b = lower[0] if lower is not None else a[0]
        hi_b = upper[0] if upper is not None else a[1]
        parts: list[MaybeInterval] = [(lo_b, lo_b)] if a[0] < lo_b else []
        if a[1] > hi_b:
            parts.append((hi_b, hi_b))
        middle = (max(a[0], lo_b), min(a[1], hi_b))
        if middle[0] <= middle[1]:
            parts.append(middle)
        return _hull(parts)
    # Column bounds: the result is one of the three, so the hull of their intervals holds it.
    return _hull([a, *(b for b in (lower, upper) if b is not None)])


def _clip_bound(node, bound: Node, iv: MaybeInterval) -> MaybeInterval | bool:
    """A bound's interval; None when there is no bound (null); False when unknown."""
    if isinstance(bound, Literal):
        if bound.value is None:
            return None
        if isinstance(bound.value, float):
            v = node.int_bound(bound)  # polars truncates a float bound on an Int64 column
            return (v, v) if v is not None else None
    return iv if iv is not None else False


@_rule(core.FillNull, core.Coalesce, numeric.MinHorizontal, numeric.MaxHorizontal)
def _one_of(node, r):
    # The result is one of the operands' values.
    return _hull(list(r))


@_rule(core.When)
def _when(node, r):
    return _hull([*r[1:-1:2], r[-1]])  # the values, not the conditions


@_rule(core.Cast)
def _cast(node, r):
    return r[0]  # Int64 -> Int64 or Boolean -> Int64 (0 or 1); other sources have no interval


_DT_FIELDS: dict[type, Interval] = {
    temporal.DtMonth: (1, 12),
    temporal.DtDay: (1, 31),
    temporal.DtHour: (0, 23),
    temporal.DtMinute: (0, 59),
    temporal.DtSecond: (0, 59),
    temporal.DtMillisecond: (0, 999),
    temporal.DtMicrosecond: (0, 999_999),
    temporal.DtWeekday: (1, 7),
    temporal.DtOrdinalDay: (1, 366),
    temporal.DtWeek: (1, 53),
    temporal.DtQuarter: (1, 4),
    # DtYear: no interval (a zoned wall clock reaches years 0 and 10000; kept unknown).
}
for _cls, _iv in _DT_FIELDS.items():
    _RULES[_cls] = (lambda iv: lambda node, r: iv)(_iv)


class ValueRanges:
    """Intervals of the Int64 (and Boolean, as 0/1) nodes of one feature set, memoised."""

    def __init__(self, fields: Mapping[Node, Field]):
        self.fields = fields
        self._raw: dict[Node, MaybeInterval] = {}

    def raw(self, node: Node) -> MaybeInterval:
        """Interval of the unwrapped result (before a wrap to Int64), or None."""
        if node in self._raw:
            return self._raw[node]
        out = self._compute(node)
        self._raw[node] = out
        return out

    def of(self, node: Node) -> MaybeInterval:
        """Interval of the node's value as the generated code holds it (after any wrap)."""
        raw = self.raw(node)
        if raw is None or fits_int64(raw):
            return raw
        return INT64  # the rule wraps it back into Int64

    def may_overflow(self, node: Node) -> bool:
        """False only when the node's unwrapped result provably fits in Int64."""
        return not fits_int64(self.raw(node))

    def _compute(self, node: Node) -> MaybeInterval:
        dtype = self.fields[node].dtype if node in self.fields else None
        if isinstance(dtype, Boolean):
            return (0, 1)
        if not isinstance(dtype, Int64):
            return None
        if isinstance(node, Literal):
            v = node.value
            return (int(v), int(v)) if type(v) in (int, bool) else None
        if isinstance(node, Column):
            return INT64
        rule = _RULES.get(type(node))
        if rule is None:
            return None
        return rule(node, [self.of(c) for c in node.children()])
