"""Run every shared parity case on both runtimes."""

from __future__ import annotations

import pytest

from skewless import DefinitionError, FeatureSet, Input
from skewless.compiler_checks import backends
from skewless.ir.base import OPS, walk
from skewless.parity import check_parity

from .cases import all_cases
from .cases.gaps import DECLARED_GAPS

CASES = all_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_parity_case(case):
    fs = case.feature_set()
    rows = case.all_rows()
    report = check_parity(
        fs,
        rows,
        single_row_frames=len(rows) <= 400,
        tolerances={k: ulps for k, (ulps, _reason) in case.tolerances.items()},
        expect_error=case.expect_error,
    )
    if case.expect_error:
        assert report.batch_error is not None, "the case expects polars to raise, but it did not"
    else:
        assert report.batch_error is None, report.batch_error
    assert report.ok, report.summary()


def test_every_op_has_a_parity_case():
    # Fitted ops appear only before lowering (definition()); the ops they lower to, after (feature_set()).
    covered = {type(n).__name__ for c in CASES
               for fs in ((c.definition(), c.feature_set()) if c.fit_on is not None else (c.feature_set(),))
               for f in fs.features.values() for n in walk(f.node)}
    gaps = {g.op for g in DECLARED_GAPS}  # refused at definition: no case can use them
    missing = sorted(set(OPS) - covered - gaps - {"Column", "Literal"})
    assert not missing, f"ops without a parity case: {missing}"


def test_declared_gaps_are_listed():
    declared: dict[str, set[str]] = {}
    for backend, table in backends().items():
        for op in table.gaps:
            declared.setdefault(op.__name__, set()).add(backend)
    listed = {g.op: set(g.backends) for g in DECLARED_GAPS}
    assert declared == listed, "parity_tests/cases/gaps.py must list exactly the gaps the backends declare"


@pytest.mark.parametrize("gap", DECLARED_GAPS, ids=[g.op for g in DECLARED_GAPS])
def test_a_declared_gap_is_refused_at_definition(gap):
    inputs = {k: Input(v, nullable=True) for k, v in gap.inputs.items()}
    with pytest.raises(DefinitionError) as info:
        FeatureSet("gap", inputs, {"uses_gap": gap.example()})
    message = str(info.value)
    assert gap.op in message and "'uses_gap'" in message and "declared gap" in message
    assert any(f"the {b} backend" in message for b in gap.backends), message


def test_tolerances_state_a_reason():
    for c in CASES:
        for feature, (ulps, reason) in c.tolerances.items():
            assert feature in c.features, (c.name, feature)
            assert ulps > 0 and len(reason) > 20, f"{c.name}.{feature}: a tolerance needs a written reason"
