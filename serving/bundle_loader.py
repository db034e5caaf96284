"""Load a bundle for serving, without polars and without anything from ``skewless.training``.

:func:`skewless.bundle.load_bundle` verifies the sealed bundle (every file's SHA-256, the strict
manifest, the optional signature) and rebuilds the feature set from the bundle's own serialized
definition: no module named by the bundle is imported. The LightGBM model is parsed from the
verified bytes of ``model.txt`` into a :class:`lightgbm.Booster`, whose input names must be the
manifest's (``f0000``, ...), and predicts on a float64 numpy row in the manifest's column order.

:func:`check_bundle` is the whole start-up check (load, model, golden rows through the per-request
path); ``skewless train`` runs the same function on the bundle it wrote before reporting it written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Collection, Mapping, Optional

import numpy as np

from skewless.bundle import Bundle, load_bundle, same_value
from skewless.bundle.loader import lookup_problems

from .fast_predict import single_row_predictor

__all__ = ["ServedBundle", "load_served_bundle", "check_bundle"]


@dataclass
class ServedBundle:
    """A bundle ready to serve: per-request lookups and features, encoding and booster.

    ``row_fn`` is the generated function (inputs and looked-up columns -> features); ``lookup`` (set by the
    service when the feature set has lookups) reads a request's lookups from the live store in one round trip.
    """

    bundle: Bundle
    row_fn: Callable[[Mapping[str, Any]], dict[str, Any]]
    booster: Any = None
    problems: list[str] = field(default_factory=list)
    checked: bool = False
    predict_one: Optional[Callable[[list[float]], float]] = None
    lookup: Optional[Callable[[Mapping[str, Any]], dict[str, Any]]] = None
    store: Any = None

    @property
    def manifest(self) -> dict[str, Any]:
        return self.bundle.manifest

    @property
    def ready(self) -> bool:
        return self.booster is not None and self.checked and not self.problems

    def load_model(self) -> None:
        """Parse the verified ``model.txt`` (its input names checked against the manifest's)."""
        self.booster = self.bundle.booster
        self.predict_one = single_row_predictor(self.booster, len(self.bundle.inputs.model_names),
                                                outputs=len(self.classes) if self.classes is not None else 1)

    # --- the per-request path -----------------------------------------------------------
    def features(self, row: Mapping[str, Any]) -> dict[str, Any]:
        return self.inputs_and_features(row)[1]

    def inputs_and_features(self, row: Mapping[str, Any]) -> tuple[Mapping[str, Any], dict[str, Any]]:
        """The row with its looked-up columns (what the generated function read), and its features.

        :class:`~skewless.state.StoreUnavailable` propagates (the service answers 503 naming the store).
        """
        if self.lookup is not None:
            row = {**row, **self.lookup(row)}
        return row, self.row_fn(row)

    @property
    def classes(self) -> list[str] | None:
        """A multiclass model's class names (score ``i`` is the probability of class ``i``), else None."""
        return self.bundle.classes

    def score(self, features: Mapping[str, Any]) -> float | list[float]:
        """The model's score of one row (LightGBM's single-row API when usable: see :mod:`.fast_predict`);
        for a multiclass model the list of class probabilities."""
        row = self.bundle.inputs.encode_row(features)
        if self.predict_one is not None:
            return self.predict_one(row)
        out = self.booster.predict(np.asarray([row], dtype=np.float64))[0]
        return out.tolist() if self.classes is not None else float(out)

    def score_many(self, features: list[Mapping[str, Any]]) -> list[float] | list[list[float]]:
        """Scores of many rows: one LightGBM call on the whole matrix.

        Bitwise equal to :meth:`score` row by row (each row's trees are walked and summed the same
        way; tests check it).
        """
        if not features:
            return []
        encode = self.bundle.inputs.encode_row
        x = np.asarray([encode(f) for f in features], dtype=np.float64)
        return self.booster.predict(x).tolist()

    def label(self, score: float | list[float]) -> bool | str | None:
        """The decision: ``score >= threshold`` (binary), the most probable class's name (multiclass; the
        first of equal ones, like ``numpy.argmax``), None (regression)."""
        classes = self.classes
        if classes is not None:
            return classes[max(range(len(score)), key=score.__getitem__)]
        t = self.bundle.threshold
        return None if t is None else bool(score >= t)

    def top(self, score: float | list[float]) -> float:
        """One float per score for the metrics and the feature log: the score, or the predicted class's probability."""
        return max(score) if isinstance(score, list) else score

    # --- startup self-check ---------------------------------------------------------------
    def self_check(self) -> list[str]:
        """Replay the golden rows through the per-request path and :meth:`score`; what differs.

        With lookups, the golden requests (keys and time) read their lookups from a private store holding the
        bundle's golden state (:meth:`Bundle.golden_lookups`; the live store is not touched), which must give
        the looked-up values the batch join gave; the generated function then runs on them.
        """
        problems = []
        looked = None
        try:
            golden = self.bundle.golden_rows()
            looked = self.bundle.golden_lookups()
            problems += lookup_problems(golden, looked)
        except Exception as exc:  # an unreadable golden file is a failed check, not a crash
            golden, problems = [], [f"cannot read golden rows: {type(exc).__name__}: {exc}"]
        for i, g in enumerate(golden):
            try:
                got = self.row_fn({**g["inputs"], **looked[i]} if looked is not None else g["inputs"])
                score = self.score(got)
            except Exception as exc:
                problems.append(f"golden row {i}: per-request path raised {type(exc).__name__}: {exc}")
                continue
            for name, want in g["features"].items():
                if not same_value(got.get(name), want):
                    problems.append(f"golden row {i}: feature {name!r} is {got.get(name)!r}, batch gave {want!r}")
            if not same_value(score if isinstance(score, list) else float(score), g["score"]):
                problems.append(f"golden row {i}: score {score!r}, batch gave {g['score']!r}")
        if not golden and not problems:
            problems.append("the bundle has no golden rows to check")
        self.problems, self.checked = problems, True
        return problems


def load_served_bundle(path: str | Path, *, key: str | bytes | None = None,
                       udf_modules: Collection[str] | None = None) -> ServedBundle:
    """Load and verify the bundle at ``path`` (model not loaded yet: see :meth:`ServedBundle.load_model`).

    ``udf_modules``: the modules a bundle's udfs may be imported from (the service passes its setting
    ``udf_modules``, ``SKEWLESS_SERVE_UDF_MODULES``: a bundle with a udf elsewhere is refused); None
    (``train``'s check of the bundle it wrote): any (see :func:`skewless.bundle.udfs.check_udfs`).
    """
    bundle = load_bundle(path, key=key, udf_modules=udf_modules)
    return ServedBundle(bundle, bundle.transformer.row_fn)


def check_bundle(path: str | Path, *, key: str | bytes | None = None,
                 udf_modules: Collection[str] | None = None) -> ServedBundle:
    """What the service runs before it reports ready: load, parse the model, replay the golden rows.

    Raises :class:`~skewless.bundle.BundleError` when the bundle cannot be loaded; the self-check's
    problems are in ``.problems`` (empty: ready).
    """
    served = load_served_bundle(path, key=key, udf_modules=udf_modules)
    served.load_model()
    served.self_check()
    return served
