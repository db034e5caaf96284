"""docs/ops.md is generated from the IR registry and lists every op (issue 13, item 9)."""

from __future__ import annotations

from pathlib import Path

from skewless.ir.base import OPS
from skewless.ir.reference import op_entries, render_markdown

DOC = Path(__file__).resolve().parents[1] / "docs" / "ops.md"


def test_the_op_reference_is_up_to_date():
    assert DOC.read_text(encoding="utf-8") == render_markdown(), \
        "docs/ops.md is stale: run .venv/bin/python -m skewless.ir.reference > docs/ops.md"


def test_every_op_is_described_with_both_backends():
    entries = {e["name"]: e for e in op_entries()}
    assert set(entries) == set(OPS)
    text = DOC.read_text(encoding="utf-8")
    for name, e in entries.items():
        assert f"### `{name}`" in text, name
        assert e["description"], f"op {name} has no docstring to describe it"
        assert "MISSING" not in (e["polars"], e["python"]), f"op {name} has no rule and no declared gap"
