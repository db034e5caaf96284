"""The distribution installs one import name, ``skewless``, and nothing that could shadow a user's packages."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_user_project_with_its_own_features_package_imports_skewless(tmp_path):
    # The commonest layout of an ML repository: its own `features/` (and `training/`) packages.
    for name in ("features", "training", "serving"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(f"WHO = 'the user {name} package'\n")
    (tmp_path / "use.py").write_text(textwrap.dedent("""
        import features, training, serving
        from skewless import Input, Int64, col, feature_set
        import skewless.training.build, skewless.serving.app

        @feature_set
        class s:
            x = Input(Int64)
            y = col("x") * 2

        print(features.WHO, training.WHO, serving.WHO, s.row_fn({"x": 21})["y"], sep="|")
    """))
    proc = subprocess.run([sys.executable, "use.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "the user features package|the user training package|the user serving package|42"


def test_the_repository_folders_refuse_to_be_imported_under_their_own_names():
    for name in ("features", "training", "serving", "cli"):
        proc = subprocess.run([sys.executable, "-c", f"import {name}"], cwd=ROOT, capture_output=True, text=True)
        assert proc.returncode != 0 and "import it as such" in proc.stderr, (name, proc.stderr)


def test_every_package_folder_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = set()
    for prefix, folder in config["package-dir"].items():
        base = ROOT / folder
        for init in base.rglob("__init__.py"):
            rel = init.parent.relative_to(base)
            found.add(".".join([prefix, *rel.parts]))
    # Subpackages mapped to a folder of their own are found from that folder, not from their parent's.
    assert found == listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}; stale: {sorted(listed - found)}"


def test_the_cli_sits_above_the_libraries():
    # skewless.cli imports the libraries; no library module imports the CLI (``python -m skewless`` is the
    # one entry point that does, by design).
    offenders = []
    for folder in ("features", "training", "serving"):
        for path in (ROOT / folder).rglob("*.py"):
            if path == ROOT / "features" / "__main__.py":
                continue
            text = path.read_text()
            if "skewless.cli" in text or "from .cli" in text or "from ..cli" in text:
                offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, offenders
    assert not (ROOT / "features" / "cli.py").exists()
