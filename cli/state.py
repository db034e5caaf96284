"""``skewless materialize``: a thin wrapper over :func:`skewless.state.materialize.materialize`.

Exit codes: 0 every table loaded; 2 bad input or an unavailable store (one ``error:`` line naming the table,
column or store; nothing of the failed table became visible); 130 interrupted (Ctrl-C: the table being loaded
did not switch, the ones before it did, and the message says which).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Optional

import typer

from . import _guard, _one_line, app, console, errors

_EXIT_INTERRUPTED = 130


def _data_option(items: list[str]) -> dict[str, str]:
    from skewless.errors import SkewlessError

    out: dict[str, str] = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise SkewlessError(f"--data {item!r}: expected TABLE=PATH (e.g. weather=data/weather.parquet)")
        if name in out:
            raise SkewlessError(f"--data: table {name!r} is given twice")
        out[name] = path
    return out


def _as_of_option(text: Optional[str]) -> Optional[dt.datetime]:
    from skewless.errors import SkewlessError

    if text is None:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise SkewlessError(f"--as-of {text!r}: not an ISO 8601 datetime (e.g. 2013-07-01T00:00:00Z)") from None
    if value.tzinfo is None:
        raise SkewlessError(f"--as-of {text!r}: give an offset or Z (an instant, e.g. 2013-07-01T00:00:00Z)")
    return value


@app.command()
def materialize(
    tables: Annotated[str, typer.Argument(help="MODULE:NAME of the entity tables: an EntityTable, a list of them, "
                                               "Lookups, or a feature set with lookups and/or windows")],
    store: Annotated[str, typer.Option("--store", help="sqlite:PATH or redis://HOST:PORT/DB")],
    data: Annotated[Optional[list[str]], typer.Option("--data", help="TABLE=PATH: a table's history, parquet or CSV "
                                                                    "file or glob (repeatable; default: every table's "
                                                                    "declared source=)")] = None,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Load the state as of this instant (ISO 8601 with "
                                                                 "an offset; default: all rows)")] = None,
    events: Annotated[Optional[list[str]], typer.Option("--events", help="SOURCE=PATH: an event source's history for "
                                                                        "the windows, parquet or CSV file or glob "
                                                                        "(repeatable; default: its declared "
                                                                        "Windowed(source=))")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Rows per store batch", min=1)] = 10_000,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds each store operation may take", min=0.01)] = 5.0,
) -> None:
    """Load entity tables (and the windows' state) into an online store as of a time: one atomic switch per table,
    idempotent. Then ingest live events from as-of minus the source's max_lateness on (duplicates are no-ops)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from skewless.io import load_object
    from skewless.state.materialize import materialize as run, open_store, tables_of

    def setup():
        from skewless.errors import SkewlessError

        from skewless.compiled import CompiledFeatureSet

        obj = load_object(tables)
        windowed = isinstance(obj, CompiledFeatureSet) and obj.windows is not None
        declared = tables_of(obj) if not windowed or obj.lookups is not None else {}
        if events and not windowed:
            raise SkewlessError(f"--events: {tables!r} declares no windows")
        sources = _data_option(data) if data else None
        return (obj if windowed else None), declared, sources, _as_of_option(as_of), open_store(store, timeout=timeout)

    windowed, declared, sources, at, target = _guard(setup)
    bars = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=False)
    tasks: dict[str, int] = {}

    def progress(name: str, written: int, total: int) -> None:
        if name not in tasks:
            tasks[name] = bars.add_task(f"loading {name}", total=total)
        bars.update(tasks[name], completed=written)

    def job():
        from skewless.errors import SkewlessError

        try:
            loaded = run(target, declared, sources, as_of=at, batch_size=batch_size, progress=progress) \
                if declared else None
            if windowed is not None:
                from skewless.windows.materialize import materialize_windows

                wins = materialize_windows(target, windowed, _data_option(events) if events else None, as_of=at,
                                           batch_size=batch_size)
                return loaded, wins
            return loaded, []
        except SkewlessError as exc:  # say which tables switched before the failure
            notes = getattr(exc, "__notes__", None)
            if notes:
                raise SkewlessError(f"{exc} ({' '.join(notes)})") from None
            raise

    try:
        with bars:
            result, wins = _guard(job)
    except KeyboardInterrupt as exc:
        notes = " ".join(getattr(exc, "__notes__", []))
        errors.print(f"interrupted: {_one_line(notes) or 'nothing was switched'}", highlight=False, markup=False)
        raise typer.Exit(_EXIT_INTERRUPTED) from None
    finally:
        target.close()
    when = f"as of {at.isoformat()}" if at else "with every row (no --as-of)"
    if result is not None:
        for t in result.tables:
            console.print(f"{t.table}: {t.rows_loaded:,} rows live as version {t.version} (from {t.rows_read:,} rows "
                          f"read) in {t.seconds:.1f}s", highlight=False, markup=False)
        console.print(f"materialized {len(result.tables)} table(s) into {result.store} {when} in "
                      f"{result.seconds:.1f}s", highlight=False, markup=False)
    for w in wins:
        console.print(f"windows of {w.source}: {w.events:,} events -> "
                      + ", ".join(f"{t} {n:,} entities" for t, n in w.tables.items())
                      + f" into {target.name} {when} in {w.seconds:.1f}s", highlight=False, markup=False)

