"""The shared parity cases. Each category module registers its cases with :func:`case`.

A case is a small feature set plus rows. By default the rows are the cross
product of each input's edge values (see :mod:`parity_tests.edges`); ``rows``
adds hand-picked ones. Every op in :data:`skewless.ir.base.OPS` must appear in
at least one case (``test_every_op_has_a_parity_case``): the ops a case covers
are read from its IR, so coverage cannot rot. The only exceptions are the
declared backend gaps, listed in :mod:`parity_tests.cases.gaps`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from skewless import FeatureSet, Input
from skewless.dtypes import to_dtype

from ..edges import edge_rows

__all__ = ["Case", "case", "all_cases"]

CATEGORIES = ("core", "numeric", "strings", "temporal", "hashing", "fitted", "udf")


@dataclass
class Case:
    """One parity case.

    Attributes
    ----------
    name : unique id, ``category.what``
    inputs : ``{name: Input(...) or dtype}``; inputs are nullable unless given as ``Input(..., nullable=False)``
    features : ``{name: Expr}``
    rows : extra rows appended to the generated edge rows
    edges : whether to generate the edge-value cross product (default True)
    tolerances : ``{feature: (ulps, reason)}``: documented float tolerance, bitwise when absent
    expect_error : the batch runtime raises on these rows (strict casts); parity then
        means the per-request function raises on some row too
    single_row_frames : also run one-row frames through polars (slower; on by default for
        cases under 400 rows)
    fit_on : training rows for cases with fitted ops: ``feature_set()`` is then the lowered
        (fitted) feature set, checked on ``all_rows()``; ``definition()`` is the one with fitted ops
    label : the label column of ``fit_on`` (for ``target_encode``)
    """

    name: str
    inputs: dict[str, Any]
    features: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)
    edges: bool = True
    tolerances: dict[str, tuple[int, str]] = field(default_factory=dict)
    expect_error: bool = False
    edge_limit: int = 3000
    fit_on: list[dict[str, Any]] | None = None
    label: str | None = None

    def definition(self) -> FeatureSet:
        inputs = {k: v if isinstance(v, Input) else Input(v, nullable=True) for k, v in self.inputs.items()}
        return FeatureSet(self.name.replace(".", "_"), inputs, self.features)

    def feature_set(self) -> FeatureSet:
        fs = self.definition()
        if self.fit_on is None:
            return fs
        from skewless.fitting import fit

        return fit(fs, self.fit_on, label=self.label).lowered

    def all_rows(self) -> list[dict[str, Any]]:
        fs_inputs = {
            k: (to_dtype(v.dtype), v.nullable) if isinstance(v, Input) else (to_dtype(v), True)
            for k, v in self.inputs.items()
        }
        rows = edge_rows(fs_inputs, limit=self.edge_limit) if self.edges else []
        return rows + [dict(r) for r in self.rows]


_CASES: dict[str, Case] = {}


def case(name: str, inputs: dict[str, Any], features: dict[str, Any], **kwargs: Any) -> Case:
    """Register a parity case (names must be unique)."""
    if name in _CASES:
        raise ValueError(f"duplicate parity case {name!r}")
    c = Case(name, inputs, features, **kwargs)
    _CASES[name] = c
    return c


def all_cases() -> list[Case]:
    for category in CATEGORIES:
        importlib.import_module(f"{__name__}.{category}")
    return list(_CASES.values())
