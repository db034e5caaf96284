"""Drift gauges on ``/metrics`` (:mod:`skewless.monitoring.gauges`): over a sliding window of served rows,
equal to the batch drift measures of the same rows from the feature log; the window slides; off when asked."""

from __future__ import annotations

import polars as pl
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from skewless.definitions.flights_fitted import flights_fitted
from skewless.monitoring.drift import drift
from skewless.serving.app import create_app
from skewless.serving.settings import Settings


def _gauges(text: str) -> dict[tuple[str, str], float]:
    out = {}
    for fam in text_string_to_metric_families(text):
        if fam.name.startswith("skewless_drift_"):
            for s in fam.samples:
                out[(s.name, s.labels.get("feature", ""))] = s.value
    return out


def _bodies(slice_df, n):
    rows = slice_df.filter(pl.col("month") == 2).select(list(flights_fitted.inputs)).gather_every(37).head(n)
    return [{k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in r.items()} for r in rows.iter_rows(named=True)]


@pytest.mark.parametrize("window, n", [(10_000, 120), (50, 120)])
def test_gauges_equal_the_batch_measures_of_the_window(bundle_dir, slice_df, tmp_path, window, n):
    bodies = _bodies(slice_df, n)
    with TestClient(create_app(Settings(bundle=bundle_dir, log_dir=tmp_path / "log", drift_window=window))) as c:
        for b in bodies[:60]:
            assert c.post("/v1/predict", json=b).status_code == 200
        assert c.post("/v1/predict/batch", json={"rows": bodies[60:]}).status_code == 200
        g = _gauges(c.get("/metrics").text)
    kept = min(window, n)
    assert g[("skewless_drift_window_rows", "")] == kept
    log = pl.read_parquet(tmp_path / "log" / "*.parquet").tail(kept)  # the window: the last rows served
    report = drift(log, bundle_dir)
    assert len(report.features) > 20
    for f in report.features:
        for key in ("psi", "js", "ks", "linf", "out_of_range", "null_rate"):
            want = f.overall.get(key)
            if want is None or want != want:
                assert (f"skewless_drift_{key}", f.name) not in g
                continue
            assert g[(f"skewless_drift_{key}", f.name)] == pytest.approx(want, rel=1e-12, abs=1e-15), (f.name, key)
        assert g[("skewless_drift_alerts", f.name)] == len(f.alerts)


def test_gauges_off(bundle_dir, slice_df):
    with TestClient(create_app(Settings(bundle=bundle_dir, drift_window=0))) as c:
        assert c.post("/v1/predict", json=_bodies(slice_df, 1)[0]).status_code == 200
        assert not _gauges(c.get("/metrics").text)


def test_metrics_count_the_records_recovered_from_a_crashed_writer(bundle_dir, slice_df, tmp_path):
    import shutil
    import time

    log_dir = tmp_path / "log"
    bodies = _bodies(slice_df, 5)
    with TestClient(create_app(Settings(bundle=bundle_dir, log_dir=log_dir))) as c:
        for b in bodies:
            assert c.post("/v1/predict", json=b).status_code == 200
        flog = c.app.state.feature_log
        for _ in range(3000):
            if flog.stats()["written"] == 5:
                break
            time.sleep(0.01)
        (part,) = log_dir.glob("*.arrows.part")
        # what a writer killed now would leave: its stream, not finalized, locked by nobody
        shutil.copy(part, log_dir / part.name.replace("served-", "served-crashed-"))
    with TestClient(create_app(Settings(bundle=bundle_dir, log_dir=log_dir))) as c:
        text = c.get("/metrics").text
    values = {s.name: s.value for fam in text_string_to_metric_families(text) for s in fam.samples}
    assert values["skewless_feature_log_recovered_records"] == 5
    assert not list(log_dir.glob("*.part"))
