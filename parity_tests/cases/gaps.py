"""Declared backend gaps: ops a backend says it cannot match (``RuleTable.gap``, like ibis' ``notimpl``).

A feature using such an op is refused when it is defined, so the op can have no
parity case. Each gap is listed here, explicitly, with an example expression:
``test_declared_gaps_are_listed`` fails when this list and the backends' rule
tables disagree, and ``test_a_declared_gap_is_refused_at_definition`` defines
each example and checks that the error names the op, the feature and the backend.
Remove an entry (and add a parity case) when the backend learns the op.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from skewless import String, col

__all__ = ["Gap", "DECLARED_GAPS"]


@dataclass(frozen=True)
class Gap:
    """One declared gap: the op (IR class name), the backends that declare it, an example feature."""

    op: str
    backends: frozenset[str]
    inputs: dict[str, Any]
    example: Callable[[], Any]


DECLARED_GAPS: tuple[Gap, ...] = (
    # polars reverses by grapheme cluster; the per-request runtime has no grapheme segmentation.
    Gap("StrReverse", frozenset({"python"}), {"s": String}, lambda: col("s").str.reverse()),
)
