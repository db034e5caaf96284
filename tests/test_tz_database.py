"""The per-request time-zone database (the pinned ``tzdata`` package) agrees with polars'.

Polars converts with the database compiled into chrono-tz; the per-request
runtime reads ``tzdata`` and never the operating system's copy. A rule change
between the two vintages would make field accessors differ silently between
training and serving, so the zones the parity cases use are compared here.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from skewless.backends.polars.tzcheck import compare_with_polars
from skewless.errors import SchemaError
from skewless.runtime.temporal import CUTOFF_SECONDS, _table_seconds, local_value
from skewless.runtime.tz import check_zone, get_zone, tzdata_version
from parity_tests.cases.temporal import ZONES

UTC = dt.timezone.utc
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)


def test_tzdata_version_is_known():
    assert tzdata_version()


@pytest.mark.parametrize("zone", ZONES)
def test_case_zones_agree_with_polars(zone):
    assert compare_with_polars([zone]) == []


def test_new_york_agrees_with_polars_1970_2037():
    assert compare_with_polars(["America/New_York"], range(1970, 2038)) == []


def test_case_zones_agree_with_polars_after_2099():
    # polars has no transition after 2099 (the offset of the end of 2099 stays); the
    # per-request tables copy that instead of zoneinfo's endless DST rules.
    assert compare_with_polars(ZONES, range(2098, 2103)) == []


def test_compare_reports_differences():
    lines = compare_with_polars(["Not/AZone"])
    assert lines and "unknown to tzdata" in lines[0]


@pytest.mark.parametrize("zone", ZONES[1:])
def test_zone_tables_follow_zoneinfo_before_2100(zone):
    """The bisect tables reproduce tzdata's zoneinfo offsets exactly up to the cutoff."""
    tz = get_zone(zone)
    rng = random.Random(zone)
    starts, _ = _table_seconds(zone)
    lo = int((dt.datetime(1, 1, 2, tzinfo=UTC) - EPOCH).total_seconds())
    samples = [rng.randrange(lo, CUTOFF_SECONDS) for _ in range(3000)] + [t + d for t in starts for d in (-1, 0, 1)]
    for s in samples:
        if s >= CUTOFF_SECONDS:
            continue
        want = (EPOCH + dt.timedelta(seconds=s)).astimezone(tz).replace(tzinfo=None)
        got = dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=local_value(s * 1_000_000, "us", zone))
        assert got == want, (zone, s)


def test_get_zone_reads_the_tzdata_package_not_the_os(tmp_path: Path):
    """With an OS database whose New York is really Tokyo, get_zone still gives New York."""
    import importlib.resources

    fake = tmp_path / "zoneinfo"
    (fake / "America").mkdir(parents=True)
    tokyo = importlib.resources.files("tzdata.zoneinfo").joinpath("Asia", "Tokyo").read_bytes()
    (fake / "America" / "New_York").write_bytes(tokyo)
    code = textwrap.dedent(
        """
        import datetime as dt, zoneinfo
        from skewless.runtime.tz import get_zone
        from skewless.runtime.temporal import zone_table
        instant = dt.datetime(2024, 1, 1, 12, tzinfo=dt.timezone.utc)
        assert instant.astimezone(zoneinfo.ZoneInfo("America/New_York")).hour == 21  # the fake OS copy
        assert instant.astimezone(get_zone("America/New_York")).hour == 7
        starts, offsets = zone_table("America/New_York", "us")
        assert -5 * 3600 * 10**6 in offsets and 9 * 3600 * 10**6 not in offsets
        """
    )
    env = {**os.environ, "PYTHONTZPATH": str(fake)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


@pytest.mark.parametrize("bad", ["", "Bogus/Zone", "../etc/passwd", "/etc/localtime", "+05:00", 5])
def test_check_zone_refuses(bad):
    with pytest.raises(SchemaError):
        check_zone(bad)
