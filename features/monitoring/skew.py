"""Row-level skew: recompute every logged row in batch and compare bitwise with what was served.

:func:`skew` reads the served-feature log (the inputs exactly as the service validated them), runs
them through a bundle's polars pipeline — the reference — and compares each served feature with
its recomputed value, row by row: floats bitwise (NaN equals NaN, -0.0 differs from 0.0: the
project's parity rule), every other type exactly, null only equal to null. The served score is
compared with the reference bundle's model on the recomputed features (LightGBM's batch scores
are bitwise equal to its one-row scores).

By default the reference is the bundle that served the rows, so any difference is a serving-side
fault (a patched function, a stale constant, a swapped mapping, a time-zone bug ...). With
``training=`` another bundle or feature set — "what training used" — is the reference: an online
copy of a feature set with hard-coded constants passes its own parity check and self-check, and
is flagged here feature by feature against the fitted state the model was trained with.

Stateful features (from an entity's history as of the request time) do not exist in skewless'
IR yet; every feature is a function of its row, so recomputation needs the logged row only.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .logdata import LogError, load_log, only_bundle, unnest

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

    from skewless.compiled import CompiledFeatureSet
    from skewless.training.bundle import Bundle

__all__ = ["skew", "SkewReport", "FeatureSkew", "mismatch_mask"]

_INDEX = "__skewless_log_row"


@dataclass
class FeatureSkew:
    """One feature (or ``score``): how many logged rows differ from the reference, with examples."""

    name: str
    rows: int
    mismatches: int
    examples: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""

    @property
    def rate(self) -> float:
        return self.mismatches / self.rows if self.rows else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "rows": self.rows, "mismatches": self.mismatches, "rate": self.rate,
                "examples": self.examples, **({"note": self.note} if self.note else {})}


@dataclass
class SkewReport:
    """What :func:`skew` found. ``ok`` when every logged row's features (and score) match exactly."""

    bundle_id: str
    reference: str
    rows: int
    features: list[FeatureSkew]
    score: FeatureSkew | None
    only_served: list[str]
    only_reference: list[str]
    other_bundles: dict[str, int]
    decision_flips: int | None = None
    threshold: float | None = None
    seconds: float = 0.0

    @property
    def mismatched(self) -> list[FeatureSkew]:
        return [f for f in self.features if f.mismatches]

    @property
    def ok(self) -> bool:
        return not self.mismatched and not (self.score and self.score.mismatches) and not self.only_served \
            and not self.only_reference

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "bundle_id": self.bundle_id, "reference": self.reference, "rows": self.rows,
                "mismatched_features": [f.name for f in self.mismatched],
                "features": [f.to_dict() for f in self.features],
                "score": None if self.score is None else self.score.to_dict(),
                "decision_flips": self.decision_flips, "threshold": self.threshold,
                "only_served": self.only_served, "only_reference": self.only_reference,
                "other_bundles": self.other_bundles, "seconds": self.seconds}

    def summary(self) -> str:
        lines = [f"skew: {self.rows:,} logged rows of bundle {self.bundle_id} recomputed with {self.reference}"]
        if self.other_bundles:
            lines.append("  skipped rows of other bundles: " + ", ".join(f"{b} ({n:,})" for b, n in
                                                                           self.other_bundles.items()))
        for name in self.only_served:
            lines.append(f"  {name}: served but not computed by the reference")
        for name in self.only_reference:
            lines.append(f"  {name}: computed by the reference but not served")
        for f in [*self.mismatched, *([self.score] if self.score and self.score.mismatches else [])]:
            lines.append(f"  MISMATCH {f.name}: {f.mismatches:,} of {f.rows:,} rows ({f.rate:.2%})"
                         + (f" — {f.note}" if f.note else ""))
            for ex in f.examples[:3]:
                lines.append(f"    request {ex['request_id']} row {ex['row']}: served {ex['served']}, "
                             f"recomputed {ex['recomputed']}")
        if self.decision_flips:
            what = f"decisions flipped at threshold {self.threshold}" if self.threshold is not None else \
                "predicted class changed"
            lines.append(f"  {what}: {self.decision_flips:,} of "
                         f"{self.score.rows:,} rows ({self.decision_flips / max(1, self.score.rows):.2%})")
        if self.ok:
            lines.append(f"  0 mismatches: every feature of every row{' and every score' if self.score else ''} "
                         f"is bitwise identical ({len(self.features)} features)")
        lines.append(f"  ({self.seconds:.2f}s, {self.rows / max(self.seconds, 1e-9):,.0f} rows/s)")
        return "\n".join(lines)


def mismatch_mask(served: "pl.Series", ref: "pl.Series") -> Any:
    """numpy bool mask of the rows where ``served`` and ``ref`` differ (floats bitwise; NaN == NaN)."""
    import numpy as np
    import polars as pl

    if served.dtype != ref.dtype:
        return np.ones(len(served), dtype=bool)
    na, nb = served.is_null().to_numpy(), ref.is_null().to_numpy()
    if served.dtype == pl.Float64:
        a = served.fill_null(0.0).to_numpy().astype(np.float64, copy=False)
        b = ref.fill_null(0.0).to_numpy().astype(np.float64, copy=False)
        differ = (a.view(np.int64) != b.view(np.int64)) & ~(np.isnan(a) & np.isnan(b))
        return (na != nb) | (~na & ~nb & differ)
    return ~served.eq_missing(ref).to_numpy()


def _value(v: Any) -> Any:
    """A value for the JSON report and the text summary (floats exactly, as repr)."""
    if hasattr(v, "to_list"):  # a List value read from a polars Series is a Series
        v = v.to_list()
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, (list, tuple)):  # a multiclass model's probabilities
        return [_value(x) for x in v]
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if hasattr(v, "total_seconds"):
        return f"{v.total_seconds()}s"
    return v


def _examples(frame: "pl.DataFrame", mask: Any, served: "pl.Series", ref: "pl.Series", k: int) -> list[dict]:
    import numpy as np

    idx = np.flatnonzero(mask)[:k]
    rid, row = frame["request_id"], frame["row"]
    return [{"request_id": rid[int(i)], "row": int(row[int(i)]), "served": _value(served[int(i)]),
             "recomputed": _value(ref[int(i)])} for i in idx]


def _load_reference(training: "str | os.PathLike | Bundle | CompiledFeatureSet") -> tuple[Any, Any, str]:
    """(transformer, bundle or None, description) of ``training``: a bundle path, Bundle, or feature set."""
    from skewless.training.bundle import Bundle, load_bundle

    if isinstance(training, (str, os.PathLike)):
        b = load_bundle(Path(training))
        return b.transformer, b, f"bundle {str(b.path)!r} ({b.manifest['bundle_id']})"
    if isinstance(training, Bundle):
        return training.transformer, training, f"bundle {str(training.path)!r} ({training.manifest['bundle_id']})"
    return training, None, f"feature set {training.name!r}"


def _class_skew(sub: "pl.DataFrame", want: Any, classes: list[str], examples: int) -> tuple[FeatureSkew, int]:
    """The score skew of a multiclass model: a row differs when any class's probability differs (bitwise);
    ``flips`` counts rows whose predicted class (the first maximum, as the service's label) differs."""
    import numpy as np
    import polars as pl

    if "probabilities" not in sub.columns:
        raise LogError("the log holds no class probabilities (a log written before they were logged): "
                       "compare with check_score=False")
    got = sub["probabilities"]
    lengths = got.list.len().fill_null(0).to_numpy()
    if (lengths != want.shape[1]).any():
        raise LogError(f"logged rows hold {sorted(set(lengths.tolist()))} class probabilities, the reference "
                       f"model {want.shape[1]} ({classes})")
    got_matrix = np.asarray(got.to_list(), dtype=np.float64)
    mask = np.zeros(sub.height, dtype=bool)
    for k in range(want.shape[1]):
        mask |= mismatch_mask(pl.Series(got_matrix[:, k]), pl.Series(want[:, k]))
    want_series = pl.Series("probabilities", want.tolist(), dtype=pl.List(pl.Float64))
    flips = int(np.count_nonzero(got_matrix.argmax(axis=1) != want.argmax(axis=1)))
    return FeatureSkew("score", sub.height, int(mask.sum()), _examples(sub, mask, got, want_series, examples)), flips


def skew(log: Any, bundle: "str | os.PathLike | Bundle", *,
         training: "str | os.PathLike | Bundle | CompiledFeatureSet | None" = None, examples: int = 5, check_score: bool = True) -> SkewReport:
    """Recompute every row ``bundle`` served (from ``log``) and compare bitwise, feature by feature.

    Parameters
    ----------
    log : path or polars frame
        The served-feature log directory (or its records, :func:`skewless.monitoring.logdata.load_log`).
    bundle : path or Bundle
        The bundle that served the rows (rows of other bundles in the log are skipped, counted).
    training : path, Bundle, FeatureSet or FittedFeatureSet, optional
        The reference to recompute with ("what training used"); default: ``bundle`` itself.
    examples : int
        Example rows (request id, served and recomputed value) kept per mismatched feature.
    check_score : bool
        Also compare the served score with the reference bundle's model on the recomputed features.

    Returns
    -------
    SkewReport
    """
    import time

    import numpy as np
    import polars as pl

    from skewless.training.bundle import Bundle, load_bundle

    started = time.perf_counter()
    served_bundle = bundle if isinstance(bundle, Bundle) else load_bundle(Path(bundle))
    bundle_id = served_bundle.manifest["bundle_id"]
    frame, others = only_bundle(load_log(log), bundle_id)
    if frame.height == 0:
        raise LogError(f"the log holds no rows served by bundle {bundle_id}"
                       + (f" (only by: {', '.join(others)})" if others else ""))
    if training is None:
        transformer, ref_bundle = served_bundle.transformer, served_bundle
        reference = f"the serving bundle's own pipeline ({bundle_id})"
    else:
        transformer, ref_bundle, reference = _load_reference(training)
    inputs = unnest(frame, "inputs")
    needed = list(transformer.input_schema())
    missing = [n for n in needed if n not in inputs.columns]
    if missing:
        raise LogError(f"the reference needs input(s) the log does not hold: {', '.join(missing)}")
    recomputed = (transformer.transform(inputs.select(needed).with_row_index(_INDEX), keep=(_INDEX,))
                  .collect().sort(_INDEX))
    if recomputed.height != frame.height:
        raise LogError(f"internal: recomputed {recomputed.height} rows for {frame.height} logged")
    served = unnest(frame, "features")
    ref_names = [c for c in recomputed.columns if c != _INDEX]
    only_served = [n for n in served.columns if n not in ref_names]
    only_reference = [n for n in ref_names if n not in served.columns]
    results = []
    for name in [n for n in served.columns if n in ref_names]:
        a, b = served[name], recomputed[name]
        mask = mismatch_mask(a, b)
        note = f"dtype {a.dtype} served, {b.dtype} recomputed" if a.dtype != b.dtype else ""
        results.append(FeatureSkew(name, frame.height, int(mask.sum()), _examples(frame, mask, a, b, examples), note))

    score = flips = threshold = None
    if check_score and ref_bundle is not None and "score" in frame.columns and not only_reference:
        scored = frame["score"].is_not_null().to_numpy()
        if scored.any():
            feats = recomputed.filter(pl.Series(scored))
            sub = frame.filter(pl.Series(scored))
            want_scores = np.asarray(ref_bundle.score_features(feats.drop(_INDEX)), dtype=np.float64)
            if want_scores.ndim == 2:  # a multiclass model: every class's probability, bitwise
                score, flips = _class_skew(sub, want_scores, ref_bundle.classes, examples)
            else:
                want = pl.Series("score", want_scores, dtype=pl.Float64)
                got = sub["score"]
                mask = mismatch_mask(got, want)
                score = FeatureSkew("score", sub.height, int(mask.sum()), _examples(sub, mask, got, want, examples))
                threshold = ref_bundle.threshold
                if threshold is not None:
                    flips = int(np.count_nonzero((got.to_numpy() >= threshold) != (want.to_numpy() >= threshold)))
    return SkewReport(bundle_id, reference, frame.height, results, score, only_served, only_reference, others,
                      flips, threshold, time.perf_counter() - started)
