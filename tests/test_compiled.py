"""The one interface of compiled feature sets (skewless.compiled.CompiledFeatureSet).

Plain and fitted feature sets implement it, and the layers above (build, train, bundle, serving,
parity, CLI) use nothing else: no getattr/hasattr probing for feature-set members, no ``Any`` in
place of the interface.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import polars as pl
import pytest

from skewless import CompiledFeatureSet, FeatureSet, Float64, Input, String, col, fit, one_hot, standardize
from skewless.compiled import load
from skewless.errors import SkewlessError
from skewless.fitting import FittedFeatureSet

ROOT = Path(__file__).resolve().parents[1]
#: Modules that must reach feature sets through the interface only: training (build, train, bundle),
#: serving, the parity harness and the command line (wherever it lives).


def _users() -> list[Path]:
    cli = [p for p in ROOT.glob("**/*.py") if (p.stem == "cli" or "cli" in p.relative_to(ROOT).parts[:-1])
           and not {".venv", "tests", ".git"} & set(p.relative_to(ROOT).parts)]
    return sorted({*(ROOT / "training").glob("*.py"), *(ROOT / "serving").glob("*.py"),
                   ROOT / "features" / "parity.py", *cli}, key=str)


USERS = _users()
#: Members of the interface (and of its two implementations) that duck typing used to probe.
MEMBERS = {name for name in dir(CompiledFeatureSet) if not name.startswith("__")} | {"lowered", "meta"}


def _definition() -> FeatureSet:
    return FeatureSet("demo", {"x": Float64, "c": Input(String, nullable=True)},
                      {"x_std": standardize(col("x")), "c_oh": one_hot(col("c")), "x2": col("x") * 2.0})


def _rows() -> pl.DataFrame:
    return pl.DataFrame({"x": [1.0, 2.0, 4.0, -0.0], "c": ["a", "b", None, "a"]})


def test_both_kinds_implement_every_member():
    plain = FeatureSet("p", {"x": Float64}, {"x2": col("x") * 2.0})
    fitted = fit(_definition(), _rows())
    for obj in (plain, fitted):
        assert isinstance(obj, CompiledFeatureSet)
        assert not type(obj).__abstractmethods__  # nothing left abstract: every member is implemented
    assert plain.definition is plain and plain.plain is plain and plain.state is None
    assert plain.state_fingerprint is None and not plain.needs_state
    assert fitted.definition.needs_state and not fitted.needs_state
    assert fitted.plain is fitted.lowered and fitted.state_fingerprint and fitted.state is fitted.state
    assert fitted.fingerprint == fitted.definition.fingerprint
    assert fitted.feature_fingerprints() == fitted.definition.feature_fingerprints()
    assert list(fitted.output_schema()) == ["x_std", "c_oh__a", "c_oh__b", "c_oh__other", "c_oh__null", "x2"]
    assert fitted.used_inputs() == ["x", "c"] and fitted.input_schema() == fitted.definition.input_schema()


def test_prepare_fits_a_definition_once_and_keeps_a_fitted_set():
    plain = FeatureSet("p", {"x": Float64}, {"x2": col("x") * 2.0})
    assert plain.prepare(_rows()) is plain
    definition = _definition()
    fitted = definition.prepare(_rows())
    assert isinstance(fitted, FittedFeatureSet) and fitted.definition is definition
    assert fitted.state == fit(definition, _rows()).state
    assert fitted.prepare(pl.DataFrame({"x": [9.0], "c": ["z"]})) is fitted


def test_every_kind_runs_both_runtimes_and_parity_through_the_interface():
    rows = _rows()
    for obj in (FeatureSet("p", {"x": Float64}, {"x2": col("x") * 2.0}), fit(_definition(), rows)):
        batch = obj.transform(rows).collect()
        assert list(batch.columns) == list(obj.output_schema())
        assert [obj.row_fn(r) for r in rows.rows(named=True)] == batch.rows(named=True)
        assert obj.transform_training(rows).collect().equals(batch)  # no target encoding: the serving rows
        assert "def " in obj.python_source()
        report = obj.check_parity(rows)
        assert report.ok and report.rows == rows.height, report.summary()


def test_load_gives_the_definition_or_the_stored_state(tmp_path):
    plain = FeatureSet("p", {"x": Float64}, {"x2": col("x") * 2.0})
    assert load(plain, None) is plain
    definition = _definition()
    with pytest.raises(SkewlessError, match="has fitted ops but no fitted state"):
        load(definition, None)
    with pytest.raises(SkewlessError, match="holds no state to save"):
        plain.save_state(tmp_path / "x.json")
    fitted = fit(definition, _rows())
    fitted.save_state(tmp_path / "fitted.json")
    back = load(definition, tmp_path / "fitted.json")
    assert isinstance(back, FittedFeatureSet) and back.state == fitted.state
    assert back.python_source() == fitted.python_source()


def _probes(path: Path) -> list[str]:
    """``getattr(x, "member")`` / ``hasattr(x, "member")`` calls naming an interface member."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("getattr", "hasattr")
                and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) and node.args[1].value in MEMBERS):
            found.append(f"{node.lineno}: {ast.unparse(node)}")
    return found


def _untyped(path: Path) -> list[str]:
    """Parameters or attributes that hold a feature set but are annotated ``Any``."""
    names = {"feature_set", "fs", "transformer", "fitted"}
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.arg) and node.arg in names and node.annotation is not None:
            target, annotation = node.arg, node.annotation
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id in names:
            target, annotation = node.target.id, node.annotation
        else:
            continue
        if "Any" in ast.unparse(annotation):
            found.append(f"{node.lineno}: {target}: {ast.unparse(annotation)}")
    return found


def test_the_users_include_the_cli():
    assert any(p.stem == "cli" or "cli" in p.parts for p in USERS)


@pytest.mark.parametrize("path", USERS, ids=lambda p: str(p.relative_to(ROOT)))
def test_users_of_feature_sets_use_only_the_interface(path):
    assert _probes(path) == []
    assert _untyped(path) == []


def test_the_checks_find_duck_typing(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from typing import Any\n"
                   "def f(transformer: Any, fs: 'Any | None' = None):\n"
                   "    return getattr(transformer, 'definition', transformer), hasattr(fs, 'state')\n")
    assert _probes(bad) == ["3: getattr(transformer, 'definition', transformer)", "3: hasattr(fs, 'state')"]
    assert _untyped(bad) == ["2: transformer: Any", "2: fs: 'Any | None'"]


def test_the_interface_documents_every_member():
    doc = inspect.getdoc(CompiledFeatureSet) or ""
    public = [n for n in vars(CompiledFeatureSet) if not n.startswith("_")]
    assert [n for n in public if n not in doc] == []
