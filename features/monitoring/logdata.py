"""Reading the served-feature log with polars (the finished Parquet files and any ``.part`` stream)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skewless.errors import SkewlessError

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

__all__ = ["load_log", "LogError"]


class LogError(SkewlessError, ValueError):
    """The served-feature log cannot be read or holds nothing to check."""


def load_log(source: "str | os.PathLike | pl.DataFrame | pl.LazyFrame") -> "pl.DataFrame":
    """The log records as one polars frame (columns of :func:`skewless.serving.feature_log.arrow_schema`).

    ``source`` is a log directory (its ``*.parquet`` files and the whole batches of its
    ``.arrows.part`` files, in name order) or a frame already read.
    """
    import polars as pl

    if isinstance(source, pl.LazyFrame):
        source = source.collect()
    if isinstance(source, pl.DataFrame):
        frame = source
    else:
        from skewless.serving.feature_log import read_table

        root = Path(source)
        if not root.is_dir():
            raise LogError(f"no served-feature log at {str(root)!r} (not a directory)")
        table = read_table(root)
        if table is None:
            raise LogError(f"the served-feature log at {str(root)!r} holds no records")
        frame = pl.from_arrow(table)
    missing = [c for c in ("request_id", "row", "time", "bundle_id", "inputs", "features") if c not in frame.columns]
    if missing:
        raise LogError(f"not a served-feature log: no column {', '.join(map(repr, missing))}")
    return frame


def only_bundle(frame: "pl.DataFrame", bundle_id: str) -> "tuple[pl.DataFrame, dict[str, int]]":
    """The rows served by ``bundle_id``, and how many rows each other bundle served."""
    import polars as pl

    counts = frame.group_by("bundle_id").len().sort("bundle_id")
    others = {b: n for b, n in counts.iter_rows() if b != bundle_id}
    return frame.filter(pl.col("bundle_id") == bundle_id), others


def unnest(frame: "pl.DataFrame", column: str) -> "pl.DataFrame":
    """The fields of struct ``column`` as columns."""
    import polars as pl

    return frame.select(pl.col(column).struct.unnest())


