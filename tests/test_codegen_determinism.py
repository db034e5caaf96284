"""The same definition generates byte-identical per-request source in any process.

Two fresh interpreters with different hash seeds generate the source of every demo
feature set and every parity-suite feature set; the texts must be equal. (Names in
the source once came from ``id()`` of bound methods, and set iteration order
depends on the hash seed: either would show up here.)
"""

from __future__ import annotations

import difflib
import json
import os
import subprocess
import sys
from pathlib import Path

import generated_sources

SCRIPT = Path(generated_sources.__file__)


def _sources_with_seed(seed: str, out: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    return subprocess.Popen([sys.executable, str(SCRIPT), "--json", str(out)], cwd=SCRIPT.parents[1], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_generated_source_is_identical_across_hash_seeds(tmp_path):
    outs = {seed: tmp_path / f"seed{seed}.json" for seed in ("1", "4242")}
    procs = {seed: _sources_with_seed(seed, path) for seed, path in outs.items()}
    for seed, proc in procs.items():
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, f"PYTHONHASHSEED={seed}: {err}"
    first, second = (json.loads(p.read_text(encoding="utf-8")) for p in outs.values())
    assert first.keys() == second.keys()
    demo = [k for k in first if not k.startswith("parity:")]
    assert {"flights", "flights_fitted"} <= set(demo)
    assert len(first) - len(demo) >= 100, "every parity-suite feature set is compared"
    differ = [k for k in first if first[k] != second[k]]
    if differ:
        k = differ[0]
        diff = "\n".join(difflib.unified_diff(first[k].splitlines(), second[k].splitlines(), "seed 1", "seed 4242",
                                              lineterm=""))
        raise AssertionError(f"{len(differ)} feature sets generate different source, e.g. {k}:\n{diff}")
