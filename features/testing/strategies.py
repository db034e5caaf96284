"""Hypothesis strategies that draw whole rows from a feature set's declared input schema."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

from skewless.feature_set import FeatureSet
from skewless.dtypes import Boolean, DataType, Date, Datetime, Duration, Float64, Int64, String
from skewless.runtime.tz import get_zone

from .edges import edge_values

_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8", exclude_categories=("Cs",)),
        st.sampled_from(list("aAzZ09 -_.İıΣσςßẞ\u212a\u0301\u00a0\u2028\x1c🙂東")),
    ),
    max_size=12,
)


def values_for(dtype: DataType, *, examples: list[Any] | None = None) -> st.SearchStrategy[Any]:
    """Values of ``dtype``, mixing random draws with the dtype's edge values (and ``examples``)."""
    if isinstance(dtype, Float64):
        base = st.floats(allow_nan=True, allow_infinity=True)
    elif isinstance(dtype, Int64):
        base = st.one_of(st.integers(-(2**63), 2**63 - 1), st.integers(-3000, 3000))
    elif isinstance(dtype, Boolean):
        base = st.booleans()
    elif isinstance(dtype, String):
        base = _TEXT
    elif isinstance(dtype, Datetime):
        naive = st.datetimes(min_value=dt.datetime(1900, 1, 2), max_value=dt.datetime(2100, 12, 30))
        if dtype.time_zone is None:
            base = naive
        else:
            zone = get_zone(dtype.time_zone)
            base = naive.map(lambda d: d.replace(tzinfo=dt.timezone.utc).astimezone(zone))
        if dtype.time_unit == "ms":
            base = base.map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))
    elif isinstance(dtype, Date):
        base = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31))
    elif isinstance(dtype, Duration):
        base = st.timedeltas(min_value=dt.timedelta(days=-20000), max_value=dt.timedelta(days=20000))
    else:
        raise TypeError(f"no strategy for {dtype!r}")
    pool = edge_values(dtype, nullable=False) + list(examples or [])
    return st.one_of(base, st.sampled_from(pool))


def rows_for(fs: FeatureSet, *, examples: dict[str, list[Any]] | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """Rows with every declared input (None drawn only for nullable ones)."""
    examples = examples or {}
    fields = {}
    for name, field in fs.inputs.items():
        strat = values_for(field.dtype, examples=examples.get(name))
        fields[name] = st.one_of(st.none(), strat) if field.nullable else strat
    return st.fixed_dictionaries(fields)
