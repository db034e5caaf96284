"""Property test: rows drawn from the flights feature set's declared schema agree on both runtimes."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skewless.definitions.flights import flights
from skewless.parity import check_parity

from .strategies import rows_for

# Realistic values mixed in with random ones, so that branches on codes are exercised.
EXAMPLES = {
    "carrier": ["AA", "DL", "UA", "US", "B6", "WN", "9E"],
    "origin": ["JFK", "LGA", "EWR"],
    "dest": ["LAX", "IAH", "ORD"],
    "tailnum": ["N14228", "N0EGMQ", "N"],
    "dep_time": [2400, 1, 517, 2359],
    "sched_dep_time": [2359, 515, 0],
    "sched_arr_time": [5, 830, 2400],
    "air_time": [0, 1, 227],
}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(rows_for(flights, examples=EXAMPLES), min_size=1, max_size=8))
def test_flights_rows_agree(rows):
    report = check_parity(flights, rows)
    assert report.ok, report.summary()
