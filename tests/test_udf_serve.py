"""Issue 13, "There is no escape hatch for a computation skewless lacks": a udf feature end to end.

A user's own module defines a feature set with a udf; it passes assert_parity, builds, trains and is bundled
(the sealed definition records the function's module, qualname and source hash); a real server serves it when
``SKEWLESS_SERVE_UDF_MODULES`` lists the module, answering what the batch pipeline computed; without the variable
it refuses the bundle before importing the module, and after the function's source is edited it refuses it
naming the function and both hashes.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import pathlib
import subprocess
import sys
import textwrap

import httpx
import pytest

from skewless.bundle import load_bundle, same_value
from skewless.io import load_feature_set
from skewless.testing import assert_parity
from skewless.training.build import build_dataset
from skewless.training.train import train

from test_serving_http import Server, _json_row

MODULE = "penguin_udfs"
SOURCE = textwrap.dedent('''
    """A user's feature module: one computation skewless lacks, as a udf."""
    import math
    import os

    from skewless import Float64, Input, Int64, String, col, feature_set, udf

    if os.environ.get("UDF_IMPORT_LOG"):  # (the test's witness of every import of this module)
        with open(os.environ["UDF_IMPORT_LOG"], "a") as log:
            log.write("imported\\n")


    def bill_angle(length, depth):
        """The bill's aspect as an angle in degrees (atan2 is not a skewless op)."""
        if length is None or depth is None:
            return None
        return math.degrees(math.atan2(depth, length))


    @feature_set
    class penguins_udf:
        island = Input(String)
        bill_length_mm = Input(Float64, nullable=True)
        bill_depth_mm = Input(Float64, nullable=True)
        flipper_length_mm = Input(Int64, nullable=True)

        angle = udf(bill_angle, "bill_length_mm", "bill_depth_mm", return_dtype=Float64)
        angle_or_zero = udf(bill_angle, col("bill_length_mm"), "bill_depth_mm", return_dtype=Float64).fill_null(0.0)
        flipper = col("flipper_length_mm")
        biscoe = col("island") == "Biscoe"
''')


def _csv() -> pathlib.Path:
    import palmerpenguins

    return pathlib.Path(palmerpenguins.__file__).parent / "data" / "penguins.csv"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    home = tmp_path_factory.mktemp("udf_user")
    (home / f"{MODULE}.py").write_text(SOURCE, encoding="utf-8")
    fs = load_feature_set(f"{home / MODULE}.py:penguins_udf")  # the CLI's path/to/file.py:NAME
    checks = assert_parity(fs, _csv(), examples=60, one_row_frames=5)  # real, edge and hypothesis rows
    build_dataset(fs, _csv(), home / "build", label="species == 'Adelie'", event_time=None, split_by="stratified",
                  seed=3)
    train(home / "build", home / "bundle", tracking=False, threads=1)
    return home, fs, checks


def _serve_refused(home: pathlib.Path, cwd: pathlib.Path, **env: str) -> subprocess.CompletedProcess:
    """``python -m skewless.serving`` (which puts ``cwd`` first on sys.path), expected to exit before serving."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("SKEWLESS_SERVE_") and k != "PYTHONPATH"}
    return subprocess.run([sys.executable, "-m", "skewless.serving", "--bundle", str(home / "bundle"), "--port", "0"],
                          cwd=cwd, env={**base, **env}, capture_output=True, text=True, timeout=120)


def test_a_udf_feature_set_is_checked_built_trained_and_bundled_with_its_function_recorded(trained):
    home, fs, checks = trained
    assert checks.rows_checked["real rows"] == 344 and checks.rows_checked["edge rows"] > 100  # compared bitwise
    assert checks.rows_checked["hypothesis rows"] > 0 and checks.udf_features == ["angle", "angle_or_zero"]
    assert "outside the op-by-op proof" in str(checks)
    module = sys.modules[MODULE]
    doc = json.loads((home / "bundle" / "feature_set.json").read_text())
    node = doc["definition"]["features"]["angle"]
    want = hashlib.sha256(inspect.getsource(module.bill_angle).encode("utf-8")).hexdigest()
    assert (node["op"], node["module"], node["qualname"], node["source_sha256"]) == ("Udf", MODULE, "bill_angle", want)
    manifest = json.loads((home / "bundle" / "manifest.json").read_text())  # the seal covers the definition
    data = (home / "bundle" / "feature_set.json").read_bytes()
    assert manifest["files"]["feature_set.json"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert load_bundle(home / "bundle").self_check() == []


def test_serve_answers_with_the_udf_when_its_module_is_listed(trained, tmp_path, monkeypatch):
    home, fs, _ = trained
    bundle = load_bundle(home / "bundle")
    golden = bundle.golden_rows()
    monkeypatch.setenv("PYTHONPATH", str(home))  # where the service finds the user's module
    log = tmp_path / "imports.log"
    monkeypatch.setenv("UDF_IMPORT_LOG", str(log))
    with Server(home / "bundle", tmp_path, udf_modules=f"other.module, {MODULE}") as server:
        with httpx.Client(base_url=server.url, timeout=30) as c:
            for g in golden[:20]:
                r = c.post("/v1/predict?include_features=1", json=_json_row(g["inputs"]))
                assert r.status_code == 200, r.text
                body = r.json()
                assert same_value(body["score"], g["score"]), (body, g)
                assert same_value(body["features"]["angle"], g["features"]["angle"]), (body, g)
    assert log.read_text().count("imported") >= 1  # the service imported it (its check process and worker)


def test_serve_refuses_a_udf_bundle_unless_its_module_is_listed_before_importing_it(trained, tmp_path):
    home, _, _ = trained
    log = tmp_path / "imports.log"
    for env in ({}, {"SKEWLESS_SERVE_UDF_MODULES": "numpy,json"}):
        r = _serve_refused(home, home, UDF_IMPORT_LOG=str(log), **env)  # (the module is right there in cwd)
        assert r.returncode == 2, r.stderr[-2000:]
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
        assert f"calls the udf {MODULE}:bill_angle" in lines[0] and f"SKEWLESS_SERVE_UDF_MODULES={MODULE}" in lines[0]
    assert not log.exists()  # refused before the module was imported


def test_serve_refuses_a_udf_whose_source_was_edited_naming_the_function_and_both_hashes(trained, tmp_path):
    home, _, _ = trained
    edited = tmp_path / "edited"
    edited.mkdir()
    (edited / f"{MODULE}.py").write_text(SOURCE.replace("math.degrees(", "1.0 + math.degrees("), encoding="utf-8")
    recorded = json.loads((home / "bundle" / "feature_set.json").read_text())["definition"]["features"]["angle"]
    r = _serve_refused(home, edited, SKEWLESS_SERVE_UDF_MODULES=MODULE)
    assert r.returncode == 2, r.stderr[-2000:]
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert f"udf {MODULE}:bill_angle: its source now has SHA-256" in lines[0] and recorded["source_sha256"] in lines[0]
    r = _serve_refused(home, tmp_path, SKEWLESS_SERVE_UDF_MODULES=MODULE)
    assert r.returncode == 2 and f"the module {MODULE!r} cannot be imported" in r.stderr, r.stderr
