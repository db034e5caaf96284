"""Rule tables: one per backend, mapping an op class to the function that compiles it.

A rule is called as ``rule(compiler, node, args)``: the backend's
:class:`~skewless.backends.driver.Driver`, the IR node, and one operand per child
(:class:`OperandInfo` plus the compiled value). A backend may also declare that
it cannot match an op (:meth:`RuleTable.gap`, like ibis' ``notimpl``): a feature
using it is refused when it is defined, with the backend's reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..dtypes import DataType, Field
from ..ir.base import Literal, Node


class OperandInfo:
    """What both backends know about an operand besides its compiled value:
    its static ``field`` and its IR ``node`` (mixin for ``Arg`` and ``PArg``)."""

    __slots__ = ()
    field: Field
    node: Node

    @property
    def dtype(self) -> DataType:
        return self.field.dtype

    @property
    def nullable(self) -> bool:
        return self.field.nullable

    @property
    def is_literal(self) -> bool:
        return isinstance(self.node, Literal)


class RuleTable(dict):
    """``{op class: rule}`` with decorators to register rules, and the backend's declared gaps.

    Attributes
    ----------
    backend : str
        The backend's name, used in errors (``"polars"``, ``"python"``).
    gaps : dict
        ``{op class: reason}``: ops this backend declares it cannot match.
    """

    def __init__(self, backend: str):
        super().__init__()
        self.backend = backend
        self.gaps: dict[type[Node], str] = {}

    def register(self, *ops: type[Node]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
            for op in ops:
                if op in self or op in self.gaps:
                    raise RuntimeError(f"{self.backend}: a rule or gap for {op.__name__} is already registered")
                self[op] = fn
            return fn

        return deco

    def gap(self, op: type[Node], reason: str) -> None:
        """Declare that this backend cannot match ``op`` (``reason``: why, shown to the user)."""
        if op in self or op in self.gaps:
            raise RuntimeError(f"{self.backend}: a rule or gap for {op.__name__} is already registered")
        if len(reason) < 20:
            raise RuntimeError(f"{self.backend}: the gap for {op.__name__} needs a reason a user can act on")
        self.gaps[op] = reason
