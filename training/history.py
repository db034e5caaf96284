"""The build's stateful inputs (steps 1b and 1c of :func:`skewless.training.build.build_dataset`): entity tables
(lookups) and event sources (windows), read, joined point in time onto the source rows, and their golden share.

Both kinds of history are read by one reader, :func:`_history_frames` (given by name, or the declaration's
``source=``; a polars frame, a path or glob, or a callable returning one — :func:`_table_frame`), then joined:

* **lookups** (:func:`_join_tables`): ``join_asof`` of each entity table onto the rows, collected once;
* **windows** (:func:`_join_windows`): every row's window aggregates as of its own time. A source of at most
  ``chunk_events`` events is read into memory once; a larger one stays a lazy scan, aggregated by the bounded
  writer (:func:`skewless.windows.chunked.write_windows`) in the build's temporary directory — peak memory
  follows the chunk and the source rows, not the events — with the same bits.

Step 6 writes what the bundle's golden rows read of them: ``golden_state.json`` (:func:`_golden_state`) and
``golden_events.json`` (:func:`_golden_events`, filtered to the golden rows' entities before collecting).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from skewless.errors import SchemaError, SkewlessError

from ._util import sha256_files, write_json

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

    from skewless.compiled import CompiledFeatureSet
    from skewless.feature_set import FeatureSet

    from .build import _Steps

GOLDEN_STATE_FILE = "golden_state.json"


def _fail(message: str) -> Exception:
    from .build import BuildError  # (build imports this module)

    return BuildError(message)


@dataclass(frozen=True)
class _Kind:
    """How one kind of history is named in messages (``{set}``, ``{names}``, ``{name}``, ``{reads}`` filled in)."""

    what: str  # "entity table" / "event source"
    unknown: str
    missing: str


_KINDS = {
    "lookups": _Kind("entity table", "entity tables {names} are not looked up by {set!r} (it reads {reads})",
                     "entity table {name!r}: no data; pass tables={{{name!r}: ...}} (a frame, a path or a callable) "
                     "or declare EntityTable({name!r}, ..., source=...)"),
    "windows": _Kind("event source", "events of {names} are not aggregated by {set!r} (its windows read {reads})",
                     "event source {name!r}: no events; pass events={{{name!r}: ...}} (a frame, a path or a "
                     "callable) or declare Windowed(..., source=...)"),
}


def _declared_sources(feature_set: "CompiledFeatureSet", kind: str) -> dict[str, Any]:
    """Name -> declared ``source=`` (or None) of each history the lookups' tables / the windows' sources read."""
    if kind == "lookups":
        return {name: table.source for name, table in feature_set.lookups.tables.items()}
    return {d.windows.source.name: d.source for d in feature_set.windows.declared}


def _history_frames(feature_set: "CompiledFeatureSet", given: Mapping[str, Any] | None,
                    kind: str) -> tuple[dict[str, "pl.LazyFrame"], dict[str, Any]]:
    """Each history of ``kind`` (``"lookups"``: the entity tables, ``"windows"``: the event sources) as a
    LazyFrame — given by name in ``given`` or its declared ``source=`` — and what it was read from."""
    k = _KINDS[kind]
    declared = _declared_sources(feature_set, kind)
    unknown = sorted(set(given or {}) - set(declared))
    if unknown:
        raise _fail(k.unknown.format(names=unknown, set=feature_set.name, reads=sorted(declared)))
    frames: dict[str, "pl.LazyFrame"] = {}
    info: dict[str, Any] = {}
    for name, source in declared.items():
        value = (given or {}).get(name, source)
        if value is None:
            raise _fail(k.missing.format(name=name))
        frames[name], info[name] = _table_frame(name, value, what=k.what)
    return frames, info


def _entity_frames(feature_set: "CompiledFeatureSet",
                   tables: Mapping[str, Any] | None) -> tuple[dict[str, "pl.LazyFrame"], dict[str, Any]]:
    """Each entity table the lookups read (given in ``tables`` or its declared source) and what it was read from."""
    return _history_frames(feature_set, tables, "lookups")


def _join_tables(feature_set: "CompiledFeatureSet", lf: "pl.LazyFrame", tables: Mapping[str, Any] | None,
                 steps: "_Steps") -> tuple["pl.LazyFrame", Any, dict[str, "pl.LazyFrame"], dict[str, Any]]:
    """Step 1b (feature sets with lookups): the entity tables, joined point-in-time onto the source rows."""
    lookups = feature_set.lookups
    if lookups is None:
        if tables:
            raise _fail(f"feature set {feature_set.name!r} declares no lookups, but entity tables "
                        f"{sorted(tables)} were given")
        return lf, lf.collect_schema(), {}, {}
    steps("joining the entity tables (point in time)")
    frames, info = _entity_frames(feature_set, tables)
    from skewless.state.batch import join_lookups

    try:
        # Collected once (join_asof sorts the rows by time, which holds them all anyway): the fitted state's
        # float sums are then reduced over one in-memory frame, as for a source frame. Over the lazy join the
        # streaming engine's morsels made a fitted mean differ in its last bit from one run to the next.
        joined = join_lookups(lookups, lf, frames).collect().lazy()
        return joined, joined.collect_schema(), frames, info
    except SchemaError:
        raise
    except Exception as exc:
        raise _fail(f"joining the entity tables failed: {type(exc).__name__}: {exc}") from None


def _join_windows(feature_set: "CompiledFeatureSet", lf: "pl.LazyFrame", events: Mapping[str, Any] | None,
                  steps: "_Steps", *, work_dir: Path | None = None, chunk_events: int = 2_000_000,
                  ) -> tuple["pl.LazyFrame", Any, dict[str, "pl.LazyFrame"], dict[str, Any]]:
    """Step 1c (feature sets with windows): every source row's windows, point in time (the rows are the spine).

    A source of at most ``chunk_events`` events is read once into memory (the windows and the golden events use
    it); a larger one stays a lazy scan, aggregated by the bounded writer in ``work_dir`` (removed when done)
    and filtered to the golden rows' entities for the golden events.
    """
    windows = feature_set.windows
    if windows is None:
        if events:
            raise _fail(f"feature set {feature_set.name!r} declares no windows, but events of {sorted(events)} "
                        f"were given")
        return lf, lf.collect_schema(), {}, {}
    steps("computing the windows (point in time)")
    if isinstance(chunk_events, bool) or not isinstance(chunk_events, int) or chunk_events < 1:
        raise _fail(f"window_chunk_events must be a positive integer, got {chunk_events!r}")
    frames, info = _history_frames(feature_set, events, "windows")
    # small: read once (the windows and the golden events use it); large: scanned, never read whole
    frames = {name: frame.collect().lazy() if info[name]["rows"] <= chunk_events else frame
              for name, frame in frames.items()}
    try:
        frames = windows.conform_events(frames)  # SchemaError naming the source and column, before any pass
        joined = windows.join(lf, frames, chunk_events=chunk_events, work_dir=work_dir).lazy()
        return joined, joined.collect_schema(), frames, info
    except SkewlessError:
        raise
    except Exception as exc:
        raise _fail(f"computing the windows failed: {type(exc).__name__}: {exc}") from None
    finally:
        if work_dir is not None:
            shutil.rmtree(work_dir, ignore_errors=True)


def _table_frame(name: str, given: Any, what: str = "entity table") -> tuple["pl.LazyFrame", dict[str, Any]]:
    """One entity table (or event source) as a LazyFrame, and what it was read from (kind, rows, files, hash)."""
    import polars as pl

    from skewless.frames import as_polars, describe_kind

    info: dict[str, Any] = {}
    if callable(given) and not isinstance(given, (pl.LazyFrame, pl.DataFrame)):
        info["kind"] = f"callable {getattr(given, '__module__', '?')}.{getattr(given, '__qualname__', '?')}"
        try:
            given = given()
        except SkewlessError:
            raise
        except Exception as exc:
            raise _fail(f"{what} {name!r}: its source raised {type(exc).__name__}: {exc}") from None
    from skewless.io import CsvSource

    if isinstance(given, CsvSource):
        info.update({"kind": "files", "paths": list(given.paths), "csv": given.options(),
                     "sha256": sha256_files(Path(f) for f in given.files())})
        frame = given.scan(None, columns="all")
    elif isinstance(given, (str, Path)):
        import glob

        from skewless.io import is_url, scan_data

        text = str(given)
        if is_url(text):  # read by polars from the object store; recorded by its URL, not listed or hashed
            info.update({"kind": "files", "paths": [text]})  # (as a URL source is: build._scan)
        else:
            files = sorted(glob.glob(text)) if any(ch in text for ch in "*?[") else [text]
            info.update({"kind": "files", "paths": [text], "sha256": sha256_files(Path(f) for f in files)})
        frame = scan_data(given, None, columns="all")
    else:
        try:
            frame = as_polars(given)
        except SkewlessError:
            raise
        except Exception as exc:
            raise _fail(f"{what} {name!r}: not a frame ({type(given).__name__}): {exc}") from None
        info.setdefault("kind", describe_kind(given))
        if not isinstance(frame, (pl.LazyFrame, pl.DataFrame)):
            raise _fail(f"{what} {name!r}: expected a polars frame, a path or a callable, got "
                        f"{type(given).__name__}")
    lf = frame.lazy()
    try:
        info["rows"] = int(lf.select(pl.len()).collect().item())
    except Exception as exc:
        raise _fail(f"{what} {name!r}: cannot read it: {exc}") from None
    return lf, info


def _golden_state(tmp: Path, fs: "FeatureSet", golden: "pl.DataFrame", tables: dict[str, "pl.LazyFrame"]) -> str | None:
    """Step 6 (lookups): ``golden_state.json``, the entity-table rows the golden inputs' lookups read."""
    if fs.lookups is None:
        return None
    from skewless.state.batch import used_states
    from skewless.state.golden import encode_state

    used = used_states(fs.lookups, golden, tables)
    write_json(tmp / GOLDEN_STATE_FILE, encode_state(fs.lookups, {n: df.rows(named=True) for n, df in used.items()}),
               compact_depth=3)
    return GOLDEN_STATE_FILE


def _golden_events(tmp: Path, fs: "FeatureSet", golden: "pl.DataFrame", events: dict[str, "pl.LazyFrame"]) -> str | None:
    """Step 6 (windows): ``golden_events.json``, the events the golden inputs' windows read."""
    if fs.windows is None:
        return None
    from skewless.windows.golden import GOLDEN_EVENTS_FILE, encode_events, used_events

    write_json(tmp / GOLDEN_EVENTS_FILE, encode_events(fs.windows, used_events(fs.windows, golden, events)),
               compact_depth=3)
    return GOLDEN_EVENTS_FILE
