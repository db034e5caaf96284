"""Snapshot tests: the generated per-request source of the demo feature sets, committed for review.

A change to code generation shows up as a diff of ``tests/snapshots/codegen/*.py.txt``
in the commit that makes it. After an intended change, regenerate them with

    .venv/bin/python tests/generated_sources.py --update-snapshots

and review the diff before committing.
"""

from __future__ import annotations

import difflib

import pytest

import generated_sources

REGENERATE = ".venv/bin/python tests/generated_sources.py --update-snapshots"
SOURCES = generated_sources.demo_sources()


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_generated_source_matches_snapshot(name):
    path = generated_sources.snapshot_path(name)
    assert path.exists(), f"no snapshot for demo set {name!r}: run {REGENERATE}"
    expected = path.read_text(encoding="utf-8")
    actual = SOURCES[name]
    if actual != expected:
        diff = "\n".join(difflib.unified_diff(expected.splitlines(), actual.splitlines(), f"{path.name} (committed)",
                                              "generated now", lineterm=""))
        raise AssertionError(f"the generated source of {name!r} changed; if intended, run {REGENERATE}\n{diff}")


def test_no_stale_snapshots():
    names = {p.name.removesuffix(".py.txt") for p in generated_sources.SNAPSHOTS.glob("*.py.txt")}
    assert names == set(SOURCES), f"snapshots without a demo set: {sorted(names - set(SOURCES))}"
