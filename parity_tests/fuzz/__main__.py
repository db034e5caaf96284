"""``python -m parity_tests.fuzz --minutes N --seed S [--seeds K] [--json PATH]``: a longer fuzz run."""

from __future__ import annotations

import argparse
import json
import sys

from .run import coverage, memory_guard, report, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m parity_tests.fuzz", description=__doc__)
    parser.add_argument("--minutes", type=float, default=5.0, help="total time budget (split over the seeds)")
    parser.add_argument("--seed", type=int, default=0, help="first seed")
    parser.add_argument("--seeds", type=int, default=1, help="number of consecutive seeds to run")
    parser.add_argument("--json", help="also write the totals and findings as JSON to this path")
    parser.add_argument("--max-rss-gb", type=float, default=4.0,
                        help="end the run (exit 3), printing the case being checked, above this resident memory")
    args = parser.parse_args(argv)
    memory_guard(int(args.max_rss_gb * 2**30))
    if args.minutes <= 0 or args.seeds < 1:
        parser.error("--minutes must be > 0 and --seeds >= 1")
    totals = {"expressions": 0, "feature_sets": 0, "accepted_sets": 0, "rows": 0, "values": 0}
    findings = []
    for seed in range(args.seed, args.seed + args.seeds):
        stats = run(seed, seconds=args.minutes * 60 / args.seeds, log=lambda s: print(s, flush=True))
        print(report(stats), flush=True)
        for k in totals:
            totals[k] += getattr(stats, k)
        findings += [{"seed": seed, "kind": f.kind, "where": f.where, "detail": f.detail, "expr": f.expr,
                      "rows": repr(f.rows)} for f in stats.distinct()]
        cov = coverage(stats)
    bad = [f for f in findings if f["kind"] in ("mismatch", "crash")]
    print(f"total over {args.seeds} seed(s): {totals}; distinct findings: {len(findings)} "
          f"({len(bad)} mismatch or crash)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"totals": totals, "findings": findings, "coverage_last_seed": cov}, fh, indent=1, default=str)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
