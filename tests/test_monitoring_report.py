"""The HTML reports (:mod:`skewless.monitoring.report`), rendered in real headless Debian chromium: the DOM
after the page's scripts ran (``--dump-dom``) and the screenshot's pixels show the skew verdict, the charts in
training / served colours, the flagged features, and for ``skewless compare`` both models' score
distributions, the agreement and the biggest movers. No external asset is referenced."""

from __future__ import annotations

import re
import shutil
import subprocess

import polars as pl
import pytest
from fastapi.testclient import TestClient

from skewless.definitions.flights_fitted import flights_fitted
from skewless.monitoring.drift import drift
from skewless.monitoring.report import (ALERT_COLOR, OK_COLOR, SERVED_COLOR, TRAIN_COLOR, compare_html,
                                        monitoring_html, write_html)
from skewless.monitoring.skew import skew
from skewless.serving.app import create_app
from skewless.serving.settings import Settings

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.fail("Debian's chromium is not installed: run scripts/test.sh (it installs it) or "
                    "apt-get install -y chromium")
    return exe


def _run(args: list[str], profile) -> subprocess.CompletedProcess:
    return subprocess.run([_chromium(), *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                          timeout=180)


def dom(path, tmp_path) -> str:
    proc = _run(["--virtual-time-budget=2000", "--dump-dom", path.as_uri()], tmp_path / "profile-dom")
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    return proc.stdout.decode()


def screenshot(path, tmp_path, name="shot.png", size="1280,1400"):
    from PIL import Image

    png = tmp_path / name
    proc = _run([f"--screenshot={png}", f"--window-size={size}", "--hide-scrollbars", path.as_uri()],
                tmp_path / f"profile-{name}")
    assert proc.returncode == 0 and png.is_file(), proc.stderr.decode()[-2000:]
    return Image.open(png).convert("RGB")


def pixels(img, color: str, tol: int = 12) -> int:
    """How many pixels of ``img`` are within ``tol`` of ``color`` (#rrggbb) in every channel."""
    import numpy as np

    a = np.asarray(img).astype(int)
    want = [int(color[i:i + 2], 16) for i in (1, 3, 5)]
    return int(np.all(np.abs(a - want) <= tol, axis=2).sum())


def _body_attr(text: str, name: str) -> str:
    m = re.search(rf'<body[^>]*\sdata-{name}="([^"]*)"', text)
    assert m, f"no data-{name} on <body> in the rendered DOM"
    return m.group(1)


@pytest.fixture(scope="module")
def served_log(bundle_dir, slice_df, tmp_path_factory):
    """300 February rows served with dest_freq off by one for every row (a fault the report must show)."""
    log_dir = tmp_path_factory.mktemp("report") / "log"
    rows = slice_df.filter(pl.col("month") == 2).select(list(flights_fitted.inputs)).gather_every(30).head(300)
    bodies = [{k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in r.items()} for r in rows.iter_rows(named=True)]
    with TestClient(create_app(Settings(bundle=bundle_dir, log_dir=log_dir))) as c:
        assert c.post("/v1/predict/batch", json={"rows": bodies[:150]}).status_code == 200
        fn = c.app.state.served.row_fn
        c.app.state.served.row_fn = lambda row: {**fn(row), "dest_freq": fn(row)["dest_freq"] + 1.0}
        assert c.post("/v1/predict/batch", json={"rows": bodies[150:]}).status_code == 200
    return log_dir


def test_monitoring_report_renders_what_it_found(bundle_dir, served_log, tmp_path):
    s = skew(served_log, bundle_dir)
    d = drift(served_log, bundle_dir, bucket="day", time_column="time_hour")
    assert [f.name for f in s.mismatched] == ["dest_freq"]
    page = write_html(tmp_path / "monitoring.html", monitoring_html(s, d, subtitle="test"))
    text = page.read_text()
    assert not re.search(r'(src|href)="(https?:)?//', text) and "<link" not in text  # self-contained
    shown = dom(page, tmp_path)
    assert _body_attr(shown, "rendered") == "yes"  # the page's script ran
    assert int(_body_attr(shown, "cards")) == len(d.features)
    assert int(_body_attr(shown, "charts")) == 2 * len(d.features)  # a histogram and a line per feature
    assert int(_body_attr(shown, "flagged-cards")) == len(d.flagged)
    assert re.search(r'id="skew-status"[^>]*>skew: 1 feature\(s\) mismatched<', shown)
    assert "dest_freq" in shown.split('id="skew-table"')[1].split("</table>")[0]
    img = screenshot(page, tmp_path, size="1280,3000")
    img.save(tmp_path.parent / "monitoring-report-test.png")
    assert pixels(img, ALERT_COLOR) > 500  # the red verdict badge (and flagged cards)
    assert pixels(img, TRAIN_COLOR) > 300 and pixels(img, SERVED_COLOR) > 300  # training and served bars


def test_a_clean_skew_report_is_green(bundle_dir, served_log, tmp_path):
    import polars as pl

    clean = pl.read_parquet(served_log / "*.parquet").head(150)  # the rows served before the fault
    s = skew(clean, bundle_dir)
    assert s.ok
    page = write_html(tmp_path / "clean.html", monitoring_html(s, None))
    shown = dom(page, tmp_path)
    assert re.search(r'id="skew-status"[^>]*>skew: 0 mismatches<', shown) and _body_attr(shown, "skew-ok") == "true"
    img = screenshot(page, tmp_path, "clean.png", "1000,500")
    assert pixels(img, OK_COLOR) > 500 and pixels(img, ALERT_COLOR) == 0


def test_compare_report_renders_both_models(bundle_dir, slice_df, tmp_path):
    from skewless.training.compare import compare
    from skewless.training.train import train

    other = tmp_path / "bundle_b"
    train(bundle_dir.parent / "build", other, num_boost_round=8, early_stopping_rounds=4, tracking=False)
    data = slice_df.filter(pl.col("month") == 2).head(2000)
    report = compare(bundle_dir, other, data, top=7)
    assert report.distributions and sum(report.distributions["a"]) == 2000
    page = write_html(tmp_path / "compare.html", compare_html(report))
    shown = dom(page, tmp_path)
    assert _body_attr(shown, "rendered") == "yes" and int(_body_attr(shown, "charts")) == 1
    assert float(_body_attr(shown, "agreement")) == pytest.approx(report.agreement["agree_rate"])
    movers = shown.split('id="movers"')[1].split("</table>")[0]
    assert movers.count("<tr>") == 1 + 7
    img = screenshot(page, tmp_path, "compare.png", "1280,900")
    assert pixels(img, TRAIN_COLOR) > 300 and pixels(img, SERVED_COLOR) > 300  # model A and model B


def test_cli_report_writes_the_page_and_exits_1_on_skew(bundle_dir, served_log, tmp_path):
    import sys

    out = tmp_path / "r" / "monitoring.html"
    proc = subprocess.run([sys.executable, "-m", "skewless", "report", str(served_log), "--bundle", str(bundle_dir),
                           "--out", str(out), "--time-column", "time_hour"], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    text = " ".join(proc.stdout.split())
    assert "MISMATCH dest_freq" in text and f"report: {out}" in text and "drift: 300 served rows" in text
    assert 'id="skew-status">skew: 1 feature(s) mismatched<' in out.read_text()
