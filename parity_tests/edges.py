"""Edge values used by default for each input dtype in parity cases (they live in :mod:`skewless.testing.edges`)."""

from skewless.testing.edges import (  # noqa: F401
    DATES,
    DATETIMES_UTC,
    DURATIONS,
    FLOATS,
    INT64_MAX,
    INT64_MIN,
    INTS,
    STRINGS,
    edge_rows,
    edge_values,
)
