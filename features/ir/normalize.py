"""Definition-time normalisation: scalar-valued sub-expressions become literals, always-null operands get a type.

Why. Polars treats every *scalar-valued* expression (one without a column:
``-lit(3.0)``, ``lit(3).cast(Float64)``, ``coalesce(lit(None), lit(2.0))``) as a
broadcast scalar on frames of two or more rows, and its kernels then do what
they do for literals: divide by multiplying with the reciprocal, drop a ``0``
term (``x + 0`` is ``x``, ``0 - x`` is ``-x``, so ``-0.0`` survives), pick a
specialised ``pow``. Rules that looked for a bare :class:`Literal` missed every
other scalar-valued operand. Folding each such sub-expression into the literal it
evaluates to, once, when the feature set is defined, makes every one of those
rules see a literal, on both runtimes and every frame size.

Always-null operands. A null literal (or a sub-expression of the ``Null`` dtype)
where an op propagates nulls makes the whole op null, so the op is folded to a
typed null literal; where it does not, an untyped ``lit(None)`` is
given a Boolean dtype where polars raises on a ``Null``-typed operand: a ``when``
condition (``when(lit(None))``) and ``&``/``|`` (``lit(None) & lit(None)``); a typed
null there has the meaning skewless documents (a null condition counts as False,
Kleene logic) on both runtimes. Elsewhere (``then(None)``, ``fill_null``,
``coalesce``, ``clip`` bounds, ``eq_missing``) polars gives the untyped null that
meaning itself, and the IR (and the fingerprint) stay as written.

A constant that fails to evaluate (``lit("abc").cast(Int64)``) is refused here,
naming the sub-expression, instead of failing on every batch and every request.
"""

from __future__ import annotations

from typing import Callable

from ..dtypes import Boolean, DataType, Field, Float64, Null, String
from ..errors import ExprTypeError, SkewlessError
from . import core
from .base import Column, Literal, Node, render

__all__ = ["normalize", "is_constant"]

#: ``evaluate(node, fields) -> value``: the per-request backend's evaluation of a constant sub-expression.
Evaluator = Callable[[Node, dict], object]


#: ops that are null when their first operand (the receiver) is, whatever the others are
_NULL_RECEIVER = ("FillNan", "Clip", "IsBetween")


def is_constant(node: Node) -> bool:
    """True when ``node`` reads no column (and holds no fitted op, whose value is learnt later)."""
    from .fitted import FittedOp

    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, (Column, FittedOp)):
            return False
        stack.extend(n.children())
    return True


def _null_operand(node: Node, fields: dict[Node, Field]) -> bool:
    return (isinstance(node, Literal) and node.value is None) or isinstance(fields[node].dtype, Null)


def _typed_null_children(node: Node, fields: dict[Node, Field]) -> Node:
    """Give each untyped ``lit(None)`` operand of a non-propagating op the dtype the op reads."""
    children = node.children()
    if not any(isinstance(fields[c].dtype, Null) for c in children):
        return node

    def dtype_for(index: int) -> DataType | None:
        # Only where polars raises on a Null-typed operand; elsewhere (then/otherwise values,
        # fill_null, coalesce, clip bounds, eq_missing...) it gives untyped null its meaning.
        if isinstance(node, core.When):
            is_condition = index % 2 == 0 and index != len(children) - 1
            return Boolean() if is_condition else None
        if isinstance(node, core.Logical):
            return Boolean()
        return None

    index = iter(range(len(children)))

    def retype(child: Node) -> Node:
        i = next(index)
        if not isinstance(fields[child].dtype, Null):
            return child
        dtype = dtype_for(i)
        return child if dtype is None else Literal(None, dtype)

    return node.map_children(retype)


def _constant_conditions(node: core.When, field: Field, infer: Callable[[Node], Field]) -> Node:
    """``when`` with literal conditions: a False or null one drops its branch, a True one ends the chain
    (polars simplifies them too, and then returns a one-row column it cannot broadcast)."""
    ops = node.operands
    kept: list[Node] = []
    default = ops[-1]
    for cond, value in zip(ops[0:-1:2], ops[1:-1:2]):
        if isinstance(cond, Literal):
            if cond.value is True:
                default = value
                break
            continue  # False or null: this branch is never taken
        kept += [cond, value]
    if kept:
        out: Node = core.When((*kept, default))
    else:
        out = default
        have = infer(out).dtype
        if isinstance(out, Literal) and out.value is None:
            out = Literal(None, field.dtype)
        elif have != field.dtype:
            out = core.Cast(out, field.dtype)
    infer(out)
    return out


def normalize(node: Node, fields: dict[Node, Field], infer: Callable[[Node], Field], evaluate: Evaluator) -> Node:
    """The normalised ``node`` (see the module docstring); ``fields`` is the typing memo, extended by ``infer``."""
    memo: dict[Node, Node] = {}

    def visit(n: Node) -> Node:
        hit = memo.get(n)
        if hit is not None:
            return hit
        if isinstance(n, (Column, Literal)):
            out = n
        elif type(n).__name__ == "IsBetween":
            out = _is_between(n)
        else:
            out = _rewrite(n.map_children(visit))
        memo[n] = out
        return out

    def _is_between(n: Node) -> Node:
        # Whether polars gives null on every row depends on the bounds as written (a null literal
        # of another dtype, or an untyped one), not on what they fold to: a null-valued bound such
        # as coalesce(lit(None)) follows Kleene logic. A bound folded to null gets the value's dtype.
        if n.all_null([fields[c] for c in n.children()]):
            out: Node = Literal(None, Boolean())
            infer(out)
            return out
        new = n.map_children(visit)
        value = fields[new.children()[0]].dtype
        if not isinstance(value, Null):
            new = new.map_children(lambda c: Literal(None, value)
                                   if isinstance(c, Literal) and c.value is None and c.dtype != value else c)
        return _rewrite(new)

    def _rewrite(n: Node) -> Node:
        field = infer(n)
        if isinstance(field.dtype, Null):
            return Literal(None, Null())
        children = n.children()
        if isinstance(n, core.When) and any(isinstance(c, Literal) for c in children[0:-1:2]):
            return _constant_conditions(n, field, infer)
        if isinstance(n, (core.Coalesce, core.FillNull)):
            # operands after the first one that is never null are never read; polars drops them,
            # and a coalesce left with a literal is a scalar (one row if nothing else reads a column)
            first = next((i for i, c in enumerate(children) if not fields[c].nullable), None)
            if first is not None and first < len(children) - 1:
                kept = children[: first + 1]
                out = kept[0] if len(kept) == 1 else core.Coalesce(tuple(kept))
                if fields[out].dtype != field.dtype if out in fields else infer(out).dtype != field.dtype:
                    out = core.Cast(out, field.dtype)
                infer(out)
                return _rewrite(out) if out is not n and not isinstance(out, (Column, Literal)) else out
        if type(n).__name__ == "FillNan" and not isinstance(fields[children[0]].dtype, Float64):
            # an integer has no NaN: polars returns the operand itself (a scalar if it is one), cast
            # to the supertype with the fill value
            out = children[0]
            if fields[out].dtype != field.dtype and not isinstance(field.dtype, Null):
                out = core.Cast(out, field.dtype)
                infer(out)
            return out
        if (n.propagates_nulls and any(_null_operand(c, fields) for c in children)) or (
                type(n).__name__ in _NULL_RECEIVER and _null_operand(children[0], fields)) or (
                type(n).__name__ == "SumHorizontal" and not n.ignore_nulls
                and any(_null_operand(c, fields) for c in children)):
            out = Literal(None, field.dtype)
            infer(out)
            return out
        if is_constant(n) and len(n.output_columns("_")) == 1:  # (one_hot's columns stay an op)
            try:
                value = evaluate(n, fields)
            except SkewlessError as exc:
                raise ExprTypeError(f"the constant {render(n)} cannot be evaluated: {exc}") from None
            except (OverflowError, ValueError, ArithmeticError):
                return n  # not representable as a Python literal: left to the backends
            try:
                out: Node = Literal(value, field.dtype)
            except ExprTypeError:
                return n
            infer(out)
            return out
        out = _typed_null_children(n, fields)
        if out is not n:
            infer(out)
        return out

    return visit(node)
