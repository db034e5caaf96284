"""Training on a time slice of the flights table: two bundles compared, regression, fraction splits,
tracking failures, and the ``skewless train`` / ``skewless compare`` commands."""

from __future__ import annotations

import json
import math

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from skewless.cli import app
from skewless.datasets import load_flights
from skewless.definitions.flights import flights
from skewless.definitions.flights_fitted import flights_fitted
from skewless.training.build import build_dataset
from skewless.training.bundle import BundleError, load_bundle
from skewless.training.compare import compare, state_diff
from skewless.training.train import auc, train

FAST = {"num_boost_round": 60, "early_stopping_rounds": 10, "tracking": False}


@pytest.fixture(scope="module")
def slice_df() -> pl.DataFrame:
    """January to March 2013 (about 81k flights)."""
    return load_flights().filter(pl.col("month") <= 3)


@pytest.fixture(scope="module")
def bundles(tmp_path_factory, slice_df):
    """Two fitted bundles whose training windows differ (so their fitted state differs too)."""
    root = tmp_path_factory.mktemp("cmp")
    out = {}
    for name, cuts in (("a", ("2013-02-01", "2013-03-01")), ("b", ("2013-02-15", "2013-03-01"))):
        build_dataset(flights_fitted, slice_df, root / f"build_{name}", label="arr_delay > 15",
                      event_time="time_hour", split=cuts)
        train(root / f"build_{name}", root / f"bundle_{name}", params={"num_leaves": 15 if name == "a" else 31},
              **FAST)
        out[name] = root / f"bundle_{name}"
    return out


def test_compare_two_bundles(bundles, slice_df):
    march = slice_df.filter(pl.col("month") == 3)
    report = compare(bundles["a"], bundles["b"], march, top=5)
    assert report.rows == march.height and report.task == "binary"
    s = report.scores
    assert 0 < s["mean_abs_delta"] <= s["max_abs_delta"] <= 1
    assert 0.5 < s["correlation"] <= 1
    g = report.agreement
    assert g["both_positive"] + g["both_negative"] + g["a_only"] + g["b_only"] == march.height
    assert 0.8 < g["agree_rate"] < 1
    deltas = [abs(r["delta"]) for r in report.top_changes]
    assert len(deltas) == 5 and deltas == sorted(deltas, reverse=True) and deltas[0] == s["max_abs_delta"]
    top = report.top_changes[0]
    assert set(top["inputs"]) == set(flights_fitted.inputs) and top["event_time"].month == 3
    # the label is in the data: metrics of both on it, and their difference
    on = report.metrics["on_data"]
    assert math.isclose(on["b_minus_a"]["auc"], on["b"]["auc"] - on["a"]["auc"])
    assert report.metrics["recorded_test"]["a"]["auc"] > 0.85
    # same definition, different fitted state (different training windows), different params
    assert report.definition["same"] and report.definition["changed"] == []
    st = report.state
    assert not st["same"] and st["only_a"] == [] and st["changed"]
    changed = {c["expr"]: c["fields"] for c in st["changed"]}
    std = next(f for e, f in changed.items() if e.startswith("standardize("))
    assert "mean" in std and "->" in std["mean"]
    assert report.model["params_changed"]["num_leaves"] == [15, 31]
    assert report.model["data_hash_a"] != report.model["data_hash_b"]
    text = report.summary()
    assert "agree on" in text and "fitted state:" in text and "rows whose scores changed most" in text
    json.dumps(report.to_dict(), allow_nan=False)  # the JSON form is strict JSON


def test_compare_a_bundle_with_itself(bundles, slice_df):
    report = compare(bundles["a"], bundles["a"], slice_df.head(2000))
    assert report.scores["max_abs_delta"] == 0 and report.scores["identical_rows"] == 2000
    assert report.agreement["agree_rate"] == 1.0 and report.state["same"]
    assert report.model["params_changed"] == {}


def test_compare_cli(bundles, slice_df, tmp_path):
    data = tmp_path / "march.parquet"
    slice_df.filter(pl.col("month") == 3).write_parquet(data)
    result = CliRunner().invoke(app, ["compare", str(bundles["a"]), str(bundles["b"]), "--data", str(data),
                                      "--top", "3", "--json", str(tmp_path / "report.json"),
                                      "--html", str(tmp_path / "report.html")])
    assert result.exit_code == 0, result.output
    assert "agree on" in " ".join(result.output.split()) and "fitted state:" in " ".join(result.output.split())
    doc = json.loads((tmp_path / "report.json").read_text())
    assert len(doc["top_changes"]) == 3 and doc["rows"] > 20_000
    assert sum(doc["distributions"]["a"]) == sum(doc["distributions"]["b"]) == doc["rows"]
    page = (tmp_path / "report.html").read_text()  # rendered in chromium by tests/test_monitoring_report.py
    assert page.startswith("<!DOCTYPE html>") and page.count('<tr><td>') >= 3 and "wrote the HTML report" in result.output


def test_bundle_scores_agree_per_request_and_in_batch(bundles, slice_df):
    bundle = load_bundle(bundles["b"])
    rows = slice_df.filter(pl.col("month") == 3).head(300)
    batch = bundle.score_frame(rows)
    per_request = [bundle.score_row(r) for r in rows.iter_rows(named=True)]
    assert np.array_equal(batch, np.asarray(per_request))  # bitwise
    assert bundle.self_check() == []


def test_bundle_refuses_another_feature_set(bundles):
    with pytest.raises(BundleError, match="differs from the one bundle .* was made with"):
        load_bundle(bundles["a"], feature_set=flights)


def test_regression_with_fraction_split_plain_feature_set(tmp_path, slice_df):
    built = build_dataset(flights, slice_df, tmp_path / "build", label="arr_delay", event_time="time_hour",
                          split=(0.6, 0.8))
    rows = built.rows
    total = sum(rows.values())
    assert built.manifest["label"]["task"] == "regression" and not built.manifest["feature_set"]["fitted"]
    assert 0.55 < rows["train"] / total < 0.62 and 0.15 < rows["valid"] / total < 0.25
    res = train(tmp_path / "build", tmp_path / "bundle", **FAST)
    assert set(res.metrics["test"]) >= {"rmse", "mae"} and 0 < res.metrics["test"]["rmse"] < 60
    m = res.manifest
    assert m["model"]["decision_threshold"] is None and m["feature_set"]["file"] == "feature_set.json"
    assert m["tracking"]["status"] == "disabled"
    bundle = load_bundle(tmp_path / "bundle")
    assert bundle.self_check() == []


def test_tracking_failure_still_writes_the_bundle(tmp_path, slice_df):
    small = slice_df.filter(pl.col("month") == 1)
    build_dataset(flights, small, tmp_path / "build", label="arr_delay > 15", event_time="time_hour",
                  split=("2013-01-20", "2013-01-25"))
    with pytest.warns(RuntimeWarning, match="MLflow tracking failed; the bundle was written without a run"):
        res = train(tmp_path / "build", tmp_path / "bundle", num_boost_round=20, tracking_uri="bogus://nowhere")
    assert res.tracking_error and "bogus://nowhere" in res.tracking_error and res.run_id is None
    m = json.loads((tmp_path / "bundle" / "manifest.json").read_text())
    assert m["tracking"]["status"] == "failed" and "bogus://nowhere" in m["tracking"]["error"]
    assert load_bundle(tmp_path / "bundle").self_check() == []
    # the CLI says so too, and still exits 0
    result = CliRunner().invoke(app, ["train", str(tmp_path / "build"), "--out", str(tmp_path / "bundle2"),
                                      "--rounds", "20", "--tracking-uri", "bogus://nowhere"])
    assert result.exit_code == 0, result.output
    assert "the run was not tracked" in " ".join(result.output.split())
    assert (tmp_path / "bundle2" / "model.txt").is_file()


def test_train_cli_with_params(tmp_path, slice_df):
    small = slice_df.filter(pl.col("month") == 1)
    build_dataset(flights, small, tmp_path / "build", label="arr_delay > 15", event_time="time_hour",
                  split=("2013-01-20", "2013-01-25"))
    result = CliRunner().invoke(app, ["train", str(tmp_path / "build"), "--out", str(tmp_path / "bundle"),
                                      "--no-tracking", "--rounds", "30", "--param", "num_leaves=7",
                                      "--param", "learning_rate=0.2"])
    assert result.exit_code == 0, result.output
    assert "wrote the bundle to" in " ".join(result.output.split()) and "auc" in " ".join(result.output.split())
    params = json.loads((tmp_path / "bundle" / "manifest.json").read_text())["model"]["params"]
    assert params["num_leaves"] == 7 and params["learning_rate"] == 0.2
    result = CliRunner().invoke(app, ["train", str(tmp_path / "build"), "--out", str(tmp_path / "bundle"),
                                      "--no-tracking", "--param", "oops"])
    assert result.exit_code == 2 and "KEY=VALUE" in " ".join(result.output.split())


def test_auc_matches_the_rank_definition():
    rng = np.random.default_rng(0)
    y = rng.random(500) < 0.3
    s = np.round(rng.random(500), 2)  # many ties
    pos, neg = s[y], s[~y]
    want = ((pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()) / (pos.size * neg.size)
    assert math.isclose(auc(y, s), want, rel_tol=1e-12)
    assert math.isnan(auc(np.zeros(3, bool), np.arange(3.0)))


def test_state_diff_names_what_changed():
    a = {"k1": {"op": "Standardize", "mean": 1.0, "std": 2.0, "count": 10, "expr": "standardize(col('x'))"},
         "k2": {"op": "OneHot", "vocabulary": ["a", "b"], "expr": "one_hot(col('c'))"}}
    b = {"k1": {"op": "Standardize", "mean": 1.5, "std": 2.0, "count": 12, "expr": "standardize(col('x'))"},
         "k3": {"op": "OneHot", "vocabulary": ["a"], "expr": "one_hot(col('d'))"}}
    d = state_diff(a, b)
    assert d["only_a"] == ["one_hot(col('c'))"] and d["only_b"] == ["one_hot(col('d'))"]
    assert d["changed"] == [{"key": "k1", "expr": "standardize(col('x'))", "op": "Standardize",
                             "fields": {"count": "10 -> 12", "mean": "1.0 -> 1.5"}}]
    assert state_diff(None, None)["same"]
