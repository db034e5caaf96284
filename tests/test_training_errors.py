"""Bad inputs to the training jobs: a clear error naming the field, a non-zero exit, no traceback, and no
half-written output that looks complete (API and CLI)."""

from __future__ import annotations

import json
import subprocess
import sys

import polars as pl
import pytest
from typer.testing import CliRunner

from skewless.cli import app
from skewless.datasets import load_flights
from skewless.definitions.flights import flights
from skewless.errors import SchemaError, SkewlessError
from skewless.training.build import BuildError, assert_schema, build_dataset, read_build

CLI = [sys.executable, "-m", "skewless"]
FS = "skewless.definitions.flights:flights"


@pytest.fixture(scope="module")
def small() -> pl.DataFrame:
    """January and February 2013 (about 51k flights)."""
    return load_flights().filter(pl.col("month") <= 2)


def _build(source, out, **kw):
    args = dict(label="arr_delay > 15", event_time="time_hour", split=("2013-02-01", "2013-02-15"))
    args.update(kw)
    return build_dataset(flights, source, out, **args)


def _no_output(tmp_path, out):
    """Nothing named like the output, and no temporary sibling left behind."""
    assert not out.exists()
    leftovers = [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]
    assert leftovers == []


BAD = {
    "missing column": (lambda df: df.drop("carrier"), SchemaError, ["'carrier'", "missing"]),
    "wrong dtype": (lambda df: df.with_columns(pl.col("distance").cast(pl.String)), SchemaError,
                    ["'distance'", "dtype"]),
    "empty data": (lambda df: df.head(0), BuildError, ["no rows"]),
    "all-null column": (lambda df: df.with_columns(pl.lit(None, pl.String).alias("tailnum")), BuildError,
                        ["'tailnum'", "entirely null"]),
    "null in a non-nullable input": (
        lambda df: df.with_columns(pl.when(pl.col("day") == 3).then(None).otherwise(pl.col("carrier")).alias("carrier")),
        SchemaError, ["'carrier'", "non-nullable"]),
    "missing label column": (lambda df: df.drop("arr_delay"), SchemaError, ["label column 'arr_delay'", "missing"]),
    "missing event time": (lambda df: df.drop("time_hour"), SchemaError, ["'time_hour'", "missing"]),
    "event time of the wrong dtype": (lambda df: df.with_columns(pl.col("time_hour").cast(pl.String)), SchemaError,
                                      ["'time_hour'", "dtype"]),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_inputs_raise_naming_the_field(tmp_path, small, case):
    change, exc_type, words = BAD[case]
    out = tmp_path / "build"
    with pytest.raises(exc_type) as info:
        _build(change(small).lazy(), out)
    for w in words:
        assert w in str(info.value)
    _no_output(tmp_path, out)


def test_missing_path(tmp_path):
    out = tmp_path / "build"
    with pytest.raises(SkewlessError, match=r"no data at '/no/such/flights.parquet' \(file not found\)"):
        _build("/no/such/flights.parquet", out)
    _no_output(tmp_path, out)


@pytest.mark.parametrize(
    "split, empty",
    [(("2013-02-01", "2013-02-01"), "valid"), (("2012-01-01", "2013-02-01"), "train"),
     (("2013-01-15", "2013-04-01"), "test"), ((0.0001, 0.00011), "train")],
)
def test_a_split_that_leaves_a_part_empty(tmp_path, small, split, empty):
    out = tmp_path / "build"
    with pytest.raises(BuildError, match=f"the {empty} split is empty") as info:
        _build(small, out, split=split)
    assert "'time_hour' spans 2013-01-01T10:00:00+00:00 .. 2013-03-01T04:00:00+00:00" in str(info.value)
    _no_output(tmp_path, out)


def test_bad_split_and_label_specs(tmp_path, small):
    out = tmp_path / "build"
    with pytest.raises(BuildError, match="not an ISO date"):
        _build(small, out, split=("Feb 1", "2013-02-15"))
    with pytest.raises(BuildError, match="after valid_end"):
        _build(small, out, split=("2013-02-15", "2013-02-01"))
    with pytest.raises(BuildError, match="0 < train < valid < 1"):
        _build(small, out, split=(0.9, 0.5))
    with pytest.raises(BuildError, match="cannot read the label"):
        _build(small, out, label="arr_delay >> 15")
    with pytest.raises(SchemaError, match=r"label 'time_hour' has dtype Datetime.*; expected Boolean \(binary\), "
                                          r"numeric \(regression\) or String \(multiclass\)"):
        _build(small, out, label="time_hour")  # (a String label such as 'carrier' is multiclass)
    _no_output(tmp_path, out)


def test_failure_while_writing_leaves_nothing_and_keeps_the_previous_build(tmp_path, small, monkeypatch):
    out = tmp_path / "build"
    first = _build(small, out)
    before = sorted(p.relative_to(out) for p in out.rglob("*"))

    import skewless.training.stats

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(skewless.training.stats, "merge_column_partials", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        _build(small, out, overwrite=True)
    # the previous, complete build is untouched and no temporary directory is left
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    assert read_build(out)["data_hash"] == first.manifest["data_hash"]
    assert [p.name for p in tmp_path.iterdir()] == ["build"]
    with pytest.raises(SkewlessError, match="already exists; pass overwrite=True"):
        _build(small, out)


def test_refuses_to_replace_a_directory_it_did_not_write(tmp_path, small):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    with pytest.raises(SkewlessError, match="not written by skewless"):
        _build(small, out, overwrite=True)
    assert (out / "precious.txt").read_text() == "keep me"


def test_assert_schema_names_every_difference():
    want = {"t": pl.Datetime("us", "UTC"), "label": pl.Boolean, "a": pl.Int64, "b": pl.String}
    assert_schema(dict(want), want, "x")
    with pytest.raises(SchemaError) as info:
        assert_schema({"t": pl.Datetime("us", "UTC"), "label": pl.Boolean, "a": pl.Float64, "c": pl.String}, want,
                      "the train features")
    msg = str(info.value)
    assert "the train features does not match" in msg
    assert "missing ['b']" in msg and "unexpected ['c']" in msg and "column 'a' is Float64, declared Int64" in msg
    with pytest.raises(SchemaError, match="3 columns, expected 4"):
        assert_schema({"t": pl.Datetime("us", "UTC"), "label": pl.Boolean, "a": pl.Int64}, want, "x")
    with pytest.raises(SchemaError, match="order differs"):
        assert_schema({"label": pl.Boolean, "t": pl.Datetime("us", "UTC"), "a": pl.Int64, "b": pl.String}, want, "x")


# --------------------------------------------------------------------------- CLI


def _cli_build(data, out, *extra):
    return ["build", FS, "--data", str(data), "--out", str(out), "--label", "arr_delay > 15",
            "--event-time", "time_hour", "--train-end", "2013-02-01", "--valid-end", "2013-02-15", *extra]


@pytest.mark.parametrize("case", ["missing column", "wrong dtype", "empty data", "all-null column"])
def test_cli_build_bad_inputs(tmp_path, small, case):
    change, _, words = BAD[case]
    data = tmp_path / "data.parquet"
    change(small).write_parquet(data)
    out = tmp_path / "build"
    result = CliRunner().invoke(app, _cli_build(data, out))
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert text.startswith("error:") or "error:" in text
    for w in words:
        assert w in text
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    _no_output(tmp_path, out)


def test_cli_build_missing_path_and_empty_split(tmp_path, small):
    out = tmp_path / "build"
    result = CliRunner().invoke(app, _cli_build(tmp_path / "nope.parquet", out))
    # rich wraps long lines (even inside a long path): compare without the whitespace
    assert result.exit_code == 2 and "(filenotfound)" in "".join(result.output.split())
    assert "nope.parquet" in "".join(result.output.split())
    data = tmp_path / "data.parquet"
    small.write_parquet(data)
    args = _cli_build(data, out)
    args[args.index("--valid-end") + 1] = "2014-01-01"
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and "the test split is empty" in " ".join(result.output.split())
    result = CliRunner().invoke(app, ["build", FS, "--data", str(data), "--out", str(out), "--label", "arr_delay > 15",
                                      "--event-time", "time_hour", "--train-end", "2013-02-01"])
    assert result.exit_code == 2 and "give both --train-end and --valid-end" in " ".join(result.output.split())
    _no_output(tmp_path, out)


def test_cli_train_and_compare_on_missing_directories(tmp_path):
    result = CliRunner().invoke(app, ["train", str(tmp_path / "nobuild"), "--out", str(tmp_path / "bundle")])
    assert result.exit_code == 2 and "no build at" in " ".join(result.output.split()) and "nobuild" in "".join(result.output.split())
    (tmp_path / "half").mkdir()  # a directory without build.json is not a complete build
    result = CliRunner().invoke(app, ["train", str(tmp_path / "half"), "--out", str(tmp_path / "bundle")])
    assert result.exit_code == 2 and "not a complete skewless build" in " ".join(result.output.split())
    result = CliRunner().invoke(app, ["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--data", "x.parquet"])
    assert result.exit_code == 2 and "no bundle at" in " ".join(result.output.split())
    assert not (tmp_path / "bundle").exists()


def test_cli_subprocess_error_has_no_traceback(tmp_path, small):
    data = tmp_path / "data.csv"
    small.drop("dest").head(500).write_csv(data)
    out = tmp_path / "build"
    proc = subprocess.run([*CLI, *_cli_build(data, out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "input column 'dest' is missing from the data" in " ".join(proc.stderr.split())
    assert "Traceback" not in proc.stderr + proc.stdout
    _no_output(tmp_path, out)


def test_cli_build_from_csv_writes_a_complete_build(tmp_path, small):
    data = tmp_path / "data.csv"
    small.write_csv(data)
    out = tmp_path / "build"
    result = CliRunner().invoke(app, _cli_build(data, out))
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "build.json").read_text())
    assert manifest["source"]["kind"] == "files" and manifest["source"]["sha256"]
    assert sum(manifest["rows"][s] for s in ("train", "valid", "test")) == manifest["rows"]["total"]
    assert "wrote the build to" in " ".join(result.output.split())


def test_mlflows_own_request_timeout_reads_as_the_tracking_bound():
    """MLflow's HTTP timeout can fire just before the bound (a flake in the merge train): the same one-line
    "did not answer within N s", not MLflow's wrapped ReadTimeoutError text."""
    from skewless.training.tracking import TrackingError, bounded

    def stalled():
        try:
            raise TimeoutError("HTTPConnectionPool(host='127.0.0.1', port=1): Read timed out. (read timeout=2)")
        except TimeoutError as exc:
            raise RuntimeError("API request to http://127.0.0.1:1/api/2.0/mlflow/experiments failed") from exc

    with pytest.raises(TrackingError, match=r"MLflow did not answer within 2 s \(experiment\)"):
        bounded("experiment", 2, stalled)
    with pytest.raises(ValueError, match="not a timeout"):
        bounded("experiment", 2, lambda: (_ for _ in ()).throw(ValueError("not a timeout")))
