"""Entity upserts over HTTP: ``POST /v1/entities/{table}``, rows validated like requests.

Usage (the service app mounts it; any FastAPI app can)::

    from skewless.serving.entities import entities_router

    app.include_router(entities_router([planes, weather], lambda: app.state.store))

``tables`` are the :class:`~skewless.state.lookups.EntityTable` s the service may write; ``get_store`` returns
the open :class:`~skewless.state.OnlineStore` when a request arrives (so the app may open it in its lifespan).
Each table gets its own route and body model (shown in the OpenAPI document)::

    POST /v1/entities/weather
    {"rows": [{"origin": "EWR", "time_hour": "2013-01-01T06:00:00+00:00", "temp": 39.02, ...}, ...]}

    POST /v1/entities/planes
    {"event_time": "2026-12-01T12:00:00+00:00", "rows": [{"tailnum": "N10156", "year": 2004, ...}]}

A time-versioned table's rows carry their event time in the table's time column; a static table's body
carries one ``event_time`` for its rows (required, refused for a time-versioned table). Row types are the
request types (:mod:`skewless.state.ingest`; strict JSON: a bool is not an int, datetimes are ISO 8601 with
an offset, NaN and ±inf refused unless ``allow_non_finite``), every column is required, unknown columns are
refused, at most ``max_rows`` rows per body. All rows of one body are one store write (atomic). An older
write never overwrites newer state: the store drops it (the answer counts rows received, not rows that won).

Answers:

* ``200 {"table": "weather", "rows": 2}``;
* ``422`` FastAPI's validation body; each error's ``loc`` names the field: ``["body", "rows", 3, "temp"]``
  (at most ``max_errors`` errors, then one ``too_many_errors`` item);
* ``404`` for a table the service does not serve (``detail`` names the ones it does);
* ``503 {"detail": "online store redis://... is unavailable: ...", "store": "redis://..."}`` when the store
  cannot be reached within its timeout — never a 500.

This module never imports polars.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, create_model

from skewless.state.ingest import entity_model, writes
from skewless.state.lookups import EntityTable
from skewless.state.protocol import InvalidKey, OnlineStore

from .write_routes import add_write_route

__all__ = ["entities_router"]


class Written(BaseModel):
    """The table written and the number of rows received (late ones are dropped by the store)."""

    table: str
    rows: int


def _body_model(table: EntityTable, max_rows: int, allow_non_finite: bool) -> type[BaseModel]:
    row = entity_model(table, extra="forbid", allow_non_finite=allow_non_finite)
    fields: dict[str, Any] = {"rows": (Annotated[list[row], Field(max_length=max_rows)], ...)}  # type: ignore[valid-type]
    if table.time is None:
        fields["event_time"] = (Annotated[AwareDatetime, Field(description="the time the rows became true "
                                                                             "(ISO 8601 with an offset)")], ...)
    return create_model(f"{table.name}_upsert", __config__=ConfigDict(extra="forbid"), **fields)


def entities_router(tables: Iterable[EntityTable] | Mapping[str, EntityTable],
                    get_store: Callable[[], OnlineStore], *, prefix: str = "/v1/entities", max_rows: int = 10_000,
                    max_errors: int = 10, allow_non_finite: bool = False) -> APIRouter:
    """A router with ``POST {prefix}/{table}`` for each of ``tables`` (see the module docstring)."""
    tables = list(tables.values()) if isinstance(tables, Mapping) else list(tables)
    names = sorted(t.name for t in tables)
    router = APIRouter(tags=["entities"])
    for table in tables:
        _add_route(router, prefix, table, _body_model(table, max_rows, allow_non_finite), get_store, max_errors)

    @router.post(f"{prefix}/{{table}}", include_in_schema=False)
    async def unknown_table(table: str) -> JSONResponse:
        return JSONResponse({"detail": f"no entity table {table!r}; this service writes {names}"}, status_code=404)

    return router


def _add_route(router: APIRouter, prefix: str, table: EntityTable, model: type[BaseModel],
               get_store: Callable[[], OnlineStore], max_errors: int) -> None:
    def upsert(parsed: Any) -> Any:
        rows = [{n: getattr(r, n) for n in type(r).model_fields} for r in parsed.rows]
        triples = writes(table, rows, getattr(parsed, "event_time", None))
        try:
            get_store().write(table.name, triples)
        except InvalidKey as exc:  # validated rows are valid keys; kept so a store's refusal is never a 500
            return JSONResponse({"detail": str(exc)}, status_code=422)
        return {"table": table.name, "rows": len(triples)}

    add_write_route(
        router, f"{prefix}/{table.name}", model, upsert, max_errors=max_errors, response_model=Written,
        name=f"upsert_{table.name}", summary=f"Upsert rows of the entity table {table.name!r}",
        responses={422: {"description": "A row or column does not match the table; loc names it"}})
