"""The batch build of windows bounded in memory: entity-partitioned chunks streamed to one parquet file.

Windows never cross entities, so the events and the spine rows of one set of entities are all a window
aggregate needs. :func:`write_windows` splits every entity table's keys into ``P`` partitions by a hash of
the key (``P = ceil(events / chunk_events)``): one streaming pass writes each source's rows into one
directory of parquet files per partition (``sink_parquet(pl.PartitionBy(...))``; the ``LazyFrame`` is never
collected whole); then, partition by partition, it reads only those events and spine rows, computes the features with
:func:`skewless.windows.batch.compute_windows`' kernel and writes them to a temporary parquet file. The
partitions are then streamed into ``path`` (the spine's columns, then the features; rows grouped by
partition, not in the spine's order: ``row_index=`` names a column with each row's position in the spine).
Peak memory follows ``chunk_events`` (plus the spine rows of one partition), not the number of events.

The values are the same bits as :func:`~skewless.windows.batch.compute_windows` (tested): each aggregate is
exact and depends on its window's contents only.

With several entity tables (windows over different keys) each table is partitioned by its own key and the
tables' features are joined on the spine position at the end (a streaming join: its memory follows the
number of spine rows, not of events).
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from skewless.backends.polars.dtypes import to_polars
from skewless.errors import SchemaError
from skewless.windows.batch import _ROW, _entity, _events, _requests, check_ids
from skewless.windows.spec import Windows

_POS = "__skewless_pos"
_PART = "__skewless_part"


@dataclass(frozen=True)
class WindowsWritten:
    """What :func:`write_windows` wrote: the file, its rows, and the partitions it was built in."""

    path: Path
    rows: int
    events: int
    partitions: int


def write_windows(windows: Windows, spine: pl.DataFrame | pl.LazyFrame, events: pl.DataFrame | pl.LazyFrame,
                  path: str | os.PathLike, *, chunk_events: int = 2_000_000, row_index: str | None = None,
                  engine: str = "streaming") -> WindowsWritten:
    """Write the spine's columns and every windowed feature of every ``spine`` row to the parquet file ``path``.

    Parameters
    ----------
    windows
        The declared windows.
    spine, events
        As for :func:`~skewless.windows.batch.compute_windows`; a ``LazyFrame`` (``pl.scan_parquet(...)``) is
        read partition by partition, never whole.
    path
        The parquet file written (atomically: a temporary file renamed when complete).
    chunk_events
        The events per partition aimed at (the memory bound).
    row_index
        When given, a column of that name with each row's position in the spine (rows are written grouped
        by partition).
    engine
        The polars engine of the partition scans.
    """
    if chunk_events < 1:
        raise ValueError(f"chunk_events must be >= 1, got {chunk_events}")
    src = windows.source
    ev_lf, sp_lf = events.lazy(), spine.lazy()
    sp_names = sp_lf.collect_schema().names()
    for name in (row_index, *windows.outputs):
        if name is not None and name in sp_names:
            raise SchemaError(f"windows of {src.name!r}: the spine already has a column {name!r}")
    n_events = ev_lf.select(pl.len()).collect(engine=engine).item()
    parts = max(1, math.ceil(n_events / chunk_events))
    key_dtypes = ev_lf.collect_schema()
    sp_lf = sp_lf.with_row_index(_POS)
    out = Path(path)
    work = Path(tempfile.mkdtemp(prefix=".skewless-windows-", dir=out.parent if out.parent.exists() else None))
    try:
        _check_ids(src, ev_lf, parts, engine, work)
        tables = []
        ev_schema = ev_lf.select(list(src.columns)).collect_schema()
        sp_schema = sp_lf.collect_schema()
        for i, ent in enumerate(windows.entities):
            keys = [pl.col(k).cast(key_dtypes[k], strict=True) for k in ent.by]
            part_of = (pl.struct(keys).hash(0) % parts).fill_null(0).alias(_PART)
            # one streaming pass per source splits it into the partitions' files (hive directories)
            ev_dir, sp_dir = work / f"t{i}-events", work / f"t{i}-spine"
            _split(ev_lf.select(list(src.columns)).with_columns(part_of), ev_dir, engine)
            _split(sp_lf.with_columns(part_of), sp_dir, engine)
            files = []
            for p in range(parts):
                ev = _events(windows, _part(ev_dir, p, ev_schema), engine, check=False)
                sp = _part(sp_dir, p, sp_schema).collect(engine=engine)
                feats = _entity(windows, ent, ev, _requests(windows, sp)) if sp.height else {
                    n: pl.Series(n, [], dtype=to_polars(windows.outputs[n])) for n in ent.features}
                frame = (sp if i == 0 else sp.select(_POS)).with_columns(
                    feats[n].cast(to_polars(windows.outputs[n])).alias(n) for n in ent.features)
                f = work / f"t{i}-p{p}.parquet"
                frame.write_parquet(f)
                files.append(f)
                del ev, sp, feats, frame  # the bound: one partition in memory at a time
            shutil.rmtree(ev_dir, ignore_errors=True)
            shutil.rmtree(sp_dir, ignore_errors=True)
            tables.append(pl.scan_parquet(files))
        whole = tables[0]
        for t in tables[1:]:
            whole = whole.join(t, on=_POS, how="left")
        names = [c for c in sp_names] + list(windows.outputs)
        whole = whole.select(*([pl.col(_POS).alias(row_index)] if row_index else []), *names)
        tmp = out.with_name(out.name + ".partial")
        whole.sink_parquet(tmp, engine=engine)
        os.replace(tmp, out)
        rows = pl.scan_parquet(out).select(pl.len()).collect().item()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return WindowsWritten(out, rows, n_events, parts)


def _split(lf: pl.LazyFrame, directory: Path, engine: str) -> None:
    """Stream ``lf`` into one directory of parquet files per value of its partition column (one pass)."""
    lf.sink_parquet(pl.PartitionBy(str(directory), key=_PART, include_key=False), mkdir=True, engine=engine)


def _part(directory: Path, p: int, schema) -> pl.LazyFrame:
    """The rows of partition ``p`` written by :func:`_split` (none: an empty frame of ``schema``)."""
    files = sorted((directory / f"{_PART}={p}").glob("*.parquet"))
    return pl.scan_parquet(files) if files else pl.LazyFrame(schema=schema)


def _check_ids(src, ev_lf: pl.LazyFrame, parts: int, engine: str, work: Path) -> None:
    """The order column is a unique event id: split by the id's hash in one pass, checked partition by
    partition (a repeated id lands in one partition; memory follows one partition's ids)."""
    ids = pl.col(src.order).cast(pl.Int64, strict=True).alias(src.order)
    directory = work / "ids"
    _split(ev_lf.select(ids).with_columns((ids.hash(0) % parts).fill_null(0).alias(_PART)), directory, engine)
    schema = {src.order: pl.Int64}
    for p in range(parts):
        check_ids(src, _part(directory, p, schema).collect(engine=engine).to_series())
    shutil.rmtree(directory, ignore_errors=True)
