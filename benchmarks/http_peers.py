"""The peer applications ``benchmarks/http.py`` runs next to the skewless service.

Each is a uvicorn factory (``uvicorn --factory benchmarks.http_peers:<name>``) configured from
environment variables, so ``http.py`` can start it in its own process exactly like the service:

* :func:`bare_app` - one ``POST /v1/predict`` that parses the JSON body (FastAPI ``Body`` as a
  ``dict``) and answers a constant JSON body (``SKEWLESS_BENCH_BODY``, the same bytes the service
  answered for a sample request). It is the floor: HTTP + FastAPI routing + JSON parsing, no work.
  ``async def``, the cheapest endpoint FastAPI has; :func:`bare_sync_app` is the same as a plain
  ``def`` endpoint (run in the threadpool, as the service's endpoints are at the time of writing).
* :func:`polars_app` - the service's endpoint with the features computed by polars instead of the
  generated function: the same strict request model (:func:`skewless.serving.schemas.request_model`), then
  ``pl.DataFrame([row], schema).select(exprs)`` with the bundle's lowered expressions compiled
  once, then the service's own scoring (``ServedBundle.score``) (``SKEWLESS_BENCH_BUNDLE``).
* :func:`lean_app` - the service's work (same request model, ``row_fn``, ``ServedBundle.score``)
  in one ``async def`` endpoint and nothing else (no metrics, no feature log, FastAPI's own body
  parsing): what the service's request path costs without its observability.
"""

# No ``from __future__ import annotations``: FastAPI must see the locally built request model.
import os
from pathlib import Path
from typing import Any

__all__ = ["bare_app", "bare_sync_app", "polars_app", "lean_app"]


def _constant() -> bytes:
    body = os.environ.get("SKEWLESS_BENCH_BODY")
    if not body:
        raise RuntimeError("set SKEWLESS_BENCH_BODY to the JSON response the bare endpoint returns")
    return body.encode()


def _health(app: Any) -> None:
    @app.get("/readyz")
    async def readyz() -> dict[str, str]:
        return {"status": "ready"}


def bare_app() -> Any:
    """A FastAPI app whose ``POST /v1/predict`` parses the body and returns a constant JSON body."""
    from fastapi import Body, FastAPI
    from fastapi.responses import Response

    constant = _constant()
    app = FastAPI(title="bare")
    _health(app)

    @app.post("/v1/predict")
    async def predict(payload: dict[str, Any] = Body(...)) -> Response:
        return Response(constant, media_type="application/json")

    return app


def bare_sync_app() -> Any:
    """:func:`bare_app` with a plain ``def`` endpoint (FastAPI runs it in its threadpool)."""
    from fastapi import Body, FastAPI
    from fastapi.responses import Response

    constant = _constant()
    app = FastAPI(title="bare (sync)")
    _health(app)

    @app.post("/v1/predict")
    def predict(payload: dict[str, Any] = Body(...)) -> Response:
        return Response(constant, media_type="application/json")

    return app


def polars_app() -> Any:
    """The service's ``/v1/predict`` with the features computed by polars on a one-row frame."""
    from typing import Annotated

    import polars as pl
    from fastapi import Body, FastAPI
    from fastapi.responses import JSONResponse

    from skewless.backends.polars.dtypes import to_polars
    from skewless.serving.bundle_loader import load_served_bundle
    from skewless.serving.schemas import request_model

    served = load_served_bundle(Path(os.environ["SKEWLESS_BENCH_BUNDLE"]))
    served.load_model()  # the service's scoring path, so only the features differ
    bundle = served.bundle
    fs = bundle.transformer
    lowered = fs.plain
    in_schema = fs.input_schema()
    schema = {k: to_polars(f.dtype) for k, f in in_schema.items()}
    # native lookups (as a user would write them): see benchmarks/per_request.py
    from skewless.backends.polars.compiler import compile_exprs

    exprs = list(compile_exprs(lowered, per_batch=False).values())
    Inputs = request_model(bundle.manifest["feature_set"]["name"], in_schema)
    threshold = bundle.threshold
    app = FastAPI(title="polars one-row")
    _health(app)

    @app.post("/v1/predict")
    def predict(inputs: Annotated[Inputs, Body()]) -> Any:  # type: ignore[valid-type]
        row = {k: getattr(inputs, k) for k in in_schema}
        feats = pl.DataFrame([row], schema=schema).select(exprs).row(0, named=True)
        score = served.score(feats)
        return JSONResponse({"score": score, "label": None if threshold is None else bool(score >= threshold)})

    return app


def lean_app() -> Any:
    """The service's ``/v1/predict`` work in one ``async def`` endpoint (no dependencies, no threadpool)."""
    from typing import Annotated

    from fastapi import Body, FastAPI
    from fastapi.responses import JSONResponse

    from skewless.serving.bundle_loader import load_served_bundle
    from skewless.serving.schemas import request_model

    served = load_served_bundle(Path(os.environ["SKEWLESS_BENCH_BUNDLE"]))
    served.load_model()
    problems = served.self_check()
    if problems:
        raise RuntimeError(f"self-check failed: {problems[:3]}")
    in_schema = served.bundle.transformer.input_schema()
    Inputs = request_model(served.manifest["feature_set"]["name"], in_schema)
    row_fn = served.row_fn
    threshold = served.bundle.threshold
    app = FastAPI(title="lean")
    _health(app)

    @app.post("/v1/predict")
    async def predict(inputs: Annotated[Inputs, Body()]) -> Any:  # type: ignore[valid-type]
        feats = row_fn({k: getattr(inputs, k) for k in in_schema})
        score = served.score(feats)
        return JSONResponse({"score": score, "label": None if threshold is None else bool(score >= threshold)})

    return app
