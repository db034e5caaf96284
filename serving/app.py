"""The FastAPI application: ``create_app(settings | bundle path)``.

The bundle's feature set is loaded and verified when the app is created (the request and response
models are generated from its schemas); the model is loaded, the startup self-check (golden rows
through the per-request path) runs and the served-feature log starts in the lifespan. Until the
self-check passes, ``/readyz`` and the prediction endpoints answer 503 naming what differs: the
service refuses to serve skew.

The request path is kept short (see the README's serving section for the measurements):

* valid single-row requests skip FastAPI's routing altogether (:mod:`skewless.serving.fast_path`, a pure
  ASGI middleware calling ``_Endpoints.predict_one`` / ``features_one``); everything else, and
  every error answer, comes from the routes below;
* endpoints are ``async def``: the per-request work (~10 µs of features, one LightGBM call) costs
  less than a hop to the threadpool. Batch endpoints compute in the threadpool (one hop for up to
  ``max_batch_size`` rows) so the event loop stays free meanwhile;
* the body is read as bytes and validated by pydantic-core straight from JSON
  (``Model.model_validate_json``): no ``json.loads`` into Python objects first. The models are
  strict in JSON mode too (a bool or ``"1"`` is not an int, NaN tokens are refused, ...), and the
  errors are re-raised as :class:`RequestValidationError` with ``loc`` starting with ``"body"``,
  the same 422 body FastAPI gives. ``openapi_extra`` documents the request bodies with the
  models' own JSON schemas, so the OpenAPI document stays exact;
* responses are encoded by orjson. orjson writes NaN as ``null``, so non-finite floats are encoded
  as ``{"float": "nan"}`` etc. before (:class:`~skewless.serving.schemas.FeatureEncoder`).
"""

from __future__ import annotations

import json
import logging
import math
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, Union

import orjson
from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.requests import ClientDisconnect
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from pydantic.json_schema import models_json_schema

from skewless.bundle import GOLDEN_FILE
from skewless.windows.online import RequestBeforeHorizon
from skewless.state.protocol import StoreUnavailable

from .feature_log import RequestIds
from .bundle_loader import ServedBundle, load_served_bundle
from .metrics import CONTENT_TYPE, MetricsMiddleware, ServiceMetrics
from .prescan import unknown_field_errors
from .schemas import FeatureEncoder, NonFinite, batch_model, features_model, non_finite, request_model
from .settings import Settings

__all__ = ["create_app", "app_from_env"]

log = logging.getLogger("skewless.serving")

JSON = "application/json"
#: Where the fast path leaves the ValidationError of a body it could not answer (the route reuses it).
FAST_PATH_ERROR = "skewless.validation_error"
#: Batch bodies larger than this are validated in the threadpool.
OFF_LOOP_BYTES = 256 * 2 ** 10
#: Request id header: the client's (1-128 visible ASCII characters) or a generated one, echoed in every
#: answer of the model endpoints and written with each served row in the feature log.
REQUEST_ID = "x-request-id"


class NotReady(Exception):
    def __init__(self, problems: list[str]):
        self.problems = problems


class BodyTooLarge(Exception):
    def __init__(self, size: int, limit: int, declared: bool, setting: str = "max_body_bytes"):
        self.size, self.limit, self.declared, self.setting = size, limit, declared, setting

    def __str__(self) -> str:
        size = f"{self.size:,} bytes" if self.declared else f"more than {self.limit:,} bytes"
        if self.setting == "max_body_bytes":
            return f"request body of {size} is over the limit of {self.limit:,} bytes (SKEWLESS_SERVE_MAX_BODY_BYTES)"
        return (f"single-row request body of {size} is over the limit of {self.limit:,} bytes "
                f"(max_row_bytes, SKEWLESS_SERVE_MAX_ROW_BYTES; batches go to /v1/predict/batch)")


class UnsupportedMedia(Exception):
    """A body that is not JSON (Content-Type) or is encoded (Content-Encoding): 415."""


def is_json_type(value: str) -> bool:
    """``application/json`` or ``application/<x>+json``, with parameters (``; charset=utf-8``)."""
    media = value.split(";", 1)[0].strip().lower()
    return media == JSON or (media.startswith("application/") and media.endswith("+json"))


def check_media(headers: Any) -> None:
    """Refuse (415) a body that says it is not JSON, or that is compressed (bodies are not decoded).

    A request without Content-Type is read as JSON (``curl -d`` sends a form type: it is refused).
    """
    ctype = headers.get("content-type")
    if ctype is not None and not is_json_type(ctype):
        raise UnsupportedMedia(f"Content-Type {ctype[:100]!r} is not supported: send application/json")
    encoding = headers.get("content-encoding")
    if encoding is not None and encoding.strip().lower() not in ("", "identity"):
        raise UnsupportedMedia(f"Content-Encoding {encoding[:100]!r} is not supported: send the JSON body "
                               f"uncompressed")


async def read_body(request: Request, limit: int, setting: str = "max_body_bytes") -> bytes:
    """The request body, refused with :class:`BodyTooLarge` beyond ``limit`` bytes.

    A declared Content-Length over the limit is refused before anything is read; a body without
    one (chunked) is counted as it arrives and refused as soon as it passes the limit, so an
    oversized request never sits whole in memory.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(int(declared), limit, True, setting)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(size, limit, False, setting)
        chunks.append(chunk)
    return b"".join(chunks)


# --------------------------------------------------------------------------- error bodies (documented)


class ErrorItem(BaseModel):
    """One validation error: ``loc`` names the field (``["body", "rows", 3, "month"]`` in a batch).

    At most ``max_errors`` are listed; a last item of type ``too_many_errors`` says how many more
    there were. ``input`` (the value refused) is shown only when it is a short scalar: rows and
    bodies are never echoed back.
    """

    model_config = ConfigDict(extra="allow")
    loc: list[Union[str, int]]
    msg: str
    type: str


class ValidationErrors(BaseModel):
    detail: list[ErrorItem]


class NotReadyBody(BaseModel):
    detail: str
    problems: list[str]


class ErrorBody(BaseModel):
    detail: str


_MODEL_ERRORS: dict[Union[int, str], dict[str, Any]] = {
    413: {"model": ErrorBody, "description": "Request body over `max_body_bytes` (`max_row_bytes` for one row; "
                                             "the detail names the limit)"},
    415: {"model": ErrorBody, "description": "Content-Type not JSON, or a Content-Encoding (bodies are not decoded)"},
    422: {"model": ValidationErrors, "description": "Invalid request; each error's `loc` names the field"},
    503: {"model": NotReadyBody, "description": "Not ready (self-check failed or not run); `problems` say why"},
    500: {"model": ErrorBody, "description": "Unexpected error (no traceback is sent)"},
}


def _json_safe(value: Any) -> Any:
    """``value`` with non-finite floats written as strings (a 422 must never fail to encode)."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and not -(2 ** 63) <= value < 2 ** 64:
        return str(value)  # orjson writes 64-bit integers only
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)[:200]


#: Longest refused string value shown back in an error (longer ones are cut, marked with "...").
_MAX_ECHO = 100


def _clean_error(e: dict[str, Any]) -> dict[str, Any]:
    """One error, safe and small: no url, ``input`` only when it is a short scalar."""
    out = {k: v for k, v in e.items() if k not in ("url", "input")}
    value = e.get("input")
    if isinstance(value, str):
        out["input"] = value if len(value) <= _MAX_ECHO else value[:_MAX_ECHO] + "..."
    elif value is None or isinstance(value, (bool, int, float)):
        if "input" in e and e.get("type") != "missing":
            out["input"] = _json_safe(value)
    if "ctx" in out:
        out["ctx"] = _json_safe(out["ctx"])
    return out


def bounded_errors(errors: Any, count: int, limit: int, prefix: tuple = ()) -> list[dict[str, Any]]:
    """At most ``limit`` cleaned errors (``loc`` prefixed), and one more item counting the rest."""
    out = []
    for e in errors:
        if len(out) == limit:
            break
        e = dict(e)
        e["loc"] = (*prefix, *e["loc"])
        out.append(_clean_error(e))
    if count > limit:
        out.append({"loc": list(prefix) or ["body"], "type": "too_many_errors",
                    "msg": f"and {count - limit:,} more errors ({count:,} in all)"})
    return out


class BoundedValidationError(RequestValidationError):
    """A 422 whose errors are already bounded and cleaned (the handler sends them as they are)."""


def _validate(model: type[BaseModel], body: bytes, limit: int = 10,
              error: Optional[ValidationError] = None) -> Any:
    """``model`` validated straight from the JSON bytes; a bounded 422 in FastAPI's format otherwise.

    ``error``: the :class:`ValidationError` the fast path already got for this very body (validation
    runs once per request).
    """
    if error is None:
        try:
            return model.model_validate_json(body)
        except ValidationError as exc:
            error = exc
    # include_input=True is needed for short scalar inputs; pydantic builds the list lazily per error
    errors = error.errors(include_url=False, include_context=True)
    raise BoundedValidationError(bounded_errors(errors, error.error_count(), limit, ("body",))) from None


def _json(content: Any, status_code: int = 200, request_id: Optional[str] = None) -> Response:
    headers = None if request_id is None else {REQUEST_ID: request_id}
    return Response(orjson.dumps(content), status_code=status_code, media_type=JSON, headers=headers)


def _body_doc(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` documenting a JSON request body of ``model`` (read by hand, not by FastAPI)."""
    ref = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"requestBody": {"required": True, "content": {JSON: {"schema": ref}}}}


def _example(served: ServedBundle) -> Optional[dict[str, Any]]:
    """The first golden row's request fields in their JSON form (None when unreadable or not plain JSON)."""
    try:
        doc = json.loads((served.bundle.path / GOLDEN_FILE).read_text(encoding="utf-8"))
        request = served.bundle.transformer.request_schema()
        row = {k: v for k, v in doc["rows"][0]["inputs"].items() if k in request}
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None
    return None if any(isinstance(v, dict) for v in row.values()) else row


# --------------------------------------------------------------------------- routers


def _health_router(served: ServedBundle, metrics: ServiceMetrics) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    class Readiness(BaseModel):
        status: str
        problems: Optional[list[str]] = None

    @router.get("/readyz", response_model=Readiness,
                responses={503: {"model": Readiness, "description": "Not ready; the problems say what differs"}})
    async def readyz() -> Response:
        if not served.ready:
            return _json({"status": "not ready", "problems": served.problems or ["self-check not run"]}, 503)
        if served.store is not None:  # every entity table loaded, and the store answering (bounded timeout)
            problems = await run_in_threadpool(store_problems, served)
            if problems:
                return _json({"status": "not ready", "problems": problems}, 503)
        return _json({"status": "ready"})

    @router.get("/metrics", response_class=PlainTextResponse,
                responses={200: {"content": {CONTENT_TYPE.split(";")[0]: {"schema": {"type": "string"}}},
                                 "description": "Prometheus text exposition (format 0.0.4)"}})
    async def metrics_() -> Response:
        # In a worker thread: a scrape measures the drift gauges' window (up to ~0.1-0.2 s for a full
        # window on a loaded machine), which must not hold the event loop the model endpoints share.
        return Response(await run_in_threadpool(metrics.exposition), media_type=CONTENT_TYPE)

    return router


def store_problems(served: ServedBundle) -> list[str]:
    """Why the live store cannot serve the lookups: unreachable, or an entity table never loaded into it.

    (A window table may be empty: entities without events have empty windows, and events arrive by ingestion.)
    """
    store = served.store
    lookups = served.bundle.transformer.lookups
    try:
        if lookups is None:
            store.version(served.bundle.transformer.windows.declared[0].windows.entities[0].table)  # reachable?
            return []
        missing = [t for t in lookups.tables if store.version(t) is None]
    except StoreUnavailable as exc:
        return [str(exc)]
    return [f"entity table {t!r} was never loaded into the online store {store.name} (run skewless materialize, "
            f"or write its rows)" for t in missing]


def store_unavailable_body(exc: StoreUnavailable) -> dict[str, Any]:
    """The 503 answer of a request whose lookups could not be read (the route's and the fast path's)."""
    return {"detail": str(exc), "store": exc.store}


class _Endpoints:
    """The model endpoints' shared state: models, encoders, metrics, feature log."""

    def __init__(self, app: FastAPI, served: ServedBundle, settings: Settings, metrics: ServiceMetrics):
        self.app, self.served, self.metrics = app, served, metrics
        fs = served.bundle.transformer
        name = served.bundle.manifest["feature_set"]["name"]
        # a request carries the declared inputs; the looked-up columns come from the store
        self.in_schema, self.out_schema = fs.request_schema(), fs.output_schema()
        self.in_names = tuple(self.in_schema)
        self.max_batch_size = settings.max_batch_size
        self.max_body_bytes = settings.max_body_bytes
        self.max_row_bytes = min(settings.max_row_bytes, settings.max_body_bytes)
        self.max_errors = settings.max_errors
        self.forbid_unknown = settings.unknown_fields == "forbid"
        self.in_names_set = frozenset(self.in_names)
        self.ids = RequestIds()
        example = _example(served)
        self.Inputs = request_model(name, self.in_schema, extra=settings.unknown_fields,
                                    allow_non_finite=settings.allow_non_finite, example=example)
        self.Batch = batch_model(name, self.Inputs, settings.max_batch_size, example=example)
        self.encode = FeatureEncoder(self.out_schema)
        Features = features_model(name, self.out_schema)
        Score = Union[float, NonFinite]
        self.FeaturesResponse = create_model(f"{name}_features_response", features=(Features, ...))
        classes = served.classes
        if classes is None:
            self.PredictResponse = create_model(f"{name}_predict_response", score=(Score, ...),
                                                label=(Optional[bool], None), features=(Optional[Features], None))
        else:  # multiclass: the class probabilities and the most probable class's name
            ClassName = Literal[tuple(classes)]  # type: ignore[valid-type]
            self.PredictResponse = create_model(
                f"{name}_predict_response",
                score=(Annotated[list[Score], Field(min_length=len(classes), max_length=len(classes),
                                                    description=f"probability of each class, in the order {classes}")],
                       ...),
                probabilities=(Annotated[dict[ClassName, Score], Field(description="probability of each class")], ...),
                label=(Annotated[ClassName, Field(description="the most probable class")], ...),
                features=(Optional[Features], None))
        self.FeaturesBatchResponse = create_model(f"{name}_features_batch_response", rows=(list[Features], ...))
        self.PredictBatchResponse = create_model(f"{name}_predict_batch_response",
                                                 rows=(list[self.PredictResponse], ...))

    def ready(self) -> ServedBundle:
        s = self.served
        if not s.ready:
            raise NotReady(s.problems or ["starting: self-check not run yet"])
        return s

    def row(self, inputs: BaseModel) -> dict[str, Any]:
        d = inputs.__dict__  # the validated fields (extra fields, when ignored, are not kept)
        return {k: d[k] for k in self.in_names}

    def log(self, route: str, request_id: str, inputs: list[dict], feats: list[dict],
            scores: Optional[list[float]]) -> None:
        fl = getattr(self.app.state, "feature_log", None)
        if fl is not None:
            for i, (r, f) in enumerate(zip(inputs, feats)):
                fl.submit(route, r, f, None if scores is None else scores[i], request_id, i)

    def score_out(self, score: float) -> Any:
        return score if math.isfinite(score) else non_finite(score)

    def answer(self, s: ServedBundle, score: Any) -> dict[str, Any]:
        """The score part of a prediction: score and label; a multiclass model's also per-class probabilities."""
        if s.classes is None:
            return {"score": self.score_out(score), "label": s.label(score)}
        out = [self.score_out(v) for v in score]
        return {"score": out, "probabilities": dict(zip(s.classes, out)), "label": s.label(score)}

    def predictions(self, s: ServedBundle, feats: list[dict], scores: list[float], include: bool) -> list[dict]:
        out = []
        for f, score in zip(feats, scores):
            p: dict[str, Any] = self.answer(s, score)
            if include:
                p["features"] = self.encode(f)
            out.append(p)
        return out

    @staticmethod
    def compute(s: ServedBundle, row: dict[str, Any], loc: tuple = ("body",)) -> tuple[Mapping[str, Any], dict[str, Any]]:
        """The inputs (with the looked-up columns) and features of one valid row; a 422 when an input is valid
        but a feature overflows on it. (A datetime near year 1 or 9999 can be valid while shifting it by a zone
        is not.) :class:`StoreUnavailable` propagates: 503 naming the store.
        """
        try:
            return s.inputs_and_features(row)
        except OverflowError as exc:
            raise BoundedValidationError([{"loc": list(loc), "type": "value_error",
                                           "msg": f"a feature cannot be computed for this input "
                                                  f"(out of range: {str(exc)[:100]})"}]) from None
        except RequestBeforeHorizon as exc:  # a request time older than the windows' retained state
            field = next(iter(s.bundle.transformer.windows.times.used_inputs()), None)
            raise BoundedValidationError([{"loc": [*loc, *([field] if field else [])], "type": "value_error",
                                           "msg": f"the windows cannot be computed at this request time: "
                                                  f"{str(exc)[:300]}"}]) from None

    async def body(self, request: Request, single: bool) -> bytes:
        """The request body, after the media checks (415) and within the row or body limit (413)."""
        check_media(request.headers)
        if single and self.max_row_bytes < self.max_body_bytes:
            return await read_body(request, self.max_row_bytes, "max_row_bytes")
        return await read_body(request, self.max_body_bytes)

    def validate_row(self, request: Request, body: bytes) -> dict[str, Any]:
        known = request.scope.pop(FAST_PATH_ERROR, None)
        return self.row(_validate(self.Inputs, body, self.max_errors, known))

    async def validate_batch(self, body: bytes) -> list[BaseModel]:
        """The batch's rows; validated in the threadpool when the body is large (the event loop stays free)."""
        if len(body) > OFF_LOOP_BYTES:
            return await run_in_threadpool(self._validate_batch, body)
        return self._validate_batch(body)

    def _validate_batch(self, body: bytes) -> list[BaseModel]:
        if self.forbid_unknown:  # unknown keys: a 422 without pydantic's per-key error objects (prescan.py)
            found = unknown_field_errors(body, self.in_names_set, self.max_errors)
            if found is not None:
                errors, count = found
                raise BoundedValidationError(bounded_errors(errors, count, self.max_errors, ("body",)))
        return _validate(self.Batch, body, self.max_errors).rows

    def features_one(self, s: ServedBundle, row: dict[str, Any], request_id: str) -> dict[str, Any]:
        """The answer of ``/v1/features`` for one validated row (counted and logged)."""
        row, feats = self.compute(s, row)
        self.metrics.served("/v1/features", (feats,), None)
        self.log("/v1/features", request_id, [row], [feats], None)
        return {"features": self.encode(feats)}

    def predict_one(self, s: ServedBundle, row: dict[str, Any], include: bool, request_id: str) -> dict[str, Any]:
        """The answer of ``/v1/predict`` for one validated row (counted and logged)."""
        row, feats = self.compute(s, row)
        score = s.score(feats)
        self.metrics.served("/v1/predict", (feats,), (s.top(score),))
        self.log("/v1/predict", request_id, [row], [feats], [score])
        out: dict[str, Any] = self.answer(s, score)
        if include:
            out["features"] = self.encode(feats)
        return out

    def batch(self, s: ServedBundle, route: str, rows: list[BaseModel], predict: bool, include: bool,
              request_id: str) -> dict:
        """One batch: the per-request function row by row, LightGBM once on the whole matrix."""
        computed = [self.compute(s, self.row(r), ("body", "rows", i)) for i, r in enumerate(rows)]
        inputs = [r for r, _ in computed]
        feats = [f for _, f in computed]
        scores = s.score_many(feats) if predict else None
        self.metrics.served(route, feats, None if scores is None else [s.top(v) for v in scores])
        self.log(route, request_id, inputs, feats, scores)
        if scores is None:
            return {"rows": [self.encode(f) for f in feats]}
        return {"rows": self.predictions(s, feats, scores, include)}

    def router(self) -> APIRouter:
        router = APIRouter(prefix="/v1", tags=["model"])
        Inputs, Batch = self.Inputs, self.Batch

        @router.post("/features", response_model=self.FeaturesResponse, responses=_MODEL_ERRORS,
                     openapi_extra=_body_doc(Inputs))
        async def features(request: Request) -> Response:
            s = self.ready()
            row = self.validate_row(request, await self.body(request, True))
            rid = self.ids.accept(request.headers.get(REQUEST_ID))
            return _json(self.features_one(s, row, rid), request_id=rid)

        @router.post("/predict", response_model=self.PredictResponse, responses=_MODEL_ERRORS,
                     openapi_extra=_body_doc(Inputs))
        async def predict(request: Request, include_features: bool = False) -> Response:
            s = self.ready()
            row = self.validate_row(request, await self.body(request, True))
            rid = self.ids.accept(request.headers.get(REQUEST_ID))
            return _json(self.predict_one(s, row, include_features, rid), request_id=rid)

        @router.post("/features/batch", response_model=self.FeaturesBatchResponse, responses=_MODEL_ERRORS,
                     openapi_extra=_body_doc(Batch))
        async def features_batch(request: Request) -> Response:
            s = self.ready()
            rows = await self.validate_batch(await self.body(request, False))
            rid = self.ids.accept(request.headers.get(REQUEST_ID))
            return _json(await run_in_threadpool(self.batch, s, "/v1/features/batch", rows, False, False, rid),
                         request_id=rid)

        @router.post("/predict/batch", response_model=self.PredictBatchResponse, responses=_MODEL_ERRORS,
                     openapi_extra=_body_doc(Batch))
        async def predict_batch(request: Request, include_features: bool = False) -> Response:
            s = self.ready()
            rows = await self.validate_batch(await self.body(request, False))
            rid = self.ids.accept(request.headers.get(REQUEST_ID))
            return _json(await run_in_threadpool(self.batch, s, "/v1/predict/batch", rows, True, include_features,
                                                 rid), request_id=rid)

        @router.get("/metadata")
        async def metadata() -> dict[str, Any]:
            s = self.served
            m = s.manifest
            return {
                "feature_set": m["feature_set"],
                "model": {k: v for k, v in m["model"].items() if k != "inputs"},
                "model_inputs": [c["name"] for c in m["model"]["inputs"]],
                "metrics": m.get("metrics"),
                "versions": m.get("versions"),
                "input_schema": {k: repr(f) for k, f in self.in_schema.items()},
                "output_schema": {k: repr(f) for k, f in self.out_schema.items()},
                "max_batch_size": self.max_batch_size,
                "ready": s.ready,
            }

        return router


# --------------------------------------------------------------------------- the app


def _feature_log(settings: Settings, served: ServedBundle) -> Any:
    """The served-feature log of ``settings`` (None when ``log_dir`` is not set)."""
    if settings.log_dir is None:
        return None
    from .feature_log import FeatureLog

    settings.log_dir.mkdir(parents=True, exist_ok=True)
    fs = served.bundle.transformer
    return FeatureLog(settings.log_dir, bundle_id=served.manifest["bundle_id"], input_schema=fs.input_schema(),
                      output_schema=fs.output_schema(), sample_rate=settings.log_sample_rate,
                      max_queue=settings.log_max_queue, max_file_bytes=settings.log_max_file_bytes,
                      max_files=settings.log_max_files, classes=served.classes)


def _drift_gauges(settings: Settings, served: ServedBundle) -> Any:
    """The /metrics drift gauges over the bundle's stats.json (None when off or the bundle has no references)."""
    if not settings.drift_window:
        return None
    from skewless.monitoring.gauges import DriftGauges, references_from_bundle

    refs = references_from_bundle(served.bundle.path)
    return DriftGauges(refs, window=settings.drift_window) if refs else None


def create_app(settings: Settings | str | Path | None = None) -> FastAPI:
    """The service for ``settings`` (or a bundle path; default: settings from the environment)."""
    if settings is None:
        settings = Settings()
    elif not isinstance(settings, Settings):
        settings = Settings(bundle=Path(settings))
    if settings.bundle is None:
        raise ValueError("no bundle to serve: pass one or set SKEWLESS_SERVE_BUNDLE")
    served = load_served_bundle(settings.bundle, key=settings.bundle_key.get_secret_value() if settings.bundle_key else None,
                              udf_modules=settings.allowed_udf_modules)
    store = _open_store(settings, served)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        served.load_model()
        problems = served.self_check()
        if problems:
            log.error("bundle %s failed its self-check; not ready: %s", settings.bundle, "; ".join(problems[:5]))
        feature_log = _feature_log(settings, served)
        if feature_log is not None:
            feature_log.start()
        app.state.feature_log = feature_log
        try:
            yield
        finally:
            app.state.feature_log = None
            if feature_log is not None:
                feature_log.close()
            if store is not None:
                store.close()

    app = FastAPI(title=f"skewless: {served.manifest['feature_set']['name']}", lifespan=lifespan)
    app.state.served = served
    app.state.settings = settings
    app.state.feature_log = None
    endpoints = _Endpoints(app, served, settings, None)  # type: ignore[arg-type]
    routes = ["/healthz", "/readyz", "/metrics", "/v1/features", "/v1/predict", "/v1/features/batch",
              "/v1/predict/batch", "/v1/metadata"]
    metrics = ServiceMetrics(served, endpoints.out_schema, routes,
                             binary=served.bundle.task in ("binary", "multiclass"),
                             feature_log=lambda: app.state.feature_log, drift=_drift_gauges(settings, served))
    endpoints.metrics = metrics
    app.state.metrics = metrics
    if store is not None:
        served.store = store
        served.lookup = _state_reader(served.bundle.transformer, store, metrics)
    app.state.store = store

    @app.exception_handler(NotReady)
    async def not_ready(request: Request, exc: NotReady) -> Response:
        return _json({"detail": "not ready", "problems": exc.problems}, 503)

    @app.exception_handler(StoreUnavailable)
    async def store_down(request: Request, exc: StoreUnavailable) -> Response:
        # The lookups could not be read within the store's timeout: the service is fine, its store is not.
        metrics.store_unavailable()
        log.warning("%s %s: %s", request.method, request.url.path, exc)
        return _json(store_unavailable_body(exc), 503)

    @app.exception_handler(BodyTooLarge)
    async def too_large(request: Request, exc: BodyTooLarge) -> Response:
        return _json({"detail": str(exc)}, 413)

    @app.exception_handler(UnsupportedMedia)
    async def unsupported(request: Request, exc: UnsupportedMedia) -> Response:
        return _json({"detail": str(exc)}, 415)

    @app.exception_handler(ClientDisconnect)
    async def disconnected(request: Request, exc: ClientDisconnect) -> Response:
        # The client went away before its body was read: not an error of the service. Counted, logged
        # once at debug level; 499 (nobody reads it) keeps it apart from 5xx in the request counts.
        metrics.disconnected()
        log.debug("client disconnected before its request to %s was read", request.url.path)
        return Response(status_code=499)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Valid input should never get here; answer in JSON (no traceback to the client) and log it.
        # Connection: close: the server closes the connection after a 500, and says so.
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": f"internal error ({type(exc).__name__})"}, status_code=500,
                            headers={"connection": "close"})

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        if isinstance(exc, BoundedValidationError):
            return _json({"detail": list(exc.errors())}, 422)
        errors = exc.errors()
        bounded = bounded_errors(errors, len(errors), settings.max_errors)
        return JSONResponse({"detail": _json_safe(jsonable_encoder(bounded))}, status_code=422)

    app.include_router(_health_router(served, metrics))
    app.include_router(endpoints.router())
    if store is not None and served.bundle.transformer.lookups is not None:
        from .entities import entities_router  # entity upserts into the store the lookups read

        app.include_router(entities_router(served.bundle.transformer.lookups.tables, lambda: app.state.store,
                                           max_errors=settings.max_errors,
                                           allow_non_finite=settings.allow_non_finite))
    if store is not None and served.bundle.transformer.windows is not None:
        from .events import events_router  # events into the same store, which the windows read

        app.include_router(events_router(served.bundle.transformer.windows, lambda: app.state.store,
                                         max_errors=settings.max_errors,
                                         allow_non_finite=settings.allow_non_finite))
    if settings.fast_path:
        from .fast_path import SingleRowFastPath

        app.add_middleware(SingleRowFastPath, endpoints=endpoints)
    app.add_middleware(MetricsMiddleware, metrics=metrics,
                       static_paths=[p for p in (app.openapi_url, app.docs_url, app.redoc_url,
                                                 app.swagger_ui_oauth2_redirect_url) if p])
    _document_request_models(app, [endpoints.Inputs, endpoints.Batch])
    return app


def _state_reader(fs: "CompiledFeatureSet", store: Any, metrics: Any) -> Any:
    """``fn(row) -> {looked-up column or window output: value}``: the lookups, then the windows, from ``store``."""
    read = fs.lookup_fn(store, observe=metrics.store_read) if fs.lookups is not None else None
    windows = fs.windows.online(store) if fs.windows is not None else None
    if windows is None:
        return read
    if read is None:
        return windows

    def both(row: Any) -> dict[str, Any]:
        return {**read(row), **windows(row)}

    return both


def _open_store(settings: Settings, served: ServedBundle) -> Any:
    """The online store of the bundle's lookups and windows (None without either): ``settings.store``, by
    default the embedded store ``state.db`` in the bundle's directory (created empty when absent)."""
    fs = served.bundle.transformer
    if fs.lookups is None and fs.windows is None:
        return None
    from skewless.bundle.loader import STORE_FILE
    from skewless.state import open_store

    return open_store(settings.store or f"sqlite:{Path(served.bundle.path) / STORE_FILE}",
                      timeout=settings.store_timeout)


def _document_request_models(app: FastAPI, models: list[type[BaseModel]]) -> None:
    """Add the hand-validated request models to the OpenAPI components (exact JSON schemas).

    They are added after FastAPI builds its document: FastAPI passes its document through its
    own OpenAPI models, which type ``minimum``/``maximum`` as floats and would turn Int64's bounds
    into 9.223372036854776e+18 (not even the same number: 2**63 - 1 is not a float).
    """
    _, top = models_json_schema([(m, "validation") for m in models], ref_template="#/components/schemas/{model}")
    defs = top.get("$defs", {})

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = FastAPI.openapi(app)
            doc.setdefault("components", {}).setdefault("schemas", {}).update(defs)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def app_from_env() -> FastAPI:
    """Factory for uvicorn (``--factory``): settings from ``SKEWLESS_SERVE_*`` variables."""
    return create_app(Settings())
