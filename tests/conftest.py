"""Fixtures shared by the serving tests: one small demo bundle, built once per test process."""

from __future__ import annotations

import polars as pl
import pytest

from skewless.datasets import load_flights
from skewless.definitions.flights_fitted import flights_fitted
from skewless.training.build import build_dataset
from skewless.training.train import train

#: Training settings for test bundles: quick, and no MLflow run.
FAST = {"num_boost_round": 40, "early_stopping_rounds": 10, "tracking": False}


@pytest.fixture(scope="session")
def slice_df() -> pl.DataFrame:
    """January and February 2013 flights."""
    return load_flights().filter(pl.col("month") <= 2)


@pytest.fixture(scope="session")
def bundle_dir(tmp_path_factory, slice_df):
    """A flights_fitted bundle trained on ``slice_df`` (train: January, valid: 1-14 February, test: the rest).

    Shared: tests read it and copy it before changing anything.
    """
    root = tmp_path_factory.mktemp("serving_bundle")
    build_dataset(flights_fitted, slice_df, root / "build", label="arr_delay > 15", event_time="time_hour",
                  split=("2013-02-01", "2013-02-15"))
    train(root / "build", root / "bundle", **FAST)
    return root / "bundle"
