"""The compiler driver both backends share: one visitor over a feature's IR.

A backend is a rule table (:class:`~skewless.backends.registry.RuleTable`) plus a
:class:`Driver` subclass saying how leaves compile, how an operand is presented
to a rule and how a rule's result is used. Everything else is here, once: the
memo (a node shared by several features or operands compiles once), the rule
lookup with its errors (no rule, or a gap the backend declared), and the
bottom-up order (operands before the op, in their order).

The polars backend (:class:`~skewless.backends.polars.compiler.PolarsCompiler`)
builds one expression per node; the python backend
(:class:`~skewless.backends.python.codegen.Emitter`) emits one statement per node
into the body of the generated function.
"""

from __future__ import annotations

from typing import Any, Callable, ClassVar, Mapping

from ..dtypes import Field
from ..errors import CompileError
from ..ir.base import Column, Literal, Node, render
from .registry import RuleTable

__all__ = ["Driver"]


class Driver:
    """Compiles IR nodes through a backend's rule table (subclasses set :attr:`rules`).

    Parameters
    ----------
    fields : mapping
        The inferred :class:`~skewless.dtypes.Field` of every node of the feature set.

    Attributes
    ----------
    feature : str or None
        The feature being compiled, named in errors.
    memo : dict
        Compiled value of every node seen so far.
    """

    rules: ClassVar[RuleTable]

    def __init__(self, fields: Mapping[Node, Field]):
        self.fields = fields
        self.memo: dict[Node, Any] = {}
        self.feature: str | None = None

    @property
    def backend(self) -> str:
        return self.rules.backend

    # --- the visitor ----------------------------------------------------------------
    def compile(self, node: Node) -> Any:
        """The backend's value of ``node`` (compiled once; operands first, in order)."""
        hit = self.memo.get(node)
        if hit is not None:
            return hit
        if isinstance(node, Column):
            out = self.compile_column(node)
        elif isinstance(node, Literal):
            out = self.compile_literal(node)
        else:
            out = self.compile_whole(node)
            if out is None:
                rule = self.rule(node)
                args = [self.operand(node, child, self.compile(child)) for child in node.children()]
                out = self.apply(rule, node, args)
        self.memo[node] = out
        return out

    def rule(self, node: Node) -> Callable[..., Any]:
        """The rule compiling ``node``; raises :class:`CompileError` naming the op, feature and backend."""
        op = type(node)
        rule = self.rules.get(op)
        if rule is not None:
            return rule
        where = f"feature {self.feature!r}, in {render(node)}"
        reason = self.rules.gaps.get(op)
        if reason is not None:
            raise CompileError(f"op {op.__name__} is a declared gap of the {self.backend} backend: {reason} ({where})")
        raise CompileError(f"op {op.__name__} has no {self.backend} rule ({where})")

    # --- what each backend says -------------------------------------------------------
    def compile_column(self, node: Column) -> Any:
        raise NotImplementedError

    def compile_literal(self, node: Literal) -> Any:
        raise NotImplementedError

    def compile_whole(self, node: Node) -> Any:
        """A backend may compile some nodes itself, operands included (the python backend computes
        ``when`` branches inside if/else blocks); None (the default): operands first, then the rule."""
        return None

    def operand(self, parent: Node, child: Node, value: Any) -> Any:
        """How the rule of ``parent`` sees its operand ``child`` compiled to ``value``."""
        raise NotImplementedError

    def apply(self, rule: Callable[..., Any], node: Node, args: list[Any]) -> Any:
        """Call ``rule`` for ``node``; the default returns the rule's result as the node's value."""
        return rule(self, node, args)
