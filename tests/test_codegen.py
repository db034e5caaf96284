"""The generated per-request function: inspectable, traceable, injection-proof, polars-free."""

from __future__ import annotations

import linecache
import math
import subprocess
import sys
import textwrap
import traceback

import pytest

from skewless import Float64, Input, Int64, InvalidOperationError, String, col, feature_set, lit, when
from skewless.definitions.flights import flights

HOSTILE = [
    "'; import os; os.system('echo pwned') #",
    '"""\nimport os\n"""',
    "\\",
    "\\'",
    "line1\nline2\r\n",
    "__import__('os').system('echo pwned')",
    "{out}",
    "\x00\u2028\u2029",
    "${0}$1\\1",
]


def test_generated_source_is_printable_and_names_features():
    src = flights.python_source()
    assert src.startswith("def features_flights(row):")
    assert "import polars" not in src and "pl." not in src
    for name in flights.features:
        assert f"{name!r}:" in src
    # straight-line: no loops or comprehensions in the body
    import ast

    loops = (ast.For, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
    assert not [n for n in ast.walk(ast.parse(src)) if isinstance(n, loops)]


@pytest.mark.parametrize("text", HOSTILE)
def test_strings_from_definitions_cannot_inject_code(text, tmp_path, capfd):
    fs = feature_set(
        type(
            "hostile",
            (),
            {
                "s": Input(String, nullable=True),
                "same": col("s") == text,
                "filled": col("s").fill_null(text),
                "member": col("s").is_in([text, "x"]),
                "picked": when(col("s") == "x").then(lit(text)).otherwise(col("s")),
                "starts": col("s").str.starts_with(text),
                "replaced": col("s").str.replace_all("a", text.replace("$", "$$"), literal=True),
            },
        )
    )
    out = fs.row_fn({"s": text})
    assert out["same"] is True and out["filled"] == text and out["member"] is True
    assert fs.row_fn({"s": None})["filled"] == text
    assert fs.row_fn({"s": "x"})["picked"] == text
    assert "pwned" not in capfd.readouterr().out
    # The batch runtime agrees on the same hostile strings.
    from skewless.parity import check_parity

    assert check_parity(fs, [{"s": text}, {"s": None}, {"s": "x"}, {"s": "banana"}]).ok


def test_hostile_feature_and_set_names_are_kept_out_of_code():
    from skewless import FeatureSet

    evil = "x'): pass\nimport os\n#"
    fs = FeatureSet(evil, {evil + "in": Input(Int64)}, {evil: col(evil + "in") + 1})
    assert fs.row_fn({evil + "in": 1}) == {evil: 2}
    assert "import os" not in fs.python_source().replace(repr(evil), "").replace(repr(evil + "in"), "")


def test_tracebacks_show_generated_lines():
    @feature_set
    class strict:
        s = Input(String)
        as_int = col("s").cast(Int64)

    fn = strict.compile_python()
    with pytest.raises(InvalidOperationError) as info:
        strict.row_fn({"s": "not a number"})
    frames = traceback.extract_tb(info.value.__traceback__)
    generated = [f for f in frames if f.filename == fn.filename]
    assert generated, [f.filename for f in frames]
    assert "as_int" in generated[0].line  # the line text comes from linecache
    assert linecache.getline(fn.filename, 1).startswith("def features_strict(row)")


def test_per_request_path_never_imports_polars():
    code = textwrap.dedent(
        """
        import sys, datetime as dt
        from skewless.definitions.flights import flights
        fn = flights.row_fn
        row = dict(month=1, day=1, dep_time=2400, sched_dep_time=2359, dep_delay=None, sched_arr_time=5,
                   carrier="AA", flight=1, tailnum=None, origin="JFK", dest="LAX", air_time=None, distance=2475,
                   time_hour=dt.datetime(2013, 1, 2, 4, tzinfo=dt.timezone.utc))
        out = fn(row)
        assert out["local_hour"] == 23, out
        assert "polars" not in sys.modules, sorted(m for m in sys.modules if "polars" in m)
        print("ok", len(out))
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"ok {len(flights.features)}"


def test_static_nullability_removes_null_checks():
    @feature_set
    class nn:
        a = Input(Float64)
        b = Input(Float64, nullable=True)
        x = col("a") * 2.0
        y = col("b") * 2.0

    src = nn.python_source()
    x_line = next(line for line in src.splitlines() if line.rstrip().endswith("# x"))
    y_line = next(line for line in src.splitlines() if line.rstrip().endswith("# y"))
    assert "None" not in x_line and "is None" in y_line
    assert nn.row_fn({"a": 1.5, "b": None}) == {"x": 3.0, "y": None}
    assert math.isnan(nn.row_fn({"a": float("nan"), "b": 1.0})["x"])


def test_indicator_columns_come_from_one_row_table():
    # (x == i).cast(Int64) columns over one non-null Int64 x (what one_hot lowers to) are read from a table
    # of ready-made rows; the values and the key order are those of computing each column on its own.
    from skewless import FeatureSet

    code = col("x").fill_null(-1)
    feats = {f"x_is_{i}": (code == i).cast(Int64) for i in (0, 1, 2, 3)}
    feats["other"] = col("x").fill_null(0) * 2
    feats.update({f"again_{i}": (code == i).cast(Int64) for i in (2, 0)})  # too short for a table
    feats["last"] = (col("x_is_1") + 1)  # reads a tabled column
    fs = FeatureSet("onehot", {"x": Input(Int64, nullable=True)}, feats)
    src = fs.python_source()
    assert src.count(".get(") == 1 and "**_t" in src
    assert "'x_is_0'" not in src and "'again_2':" in src
    for x in (None, -1, 0, 1, 2, 3, 4, -(2**63)):
        out = fs.row_fn({"x": x})
        c = -1 if x is None else x
        expected = {f"x_is_{i}": int(c == i) for i in (0, 1, 2, 3)}
        wrapped = ((x or 0) * 2 + 2**63) % 2**64 - 2**63  # Int64 wraps as in polars
        expected.update({"other": wrapped, "again_2": int(c == 2), "again_0": int(c == 0),
                         "last": int(c == 1) + 1})
        assert list(out) == list(feats) and out == expected
        assert all(type(v) is int for v in out.values())


def test_nullable_indicator_operand_is_not_tabled():
    from skewless import FeatureSet

    feats = {f"x_is_{i}": (col("x") == i).cast(Int64) for i in range(4)}
    fs = FeatureSet("nullable_onehot", {"x": Input(Int64, nullable=True)}, feats)
    assert "**" not in fs.python_source()
    assert fs.row_fn({"x": None}) == {f"x_is_{i}": None for i in range(4)}
    assert fs.row_fn({"x": 2}) == {f"x_is_{i}": int(i == 2) for i in range(4)}
