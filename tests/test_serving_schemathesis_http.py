"""schemathesis against the real server: ``python -m skewless.serving`` (uvicorn) on 127.0.0.1, over HTTP.

The same checks as the in-process contract test (test_serving_schemathesis: no server error, status
code, content type and body as documented, valid input accepted, invalid refused), with more
examples: at least 5,000 requests, sent over real sockets through the server's own protocol (the
head/body limits of serving/server.py, keep-alive, uvicorn's parsing), which the in-process test
never reaches. Budget: well under a minute on 2 cores.
"""

from __future__ import annotations

from collections import Counter

import schemathesis

from test_serving_http import Server
from test_serving_schemathesis import _exercise

MIN_REQUESTS = 5_000


def _examples(path: str, method: str) -> int:
    return 650 if method == "POST" else 40


def test_the_real_server_conforms_to_its_openapi_document(bundle_dir, tmp_path, monkeypatch):
    import test_serving_schemathesis as contract

    monkeypatch.setattr(contract, "_examples", _examples)
    with Server(bundle_dir, tmp_path, max_batch_size="4") as server:
        schema = schemathesis.openapi.from_url(server.url + "/openapi.json")
        requests: Counter = Counter()
        statuses: Counter = Counter()
        for result in schema.get_all_operations():
            op = result.ok()
            modes = [schemathesis.GenerationMode.POSITIVE]
            if op.method.upper() == "POST":
                modes.append(schemathesis.GenerationMode.NEGATIVE)
            for mode in modes:
                _exercise(op, mode, requests, statuses)
        log = server.log_text()
    total = sum(requests.values())
    print(f"\n{total} requests over HTTP; statuses: {dict(statuses)}")
    assert total >= MIN_REQUESTS, dict(requests)
    assert not any(status >= 500 for _, status in statuses), dict(statuses)
    for label in ("POST /v1/predict", "POST /v1/predict/batch"):
        assert statuses[label, 200] > 0 and statuses[label, 422] > 0, dict(statuses)
    assert "Traceback" not in log, log[-3000:]
