"""``skewless skew``, ``skewless drift`` and ``skewless report``: thin wrappers over :mod:`skewless.monitoring`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from . import _guard, app, console


def _write_json(path: Path, doc: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1, default=str) + "\n")


@app.command()
def skew(
    log: Annotated[Path, typer.Argument(help="Served-feature log directory (SKEWLESS_SERVE_LOG_DIR)")],
    bundle: Annotated[Path, typer.Option(help="The bundle that served the rows")],
    training: Annotated[Optional[Path], typer.Option(
        "--training", help="Recompute with this bundle instead (what training used): flags online constants vs fitted state")] = None,
    examples: Annotated[int, typer.Option(help="Example rows kept per mismatched feature")] = 5,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Also write the full report as JSON here")] = None,
) -> None:
    """Recompute every logged row with the bundle's polars pipeline and compare bitwise; exit 1 on any mismatch."""
    from skewless.monitoring.skew import skew as run

    report = _guard(lambda: run(log, bundle, training=training, examples=examples))
    console.print(report.summary(), highlight=False, markup=False)
    if json_out is not None:
        _write_json(json_out, report.to_dict())
        console.print(f"wrote the report to {json_out}", highlight=False)
    if not report.ok:
        raise typer.Exit(1)
