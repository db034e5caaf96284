"""Windows declared in a feature set: their outputs are columns later features read, like looked-up columns.

A feature set declares windows in its body (or ``FeatureSet(..., windows=[...])``) as a :class:`Windowed`: a
:class:`~skewless.windows.Windows` asked at a request time ``at`` — a request input, or an expression of the
request inputs (the flights demo asks at the scheduled departure, ``time_hour`` plus the scheduled minute)::

    @feature_set
    class flights_windows:
        ...                                         # the request inputs: keys and times among them
        recent = Windowed(flight_windows, at=col("time_hour") + duration(minutes=col("sched_dep_time") % 100))
        busy_tail = col("tail_departures_24h") >= 4  # a window output, read like an input

Rules (checked when the feature set is defined, :class:`~skewless.errors.DefinitionError` naming the output):

* every entity key of the windows (and the order column at ``requests_at="events"``) is a request input of
  the same name and dtype; ``at`` has exactly the source's event-time dtype (unit and zone);
* the outputs are new columns (no input, looked-up column or other window output of that name), every one
  nullable; ``input_schema()`` holds them, ``request_schema()`` does not: a request carries the keys and
  its time, never a window's value;
* one declaration per event source (the source names the store tables of its entities).

Batch: :meth:`FeatureWindows.join` computes every row's windows point in time with
:func:`skewless.windows.batch.compute_windows` (the rows are the spine). Online: :meth:`FeatureWindows.online`
reads them from the store with :class:`~skewless.windows.OnlineWindows` (one ``get_many`` per declaration).

This module never imports polars at module level (the serving path reads it).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Callable

from skewless.dtypes import DataType, Field
from skewless.errors import DefinitionError
from skewless.windows.spec import Duration, EventSource, Lifetime, Rolling, WindowAgg, Windows

__all__ = ["Windowed", "FeatureWindows"]

_AT = "__skewless_at"
_ROW = "__skewless_spine_row"


@dataclass(frozen=True)
class Windowed:
    """``windows`` asked at the request time ``at`` (see the module docstring).

    Parameters
    ----------
    windows
        The declared :class:`~skewless.windows.Windows`.
    at
        The request time: a request input's name or a skewless expression of the request inputs; default:
        the request input named like the source's event-time column.
    source
        Where the source's event history is read for batch builds when none is given
        (``build_dataset(events=)``): a callable returning a polars frame, or a parquet/CSV path or glob. Not
        part of the definition (fingerprints and a bundle's copy ignore it).
    """

    windows: Any
    at: Any = None
    source: Any = field(default=None, compare=False, repr=False)
    name: str | None = field(default=None, compare=False)


def _at_expr(w: Windowed):
    from skewless.api.expr import Expr, col

    if w.at is None:
        return col(w.windows.source.time)
    if isinstance(w.at, str):
        return col(w.at)
    if isinstance(w.at, Expr):
        return w.at
    raise DefinitionError(f"windows of {w.windows.source.name!r}: at= is a request input's name or a skewless "
                          f"expression, got {type(w.at).__name__}", feature=w.name)


class FeatureWindows:
    """The windows of one feature set, type-checked against its request inputs.

    Parameters
    ----------
    inputs
        The request inputs (name -> field).
    declared
        The :class:`Windowed` declarations (bare :class:`Windows` are asked at the source's time column).
    taken
        Column names already used (looked-up columns): outputs may not reuse them.
    """

    def __init__(self, inputs: Mapping[str, Field], declared: Sequence[Any], taken: Sequence[str] = ()):
        from skewless.api.expr import Expr
        from skewless.feature_set import FeatureSet, Input

        self.declared: tuple[Windowed, ...] = tuple(
            d if isinstance(d, Windowed) else Windowed(d) for d in declared)
        outputs: dict[str, DataType] = {}
        names: set[str] = set()
        for d in self.declared:
            where = d.name
            if not isinstance(d.windows, Windows):
                raise DefinitionError(f"Windowed(...) takes a skewless.windows.Windows, got "
                                      f"{type(d.windows).__name__}", feature=where)
            w, src = d.windows, d.windows.source
            where = where or next(iter(w.features))  # unnamed (FeatureSet(windows=[...])): its first output
            if src.name in names:
                raise DefinitionError(f"two window declarations over event source {src.name!r}: declare one Windows "
                                      "with all its features (the source names the store tables)", feature=where)
            names.add(src.name)
            needed = [k for e in w.entities for k in e.by]
            if w.requests_at == "events":
                needed.append(src.order)
            for k in dict.fromkeys(needed):
                feature = next((n for e in w.entities if k in e.by for n in e.features), where)
                have = inputs.get(k)
                if have is None:
                    raise DefinitionError(f"the windows of {src.name!r} are keyed by {k!r}, which is not a request "
                                          f"input (declare {k} = Input({src.columns[k]!r}, ...))", feature=feature)
                if have.dtype != src.columns[k]:
                    raise DefinitionError(f"request input {k!r} is {have.dtype}, the event column is "
                                          f"{src.columns[k]}", feature=feature)
            for name, dtype in w.outputs.items():
                if name in inputs or name in taken or name in outputs:
                    raise DefinitionError("a window output cannot have the name of an input, a looked-up column or "
                                          "another window output", feature=name)
                outputs[name] = dtype
        self._outputs = outputs
        ats = {f"{_AT}{i}": _at_expr(d) for i, d in enumerate(self.declared)}
        try:
            self.times = FeatureSet("window_times", {k: Input(f.dtype, f.nullable) for k, f in inputs.items()},
                                    {k: (v if isinstance(v, Expr) else Expr(v)) for k, v in ats.items()})
        except DefinitionError as exc:
            d = self.declared[int(str(exc.feature)[len(_AT):])] if str(exc.feature).startswith(_AT) else None
            raise DefinitionError(f"the request time at= of the windows of "
                                  f"{d.windows.source.name if d else '?'!r}: {exc.reason}",
                                  feature=(d.name or next(iter(d.windows.features))) if d else None,
                                  expr=exc.expr) from None
        schema = self.times.output_schema()
        for i, d in enumerate(self.declared):
            src = d.windows.source
            got = schema[f"{_AT}{i}"].dtype
            if got != src.columns[src.time]:
                raise DefinitionError(f"the request time at= of the windows of {src.name!r} is {got}; the event time "
                                      f"{src.time!r} is {src.columns[src.time]} (same unit and zone)",
                                      feature=d.name or next(iter(d.windows.features)),
                                      expr=self.times.features[f"{_AT}{i}"].source())

    # -- schemas ------------------------------------------------------------------------------------------
    @property
    def outputs(self) -> dict[str, DataType]:
        """Every window output -> dtype, in declaration order (each nullable)."""
        return dict(self._outputs)

    @property
    def sources(self) -> dict[str, EventSource]:
        return {d.windows.source.name: d.windows.source for d in self.declared}

    @property
    def request_columns(self) -> tuple[str, ...]:
        """The request inputs the windows read (keys, the order column at events, and what ``at`` reads)."""
        seen: dict[str, None] = {}
        for d in self.declared:
            w = d.windows
            seen.update(dict.fromkeys(k for e in w.entities for k in e.by))
            if w.requests_at == "events":
                seen[w.source.order] = None
        seen.update(dict.fromkeys(self.times.used_inputs()))
        return tuple(seen)

    # -- online ------------------------------------------------------------------------------------------
    def online(self, store: Any) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
        """``fn(request) -> {window output: value}`` from ``store`` (no polars; request typed as ``row_fn`` wants).

        Errors of :class:`~skewless.windows.OnlineWindows` (``RequestBeforeHorizon``, ``StoreUnavailable``)
        propagate.
        """
        times = self.times.row_fn
        readers = [self.reader(i, store) for i in range(len(self.declared))]
        asks = [self.window_request for _ in readers]

        def read(request: Mapping[str, Any]) -> dict[str, Any]:
            at = times(request)
            out: dict[str, Any] = {}
            for i, online in enumerate(readers):
                out.update(online(asks[i](i, request, at)))
            return out

        return read

    def reader(self, i: int, store: Any) -> Any:
        """The :class:`~skewless.windows.OnlineWindows` of declaration ``i`` over ``store``."""
        from skewless.windows.online import OnlineWindows

        return OnlineWindows(self.declared[i].windows, store)

    def window_request(self, i: int, request: Mapping[str, Any], at: Mapping[str, Any]) -> dict[str, Any]:
        """What declaration ``i``'s windows are asked for ``request``: its keys (and order), the time ``at``."""
        w = self.declared[i].windows
        req = {c: request[c] for e in w.entities for c in e.by}
        if w.requests_at == "events":
            req[w.source.order] = request[w.source.order]
        req[w.source.time] = at[f"{_AT}{i}"]
        return req

    def online_windows(self, store: Any) -> dict[str, Any]:
        """Source name -> :class:`~skewless.windows.OnlineWindows` over ``store`` (ingest, materialize)."""
        from skewless.windows.online import OnlineWindows

        return {d.windows.source.name: OnlineWindows(d.windows, store) for d in self.declared}

    # -- batch ----------------------------------------------------------------------------------------------
    def spines(self, frame: Any) -> list[Any]:
        """Per declaration, the spine of ``frame``'s rows (a polars DataFrame: keys, order, the request time)."""
        import polars as pl

        df = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
        at = self.times.transform(df).collect()
        out = []
        for i, d in enumerate(self.declared):
            w = d.windows
            cols = list(dict.fromkeys(k for e in w.entities for k in e.by))
            if w.requests_at == "events":
                cols.append(w.source.order)
            out.append(df.select([pl.col(c) for c in cols if c != w.source.time])
                       .with_columns(at.get_column(f"{_AT}{i}").alias(w.source.time)))
        return out

    def join(self, frame: Any, events: Mapping[str, Any], *, engine: str = "auto", chunk_events: int | None = None,
             work_dir: Any = None) -> Any:
        """``frame`` (collected) with every window output appended, point in time (``events`` by source name).

        Each source's events are checked first (:meth:`conform_events`). A source of at most ``chunk_events``
        events (every source when ``chunk_events`` is None) is computed in memory by
        :func:`skewless.windows.batch.compute_windows`; a larger one by the bounded writer
        :func:`skewless.windows.chunked.write_windows` (entity-partitioned chunks of about ``chunk_events``
        events, the ``LazyFrame`` never collected whole) into a parquet file in ``work_dir`` (a temporary
        directory when None; the file is removed once read), read back in the rows' order. Both give the same
        bits (each aggregate is exact and depends on its window's contents only): only the memory differs —
        the in-memory path holds every event, the bounded one about ``chunk_events`` of them plus the rows.
        """
        import polars as pl

        from skewless.windows.batch import compute_windows

        df = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
        missing = [n for n in self.sources if n not in events]
        if missing:
            raise KeyError(missing[0])
        conformed = self.conform_events(events)
        parts = []
        for i, (d, spine) in enumerate(zip(self.declared, self.spines(df))):
            ev = conformed[d.windows.source.name]
            if chunk_events is None or _rows(ev) <= chunk_events:
                parts.append(compute_windows(d.windows, spine, ev, engine=engine))
            else:
                parts.append(_bounded(d.windows, spine, ev, chunk_events, work_dir, i))
        return df.hstack([s for p in parts for s in p.get_columns()])

    def conform_events(self, events: Mapping[str, Any]) -> dict[str, Any]:
        """Each source's events (a ``LazyFrame``) with every declared column in its declared dtype.

        :class:`~skewless.errors.SchemaError` naming the source and the column when a declared column is missing
        or has a dtype that does not widen to the declared one (the widenings of a feature set's inputs: Int32
        -> Int64, Float32 -> Float64, Categorical -> String, a datetime of another unit in the same zone, an
        all-null column). Checked on the schema, before any pass over the events; the same for the in-memory
        and the bounded path.
        """
        import polars as pl

        from skewless.backends.polars.compiler import _base_name, _WIDENINGS
        from skewless.backends.polars.dtypes import to_polars
        from skewless.errors import SchemaError

        out = {}
        for d in self.declared:
            src = d.windows.source
            lf = events[src.name].lazy()
            schema = lf.collect_schema()
            missing = [c for c in src.columns if c not in schema]
            if missing:
                raise SchemaError(f"event source {src.name!r}: the events have no column {missing[0]!r}")
            casts = []
            for c, dtype in src.columns.items():
                have, want = schema[c], to_polars(dtype)
                if have == want:
                    continue
                if not (have == pl.Null or _base_name(have) in _WIDENINGS.get(_base_name(want), ()) or (
                        isinstance(have, pl.Datetime) and isinstance(want, pl.Datetime)
                        and have.time_zone == want.time_zone)):
                    raise SchemaError(f"event source {src.name!r}: column {c!r} has dtype {have}, but the source "
                                      f"declares {want}")
                casts.append(pl.col(c).cast(want))
            out[src.name] = lf.with_columns(casts) if casts else lf
        return out

    # -- serialization ----------------------------------------------------------------------------------
    def to_json(self) -> list[dict[str, Any]]:
        """The declarations, canonical (read back by :meth:`from_json`)."""
        from skewless.ir.serialize import node_to_data

        return [{"windows": windows_to_json(d.windows),
                 "at": node_to_data(self.times.features[f"{_AT}{i}"].node)}
                for i, d in enumerate(self.declared)]

    @classmethod
    def from_json(cls, inputs: Mapping[str, Field], data: Sequence[Mapping[str, Any]],
                  node: Callable[[Any], Any], taken: Sequence[str] = ()) -> "FeatureWindows":
        from skewless.api.expr import Expr

        declared = [Windowed(windows_from_json(d["windows"], node), at=Expr(node(d["at"]))) for d in data]
        return cls(inputs, declared, taken)

    def describe(self) -> list[str]:
        lines = []
        for d in self.declared:
            w = d.windows
            lines.append(f"  {w.source.name} at {self.times.features[f'{_AT}{self.declared.index(d)}'].source()} "
                         f"(requests_at={w.requests_at!r}):")
            lines += [f"    {k}: {w.outputs[k]!r} = {agg.render()}" for k, agg in w.features.items()]
        return lines


def _rows(lf: Any) -> int:
    import polars as pl

    return lf.select(pl.len()).collect().item()


def _bounded(windows: Windows, spine: Any, events: Any, chunk_events: int, work_dir: Any, i: int) -> Any:
    """:func:`skewless.windows.chunked.write_windows` of ``spine`` into ``work_dir``, read back in the spine's order."""
    import shutil
    import tempfile
    from pathlib import Path

    import polars as pl

    from skewless.windows.chunked import write_windows

    if work_dir is not None:
        Path(work_dir).mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".windows-{i}-", dir=work_dir))
    try:
        write_windows(windows, spine, events, work / "windows.parquet", chunk_events=chunk_events, row_index=_ROW)
        out = pl.read_parquet(work / "windows.parquet", columns=[_ROW, *windows.outputs]).sort(_ROW)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = pl.int_range(0, spine.height, dtype=out[_ROW].dtype, eager=True).alias(_ROW)
    if out.height != spine.height or not out.get_column(_ROW).equals(rows):
        raise RuntimeError(f"windows of {windows.source.name!r}: the bounded build wrote {out.height} rows for "
                           f"{spine.height} requests")  # pragma: no cover - write_windows writes each row once
    return out.drop(_ROW)


def windows_to_json(w: Windows) -> dict[str, Any]:
    """A :class:`Windows` as canonical JSON (the source, every feature's IR, ``requests_at``)."""
    from skewless.ir.serialize import node_to_data

    src = w.source
    lt = src.max_lateness
    features = {}
    for name, agg in w.features.items():
        win = agg.window
        window = ({"kind": "rolling", "index_column": win.index_column, "period": win.period.text,
                   "closed": win.closed} if isinstance(win, Rolling)
                  else {"kind": "lifetime", "index_column": win.index_column, "closed": win.closed})
        features[name] = {"value": node_to_data(agg.value), "agg": agg.agg, "ddof": agg.ddof, "window": window,
                          "by": list(agg.by)}
    return {"source": {"name": src.name, "time": src.time, "order": src.order,
                       "columns": {c: d.to_json() for c, d in src.columns.items()},
                       "max_lateness_us": (lt.days * 86_400 + lt.seconds) * 1_000_000 + lt.microseconds},
            "features": features, "requests_at": w.requests_at}


def windows_from_json(data: Mapping[str, Any], node: Callable[[Any], Any]) -> Windows:
    """Inverse of :func:`windows_to_json`; ``node`` decodes an IR tree (the bundle's decoder)."""
    from skewless.dtypes import dtype_from_json

    s = data["source"]
    lateness = s["max_lateness_us"]
    if type(lateness) is not int:
        raise ValueError("max_lateness_us is not an integer")
    src = EventSource(s["name"], time=s["time"], order=s["order"],
                      columns={c: dtype_from_json(d) for c, d in s["columns"].items()},
                      max_lateness=_dt.timedelta(microseconds=lateness))
    features = {}
    for name, f in data["features"].items():
        win = f["window"]
        where = f"windowed feature {name!r}"
        if win["kind"] == "rolling":
            window: Any = Rolling(win["index_column"], Duration.parse(win["period"], where), win["closed"])
        elif win["kind"] == "lifetime":
            window = Lifetime(win["index_column"], win["closed"])
        else:
            raise ValueError(f"{where}: unknown window kind {win['kind']!r}")
        from skewless.windows.spec import _AGGS

        if win["closed"] not in ("left", "right", "both", "none") or f["ddof"] not in (0, 1) or f["agg"] not in _AGGS:
            raise ValueError(f"{where}: bad closed, ddof or aggregate")
        features[name] = WindowAgg(node(f["value"]), str(f["agg"]), f["ddof"], window, tuple(f["by"]))
    out = Windows(src, features, requests_at=data["requests_at"])
    if windows_to_json(out) != dict(data):
        raise ValueError("the windows do not serialize back to themselves")
    return out


def named(value: Any, name: str) -> Windowed:
    """A body attribute (a :class:`Windowed` or a bare :class:`Windows`) named after the attribute."""
    w = value if isinstance(value, Windowed) else Windowed(value)
    return dataclasses.replace(w, name=name)
