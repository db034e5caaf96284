"""A user's own table, end to end: the shared "Absenteeism at work" data (UCI, 740 rows, semicolon-separated,
column names with spaces, one ending in a space).

What a user does with a file like this, through the Python API and the CLI: the features over its columns
as they are named, parity on every row (real, edge and generated rows), a stratified binary build from a
``CsvSource`` and a random regression build with ``--separator ';'`` and a label whose column has spaces, a
training, a real uvicorn server answering every row of the file (names with spaces in the JSON body, the
served features logged), and ``skewless skew`` recomputing every served row bitwise with the batch pipeline.

The data lives in ``../shared/data/`` beside the repository (not one of the project's files): skipped, naming
it, when it is absent.
"""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# ``shared/`` lies beside the repository (in CI: beside the fresh clone); the nearest one up the tree is taken,
# so a git worktree nested one level deeper finds it too.
_SHARED = next((d / "shared" for d in ROOT.parents if (d / "shared" / "data").is_dir()), ROOT.parent / "shared")
DATA = _SHARED / "data" / "absenteeism" / "Absenteeism_at_work.csv"

pytestmark = pytest.mark.skipif(not DATA.exists(), reason=f"the shared dataset {DATA} is absent "
                                                          f"(see ../shared/data/README.md)")

FEATURES = textwrap.dedent('''
    from skewless import FeatureSet, Float64, Input, Int64, String, col, one_hot, quantile_bucketize, standardize

    absence = FeatureSet(
        "absence",
        inputs={
            "Reason for absence": Input(Int64),
            "Month of absence": Input(int),                     # a Python type, as polars takes it
            "Day of the week": Input(Int64),
            "Transportation expense": Input(Int64),
            "Distance from Residence to Work": Input(Int64),
            "Service time": Input(Int64),
            "Age": Input(Int64),
            "Work load Average/day ": Input(Float64),           # the file's name ends in a space
            "Son": Input(Int64),
            "Social drinker": Input(Int64),
            "Body mass index": Input(Int64),
            "Weight": Input(Int64),
            "Height": Input(Int64),
        },
        features={
            "reason": col("Reason for absence").cast(str),
            "reason_oh": one_hot(col("Reason for absence").cast(String)),
            "month": col("Month of absence"),
            "weekday": col("Day of the week"),
            "expense_per_km": col("Transportation expense") / col("Distance from Residence to Work"),
            "age_std": standardize(col("Age")),
            "load_bucket": quantile_bucketize(col("Work load Average/day "), 5),
            "bmi_gap": col("Body mass index") - (col("Weight") / (col("Height") / 100) ** 2).round(0),
            "kids_and_drinks": (col("Son") > 0) & (col("Social drinker") == 1),
            "tenure_share": col("Service time") / col("Age"),
        },
    )
''')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cli(*args: str, cwd: Path, env: dict[str, str]) -> str:
    proc = subprocess.run([sys.executable, "-m", "skewless", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, (args, proc.stdout[-2000:], proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr
    return proc.stdout


def _rows(inputs: set[str]) -> list[dict[str, object]]:
    """The file's rows as request bodies: the declared inputs (the service refuses other fields, naming them),
    numbers as the file writes them."""
    with DATA.open(newline="", encoding="utf-8") as f:
        return [{k: (float(v) if "." in v else int(v)) for k, v in row.items() if k in inputs}
                for row in csv.DictReader(f, delimiter=";")]


def test_the_absenteeism_table_end_to_end(tmp_path, monkeypatch):
    (tmp_path / "absence_features.py").write_text(FEATURES)
    monkeypatch.syspath_prepend(str(tmp_path))
    from absence_features import absence

    from skewless import fit
    from skewless.io import CsvSource, scan_data
    from skewless.testing import assert_parity
    from skewless.training.build import build_dataset

    # parity of the fitted set on every row of the file, edge rows and generated rows
    rows = scan_data(DATA, absence, separator=";")
    assert_parity(fit(absence, rows), rows)

    # a stratified binary build from a CsvSource: the options and the file's hash are recorded
    result = build_dataset(absence, CsvSource(DATA, separator=";"), tmp_path / "long",
                           label="Absenteeism time in hours > 8", event_time=None, split_by="stratified", seed=3)
    manifest = json.loads((result.out_dir / "build.json").read_text())
    assert manifest["source"]["csv"] == {"separator": ";"} and manifest["source"]["files"] == [str(DATA)]
    assert manifest["source"]["sha256"]
    assert manifest["label"]["definition"] == "`Absenteeism time in hours` > 8"
    assert sum(result.rows.values()) == 740

    # the CLI: a random regression build (--separator, a label column with spaces), a model, a real server
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "SKEWLESS_"))}
    env["PYTHONPATH"] = str(tmp_path)
    out = _cli("build", "absence_features:absence", "--data", str(DATA), "--separator", ";", "--out", "hours",
               "--label", "Absenteeism time in hours", "--split-by", "random", "--seed", "3", cwd=tmp_path, env=env)
    assert "wrote the build to hours" in out
    assert json.loads((tmp_path / "hours/build.json").read_text())["label"]["task"] == "regression"
    _cli("train", "hours", "--out", "bundle", "--no-tracking", cwd=tmp_path, env=env)

    port = _free_port()
    served = dict(env, SKEWLESS_SERVE_LOG_DIR=str(tmp_path / "log"))
    server = subprocess.Popen([sys.executable, "-m", "skewless", "serve", "--bundle", "bundle", "--port", str(port)],
                              cwd=tmp_path, env=served, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/readyz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.3)
        body = json.dumps({"rows": _rows(set(absence.input_schema()))}).encode()
        request = urllib.request.Request(f"{base}/v1/predict/batch", data=body,
                                         headers={"content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as r:
            answers = json.loads(r.read())
        assert len(answers["rows"]) == 740 and all(isinstance(a["score"], float) for a in answers["rows"])
    finally:
        server.terminate()
        server.wait(timeout=60)

    # every served row recomputed by the batch pipeline, bitwise (features and scores)
    report = _cli("skew", "log", "--bundle", "bundle", "--json", "skew.json", cwd=tmp_path, env=env)
    skew = json.loads((tmp_path / "skew.json").read_text())
    assert skew["rows"] == 740, report
    assert skew["ok"] and skew["mismatched_features"] == [] and skew["score"]["mismatches"] == 0, report
    from skewless.bundle import load_bundle

    served_columns = load_bundle(tmp_path / "bundle").transformer.output_schema()
    assert [f["name"] for f in skew["features"]] == list(served_columns) and skew["only_served"] == [], report
