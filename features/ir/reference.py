"""The op reference, generated from the IR registry: ``python -m skewless.ir.reference > docs/ops.md``.

One entry per op in :data:`skewless.ir.base.OPS`: its name, its family (the IR module), what it
computes and the polars behaviour it copies (the class docstring, where each op's null/NaN and edge
rules are written down), whether it is a fitted op, and, per backend, a rule or a declared gap with
its reason. ``tests/test_op_reference.py`` fails when ``docs/ops.md`` is stale or an op has no
description.
"""

from __future__ import annotations

import inspect
import re

__all__ = ["op_entries", "render_markdown"]

_FAMILIES = {
    "base": "leaves", "core": "core (arithmetic, comparison, logic, conditionals, casts)", "numeric": "numeric",
    "strings": "strings", "temporal": "temporal", "hashing": "hashing", "fitted": "fitted (state learned by fit)",
    "applied": "fitted state applied (what fitted ops lower to)",
    "udf": "udf (a user's Python function: the escape hatch)",
}


def _description(cls: type) -> str:
    """The op's own docstring, or the nearest base class's one (dataclasses write ``Name(field, ...)``)."""
    for klass in cls.__mro__:
        doc = klass.__dict__.get("__doc__")
        if doc and not re.match(rf"^{klass.__name__}\(", doc.strip()):
            return inspect.cleandoc(doc)
    return ""


def op_entries() -> list[dict[str, str]]:
    """``[{"name", "family", "description", "polars", "python"}, ...]`` in registry order, grouped by family."""
    from ..backends.polars.table import RULES as POLARS
    from ..backends.python.table import RULES as PYTHON
    from . import applied, core, fitted, hashing, numeric, strings, temporal, udf  # noqa: F401  (register every op)
    from .base import OPS

    # the backends' rule modules register their rules on import
    from ..backends.polars import rules as _polars  # noqa: F401
    from ..backends.python import rules as _python  # noqa: F401

    def backend(table: dict, cls: type) -> str:
        if cls.__module__.endswith(".fitted"):
            return "lowered by `fit` to plain and applied ops (compiling it unfitted is refused)"
        if cls.__module__.endswith(".base"):
            return "built into the compiler driver"
        if cls in table.gaps:
            return "declared gap: " + " ".join(table.gaps[cls].split())
        if cls in table:
            return "rule"
        return "MISSING"

    out = []
    for name, cls in OPS.items():
        family = cls.__module__.rsplit(".", 1)[-1]
        out.append({"name": name, "family": _FAMILIES.get(family, family), "description": _description(cls),
                    "polars": backend(POLARS, cls), "python": backend(PYTHON, cls)})
    order = list(_FAMILIES.values())
    return sorted(out, key=lambda e: (order.index(e["family"]) if e["family"] in order else len(order), ))


def render_markdown() -> str:
    """``docs/ops.md``."""
    entries = op_entries()
    lines = ["# Op reference", "",
             "Generated from the IR registry (`skewless.ir.base.OPS`) by `python -m skewless.ir.reference > "
             "docs/ops.md`; `tests/test_op_reference.py` fails when this file is stale. Every op has parity cases "
             "on both runtimes with edge values (`parity_tests/cases/`); floats compare bitwise.", "",
             f"{len(entries)} ops.", ""]
    family = None
    for e in entries:
        if e["family"] != family:
            family = e["family"]
            lines += [f"## {family}", ""]
        lines += [f"### `{e['name']}`", ""]
        lines += [e["description"] or "(no description)", ""]
        lines += [f"- polars backend: {e['polars']}", f"- per-request (python) backend: {e['python']}", ""]
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(render_markdown(), end="")
