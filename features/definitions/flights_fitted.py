"""Demo: fitted features for the nycflights13 delay model, learned on a time-based training split.

Built on the inputs and expressions of :mod:`skewless.definitions.flights`.
Fit once in batch, store the artifact, serve it per request::

    from skewless import fit
    from skewless.artifact import save
    from skewless.datasets import load_flights
    from skewless.definitions.flights_fitted import flights_fitted, training_label, split

    train, _ = split(load_flights())
    fitted = fit(flights_fitted, train, label=training_label())
    save(fitted, "flights_fitted.json")
    features = fitted.transform_training(train, label=training_label())   # out-of-fold route/carrier encodings

The split is by scheduled departure (``time_hour``): January to September 2013
trains, October to December is held out, so vocabularies, bucket edges and
encodings never see the held-out months (the fitted set must still serve them:
unseen routes and tail numbers fall into the ``other`` buckets or the prior).
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any

from skewless import (
    FeatureSet,
    Input,
    col,
    frequency_encode,
    impute,
    min_max_scale,
    one_hot,
    ordinal_encode,
    quantile_bucketize,
    robust_scale,
    standardize,
    target_encode,
    uniform_bucketize,
    winsorize,
)
from skewless.api.expr import Expr
from skewless.definitions.flights import EVENT_TIME, flights

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

__all__ = ["flights_fitted", "training_label", "split", "TRAIN_END"]

#: First scheduled departure (UTC) of the held-out months.
TRAIN_END = _dt.datetime(2013, 10, 1, tzinfo=_dt.timezone.utc)


def _flights(name: str) -> Expr:
    """Reuse a feature of the base flights set as an expression."""
    return Expr(flights.features[name].node)


def training_label() -> "pl.Expr":
    """The label the demo model predicts, ``arr_delay > 15`` (null when the flight did not arrive)."""
    import polars as pl

    return pl.col("arr_delay") > 15


def split(df: "pl.DataFrame") -> "tuple[pl.DataFrame, pl.DataFrame]":
    """Time-based split: flights scheduled before :data:`TRAIN_END` train, the rest is held out."""
    import polars as pl

    is_train = pl.col(EVENT_TIME) < TRAIN_END
    return df.filter(is_train), df.filter(~is_train)


_features: dict[str, Any] = {
    # --- scaled numbers ----------------------------------------------------------
    "distance_log_std": standardize(_flights("distance_log")),
    "distance_robust": robust_scale(col("distance")),
    "air_time_scaled": min_max_scale(col("air_time")),
    "speed_std": standardize(_flights("speed_mph")),
    "local_hour_std": standardize(_flights("local_hour")),
    "dep_delay_imputed": impute(col("dep_delay"), "median"),
    "dep_delay_winsorized": winsorize(col("dep_delay"), 0.01, 0.99),
    # --- buckets --------------------------------------------------------------------
    "sched_hour_bin": quantile_bucketize(_flights("sched_dep_hour"), 8),
    "sched_minute_bin": uniform_bucketize(_flights("sched_dep_minute_of_day"), 24),
    "distance_bin": quantile_bucketize(col("distance"), 10),
    # --- vocabularies -------------------------------------------------------------------
    "carrier_oh": one_hot(col("carrier"), max_categories=10),
    "origin_oh": one_hot(col("origin")),
    "dep_delay_band_oh": one_hot(_flights("dep_delay_band")),
    "dest_code": ordinal_encode(col("dest"), min_frequency=100),
    "dest_freq": frequency_encode(col("dest")),
    "tailnum_freq": frequency_encode(col("tailnum")),
    # --- target encodings (label: arr_delay > 15) ------------------------------------------
    "route": _flights("route"),
    "route_te": target_encode(col("route"), smoothing=20.0),
    "carrier_te": target_encode(col("carrier"), smoothing=20.0),
    "tail_te": target_encode(col("tailnum"), smoothing=50.0),
}

#: The fitted demo set: same inputs as :data:`skewless.definitions.flights.flights`.
flights_fitted = FeatureSet(
    "flights_fitted",
    {name: Input(f.dtype, f.nullable) for name, f in flights.inputs.items()},
    _features,
    doc=__doc__,
)
