"""Hostile bodies against the real server: answered fast, small, and without stalling other requests.

    .venv/bin/python -m benchmarks.hostile               # 5 rounds per body
    .venv/bin/python -m benchmarks.hostile --no-append

Starts ``python -m skewless.serving`` (uvicorn, one worker) on 127.0.0.1 with the demo bundle
(``out/demo/bundle``; built with ``skewless demo`` when missing). For each hostile body, each round:
one client sends it (on its own connection) while a second client polls ``GET /readyz`` every 5 ms
on another; reported: the hostile request's time to its full answer, the answer's size and status,
and the worst and median ``/readyz`` latency seen while it was in flight. The peer, side by side:
the same hostile body sent to ``/healthz``-like cheap work is not meaningful, so the reference is
an ordinary valid ``/v1/predict`` request measured the same way.

Bodies (issue 14, finding 1):

* ``700k unknown keys`` — ``{"k0": 0, ..., "k699999": 699999}`` (8 MB) to ``POST /v1/predict``;
* ``5k unknown keys`` — a valid row plus 5,000 unknown keys (under ``max_row_bytes``);
* ``invalid JSON 1 MB`` — ``{"month": 111...`` (1 MB, unterminated);
* ``batch of 1 row x 400k unknown keys`` — 7 MB, under ``max_body_bytes``: answered from
  serving/prescan.py without pydantic's per-key errors;
* ``batch flood`` — ``POST /v1/predict/batch`` with 1,000 rows of 60 unknown keys each (60,000 errors);
* ``valid row`` — the reference.

Targets (issue 14; reported, not asserted): the 700,000-key body answered in <= 100 ms with a
response <= 16 KB while ``/readyz`` stays under 50 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from ._common import machine_info, machine_line

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _bundle() -> Path:
    bundle = ROOT / "out" / "demo" / "bundle"
    try:
        from skewless.bundle import load_bundle

        load_bundle(bundle)
    except Exception:
        subprocess.run([sys.executable, "-m", "skewless", "demo", "--out", str(ROOT / "out" / "demo")], cwd=ROOT,
                       check=True)
    return bundle


def _row(bundle: Path) -> dict:
    doc = json.loads((bundle / "golden_rows.json").read_text())
    return next(r["inputs"] for r in doc["rows"] if not any(isinstance(v, dict) for v in r["inputs"].values()))


def _bodies(row: dict) -> dict[str, tuple[str, bytes]]:
    return {
        "700k unknown keys": ("/v1/predict", json.dumps({f"k{i}": i for i in range(700_000)}).encode()),
        "5k unknown keys": ("/v1/predict", json.dumps(dict(row, **{f"x{i}": i for i in range(5000)})).encode()),
        "invalid JSON 1 MB": ("/v1/predict", b'{"month": ' + b"1" * 1_000_000),
        "batch flood": ("/v1/predict/batch",
                        json.dumps({"rows": [dict(row, **{f"x{i}": i for i in range(60)})] * 1000}).encode()),
        "batch of 1 row x 400k unknown keys": ("/v1/predict/batch",
                                               json.dumps({"rows": [{f"k{i}": i for i in range(400_000)}]}).encode()),
        "valid row": ("/v1/predict", json.dumps(row).encode()),
    }


class _Poller(threading.Thread):
    """GET /readyz every 5 ms on its own connection; latencies recorded while ``active`` is set."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url, self.active, self.stop, self.samples = url, threading.Event(), threading.Event(), []

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as c:
            while not self.stop.is_set():
                t = time.perf_counter()
                c.get("/readyz")
                if self.active.is_set():
                    self.samples.append(time.perf_counter() - t)
                time.sleep(0.005)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--no-append", action="store_true")
    a = ap.parse_args()
    info = machine_info()
    bundle = _bundle()
    row = _row(bundle)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKEWLESS_SERVE_")}
    proc = subprocess.Popen([sys.executable, "-m", "skewless.serving", "--bundle", str(bundle), "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rows = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/readyz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        poller = _Poller(url)
        poller.start()
        time.sleep(0.2)
        for name, (path, body) in _bodies(row).items():
            times, worst, medians, sizes, statuses = [], [], [], set(), set()
            for _ in range(a.rounds):
                with httpx.Client(base_url=url, timeout=120) as c:
                    poller.samples = []
                    poller.active.set()
                    t = time.perf_counter()
                    r = c.post(path, content=body, headers={"content-type": "application/json"})
                    times.append(time.perf_counter() - t)
                    time.sleep(0.02)  # one more poll after the answer
                    poller.active.clear()
                    sizes.add(len(r.content))
                    statuses.add(r.status_code)
                    samples = poller.samples or [float("nan")]
                    worst.append(max(samples))
                    medians.append(statistics.median(samples))
                time.sleep(0.1)
            rows.append((name, path, len(body), sorted(statuses), max(sizes), statistics.median(times), max(times),
                         max(worst), statistics.median(medians)))
        poller.stop.set()
    finally:
        proc.terminate()
        proc.wait(60)
    head = ("| body | endpoint | body bytes | status | answer bytes (max) | answer ms (median / max) | "
            "/readyz ms during it (worst / median) |")
    lines = [head, "| --- | --- | --- | --- | --- | --- | --- |"]
    for name, path, size, status, answer, med, mx, w, m in rows:
        lines.append(f"| {name} | `{path}` | {size:,} | {'/'.join(map(str, status))} | {answer:,} | "
                     f"{med * 1e3:.1f} / {mx * 1e3:.1f} | {w * 1e3:.1f} / {m * 1e3:.1f} |")
    flood = next(r for r in rows if r[0] == "700k unknown keys")
    verdict = ("met" if flood[6] <= 0.100 and flood[4] <= 16 * 1024 and flood[7] < 0.050 else "MISSED")
    table = "\n".join(lines)
    print(machine_line(info))
    print(table)
    print(f"target (700k keys <= 100 ms, answer <= 16 KB, /readyz < 50 ms; worst of {a.rounds} rounds): {verdict}")
    if not a.no_append:
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        with RESULTS.open("a", encoding="utf-8") as fh:
            fh.write(f"\n## {stamp} — hostile bodies (`python -m benchmarks.hostile`)\n\n"
                     f"Machine: {machine_line(info)}\n\nOne uvicorn worker on 127.0.0.1, the demo bundle; each body "
                     f"{a.rounds} times on a fresh connection while a second client polls `/readyz` every 5 ms. "
                     f"Target: the 700,000-unknown-key body answered in ≤ 100 ms, answer ≤ 16 KB, `/readyz` "
                     f"< 50 ms meanwhile (worst round): **{verdict}**.\n\n{table}\n")


if __name__ == "__main__":
    main()
