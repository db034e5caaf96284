"""Parity checks for your own CI: :func:`assert_parity` and the row generators behind it.

>>> from skewless import FeatureSet, Float64, Input, col
>>> from skewless.testing import assert_parity
>>> fs = FeatureSet("demo", {"x": Input(Float64, nullable=True)}, {"x_log": col("x").log1p().fill_null(0.0)})
>>> assert_parity(fs, [{"x": 1.0}, {"x": None}], examples=20).rows_checked["real rows"]
2

The rows it checks, batch (polars) against per request (the generated function):

* **real rows** — ``data``: any frame skewless takes (polars, pandas, pyarrow, a path or glob)
  or a list of row dicts;
* **edge rows** — the cross product of each declared input's edge values (``-0.0``, NaN, ±inf,
  int64 bounds, DST instants, Unicode case traps, ...; :func:`skewless.testing.edges.edge_rows`);
* **hypothesis rows** — ``examples`` lists of rows drawn from the declared input schema
  (:func:`skewless.testing.strategies.rows_for`), shrunk to a minimal failing list on a failure;
* **one-row frames** — the first rows of each kind also go through polars one row per frame,
  the shape a service's batch fallback sees.

Install ``hypothesis`` (``pip install 'skewless[testing]'``) for the generated rows, or pass ``examples=0``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

from ..errors import SkewlessError
from .edges import edge_rows, edge_values
from .strategies import rows_for, values_for

if TYPE_CHECKING:  # pragma: no cover
    from ..compiled import CompiledFeatureSet

__all__ = ["assert_parity", "ParityAssertionError", "ParityChecks", "edge_rows", "edge_values", "rows_for",
           "values_for"]


class ParityAssertionError(AssertionError):
    """The two runtimes disagree: the message holds the parity report of the failing rows."""


@dataclass
class ParityChecks:
    """What :func:`assert_parity` checked (returned when everything agrees)."""

    feature_set: str
    rows_checked: dict[str, int] = field(default_factory=dict)
    udf_features: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        done = ", ".join(f"{n:,} {kind}" for kind, n in self.rows_checked.items())
        udf = (f"; UDF features {', '.join(self.udf_features)} checked on these rows, outside the op-by-op proof"
               if self.udf_features else "")
        return f"parity {self.feature_set!r}: both runtimes agree on {done}{udf}"


def _compiled(fs: Any) -> "CompiledFeatureSet":
    from ..compiled import CompiledFeatureSet

    if not isinstance(fs, CompiledFeatureSet):
        raise SkewlessError(f"assert_parity takes a FeatureSet or a FittedFeatureSet, not {type(fs).__name__}")
    if fs.needs_state:
        raise SkewlessError(f"feature set {fs.name!r} has fitted ops: fit it first (skewless.fit(fs, training_rows)) "
                            f"and pass the FittedFeatureSet")
    return fs


def _check(fs: Any, rows: Any, kind: str, checks: ParityChecks, one_row_frames: int, **kwargs: Any) -> None:
    from ..parity import check_parity

    report = check_parity(fs, rows, **kwargs)
    if not report.ok:
        raise ParityAssertionError(f"{kind}: {report.summary()}")
    checks.rows_checked[kind] = checks.rows_checked.get(kind, 0) + report.rows
    if one_row_frames and report.rows:
        head = _head(rows, one_row_frames)
        single = check_parity(fs, head, single_row_frames=True, **kwargs)
        if not single.ok:
            raise ParityAssertionError(f"{kind}, one row per polars frame: {single.summary()}")
        checks.rows_checked["one-row frames"] = checks.rows_checked.get("one-row frames", 0) + single.rows


def _head(rows: Any, n: int) -> Any:
    import polars as pl

    from ..frames import as_polars

    rows = as_polars(rows)
    if isinstance(rows, (pl.DataFrame, pl.LazyFrame)):
        return rows.head(n)
    return list(rows)[:n]


def assert_parity(
    feature_set: Any,
    data: Any = None,
    *,
    edges: bool = True,
    examples: int = 200,
    one_row_frames: int = 20,
    edge_limit: int = 3000,
    tolerances: Mapping[str, int] | None = None,
    seed: int = 0,
) -> ParityChecks:
    """Assert that batch and per-request results of ``feature_set`` are identical; raise naming the rows if not.

    Parameters
    ----------
    feature_set : FeatureSet or FittedFeatureSet
        A set with fitted ops must be fitted first (:func:`skewless.fit`).
    data : frame, path, glob or list of row dicts, optional
        Real rows (your data, or a sample of it). Extra columns are ignored.
    edges : check the edge-value rows of the declared inputs (default True).
    examples : how many hypothesis examples (each a list of 1-8 rows); 0 turns them off.
        Deterministic (``derandomize``): the same rows on every run, so CI does not flake.
    one_row_frames : the first N rows of each kind also go through polars one row per frame (0: off).
    edge_limit : at most this many edge rows (the cross product is sampled above it).
    tolerances : ``{output column: ulps}`` for float features whose definition documents why bitwise
        equality cannot hold (default: bitwise everywhere).
    seed : the sample of edge rows above ``edge_limit``.

    Returns
    -------
    ParityChecks
        How many rows of each kind agreed (and which features are UDFs, checked but outside the op proof).

    Raises
    ------
    ParityAssertionError
        (an ``AssertionError``, so pytest shows it as a failed assertion) with the parity report:
        which feature, which rows, both values.
    """
    fs = _compiled(feature_set)
    checks = ParityChecks(fs.name, udf_features=_udf_features(fs.plain))
    kwargs = {"tolerances": dict(tolerances or {})}
    if data is not None:
        _check(fs, data, "real rows", checks, one_row_frames, **kwargs)
    if edges:
        columns = {name: (f.dtype, f.nullable) for name, f in fs.input_schema().items()}
        _check(fs, edge_rows(columns, limit=edge_limit, seed=seed), "edge rows", checks, one_row_frames, **kwargs)
    if examples:
        _hypothesis(fs, examples, checks, kwargs)
    return checks


def _udf_features(fs: Any) -> list[str]:
    try:
        from ..ir.udf import Udf
    except ImportError:  # pragma: no cover - before UDFs existed
        return []
    from ..ir.base import walk

    return [name for name, f in fs.features.items() if any(isinstance(n, Udf) for n in walk(f.node))]


def _hypothesis(fs: Any, examples: int, checks: ParityChecks, kwargs: dict[str, Any]) -> None:
    try:
        from hypothesis import HealthCheck, given, settings
        from hypothesis import strategies as st
    except ImportError:  # pragma: no cover - hypothesis is a test dependency
        raise SkewlessError("assert_parity(examples=...) needs hypothesis: pip install 'skewless[testing]' "
                            "(or pass examples=0)") from None
    from ..parity import check_parity

    counted = {"rows": 0}

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None, print_blob=False,
              suppress_health_check=list(HealthCheck))
    @given(st.lists(rows_for(fs.plain), min_size=1, max_size=8))
    def generated(rows: list[dict[str, Any]]) -> None:
        report = check_parity(fs, rows, **kwargs)
        if not report.ok:
            raise ParityAssertionError(f"hypothesis rows: {report.summary()}")
        counted["rows"] += report.rows

    generated()
    checks.rows_checked["hypothesis rows"] = counted["rows"]
