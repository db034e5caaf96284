"""Event ingestion over HTTP: ``POST /v1/events`` (and ``/v1/events/{source}``), validated, idempotent.

Usage (the service app mounts it for a bundle whose feature set declares windows; any FastAPI app can)::

    from skewless.serving.events import events_router

    app.include_router(events_router(feature_set.windows, lambda: app.state.store))

Each event source gets its own route and body model (in the OpenAPI document); ``POST /v1/events`` is the
route of the only source when there is one::

    POST /v1/events/flights
    {"events": [{"event_id": 17, "dep_at": "2013-01-01T05:17:00+00:00", "tailnum": "N14228",
                 "carrier": "UA", "origin": "EWR", "dest": "IAH", "dep_delay": 2, "air_time": 227}]}

Every column of the source is a field: the event time and the order column (the event id) are required and
non-null, every other column required and nullable (a null key part names no entity). Types are the request
types (strict JSON, datetimes ISO 8601 with an offset); unknown fields are refused. All events of one body are
applied by :meth:`skewless.windows.OnlineWindows.ingest`: one atomic store update per entity table, nothing
written when any event is refused. Ingestion is idempotent on the event id: an event already held is a no-op
(``duplicate_updates`` counts the entity updates that were already held: an event updates one entity per key
of the windows, e.g. its tail number, its carrier-origin pair and its route).

Answers:

* ``200 {"source": "flights", "events": 2, "duplicate_updates": 3}``;
* ``422`` FastAPI's validation body, each error's ``loc`` naming the field (``["body", "events", 3, "dep_at"]``);
* ``409 {"detail": ..., "kind": "conflict" | "late"}`` for an event id already ingested with other contents
  (``EventConflict``) or an event older than its entity's state horizon (``LateEvent``: newest event −
  ``max_lateness`` − the longest period); nothing was written;
* ``404`` for a source the service does not aggregate;
* ``503 {"detail": ..., "store": ...}`` when the store cannot be reached within its timeout — never a 500.

This module never imports polars.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Optional

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, create_model

from skewless.requests import input_type
from skewless.state.protocol import OnlineStore
from skewless.windows.online import EventConflict, InvalidEvent, LateEvent, OnlineWindows

from .write_routes import add_write_route

__all__ = ["events_router"]


class Ingested(BaseModel):
    """The source, the events received, and the entity updates that were already held (no-ops)."""

    source: str
    events: int
    duplicate_updates: int


class Refused(BaseModel):
    detail: str
    kind: str


def event_model(source: Any, *, allow_non_finite: bool = True) -> type[BaseModel]:
    """The pydantic model of one event of ``source`` (every column; time and order required non-null)."""
    fields: dict[str, Any] = {}
    for name, dtype in source.columns.items():
        if name in (source.time, source.order):
            fields[name] = (input_type(dtype), ...)
        else:
            fields[name] = (Optional[input_type(dtype, allow_non_finite=allow_non_finite)], ...)
    return create_model(f"{source.name}_event", __config__=ConfigDict(extra="forbid"), **fields)


def _body_model(source: Any, max_events: int, allow_non_finite: bool) -> type[BaseModel]:
    event = event_model(source, allow_non_finite=allow_non_finite)
    return create_model(f"{source.name}_events", __config__=ConfigDict(extra="forbid"),
                        events=(Annotated[list[event], Field(max_length=max_events)], ...))  # type: ignore[valid-type]


def events_router(windows: Any, get_store: Callable[[], OnlineStore], *, prefix: str = "/v1/events",
                  max_events: int = 10_000, max_errors: int = 10, allow_non_finite: bool = False) -> APIRouter:
    """A router with ``POST {prefix}/{source}`` per event source of ``windows`` (a feature set's
    :class:`~skewless.windows.declared.FeatureWindows`), and ``POST {prefix}`` for the only one."""
    router = APIRouter(tags=["events"])
    names = sorted(windows.sources)
    for i, d in enumerate(windows.declared):
        src = d.windows.source
        model = _body_model(src, max_events, allow_non_finite)
        paths = [f"{prefix}/{src.name}"] + ([prefix] if len(names) == 1 else [])
        for path in paths:
            _add_route(router, path, d.windows, model, get_store, max_errors)

    @router.post(f"{prefix}/{{source}}", include_in_schema=False)
    async def unknown_source(source: str) -> JSONResponse:
        return JSONResponse({"detail": f"no event source {source!r}; this service aggregates {names}"},
                            status_code=404)

    return router


def _add_route(router: APIRouter, path: str, windows: Any, model: type[BaseModel],
               get_store: Callable[[], OnlineStore], max_errors: int) -> None:
    src = windows.source
    onlines: dict[int, OnlineWindows] = {}

    def online() -> OnlineWindows:
        store = get_store()
        ow = onlines.get(id(store))
        if ow is None:
            onlines.clear()
            ow = onlines[id(store)] = OnlineWindows(windows, store)
        return ow

    def ingest(parsed: Any) -> Any:
        events = [{n: getattr(e, n) for n in type(e).model_fields} for e in parsed.events]
        try:
            result = online().ingest(events)
        except EventConflict as exc:
            return JSONResponse({"detail": str(exc), "kind": "conflict"}, status_code=409)
        except LateEvent as exc:
            return JSONResponse({"detail": str(exc), "kind": "late"}, status_code=409)
        except InvalidEvent as exc:  # validated events are valid; kept so a refusal is never a 500
            return JSONResponse({"detail": str(exc)}, status_code=422)
        return {"source": src.name, "events": result.events, "duplicate_updates": result.duplicates}

    add_write_route(
        router, path, model, ingest, max_errors=max_errors, response_model=Ingested,
        name=f"ingest_{src.name}" + ("" if path.endswith(src.name) else "_default"),
        summary=f"Ingest events of the source {src.name!r} (idempotent on {src.order!r})",
        responses={422: {"description": "An event or field does not match the source; loc names it"},
                   409: {"model": Refused, "description": "An event id ingested with other contents, or an event "
                                                          "older than its entity's state horizon"}})
