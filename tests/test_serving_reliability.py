"""Issue 14's findings, each reproduced and now refused, bounded or recovered as specified.

Server-level findings run against a real uvicorn process (``python -m skewless.serving`` on 127.0.0.1,
the :class:`Server` of test_serving_http); request-level ones in-process too. No timing is asserted
(the benchmark ``benchmarks/hostile.py`` measures the times): these tests check answers, sizes and
that connections stay usable.
"""

from __future__ import annotations

import gzip
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from skewless.serving.app import create_app
from skewless.serving.settings import Settings

from test_serving_http import Server, _json_row

ROOT = Path(__file__).resolve().parents[1]
MAX_ERROR_BODY = 16 * 1024


@pytest.fixture(scope="module")
def row(slice_df):
    from skewless.definitions.flights_fitted import flights_fitted

    full = slice_df.filter(slice_df["dep_time"].is_not_null()).row(0, named=True)
    return _json_row({k: full[k] for k in flights_fitted.inputs})


def _flood(n: int) -> bytes:
    return json.dumps({f"k{i}": i for i in range(n)}).encode()


# --------------------------------------------------------------------------- 1. bounded error answers


def test_unknown_key_floods_are_refused_cheaply_with_bounded_answers(bundle_dir, row):
    with TestClient(create_app(bundle_dir)) as c:
        big = c.post("/v1/predict", content=_flood(700_000), headers={"content-type": "application/json"})
        assert big.status_code == 413 and "max_row_bytes" in big.json()["detail"]
        assert len(big.content) < MAX_ERROR_BODY
        # under the row limit: every error counted, at most 10 listed, no echo of the row
        flood = dict(row, **{f"x{i}": i for i in range(3000)})
        r = c.post("/v1/predict", json=flood)
        assert r.status_code == 422 and len(r.content) < MAX_ERROR_BODY
        detail = r.json()["detail"]
        assert len(detail) == 11 and detail[-1]["type"] == "too_many_errors"
        assert detail[-1]["msg"] == "and 2,990 more errors (3,000 in all)"
        missing = c.post("/v1/predict", json={"month": 1})
        assert missing.status_code == 422
        assert all(e.get("input") is None for e in missing.json()["detail"])  # the row is not echoed
        rows = [dict(row, **{f"x{i}": i for i in range(50)}) for _ in range(200)]
        b = c.post("/v1/predict/batch", json={"rows": rows})
        assert b.status_code == 422 and len(b.content) < MAX_ERROR_BODY
        assert b.json()["detail"][-1]["msg"].startswith("and 9,990 more errors")


def _count_validations(monkeypatch, model) -> list:
    """A list that grows by one each time ``model.model_validate_json`` runs (for the rest of the test)."""
    calls = []
    original = model.model_validate_json.__func__

    def counting(cls, data, *a, **k):
        calls.append(1)
        return original(cls, data, *a, **k)

    monkeypatch.setattr(model, "model_validate_json", classmethod(counting))
    return calls


def test_unknown_keys_in_a_batch_never_reach_pydantic(bundle_dir, row, monkeypatch):
    """A batch of one row with 100,000 unknown keys (1.7 MB, under max_body_bytes) cost pydantic 0.7 s of
    GIL building one error per key (/readyz unanswered meanwhile): serving/prescan.py answers it
    without pydantic. Rows of known keys are still validated by pydantic (the batch model)."""
    app = create_app(bundle_dir)
    with TestClient(app) as c:
        calls = _count_validations(monkeypatch, app.state.fast_path.endpoints.Batch)
        flood = {"rows": [row, {f"k{i}": i for i in range(100_000)}]}
        r = c.post("/v1/predict/batch", json=flood)
        assert r.status_code == 422 and len(r.content) < MAX_ERROR_BODY
        detail = r.json()["detail"]
        assert detail[0] == {"type": "extra_forbidden", "msg": "Extra inputs are not permitted",
                             "loc": ["body", "rows", 1, "k0"], "input": 0}
        assert len(detail) == 11 and detail[-1]["msg"] == "and 99,990 more errors (100,000 in all)"
        r = c.post("/v1/predict/batch", json={"rows": [row], "extra": 1})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "extra"]
        assert calls == []
        assert c.post("/v1/predict/batch", json={"rows": [row, dict(row, month="x")]}).status_code == 422
        assert c.post("/v1/predict/batch", json={"rows": [row, row]}).status_code == 200
        assert len(calls) == 2


def test_invalid_json_is_not_echoed(bundle_dir):
    with TestClient(create_app(bundle_dir)) as c:
        body = b'{"month": ' + b"1" * 1_000_000
        r = c.post("/v1/predict", content=body, headers={"content-type": "application/json"})
        assert r.status_code == 413 and len(r.content) < 2048, r.content[:200]  # over max_row_bytes
        r = c.post("/v1/predict/batch", content=b'{"rows": [' + body, headers={"content-type": "application/json"})
        assert r.status_code == 422 and len(r.content) < 2048, r.content[:200]


def test_validation_runs_once_for_an_invalid_single_row(bundle_dir, row, monkeypatch):
    app = create_app(bundle_dir)
    with TestClient(app) as c:
        calls = _count_validations(monkeypatch, app.state.fast_path.endpoints.Inputs)
        assert c.post("/v1/predict", json=dict(row, month="x")).status_code == 422
        assert len(calls) == 1


# --------------------------------------------------------------------------- 2. every bad input is a 4xx


BAD_VALUES = {
    "time_hour": ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "19999999999", "1e10", " 2013-01-01T00:00Z"],
}


def test_datetimes_at_the_range_ends_and_digit_strings_are_422(bundle_dir, row):
    with TestClient(create_app(bundle_dir)) as c:
        for field, values in BAD_VALUES.items():
            for v in values:
                r = c.post("/v1/predict", json=dict(row, **{field: v}))
                assert r.status_code == 422, (v, r.text)
                assert r.json()["detail"][0]["loc"] == ["body", field], r.text
                b = c.post("/v1/predict/batch", json={"rows": [row] * 3 + [dict(row, **{field: v})]})
                assert b.status_code == 422 and b.json()["detail"][0]["loc"][:3] == ["body", "rows", 3], b.text
        assert c.post("/v1/predict", json=row).status_code == 200


def test_content_type_and_encoding_are_checked(bundle_dir, row):
    body = json.dumps(row).encode()
    with TestClient(create_app(bundle_dir)) as c:
        for ct in ("text/plain", "application/x-www-form-urlencoded", "application/xml"):
            r = c.post("/v1/predict", content=body, headers={"content-type": ct})
            assert r.status_code == 415 and "application/json" in r.json()["detail"], (ct, r.text)
        for ct in ("application/json", "application/json; charset=utf-8", "application/problem+json"):
            assert c.post("/v1/predict", content=body, headers={"content-type": ct}).status_code == 200, ct
        r = c.post("/v1/predict", content=gzip.compress(body),
                   headers={"content-type": "application/json", "content-encoding": "gzip"})
        assert r.status_code == 415 and "Content-Encoding" in r.json()["detail"]
        r = c.post("/v1/predict/batch", content=json.dumps({"rows": [row]}).encode(), headers={"content-type": "text/csv"})
        assert r.status_code == 415


def test_an_internal_error_answers_500_with_connection_close(bundle_dir, row, monkeypatch):
    app = create_app(bundle_dir)
    with TestClient(app, raise_server_exceptions=False) as c:
        monkeypatch.setattr(app.state.served, "score", lambda features: 1 / 0)
        r = c.post("/v1/predict", json=row)
        assert r.status_code == 500 and r.headers["connection"] == "close"
        assert r.json() == {"detail": "internal error (ZeroDivisionError)"}


def test_a_500_does_not_break_the_next_request_on_a_real_server(bundle_dir, row, tmp_path):
    """A 422 for a range-end datetime (was a 500 that reset the keep-alive connection), then a valid request."""
    with Server(bundle_dir, tmp_path) as server, httpx.Client(base_url=server.url, timeout=30) as c:
        for _ in range(5):
            bad = c.post("/v1/predict", json=dict(row, time_hour="0001-01-01T00:00:00+14:00"))
            assert bad.status_code == 422
            good = c.post("/v1/predict", json=row)
            assert good.status_code == 200
        assert "Traceback" not in server.log_text()


# --------------------------------------------------------------------------- 3. limits and timeouts


def _connect(server: Server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=30)


def _read_all(sock: socket.socket) -> bytes:
    out = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not chunk:
            break
        out += chunk
    return out


def test_slow_heads_slow_bodies_and_huge_heads_are_cut_off(bundle_dir, row, tmp_path):
    with Server(bundle_dir, tmp_path, header_timeout="1", body_timeout="1", max_header_bytes="8192") as server:
        slow = [_connect(server) for _ in range(20)]
        for s in slow:
            s.sendall(b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nX-A: ")  # and never the rest
        answers = [_read_all(s) for s in slow]
        assert all(a.startswith(b"HTTP/1.1 408") for a in answers), answers[:2]
        s = _connect(server)
        s.sendall(b"POST /v1/predict HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{")
        assert _read_all(s).startswith(b"HTTP/1.1 408")
        s = _connect(server)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n")
        assert _read_all(s).startswith(b"HTTP/1.1 431")
        with httpx.Client(base_url=server.url, timeout=30) as c:  # the service is still there
            assert c.post("/v1/predict", json=row).status_code == 200
            assert c.get("/readyz").status_code == 200


def test_a_64_mib_head_is_cut_off_at_the_limit_and_the_service_keeps_answering(bundle_dir, row, tmp_path):
    """Issue 14 finding 6: a 64 MiB header blocked the loop 4 s (128 MiB: 71 s). The head is refused with a
    431 once max_header_bytes have arrived; /readyz is answered while the client is still sending."""
    import threading

    with Server(bundle_dir, tmp_path) as server:
        s = _connect(server)
        sent = []

        def send_huge_head():
            chunk = b"a" * 2 ** 20
            try:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ")
                for _ in range(64):
                    s.sendall(chunk)
                    sent.append(len(chunk))
                s.sendall(b"\r\n\r\n")
            except OSError:  # the server closed the connection after its 431
                pass

        sender = threading.Thread(target=send_huge_head)
        sender.start()
        with httpx.Client(base_url=server.url, timeout=30) as c:
            assert c.get("/readyz").status_code == 200
        sender.join(120)
        assert _read_all(s).startswith(b"HTTP/1.1 431")
        assert sum(sent) < 64 * 2 ** 20  # cut off, not read to the end
        with httpx.Client(base_url=server.url, timeout=30) as c:
            assert c.post("/v1/predict", json=row).status_code == 200


def test_a_body_in_many_small_chunks_is_not_counted_as_head(bundle_dir, row, tmp_path):
    """A 431 once answered a valid batch whose body came in chunks: the last chunk of a message was
    counted as head bytes of the next (fixed; the old test bodies all fit one chunk)."""
    with Server(bundle_dir, tmp_path, max_header_bytes="2048") as server:
        body = json.dumps({"rows": [row] * 200}).encode()
        s = _connect(server)
        for _ in range(2):  # two requests on one kept-alive connection, each body in 1 KB pieces
            s.sendall(b"POST /v1/features/batch HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n"
                      b"content-length: %d\r\n\r\n" % len(body))
            for i in range(0, len(body), 1024):
                s.sendall(body[i:i + 1024])
                time.sleep(0.001)
            head = b""
            while b"\r\n\r\n" not in head:
                head += s.recv(65536)
            assert head.startswith(b"HTTP/1.1 200"), head[:200]
            length = int(next(l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")).split(b":")[1])
            rest = head.split(b"\r\n\r\n", 1)[1]
            while len(rest) < length:
                rest += s.recv(65536)
            assert len(json.loads(rest)["rows"]) == 200
        s.close()


def test_idle_connections_cannot_exhaust_the_descriptors(bundle_dir, row, tmp_path):
    """Issue 14 finding 6: with a 256-descriptor limit, 300 idle connections left new clients unanswered
    (accept() failed with EMFILE until the idle ones timed out). Connections over the cap get a 503 at
    once; once the idle ones go, the service answers again."""
    with Server(bundle_dir, tmp_path, nofile=256, header_timeout="600") as server:
        idle = [_connect(server) for _ in range(300)]
        try:
            with httpx.Client(base_url=server.url, timeout=20) as c:
                r = c.get("/readyz")  # without the cap: no answer at all within the 600 s head timeout
            assert r.status_code == 503 and "too many connections" in r.text
            refused = [s for s in idle if _read_all_nowait(s).startswith(b"HTTP/1.1 503")]
            assert len(refused) >= 300 - 256  # the ones over the cap were answered, not left hanging
        finally:
            for s in idle:
                s.close()
        deadline = time.monotonic() + 60
        while True:
            with httpx.Client(base_url=server.url, timeout=20) as c:
                r = c.post("/v1/predict", json=row)
            if r.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.2)  # the server is still seeing the closed sockets go
        assert r.status_code == 200
        assert "Traceback" not in server.log_text()


def _read_all_nowait(sock: socket.socket) -> bytes:
    """What has already arrived on ``sock`` (nothing if the server has not answered)."""
    sock.setblocking(False)
    try:
        return sock.recv(65536)
    except (BlockingIOError, ConnectionResetError):
        return b""


def test_serve_validates_its_arguments(bundle_dir):
    for args, message in [(["--port", "99999"], "port"), (["--port", "-1"], "port"), (["--workers", "0"], "workers"),
                          (["--header-timeout", "0"], "header_timeout")]:
        r = subprocess.run([sys.executable, "-m", "skewless.serving", "--bundle", str(bundle_dir), *args],
                           cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr, (args, r.stderr)
    r = subprocess.run([sys.executable, "-m", "skewless.serving", "--bundle", str(bundle_dir / "nope")],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "no bundle at" in r.stderr and "Traceback" not in r.stderr


def test_client_disconnects_are_counted_not_500s(bundle_dir, tmp_path):
    with Server(bundle_dir, tmp_path) as server:
        for _ in range(30):
            s = _connect(server)
            s.sendall(b"POST /v1/predict/batch HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n"
                      b"content-length: 100000\r\n\r\n{\"rows\": [")
            time.sleep(0.01)
            s.close()
        deadline = time.monotonic() + 30
        with httpx.Client(base_url=server.url, timeout=30) as c:
            while True:
                text = c.get("/metrics").text
                if "skewless_client_disconnects_total 30.0" in text or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
        assert "skewless_client_disconnects_total 30.0" in text, [l for l in text.splitlines() if "disconnect" in l]
        assert 'status="500"' not in text
        log = server.log_text()
        assert "Traceback" not in log and "ERROR" not in log, log[-3000:]


# --------------------------------------------------------------------------- 4. training fails fast


def test_an_unanswering_tracking_server_costs_at_most_the_timeout(bundle_dir, tmp_path):
    """A loopback server that accepts connections and never answers (the 257 s stall of finding 10)."""
    import threading

    from skewless.training.train import train
    from skewless.training.bundle import load_bundle
    from skewless.training.tracking import Tracker, TrackingError

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])  # accepted, never answered
            except OSError:
                pass

    threading.Thread(target=accept, daemon=True).start()
    uri = f"http://127.0.0.1:{listener.getsockname()[1]}"
    try:
        started = time.monotonic()
        with pytest.raises(TrackingError, match="did not answer within 2 s"):
            Tracker(uri, timeout=2)
        assert time.monotonic() - started < 60  # a bound on the bound, not a timing assertion on the job
        # the whole job: the bundle is written, loads, and its manifest says why it has no run
        warnings = []
        result = train(bundle_dir.parent / "build", tmp_path / "bundle", num_boost_round=20,
                       early_stopping_rounds=5, tracking_uri=uri, tracking_timeout=2, warn=warnings.append)
        assert result.tracking_error and "did not answer within 2 s" in result.tracking_error
        assert warnings and "bundle was written without a run" in warnings[0]
        manifest = load_bundle(tmp_path / "bundle").manifest
        assert manifest["tracking"]["status"] == "failed" and "did not answer" in manifest["tracking"]["error"]
    finally:
        stop.set()
        for s in held:
            s.close()
        listener.close()


def test_stale_temporary_directories_of_killed_jobs_are_removed_by_the_next(tmp_path):
    from skewless.training._util import atomic_dir

    out = tmp_path / "bundle"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / ".bundle.tmp-deadbeef"
    stale.mkdir()
    (stale / "model.txt").write_text("half")
    stale.with_name(stale.name + ".pid").write_text(f"{dead.pid}\n")
    live = tmp_path / ".bundle.tmp-cafecafe"  # a job still running (this process): left alone
    live.mkdir()
    live.with_name(live.name + ".pid").write_text(f"{__import__('os').getpid()}\n")
    with atomic_dir(out, marker="manifest.json", overwrite=False) as tmp:
        (tmp / "manifest.json").write_text("{}")
    assert not stale.exists() and not stale.with_name(stale.name + ".pid").exists()
    assert live.exists() and out.is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".bundle.tmp-cafecafe", ".bundle.tmp-cafecafe.pid", "bundle"]
