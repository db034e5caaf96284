"""The generated per-request source of every demo feature set and every parity-suite feature set.

Used by ``tests/test_codegen_determinism.py`` (run in subprocesses with different
``PYTHONHASHSEED``) and ``tests/test_codegen_snapshots.py``. Run from the repository root:

    .venv/bin/python tests/generated_sources.py --update-snapshots   # rewrite tests/snapshots/codegen/
    .venv/bin/python tests/generated_sources.py --json OUT.json      # every source, as {name: source}

The fitted demo sets are fitted on the first :data:`FIT_ROWS` flights of January 2013, in memory
on one chunk (a fixed slice and a fixed summation order, so their fitted constants are the same on
every machine).
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOTS = ROOT / "tests" / "snapshots" / "codegen"
FIT_ROWS = 5000


def demo_sets() -> dict[str, object]:
    """``{name: compiled feature set}`` for every FeatureSet in :mod:`skewless.definitions` (fitted ones fitted)."""
    import polars as pl

    import skewless.definitions as definitions
    from skewless import FeatureSet, fit
    from skewless.datasets import load_flights
    from skewless.ir.base import walk
    from skewless.ir.fitted import FittedOp

    out: dict[str, object] = {}
    data = None
    for info in sorted(pkgutil.iter_modules(definitions.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{definitions.__name__}.{info.name}")
        for value in vars(module).values():
            if not isinstance(value, FeatureSet) or value.name in out:
                continue
            if any(isinstance(n, FittedOp) for f in value.features.values() for n in walk(f.node)):
                if not hasattr(module, "training_label"):
                    raise RuntimeError(f"{module.__name__}: a fitted demo set needs training_label() to be fitted here")
                if data is None:
                    data = load_flights().filter(pl.col("month") == 1).head(FIT_ROWS).rechunk()
                rows = data
                if value.lookups is not None:  # the looked-up columns, from the tables' declared sources
                    tables = {name: t.source() for name, t in value.lookups.tables.items()}
                    rows = value.join_lookups(data, tables).collect().rechunk()
                if value.windows is not None:  # the window outputs, from the sources' declared history
                    rows = value.join_windows(rows, None).collect().rechunk()
                # In memory, on one chunk: the streaming engine's float sums (means, stds) depend on the
                # number of threads, so the fitted constants would differ between machines.
                out[value.name] = fit(value, rows, label=module.training_label(), engine="in-memory")
            else:
                out[value.name] = value
    return out


def demo_sources() -> dict[str, str]:
    return {name: fs.python_source() for name, fs in demo_sets().items()}


def parity_sources() -> dict[str, str]:
    sys.path.insert(0, str(ROOT))
    from parity_tests.cases import all_cases

    return {f"parity:{c.name}": c.feature_set().python_source() for c in all_cases()}


def all_sources() -> dict[str, str]:
    return {**demo_sources(), **parity_sources()}


def snapshot_path(name: str) -> Path:
    return SNAPSHOTS / f"{name}.py.txt"


def update_snapshots() -> list[Path]:
    SNAPSHOTS.mkdir(parents=True, exist_ok=True)
    written = []
    for name, source in demo_sources().items():
        path = snapshot_path(name)
        path.write_text(source, encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--json", type=Path, help="write every source to this JSON file")
    group.add_argument("--update-snapshots", action="store_true", help="rewrite the committed snapshots")
    args = parser.parse_args(argv)
    if args.json is not None:
        args.json.write_text(json.dumps(all_sources(), indent=1, sort_keys=True), encoding="utf-8")
    else:
        for path in update_snapshots():
            print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
