"""The prediction service (``serving``): served features and scores equal batch ones, strict 422s,
a tampered bundle is not ready, and serving never imports polars."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
import textwrap

import polars as pl
import pytest
from fastapi.testclient import TestClient

from features.datasets import load_flights
from features.definitions.flights_fitted import flights_fitted
from serving.app import create_app
from serving.settings import Settings
from training.build import build_dataset
from training.bundle import load_bundle
from training.train import train

FAST = {"num_boost_round": 40, "early_stopping_rounds": 10, "tracking": False}


@pytest.fixture(scope="module")
def slice_df() -> pl.DataFrame:
    return load_flights().filter(pl.col("month") <= 2)


@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory, slice_df):
    root = tmp_path_factory.mktemp("serving")
    build_dataset(flights_fitted, slice_df, root / "build", label="arr_delay > 15", event_time="time_hour",
                  split=("2013-02-01", "2013-02-15"))
    train(root / "build", root / "bundle", **FAST)
    return root / "bundle"


@pytest.fixture(scope="module")
def client(bundle_dir):
    with TestClient(create_app(bundle_dir)) as c:
        yield c


def _json_row(row: dict) -> dict:
    out = {}
    for k, v in row.items():
        out[k] = v.isoformat() if hasattr(v, "isoformat") else v
    return out


def _decode(v):
    if isinstance(v, dict):
        return {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}[v["float"]]
    return v


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (a != a and b != b) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    return type(a) is type(b) and a == b


def test_health_ready_metadata(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json() == {"status": "ready"}
    meta = client.get("/v1/metadata").json()
    assert meta["feature_set"]["name"] == "flights_fitted" and meta["ready"]
    assert meta["model"]["task"] == "binary" and "time_hour" in meta["input_schema"]


def test_served_features_and_scores_equal_batch(client, bundle_dir, slice_df):
    bundle = load_bundle(bundle_dir)
    rows = slice_df.filter(pl.col("month") == 2).head(0).vstack(
        slice_df.filter(pl.col("month") == 2).gather_every(997))
    inputs = rows.select(list(flights_fitted.inputs))
    batch = bundle.features_frame(inputs).collect()
    scores = bundle.score_features(batch)
    out_schema = bundle.transformer.output_schema()
    temporal = [k for k, f in out_schema.items() if type(f.dtype).__name__ in ("Datetime", "Date", "Duration")]
    assert inputs.height > 5
    for i, row in enumerate(inputs.iter_rows(named=True)):
        r = client.post("/v1/predict", params={"include_features": True}, json=_json_row(row))
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["score"] == float(scores[i]), i
        assert body["label"] == (body["score"] >= bundle.threshold)
        want = batch.row(i, named=True)
        for name, v in body["features"].items():
            if name in temporal:
                continue
            assert _same(_decode(v), want[name]), (i, name, v, want[name])
        f = client.post("/v1/features", json=_json_row(row))
        assert f.status_code == 200 and f.json()["features"] == body["features"]


def _good_row(slice_df) -> dict:
    return _json_row(slice_df.select(list(flights_fitted.inputs)).row(0, named=True))


@pytest.mark.parametrize("change, field", [
    ({"month": True}, "month"),            # a bool is not an int
    ({"month": "1"}, "month"),             # a string is not an int
    ({"month": 1.5}, "month"),
    ({"distance": 2 ** 63}, "distance"),   # outside Int64
    ({"carrier": 7}, "carrier"),
    ({"carrier": None}, "carrier"),        # not nullable
    ({"time_hour": "2013-01-01T05:00:00"}, "time_hour"),  # naive datetime refused
    ({"time_hour": "yesterday"}, "time_hour"),
    ({"surprise": 1}, "surprise"),         # unknown field
])
def test_bad_inputs_are_422_naming_the_field(client, slice_df, change, field):
    row = {**_good_row(slice_df), **change}
    for path in ("/v1/predict", "/v1/features"):
        r = client.post(path, json=row)
        assert r.status_code == 422, (path, r.text)
        assert any(field in map(str, e["loc"]) for e in r.json()["detail"]), r.text


def test_missing_field_and_bad_json_are_422(client, slice_df):
    row = _good_row(slice_df)
    del row["day"]
    r = client.post("/v1/predict", json=row)
    assert r.status_code == 422 and any("day" in e["loc"] for e in r.json()["detail"])
    r = client.post("/v1/predict", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422
    r = client.post("/v1/predict", content=b'{"month": NaN}', headers={"content-type": "application/json"})
    assert r.status_code == 422
    r = client.post("/v1/predict", json=[row])
    assert r.status_code == 422


def test_nullable_inputs_take_null_and_offsets_convert(client, slice_df):
    row = {**_good_row(slice_df), "dep_time": None, "dep_delay": None, "air_time": None, "tailnum": None}
    r = client.post("/v1/predict", json=row)
    assert r.status_code == 200 and 0 <= r.json()["score"] <= 1
    # the same instant written with another offset gives the same answer
    base = client.post("/v1/predict", json={**row, "time_hour": "2013-01-01T05:00:00+00:00"}).json()
    moved = client.post("/v1/predict", json={**row, "time_hour": "2013-01-01T00:00:00-05:00"}).json()
    assert base == moved


def test_unknown_fields_can_be_ignored(bundle_dir, slice_df):
    with TestClient(create_app(Settings(bundle=bundle_dir, unknown_fields="ignore"))) as c:
        r = c.post("/v1/predict", json={**_good_row(slice_df), "surprise": 1})
        assert r.status_code == 200


def test_tampered_bundle_is_not_ready(bundle_dir, tmp_path, slice_df):
    bad = tmp_path / "bundle"
    shutil.copytree(bundle_dir, bad)
    doc = json.loads((bad / "golden_rows.json").read_text())
    doc["rows"][0]["score"] = doc["rows"][0]["score"] + 1e-9
    feature = next(k for k, v in doc["rows"][1]["features"].items() if isinstance(v, float))
    doc["rows"][1]["features"][feature] += 1.0
    (bad / "golden_rows.json").write_text(json.dumps(doc))
    with TestClient(create_app(bad)) as c:
        r = c.get("/readyz")
        assert r.status_code == 503
        problems = " ".join(r.json()["problems"])
        assert "golden row 0: score" in problems and f"golden row 1: feature {feature!r}" in problems
        p = c.post("/v1/predict", json=_good_row(slice_df))
        assert p.status_code == 503 and p.json()["problems"]
        assert c.get("/healthz").status_code == 200


def test_serving_does_not_import_polars(bundle_dir, slice_df):
    row = _good_row(slice_df)
    code = textwrap.dedent(f"""
        import json, sys
        from fastapi.testclient import TestClient
        from serving.app import create_app
        with TestClient(create_app({str(bundle_dir)!r})) as c:
            assert c.get("/readyz").status_code == 200, c.get("/readyz").text
            r = c.post("/v1/predict", json=json.loads({json.dumps(row)!r}))
            assert r.status_code == 200, r.text
        print("polars" in sys.modules, sorted(m for m in sys.modules if m.startswith("polars")))
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split()[0] == "False", proc.stdout


def test_create_app_needs_a_bundle(tmp_path, monkeypatch):
    monkeypatch.delenv("SKEWLESS_SERVE_BUNDLE", raising=False)
    with pytest.raises(ValueError, match="no bundle"):
        create_app()
    with pytest.raises(Exception, match="no bundle"):
        create_app(tmp_path / "missing")


@pytest.mark.parametrize("body", [b'{"month": NaN}', b'{"distance": Infinity}', b'[NaN]', b'"x"', b'null'])
def test_non_finite_json_is_422_not_500(client, slice_df, body):
    r = client.post("/v1/predict", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text


def test_request_model_float_rules():
    from pydantic import ValidationError

    from features.dtypes import Field, Float64
    from serving.schemas import request_model

    M = request_model("t", {"x": Field(Float64(), False)})
    assert M.model_validate({"x": 1}).x == 1.0 and type(M.model_validate({"x": 1}).x) is float
    for bad in (math.nan, math.inf, "1.0", True, None):
        with pytest.raises(ValidationError, match="x"):
            M.model_validate({"x": bad})
    assert math.isnan(request_model("t", {"x": Field(Float64(), False)}, allow_non_finite=True)
                      .model_validate({"x": math.nan}).x)


def test_openapi_documents_the_generated_models(client):
    doc = client.get("/openapi.json").json()
    assert {"/v1/predict", "/v1/features", "/healthz", "/readyz", "/v1/metadata"} <= set(doc["paths"])
    inputs = doc["components"]["schemas"]["flights_fitted_inputs"]
    assert inputs["additionalProperties"] is False
    assert set(inputs["required"]) == set(flights_fitted.inputs)
    assert inputs["properties"]["time_hour"]["format"] == "date-time"
    example = inputs["examples"][0]
    r = client.post("/v1/predict", json=example)
    assert r.status_code == 200, r.text


def test_unexpected_errors_are_json_without_a_traceback(bundle_dir, slice_df):
    app = create_app(bundle_dir)
    with TestClient(app, raise_server_exceptions=False) as c:
        def boom(row):
            raise ZeroDivisionError("secret detail")

        app.state.served.row_fn = boom
        r = c.post("/v1/predict", json=_good_row(slice_df))
        assert r.status_code == 500 and r.json() == {"detail": "internal error (ZeroDivisionError)"}
