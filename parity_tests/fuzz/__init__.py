"""A grammar-based differential fuzzer for skewless (``python -m parity_tests.fuzz --minutes N --seed S``).

Random typed expression trees over the whole public API (:mod:`.grammar`), over a
schema of every dtype, nullable and not (:mod:`.schema`), on random rows with edge
values, checked by two oracles (:mod:`.run`): batch (in memory, streaming, one-row
frames) against per request, and skewless batch against the same expression in raw
polars (:mod:`.mirror`). Findings are shrunk and deduplicated; refusals are counted
by kind; the report shows which ops and op pairs were exercised.
"""

from .run import Finding, Stats, check, coverage, report, run, shrink

__all__ = ["Finding", "Stats", "check", "coverage", "report", "run", "shrink"]
