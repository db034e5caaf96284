"""Load a bundle for serving, without polars.

The feature set is imported from the spec in the manifest and verified against the bundle's
fingerprints (:func:`skewless.training.bundle.load_bundle`); the fitted state is read with
:func:`skewless.artifact.load` (pydantic, no polars). The LightGBM model is read from its text
file into a :class:`lightgbm.Booster`, which predicts on a float64 numpy row whose column order is
the manifest's model inputs (``manifest["model"]["inputs"]``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

import numpy as np

from skewless.training.bundle import MODEL_FILE, Bundle, load_bundle, same_value

from .fast_predict import single_row_predictor

__all__ = ["ServedBundle", "load_served_bundle"]


@dataclass
class ServedBundle:
    """A bundle ready to serve: per-request features, encoding and booster."""

    bundle: Bundle
    row_fn: Callable[[Mapping[str, Any]], dict[str, Any]]
    booster: Any = None
    problems: list[str] = field(default_factory=list)
    checked: bool = False
    predict_one: Optional[Callable[[list[float]], float]] = None

    @property
    def manifest(self) -> dict[str, Any]:
        return self.bundle.manifest

    @property
    def ready(self) -> bool:
        return self.booster is not None and self.checked and not self.problems

    def load_model(self) -> None:
        import lightgbm as lgb

        text = (self.bundle.path / MODEL_FILE).read_text(encoding="utf-8")
        self.booster = lgb.Booster(model_str=text)
        names = list(self.booster.feature_name())
        if names != self.bundle.inputs.names:
            raise ValueError(f"model.txt features {names} differ from the manifest's model inputs "
                             f"{self.bundle.inputs.names}")
        self.predict_one = single_row_predictor(self.booster, len(names))

    # --- the per-request path -----------------------------------------------------------
    def features(self, row: Mapping[str, Any]) -> dict[str, Any]:
        return self.row_fn(row)

    def score(self, features: Mapping[str, Any]) -> float:
        """The model's score of one row (LightGBM's single-row API when usable: see :mod:`.fast_predict`)."""
        row = self.bundle.inputs.encode_row(features)
        if self.predict_one is not None:
            return self.predict_one(row)
        return float(self.booster.predict(np.asarray([row], dtype=np.float64))[0])

    def score_many(self, features: list[Mapping[str, Any]]) -> list[float]:
        """Scores of many rows: one LightGBM call on the whole matrix.

        Bitwise equal to :meth:`score` row by row (each row's trees are walked and summed the same
        way; tests check it).
        """
        if not features:
            return []
        encode = self.bundle.inputs.encode_row
        x = np.asarray([encode(f) for f in features], dtype=np.float64)
        return self.booster.predict(x).tolist()

    def label(self, score: float) -> bool | None:
        t = self.bundle.threshold
        return None if t is None else bool(score >= t)

    # --- startup self-check ---------------------------------------------------------------
    def self_check(self) -> list[str]:
        """Replay the golden rows through :meth:`features` and :meth:`score`; what differs."""
        problems = []
        try:
            golden = self.bundle.golden_rows()
        except Exception as exc:  # an unreadable golden file is a failed check, not a crash
            golden, problems = [], [f"cannot read golden rows: {type(exc).__name__}: {exc}"]
        for i, g in enumerate(golden):
            try:
                got = self.features(g["inputs"])
                score = self.score(got)
            except Exception as exc:
                problems.append(f"golden row {i}: per-request path raised {type(exc).__name__}: {exc}")
                continue
            for name, want in g["features"].items():
                if not same_value(got.get(name), want):
                    problems.append(f"golden row {i}: feature {name!r} is {got.get(name)!r}, batch gave {want!r}")
            if not (score == g["score"] or (math.isnan(score) and math.isnan(g["score"]))):
                problems.append(f"golden row {i}: score {score!r}, batch gave {g['score']!r}")
        if not golden and not problems:
            problems.append("the bundle has no golden rows to check")
        self.problems, self.checked = problems, True
        return problems


def load_served_bundle(path: str | Path) -> ServedBundle:
    """Load and verify the bundle at ``path`` (model not loaded yet: see :meth:`ServedBundle.load_model`)."""
    bundle = load_bundle(path)
    return ServedBundle(bundle, bundle.transformer.row_fn)
