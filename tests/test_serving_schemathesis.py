"""The service against its own OpenAPI document, with schemathesis (in-process, through ASGI).

Every operation gets requests generated from the document: valid ones (positive mode) and invalid
ones (negative mode: wrong types, missing or extra fields, out-of-range numbers, broken query
values). Every response must be documented (status code, content type, body schema), no request
may cause a server error, every invalid request must be refused (4xx) and every valid one
accepted: the document says exactly what the service does.
"""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (content_type_conformance, negative_data_rejection,
                                               positive_data_acceptance, response_schema_conformance,
                                               status_code_conformance)

from skewless.definitions.flights_fitted import flights_fitted
from skewless.serving.app import create_app
from skewless.serving.settings import Settings

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MIN_REQUESTS = 500


def _examples(path: str, method: str) -> int:
    """Examples per generation mode: the model endpoints take most of them (the others have no input)."""
    return 80 if method == "POST" else 5


INT_INPUTS = frozenset(k for k, f in flights_fitted.input_schema().items() if type(f.dtype).__name__ == "Int64")


def _no_float_for_int(case) -> bool:
    """False when a generated valid body writes an Int64 input as a float such as ``558.0``.

    JSON Schema counts 558.0 as an integer; the service deliberately refuses it (strict like a bool
    for an int: the field descriptions say "a JSON integer"), so it is not sent as valid input.
    """
    body = case.body
    rows = body.get("rows") if isinstance(body, dict) and "rows" in body else [body]
    return not any(isinstance(r, dict) and any(isinstance(r.get(k), float) for k in INT_INPUTS)
                   for r in (rows if isinstance(rows, list) else []))


ZONED_INPUTS = frozenset(k for k, f in flights_fitted.input_schema().items()
                         if type(f.dtype).__name__ == "Datetime" and f.dtype.time_zone is not None)
_RANGE_ENDS = ("0001-", "9999-")


def _no_datetime_at_the_range_ends(case) -> bool:
    """False when a generated valid body has a zoned datetime in year 1 or 9999.

    ``0001-01-01T00:24:08+01:00`` is a valid JSON Schema date-time whose instant is before year 1 in
    UTC: the service refuses it (422), as the field description says; JSON Schema cannot express the
    range, so such values are not sent as valid input. (test_serving_reliability checks the 422s.)
    """
    body = case.body
    rows = body.get("rows") if isinstance(body, dict) and "rows" in body else [body]
    return not any(isinstance(r, dict) and any(isinstance(r.get(k), str) and r[k].startswith(_RANGE_ENDS)
                                               for k in ZONED_INPUTS)
                   for r in (rows if isinstance(rows, list) else []))


def _exercise(op, mode, requests: Counter, statuses: Counter) -> None:
    """Generate requests for one operation in one mode, send them and check every response."""
    label = f"{op.method.upper()} {op.path}"
    # valid input must be accepted, invalid input refused (4xx)
    extra = positive_data_acceptance if mode == schemathesis.GenerationMode.POSITIVE else negative_data_rejection

    strategy = op.as_strategy(generation_mode=mode)
    if mode == schemathesis.GenerationMode.POSITIVE:
        strategy = strategy.filter(_no_float_for_int).filter(_no_datetime_at_the_range_ends)

    @settings(max_examples=_examples(op.path, op.method.upper()), deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case):
        response = case.call()
        requests[label, mode.value] += 1
        statuses[label, response.status_code] += 1
        case.validate_response(response, checks=[*CHECKS, extra])

    run()


def test_every_response_conforms_to_the_openapi_document(bundle_dir):
    # A small batch limit keeps generated batches small (and the limit is exercised: maxItems).
    app = create_app(Settings(bundle=bundle_dir, max_batch_size=4))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    requests: Counter = Counter()
    statuses: Counter = Counter()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {f"{op.method.upper()} {op.path}" for op in operations} >= {
        "POST /v1/predict", "POST /v1/features", "POST /v1/predict/batch", "POST /v1/features/batch",
        "GET /healthz", "GET /readyz", "GET /metrics", "GET /v1/metadata"}
    try:
        for op in operations:
            modes = [schemathesis.GenerationMode.POSITIVE]
            if op.method.upper() == "POST":  # the GETs take no input: nothing to get wrong
                modes.append(schemathesis.GenerationMode.NEGATIVE)
            for mode in modes:
                _exercise(op, mode, requests, statuses)
    finally:
        asgi.shutdown_lifespans()  # the app's lifespan was started by schemathesis' client
    total = sum(requests.values())
    print(f"\n{total} requests; by operation and mode: {dict(requests)}; statuses: {dict(statuses)}")
    assert total >= MIN_REQUESTS, dict(requests)
    # both kinds really happened on the model endpoints: accepted (200) and refused (422) requests
    for label in ("POST /v1/predict", "POST /v1/predict/batch"):
        assert statuses[label, 200] > 0 and statuses[label, 422] > 0, dict(statuses)
