"""The batch point-in-time join of a spine larger than memory: in slices of rows, written as parquet parts.

:func:`~skewless.state.batch.join_lookups` holds the whole spine: ``join_asof`` needs its left side sorted
by time and the spine's order is restored by a sort at the end, so the polars plan does not stream (measured
in ``benchmarks/state.py``: ~270 bytes per spine row for the flights lookups). But every output row depends
only on its own spine row and the entity tables, so the spine can be joined slice by slice: each slice of
``chunk_rows`` rows is joined on its own (the tables are read once and shared) and written as the next
parquet part. Memory is bounded by one slice plus the tables, the parts in order are the spine in order,
and each value is the one :func:`join_lookups` gives (the same function computes it; a test compares).

The output is a directory of ``part-00000.parquet``, ``part-00001.parquet``, ... written under a temporary
name and renamed into place at the end: a failed or interrupted run leaves no directory that looks complete.
Read it back with ``pl.scan_parquet(out / "*.parquet")``.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path

import polars as pl

from skewless.errors import SkewlessError
from skewless.state.batch import join_lookups
from skewless.state.lookups import Lookups

__all__ = ["sink_lookups"]


def sink_lookups(lookups: Lookups, spine: pl.LazyFrame | pl.DataFrame | str | Path,
                 tables: Mapping[str, pl.LazyFrame | pl.DataFrame], out: str | Path, *,
                 chunk_rows: int = 1_000_000, overwrite: bool = False) -> int:
    """Write ``join_lookups(lookups, spine, tables)`` to the parquet directory ``out``, slice by slice.

    Parameters
    ----------
    lookups, tables
        As for :func:`~skewless.state.batch.join_lookups`; the tables are collected once.
    spine
        A frame, or a parquet file or glob (scanned; only one slice is in memory at a time).
    out
        The output directory (must not exist unless ``overwrite``).
    chunk_rows
        Spine rows per slice (and per part file).

    Returns
    -------
    int
        The number of rows written.
    """
    if chunk_rows < 1:
        raise SkewlessError(f"chunk_rows must be at least 1, got {chunk_rows}")
    out = Path(out)
    if out.exists() and not overwrite:
        raise SkewlessError(f"{str(out)!r} exists; pass overwrite=True to replace it")
    lf = pl.scan_parquet(str(spine)) if isinstance(spine, (str, Path)) else spine.lazy()
    total = lf.select(pl.len()).collect().item()
    held = {name: t.lazy().collect() for name, t in tables.items()}
    tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.partial")
    tmp.mkdir(parents=True)
    try:
        written = 0
        for part, offset in enumerate(range(0, max(total, 1), chunk_rows)):
            piece = lf.slice(offset, chunk_rows).collect()
            joined = join_lookups(lookups, piece, held).collect()
            joined.write_parquet(tmp / f"part-{part:05d}.parquet")
            written += joined.height
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return written
