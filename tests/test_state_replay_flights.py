"""The documented whole-table replay command (``scripts/replay_flights.py``) on a sample in CI: the first three
days of 2013 (~2,600 flights, planes + weather lookups), batch join vs the online path replayed into SQLite and
into a real Redis, 0 mismatching values. The whole table (336,776 requests) is the same command without
``--days`` (timings in benchmarks/RESULTS.md)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from redis_server import redis_server  # noqa: F401 - a fixture

ROOT = Path(__file__).resolve().parents[1]


def test_replay_of_three_days_of_flights_has_no_mismatch_on_either_store(redis_server):  # noqa: F811
    proc = subprocess.run([sys.executable, "scripts/replay_flights.py", "--days", "3", "--redis", redis_server.url],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    found = re.findall(r"(sqlite|redis): ([\d,]+) requests, ([\d,]+) values, (\d+) mismatches", proc.stdout)
    assert [kind for kind, *_ in found] == ["sqlite", "redis"], proc.stdout
    for kind, requests, values, mismatches in found:
        n = int(requests.replace(",", ""))
        assert n > 2500 and int(values.replace(",", "")) == 9 * n and mismatches == "0", proc.stdout
