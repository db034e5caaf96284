"""Definition-time check that every op of a feature can be compiled by every backend.

An op fails the check when a backend has no rule for it, or declares it as a gap
(:meth:`~skewless.backends.registry.RuleTable.gap`): the error names the op, the
feature and the backend, with the backend's reason.
"""

from __future__ import annotations

from .errors import DefinitionError
from .ir.base import Column, Literal, Node, render, walk


def backends() -> dict:
    """``{backend name: RuleTable}`` of every backend a feature set compiles to."""
    # Importing the rule tables does not import polars (see backends/polars/lazy.py).
    from .backends.polars.rules import RULES as polars_rules
    from .backends.python.rules import RULES as python_rules

    return {"polars": polars_rules, "python": python_rules}


def check_supported(feature: str, node: Node) -> None:
    tables = backends()
    for n in walk(node):
        if isinstance(n, (Column, Literal)):
            continue  # leaves are handled by each compiler itself
        op = type(n)
        for backend, rules in tables.items():
            reason = rules.gaps.get(op)
            if reason is not None:
                raise DefinitionError(
                    f"op {op.__name__} is not supported by the {backend} backend (a declared gap): {reason}",
                    feature=feature, expr=render(n),
                )
            if op not in rules:
                raise DefinitionError(
                    f"op {op.__name__} has no rule in the {backend} backend", feature=feature, expr=render(n)
                )
