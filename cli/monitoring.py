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
    score: Annotated[bool, typer.Option(help="Also rescore the recomputed features and compare the scores")] = True,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Also write the full report as JSON here")] = None,
) -> None:
    """Recompute every logged row with the bundle's polars pipeline and compare bitwise; exit 1 on any mismatch."""
    from skewless.monitoring.skew import skew as run

    report = _guard(lambda: run(log, bundle, training=training, examples=examples, check_score=score))
    console.print(report.summary(), highlight=False, markup=False)
    if json_out is not None:
        _write_json(json_out, report.to_dict())
        console.print(f"wrote the report to {json_out}", highlight=False)
    if not report.ok:
        raise typer.Exit(1)


def _thresholds(items: list[str]) -> dict[str, dict[str, float]]:
    """``psi=0.3`` (every feature) or ``feature:psi=0.3`` -> {"*" | feature: {measure: value}}."""
    from skewless.errors import SkewlessError

    out: dict[str, dict[str, float]] = {}
    for item in items:
        target, _, rest = item.rpartition(":")
        measure, eq, value = rest.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = None
        if not eq or not measure or number is None:
            raise SkewlessError(f"--threshold {item!r}: expected MEASURE=VALUE or FEATURE:MEASURE=VALUE "
                                f"(e.g. psi=0.3, dest_freq:js=0.2)")
        out.setdefault(target or "*", {})[measure] = number
    return out


@app.command()
def drift(
    log: Annotated[Path, typer.Argument(help="Served-feature log directory (SKEWLESS_SERVE_LOG_DIR)")],
    bundle: Annotated[Path, typer.Option(help="The bundle that served the rows (its stats.json is the reference)")],
    stats: Annotated[Optional[Path], typer.Option(help="stats.json to compare with (default: the bundle's)")] = None,
    bucket: Annotated[Optional[str], typer.Option(help="Also per time bucket: hour, day or week")] = None,
    time_column: Annotated[str, typer.Option(help="'time' (when served) or a logged input, e.g. the event time")] = "time",
    threshold: Annotated[Optional[list[str]], typer.Option(
        help="Override a threshold: MEASURE=VALUE or FEATURE:MEASURE=VALUE (repeatable)")] = None,
    fail_on_drift: Annotated[bool, typer.Option(help="Exit 1 when a feature is over a threshold")] = False,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Also write the full report as JSON here")] = None,
) -> None:
    """Served feature distributions vs the training split: PSI, L-inf, Jensen-Shannon, KS, null/NaN, out-of-range."""
    from skewless.monitoring.drift import drift as run
    from skewless.training.bundle import read_manifest

    def job():
        manifest = read_manifest(bundle)
        return run(log, stats or bundle, bucket=bucket, time_column=time_column,
                   thresholds=_thresholds(threshold or []), bundle_id=manifest["bundle_id"])

    report = _guard(job)
    console.print(report.summary(), highlight=False, markup=False)
    if json_out is not None:
        _write_json(json_out, report.to_dict())
        console.print(f"wrote the report to {json_out}", highlight=False)
    if fail_on_drift and report.flagged:
        raise typer.Exit(1)


@app.command()
def report(
    log: Annotated[Path, typer.Argument(help="Served-feature log directory (SKEWLESS_SERVE_LOG_DIR)")],
    bundle: Annotated[Path, typer.Option(help="The bundle that served the rows")],
    out: Annotated[Path, typer.Option(help="HTML file to write")] = Path("monitoring.html"),
    training: Annotated[Optional[Path], typer.Option("--training", help="Recompute with this bundle (what training used)")] = None,
    stats: Annotated[Optional[Path], typer.Option(help="stats.json to compare with (default: the bundle's)")] = None,
    bucket: Annotated[Optional[str], typer.Option(help="Drift per time bucket: hour, day or week")] = "day",
    time_column: Annotated[str, typer.Option(help="'time' (when served) or a logged input, e.g. the event time")] = "time",
    threshold: Annotated[Optional[list[str]], typer.Option(
        help="Override a drift threshold: MEASURE=VALUE or FEATURE:MEASURE=VALUE (repeatable)")] = None,
) -> None:
    """Skew and drift of a served log as one self-contained HTML report (exit 1 on skew)."""
    from skewless.monitoring.drift import drift as run_drift
    from skewless.monitoring.report import monitoring_html, write_html
    from skewless.monitoring.skew import skew as run_skew
    from skewless.training.bundle import load_bundle

    def job():
        b = load_bundle(bundle)
        s = run_skew(log, b, training=training)
        d = run_drift(log, stats or bundle, bucket=bucket, time_column=time_column,
                      thresholds=_thresholds(threshold or []), bundle_id=b.manifest["bundle_id"])
        write_html(out, monitoring_html(s, d, subtitle=f"log {log} · bundle {b.manifest['bundle_id']}"))
        return s, d

    s, d = _guard(job)
    console.print(s.summary(), highlight=False, markup=False)
    console.print(d.summary(), highlight=False, markup=False)
    console.print(f"report:    {out}", highlight=False)
    if not s.ok:
        raise typer.Exit(1)
