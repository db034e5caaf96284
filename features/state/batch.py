"""The batch side of lookups: polars ``join_asof`` (time-versioned tables) and left joins (static tables).

Point-in-time correct by construction: ``strategy="backward"`` never reads a row stamped after the training
row's time, ``allow_exact_matches`` and ``tolerance`` are passed through unchanged, and of rows stamped at the
same time polars takes the last (in table order, kept by stable sorts) — the store's "later write wins".
Rows with a null key or time are dropped from the tables, and outputs are nulled (or take the lookup's
``default``) where a request key or the request time is null, so no null ever matches anything (as online).
Where no state qualifies the output is the lookup's default (null unless given), as online; a hit is told
from a matched row holding null by a marker column joined with the state.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from skewless.backends.polars.dtypes import to_polars
from skewless.errors import SchemaError
from skewless.state.lookups import Lookups

_ROW = "__skewless_row"
_POS = "__skewless_pos"


def join_lookups(lookups: Lookups, spine: pl.LazyFrame | pl.DataFrame,
                 tables: Mapping[str, pl.LazyFrame | pl.DataFrame]) -> pl.LazyFrame:
    """``spine`` with every lookup's outputs appended, rows in the spine's order.

    Parameters
    ----------
    lookups
        The declared lookups.
    spine
        The training rows: at least the ``by`` and ``on`` columns.
    tables
        Each entity table's history by name: key, time (time-versioned) and value columns.
    """
    lf = spine.lazy().with_row_index(_ROW)
    missing = [t for t in lookups.tables if t not in tables]
    if missing:
        raise SchemaError(f"no data for entity tables {missing}")
    ons = {lk.on for lk in lookups.lookups if lk.on is not None}
    if ons:
        # join_asof needs the left side sorted by `on`; the row index restores the spine's order at the end.
        lf = lf.sort(next(iter(ons)), maintain_order=True, nulls_last=True)
    for n, lk in enumerate(lookups.lookups):
        t = lk.table
        right = tables[t.name].lazy()
        have = right.collect_schema()
        absent = [c for c in (*t.key, *([t.time] if t.versioned else []), *lk.columns) if c not in have]
        if absent:
            raise SchemaError(f"entity table {t.name!r}: the data has no column(s) {absent}")
        if t.versioned and have[t.time] != to_polars(t.time_dtype):
            raise SchemaError(f"entity table {t.name!r}: time column {t.time!r} is {have[t.time]} in the data, "
                              f"declared {t.time_dtype}")
        hit = f"__skewless_hit{n}"
        renames = {k: f"__skewless_key{i}" for i, k in enumerate(t.key)}
        renames.update({c: lk.prefix + c for c in lk.columns})
        keep = [*t.key, *([t.time] if t.versioned else []), *lk.columns]
        right = (right.select(keep)
                 .filter(pl.all_horizontal([pl.col(c).is_not_null() for c in keep[:len(t.key) + t.versioned]]))
                 .with_columns([pl.col(c).cast(to_polars(t.columns[c]), strict=True) for c in lk.columns])
                 .with_columns(pl.lit(True).alias(hit))
                 .rename(renames))
        keys = [renames[k] for k in t.key]
        if t.versioned:
            right = right.rename({t.time: "__skewless_time"}).sort("__skewless_time", maintain_order=True)
            lf = lf.join_asof(right, left_on=lk.on, right_on="__skewless_time", by_left=list(lk.by), by_right=keys,
                              strategy="backward", allow_exact_matches=lk.allow_exact_matches,
                              tolerance=lk.tolerance, check_sortedness=False).drop("__skewless_time", strict=False)
        else:
            dupes = right.group_by(keys).len().filter(pl.col("len") > 1).head(1).collect()
            if dupes.height:
                raise SchemaError(f"static entity table {t.name!r} has several rows for key "
                                  f"{tuple(dupes.row(0)[:-1])!r}; a static table has one row per key")
            lf = lf.join(right, left_on=list(lk.by), right_on=keys, how="left", maintain_order="left")
        no_state = pl.any_horizontal([pl.col(c).is_null() for c in (*lk.by, *([lk.on] if lk.on else []))]) \
            | pl.col(hit).is_null()
        defaults = lk.defaults()
        lf = lf.with_columns([pl.when(no_state).then(pl.lit(defaults[name], dtype=to_polars(dtype)))
                              .otherwise(pl.col(name)).alias(name) for name, dtype in lk.outputs.items()]).drop(hit)
    return lf.sort(_ROW).drop(_ROW)


def used_states(lookups: Lookups, spine: pl.LazyFrame | pl.DataFrame,
                tables: Mapping[str, pl.LazyFrame | pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """For each entity table, its rows that :func:`join_lookups` reads for ``spine`` (distinct, in table order).

    Replaying ``spine`` against these rows alone gives the same lookups as against the whole tables: each
    row chosen is the newest usable state of its key at its request's time, and no other chosen row of that
    key lies between it and the request (it would have been chosen instead). Ties keep the last row, as the
    join does. The bundle's golden state is this, for the golden rows.
    """
    lf = spine.lazy()
    out: dict[str, pl.DataFrame] = {}
    for name, t in lookups.tables.items():
        mine = [lk for lk in lookups.lookups if lk.table.name == name]
        cols = [c for c in t.columns if any(c in lk.columns for lk in mine)]
        keep = [*t.key, *([t.time] if t.versioned else []), *cols]
        right = (tables[name].lazy().select(keep)
                 .filter(pl.all_horizontal([pl.col(c).is_not_null() for c in keep[:len(t.key) + t.versioned]]))
                 .with_row_index(_POS))
        keys = [f"__skewless_key{i}" for i in range(len(t.key))]
        chosen = []
        for lk in mine:
            asked = [*lk.by, *([lk.on] if lk.on else [])]
            left = lf.select(asked).filter(pl.all_horizontal([pl.col(c).is_not_null() for c in asked]))
            r = right.select([*t.key, *([t.time] if t.versioned else []), _POS]).rename(dict(zip(t.key, keys)))
            if t.versioned:
                r = r.rename({t.time: "__skewless_time"}).sort("__skewless_time", maintain_order=True)
                j = left.sort(lk.on).join_asof(r, left_on=lk.on, right_on="__skewless_time", by_left=list(lk.by),
                                               by_right=keys, strategy="backward",
                                               allow_exact_matches=lk.allow_exact_matches, tolerance=lk.tolerance,
                                               check_sortedness=False)
            else:
                j = left.join(r, left_on=list(lk.by), right_on=keys, how="left")
            chosen.append(j.select(_POS).drop_nulls())
        positions = pl.concat(chosen).unique()
        out[name] = right.join(positions, on=_POS, how="semi").sort(_POS).drop(_POS).collect()
    return out
