"""A short path for the single-row endpoints: valid requests answered without FastAPI's routing.

Profiled in-process, one ``POST /v1/predict`` costs ~250 µs, of which the service's own work
(validation from bytes, features, LightGBM, JSON) is ~30 µs: the rest is FastAPI's routing and
dependency solving. :class:`SingleRowFastPath` is a pure ASGI middleware in front of the router
that answers ``POST /v1/predict`` and ``POST /v1/features`` itself when everything is ordinary —
the service is ready, the query string is empty (or ``include_features=true|false`` on predict),
the body is within ``max_body_bytes`` and validates — calling the same methods the FastAPI routes
call (``_Endpoints.predict_one`` / ``features_one``) and writing the same bytes and headers.

Everything else goes to the FastAPI app unchanged, with the body replayed: every error answer
(422, 413, 503, ...) comes from the routes and their handlers, so the fast path cannot change what
a client sees, only how fast a valid request is answered; the OpenAPI document still describes the
routes, and a test compares both paths response by response. An exception in the service's own
work propagates as it would from the route (to the app's 500 handler). Turn it off with
``SKEWLESS_SERVE_FAST_PATH=false``.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Awaitable, Callable

import orjson
from fastapi.exceptions import RequestValidationError

from skewless.state.protocol import StoreUnavailable
from pydantic import ValidationError

from .app import FAST_PATH_ERROR, is_json_type

__all__ = ["SingleRowFastPath"]

Receive = Callable[[], Awaitable[dict]]

# The query strings answered here, and what they mean; any other goes to the route (which parses
# booleans FastAPI's way: "1", "yes", "on", ...).
_PREDICT_QUERIES = {b"": False, b"include_features=false": False, b"include_features=true": True}
_FEATURES_QUERIES = {b"": False}
_HEADERS = [(b"content-type", b"application/json")]


def _replay(messages: list[dict], receive: Receive) -> Receive:
    """``receive`` with ``messages`` (already taken from it) handed out again first."""
    pending = list(messages)

    async def replayed() -> dict:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


class SingleRowFastPath:
    """Pure ASGI middleware; see the module docstring.

    Parameters
    ----------
    app : the ASGI app behind (FastAPI's exception middleware and router)
    endpoints : the app's ``_Endpoints`` (request model, ``predict_one``, ``features_one``)
    """

    def __init__(self, app: Any, endpoints: Any):
        self.app, self.endpoints = app, endpoints
        #: Requests answered here (the rest went to the routes); also at ``app.state.fast_path``.
        self.answered = 0
        endpoints.app.state.fast_path = self
        self.limit = endpoints.max_row_bytes
        # scope["route"] as far as the metrics middleware reads it (its path template); the router
        # would store the matched route object there.
        self.paths = {
            "/v1/predict": (SimpleNamespace(path="/v1/predict"), _PREDICT_QUERIES, True),
            "/v1/features": (SimpleNamespace(path="/v1/features"), _FEATURES_QUERIES, False),
        }

    async def __call__(self, scope: dict, receive: Receive, send: Any) -> None:
        target = self.paths.get(scope["path"]) if scope["type"] == "http" and scope["method"] == "POST" else None
        if target is None or scope.get("root_path"):
            return await self.app(scope, receive, send)
        route, queries, predict = target
        include = queries.get(scope.get("query_string", b""))
        endpoints = self.endpoints
        served = endpoints.served
        if include is None or not served.ready:
            return await self.app(scope, receive, send)
        client_id = None
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > self.limit):
                return await self.app(scope, receive, send)
            if name == b"content-encoding" or (name == b"content-type" and not is_json_type(value.decode("latin-1"))):
                return await self.app(scope, receive, send)  # the route answers 415
            if name == b"x-request-id":
                client_id = value
        messages: list[dict] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":  # e.g. a disconnect: let the route see it
                return await self.app(scope, _replay(messages, receive), send)
            size += len(message.get("body", b""))
            if size > self.limit:
                return await self.app(scope, _replay(messages, receive), send)
            if not message.get("more_body", False):
                break
        body = messages[0].get("body", b"") if len(messages) == 1 else b"".join(m.get("body", b"") for m in messages)
        try:
            inputs = endpoints.Inputs.model_validate_json(body)
        except ValidationError as exc:  # the route answers the 422 with this very error (validated once)
            scope[FAST_PATH_ERROR] = exc
            return await self.app(scope, _replay(messages, receive), send)
        row = endpoints.row(inputs)
        rid = endpoints.ids.accept(client_id)
        try:
            out = (endpoints.predict_one(served, row, include, rid) if predict
                   else endpoints.features_one(served, row, rid))
        except RequestValidationError:  # a feature out of range for this input: the route answers the 422
            return await self.app(scope, _replay(messages, receive), send)
        except StoreUnavailable as exc:  # the same 503 as the route's (answered here: not a second timeout)
            from .app import store_unavailable_body

            endpoints.metrics.store_unavailable()
            scope["route"] = route
            payload = orjson.dumps(store_unavailable_body(exc))
            await send({"type": "http.response.start", "status": 503,
                        "headers": [(b"content-length", str(len(payload)).encode()), *_HEADERS,
                                    (b"x-request-id", rid.encode())]})
            await send({"type": "http.response.body", "body": payload})
            return
        scope["route"] = route
        payload = orjson.dumps(out)
        self.answered += 1
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(len(payload)).encode()), *_HEADERS,
                                (b"x-request-id", rid.encode())]})
        await send({"type": "http.response.body", "body": payload})
