"""The service behind a real uvicorn server on 127.0.0.1 (``python -m skewless.serving`` in a subprocess,
stopped with SIGTERM so the lifespan shutdown runs): served features and scores equal the batch
ones, and under a bounded load the served-feature log loses nothing it does not count."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import polars as pl
import pytest

from skewless.definitions.flights_fitted import flights_fitted
from skewless.dtypes import Date, Datetime, Duration, Float64
from skewless.serving.feature_log import read_log
from skewless.training.bundle import load_bundle, same_value

ROOT = Path(__file__).resolve().parents[1]
TEST_START = dt.datetime(2013, 2, 15, tzinfo=dt.timezone.utc)  # valid_end of the conftest bundle's split
INPUTS = list(flights_fitted.inputs)


# --------------------------------------------------------------------------- the server


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``python -m skewless.serving`` on a free port of 127.0.0.1, configured by ``SKEWLESS_SERVE_*``."""

    def __init__(self, bundle: Path, workdir: Path, workers: int = 1, nofile: int | None = None, **settings: str):
        """``nofile``: the server's file-descriptor limit (``RLIMIT_NOFILE``), when not the inherited one."""
        self.bundle, self.workdir, self.settings, self.workers = bundle, workdir, settings, workers
        self.nofile = nofile
        self.proc: subprocess.Popen | None = None
        self.output = workdir / "server.log"

    def __enter__(self) -> "Server":
        env = {k: v for k, v in os.environ.items() if not k.startswith("SKEWLESS_SERVE_")}
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        env.update({f"SKEWLESS_SERVE_{k.upper()}": str(v) for k, v in self.settings.items()})
        for _ in range(3):  # the free port may be taken again before the server binds it
            self.port = _free_port()
            self.url = f"http://127.0.0.1:{self.port}"
            with open(self.output, "ab") as out:
                # a session of its own: the worker processes can be killed with it if need be
                self.proc = subprocess.Popen(
                    [sys.executable, "-m", "skewless.serving", "--bundle", str(self.bundle), "--host", "127.0.0.1",
                     "--port", str(self.port), "--workers", str(self.workers)],
                    cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                    preexec_fn=None if self.nofile is None else self._limit_descriptors)
            try:
                if self._wait_ready():
                    return self
            finally:
                if not self._ready:
                    self._kill()  # never leave a server behind
        raise AssertionError(f"the server did not become ready:\n{self.log_text()[-4000:]}")

    def _limit_descriptors(self) -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_NOFILE, (self.nofile, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))

    def _wait_ready(self, timeout: float = 240.0) -> bool:
        self._ready = False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                r = httpx.get(self.url + "/readyz", timeout=10)
                if r.status_code == 200:
                    self._ready = True
                    return True
                if r.status_code == 503:
                    raise AssertionError(f"server up but not ready: {r.text}")
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        return False

    def stop(self) -> None:
        """SIGTERM and wait for the exit; fails unless the shutdown was graceful (lifespan shutdown ran)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(120)
        except subprocess.TimeoutExpired:
            self._kill()
            raise AssertionError(f"the server did not stop on SIGTERM:\n{self.log_text()[-4000:]}") from None
        # uvicorn shuts down gracefully, then re-raises the signal it caught (exit status -15)
        assert code in (0, -signal.SIGTERM), (code, self.log_text()[-4000:])
        assert "Application shutdown complete" in self.log_text(), self.log_text()[-4000:]

    def _kill(self) -> None:
        """SIGKILL to the server's process group (the server and its workers), then reap it."""
        if self.proc is not None and self.proc.returncode is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(60)

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is None:
            self.stop()
        else:  # a failing test: do not hide its error behind the shutdown checks
            try:
                self.stop()
            except AssertionError:
                pass
            finally:
                self._kill()

    def log_text(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")


# --------------------------------------------------------------------------- values


def _json_row(row: dict) -> dict:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in row.items()}


def _same_row(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)


def _decode(value, dtype):
    """A feature value from the API's JSON (see skewless.serving.schemas.encode_features)."""
    if value is None:
        return None
    if isinstance(dtype, Float64):
        if isinstance(value, dict):
            return {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}[value["float"]]
        return value
    if isinstance(dtype, Datetime):
        return dt.datetime.fromisoformat(value)
    if isinstance(dtype, Date):
        return dt.date.fromisoformat(value)
    if isinstance(dtype, Duration):
        return dt.timedelta(seconds=value)
    return value


def _test_rows(slice_df: pl.DataFrame) -> pl.DataFrame:
    """A few hundred rows of the test period: every one with a null input among the first, then a sample."""
    test = slice_df.filter(pl.col("time_hour") >= TEST_START).select(INPUTS)
    nulls = test.filter(pl.any_horizontal(pl.all().is_null())).head(80)
    return pl.concat([nulls, test.gather_every(60)])


# --------------------------------------------------------------------------- tests


def test_served_features_and_scores_over_http_equal_batch(bundle_dir, slice_df, tmp_path):
    bundle = load_bundle(bundle_dir)
    rows = _test_rows(slice_df)
    assert rows.height >= 200 and rows.null_count().sum_horizontal().item() > 0
    batch = bundle.transformer.transform(rows).collect()
    scores = bundle.booster.predict(bundle.inputs.encode_frame(batch))
    out_schema = bundle.transformer.output_schema()
    assert batch.columns == list(out_schema)

    served = []
    with Server(bundle_dir, tmp_path, log_dir=tmp_path / "log") as server, \
            httpx.Client(base_url=server.url, timeout=60) as client:
        for i, row in enumerate(rows.iter_rows(named=True)):
            p = client.post("/v1/predict", params={"include_features": "true"}, json=_json_row(row))
            f = client.post("/v1/features", json=_json_row(row))
            assert p.status_code == 200 and f.status_code == 200, (i, p.text, f.text)
            served.append((p.json(), f.json()))
        batched = []
        for start in range(0, rows.height, 100):
            chunk = [_json_row(r) for r in rows.slice(start, 100).iter_rows(named=True)]
            b = client.post("/v1/predict/batch", params={"include_features": "true"}, json={"rows": chunk})
            assert b.status_code == 200, b.text
            batched.extend(b.json()["rows"])
        server.stop()

    mismatches = []
    assert len(batched) == rows.height
    for i, (p, f) in enumerate(served):
        want = batch.row(i, named=True)
        for one in (p, batched[i]):
            if not same_value(one["score"], float(scores[i])):
                mismatches.append((i, "score", one["score"], float(scores[i])))
            assert one["label"] == (one["score"] >= bundle.threshold)
        for body in (p["features"], f["features"], batched[i]["features"]):
            assert set(body) == set(out_schema)
            for name, f_ in out_schema.items():
                got = _decode(body[name], f_.dtype)
                if not same_value(got, want[name]):
                    mismatches.append((i, name, got, want[name]))
    assert not mismatches, mismatches[:20]

    # the served-feature log holds the same values (one client, so in request order)
    records = list(read_log(tmp_path / "log"))
    assert [r["route"] for r in records] == (["/v1/predict", "/v1/features"] * rows.height
                                             + ["/v1/predict/batch"] * rows.height)
    for i, rec in enumerate(records[2 * rows.height:]):
        assert _same_row(rec["features"], batch.row(i, named=True)) and same_value(rec["score"], float(scores[i]))
    for i, row in enumerate(rows.iter_rows(named=True)):
        want = batch.row(i, named=True)
        for rec in records[2 * i: 2 * i + 2]:
            assert _same_row(rec["inputs"], row), (i, rec["inputs"], row)
            assert _same_row(rec["features"], want), (i, rec["features"], want)
        assert same_value(records[2 * i]["score"], float(scores[i])) and records[2 * i + 1]["score"] is None


def _log_metrics(url: str) -> dict[str, float]:
    """The feature log's counters from ``GET /metrics`` (``skewless_feature_log_records_total{state}``)."""
    from prometheus_client.parser import text_string_to_metric_families

    r = httpx.get(url + "/metrics", timeout=60)
    assert r.status_code == 200, r.text
    return {s.labels["state"]: s.value for fam in text_string_to_metric_families(r.text)
            for s in fam.samples if s.name == "skewless_feature_log_records_total"}


async def _send(url: str, rows: list[tuple[str, dict]], concurrency: int) -> list[dict]:
    """POST every ``(path, row)`` with ``concurrency`` clients at a time; the response bodies, in order."""
    sem = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        async def one(path: str, row: dict) -> dict:
            # every third request names its own id; the others get one generated by the service
            own = {"x-request-id": f"client-{row['flight']}"} if row["flight"] % 3 == 0 else {}
            async with sem:
                r = await client.post(path, json=row, headers=own)
            assert r.status_code == 200, (path, row, r.text)
            rid = r.headers["x-request-id"]
            assert rid == own["x-request-id"] if own else rid and not rid.startswith("client-")
            return {**r.json(), "request_id": rid}

        return await asyncio.gather(*(one(p, r) for p, r in rows))


@pytest.mark.parametrize("workers, sample_rate", [(1, 1.0), (2, 0.5)])
def test_load_every_request_is_logged_or_counted_as_dropped(bundle_dir, slice_df, tmp_path, workers, sample_rate):
    """Concurrent clients, a small log queue: written + dropped (+ sampled out) == requests sent, and
    every record written is one that was sent (found by its unique ``flight``) with the features it
    was served. With two worker processes both write to the same directory (file names carry the pid)."""
    bundle = load_bundle(bundle_dir)
    out_schema = bundle.transformer.output_schema()
    base = _json_row(_test_rows(slice_df).row(0, named=True))
    n, concurrency = 2000, 16
    requests = [("/v1/predict?include_features=true" if i % 2 == 0 else "/v1/features", {**base, "flight": i})
                for i in range(n)]
    log_dir = tmp_path / "log"
    # keep-alive far above the test's length: a pooled connection left idle for the default 5 s (a loaded
    # machine) can be closed by the server just as the client reuses it — the classic keep-alive race, an
    # httpx.ReadError that has nothing to do with logging (seen once with 2 workers under heavy load)
    with Server(bundle_dir, tmp_path, workers=workers, log_dir=log_dir, log_max_queue=2,
                log_sample_rate=sample_rate, timeout_keep_alive="600") as server:
        bodies = asyncio.run(asyncio.wait_for(_send(server.url, requests, concurrency), timeout=1800))
        live = _log_metrics(server.url)  # no request after this: only "written" may still grow
        server.stop()

    # the counters each worker's log wrote when it closed
    summaries = [json.loads(p.read_text()) for p in log_dir.glob("*.stats.json")]
    assert len(summaries) == workers
    stats = {k: sum(s[k] for s in summaries) for k in ("submitted", "sampled_out", "dropped", "written")}
    records = list(read_log(log_dir))
    assert not list(log_dir.glob("*.part"))
    assert stats["submitted"] == n and (stats["sampled_out"] > 0) == (sample_rate < 1), stats
    assert stats["written"] == len(records), stats
    assert stats["written"] + stats["dropped"] + stats["sampled_out"] == n, stats
    if workers == 1:  # (with more, /metrics shows the worker that answered the scrape)
        assert live["submitted"] == n and live["dropped"] == stats["dropped"], (live, stats)
    flights = [r["inputs"]["flight"] for r in records]
    assert len(set(flights)) == len(flights) and set(flights) <= set(range(n))
    for rec in records:
        i = rec["inputs"]["flight"]
        path, row = requests[i]
        body = bodies[i]
        assert rec["route"] == path.split("?")[0] and rec["bundle_id"] == bundle.manifest["bundle_id"]
        assert rec["request_id"] == body["request_id"] and rec["row"] == 0  # the id echoed to the client
        assert _json_row(rec["inputs"]) == row
        served = {k: _decode(v, out_schema[k].dtype) for k, v in body["features"].items()}
        assert set(rec["features"]) == set(served)
        assert all(same_value(rec["features"][k], served[k]) for k in served), i
        if "score" in body:
            assert same_value(rec["score"], body["score"])
    print(f"\nload test, {workers} worker(s), sample rate {sample_rate}: {n} requests, {stats['written']} logged, "
          f"{stats['dropped']} dropped, {stats['sampled_out']} sampled out")


def test_a_log_directory_gone_bad_does_not_touch_serving(bundle_dir, slice_df, tmp_path):
    """The log directory is replaced by a file while serving: every write fails, is counted and
    logged once, and every request is still answered."""
    log_dir = tmp_path / "log"
    rows = [_json_row(r) for r in _test_rows(slice_df).head(40).iter_rows(named=True)]
    with Server(bundle_dir, tmp_path, log_dir=log_dir) as server, \
            httpx.Client(base_url=server.url, timeout=60) as client:
        log_dir.rmdir()  # nothing written yet: the first file is opened with the first record
        log_dir.write_text("a file where the log directory was")
        for row in rows:
            assert client.post("/v1/predict", json=row).status_code == 200
        assert client.get("/readyz").status_code == 200
        deadline = time.monotonic() + 120  # the writer fails in the background: wait for its count
        while _log_metrics(server.url).get("dropped", 0) < len(rows) and time.monotonic() < deadline:
            time.sleep(0.1)
        live = _log_metrics(server.url)
        server.stop()
    assert live["submitted"] == live["dropped"] == len(rows) and live["written"] == 0, live
    text = server.log_text()
    assert text.count("served-feature log") == 1, text[-4000:]  # logged once, not per record
    assert "Traceback" not in text, text[-4000:]


def test_oversized_body_is_413_and_the_connection_stays_usable(bundle_dir, slice_df, tmp_path):
    row = _json_row(_test_rows(slice_df).row(0, named=True))
    big = json.dumps({"rows": [row] * 400}).encode()  # ~100 KB against a 4 KB limit
    with Server(bundle_dir, tmp_path, max_body_bytes=4096) as server, \
            httpx.Client(base_url=server.url, timeout=60) as client:
        for _ in range(3):  # the refused body is not read, yet the kept-alive connection serves the next request
            r = client.post("/v1/predict/batch", content=big, headers={"content-type": "application/json"})
            assert r.status_code == 413 and "4,096 bytes" in r.json()["detail"], r.text
            assert client.post("/v1/predict", json=row).status_code == 200
        server.stop()
    assert "Traceback" not in server.log_text()
