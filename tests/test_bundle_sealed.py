"""The sealed bundle (issue 14, point 1-2; issue 11, point 6): every file hashed and checked before it is
parsed, a strict manifest, golden rows with a floor and a coverage record, the feature set served from
the bundle's own serialized definition (no module named by the bundle is imported), optional HMAC
signing, model input names LightGBM never rewrites, and the bundle format in a module of its own that
serving uses without anything from ``skewless.training``."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from skewless.bundle import BundleError, load_bundle
from skewless.bundle.codec import decode_value, encode_value, same_value
from skewless.bundle.definition import definition_from_data
from skewless.bundle.seal import SealError, check_file, reseal
from skewless.serving.bundle_loader import check_bundle

ROOT = Path(__file__).resolve().parents[1]


def _copy(bundle_dir: Path, tmp_path: Path) -> Path:
    out = tmp_path / "bundle"
    shutil.copytree(bundle_dir, out)
    return out


def _edit_manifest(bundle: Path, edit) -> None:
    m = json.loads((bundle / "manifest.json").read_text())
    edit(m)
    (bundle / "manifest.json").write_text(json.dumps(m))


# --------------------------------------------------------------------------- the import graph


def _imports(path: Path, package: str) -> set[str]:
    """Every module ``path`` imports (function-level imports too), relative ones resolved."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)
    return out


def _module_file(name: str) -> Path | None:
    parts = name.split(".")
    if parts[0] != "skewless":
        return None
    roots = {"training": ROOT / "training", "serving": ROOT / "serving"}
    base = roots.get(parts[1], None) if len(parts) > 1 else None
    rest = parts[2:] if base is not None else parts[1:]
    base = base or ROOT / "features"
    for candidate in (base.joinpath(*rest).with_suffix(".py"), base.joinpath(*rest, "__init__.py")):
        if candidate.is_file():
            return candidate
    return None


def test_serving_imports_nothing_from_training():
    """The closure of skewless modules reachable from serving/ (statically, every import) has no skewless.training."""
    todo = [f"skewless.serving.{p.stem}" if p.stem != "__init__" else "skewless.serving"
            for p in (ROOT / "serving").glob("*.py")]
    seen: dict[str, str] = {}
    while todo:
        name = todo.pop()
        file = _module_file(name)
        if file is None or name in seen:
            continue
        package = name if file.name == "__init__.py" else name.rpartition(".")[0]
        for imported in _imports(file, package):
            if imported.startswith("skewless") and imported not in seen:
                assert not imported.startswith("skewless.training"), f"{name} imports {imported}"
                todo.append(imported)
        seen[name] = str(file)
    assert "skewless.bundle.loader" in seen and "skewless.serving.app" in seen


# --------------------------------------------------------------------------- the codec


def test_one_codec_round_trips_every_dtype_exactly():
    import datetime as dt

    from skewless.dtypes import Boolean, Date, Datetime, Duration, Float64, Int64, String
    from skewless.runtime.tz import get_zone

    ny = get_zone("America/New_York")
    cases = [
        (Float64(), [0.1, -0.0, float("nan"), float("inf"), float("-inf"), 5e-324]),
        (Int64(), [-(2 ** 63), 2 ** 63 - 1, 0]), (Boolean(), [True, False]), (String(), ["", "é\u0000x"]),
        (Datetime("us", "America/New_York"), [dt.datetime(2013, 11, 3, 1, 30, fold=1, tzinfo=ny),
                                              dt.datetime(1, 1, 1, 0, 0, tzinfo=dt.timezone.utc).astimezone(ny)
                                              if False else dt.datetime(2038, 1, 19, 3, 14, 7, 999999, tzinfo=ny)]),
        (Datetime("us", None), [dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31, 23, 59, 59, 999999)]),
        (Date(), [dt.date(1, 1, 1), dt.date(9999, 12, 31)]),
        (Duration("us"), [dt.timedelta(0), dt.timedelta(microseconds=-1), dt.timedelta(days=-3, microseconds=7),
                          dt.timedelta.max, dt.timedelta.min, dt.timedelta(days=1, seconds=3, microseconds=5)]),
    ]
    for dtype, values in cases:
        for v in values + [None]:
            data = encode_value(v, dtype)
            back = decode_value(json.loads(json.dumps(data, allow_nan=False)), dtype)
            assert same_value(back, v), (dtype, v, data, back)
    assert encode_value(dt.timedelta(days=1, seconds=3, microseconds=5), Duration("us")) == "P1DT3.000005S"
    assert encode_value(dt.timedelta(microseconds=-1), Duration("us")) == "-PT0.000001S"


def test_http_responses_write_values_with_the_codec():
    """One spelling: the service's encoder is the codec's (the feature log stores typed Arrow columns)."""
    import datetime as dt

    from skewless.dtypes import Duration, Field, Float64
    from skewless.serving.schemas import FeatureEncoder, encode_features

    schema = {"d": Field(Duration("us"), True), "x": Field(Float64(), True)}
    v = {"d": dt.timedelta(microseconds=-1), "x": float("-inf")}
    want = {"d": encode_value(v["d"], Duration("us")), "x": encode_value(v["x"], Float64())}
    assert FeatureEncoder(schema)(v) == want == encode_features(v, schema) == {"d": "-PT0.000001S", "x": {"float": "-inf"}}


# --------------------------------------------------------------------------- the serialized definition


def test_every_parity_case_definition_is_rebuilt_from_its_serialized_form():
    from parity_tests.cases import all_cases

    for case in all_cases():
        fs = case.definition()
        rebuilt = definition_from_data(json.loads(json.dumps(fs.ir_json())))
        assert rebuilt.fingerprint == fs.fingerprint, case.name
        assert rebuilt.feature_fingerprints() == fs.feature_fingerprints(), case.name


def test_a_bundle_is_served_without_importing_any_module_it_names(bundle_dir, tmp_path):
    """A bundle shipping its own module, named as the spec, started from inside the bundle directory."""
    bad = _copy(bundle_dir, tmp_path)
    marker = tmp_path / "imported"
    (bad / "evil_defs.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\nflights_fitted = None\n")
    _edit_manifest(bad, lambda m: m["feature_set"].update(spec="evil_defs:flights_fitted"))
    with pytest.raises(BundleError, match="evil_defs.py is not listed in the manifest"):
        load_bundle(bad)
    reseal(bad)  # even listed and hashed, it is never imported
    code = textwrap.dedent(f"""
        import sys
        from skewless.serving.bundle_loader import check_bundle
        served = check_bundle({str(bad)!r})
        assert served.problems == [], served.problems
        leaked = sorted(m for m in sys.modules if m.startswith(("evil_defs", "skewless.definitions", "skewless.training")))
        assert not leaked, leaked
        assert "polars" not in sys.modules
        print("ok")
    """)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    r = subprocess.run([sys.executable, "-c", code], cwd=bad, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-3000:]
    assert not marker.exists()


# --------------------------------------------------------------------------- the seal


def test_every_file_is_hashed_and_checked_before_it_is_parsed(bundle_dir, tmp_path):
    m = json.loads((bundle_dir / "manifest.json").read_text())
    assert set(m["files"]) == {p.name for p in bundle_dir.iterdir()} - {"manifest.json", "signature.json"}
    for name in m["files"]:
        bad = tmp_path / name
        shutil.copytree(bundle_dir, bad)
        data = bytearray((bad / name).read_bytes())
        data[len(data) // 2] ^= 0x01
        (bad / name).write_bytes(bytes(data))
        with pytest.raises(BundleError, match=f"{name} does not match the SHA-256"):
            load_bundle(bad)
    shutil.copytree(bundle_dir, tmp_path / "missing")
    (tmp_path / "missing" / "stats.json").unlink()
    with pytest.raises(BundleError, match="stats.json is listed in the manifest but missing"):
        load_bundle(tmp_path / "missing")


def test_every_one_digit_edit_of_model_txt_is_refused_at_load(bundle_dir, tmp_path):
    """All digits of model.txt, each changed to another digit: the check load runs refuses every one.

    The full sweep runs the loader's own file check on the edited bytes (a full load per edit would
    take hours); a sample of edits goes through the whole load of a copied bundle, before LightGBM.
    """
    entry = json.loads((bundle_dir / "manifest.json").read_text())["files"]["model.txt"]
    text = (bundle_dir / "model.txt").read_bytes()
    digits = [i for i, b in enumerate(text) if 48 <= b <= 57]
    assert len(digits) > 10_000
    for i in digits:
        edited = bytearray(text)
        edited[i] = 48 + (text[i] - 48 + 1) % 10
        with pytest.raises(SealError, match="model.txt"):
            check_file("model.txt", bytes(edited), entry)
    bad = _copy(bundle_dir, tmp_path)
    for i in digits[:: max(1, len(digits) // 40)]:
        edited = bytearray(text)
        edited[i] = 48 + (text[i] - 48 + 5) % 10
        (bad / "model.txt").write_bytes(bytes(edited))
        with pytest.raises(BundleError, match="model.txt does not match the SHA-256"):
            check_bundle(bad)


def test_golden_rows_have_a_floor_and_their_coverage_is_checked(bundle_dir, tmp_path):
    bad = _copy(bundle_dir, tmp_path)
    doc = json.loads((bad / "golden_rows.json").read_text())
    doc["rows"] = doc["rows"][:1]
    (bad / "golden_rows.json").write_text(json.dumps(doc))
    with pytest.raises(BundleError, match="golden_rows.json does not match|golden_rows.json is"):
        load_bundle(bad)
    reseal(bad)
    with pytest.raises(BundleError, match="holds 1 rows; the manifest says"):
        load_bundle(bad)
    _edit_manifest(bad, lambda m: m["golden"].update(rows=1))
    with pytest.raises(BundleError, match="holds 1 rows.*at least 16"):
        load_bundle(bad)
    m = json.loads((bundle_dir / "manifest.json").read_text())
    cov = m["golden"]["coverage"]
    assert m["golden"]["rows"] >= 16 and cov["null_inputs"] and all(n > 0 for n in cov["categories"].values())


def test_a_longer_file_is_refused_before_it_is_read_whole(bundle_dir, tmp_path):
    """A file grown after sealing (here one byte; a swapped-in model of another size alike) is refused by size."""
    bad = _copy(bundle_dir, tmp_path)
    (bad / "model.txt").write_text((bad / "model.txt").read_text() + "\n")
    with pytest.raises(BundleError, match="model.txt is [0-9,]+ bytes, over the limit .*the manifest says"):
        load_bundle(bad)


BAD_MANIFESTS = {
    "nan threshold": (lambda m: m["model"].update(decision_threshold=float("nan")), "model.decision_threshold"),
    "threshold -1": (lambda m: m["model"].update(decision_threshold=-1), "decision threshold must be a finite"),
    "threshold 1.0": (lambda m: m["model"].update(decision_threshold=1.0), "strictly between 0 and 1"),
    "threshold as text": (lambda m: m["model"].update(decision_threshold="0.5"), "model.decision_threshold"),
    "unknown key": (lambda m: m.update(surprise=1), "surprise: Extra inputs are not permitted"),
    "missing key": (lambda m: m.pop("model"), "model: Field required"),
    "bad hash": (lambda m: m["files"]["model.txt"].update(sha256="x" * 64), "files.model.txt.sha256"),
    "model name with a space": (lambda m: m["model"]["inputs"][0].update(model_name="f 1"), "model_name"),
    "old version": (lambda m: m.update(format_version=1), "format version 1"),
}


@pytest.mark.parametrize("case", list(BAD_MANIFESTS))
def test_a_manifest_is_validated_strictly(bundle_dir, tmp_path, case):
    edit, message = BAD_MANIFESTS[case]
    bad = _copy(bundle_dir, tmp_path)
    m = json.loads((bad / "manifest.json").read_text())
    edit(m)
    (bad / "manifest.json").write_text(json.dumps(m))  # json writes NaN as NaN: the strict parser refuses it too
    with pytest.raises(BundleError, match=message):
        load_bundle(bad)


def test_deeply_nested_or_huge_manifests_are_refused_without_a_traceback(bundle_dir, tmp_path):
    bad = _copy(bundle_dir, tmp_path)
    (bad / "manifest.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(BundleError, match="not a valid bundle manifest"):
        load_bundle(bad)
    with open(bad / "manifest.json", "wb") as fh:
        fh.truncate(33 * 2 ** 20)
    with pytest.raises(BundleError, match="over the limit"):
        load_bundle(bad)


def test_signed_bundles_refuse_a_missing_or_wrong_signature(bundle_dir, tmp_path):
    bad = _copy(bundle_dir, tmp_path)
    with pytest.raises(BundleError, match="not signed"):
        load_bundle(bad, key="k1")
    reseal(bad, key="k1")
    assert load_bundle(bad, key="k1").self_check() == []
    with pytest.raises(BundleError, match="does not verify"):
        load_bundle(bad, key="k2")
    _edit_manifest(bad, lambda m: m["model"].update(decision_threshold=0.25))
    with pytest.raises(BundleError, match="does not verify"):
        load_bundle(bad, key="k1")


def test_model_inputs_have_names_lightgbm_keeps_and_the_mapping_is_in_the_manifest(bundle_dir):
    b = load_bundle(bundle_dir)
    assert b.booster.feature_name() == b.inputs.model_names == [f"f{i:04d}" for i in range(len(b.inputs.names))]
    m = json.loads((bundle_dir / "manifest.json").read_text())
    assert [c["name"] for c in m["model"]["inputs"]] == list(b.transformer.output_schema())
    assert m["check"]["self_check"] == "passed"


def test_a_changed_definition_is_reported_feature_by_feature(bundle_dir):
    from skewless.definitions.flights_fitted import flights_fitted

    data = flights_fitted.ir_json()
    names = list(data["features"])
    edited = dict(data, features=dict(data["features"]))
    edited["features"][names[0]] = data["features"][names[1]]  # one feature's definition edited
    with pytest.raises(BundleError) as err:
        load_bundle(bundle_dir, feature_set=definition_from_data(edited))
    assert err.value.changed == [names[0]] and not err.value.added and not err.value.removed
    assert f"changed: {names[0]})" in str(err.value)
