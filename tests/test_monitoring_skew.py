"""Row-level skew from the served-feature log (:mod:`skewless.monitoring.skew`): rows served through the real
service (in-process), logged, recomputed with the bundle's polars pipeline and compared bitwise. Clean serving
gives 0 mismatches; injected faults in the serving path — one ulp, a stale constant, a swapped category
mapping, a time-zone bug for part of the rows — are each flagged by feature name with their exact share of
rows; another fitted state as "what training used" is flagged by name; the CLI exits 1 on any mismatch."""

from __future__ import annotations

import datetime as dt
import json
import math
import subprocess
import sys

import polars as pl
import pytest
from fastapi.testclient import TestClient

from skewless.definitions.flights_fitted import flights_fitted
from skewless.monitoring.logdata import LogError
from skewless.monitoring.skew import skew
from skewless.serving.app import create_app
from skewless.serving.settings import Settings

CLI = [sys.executable, "-m", "skewless"]


def _json_row(row: dict) -> dict:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in row.items()}


@pytest.fixture(scope="module")
def rows(slice_df) -> list[dict]:
    """300 rows of the test period (second half of February), nulls among them."""
    test = slice_df.filter(pl.col("time_hour") >= dt.datetime(2013, 2, 15, tzinfo=dt.timezone.utc))
    inputs = test.select(list(flights_fitted.inputs))
    nulls = inputs.filter(pl.any_horizontal(pl.all().is_null())).head(30)
    return [_json_row(r) for r in pl.concat([nulls, inputs.gather_every(40)]).head(300).iter_rows(named=True)]


def _serve(bundle_dir, rows, log_dir, fault=None) -> list[str]:
    """Serve ``rows`` (single rows, then the last 50 again as one batch) with ``fault`` wrapping the
    per-request function after the startup self-check; the request ids the service answered with."""
    ids = []
    with TestClient(create_app(Settings(bundle=bundle_dir, log_dir=log_dir))) as c:
        served = c.app.state.served
        if fault is not None:
            served.row_fn = fault(served.row_fn)
        for i, r in enumerate(rows):
            resp = c.post("/v1/predict", json=r, headers={"x-request-id": f"req-{i}"})
            assert resp.status_code == 200, resp.text
            ids.append(resp.headers["x-request-id"])
        resp = c.post("/v1/predict/batch", json={"rows": rows[-50:]}, headers={"x-request-id": "batch-1"})
        assert resp.status_code == 200 and resp.headers["x-request-id"] == "batch-1"
    return ids


@pytest.fixture(scope="module")
def clean_log(bundle_dir, rows, tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("clean") / "log"
    assert _serve(bundle_dir, rows, log_dir) == [f"req-{i}" for i in range(len(rows))]
    return log_dir


def test_clean_serving_has_zero_skew_over_every_logged_row(bundle_dir, rows, clean_log):
    report = skew(clean_log, bundle_dir)
    assert report.ok and report.rows == len(rows) + 50
    from skewless.training.bundle import load_bundle

    assert len(report.features) == len(load_bundle(bundle_dir).transformer.output_schema())
    assert report.score is not None and report.score.rows == len(rows) + 50 and report.score.mismatches == 0
    assert report.decision_flips == 0 and "0 mismatches" in report.summary()


def _faulty(feature, change, when=lambda row: True):
    """A per-request function whose ``feature`` is ``change(value, row)`` for the rows where ``when``."""
    def wrap(row_fn):
        def faulty(row):
            out = row_fn(row)
            if when(row):
                out = {**out, feature: change(out[feature], row)}
            return out
        return faulty
    return wrap


def _check_fault(report, feature, rows_changed, total):
    assert not report.ok
    assert [f.name for f in report.mismatched] == [feature], report.summary()
    (f,) = report.mismatched
    assert f.mismatches == rows_changed and f.rate == rows_changed / total and rows_changed > 0
    assert f.examples and all(ex["request_id"].startswith(("req-", "batch-1")) for ex in f.examples)
    assert feature in report.summary() and f"{rows_changed / total:.2%}" in report.summary()


def _count(rows, when):
    singles = sum(1 for r in rows if when(r))
    return singles + sum(1 for r in rows[-50:] if when(r))


def test_one_ulp_on_a_served_value_is_flagged(bundle_dir, rows, tmp_path):
    when = lambda r: r["flight"] % 3 == 0  # noqa: E731
    fault = _faulty("distance_log_std", lambda v, r: math.nextafter(v, math.inf), when)
    _serve(bundle_dir, rows, tmp_path / "log", fault)
    report = skew(tmp_path / "log", bundle_dir)
    _check_fault(report, "distance_log_std", _count(rows, when), len(rows) + 50)
    ex = report.mismatched[0].examples[0]
    assert float(ex["served"]) == math.nextafter(float(ex["recomputed"]), math.inf)


def test_a_stale_constant_is_flagged(bundle_dir, rows, tmp_path):
    # the online copy standardizes speed with last quarter's mean: every non-null value shifts
    from skewless.training.bundle import load_bundle

    fault = _faulty("speed_std", lambda v, r: None if v is None else v + 0.05)
    _serve(bundle_dir, rows, tmp_path / "log", fault)
    report = skew(tmp_path / "log", load_bundle(bundle_dir))
    fs = load_bundle(bundle_dir).transformer
    n_null = sum(fs.row_fn(r)["speed_std"] is None for r in [*_decoded(rows), *_decoded(rows[-50:])])
    _check_fault(report, "speed_std", len(rows) + 50 - n_null, len(rows) + 50)


def _decoded(rows):
    return [{**r, "time_hour": dt.datetime.fromisoformat(r["time_hour"])} for r in rows]


def test_a_swapped_category_mapping_is_flagged(bundle_dir, rows, tmp_path):
    from collections import Counter

    top = [d for d, _ in Counter(r["dest"] for r in rows).most_common(2)]
    from skewless.training.bundle import load_bundle

    fs = load_bundle(bundle_dir).transformer
    codes = {d: fs.row_fn(next(x for x in _decoded(rows) if x["dest"] == d))["dest_code"] for d in top}
    assert codes[top[0]] != codes[top[1]]
    swap = {codes[top[0]]: codes[top[1]], codes[top[1]]: codes[top[0]]}
    fault = _faulty("dest_code", lambda v, r: swap.get(v, v))
    _serve(bundle_dir, rows, tmp_path / "log", fault)
    report = skew(tmp_path / "log", bundle_dir)
    _check_fault(report, "dest_code", _count(rows, lambda r: r["dest"] in top), len(rows) + 50)


def test_a_time_zone_bug_for_part_of_the_rows_is_flagged(bundle_dir, rows, tmp_path):
    # from the 22nd on the online code reads the local hour an hour late (a fixed offset instead of the zone)
    late = lambda r: dt.datetime.fromisoformat(r["time_hour"]).day >= 22  # noqa: E731

    def wrap(row_fn):
        def faulty(row):
            out = row_fn(row)
            if row["time_hour"].day >= 22:
                shifted = row_fn({**row, "time_hour": row["time_hour"] + dt.timedelta(hours=1)})
                out = {**out, "local_hour_std": shifted["local_hour_std"]}
            return out
        return faulty

    _serve(bundle_dir, rows, tmp_path / "log", wrap)
    report = skew(tmp_path / "log", bundle_dir)
    _check_fault(report, "local_hour_std", _count(rows, late), len(rows) + 50)


def test_another_fitted_state_as_what_training_used_is_flagged_by_name(bundle_dir, clean_log, slice_df):
    """The served bundle is consistent with itself; against a state fitted on other data (an online copy's
    constants vs the training job's fit) the fitted features differ, each named, and the plain ones do not."""
    from skewless import fit
    from skewless.definitions.flights_fitted import training_label

    other = fit(flights_fitted, slice_df.filter(pl.col("month") == 2), label=training_label())
    report = skew(clean_log, bundle_dir, training=other)
    names = {f.name for f in report.mismatched}
    assert {"distance_log_std", "speed_std", "route_te"} <= names
    assert "route" not in names and "feature set 'flights_fitted'" in report.reference
    assert report.score is None  # a feature set has no model


def test_a_log_without_rows_of_the_bundle_is_a_clear_error(bundle_dir, tmp_path):
    with pytest.raises(LogError, match="no served-feature log"):
        skew(tmp_path / "nowhere", bundle_dir)
    (tmp_path / "empty").mkdir()
    with pytest.raises(LogError, match="holds no records"):
        skew(tmp_path / "empty", bundle_dir)


def test_cli_skew_exit_codes_and_json(bundle_dir, rows, clean_log, tmp_path):
    out = tmp_path / "skew.json"
    proc = subprocess.run([*CLI, "skew", str(clean_log), "--bundle", str(bundle_dir), "--json", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 mismatches" in proc.stdout and json.loads(out.read_text())["ok"] is True
    _serve(bundle_dir, rows[:40], tmp_path / "bad", _faulty("dest_freq", lambda v, r: v + 1.0))
    proc = subprocess.run([*CLI, "skew", str(tmp_path / "bad"), "--bundle", str(bundle_dir), "--json", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1 and "MISMATCH dest_freq" in proc.stdout, proc.stdout + proc.stderr
    doc = json.loads(out.read_text())
    assert doc["ok"] is False and doc["mismatched_features"] == ["dest_freq"]
    proc = subprocess.run([*CLI, "skew", str(tmp_path / "nowhere"), "--bundle", str(bundle_dir)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "no served-feature log" in proc.stderr and "Traceback" not in proc.stderr


def test_a_replay_whose_feature_log_lost_rows_fails_instead_of_reporting_on_part_of_them(bundle_dir, slice_df,
                                                                                         tmp_path, monkeypatch):
    """The service's log drops records when its writer falls behind (by design on the request path); a replay
    (the demo's served test split) now has a queue for all its rows, and a loss raises naming it — under load
    the demo once reported skew over fewer rows than it served."""
    from skewless.errors import SkewlessError
    from skewless.monitoring.replay import replay
    from skewless.serving.feature_log import FeatureLog

    rows = slice_df.filter(pl.col("day") == 20).head(300)
    ok = replay(bundle_dir, rows, tmp_path / "ok", single=10, batch_size=100)
    assert ok.log_stats["written"] == 300 and ok.log_stats["dropped"] == 0
    real_stats = FeatureLog.stats
    monkeypatch.setattr(FeatureLog, "stats", lambda self: {**real_stats(self), "dropped": 7})
    with pytest.raises(SkewlessError, match="the feature log lost 7 of 300 served rows"):
        replay(bundle_dir, rows, tmp_path / "lossy", single=10, batch_size=100)
