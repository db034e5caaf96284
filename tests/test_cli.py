"""The command line as a user meets it: targets of every kind, files as users have them, errors on one line.

Most cases run the CLI in-process through :func:`skewless.cli.run` (the console script's own code path);
the ones that depend on how the process starts (the current directory on ``sys.path``) run the real script.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import polars as pl
import pytest

from skewless import FeatureSet, Float64, Input, Int64, String, col, fit, standardize
from skewless.cli import run
from skewless.parity import check_parity

SCRIPT = Path(sys.executable).with_name("skewless")


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = run([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def one_line_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


# --------------------------------------------------------------------------- every subcommand, bad arguments

BAD_ARGS = [
    (["parity"], "Missing argument"),
    (["parity", "skewless.definitions.flights:flights"], "Missing option '--data'"),
    (["parity", "skewless.definitions.flights:flights", "--data", "x.csv", "--bogus"], "No such option"),
    (["parity", "skewless.definitions.flights:flights", "--data", "x.csv", "--limit", "many"], "'--limit'"),
    (["parity", "nowhere", "--data", "x.csv"], "neither MODULE:NAME"),
    (["parity", "nope_no_module:fs", "--data", "x.csv"], "cannot import module 'nope_no_module'"),
    (["parity", "skewless.definitions.flights:flights", "--data", "/no/such.parquet"], "file not found"),
    (["parity", "skewless.definitions.flights_fitted:flights_fitted", "--data", "x.csv"], "--fit-on DATA"),
    (["show"], "Missing argument"),
    (["show", "skewless.definitions.flights:flightz"], "did you mean 'flights'"),
    (["show", "skewless.definitions.flights:flights", "--fit-on", "x.parquet"], "no fitted ops"),
    (["show", "/no/such/dir/file.py:fs"], "no Python file"),
    (["build"], "Missing argument"),
    (["build", "skewless.definitions.flights:flights", "--data", "/no/x.parquet", "--out", "o", "--label", "y",
      "--event-time", "t", "--split", "a,b"], "--split"),
    (["train"], "Missing argument"),
    (["train", "/no/build", "--out", "/tmp/nowhere_bundle", "--rounds", "ten"], "'--rounds'"),
    (["train", "/no/build", "--out", "/tmp/nowhere_bundle"], "no build at"),
    (["compare", "/no/a"], "Missing argument"),
    (["compare", "/no/a", "/no/b", "--data", "x.parquet"], "no bundle at"),
    (["demo", "--bogus"], "No such option"),
    (["serve"], "Missing option '--bundle'"),
    (["serve", "--bundle", "/no/bundle"], "no bundle at"),
    (["serve", "--bundle", "/no/bundle", "--port", "http"], "'--port'"),
    (["nosuchcommand"], "No such command"),
]


@pytest.mark.parametrize("args, message", BAD_ARGS, ids=[" ".join(a)[:60] for a, _ in BAD_ARGS])
def test_every_subcommand_refuses_bad_arguments_on_one_line_with_exit_2(capsys, args, message):
    code, _, err = cli(capsys, *args)
    assert code == 2, err
    assert message in one_line_error(err)


def test_no_arguments_prints_the_help(capsys):
    code, out, err = cli(capsys)
    assert code == 2 and "parity" in out and "Traceback" not in err


def test_the_console_script_errors_have_no_traceback(tmp_path):
    proc = subprocess.run([str(SCRIPT), "show", "skewless.definitions.flights:nope"], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 2
    assert one_line_error(proc.stderr)


# --------------------------------------------------------------------------- where feature-set code comes from

USER_MODULE = """
from skewless import FeatureSet, Float64, Input, col
doubled = FeatureSet("doubled", {"x": Input(Float64)}, {"y": col("x") * 2})
"""


def test_module_from_the_current_directory_like_uvicorn_and_pytest(tmp_path):
    (tmp_path / "my_features.py").write_text(USER_MODULE)
    pl.DataFrame({"x": [1.0, 2.5, -0.0]}).write_parquet(tmp_path / "x.parquet")
    proc = subprocess.run([str(SCRIPT), "parity", "my_features:doubled", "--data", "x.parquet"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 rows, 0 mismatching values" in proc.stdout


def test_a_python_file_path_names_the_module(tmp_path, capsys):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "helpers_p13.py").write_text("FACTOR = 3\n")
    (tmp_path / "sub" / "fs_file.py").write_text(USER_MODULE.replace("col(\"x\") * 2", "col(\"x\") * FACTOR")
                                                 .replace("from skewless", "from helpers_p13 import FACTOR\nfrom skewless"))
    code, out, err = cli(capsys, "show", f"{tmp_path}/sub/fs_file.py:doubled")
    assert code == 0, err
    assert "y: Float64 = (col('x') * lit(3))" in out and "def " in out


# --------------------------------------------------------------------------- fitted sets, builds and bundles


def _fitted_source():
    return FeatureSet("scaled", {"x": Input(Float64), "k": Input(String)},
                      {"x_std": standardize(col("x")), "k_up": col("k").str.to_uppercase()})


@pytest.fixture
def fitted_module(tmp_path):
    (tmp_path / "fitted_fs.py").write_text(textwrap.dedent("""
        from skewless import FeatureSet, Float64, Input, String, col, standardize
        scaled = FeatureSet("scaled", {"x": Input(Float64), "k": Input(String)},
                            {"x_std": standardize(col("x")), "k_up": col("k").str.to_uppercase()})
    """))
    pl.DataFrame({"x": [1.0, 2.0, 4.0, 8.0], "k": ["a", "b", "c", "d"]}).write_parquet(tmp_path / "train.parquet")
    return tmp_path


def test_show_and_parity_of_a_fitted_set_with_fit_on(capsys, fitted_module):
    spec = f"{fitted_module}/fitted_fs.py:scaled"
    code, out, err = cli(capsys, "show", spec)
    assert code == 0, err  # the definition is shown; the source needs state
    assert "x_std: Float64 = standardize(col('x'), ddof=0)" in out and "--fit-on" in out
    code, out, err = cli(capsys, "show", spec, "--fit-on", fitted_module / "train.parquet")
    assert code == 0, err
    assert "fitted: 1 fitted nodes, learned on 4 rows" in out and "def " in out
    code, out, err = cli(capsys, "parity", spec, "--fit-on", fitted_module / "train.parquet",
                         "--data", fitted_module / "train.parquet")
    assert code == 0, err
    assert "4 rows, 0 mismatching values" in out


def test_check_parity_accepts_a_fitted_set():
    fs = _fitted_source()
    rows = [{"x": 1.0, "k": "a"}, {"x": 3.0, "k": "é"}]
    fitted = fit(fs, rows)
    report = check_parity(fitted, rows)
    assert report.ok and report.rows == 2


def test_show_and_parity_of_a_build_and_a_bundle(capsys, bundle_dir, slice_df, tmp_path):
    data = tmp_path / "rows.parquet"
    slice_df.head(300).write_parquet(data)
    for target, kind in ((bundle_dir.parent / "build", "build"), (bundle_dir, "bundle")):
        code, out, err = cli(capsys, "show", target, "--no-source")
        assert code == 0, err
        assert f"({kind} {target})" in out and "carrier_oh__AA: Int64" in out
        code, out, err = cli(capsys, "parity", target, "--data", data)
        assert code == 0, err
        assert "300 rows, 0 mismatching values" in out
    code, _, err = cli(capsys, "parity", tmp_path, "--data", data)
    assert code == 2 and "neither a build directory" in one_line_error(err)


# --------------------------------------------------------------------------- reports for CI systems


def test_parity_writes_json_and_junit_also_on_a_mismatch(capsys, tmp_path, monkeypatch):
    (tmp_path / "broken_p13.py").write_text(textwrap.dedent("""
        from skewless import FeatureSet, Input, Int64, col
        broken = FeatureSet("broken", {"a": Input(Int64)}, {"plus": col("a") + 1, "same": col("a") * 1})
    """))
    from skewless.backends.python.rules import RULES
    from skewless.ir import core

    # sabotage the per-request rule for `+` (parity must catch it)
    monkeypatch.setitem(RULES, core.Add, lambda e, node, args: f"{args[0].src} + {args[1].src} + 1")
    pl.DataFrame({"a": [1, 2, 3]}).write_parquet(tmp_path / "a.parquet")
    code, out, err = cli(capsys, "parity", f"{tmp_path}/broken_p13.py:broken", "--data", tmp_path / "a.parquet",
                         "--json", tmp_path / "r.json", "--junit", tmp_path / "r.xml")
    assert code == 1, out + err
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["ok"] is False and report["rows"] == 3
    assert report["columns"]["plus"]["mismatching_rows"] == 3 and report["columns"]["same"]["mismatching_rows"] == 0
    assert report["columns"]["plus"]["examples"][0] == {"row": 0, "batch": 2, "per_request": 3, "inputs": {"a": 1}}
    suite = ET.parse(tmp_path / "r.xml").getroot().find("testsuite")
    assert suite.get("tests") == str(2 + 4) and suite.get("failures") == "1"
    failed = [c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None]
    assert failed == ["plus"]


# --------------------------------------------------------------------------- files as users have them


def _flat():
    return FeatureSet("flat", {"n": Input(Int64), "s": Input(String, nullable=True)},
                      {"n2": col("n") * 2, "s_len": col("s").str.len_chars()})


def test_undeclared_csv_columns_are_ignored_not_parsed(tmp_path, capsys):
    (tmp_path / "fs_flat.py").write_text(textwrap.dedent("""
        from skewless import FeatureSet, Input, Int64, String, col
        flat = FeatureSet("flat", {"n": Input(Int64), "s": Input(String, nullable=True)},
                          {"n2": col("n") * 2, "s_len": col("s").str.len_chars()})
    """))
    # 'visib' looks like an integer for 500 rows, then holds 1.5; 'when' is free text
    lines = ["n,visib,s,when"] + [f"{i},{i % 7},x{i},monday" for i in range(500)] + ["7,1.5,NA,a;b"]
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    code, out, err = cli(capsys, "parity", f"{tmp_path}/fs_flat.py:flat", "--data", tmp_path / "t.csv")
    assert code == 0, err
    assert "501 rows, 0 mismatching values" in out
    # the build keeps every column: the undeclared ones are inferred from the whole file
    from skewless.io import scan_data

    lf = scan_data(tmp_path / "t.csv", _flat(), columns="all")
    assert lf.collect_schema()["visib"] == pl.Float64 and lf.collect()["visib"][-1] == 1.5
    assert scan_data(tmp_path / "t.csv", _flat()).collect_schema().names() == ["n", "s"]


def test_csv_separator_nulls_and_encoding(tmp_path, capsys):
    (tmp_path / "fs_flat2.py").write_text(textwrap.dedent("""
        from skewless import FeatureSet, Input, Int64, String, col
        flat = FeatureSet("flat", {"n": Input(Int64), "s": Input(String, nullable=True)},
                          {"n2": col("n") * 2, "s_len": col("s").str.len_chars()})
    """))
    spec = f"{tmp_path}/fs_flat2.py:flat"
    (tmp_path / "semi.csv").write_text("n;s\n1;café\n2;-\n")
    code, _, err = cli(capsys, "parity", spec, "--data", tmp_path / "semi.csv")
    assert code == 2 and "looks separated by ';'" in one_line_error(err)
    code, out, err = cli(capsys, "parity", spec, "--data", tmp_path / "semi.csv", "--separator", ";",
                         "--null-value", "-")
    assert code == 0, err
    from skewless.io import scan_data

    got = scan_data(tmp_path / "semi.csv", _flat(), separator=";", null_values=["-"]).collect()
    assert got["s"].to_list() == ["café", None]
    (tmp_path / "latin.csv").write_bytes("n,s\n1,café\n".encode("latin-1"))
    code, _, err = cli(capsys, "parity", spec, "--data", tmp_path / "latin.csv")
    assert code == 2 and "--encoding" in one_line_error(err)
    code, out, err = cli(capsys, "parity", spec, "--data", tmp_path / "latin.csv", "--encoding", "latin-1")
    assert code == 0, err
    assert scan_data(tmp_path / "latin.csv", _flat(), encoding="latin-1").collect()["s"].to_list() == ["café"]
    code, _, err = cli(capsys, "parity", spec, "--data", tmp_path / "latin.csv", "--encoding", "klingon")
    assert code == 2 and "unknown encoding 'klingon'" in one_line_error(err)
