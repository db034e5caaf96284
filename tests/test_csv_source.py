"""CSV files with their reading options as a build source (``skewless.io.CsvSource``, ``skewless build
--separator``), labels over columns whose names are not identifiers, and Python types as dtypes (as polars
takes them)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import polars as pl
import pytest

from skewless import FeatureSet, Input, col
from skewless.dtypes import Boolean, Date, Datetime, Duration, Float64, Int64, String, to_dtype
from skewless.errors import SkewlessError
from skewless.io import CsvSource
from skewless.training.build import _table_frame, build_dataset, parse_label

SET = FeatureSet("spaced", inputs={"unit price": Input(float), "qty ": Input(int)},
                 features={"total": col("unit price") * col("qty "), "label_text": col("qty ").cast(str)})


def _write(path, sep=";"):
    path.write_text(f"unit price{sep}qty {sep}sold out\n" + "".join(
        f"{1.5 + i}{sep}{i % 4}{sep}{'yes' if i % 3 else 'no'}\n" for i in range(40)))
    return path


@pytest.mark.parametrize("kwargs, message", [
    ({"separator": ";;"}, "a CSV separator is one character, got ';;'"),
    ({"encoding": "klingon"}, "unknown encoding 'klingon'"),
    ({"null_values": "NA"}, "null_values must be a list of texts"),
])
def test_bad_options_are_refused_when_the_source_is_made(kwargs, message):
    with pytest.raises(SkewlessError, match=message):
        CsvSource("x.csv", **kwargs)


def test_a_csv_source_on_an_object_store_or_over_parquet_is_refused(tmp_path):
    with pytest.raises(SkewlessError, match="only parquet is read from an object store"):
        CsvSource("s3://bucket/a.csv")
    pl.DataFrame({"unit price": [1.0], "qty ": [1]}).write_parquet(tmp_path / "a.parquet")
    with pytest.raises(SkewlessError, match="only CSV files"):
        CsvSource(tmp_path / "a.parquet", separator=";").scan(SET)


def test_a_build_from_a_semicolon_csv_records_the_options_and_the_files(tmp_path):
    data = _write(tmp_path / "sales.csv")
    with pytest.raises(SkewlessError, match="pass separator=';'"):  # as a plain path it is named, not misread
        build_dataset(SET, str(data), tmp_path / "plain", label="sold out == 'yes'", event_time=None,
                      split_by="random")
    result = build_dataset(SET, CsvSource(data, separator=";"), tmp_path / "out", label="sold out == 'yes'",
                           event_time=None, split_by="random", seed=1)
    manifest = json.loads((result.out_dir / "build.json").read_text())
    assert manifest["source"]["csv"] == {"separator": ";"} and manifest["source"]["files"] == [str(data)]
    assert manifest["label"]["definition"] == "`sold out` == 'yes'" and manifest["label"]["task"] == "binary"
    assert sum(result.rows.values()) == 40
    train = pl.read_parquet(result.out_dir / manifest["files"]["train"][0])
    assert set(train["total"].to_list()) <= {(1.5 + i) * (i % 4) for i in range(40)}


def test_an_entity_table_given_as_a_csv_source_records_its_options(tmp_path):
    data = _write(tmp_path / "t.tsv", sep="\t")
    frame, info = _table_frame("t", CsvSource(data, separator="tab"))
    assert info["csv"] == {"separator": "tab"} and info["paths"] == [str(data)] and info["sha256"]
    assert frame.collect().height == 40 == info["rows"]


def test_the_cli_reads_every_csv_with_the_options_and_refuses_them_for_parquet(tmp_path):
    (tmp_path / "spaced.py").write_text("from skewless import FeatureSet, Input, col\n"
                                        "spaced = FeatureSet('spaced', inputs={'unit price': Input(float), "
                                        "'qty ': Input(int)}, features={'total': col('unit price') * col('qty ')})\n")
    _write(tmp_path / "sales.csv")
    pl.DataFrame({"unit price": [1.0], "qty ": [1], "sold out": ["yes"]}).write_parquet(tmp_path / "s.parquet")
    run = lambda *a: subprocess.run([sys.executable, "-m", "skewless", "build", "spaced:spaced", *a], cwd=tmp_path,
                                    capture_output=True, text=True, timeout=120, env={"PYTHONPATH": str(tmp_path),
                                                                                      "PATH": "/usr/bin:/bin"})
    ok = run("--data", "sales.csv", "--separator", ";", "--out", "out", "--label", "sold out == 'yes'",
             "--split-by", "random")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert json.loads((tmp_path / "out/build.json").read_text())["source"]["csv"] == {"separator": ";"}
    bad = run("--data", "s.parquet", "--separator", ";", "--out", "out2", "--label", "sold out == 'yes'",
              "--split-by", "random")
    assert bad.returncode == 2 and "--separator, --null-value and --encoding read CSV files" in bad.stderr + bad.stdout
    assert "Traceback" not in bad.stderr


@pytest.mark.parametrize("label, text, columns", [
    ("arr_delay > 15", "arr_delay > 15", ["arr_delay"]),
    ("Absenteeism time in hours > 8", "`Absenteeism time in hours` > 8", ["Absenteeism time in hours"]),
    ("`Work load Average/day ` >= 250.5", "`Work load Average/day ` >= 250.5", ["Work load Average/day "]),
    ("my col == 'x y'", "`my col` == 'x y'", ["my col"]),
    ("Absenteeism time in hours", "Absenteeism time in hours", ["Absenteeism time in hours"]),
    ("`a b`", "a b", ["a b"]),
])
def test_a_label_over_a_column_that_is_not_an_identifier_parses_back_to_itself(label, text, columns):
    _, got_text, got_columns = parse_label(label)
    assert (got_text, got_columns) == (text, columns)
    assert parse_label(got_text)[1:] == (text, columns)  # build.json's text is parsed again (compare, train)


@pytest.mark.parametrize("label", ["a > b", "", "a >", "> 3", "`a` > `b`"])
def test_labels_that_are_not_one_comparison_are_refused(label):
    with pytest.raises(SkewlessError, match="cannot read the label"):
        parse_label(label)


def test_python_types_are_dtypes_as_polars_takes_them():
    types = (bool, int, float, str, dt.date, dt.datetime, dt.timedelta)
    assert [to_dtype(t) for t in types] == [Boolean(), Int64(), Float64(), String(), Date(), Datetime("us"),
                                            Duration("us")]
    polars_casts = pl.DataFrame({"a": [1]}).select(pl.col("a").cast(t).alias(str(i)) for i, t in enumerate(types))
    assert [to_dtype(t) for t in types] == [to_dtype(d) for d in polars_casts.dtypes]
