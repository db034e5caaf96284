"""The differential fuzzer in CI: a fixed seed and a bounded budget (about a minute on 2 cores).

Longer runs: ``python -m parity_tests.fuzz --minutes 30 --seed 1 --seeds 2`` (see the README).
"""

from __future__ import annotations

import random

import pytest

from skewless import FeatureSet, col
from skewless.backends.python import rules as python_rules  # noqa: F401  (registration)
from skewless.backends.python.table import RULES as PY_RULES
from skewless.ir import numeric as nops

from .fuzz import check, coverage, report, run, shrink
from .fuzz.grammar import Generator, productions
from .fuzz.run import Finding
from .fuzz.schema import SCHEMA, random_rows

#: kinds that are never acceptable; "tzdb" (the two time-zone databases disagree) is reported, not failed
FAILING = ("mismatch", "crash", "mirror")


def test_fuzz_fixed_seed_finds_nothing_and_covers_every_op():
    stats = run(seed=12, feature_sets=2500)
    bad = [f for f in stats.distinct() if f.kind in FAILING]
    assert not bad, report(stats)
    cov = coverage(stats)
    assert not cov["missing_ops"], cov["missing_ops"]
    assert stats.accepted_sets > 2000 and stats.mirror_compared > 1000, report(stats)


def test_productions_are_read_from_the_api():
    names = {p.name for p in productions()}
    assert {"Expr.log1p", "str.contains", "dt.hour", "op:/", "op:scalar-", "fn:coalesce", "fn:when",
            "fn:standardize"} <= names


def test_an_internal_exception_is_a_crash_not_a_refusal(monkeypatch):
    from skewless.api.expr import Expr

    def broken(self):
        raise KeyError("internal")

    monkeypatch.setattr(Expr, "log1p", broken)
    gen = Generator(random.Random(0), [p for p in productions() if p.name == "Expr.log1p"])
    for _ in range(20):
        gen.expr(3)
    assert gen.crashes and all(name == "Expr.log1p" for name, _ in gen.crashes)
    assert not any("KeyError" in k for k in gen.refusals)


def test_a_mismatch_is_shrunk_to_one_feature_and_one_row(monkeypatch):
    original = PY_RULES[nops.Sin]
    monkeypatch.setitem(PY_RULES, nops.Sin, lambda e, node, args: f"({original(e, node, args)} + (1.0 if {args[0].src} > 2 else 0.0))")
    fs = FeatureSet("fuzz", SCHEMA, {"x1": col("i") * 2, "x2": (col("f").sin() + 1).abs(), "x3": col("f_n").cos()})
    rows = [{**row, "f": float(i)} for i, row in enumerate(random_rows(random.Random(1), 6))]
    findings = check(fs, rows)
    assert [f.kind for f in findings] == ["mismatch"]
    small = shrink(fs, rows, findings[0])
    assert small.kind == "mismatch" and len(small.rows) == 1 and small.expr == "col('f').sin()", small


@pytest.mark.parametrize("kind", ["mismatch"])
def test_findings_render_with_their_columns(kind):
    f = Finding(kind, "parity", "x", expr="col('f')", rows=[{"f": 1.0, "g": 2.0}], columns=("f",))
    assert "{'f': 1.0}" in str(f) and "'g'" not in str(f)


def test_productions_refused_on_every_receiver_stop_being_sought_and_str_or_any_params_draw_their_pool(monkeypatch):
    from .fuzz import grammar

    monkeypatch.setattr(grammar, "HOPELESS", 100)  # (1000 in a run: fn:duration took 200 tries to be accepted)
    gen = Generator(random.Random(3), productions())
    for _ in range(300):
        gen.feature()
    never = {p.name for p in gen.prods if not gen.used[p.name]}
    assert "Expr.alias" in never and not any(gen.wanted(p) for p in gen.prods if p.name in never)
    assert gen.used["dt.truncate"] and gen.used["dt.offset_by"]  # every= / by= from their pools


def test_the_mirror_spells_map_values_bucketize_and_duration_and_catches_a_wrong_rule(monkeypatch):
    from skewless import bucketize, duration, map_values
    from skewless.backends.polars import applied as polars_applied  # noqa: F401  (registration)
    from skewless.backends.polars.table import RULES as POLARS_RULES
    from skewless.ir import applied as aops

    from .fuzz.run import Stats

    feats = {"m0": map_values(col("s"), {"a": 1, "": 2}, 0), "m1": map_values(col("i_n"), {0: "x", 1: "y"}),
             "b0": bucketize(col("f_n"), [-1.0, 0.0, 0.5]), "b1": bucketize(col("i"), [0.0, 10.0], closed="right"),
             "d0": duration(hours=col("i_n"), minutes=col("i"))}
    fs = FeatureSet("fuzz", SCHEMA, feats)
    rows = random_rows(random.Random(4), 6)
    rows[0].update(f_n=float("nan"), s="a", i=10)
    rows[1].update(f_n=-0.0, s="", i=0)
    stats = Stats(0)
    assert check(fs, rows, stats) == [] and not stats.mirror_missing and stats.mirror_compared == 5
    original = POLARS_RULES[aops.Bucketize]
    monkeypatch.setitem(POLARS_RULES, aops.Bucketize, lambda c, n, a: original(c, n, a) + 1)
    broken = FeatureSet("fuzz", SCHEMA, {"b0": feats["b0"]})
    assert [f.where for f in check(broken, rows) if f.kind == "mirror"] == ["skewless batch != raw polars"]


def test_the_memory_guard_ends_the_run_naming_the_case():
    import subprocess
    import sys
    from pathlib import Path

    code = ("import time; from parity_tests.fuzz.run import CURRENT, memory_guard; "
            "CURRENT[:] = ['f0 = col(\"s\").str.repeat(9)', '[{}]']; memory_guard(1); time.sleep(30)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 3 and "[memory] resident memory" in done.stdout and 'str.repeat(9)' in done.stdout
