"""Hypothesis strategies drawing rows from a declared schema (they live in :mod:`skewless.testing.strategies`)."""

from skewless.testing.strategies import rows_for, values_for  # noqa: F401
