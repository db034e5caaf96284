"""Property test: every temporal op agrees between polars and the per-request runtime on
random instants of 1900-2100 (uniform, and clustered around the DST transitions of the
case zones, odd offsets included), read in several zones, and on random dates."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skewless import Date, Datetime, FeatureSet, Input, col
from skewless.parity import check_parity
from skewless.runtime.temporal import _table_seconds
from skewless.runtime.tz import get_zone

from .cases.temporal import ZONES

UTC = dt.timezone.utc
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
US = 1_000_000


def _seconds(d: dt.datetime) -> int:
    return int((d - EPOCH).total_seconds())


LO, HI = _seconds(dt.datetime(1900, 1, 1, tzinfo=UTC)), _seconds(dt.datetime(2101, 1, 1, tzinfo=UTC))
TRANSITIONS = sorted({t for z in ZONES for t in _table_seconds(z)[0] if LO <= t < HI})

# Inputs: the same instant read in every case zone (microseconds), in New York and
# Chatham at millisecond resolution, as a naive wall clock, plus a second New York
# instant for durations and an independent date.
_INPUTS = {f"z{i}": Datetime("us", z) for i, z in enumerate(ZONES)}
_INPUTS |= {"ny_ms": Datetime("ms", "America/New_York"), "ch_ms": Datetime("ms", "Pacific/Chatham"),
            "naive": Datetime("us"), "other": Datetime("us", "America/New_York"), "d": Date}


def _accessors(x, prefix: str, clock: bool = True) -> dict:
    d = x.dt
    out = {"year": d.year(), "month": d.month(), "day": d.day(), "weekday": d.weekday(),
           "ordinal_day": d.ordinal_day(), "week": d.week(), "quarter": d.quarter(), "epoch_s": d.epoch("s"),
           "epoch_ms": d.epoch("ms"), "epoch_us": d.epoch("us"), "epoch_d": d.epoch("d"), "date": d.date()}
    if clock:
        out |= {"hour": d.hour(), "minute": d.minute(), "second": d.second(), "millisecond": d.millisecond(),
                "microsecond": d.microsecond()}
    return {f"{prefix}_{k}": v for k, v in out.items()}


def _build() -> FeatureSet:
    feats: dict = {}
    for name, dtype in _INPUTS.items():
        feats |= _accessors(col(name), name, clock=dtype is not Date)
    # convert_time_zone from UTC and from naive into every zone, read on the new wall clock.
    for i, zone in enumerate(ZONES):
        for src in ("z0", "naive", "ny_ms"):
            conv = col(src).dt.convert_time_zone(zone)
            feats[f"{src}_to{i}"] = conv
            feats[f"{src}_to{i}_hour"] = conv.dt.hour()
            feats[f"{src}_to{i}_minute"] = conv.dt.minute()
            feats[f"{src}_to{i}_day"] = conv.dt.day()
    # Durations across DST; integer (truncated toward zero) and fractional totals.
    for name, diff in (("dur", col("z1") - col("other")), ("dur_utc", col("z0") - col("other").dt.convert_time_zone("UTC"))):
        feats[name] = diff
        for unit in ("days", "hours", "minutes", "seconds", "milliseconds", "microseconds"):
            feats[f"{name}_{unit}"] = getattr(diff.dt, f"total_{unit}")()
            feats[f"{name}_{unit}_f"] = getattr(diff.dt, f"total_{unit}")(fractional=True)
    feats["ny_after_other"] = col("z1") > col("other")
    # Temporal arithmetic (issue 13): shift by a Duration across DST (as an instant), mixed units, Date ± Duration.
    span = col("z1") - col("other")
    feats["shift_ny"] = (col("other") + span).dt.epoch("us")
    feats["shift_back_hour"] = (col("z1") - span).dt.hour()
    feats["shift_ms"] = (col("ny_ms") + span).dt.epoch("ms")
    feats["date_plus_span"] = (col("d") + span).dt.epoch("d")
    feats["date_minus_span"] = (col("d") - span).dt.epoch("d")
    feats["naive_minus_date"] = col("naive") - col("d")
    feats["ms_minus_us"] = col("ny_ms") - col("other")
    # dt.truncate / dt.offset_by (issue 13) on the wall clock of zones whose transitions are all daylight-saving ones
    # or folds (New York, London: polars raises only in gaps between two standard offsets, none there since 1900).
    for name, everys in (("z1", ("15m", "1d")), ("z2", ("1h", "1mo")), ("ny_ms", ("1w",)), ("naive", ("1mo", "1y")),
                         ("d", ("1w", "1q"))):
        for every in everys:
            feats[f"{name}_trunc_{every}"] = col(name).dt.truncate(every).dt.epoch("ms")
    for name, by in (("z1", "25h"), ("naive", "1mo"), ("naive", "-1y"), ("d", "1w1d")):
        feats[f"{name}_offset_{by}"] = col(name).dt.offset_by(by).dt.epoch("ms")
    return FeatureSet("temporal_properties", {k: Input(v, nullable=True) for k, v in _INPUTS.items()}, feats)


FS = _build()

def _year_start(year: int) -> int:
    return _seconds(dt.datetime(year, 1, 1, tzinfo=UTC)) * US


# Uniform within a drawn year (hypothesis favours the bounds of a range, so 1900 and 2100
# come up often; 2100 matters: polars has no DST from 2100 on and the runtime must copy that).
_uniform = st.builds(
    lambda year, frac: _year_start(year) + int(frac * (_year_start(year + 1) - _year_start(year))),
    st.integers(1900, 2100),
    st.floats(0, 1, exclude_max=True),
)
_near_transition = st.builds(
    lambda t, delta: t * US + delta,
    st.sampled_from(TRANSITIONS),
    st.one_of(st.integers(-7200 * US, 7200 * US), st.sampled_from([-US, -1, 0, 1, US, -1800 * US, 1800 * US])),
)
# Where zoneinfo's rules would put the transitions of 2100 (52 weeks after those of 2099).
_ghost_2100 = st.builds(
    lambda t, delta: (t + 364 * 86_400) * US + delta,
    st.sampled_from([t for t in TRANSITIONS if t >= _seconds(dt.datetime(2099, 1, 1, tzinfo=UTC))]),
    st.integers(-8 * 86_400 * US, 8 * 86_400 * US),
)
instants = st.one_of(_uniform, _near_transition, _ghost_2100)


@st.composite
def rows(draw) -> dict:
    v = draw(instants)
    other = draw(st.one_of(instants, st.builds(lambda d: v + d, st.integers(-3 * 86_400 * US, 3 * 86_400 * US))))
    moment = EPOCH + dt.timedelta(microseconds=v)
    row = {f"z{i}": moment.astimezone(get_zone(z)) for i, z in enumerate(ZONES)}
    ms = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    row |= {"ny_ms": ms.astimezone(get_zone("America/New_York")), "ch_ms": ms.astimezone(get_zone("Pacific/Chatham")),
            "naive": moment.replace(tzinfo=None),
            "other": (EPOCH + dt.timedelta(microseconds=other)).astimezone(get_zone("America/New_York")),
            "d": draw(st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)))}
    if draw(st.integers(0, 19)) == 0:  # sometimes null, in one column
        row[draw(st.sampled_from(sorted(row)))] = None
    return row


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(rows(), min_size=1, max_size=16))
def test_temporal_ops_agree(batch):
    report = check_parity(FS, batch)
    assert report.ok, report.summary()
