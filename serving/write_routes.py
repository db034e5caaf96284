"""What the service's write routes share (``POST /v1/entities/{table}``, ``POST /v1/events[/{source}]``).

Both read a JSON body into a pydantic model, answer its validation errors as FastAPI's ``422`` body (each
``loc`` naming the field, at most ``max_errors`` errors, then one ``too_many_errors`` item), answer an
unreachable store as ``503 {"detail": ..., "store": ...}`` (never a 500), run the store's blocking I/O off
the event loop, and show their body model inline in the OpenAPI document. Used by
:mod:`skewless.serving.entities` and :mod:`skewless.serving.events`.

This module never imports polars.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from skewless.state.protocol import StoreUnavailable

__all__ = ["StoreDown", "add_write_route", "inline_schema", "parse_body"]

JSON = "application/json"


class StoreDown(BaseModel):
    """The ``503`` body: why the online store is unavailable, and its URL."""

    detail: str
    store: str


def parse_body(model: type[BaseModel], body: bytes, max_errors: int) -> Any:
    """``body`` validated as ``model``; raises :class:`RequestValidationError` (FastAPI's 422) otherwise."""
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        errors = []
        for e in exc.errors(include_url=False):
            if len(errors) == max_errors:
                errors.append({"loc": ["body"], "type": "too_many_errors",
                               "msg": f"and {exc.error_count() - max_errors:,} more errors "
                                      f"({exc.error_count():,} in all)"})
                break
            e.pop("ctx", None)  # may hold exceptions, which are not JSON
            errors.append({**e, "loc": ["body", *e["loc"]]})
        raise RequestValidationError(errors) from None


def add_write_route(router: APIRouter, path: str, model: type[BaseModel], write: Callable[[Any], Any], *,
                    max_errors: int, responses: dict[int, Any], **route: Any) -> None:
    """``POST path`` on ``router``: the body parsed as ``model`` and passed to ``write`` in a worker thread.

    ``write(parsed)`` returns the answer (a JSONResponse for its own refusals); a
    :class:`~skewless.state.protocol.StoreUnavailable` it raises is the 503 :class:`StoreDown` answer.
    ``responses`` are the route's documented answers besides 200 and 503; ``route`` the rest of
    :meth:`APIRouter.add_api_route`'s arguments (``response_model``, ``name``, ``summary``)."""

    def handle(body: bytes) -> Any:
        parsed = parse_body(model, body, max_errors)
        try:
            return write(parsed)
        except StoreUnavailable as exc:
            return JSONResponse({"detail": str(exc), "store": exc.store}, status_code=503)

    async def endpoint(request: Request) -> Any:
        from fastapi.concurrency import run_in_threadpool

        body = await request.body()
        return await run_in_threadpool(handle, body)  # the store's I/O blocks: not on the event loop

    router.add_api_route(
        path, endpoint, methods=["POST"],
        responses={**responses, 503: {"model": StoreDown, "description": "The online store is unavailable; names it"}},
        openapi_extra={"requestBody": {"required": True,
                                       "content": {JSON: {"schema": inline_schema(model.model_json_schema())}}}},
        **route)


def inline_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with its local ``#/$defs/...`` references replaced by the definitions (valid in OpenAPI)."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return walk(defs[ref[len("#/$defs/"):]])
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(schema)
