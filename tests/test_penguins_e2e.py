"""A new user's penguins workflow, run exactly as the README's section shows it (issue 13).

The README's ``<!-- e2e:file NAME -->`` blocks are written to a fresh directory and its ``<!-- e2e:shell -->``
block runs there with bash (``set -e``), with the virtual environment's commands first on PATH and port
8000 replaced by a free one: fit, parity with a JUnit report, two stratified builds (multiclass species,
Adelie or not) and a random one, four trainings, a real server answering curl, compare, and assert_parity in the user's own pytest file.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"<!-- e2e:(file|shell) ?([^ ]*) -->\n```[a-z]*\n(.*?)```", re.S)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_readme_penguins_workflow_runs_as_written(tmp_path):
    blocks = BLOCK.findall((ROOT / "README.md").read_text(encoding="utf-8"))
    files = {name: text for kind, name, text in blocks if kind == "file"}
    shells = [text for kind, _, text in blocks if kind == "shell"]
    assert set(files) == {"penguin_features.py", "test_penguin_parity.py"} and len(shells) == 1
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    script = "set -euo pipefail\n" + shells[0].replace("8000", str(_free_port()))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "SKEWLESS_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("PYTHONPATH", None)  # the user's directory is found as uvicorn and pytest find it
    proc = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    out = proc.stdout
    assert proc.returncode == 0, out[-3000:] + proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    # parity of the fitted set on every row, and its JUnit report
    assert re.search(r"344 rows, 0 mismatching values in 0 features", out)
    suite = ET.parse(tmp_path / "parity.xml").getroot().find("testsuite")
    assert suite.get("failures") == "0" and int(suite.get("tests")) >= 8
    # both builds record their seeded split; the stratified one keeps the Adelie share in every split
    adelie = json.loads((tmp_path / "out/adelie/build.json").read_text())
    species = json.loads((tmp_path / "out/species/build.json").read_text())
    assert species["label"]["task"] == "multiclass" and species["label"]["classes"] == ["Adelie", "Chinstrap", "Gentoo"]
    mass = json.loads((tmp_path / "out/mass/build.json").read_text())
    assert adelie["split"]["mode"] == "stratified" and mass["split"]["mode"] == "random"
    assert adelie["split"]["seed"] == mass["split"]["seed"] == 7
    assert mass["label"]["task"] == "regression" and adelie["label"]["task"] == "binary"
    # both models early-stopped on a table of 300 rows
    for bundle in ("species_bundle", "adelie_bundle", "mass_bundle"):
        model = json.loads((tmp_path / "out" / bundle / "manifest.json").read_text())["model"]
        assert model["best_iteration"] < 950, (bundle, model["best_iteration"])
    # the service answered curl with the class probabilities and the class
    answer = json.loads(re.search(r'\{"score":\[[^\]]*\],"probabilities":\{[^}]*\},"label":"[^"]*"\}', out).group(0))
    assert answer["label"] == "Adelie" and answer["probabilities"]["Adelie"] > 0.5   # a Torgersen Adelie
    assert answer["score"] == [answer["probabilities"][c] for c in ("Adelie", "Chinstrap", "Gentoo")]
    assert "344 rows, task multiclass" in out   # compare
    assert re.search(r"^1 passed", out, re.M)   # the user's assert_parity test
