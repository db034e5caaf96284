"""Rule tables: one per backend, mapping an op class to the function that compiles it."""

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
    """``{op class: rule}`` with decorators to register rules."""

    def __init__(self, backend: str):
        super().__init__()
        self.backend = backend

    def register(self, *ops: type[Node]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
            for op in ops:
                if op in self:
                    raise RuntimeError(f"{self.backend}: a rule for {op.__name__} is already registered")
                self[op] = fn
            return fn

        return deco
