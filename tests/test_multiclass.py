"""Multiclass classification end to end on the penguins (issue 13, item 10): a String label builds with a
recorded class encoding, trains LightGBM ``multiclass``, and a real uvicorn server answers class
probabilities and the predicted class, bitwise equal to the batch model; bad labels are refused naming them."""

from __future__ import annotations

import json
import pathlib

import httpx
import numpy as np
import polars as pl
import pytest

from skewless import Float64, Input, Int64, String, col, feature_set, impute, one_hot, standardize, target_encode
from skewless.training.build import BuildError, build_dataset
from skewless.training.bundle import load_bundle, same_value
from skewless.training.compare import compare
from skewless.training.train import train

from test_serving_http import Server

CLASSES = ["Adelie", "Chinstrap", "Gentoo"]


@feature_set
class penguins:  # the README's penguins set (tests/test_penguins_e2e.py runs it from the README)
    island = Input(String)
    bill_length_mm = Input(Float64, nullable=True)
    bill_depth_mm = Input(Float64, nullable=True)
    flipper_length_mm = Input(Float64, nullable=True)
    sex = Input(String, nullable=True)
    year = Input(Int64)

    bill_length = impute(col("bill_length_mm"), strategy="median")
    bill_ratio = col("bill_length_mm") / col("bill_depth_mm")
    flipper_std = standardize(col("flipper_length_mm"))
    island_oh = one_hot(col("island"))
    sex_known = col("sex").is_not_null()
    recent = col("year") >= 2008


def _csv() -> pathlib.Path:
    import palmerpenguins

    return pathlib.Path(palmerpenguins.__file__).parent / "data" / "penguins.csv"


def _raw() -> pl.DataFrame:
    return pl.read_csv(_csv(), null_values=["NA", ""], schema_overrides={"flipper_length_mm": pl.Float64})


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("multiclass")
    build = build_dataset(penguins, _csv(), out / "build", label="species", event_time=None, split_by="stratified",
                          seed=7)
    result = train(out / "build", out / "bundle", tracking=False, threads=1)  # (an MLflow store costs ~20 s)
    small = train(out / "build", out / "small", tracking=False, threads=1, params={"num_leaves": 4})
    return out, build, result, small


def test_a_string_label_builds_with_a_recorded_class_encoding(trained):
    out, build, _, _ = trained
    doc = json.loads((out / "build" / "build.json").read_text())
    assert doc["label"]["task"] == "multiclass" and doc["label"]["classes"] == CLASSES
    assert doc["split"]["mode"] == "stratified"
    stats = json.loads((out / "build" / "stats.json").read_text())
    for s in ("train", "valid", "test"):  # the stratified split keeps every class in every split
        assert sorted(stats["splits"][s]["label"]["classes"]) == CLASSES
    written = pl.read_parquet(out / "build" / "test" / "*.parquet")["label"]
    assert written.dtype == pl.String and set(written) == set(CLASSES)


def test_training_is_lightgbm_multiclass_with_its_metrics_and_vector_golden_scores(trained):
    out, _, result, _ = trained
    model = result.manifest["model"]
    assert model["task"] == "multiclass" and model["classes"] == CLASSES
    assert model["params"]["objective"] == "multiclass" and model["params"]["num_class"] == 3
    assert model["best_iteration"] < 950  # early-stopped on ~240 rows
    test = result.metrics["test"]
    assert set(test) >= {"multi_logloss", "accuracy", "macro_auc_ovr"}
    assert test["accuracy"] > 0.9 and test["multi_logloss"] < 0.5 and test["macro_auc_ovr"] > 0.95
    golden = json.loads((out / "bundle" / "golden_rows.json").read_text())["rows"]
    assert all(isinstance(r["score"], list) and len(r["score"]) == 3 for r in golden)
    bundle = load_bundle(out / "bundle")
    assert bundle.classes == CLASSES and bundle.self_check() == []
    # the per-request scores equal the batch model's, bitwise, on every penguin
    raw = _raw()
    batch = np.asarray(bundle.score_frame(raw))
    assert batch.shape == (raw.height, 3)
    for row, want in zip(raw.select(list(penguins.inputs)).iter_rows(named=True), batch.tolist()):
        assert same_value(bundle.score_row(row), want)


def test_a_real_server_answers_class_probabilities_and_the_class_equal_to_batch(trained):
    out, _, _, _ = trained
    bundle = load_bundle(out / "bundle")
    raw = _raw()
    rows = [{k: v for k, v in r.items()} for r in raw.select(list(penguins.inputs)).iter_rows(named=True)]
    want = np.asarray(bundle.score_frame(raw)).tolist()
    with Server(out / "bundle", out) as server, httpx.Client(base_url=server.url, timeout=60) as c:
        got = c.post("/v1/predict/batch", json={"rows": rows}).json()["rows"]
        assert len(got) == len(rows)
        for g, w in zip(got, want):
            assert same_value(g["score"], w)  # bitwise through JSON (repr round-trips a float64)
            assert g["probabilities"] == dict(zip(CLASSES, w))
            assert g["label"] == CLASSES[int(np.argmax(w))]
        for i in range(0, len(rows), 23):  # single rows: the fast path, and the route (a query it does not take)
            fast = c.post("/v1/predict", json=rows[i])
            routed = c.post("/v1/predict?include_features=1", json=rows[i])
            assert fast.status_code == routed.status_code == 200
            assert same_value(fast.json()["score"], want[i]) and fast.json()["label"] == got[i]["label"]
            assert routed.json()["score"] == fast.json()["score"] and "features" in routed.json()
        doc = c.get("/openapi.json").json()
        schema = next(v for k, v in doc["components"]["schemas"].items() if k.endswith("_predict_response"))
        assert schema["properties"]["score"]["type"] == "array"
        assert schema["properties"]["score"]["minItems"] == schema["properties"]["score"]["maxItems"] == 3
        assert schema["properties"]["label"]["enum"] == CLASSES
        assert sorted(schema["properties"]["probabilities"]["propertyNames"]["enum"]) == CLASSES
        bad = c.post("/v1/predict", json={**rows[0], "year": "2007"})
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "year"]


def test_compare_and_pyfunc_take_probability_vectors(trained):
    out, _, _, small = trained
    raw = _raw()
    report = compare(out / "bundle", out / "small", raw)
    assert report.task == "multiclass" and report.rows == raw.height
    assert report.agreement["classes"] == CLASSES and 0.8 <= report.agreement["agree_rate"] <= 1.0
    assert set(report.metrics["on_data"]["a"]) >= {"multi_logloss", "accuracy"}
    assert "predicted classes (argmax of ['Adelie', 'Chinstrap', 'Gentoo']): agree on" in report.summary()
    same = compare(out / "bundle", out / "bundle", raw)
    assert same.scores["identical_rows"] == raw.height and same.agreement["changed_labels"] == 0
    from skewless.serving.pyfunc import BundleModel

    model = BundleModel(str(out / "bundle"))
    pred = model.predict(raw.select(list(penguins.inputs)).head(20).to_pandas())
    assert pred.shape == (20, 3)
    assert pred.tolist() == np.asarray(load_bundle(out / "bundle").score_frame(raw.head(20))).tolist()


def test_bad_multiclass_labels_are_refused_naming_the_label(tmp_path):
    raw = _raw()
    n = raw.height
    # a class only in the test split (random split, seed 7: a row hashed past 0.85)
    position = pl.select(pl.int_range(n, dtype=pl.Int64).hash(7).cast(pl.Float64) / 2.0 ** 64).to_series()
    test_row = int(np.flatnonzero(position.to_numpy() >= 0.85)[0])
    odd = raw.with_columns(pl.when(pl.int_range(n) == test_row).then(pl.lit("Emperor"))
                           .otherwise(pl.col("species")).alias("species"))
    with pytest.raises(BuildError, match=r"the label 'species' has classes in the test split that the train split "
                                         r"lacks: \['Emperor'\]"):
        build_dataset(penguins, odd, tmp_path / "a", label="species", event_time=None, split_by="random", seed=7)
    one = raw.with_columns(pl.lit("Adelie").alias("species"))
    with pytest.raises(BuildError, match=r"multiclass label 'species' has 1 class"):
        build_dataset(penguins, one, tmp_path / "b", label="species", event_time=None, split_by="random", seed=7)
    with pytest.raises(Exception, match=r"label 'body_mass_g' has dtype Float64; a multiclass label"):
        build_dataset(penguins, raw.with_columns(pl.col("body_mass_g").cast(pl.Float64)), tmp_path / "c",
                      label="body_mass_g", task="multiclass", event_time=None, split_by="random", seed=7)

    @feature_set
    class encoded:
        island = Input(String)
        island_te = target_encode(col("island"))

    with pytest.raises(BuildError, match=r"target_encode\(\.\.\.\) needs a Boolean or numeric label; the label "
                                         r"'species' is multiclass"):
        build_dataset(encoded, raw, tmp_path / "d", label="species", event_time=None, split_by="stratified", seed=7)
    for d in "abcd":
        assert not (tmp_path / d / "build.json").exists()  # nothing half-written looks complete


def test_the_mlflow_signature_names_one_output_per_class(trained):
    from skewless.serving.pyfunc import signature

    out, _, _, _ = trained
    bundle = load_bundle(out / "bundle")
    sig = signature(bundle.transformer.input_schema(), bundle.classes)
    assert sig.outputs.input_names() == CLASSES
    assert signature(bundle.transformer.input_schema()).outputs.input_names() == ["score"]


def test_the_feature_log_keeps_every_class_probability_and_skew_compares_them(trained, tmp_path):
    """A multiclass service logs each row's class probabilities (and the predicted class's as ``score``); the
    skew report compares every class bitwise and counts changed predicted classes (it crashed on the 2-D
    scores before)."""
    from fastapi.testclient import TestClient

    from skewless.monitoring.logdata import load_log
    from skewless.monitoring.skew import skew
    from skewless.serving.app import create_app
    from skewless.serving.settings import Settings

    out, _, _, _ = trained
    rows = list(_raw().select(list(penguins.inputs)).iter_rows(named=True))
    with TestClient(create_app(Settings(bundle=out / "bundle", log_dir=tmp_path / "log"))) as c:
        single = [c.post("/v1/predict", json=r).json() for r in rows[:15]]
        batch = c.post("/v1/predict/batch", json={"rows": rows[15:40]}).json()["rows"]
        assert c.post("/v1/features", json=rows[40]).status_code == 200
    logged = load_log(tmp_path / "log").sort("time", "row")
    served = [*single, *batch]
    scored = logged.filter(pl.col("score").is_not_null())
    assert scored["probabilities"].to_list() == [s["score"] for s in served]
    assert scored["score"].to_list() == [max(s["score"]) for s in served]
    assert logged.filter(pl.col("route") == "/v1/features")["probabilities"].to_list() == [None]

    same = skew(tmp_path / "log", out / "bundle")
    assert same.ok and same.score.rows == 40 and same.score.mismatches == 0 and not same.decision_flips
    probs = logged["probabilities"].to_list()
    i = next(k for k, p in enumerate(probs) if p is not None)
    probs[i] = [float(np.nextafter(probs[i][0], 2.0)), *probs[i][1:]]  # one class one ulp off
    j = next(k for k, p in enumerate(probs) if p is not None and k != i)
    probs[j] = probs[j][::-1] if np.argmax(probs[j]) != np.argmax(probs[j][::-1]) else probs[j][1:] + probs[j][:1]
    tampered = logged.with_columns(pl.Series("probabilities", probs, dtype=pl.List(pl.Float64)))
    other = skew(tampered, out / "bundle")
    assert not other.ok and other.score.mismatches == 2 and other.decision_flips == 1
    assert isinstance(other.score.examples[0]["served"], list) and len(other.score.examples[0]["served"]) == 3
    assert "predicted class changed: 1 of 40 rows" in other.summary()
