"""The prediction service (``serving``): served features and scores (single rows and batches) equal
batch ones, strict 422s naming the field (and the row of a batch), /metrics, the served-feature log,
an exact OpenAPI document, a tampered bundle is not ready, and serving never imports polars."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
import textwrap

import polars as pl
import pytest
from fastapi.testclient import TestClient

from skewless.definitions.flights_fitted import flights_fitted
from skewless.serving.app import create_app
from skewless.serving.feature_log import read_log
from skewless.serving.settings import Settings
from skewless.bundle import BundleError
from skewless.bundle.seal import reseal
from skewless.training.bundle import load_bundle


@pytest.fixture(scope="module")
def client(bundle_dir):
    with TestClient(create_app(bundle_dir)) as c:
        yield c


def _json_row(row: dict) -> dict:
    out = {}
    for k, v in row.items():
        out[k] = v.isoformat() if hasattr(v, "isoformat") else v
    return out


def _decode(v):
    if isinstance(v, dict):
        return {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}[v["float"]]
    return v


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (a != a and b != b) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    return type(a) is type(b) and a == b


def test_health_ready_metadata(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json() == {"status": "ready"}
    meta = client.get("/v1/metadata").json()
    assert meta["feature_set"]["name"] == "flights_fitted" and meta["ready"]
    assert meta["model"]["task"] == "binary" and "time_hour" in meta["input_schema"]


def test_served_features_and_scores_equal_batch(client, bundle_dir, slice_df):
    bundle = load_bundle(bundle_dir)
    rows = slice_df.filter(pl.col("month") == 2).head(0).vstack(
        slice_df.filter(pl.col("month") == 2).gather_every(997))
    inputs = rows.select(list(flights_fitted.inputs))
    batch = bundle.features_frame(inputs).collect()
    scores = bundle.score_features(batch)
    out_schema = bundle.transformer.output_schema()
    temporal = [k for k, f in out_schema.items() if type(f.dtype).__name__ in ("Datetime", "Date", "Duration")]
    assert inputs.height > 5
    for i, row in enumerate(inputs.iter_rows(named=True)):
        r = client.post("/v1/predict", params={"include_features": True}, json=_json_row(row))
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["score"] == float(scores[i]), i
        assert body["label"] == (body["score"] >= bundle.threshold)
        want = batch.row(i, named=True)
        for name, v in body["features"].items():
            if name in temporal:
                continue
            assert _same(_decode(v), want[name]), (i, name, v, want[name])
        f = client.post("/v1/features", json=_json_row(row))
        assert f.status_code == 200 and f.json()["features"] == body["features"]


def _good_row(slice_df) -> dict:
    return _json_row(slice_df.select(list(flights_fitted.inputs)).row(0, named=True))


@pytest.mark.parametrize("change, field", [
    ({"month": True}, "month"),            # a bool is not an int
    ({"month": "1"}, "month"),             # a string is not an int
    ({"month": 1.5}, "month"),
    ({"distance": 2 ** 63}, "distance"),   # outside Int64
    ({"carrier": 7}, "carrier"),
    ({"carrier": None}, "carrier"),        # not nullable
    ({"time_hour": "2013-01-01T05:00:00"}, "time_hour"),  # naive datetime refused
    ({"time_hour": "yesterday"}, "time_hour"),
    ({"surprise": 1}, "surprise"),         # unknown field
])
def test_bad_inputs_are_422_naming_the_field(client, slice_df, change, field):
    row = {**_good_row(slice_df), **change}
    for path in ("/v1/predict", "/v1/features"):
        r = client.post(path, json=row)
        assert r.status_code == 422, (path, r.text)
        assert any(field in map(str, e["loc"]) for e in r.json()["detail"]), r.text


def test_missing_field_and_bad_json_are_422(client, slice_df):
    row = _good_row(slice_df)
    del row["day"]
    r = client.post("/v1/predict", json=row)
    assert r.status_code == 422 and any("day" in e["loc"] for e in r.json()["detail"])
    r = client.post("/v1/predict", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422
    r = client.post("/v1/predict", content=b'{"month": NaN}', headers={"content-type": "application/json"})
    assert r.status_code == 422
    r = client.post("/v1/predict", json=[row])
    assert r.status_code == 422


def test_nullable_inputs_take_null_and_offsets_convert(client, slice_df):
    row = {**_good_row(slice_df), "dep_time": None, "dep_delay": None, "air_time": None, "tailnum": None}
    r = client.post("/v1/predict", json=row)
    assert r.status_code == 200 and 0 <= r.json()["score"] <= 1
    # the same instant written with another offset gives the same answer
    base = client.post("/v1/predict", json={**row, "time_hour": "2013-01-01T05:00:00+00:00"}).json()
    moved = client.post("/v1/predict", json={**row, "time_hour": "2013-01-01T00:00:00-05:00"}).json()
    assert base == moved


def test_unknown_fields_can_be_ignored(bundle_dir, slice_df):
    with TestClient(create_app(Settings(bundle=bundle_dir, unknown_fields="ignore"))) as c:
        r = c.post("/v1/predict", json={**_good_row(slice_df), "surprise": 1})
        assert r.status_code == 200


def test_tampered_bundle_is_not_ready(bundle_dir, tmp_path, slice_df):
    bad = tmp_path / "bundle"
    shutil.copytree(bundle_dir, bad)
    doc = json.loads((bad / "golden_rows.json").read_text())
    doc["rows"][0]["score"] = doc["rows"][0]["score"] + 1e-9
    feature = next(k for k, v in doc["rows"][1]["features"].items() if isinstance(v, float))
    doc["rows"][1]["features"][feature] += 1.0
    (bad / "golden_rows.json").write_text(json.dumps(doc))
    with pytest.raises(BundleError, match="golden_rows.json .*the file was changed after the bundle was written"):
        create_app(bad)  # sealed: refused at load, naming the file
    reseal(bad)  # hashes rewritten (what a bug or anyone with write access could do): the self-check still refuses
    with TestClient(create_app(bad)) as c:
        r = c.get("/readyz")
        assert r.status_code == 503
        problems = " ".join(r.json()["problems"])
        assert "golden row 0: score" in problems and f"golden row 1: feature {feature!r}" in problems
        p = c.post("/v1/predict", json=_good_row(slice_df))
        assert p.status_code == 503 and p.json()["problems"]
        assert c.get("/healthz").status_code == 200


def test_serving_does_not_import_polars(bundle_dir, slice_df, tmp_path):
    row = _good_row(slice_df)
    code = textwrap.dedent(f"""
        import json, sys
        from fastapi.testclient import TestClient
        from skewless.serving.app import create_app
        from skewless.serving.settings import Settings
        row = json.loads({json.dumps(row)!r})
        with TestClient(create_app(Settings(bundle={str(bundle_dir)!r}, log_dir={str(tmp_path / "log")!r}))) as c:
            assert c.get("/readyz").status_code == 200, c.get("/readyz").text
            r = c.post("/v1/predict", json=row)
            assert r.status_code == 200, r.text
            assert c.post("/v1/predict/batch", json={{"rows": [row, row]}}).status_code == 200
            assert c.post("/v1/features/batch", json={{"rows": [row]}}).status_code == 200
            assert c.get("/metrics").status_code == 200 and c.get("/openapi.json").status_code == 200
        print("polars" in sys.modules, sorted(m for m in sys.modules if m.startswith("polars")))
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split()[0] == "False", proc.stdout


def test_create_app_needs_a_bundle(tmp_path, monkeypatch):
    monkeypatch.delenv("SKEWLESS_SERVE_BUNDLE", raising=False)
    with pytest.raises(ValueError, match="no bundle"):
        create_app()
    with pytest.raises(Exception, match="no bundle"):
        create_app(tmp_path / "missing")


@pytest.mark.parametrize("body", [b'{"month": NaN}', b'{"distance": Infinity}', b'[NaN]', b'"x"', b'null'])
def test_non_finite_json_is_422_not_500(client, slice_df, body):
    r = client.post("/v1/predict", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text


def test_request_model_float_rules():
    from pydantic import ValidationError

    from skewless.dtypes import Field, Float64
    from skewless.serving.schemas import request_model

    M = request_model("t", {"x": Field(Float64(), False)})
    assert M.model_validate({"x": 1}).x == 1.0 and type(M.model_validate({"x": 1}).x) is float
    for bad in (math.nan, math.inf, "1.0", True, None):
        with pytest.raises(ValidationError, match="x"):
            M.model_validate({"x": bad})
    assert math.isnan(request_model("t", {"x": Field(Float64(), False)}, allow_non_finite=True)
                      .model_validate({"x": math.nan}).x)


def test_openapi_documents_the_generated_models(client):
    doc = client.get("/openapi.json").json()
    assert {"/v1/predict", "/v1/features", "/healthz", "/readyz", "/v1/metadata"} <= set(doc["paths"])
    inputs = doc["components"]["schemas"]["flights_fitted_inputs"]
    assert inputs["additionalProperties"] is False
    assert set(inputs["required"]) == set(flights_fitted.inputs)
    assert inputs["properties"]["time_hour"]["format"] == "date-time"
    example = inputs["examples"][0]
    r = client.post("/v1/predict", json=example)
    assert r.status_code == 200, r.text
    # Int64 bounds are exact integers (not 9.223372036854776e+18)
    assert inputs["properties"]["distance"]["maximum"] == 2 ** 63 - 1
    assert inputs["properties"]["distance"]["minimum"] == -(2 ** 63)
    assert '"maximum":9223372036854775807' in client.get("/openapi.json").text.replace(" ", "")
    for path, model in [("/v1/predict", "flights_fitted_inputs"), ("/v1/features", "flights_fitted_inputs"),
                        ("/v1/predict/batch", "flights_fitted_batch"), ("/v1/features/batch", "flights_fitted_batch")]:
        op = doc["paths"][path]["post"]
        assert op["requestBody"]["content"]["application/json"]["schema"] == {"$ref": f"#/components/schemas/{model}"}
        assert {"200", "422", "503"} <= set(op["responses"])
    batch = doc["components"]["schemas"]["flights_fitted_batch"]
    assert batch["properties"]["rows"]["maxItems"] == 1000 and batch["additionalProperties"] is False
    r = client.post("/v1/predict/batch", json=batch["examples"][0])
    assert r.status_code == 200 and len(r.json()["rows"]) == 1


def test_unexpected_errors_are_json_without_a_traceback(bundle_dir, slice_df):
    app = create_app(bundle_dir)
    with TestClient(app, raise_server_exceptions=False) as c:
        def boom(row):
            raise ZeroDivisionError("secret detail")

        app.state.served.row_fn = boom
        r = c.post("/v1/predict", json=_good_row(slice_df))
        assert r.status_code == 500 and r.json() == {"detail": "internal error (ZeroDivisionError)"}


# --------------------------------------------------------------------------- batches


def _rows(slice_df, n: int, *, with_nulls: bool = True) -> list[dict]:
    inputs = slice_df.filter(pl.col("month") == 2).select(list(flights_fitted.inputs))
    head = inputs.filter(pl.any_horizontal(pl.all().is_null())).head(n // 3) if with_nulls else inputs.head(0)
    return [_json_row(r) for r in pl.concat([head, inputs.gather_every(211)]).head(n).iter_rows(named=True)]


def test_batches_equal_single_rows_and_batch_scores(client, bundle_dir, slice_df):
    rows = _rows(slice_df, 60)
    assert len(rows) == 60 and any(None in r.values() for r in rows)
    p = client.post("/v1/predict/batch", params={"include_features": True}, json={"rows": rows})
    f = client.post("/v1/features/batch", json={"rows": rows})
    assert p.status_code == 200 and f.status_code == 200, (p.text[:500], f.text[:500])
    preds, feats = p.json()["rows"], f.json()["rows"]
    assert len(preds) == len(feats) == len(rows)
    for i, row in enumerate(rows):
        one = client.post("/v1/predict", params={"include_features": True}, json=row).json()
        assert preds[i] == one, i  # scores bitwise (JSON floats round-trip exactly), labels, features
        assert feats[i] == one["features"], i
    # and the scores are the polars pipeline's
    bundle = load_bundle(bundle_dir)
    frame = pl.DataFrame([bundle.golden_rows()[0]["inputs"]]).head(0)  # the input dtypes
    inputs = pl.concat([frame, pl.DataFrame(
        [{k: (bundle.golden_rows()[0]["inputs"][k].__class__.fromisoformat(v) if k == "time_hour" else v)
          for k, v in r.items()} for r in rows], schema=frame.schema)])
    want = bundle.score_frame(inputs)
    assert [r["score"] for r in preds] == want.tolist()


def test_empty_batch_and_include_features_off(client):
    assert client.post("/v1/predict/batch", json={"rows": []}).json() == {"rows": []}
    assert client.post("/v1/features/batch", json={"rows": []}).json() == {"rows": []}


def test_batch_errors_name_the_row_and_the_field(client, slice_df):
    rows = _rows(slice_df, 5)
    rows[3] = {**rows[3], "month": "2"}
    rows[1] = {k: v for k, v in rows[1].items() if k != "carrier"}
    for path in ("/v1/predict/batch", "/v1/features/batch"):
        r = client.post(path, json={"rows": rows})
        assert r.status_code == 422, r.text
        locs = {tuple(e["loc"]) for e in r.json()["detail"]}
        assert locs == {("body", "rows", 3, "month"), ("body", "rows", 1, "carrier")}, locs
    for body in ({"row": rows}, {"rows": rows, "more": 1}, {"rows": rows[0]}, rows, {"rows": [None]}):
        r = client.post("/v1/predict/batch", json=body)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"][0] == "body", (body, r.text[:300])


def test_batch_over_the_limit_is_422_naming_the_limit(bundle_dir, slice_df):
    rows = _rows(slice_df, 4)
    with TestClient(create_app(Settings(bundle=bundle_dir, max_batch_size=3))) as c:
        assert c.post("/v1/predict/batch", json={"rows": rows[:3]}).status_code == 200
        for path in ("/v1/predict/batch", "/v1/features/batch"):
            r = c.post(path, json={"rows": rows})
            assert r.status_code == 422, r.text
            [err] = r.json()["detail"]
            assert err["loc"] == ["body", "rows"] and err["type"] == "too_long" and "at most 3" in err["msg"]
            assert "input" not in err  # the oversized batch is not echoed back
        doc = c.get("/openapi.json").json()
        assert doc["components"]["schemas"]["flights_fitted_batch"]["properties"]["rows"]["maxItems"] == 3
        assert c.get("/v1/metadata").json()["max_batch_size"] == 3


def test_body_over_the_byte_limit_is_413_naming_the_limit(bundle_dir, slice_df):
    rows = _rows(slice_df, 6)
    one = json.dumps(rows[0]).encode()
    big = json.dumps({"rows": rows}).encode()
    limit = len(one) + 10
    assert len(big) > limit
    with TestClient(create_app(Settings(bundle=bundle_dir, max_body_bytes=limit))) as c:
        assert c.post("/v1/predict", content=one, headers={"content-type": "application/json"}).status_code == 200
        for path in ("/v1/predict", "/v1/features", "/v1/predict/batch", "/v1/features/batch"):
            r = c.post(path, content=big, headers={"content-type": "application/json"})  # Content-Length declared
            assert r.status_code == 413, r.text
            assert r.json() == {"detail": f"request body of {len(big):,} bytes is over the limit of {limit:,} bytes "
                                          "(SKEWLESS_SERVE_MAX_BODY_BYTES)"}

            def chunks():  # no Content-Length: counted as it arrives
                for i in range(0, len(big), 64):
                    yield big[i:i + 64]

            r = c.post(path, content=chunks(), headers={"content-type": "application/json"})
            assert r.status_code == 413 and f"more than {limit:,} bytes" in r.json()["detail"], r.text
        metrics = c.get("/metrics").text
        assert 'status="413"' in metrics
        assert "413" in c.get("/openapi.json").json()["paths"]["/v1/predict"]["post"]["responses"]
        # a small chunked body is read whole and served
        r = c.post("/v1/predict", content=iter([one[:10], one[10:]]), headers={"content-type": "application/json"})
        assert r.status_code == 200, r.text


def _fast_path_cases(slice_df) -> list[tuple[str, bytes, bytes, bool]]:
    """(path, query, body, answered by the fast path) — valid requests and every kind of refusal."""
    rows = _rows(slice_df, 6)
    good = [json.dumps(r).encode() for r in rows]
    bad_type = json.dumps({**rows[0], "month": True}).encode()
    unknown = json.dumps({**rows[0], "extra": 1}).encode()
    missing = json.dumps({k: v for k, v in rows[0].items() if k != "carrier"}).encode()
    naive = json.dumps({**rows[0], "time_hour": "2013-02-03T05:00:00"}).encode()
    cases = []
    for path in ("/v1/predict", "/v1/features"):
        cases += [(path, b"", body, True) for body in good]
        cases += [(path, b"", body, False) for body in (bad_type, unknown, missing, naive, b"", b"{", b"\xff\xfe",
                                                          b"[]", b"null", json.dumps({"rows": rows}).encode())]
        cases += [(path, b"x=1", good[0], False)]
    cases += [("/v1/predict", q, good[1], True) for q in (b"include_features=true", b"include_features=false")]
    cases += [("/v1/predict", q, good[1], False) for q in (b"include_features=1", b"include_features=True",
                                                          b"include_features=maybe", b"include_features=true&x=1")]
    cases += [("/v1/predict/batch", b"", json.dumps({"rows": rows}).encode(), False)]
    return cases


def test_fast_path_answers_exactly_as_the_routes(bundle_dir, slice_df):
    cases = _fast_path_cases(slice_df)
    answers = {}
    for fast in (True, False):
        with TestClient(create_app(Settings(bundle=bundle_dir, fast_path=fast))) as c:
            got = []
            for i, (path, query, body, _) in enumerate(cases):
                r = c.post(path + ("?" + query.decode() if query else ""), content=body,
                           headers={"content-type": "application/json", "x-request-id": f"case-{i}"})
                got.append((r.status_code, r.headers.get("content-type"), r.headers.get("content-length"), r.content,
                            r.headers.get("x-request-id")))
            if fast:
                assert c.app.state.fast_path.answered == sum(1 for *_, taken in cases if taken)
            else:
                assert getattr(c.app.state, "fast_path", None) is None
            metrics = c.get("/metrics").text
            answers[fast] = (got, _metric(metrics, "skewless_http_requests_total", route="/v1/predict", method="POST",
                                          status="200"),
                             _metric(metrics, "skewless_http_requests_total", route="/v1/features", method="POST",
                                     status="422"))
    assert {s for s, *_ in answers[True][0]} >= {200, 422}
    assert all((rid == f"case-{i}") == (status == 200) for i, (status, *_, rid) in enumerate(answers[True][0]))
    for case, fast, routed in zip(cases, answers[True][0], answers[False][0]):
        assert fast == routed, (case, fast, routed)
    assert answers[True][1:] == answers[False][1:]  # counted under the same route templates


def test_fast_path_leaves_not_ready_and_oversized_to_the_routes(bundle_dir, slice_df, tmp_path):
    bad = tmp_path / "bundle"
    shutil.copytree(bundle_dir, bad)
    doc = json.loads((bad / "golden_rows.json").read_text())
    doc["rows"][0]["score"] += 1e-9
    (bad / "golden_rows.json").write_text(json.dumps(doc))
    reseal(bad)  # a consistent seal: the self-check is what refuses
    body = json.dumps(_good_row(slice_df)).encode()
    with TestClient(create_app(bad)) as c:
        r = c.post("/v1/predict", content=body)
        assert r.status_code == 503 and "golden row 0" in " ".join(r.json()["problems"])
        assert c.app.state.fast_path.answered == 0
    with TestClient(create_app(Settings(bundle=bundle_dir, max_body_bytes=len(body) - 1))) as c:
        assert c.post("/v1/predict", content=body).status_code == 413
        assert c.post("/v1/predict", content=iter([body[:20], body[20:]])).status_code == 413
        assert c.app.state.fast_path.answered == 0


# --------------------------------------------------------------------------- strictness from JSON bytes


def test_json_bytes_validation_stays_strict():
    from pydantic import ValidationError

    from skewless.dtypes import Datetime, Field, Float64, Int64
    from skewless.serving.schemas import request_model

    M = request_model("t", {"i": Field(Int64(), False), "x": Field(Float64(), True),
                            "t": Field(Datetime("us", "UTC"), False), "n": Field(Datetime("us", None), False)})
    good = {"i": 1, "x": 1.5, "t": "2013-01-01T00:00:00-05:00", "n": "2013-01-01T00:00:00"}
    m = M.model_validate_json(json.dumps(good))
    assert m.t.isoformat() == "2013-01-01T05:00:00+00:00" and m.n.tzinfo is None
    assert type(M.model_validate_json(json.dumps({**good, "x": 2})).x) is float  # an int for a float is fine
    bad = [({"i": True}, "i"), ({"i": "1"}, "i"), ({"i": 1.5}, "i"), ({"i": 1.0}, "i"), ({"i": 2 ** 63}, "i"),
           ({"x": "1.5"}, "x"), ({"x": True}, "x"), ({"t": "2013-01-01T00:00:00"}, "t"),
           ({"n": "2013-01-01T00:00:00+00:00"}, "n"), ({"t": 1357016400}, "t"), ({"extra": 1}, "extra")]
    for change, field in bad:
        with pytest.raises(ValidationError) as info:
            M.model_validate_json(json.dumps({**good, **change}))
        assert [e["loc"] for e in info.value.errors()] == [(field,)], (change, info.value.errors())
    for token in (b"NaN", b"Infinity", b"-Infinity"):
        body = json.dumps({**good, "x": 0.0}).encode().replace(b"0.0", token)
        with pytest.raises(ValidationError, match="x"):
            M.model_validate_json(body)


@pytest.mark.parametrize("body", [b"", b"{", b"[]", b'{"rows": NaN}', b"\xff\xfe"])
def test_broken_bodies_are_422_on_every_endpoint(client, body):
    for path in ("/v1/predict", "/v1/features", "/v1/predict/batch", "/v1/features/batch"):
        r = client.post(path, content=body, headers={"content-type": "application/json"})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"][0] == "body", (path, body, r.text)


# --------------------------------------------------------------------------- metrics and the feature log


def _metric(text: str, name: str, **labels) -> float:
    """The value of one sample of the text exposition (labels in any order)."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    raise AssertionError(f"no sample {name} {labels} in:\n{text[:3000]}")


def test_metrics_and_feature_log(bundle_dir, slice_df, tmp_path):
    rows = _rows(slice_df, 6)
    null_air = [r for r in rows if r["air_time"] is None]
    assert null_air  # air_time_scaled is null then
    log_dir = tmp_path / "log"
    with TestClient(create_app(Settings(bundle=bundle_dir, log_dir=log_dir))) as c, \
            TestClient(create_app(bundle_dir)) as other:
        for r in rows:
            assert c.post("/v1/predict", json=r).status_code == 200
        assert c.post("/v1/features", json=rows[0]).status_code == 200
        assert c.post("/v1/predict/batch", json={"rows": rows}).status_code == 200
        assert c.post("/v1/predict", json={**rows[0], "month": "1"}).status_code == 422
        assert c.get("/nowhere/123").status_code == 404
        text = c.get("/metrics").text
        assert c.get("/metrics").headers["content-type"].startswith("text/plain")
        other_text = other.get("/metrics").text
        fl_stats = c.app.state.feature_log.stats()
    req = "skewless_http_requests_total"
    assert _metric(text, req, route="/v1/predict", method="POST", status="200") == len(rows)
    assert _metric(text, req, route="/v1/predict", method="POST", status="422") == 1
    assert _metric(text, req, route="/v1/predict/batch", method="POST", status="200") == 1
    assert _metric(text, req, route="<unmatched>", method="GET", status="404") == 1
    assert "/nowhere" not in text
    assert _metric(text, "skewless_http_request_duration_seconds_count", route="/v1/predict") == len(rows) + 1
    assert _metric(text, "skewless_served_rows_total", route="/v1/predict/batch") == len(rows)
    assert _metric(text, "skewless_score_count") == 2 * len(rows)
    # null air_time -> null air_time_scaled: each such row served twice (single, batch), plus /v1/features
    want_nulls = 2 * len(null_air) + (rows[0]["air_time"] is None)
    assert _metric(text, "skewless_feature_null_total", feature="air_time_scaled") == want_nulls
    assert _metric(text, "skewless_feature_nan_total", feature="distance_log_std") == 0
    assert _metric(text, "skewless_ready") == 1 and _metric(text, "skewless_self_check_problems") == 0
    assert _metric(text, "skewless_feature_log_records_total", state="submitted") == fl_stats["submitted"] == 2 * len(rows) + 1
    # each app has its own registry: the other app saw only its own /metrics call
    with pytest.raises(AssertionError):
        _metric(other_text, req, route="/v1/predict")
    with pytest.raises(AssertionError):
        _metric(other_text, "skewless_feature_log_records_total", state="submitted")

    records = list(read_log(log_dir))  # the log was closed with the app: everything is written
    assert [r["route"] for r in records] == ["/v1/predict"] * len(rows) + ["/v1/features"] + ["/v1/predict/batch"] * len(rows)
    single, batch = records[:len(rows)], records[len(rows) + 1:]
    for a, b in zip(single, batch):
        assert a["inputs"] == b["inputs"] and a["score"] == b["score"]
        assert all(_same(a["features"][k], b["features"][k]) for k in a["features"])
    assert records[len(rows)]["score"] is None
    assert single[0]["inputs"]["time_hour"].isoformat() == rows[0]["time_hour"]
