"""Definition-time check that every op of a feature has a rule in every backend."""

from __future__ import annotations

from .errors import DefinitionError
from .ir.base import Column, Literal, Node, render, walk


def backends() -> dict[str, dict[type, object]]:
    # Importing the rule tables does not import polars (see backends/polars/lazy.py).
    from .backends.polars.rules import RULES as polars_rules
    from .backends.python.rules import RULES as python_rules

    return {"polars": polars_rules, "python": python_rules}


def check_supported(feature: str, node: Node) -> None:
    tables = backends()
    for n in walk(node):
        if isinstance(n, (Column, Literal)):
            continue  # leaves are handled by each compiler itself
        for backend, rules in tables.items():
            if type(n) not in rules:
                raise DefinitionError(
                    f"op {type(n).__name__} has no rule in the {backend} backend", feature=feature, expr=render(n)
                )
