"""HTTP throughput and latency: the skewless service under wrk, against two FastAPI peers.

    .venv/bin/python -m benchmarks.http              # 10 s per run, 3 rounds: ~5 minutes
    .venv/bin/python -m benchmarks.http --quick      # 3 s per run, 1 round: ~1 minute
    .venv/bin/python -m benchmarks.http --no-append

Servers (each uvicorn in its own process on 127.0.0.1, one worker, ``--loop uvloop
--http httptools``, access log off; started once, kept up for the whole run):

* ``skewless`` - ``skewless.serving.app:app_from_env`` on the demo bundle (``out/demo/bundle``, built
  with ``skewless demo`` when missing), ``POST /v1/predict``;
* ``bare``     - a FastAPI ``POST`` endpoint that parses the body and answers a constant JSON
  body of the same size as the service's answer (``benchmarks/http_peers.py``): the floor;
* ``polars``   - the service's endpoint (same request model, encoding and booster) computing
  the features with polars on a one-row frame;
* ``bare-sync`` (only with ``--peers ...,bare-sync``) - ``bare`` as a plain ``def`` endpoint;
* ``lean`` (only with ``--peers ...,lean``) - the service's work in one ``async def`` endpoint
  and nothing else: no metrics, no feature log (``benchmarks/http_peers.py``);
* ``skewless-omp1`` (only with ``--peers ...,skewless-omp1``) - the service with
  ``OMP_NUM_THREADS=1`` in its environment, so LightGBM predicts on the request's thread
  instead of waking an OpenMP team for one row.

Load: `wrk <https://github.com/wg/wrk>`_ (Debian package ``wrk``, installed with ``apt-get`` when
missing), one thread, ``--latency``, a Lua script rotating over a few hundred real request bodies
(the bundle's golden rows and flights rows). Every body is first checked to get a 200 from each
server, and the polars peer's scores are checked equal to the service's.

For each concurrency (1, 16, 64) and each round, every server gets one timed run, in a rotating
order (A B C, B C A, ...). Reported per server and concurrency: requests/s, p50 and p99 latency
(medians over the rounds), the server's CPU time per request (``/proc/<pid>/stat``: user +
system, so a loaded machine inflates it less than it inflates latency), and ratios per round
(skewless / bare, polars / skewless) then medianed. Then an in-process breakdown of one
``/v1/predict`` request: JSON parsing + validation, features, encoding, LightGBM, response
rendering, each timed alone, next to the server's CPU µs per request (the rest is framework).

Target (reported, not asserted): ``/v1/predict`` >= 5,000 requests/s with p99 <= 5 ms at
concurrency 16 on one worker.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from . import _common as C

ROOT = C.HERE.parent
BUNDLE = ROOT / "out" / "demo" / "bundle"
TARGET_RPS = 5000.0
TARGET_P99_MS = 5.0
TARGET_CONCURRENCY = 16
PEERS = {
    "skewless": "skewless.serving.app:app_from_env",
    "skewless-omp1": "skewless.serving.app:app_from_env",
    "bare": "benchmarks.http_peers:bare_app",
    "polars": "benchmarks.http_peers:polars_app",
    "bare-sync": "benchmarks.http_peers:bare_sync_app",
    "lean": "benchmarks.http_peers:lean_app",
}
PATH = "/v1/predict"


# --------------------------------------------------------------------------- setup


def ensure_wrk() -> str:
    """The path of ``wrk``; installed from the Debian package when missing."""
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is not installed: running `apt-get install -y wrk` (Debian package)")
    cmd = ["apt-get", "install", "-y", "wrk"]
    if os.geteuid() != 0:
        if not shutil.which("sudo"):
            raise SystemExit("wrk is missing and this is not root (no sudo): install the Debian package `wrk`")
        cmd = ["sudo", *cmd]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode != 0:  # the package lists may be missing on a fresh image
        subprocess.run([*cmd[:-3], "update"], env=env, capture_output=True)
        r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit(f"could not install wrk:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    print(f"installed {found}")
    return found


def ensure_bundle(path: Path) -> Path:
    """``path`` when it holds a bundle that loads; else the demo bundle (re)built with ``skewless demo``."""
    from skewless.training.bundle import load_bundle

    if (path / "manifest.json").is_file():
        try:
            load_bundle(path)
            return path
        except Exception as exc:  # e.g. stale: the generated source changed since the bundle was made
            if path != BUNDLE:
                raise SystemExit(f"cannot load the bundle at {path}: {exc}")
            print(f"the demo bundle at {path} does not load ({type(exc).__name__}: {exc});")
    else:
        print(f"no demo bundle at {path};")
    print("building it with `skewless demo` (about a minute)", flush=True)
    skewless = ROOT / ".venv" / "bin" / "skewless"
    cmd = [str(skewless), "demo"] if skewless.exists() else [sys.executable, "-m", "skewless", "demo"]
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    load_bundle(path)
    return path


def request_bodies(bundle_path: Path, n_flights: int, seed: int = 0) -> list[bytes]:
    """JSON request bodies: the bundle's golden rows, then ``n_flights`` sampled flights rows (shuffled)."""
    from skewless.datasets import load_flights
    from skewless.training.bundle import GOLDEN_FILE, encode_value, load_bundle

    bundle = load_bundle(bundle_path)
    schema = bundle.transformer.input_schema()
    golden = json.loads((bundle_path / GOLDEN_FILE).read_text())["rows"]
    rows = [g["inputs"] for g in golden]
    df = load_flights().select(list(schema)).sample(n_flights, seed=seed)
    rows += [{k: encode_value(v, schema[k].dtype) for k, v in r.items()} for r in df.iter_rows(named=True)]
    random.Random(seed).shuffle(rows)
    # ensure_ascii: the bodies go into a Lua string literal where only \ and " need escaping.
    return [json.dumps(r, separators=(",", ":"), ensure_ascii=True).encode() for r in rows]


def lua_script(bodies: list[bytes], path: str) -> str:
    """A wrk script sending ``bodies`` in turn and printing its own result line."""
    def lit(b: bytes) -> str:
        return '"' + b.decode("ascii").replace("\\", "\\\\").replace('"', '\\"') + '"'

    items = ",\n".join(lit(b) for b in bodies)
    return f"""-- generated by benchmarks/http.py
local bodies = {{
{items}
}}
local reqs = {{}}
local i = 0
function init(args)
  for k, b in ipairs(bodies) do
    reqs[k] = wrk.format("POST", "{path}", {{["Content-Type"] = "application/json"}}, b)
  end
end
function request()
  i = i % #reqs + 1
  return reqs[i]
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "SKEWLESS_RESULT requests=%d duration_us=%d bytes=%d connect=%d read=%d write=%d status=%d timeout=%d "
    .. "p50_us=%d p90_us=%d p99_us=%d max_us=%d mean_us=%.1f\\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method: str, url: str, body: bytes | None = None, timeout: float = 10.0) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


class Server:
    """One uvicorn process serving ``factory`` on a free port."""

    def __init__(self, name: str, factory: str, env: dict[str, str]):
        self.name, self.port = name, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "uvicorn", factory, "--factory", "--host", "127.0.0.1", "--port",
               str(self.port), "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level",
               "warning"]
        self.log = tempfile.NamedTemporaryFile(prefix=f"skewless-http-{name}-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=self.log,
                                     stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 120.0) -> None:
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.name} server exited ({self.proc.returncode}); log:\n{self.tail()}")
            try:
                status, body = http("GET", self.url + "/readyz", timeout=2.0)
                if status == 200:
                    return
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.2)
        raise SystemExit(f"{self.name} server not ready after {timeout:.0f} s; log:\n{self.tail()}")

    def tail(self) -> str:
        return Path(self.log.name).read_text(errors="replace")[-3000:]

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process (all its threads)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        Path(self.log.name).unlink(missing_ok=True)


# --------------------------------------------------------------------------- load


def run_wrk(wrk: str, server: Server, script: str, connections: int, seconds: float) -> dict[str, Any]:
    cpu0 = server.cpu_seconds()
    cmd = [wrk, "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s", "--latency", "-s", script,
           server.url + PATH]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    cpu = server.cpu_seconds() - cpu0
    line = next((ln for ln in r.stdout.splitlines() if ln.startswith("SKEWLESS_RESULT")), None)
    if r.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed on {server.name}: {r.stdout}\n{r.stderr}")
    vals = {k: float(v) for k, v in (kv.split("=") for kv in line.split()[1:])}
    n = vals["requests"]
    errors = sum(vals[k] for k in ("connect", "read", "write", "status", "timeout"))
    return {
        "rps": n / (vals["duration_us"] / 1e6),
        "p50_ms": vals["p50_us"] / 1000, "p90_ms": vals["p90_us"] / 1000, "p99_ms": vals["p99_us"] / 1000,
        "max_ms": vals["max_us"] / 1000, "requests": int(n), "errors": int(errors),
        "cpu_us_per_req": cpu / n * 1e6 if n else float("nan"),
    }


def check_servers(servers: dict[str, Server], bodies: list[bytes]) -> bytes:
    """Every body gets a 200 from every server; polars scores equal the service's. Returns a service answer."""
    first = None
    for i, body in enumerate(bodies):
        answers = {}
        for name, s in servers.items():
            status, out = http("POST", s.url + PATH, body)
            if status != 200:
                raise SystemExit(f"{name} answered {status} to sample body {i}: {out[:500]!r}\nbody={body!r}")
            answers[name] = out
        for peer in ("polars", "skewless-omp1", "lean"):
            if peer in answers:
                a, b = json.loads(answers["skewless"]), json.loads(answers[peer])
                if a["score"] != b["score"] or a.get("label") != b.get("label"):
                    raise SystemExit(f"{peer}'s answer {b} differs from the service's {a} on body {body!r}")
        first = first or answers.get("skewless")
    return first or b""


# --------------------------------------------------------------------------- breakdown


def breakdown(bundle_path: Path, bodies: list[bytes], reps: int = 5) -> dict[str, tuple[float, float]]:
    """Median wall and CPU µs of each step of one ``/v1/predict`` request, timed in this process.

    The steps follow the service's path: the request model validated from the JSON bytes, the
    generated function, the model-input encoding, the score (``ServedBundle.predict_one``:
    LightGBM's single-row C API, when the service has it), the orjson response. CPU time is the
    whole process's (``CLOCK_PROCESS_CPUTIME_ID``), so it would include OpenMP threads. The
    ``Booster.predict`` row is not part of the request: the same prediction through LightGBM's
    Python API (what the service called before its single-row path).
    """
    import numpy as np
    import orjson

    from skewless.serving.bundle_loader import load_served_bundle
    from skewless.serving.schemas import request_model

    served = load_served_bundle(bundle_path)
    served.load_model()
    in_schema = served.bundle.transformer.input_schema()
    Inputs = request_model(served.manifest["feature_set"]["name"], in_schema)
    encode = served.bundle.inputs.encode_row
    booster = served.booster
    predict_one = getattr(served, "predict_one", None) or (
        lambda r: float(booster.predict(np.asarray([r], dtype=np.float64))[0]))
    names = ("json + validation", "features (row_fn)", "model-input encoding", "LightGBM score (1 row)",
             "response JSON", "LightGBM Booster.predict (1 row)")
    steps: dict[str, list[tuple[float, float]]] = {k: [] for k in names}
    for _ in range(reps):
        per: dict[str, list[tuple[int, int]]] = {k: [] for k in steps}
        for body in bodies:
            marks = [(time.perf_counter_ns(), time.process_time_ns())]
            inputs = Inputs.model_validate_json(body)
            row = {k: getattr(inputs, k) for k in in_schema}
            marks.append((time.perf_counter_ns(), time.process_time_ns()))
            feats = served.row_fn(row)
            marks.append((time.perf_counter_ns(), time.process_time_ns()))
            x = encode(feats)
            marks.append((time.perf_counter_ns(), time.process_time_ns()))
            score = predict_one(x)
            marks.append((time.perf_counter_ns(), time.process_time_ns()))
            orjson.dumps({"score": score, "label": served.label(score)})
            marks.append((time.perf_counter_ns(), time.process_time_ns()))
            booster.predict(np.asarray([x], dtype=np.float64))
            marks.append((time.perf_counter_ns(), time.process_time_ns()))
            for k, a, b in zip(steps, marks, marks[1:]):
                per[k].append((b[0] - a[0], b[1] - a[1]))
        for k in steps:
            steps[k].append((C.median(w for w, _ in per[k]) / 1000, C.median(c for _, c in per[k]) / 1000))
    return {k: (C.median(w for w, _ in v), C.median(c for _, c in v)) for k, v in steps.items()}


# --------------------------------------------------------------------------- report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=10.0, help="duration of each timed wrk run")
    ap.add_argument("--rounds", type=int, default=3, help="timed runs per server and concurrency")
    ap.add_argument("--concurrency", default="1,16,64", help="comma-separated wrk connection counts")
    ap.add_argument("--peers", default="skewless,bare,polars", help=f"comma-separated, of {', '.join(PEERS)}")
    ap.add_argument("--bodies", type=int, default=300, help="flights rows added to the golden rows as bodies")
    ap.add_argument("--bundle", type=Path, default=BUNDLE)
    ap.add_argument("--quick", action="store_true", help="smoke run: 3 s per run, 1 round")
    ap.add_argument("--no-append", action="store_true", help="do not append to benchmarks/RESULTS.md")
    args = ap.parse_args(argv)
    if args.quick:
        args.seconds, args.rounds = 3.0, 1
    peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    if "skewless" not in peers or any(p not in PEERS for p in peers):
        raise SystemExit(f"--peers must include skewless and name only {', '.join(PEERS)}")
    levels = [int(c) for c in args.concurrency.split(",")]

    wrk = ensure_wrk()
    bundle = ensure_bundle(args.bundle.resolve())
    info = C.machine_info()
    wrk_version = subprocess.run([wrk, "-v"], capture_output=True, text=True).stdout.splitlines()[0:1]
    import fastapi
    import uvicorn

    info["fastapi"], info["uvicorn"] = fastapi.__version__, uvicorn.__version__
    info["wrk"] = (wrk_version[0].split()[1] if wrk_version and len(wrk_version[0].split()) > 1 else "unknown")
    C.print_machine(info)
    t_start = time.perf_counter()

    bodies = request_bodies(bundle, args.bodies)
    sizes = sorted(len(b) for b in bodies)
    print(f"{len(bodies)} request bodies ({sizes[0]}-{sizes[-1]} bytes)")
    script = tempfile.NamedTemporaryFile("w", prefix="skewless-wrk-", suffix=".lua", delete=False)
    script.write(lua_script(bodies, PATH))
    script.close()

    servers: dict[str, Server] = {}
    try:
        servers["skewless"] = Server("skewless", PEERS["skewless"], {"SKEWLESS_SERVE_BUNDLE": str(bundle)})
        servers["skewless"].wait_ready()
        status, sample = http("POST", servers["skewless"].url + PATH, bodies[0])
        if status != 200:
            raise SystemExit(f"the service answered {status}: {sample[:500]!r}")
        env = {"SKEWLESS_BENCH_BODY": sample.decode(), "SKEWLESS_BENCH_BUNDLE": str(bundle)}
        for p in peers:
            if p == "skewless-omp1":
                servers[p] = Server(p, PEERS[p], {"SKEWLESS_SERVE_BUNDLE": str(bundle), "OMP_NUM_THREADS": "1"})
            elif p != "skewless":
                servers[p] = Server(p, PEERS[p], env)
        for s in servers.values():
            s.wait_ready()
        answer = check_servers(servers, bodies)
        print(f"all {len(bodies)} bodies answered 200 by every server; the service answers "
              f"{len(answer)} bytes (e.g. {answer.decode()}); bare answers {len(sample)} bytes")
        for s in servers.values():  # warm up: imports, caches, the threadpool, polars' plugins
            run_wrk(wrk, s, script.name, 16, min(2.0, args.seconds))

        runs: dict[tuple[str, int], list[dict[str, Any]]] = {(p, c): [] for p in servers for c in levels}
        loads: list[float] = []
        for c in levels:
            for rnd in range(args.rounds):
                order = peers[rnd % len(peers):] + peers[:rnd % len(peers)]
                loads.append(os.getloadavg()[0])
                for p in order:
                    res = run_wrk(wrk, servers[p], script.name, c, args.seconds)
                    runs[(p, c)].append(res)
                    print(f"  c={c:3d} round {rnd + 1} {p:10s} {res['rps']:9,.0f} req/s  p50 {res['p50_ms']:7.2f} ms"
                          f"  p99 {res['p99_ms']:7.2f} ms  cpu {res['cpu_us_per_req']:6.0f} µs/req"
                          f"  errors {res['errors']}")
    finally:
        for s in servers.values():
            s.stop()
        Path(script.name).unlink(missing_ok=True)

    print("\nin-process breakdown of one /v1/predict request (median µs over the bodies):")
    try:
        parts = breakdown(bundle, bodies)
    except Exception as exc:  # the serving internals it reaches into may have changed: keep the runs
        print(f"   breakdown skipped: {type(exc).__name__}: {exc}")
        parts = {}
    for k, (w, c) in parts.items():
        print(f"   {k:34s} wall {w:8.1f} µs   cpu {c:8.1f} µs")
    elapsed = time.perf_counter() - t_start
    print(f"\ntotal {elapsed:.0f} s; load average at the end {C.load_average()}")

    body = report(args, peers, levels, runs, parts, bodies, len(sample), loads, elapsed)
    print("\n" + body)
    if not args.no_append:
        C.append_results("HTTP (wrk)", info, C.command_line(), body)
    return 0


def _med(runs: list[dict[str, Any]], key: str) -> float:
    return C.median(r[key] for r in runs)


def _ratio(runs, a: str, b: str, c: int, key: str) -> tuple[float, float, float]:
    rs = [x[key] / y[key] for x, y in zip(runs[(a, c)], runs[(b, c)])]
    return C.median(rs), min(rs), max(rs)


def report(args, peers, levels, runs, parts, bodies, answer_bytes, loads, elapsed) -> str:
    header = ["server", "concurrency", "req/s", "p50 ms", "p99 ms", "server CPU µs/req", "errors"]
    rows = []
    for p in peers:
        for c in levels:
            rs = runs[(p, c)]
            rows.append([p, c, C.fmt(_med(rs, "rps")), C.fmt(_med(rs, "p50_ms")), C.fmt(_med(rs, "p99_ms")),
                         C.fmt(_med(rs, "cpu_us_per_req")), sum(r["errors"] for r in rs)])
    ratio_header = ["concurrency", "skewless / bare req/s", "skewless / bare p99"]
    if "polars" in peers:
        ratio_header += ["skewless / polars req/s", "polars / skewless p99"]
    if "bare-sync" in peers:
        ratio_header += ["bare-sync / bare req/s"]
    if "skewless-omp1" in peers:
        ratio_header += ["skewless-omp1 / skewless req/s"]
    if "lean" in peers:
        ratio_header += ["lean / skewless req/s"]
    ratio_rows = []
    for c in levels:
        row: list[Any] = [c]

        def cell(a, b, key):
            m, lo, hi = _ratio(runs, a, b, c, key)
            return f"{m:.2f}× ({lo:.2f}–{hi:.2f})"

        if "bare" in peers:
            row += [cell("skewless", "bare", "rps"), cell("skewless", "bare", "p99_ms")]
        else:
            row += ["", ""]
        if "polars" in peers:
            row += [cell("skewless", "polars", "rps"), cell("polars", "skewless", "p99_ms")]
        if "bare-sync" in peers:
            row += [cell("bare-sync", "bare", "rps")]
        if "skewless-omp1" in peers:
            row += [cell("skewless-omp1", "skewless", "rps")]
        if "lean" in peers:
            row += [cell("lean", "skewless", "rps")]
        ratio_rows.append(row)
    t = runs.get(("skewless", TARGET_CONCURRENCY))
    verdict = ""
    if t:
        rps, p99 = _med(t, "rps"), _med(t, "p99_ms")
        verdict = (f"Target at concurrency {TARGET_CONCURRENCY} (≥ {TARGET_RPS:,.0f} req/s, p99 ≤ {TARGET_P99_MS:g} ms): "
                   f"**{rps:,.0f} req/s** ({rps / TARGET_RPS:.2f}× the target: "
                   f"{'met' if rps >= TARGET_RPS else 'MISSED'}), **p99 {p99:.2f} ms** "
                   f"({'met' if p99 <= TARGET_P99_MS else 'MISSED'}).\n\n")
    if not parts:
        part_rows = [["breakdown not measured (see the script's output)", "", ""]]
    in_request = [k for k in parts if "Booster.predict" not in k]
    wall, cpu = sum(parts[k][0] for k in in_request), sum(parts[k][1] for k in in_request)
    if parts:
        part_rows = [[k if k in in_request else f"(not in the request) {k}", f"{w:.1f}", f"{c:.1f}"]
                     for k, (w, c) in parts.items()]
        part_rows.insert(len(in_request), ["**sum of the request's steps**", f"**{wall:.1f}**", f"**{cpu:.1f}**"])
    for p in peers:
        part_rows.append([f"{p}: server CPU per request at concurrency {levels[0]} (runs above)", "",
                          f"{_med(runs[(p, levels[0])], 'cpu_us_per_req'):.0f}"])
    return (
        f"uvicorn, 1 worker, uvloop + httptools, access log off, on 127.0.0.1; wrk 1 thread, "
        f"{args.seconds:g} s per run, {args.rounds} round(s) per concurrency, servers in rotating order; "
        f"{len(bodies)} request bodies rotated (golden rows + flights rows), service answer "
        f"{answer_bytes} bytes (the bare peer answers the same bytes). Medians over the rounds; ratios per round, then "
        f"medianed (range in brackets). The load generator shares the machine's cores with the server. "
        f"Load average during the runs {min(loads):.1f}–{max(loads):.1f}; total {elapsed:.0f} s.\n\n"
        + verdict + C.md_table(header, rows) + "\n\n" + C.md_table(ratio_header, ratio_rows)
        + "\n\nOne `/v1/predict` request, step by step in one process (median µs over the bodies; CPU is the "
        "whole process's; the framework's share is the server's CPU per request minus "
        "the sum):\n\n"
        + C.md_table(["step", "wall µs", "CPU µs"], part_rows)
    )


if __name__ == "__main__":
    sys.exit(main())
