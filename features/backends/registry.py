"""Rule tables: one per backend, mapping an op class to the function that compiles it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..ir.base import Node


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
