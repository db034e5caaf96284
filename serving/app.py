"""The FastAPI application: ``create_app(settings | bundle_path)``.

The bundle's feature set is loaded and verified when the app is created (the request and response
models are generated from its schemas); the model is loaded and the startup self-check (golden rows
through the per-request path) runs in the lifespan. Until the self-check passes, ``/readyz`` and the
prediction endpoints answer 503 naming what differs: the service refuses to serve skew.
"""


import logging
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Optional

import json
import math

from fastapi import APIRouter, Body, Depends, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, create_model

from training.bundle import GOLDEN_FILE

from .bundle_loader import ServedBundle, load_served_bundle
from .schemas import encode_features, features_model, request_model
from .settings import Settings

__all__ = ["create_app", "app_from_env"]

log = logging.getLogger("skewless.serving")


class NotReady(Exception):
    def __init__(self, problems: list[str]):
        self.problems = problems


def _json_safe(value: Any) -> Any:
    """``value`` with non-finite floats written as strings (a 422 must never fail to encode)."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def get_served(request: Request) -> ServedBundle:
    return request.app.state.served


def get_ready(served: Annotated[ServedBundle, Depends(get_served)]) -> ServedBundle:
    if not served.ready:
        raise NotReady(served.problems or ["starting: self-check not run yet"])
    return served


Served = Annotated[ServedBundle, Depends(get_served)]
Ready = Annotated[ServedBundle, Depends(get_ready)]


def _health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", responses={503: {"description": "not ready; the problems say what differs"}})
    def readyz(served: Served) -> Any:
        if not served.ready:
            return JSONResponse({"status": "not ready", "problems": served.problems or ["self-check not run"]},
                                status_code=503)
        return {"status": "ready"}

    return router


def _example(served: ServedBundle) -> Optional[dict[str, Any]]:
    """The first golden row's inputs in their JSON form (None when unreadable or not plain JSON)."""
    try:
        doc = json.loads((served.bundle.path / GOLDEN_FILE).read_text(encoding="utf-8"))
        row = doc["rows"][0]["inputs"]
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None
    return None if any(isinstance(v, dict) for v in row.values()) else row


def _model_router(served: ServedBundle, settings: Settings) -> APIRouter:
    fs = served.bundle.transformer
    name = served.bundle.manifest["feature_set"]["name"]
    in_schema, out_schema = fs.input_schema(), fs.output_schema()
    Inputs = request_model(name, in_schema, extra=settings.unknown_fields,
                           allow_non_finite=settings.allow_non_finite, example=_example(served))
    Features = features_model(name, out_schema)
    FeaturesResponse = create_model(f"{name}_features_response", features=(Features, ...))
    PredictResponse = create_model(f"{name}_predict_response", score=(float, ...), label=(Optional[bool], None),
                                   features=(Optional[Features], None))
    router = APIRouter(prefix="/v1", tags=["model"])

    def row_of(inputs: BaseModel) -> dict[str, Any]:
        return {k: getattr(inputs, k) for k in in_schema}

    @router.post("/features", response_model=FeaturesResponse)
    def features(inputs: Annotated[Inputs, Body()], s: Ready) -> Any:  # type: ignore[valid-type]
        return JSONResponse({"features": encode_features(s.features(row_of(inputs)), out_schema)})

    @router.post("/predict", response_model=PredictResponse)
    def predict(inputs: Annotated[Inputs, Body()], s: Ready,  # type: ignore[valid-type]
                include_features: bool = False) -> Any:
        feats = s.features(row_of(inputs))
        score = s.score(feats)
        out: dict[str, Any] = {"score": score, "label": s.label(score)}
        if include_features:
            out["features"] = encode_features(feats, out_schema)
        return JSONResponse(out)

    @router.get("/metadata")
    def metadata(s: Served) -> dict[str, Any]:
        m = s.manifest
        return {
            "feature_set": m["feature_set"],
            "model": {k: v for k, v in m["model"].items() if k != "inputs"},
            "model_inputs": [c["name"] for c in m["model"]["inputs"]],
            "metrics": m.get("metrics"),
            "versions": m.get("versions"),
            "input_schema": {k: repr(f) for k, f in in_schema.items()},
            "output_schema": {k: repr(f) for k, f in out_schema.items()},
            "ready": s.ready,
        }

    return router


def create_app(settings: Settings | str | Path | None = None) -> FastAPI:
    """The service for ``settings`` (or a bundle path; default: settings from the environment)."""
    if settings is None:
        settings = Settings()
    elif not isinstance(settings, Settings):
        settings = Settings(bundle=Path(settings))
    if settings.bundle is None:
        raise ValueError("no bundle to serve: pass one or set SKEWLESS_SERVE_BUNDLE")
    served = load_served_bundle(settings.bundle)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        served.load_model()
        problems = served.self_check()
        if problems:
            log.error("bundle %s failed its self-check; not ready: %s", settings.bundle, "; ".join(problems[:5]))
        yield

    app = FastAPI(title=f"skewless: {served.manifest['feature_set']['name']}", lifespan=lifespan)
    app.state.served = served
    app.state.settings = settings

    @app.exception_handler(NotReady)
    async def not_ready(request: Request, exc: NotReady) -> JSONResponse:
        return JSONResponse({"detail": "not ready", "problems": exc.problems}, status_code=503)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Valid input should never get here; answer in JSON (no traceback to the client) and log it.
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": f"internal error ({type(exc).__name__})"}, status_code=500)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{k: v for k, v in e.items() if k != "url"} for e in exc.errors()]
        return JSONResponse({"detail": _json_safe(jsonable_encoder(errors))}, status_code=422)

    app.include_router(_health_router())
    app.include_router(_model_router(served, settings))
    return app


def app_from_env() -> FastAPI:
    """Factory for uvicorn (``--factory``): settings from ``SKEWLESS_SERVE_*`` variables."""
    return create_app(Settings())
