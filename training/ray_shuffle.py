"""The Ray engine's windows of an entity whose events would be shipped many times: a hash shuffle by entity.

The Ray engine gives each partition the events its rows' windows can read (``ray_engine._readable_events``).
A lifetime window (``cum_*``) reads every earlier event of its key, so with the source in time order the
i-th of P partitions needs about i/P of all events of its keys, ~P/2 copies in all (the demo's
``tail_departures_so_far`` over 50 partitions: 19.8 copies). For such an entity group — a lifetime window
whose events, left out of the cut, save more than :data:`SHUFFLE_SAVING` copies of the source's events — the
rows go to the events instead:

1. the driver puts each key the partitions ask for into one of ``B`` buckets (a hash of the key) and cuts the
   events once: bucket ``b`` gets the events of its keys up to their last request (one copy in all);
2. each partition sends each bucket the requests (its spine rows: keys, request time, global position) of
   the keys in that bucket (stage ``spine``; rows with a null key or time go to bucket 0);
3. each bucket computes the group's windows with ``compute_windows`` over all its requests and events — the
   single machine's kernel, on the group's features alone (a window's value depends only on its entity's
   events) — and sends each partition its rows' values back (stage ``bucket``);
4. the partition puts them back in row order (by global position) next to the windows it computed itself.

What moves: each event of the group once, each request's keys and time twice (there and back with the
values), instead of ~P/2 copies of the events.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

#: An entity group with a lifetime window is shuffled when not cutting its events saves more than this many
#: copies of the source's events (shuffling ships about one copy, and the requests there and back).
SHUFFLE_SAVING = 1.5
_POS, _BUCKET = "__skewless_pos", "__skewless_bucket"


@dataclass(frozen=True)
class Group:
    """One shuffled entity group: the window declaration's index, the entity's index in its windows."""

    declaration: int
    entity: int

    def windows(self, windows: Any) -> Any:
        """The group's features alone, as a :class:`~skewless.windows.Windows` of the same source."""
        from skewless.windows.spec import Windows

        w = windows.declared[self.declaration].windows
        ent = w.entities[self.entity]
        return Windows(w.source, {n: w.features[n] for n in ent.features}, requests_at=w.requests_at)

    def by(self, windows: Any) -> list[str]:
        return list(windows.declared[self.declaration].windows.entities[self.entity].by)


def _bucket(by: list[str], buckets: int) -> "pl.Expr":
    import polars as pl

    key = pl.col(by[0]) if len(by) == 1 else pl.struct(by)
    return (key.hash(seed=18) % buckets).cast(pl.Int64).alias(_BUCKET)


def choose(windows: Any, events: dict[str, "pl.DataFrame"], asked: list[Any], shipped: Any) -> list[Group]:
    """The entity groups to shuffle: each group with a lifetime window whose events, left out of the cut,
    save more than :data:`SHUFFLE_SAVING` copies of its source's events (``shipped(k, skip)``: the events of
    declaration ``k`` the cut ships over all partitions when the groups ``skip`` are not cut)."""
    out: list[Group] = []
    if len(asked) < 2:
        return out
    for k, d in enumerate(windows.declared):
        total = events[d.windows.source.name].height
        before = None
        for j, ent in enumerate(d.windows.entities):
            if not ent.lifetime or not total:
                continue
            before = shipped(k, out) if before is None else before
            after = shipped(k, [*out, Group(k, j)])
            if before - after > SHUFFLE_SAVING * total:
                out.append(Group(k, j))
                before = after
    return out


def plan(windows: Any, events: dict[str, "pl.DataFrame"], asked: list[Any],
         groups: list[Group]) -> tuple[list[dict[Group, "pl.DataFrame"]], list[dict[Group, "pl.DataFrame"]]]:
    """``(routes, bucket_events)``: per partition, each group's asked keys with their bucket; per bucket, each
    group's events of its keys stamped up to the key's last request (the events' order kept). ``B`` = the
    number of partitions."""
    import polars as pl

    from skewless.backends.polars.dtypes import to_polars

    n = len(asked)
    routes: list[dict[Group, Any]] = [{} for _ in range(n)]
    bucket_events: list[dict[Group, Any]] = [{} for _ in range(n)]
    for g in groups:
        by = g.by(windows)
        src = windows.declared[g.declaration].windows.source
        wanted = pl.concat([a[g.declaration][g.entity] for a in asked]).group_by(by).agg(pl.col("__hi").max()) \
            .with_columns(_bucket(by, n))
        for i, a in enumerate(asked):
            routes[i][g] = a[g.declaration][g.entity].select(by).join(wanted.select(*by, _BUCKET), on=by, how="left")
        ev = events[src.name].select(list(src.columns))
        t = pl.col(src.time).cast(to_polars(src.columns[src.time]), strict=True).to_physical()
        mine = ev.join(wanted, on=by, how="inner", maintain_order="left").filter(t <= pl.col("__hi"))
        for b in range(n):
            bucket_events[b][g] = mine.filter(pl.col(_BUCKET) == b).select(list(src.columns))
    return routes, bucket_events


def spine_pieces(windows: Any, df: "pl.DataFrame", first: int, routes: dict[Group, "pl.DataFrame"],
                 buckets: int) -> list[dict[Group, "pl.DataFrame"]]:
    """Partition rows ``df`` (global positions from ``first``): per bucket, each group's requests routed there."""
    import polars as pl

    spines = windows.spines(df.select(list(windows.request_columns)))
    out: list[dict[Group, Any]] = [{} for _ in range(buckets)]
    for g, route in routes.items():
        by = g.by(windows)
        spine = spines[g.declaration].with_columns(pl.int_range(pl.len(), dtype=pl.Int64).add(first).alias(_POS))
        spine = spine.join(route, on=by, how="left", maintain_order="left", nulls_equal=False) \
            .with_columns(pl.col(_BUCKET).fill_null(0))
        for b in range(buckets):
            out[b][g] = spine.filter(pl.col(_BUCKET) == b).drop(_BUCKET)
    return out


def bucket_windows(windows: Any, pieces: list[dict[Group, "pl.DataFrame"]], events: dict[Group, "pl.DataFrame"],
                   starts: list[int]) -> list[dict[Group, "pl.DataFrame"]]:
    """One bucket: each group's windows over its requests from every partition (``pieces``, in partition
    order) and its events, with ``compute_windows``; per partition (first positions ``starts``), its rows'."""
    import numpy as np
    import polars as pl

    from skewless.windows.batch import compute_windows

    out: list[dict[Group, Any]] = [{} for _ in starts]
    for g in events:
        spine = pl.concat([p[g] for p in pieces])
        values = compute_windows(g.windows(windows), spine.drop(_POS), events[g]).with_columns(spine[_POS])
        where = np.searchsorted(np.asarray(starts), values[_POS].to_numpy(), side="right") - 1
        for i in range(len(starts)):
            out[i][g] = values.filter(pl.Series(where == i))
    return out


def join(windows: Any, df: "pl.DataFrame", events: dict[str, "pl.DataFrame"],
         pieces: list[dict[Group, "pl.DataFrame"]]) -> "pl.DataFrame":
    """``FeatureWindows.join(df, events)`` where the shuffled groups' values come from the buckets (``pieces``)
    and the other windows are computed here (the same kernel, over the events cut for this partition)."""
    import polars as pl

    from skewless.windows.batch import compute_windows
    from skewless.windows.spec import Windows

    groups = {g for p in pieces for g in p}
    spines = windows.spines(df)
    columns = []
    for k, (d, spine) in enumerate(zip(windows.declared, spines)):
        w = d.windows
        values: dict[str, Any] = {}
        for g in (g for g in groups if g.declaration == k):
            got = pl.concat([p[g] for p in pieces]).sort(_POS)
            if got.height != df.height:  # pragma: no cover - every row of the partition went to one bucket
                raise RuntimeError(f"internal: {got.height} shuffled window rows for {df.height} rows")
            values.update({c: got[c] for c in got.columns if c != _POS})
        rest = {n: w.features[n] for n in w.outputs if n not in values}
        if rest:
            local = compute_windows(Windows(w.source, rest, requests_at=w.requests_at), spine, events[w.source.name])
            values.update({c: local[c] for c in local.columns})
        columns.extend(values[n] for n in w.outputs)
    return df.hstack(columns)
