"""Drift (:mod:`skewless.monitoring.drift`, :mod:`skewless.monitoring.measures`): the measures on known
distributions, served rows equal to the training split show no drift, a shifted / nulled / remapped feature is
flagged by name with the measures that moved, per time bucket from when it started, thresholds overridable
per feature, and the CLI."""

from __future__ import annotations

import datetime as dt
import json
import math
import subprocess
import sys

import numpy as np
import polars as pl
import pytest

from skewless.monitoring.drift import drift, load_references
from skewless.monitoring.logdata import LogError
from skewless.monitoring.measures import js_distance, ks_statistic, linf, psi

CLI = [sys.executable, "-m", "skewless"]


def test_measures_on_known_distributions():
    a = np.array([10.0, 20, 30, 40])
    assert psi(a, a * 3) == 0 and js_distance(a, a * 7) == 0 and linf(a, a) == 0
    assert js_distance(np.array([1.0, 0]), np.array([0.0, 1])) == 1.0  # disjoint: the largest distance
    p, q = np.array([50.0, 50]), np.array([90.0, 10])
    assert psi(p, q) == pytest.approx((0.9 - 0.5) * math.log(0.9 / 0.5) + (0.1 - 0.5) * math.log(0.1 / 0.5))
    assert linf(p, q) == pytest.approx(0.4)
    assert ks_statistic(np.array([0.25, 0.5, 1.0]), np.array([1, 1, 4]), 4) == pytest.approx(0.25)
    assert math.isnan(psi(a, a * 0))


@pytest.fixture(scope="module")
def build_dir(bundle_dir):
    return bundle_dir.parent / "build"


def _as_log(features: pl.DataFrame, event_time: pl.Series, served_at: dt.datetime | None = None) -> pl.DataFrame:
    """A served-feature log frame holding ``features`` (as the service would have logged them)."""
    n = features.height
    when = served_at or dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    return pl.DataFrame({
        "request_id": [f"r{i}" for i in range(n)], "row": pl.Series([0] * n, dtype=pl.Int32),
        "time": pl.Series([when] * n, dtype=pl.Datetime("us", "UTC")), "route": ["/v1/predict"] * n,
        "bundle_id": ["b"] * n,
        "inputs": pl.DataFrame({"time_hour": event_time}).to_struct("inputs"),
        "features": features.to_struct("features"),
        "score": pl.Series([0.5] * n, dtype=pl.Float64),
    })


@pytest.fixture(scope="module")
def train(build_dir):
    df = pl.read_parquet(build_dir / "train" / "*.parquet")
    names = list(json.loads((build_dir / "stats.json").read_text())["features"])
    return df.select(names), df["time_hour"]


def test_the_training_split_served_back_shows_no_drift(build_dir, train):
    feats, t = train
    report = drift(_as_log(feats, t), build_dir / "stats.json")
    assert report.rows == feats.height and not report.flagged, report.summary()
    for f in report.features:
        m = f.overall
        assert m["psi"] == pytest.approx(0, abs=1e-12) and m["out_of_range"] == 0
        assert m.get("ks", 0) == pytest.approx(0, abs=1e-12) and m.get("linf", 0) == pytest.approx(0, abs=1e-12)
        assert m["null_rate"] == pytest.approx(f.reference.null_rate)
    kinds = {f.name: f.reference.kind for f in report.features}
    assert kinds["distance_log_std"] == "numeric" and kinds["dest_code"] == "categorical"
    assert kinds["carrier_oh__UA"] == "categorical" and kinds["route"] == "categorical"


def test_a_shifted_feature_is_flagged_from_the_bucket_it_started(build_dir, train):
    feats, t = train
    start = dt.datetime(2013, 1, 20, tzinfo=dt.timezone.utc)
    late = t >= start
    shifted = feats.with_columns(pl.when(late).then(pl.col("speed_std") + 3).otherwise(pl.col("speed_std"))
                                 .alias("speed_std"))
    # a day of ~850 flights differs from the whole month by itself (JS distance 0.1-0.25 on real days):
    # thresholds for daily buckets above that day-to-day variation
    daily = {"*": {"psi": 1.0, "js": 0.4, "ks": 0.3, "linf": 0.5}}
    report = drift(_as_log(shifted, t), build_dir, bucket="day", time_column="time_hour", thresholds=daily)
    assert [f.name for f in report.flagged] == ["speed_std"], report.summary()
    f = report.flagged[0]
    assert {"psi", "ks", "out_of_range"} <= set(f.alerts)
    assert all({"psi", "js", "ks"} <= set(a) for b, _, a in f.buckets if b >= start.isoformat())
    flagged_days = [b for b, _, a in f.buckets if a]
    assert flagged_days[0] == start.isoformat() and all(b >= start.isoformat() for b in flagged_days)
    assert len(f.buckets) == 31 and "first flagged bucket 2013-01-20" in report.summary()
    # the same shift with a higher threshold for that feature: PSI and JS no longer flag it
    quiet = drift(_as_log(shifted, t), build_dir, thresholds={"speed_std": {"psi": 100, "js": 1, "ks": 1,
                                                                           "out_of_range": 1}})
    assert not quiet.flagged
    with pytest.raises(ValueError, match="unknown drift measure 'p_value'"):
        drift(_as_log(shifted, t), build_dir, thresholds={"*": {"p_value": 0.05}})


def test_nulls_out_of_range_and_a_remapped_category_are_flagged(build_dir, train):
    feats, t = train
    i = pl.int_range(pl.len())
    changed = feats.with_columns(
        pl.when(i % 5 == 0).then(None).otherwise(pl.col("dep_delay_imputed")).alias("dep_delay_imputed"),
        (pl.col("distance_robust") * 10).alias("distance_robust"),
        (1 - pl.col("carrier_oh__UA")).alias("carrier_oh__UA"),  # a one-hot column's mapping inverted
    )
    report = drift(_as_log(changed, t), build_dir)
    got = {f.name: f.alerts for f in report.flagged}
    assert "null_rate" in got["dep_delay_imputed"]
    assert "out_of_range" in got["distance_robust"]
    assert "linf" in got["carrier_oh__UA"]
    assert set(got) == {"dep_delay_imputed", "distance_robust", "carrier_oh__UA"}


def test_bad_arguments_are_clear_errors(build_dir, train, tmp_path):
    feats, t = train
    log = _as_log(feats.head(10), t.head(10))
    with pytest.raises(LogError, match="bucket must be one of"):
        drift(log, build_dir, bucket="minute")
    with pytest.raises(LogError, match="time column 'nope'"):
        drift(log, build_dir, bucket="day", time_column="nope")
    with pytest.raises(LogError, match="no stats.json"):
        drift(log, tmp_path)
    with pytest.raises(LogError, match="thresholds given for 'nope'"):
        drift(log, build_dir, thresholds={"nope": {"psi": 1}})
    assert len(load_references(build_dir)) == feats.width


def test_cli_drift_on_a_served_log(bundle_dir, slice_df, tmp_path):
    from fastapi.testclient import TestClient

    from skewless.definitions.flights_fitted import flights_fitted
    from skewless.serving.app import create_app
    from skewless.serving.settings import Settings

    rows = slice_df.filter(pl.col("month") == 2).select(list(flights_fitted.inputs)).gather_every(50).head(200)
    with TestClient(create_app(Settings(bundle=bundle_dir, log_dir=tmp_path / "log"))) as c:
        body = [{k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in r.items()}
                for r in rows.iter_rows(named=True)]
        assert c.post("/v1/predict/batch", json={"rows": body}).status_code == 200
    out = tmp_path / "drift.json"
    proc = subprocess.run([*CLI, "drift", str(tmp_path / "log"), "--bundle", str(bundle_dir), "--bucket", "day",
                           "--time-column", "time_hour", "--threshold", "psi=0.5", "--threshold",
                           "dest_freq:psi=9", "--json", str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "drift: 200 served rows" in proc.stdout
    doc = json.loads(out.read_text())
    assert doc["rows"] == 200 and len(doc["features"]) > 20
    by_name = {f["name"]: f for f in doc["features"]}
    assert by_name["dest_freq"]["thresholds"]["psi"] == 9 and by_name["speed_std"]["thresholds"]["psi"] == 0.5
    assert by_name["speed_std"]["buckets"] and all(b["start"].startswith("2013-02") for b in
                                                    by_name["speed_std"]["buckets"])
    proc = subprocess.run([*CLI, "drift", str(tmp_path / "log"), "--bundle", str(bundle_dir), "--threshold", "psi"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "--threshold" in proc.stderr and "Traceback" not in proc.stderr
