"""Demo: the flights_state features plus windowed aggregations of the departures, available at departure.

Every flight is an **event** at its actual departure (``time_hour`` + the scheduled minute + ``dep_delay``;
cancelled flights never departed and are no event) and a **request** at its scheduled departure
(``time_hour`` + the scheduled minute): every window is ``closed="left"`` and counts only the departures that
had happened by then, so the delay of a flight still at the gate or in the air is never read
(:mod:`skewless.windows.flights` has the 11 windows: the tail number's departures, mean and max departure
delay in the previous 24 h and its departures so far; the carrier-origin pair's departures and delay rate in
the previous 1 h and 7 d and its departure-delay std over 7 d; the route's flights and mean air time over
7 d). The departures may arrive up to ``max_lateness = 1 h`` late online (a departure is reported within the
hour): the service keeps each entity's events of the last hour plus the longest period.

``build_dataset(flights_windows, ...)`` reads the departures from the shipped flights
(``Windowed(source=load_departures)``) unless ``events={"departures": ...}`` is given; the event id is the
flight's row number in the shipped table (:func:`skewless.windows.flights.flight_frames`).
"""

from __future__ import annotations

import datetime as _dt

from skewless import FeatureSet, Input, Windowed, Windows, col, duration
from skewless.api.expr import Expr
from skewless.definitions.flights_state import LOOKUPS, flights_state, split, training_label, TRAIN_END
from skewless.windows.flights import flight_events, flight_windows
from skewless.windows.spec import EventSource

__all__ = ["flights_windows", "departures", "departure_windows", "load_departures", "WINDOW_FEATURES", "REQUEST_AT",
           "training_label", "split", "TRAIN_END"]

#: The departures, reported up to an hour late.
departures = EventSource("departures", time=flight_events.time, order=flight_events.order,
                         columns=flight_events.columns, max_lateness=_dt.timedelta(hours=1))
#: The 11 windows of :data:`skewless.windows.flights.flight_windows` over :data:`departures`.
departure_windows = Windows(departures, flight_windows.features, requests_at="times")
#: A flight's request time: its scheduled departure.
REQUEST_AT = col("time_hour") + duration(minutes=col("sched_dep_time") % 100)


def load_departures():
    """The departures of every shipped flight (a polars DataFrame of :data:`departures`' columns)."""
    from skewless.windows.flights import flight_frames

    return flight_frames()[0]


#: The window features the model reads (each window output as it is, named ``win_...``).
WINDOW_FEATURES = {f"win_{name}": col(name) for name in departure_windows.outputs}

#: The demo's windowed set: flights_state's inputs, lookups and features, and the 11 windows.
flights_windows = FeatureSet(
    "flights_windows",
    {name: Input(f.dtype, f.nullable) for name, f in flights_state.request_schema().items()},
    {**{name: Expr(f.node) for name, f in flights_state.features.items()}, **WINDOW_FEATURES},
    lookups=LOOKUPS,
    windows=[Windowed(departure_windows, at=REQUEST_AT, source=load_departures)],
    doc=__doc__,
)
