"""Fitted-state artifacts: round trip, refusals that say what differs, hostile content stays data."""

from __future__ import annotations

import ast
import inspect
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import polars as pl
import pytest

from skewless import (
    FeatureSet,
    Float64,
    Input,
    Int64,
    String,
    col,
    fit,
    frequency_encode,
    impute,
    one_hot,
    ordinal_encode,
    quantile_bucketize,
    standardize,
    target_encode,
    winsorize,
)
from skewless.artifact import FORMAT_VERSION, ArtifactError, load, save
from skewless.parity import same_value

HOSTILE = [
    "'; import os; os.system('touch PWNED') #",
    '"""\nimport os\nos.system("touch PWNED")\n"""',
    "__import__('os').system('touch PWNED')",
    "\\x00\x00}{out}",
    "other",
    "null",
    "line\nbreak\r\n",
]


def make(distance_expr=None, *, extra=False, drop=False, carrier_dtype=String, code_min_frequency=None):
    """The test definition; the keyword arguments make the variants the artifact must refuse."""
    features = {
        "dist_std": standardize(distance_expr if distance_expr is not None else col("distance").log1p()),
        "carrier_oh": one_hot(col("carrier"), max_categories=4),
        "carrier_code": ordinal_encode(col("carrier"), min_frequency=code_min_frequency),
        "carrier_freq": frequency_encode(col("carrier")),
        "carrier_te": target_encode(col("carrier"), smoothing=5.0),
        "delay_imp": impute(col("delay"), "median"),
        "delay_w": winsorize(col("delay"), 0.1, 0.9),
        "delay_bin": quantile_bucketize(col("delay"), 4),
        "scaled_code": standardize(col("carrier_code")),  # reads another feature
    }
    if drop:
        del features["delay_w"]
    if extra:
        features["dist_bin"] = quantile_bucketize(col("distance"), 3)
    return FeatureSet(
        "artifact_demo",
        {"distance": Input(Int64), "carrier": Input(carrier_dtype, nullable=True), "delay": Input(Float64, nullable=True)},
        features,
    )


def training() -> pl.DataFrame:
    carriers = ["AA", "DL", "UA", "B6", None, *HOSTILE]
    n = 60
    return pl.DataFrame({
        "distance": [100 + 37 * i for i in range(n)],
        "carrier": [carriers[i % len(carriers)] for i in range(n)],
        "delay": [None if i % 7 == 0 else float((i * 13) % 50 - 10) for i in range(n)],
        "late": [float(i % 3 == 0) for i in range(n)],
    })


def probe_rows() -> pl.DataFrame:
    return pl.DataFrame({
        "distance": [0, 100, 5000, -3, 2**40],
        "carrier": ["AA", "ZZ", None, HOSTILE[0], HOSTILE[1]],
        "delay": [None, float("nan"), 1e9, -1e9, 3.0],
    })


@pytest.fixture(scope="module")
def fitted():
    return fit(make(), training(), label="late")


@pytest.fixture
def saved(tmp_path, fitted) -> Path:
    return save(fitted, tmp_path / "fitted.json")


def rewrite(path: Path, edit) -> None:
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))


def refit_fingerprint(doc) -> None:
    """What an attacker (or a careless edit) would do: make the state fingerprint consistent again."""
    import hashlib

    from skewless.artifact import _canonical

    doc["manifest"]["state_fingerprint"] = hashlib.sha256(_canonical(doc["state"])).hexdigest()


def test_round_trip_gives_identical_outputs(saved, fitted):
    loaded = load(saved, make())
    assert loaded.state == fitted.state
    assert loaded.output_schema() == fitted.output_schema()
    assert loaded.python_source() == fitted.python_source()
    rows = probe_rows()
    a = fitted.transform(rows).collect()
    b = loaded.transform(rows).collect()
    assert a.equals(b)
    for row, want in zip(rows.iter_rows(named=True), a.iter_rows(named=True)):
        got = loaded.row_fn(row)
        assert all(same_value(want[k], got[k], f.dtype) for k, f in loaded.output_schema().items())
    assert loaded.check_parity(rows).ok
    assert loaded.check_parity(training()).ok


def test_manifest_records_versions_schemas_and_source(saved, fitted):
    m = json.loads(saved.read_text())["manifest"]
    assert m["format_version"] == FORMAT_VERSION
    assert m["definition_fingerprint"] == make().fingerprint
    assert m["feature_fingerprints"] == make().feature_fingerprints()
    assert m["polars_version"] == pl.__version__ and m["tzdata_version"] and m["skewless_version"]
    assert m["python_source"] == fitted.python_source() and "def features_artifact_demo(row):" in m["python_source"]
    assert set(m["output_schema"]) >= {"carrier_oh__AA", "carrier_oh__other", "carrier_oh__null", "dist_std"}
    assert m["input_schema"]["carrier"] == {"dtype": {"type": "String"}, "nullable": True}
    assert m["label"] == "late" and m["training_rows"] == 60


def test_changing_one_feature_names_it(saved):
    with pytest.raises(ArtifactError) as info:
        load(saved, make(col("distance").sqrt()))
    msg = str(info.value)
    assert "changed features: dist_std" in msg and "refit" in msg
    assert info.value.changed == ["dist_std"] and not info.value.added and not info.value.removed


def test_changing_a_feature_read_by_another_names_both(saved):
    # scaled_code reads carrier_code: its resolved IR, hence its fingerprint, changes with it.
    with pytest.raises(ArtifactError) as info:
        load(saved, make(code_min_frequency=2))
    assert info.value.changed == ["carrier_code", "scaled_code"]


def test_added_removed_features_and_changed_inputs_are_named(saved):
    with pytest.raises(ArtifactError, match="added features: dist_bin") as info:
        load(saved, make(extra=True))
    assert info.value.added == ["dist_bin"]
    with pytest.raises(ArtifactError, match="removed features: delay_w") as info:
        load(saved, make(drop=True))
    assert info.value.removed == ["delay_w"]
    with pytest.raises(ArtifactError, match=r"\(changed inputs: carrier\)"):
        load(saved, make(carrier_dtype=Int64))


@pytest.mark.parametrize("cut", [0, 1, 100, 0.5, -2])
def test_truncated_json_is_refused(saved, cut):
    text = saved.read_bytes()
    n = int(len(text) * cut) if isinstance(cut, float) else (cut if cut >= 0 else len(text) + cut)
    saved.write_bytes(text[:n])
    with pytest.raises(ArtifactError, match="not valid JSON|not a skewless"):
        load(saved, make())


def test_corrupt_bytes_and_non_artifacts_are_refused(saved, tmp_path):
    data = bytearray(saved.read_bytes())
    data[len(data) // 2] = 0xFF
    saved.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="not UTF-8|not valid JSON"):
        load(saved, make())
    other = tmp_path / "other.json"
    for payload in ["[]", "{}", '{"manifest": {"format": "pickle"}}', "null", '"x"']:
        other.write_text(payload)
        with pytest.raises(ArtifactError, match="not a skewless fitted feature set artifact"):
            load(other, make())
    with pytest.raises(ArtifactError, match="cannot read"):
        load(tmp_path / "missing.json", make())


def test_bare_nan_constants_are_refused(saved):
    text = saved.read_text().replace('"training_rows": 60', '"training_rows": NaN')
    saved.write_text(text)
    with pytest.raises(ArtifactError, match="not valid JSON"):
        load(saved, make())


@pytest.mark.parametrize("version", [2, 0, "1", 1.0, None])
def test_unknown_format_version_is_refused(saved, version):
    rewrite(saved, lambda d: d["manifest"].__setitem__("format_version", version))
    with pytest.raises(ArtifactError, match=r"unknown artifact format version .*reads version 1"):
        load(saved, make())


def _first(doc, op):
    return next(s for s in doc["state"].values() if s["op"] == op)


@pytest.mark.parametrize(
    "edit, where",
    [
        (lambda d: _first(d, "Standardize").__setitem__("mean", "0.5"), "mean"),
        (lambda d: _first(d, "Standardize").__setitem__("count", -1), "count"),
        (lambda d: _first(d, "Standardize").pop("std"), "std"),
        (lambda d: _first(d, "Standardize").__setitem__("extra", 1), "extra"),
        (lambda d: _first(d, "OneHot").__setitem__("vocabulary", [["AA"]]), "vocabulary"),
        (lambda d: _first(d, "OneHot").__setitem__("vocabulary", [{"float": "nan"}]), "vocabulary"),
        (lambda d: _first(d, "OneHot").__setitem__("op", "Pickle"), "op"),
        (lambda d: _first(d, "QuantileBucketize").__setitem__("edges", [1.0, {"float": "1e400"}]), "edges"),
        (lambda d: d["manifest"].__setitem__("training_rows", "sixty"), "training_rows"),
        (lambda d: d["manifest"].pop("python_source"), "python_source"),
        (lambda d: d.__setitem__("state", [1, 2]), "state"),
    ],
)
def test_wrong_types_are_refused_naming_the_field(saved, edit, where):
    rewrite(saved, edit)
    with pytest.raises(ArtifactError, match="wrong or missing values") as info:
        load(saved, make())
    assert where in str(info.value)


def test_edited_state_fails_the_state_fingerprint(saved):
    rewrite(saved, lambda d: _first(d, "Standardize").__setitem__("mean", 123.0))
    with pytest.raises(ArtifactError, match="does not match its fingerprint"):
        load(saved, make())


def _set_vocabulary(op, vocabulary):
    def edit(d):
        _first(d, op)["vocabulary"] = vocabulary
        _first(d, op)["counts"] = [1] * len(vocabulary)
    return edit


def _extra_entry(d):
    d["state"]["0000000000000000"] = _first(d, "Standardize")


@pytest.mark.parametrize(
    "edit, message",
    [
        (_set_vocabulary("OneHot", ["b", "a", "a"]), "does not fit the definition.*sorted and distinct"),
        (_set_vocabulary("OrdinalEncode", [1, 2]), "does not fit the definition.*not a String value"),
        (_set_vocabulary("OrdinalEncode", [True]), "does not fit the definition.*not a String value"),
        (lambda d: _first(d, "QuantileBucketize").__setitem__("edges", [2.0, 1.0]), "strictly increasing"),
        (lambda d: _first(d, "TargetEncode").__setitem__("sums", [1.0]), "does not fit the definition"),
        (_extra_entry, "match no fitted op"),
    ],
)
def test_consistent_but_ill_fitting_state_is_refused(saved, edit, message):
    # Valid JSON types and a recomputed state fingerprint, but state that does not fit the definition.
    def both(d):
        edit(d)
        refit_fingerprint(d)

    rewrite(saved, both)
    with pytest.raises(ArtifactError, match=message):
        load(saved, make())


def test_stored_source_is_never_executed_and_must_match(saved, tmp_path):
    marker = tmp_path / "PWNED"
    payload = f"import os\nopen({str(marker)!r}, 'w').write('x')\n"
    rewrite(saved, lambda d: d["manifest"].__setitem__("python_source", payload))
    with pytest.raises(ArtifactError, match="source generated now differs"):
        load(saved, make())
    loaded = load(saved, make(), check_source=False)
    loaded.row_fn({"distance": 1, "carrier": "AA", "delay": 1.0})
    assert not marker.exists()


def test_hostile_vocabulary_stays_data(tmp_path, monkeypatch):
    """Vocabulary strings with quotes, newlines and code: fitted, saved, loaded, served; nothing executes."""
    monkeypatch.chdir(tmp_path)
    fitted = fit(make(), training(), label="late")
    path = save(fitted, tmp_path / "hostile.json")
    # An attacker-consistent artifact: more code in the vocabularies, fingerprint recomputed.
    evil = ["x'); open('PWNED','w'); ('", "\"\"\"", "\\", "{out} = 1", "\n    import os\n"]

    def edit(d):
        state = _first(d, "OrdinalEncode")
        state["vocabulary"] = sorted(set(state["vocabulary"] + evil))
        state["counts"] = [1] * len(state["vocabulary"])
        te = _first(d, "TargetEncode")
        te["keys"] = sorted(set(te["keys"] + evil))
        te["counts"] = [1] * len(te["keys"])
        te["sums"] = [1.0] * len(te["keys"])
        refit_fingerprint(d)

    rewrite(path, edit)
    with pytest.raises(ArtifactError, match="lowers the state to a different feature set"):
        load(path, make())

    def relower(d):  # the attacker also recomputes the lowered fingerprint
        from skewless.artifact import decode
        from skewless.fitting import FittedFeatureSet

        d["manifest"]["lowered_fingerprint"] = FittedFeatureSet(make(), decode(d["state"])).lowered.fingerprint

    rewrite(path, relower)
    loaded = load(path, make(), check_source=False)
    source = loaded.python_source()
    tree = ast.parse(source)  # still valid Python: every string is a repr literal or a global constant
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    assert strings <= set(loaded.output_schema()) | set(loaded.input_schema())  # names only, as literals
    assert not [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert called <= {"float", "int"} | {k for k in loaded.lowered.compile_python().globals if k.startswith("_")}
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.Call) and not isinstance(n.func, (ast.Name, ast.Attribute))]
    for text in HOSTILE + evil:
        out = loaded.row_fn({"distance": 1, "carrier": text, "delay": None})
        assert out["carrier_te"] == out["carrier_te"]
    assert loaded.check_parity(pl.DataFrame({"distance": [1] * 12, "carrier": HOSTILE + evil,
                                             "delay": [None] * 12})).ok
    assert not (tmp_path / "PWNED").exists()


def test_save_is_atomic(tmp_path, fitted, monkeypatch):
    path = save(fitted, tmp_path / "a.json")
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        save(fitted, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]
    assert path.stat().st_mode & 0o777 == 0o644  # not mkstemp's 0o600


def test_loading_does_not_import_polars(saved):
    # The definition is the same function's source, run in a process that has only imported skewless.
    script = textwrap.dedent(
        f"""
        import sys
        from skewless import *
        from skewless.artifact import load
        HOSTILE = {HOSTILE!r}
        """
    ) + inspect.getsource(make) + textwrap.dedent(
        f"""
        fitted = load({str(saved)!r}, make())
        out = fitted.row_fn({{"distance": 1000, "carrier": "AA", "delay": None}})
        assert "polars" not in sys.modules, sorted(m for m in sys.modules if "polars" in m)
        assert "numpy" not in sys.modules
        print(out["carrier_oh__AA"], out["delay_imp"])
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.split()[0] == "1"


def test_non_finite_learned_values_round_trip(tmp_path):
    fs = FeatureSet("overflow", {"x": Input(Float64)},
                    {"z": standardize(col("x"), ddof=1), "w": winsorize(col("x"), 0.0, 1.0)})
    big = 1.7976931348623157e308
    fitted = fit(fs, pl.DataFrame({"x": [big, -big]}))  # sample std sqrt(2) * big
    key, st = next((k, s) for k, s in fitted.state.items() if s["op"] == "Standardize")
    # exact moments (skewless.exact): the mean never overflows; a standard deviation past the largest float is inf
    assert st["mean"] == 0.0 and st["std"] == float("inf")
    # non-finite learned values (a float sum that overflowed gave mean=inf, std=nan before the sums were exact)
    # are stored as {"float": "inf"} / {"float": "nan"}, not bare NaN
    state = {k: dict(v) for k, v in fitted.state.items()}
    state[key].update(mean=float("inf"), std=float("nan"))
    from skewless.fitting import FittedFeatureSet

    fitted = FittedFeatureSet(fs, state, fitted.meta)
    path = save(fitted, tmp_path / "o.json")
    text = path.read_text()
    compact = text.replace(" ", "").replace("\n", "")
    assert '{"float":"inf"}' in compact and '{"float":"nan"}' in compact
    assert "NaN" not in text and "Infinity" not in text
    loaded = load(path, fs)
    assert loaded.state_fingerprint == fitted.state_fingerprint
    assert loaded.row_fn({"x": 3.0}) == fitted.row_fn({"x": 3.0}) == {"z": 0.0, "w": 3.0}
