"""The model bundle: what serving loads.

A bundle is a directory::

    model.txt          LightGBM model, native text format (no pickle)
    manifest.json      fingerprints, model inputs and their encoding, metrics, data hash,
                       git commit, versions, time, the MLflow run it was logged to
    feature_set.json   the feature set's identity (name, import spec, fingerprints)
    fitted.json        the fitted state (skewless.artifact format) when anything is fitted
    golden_rows.json   a few input rows with their batch-computed features and model scores
    stats.json         the statistics of the data the model was trained on (copied from the build)

:func:`load_bundle` verifies the feature set in code against the bundle's
fingerprints (and the fitted artifact) and gives a :class:`Bundle` that scores
one row (generated per-request function + :class:`~skewless.training.encoding.ModelInputs`
+ LightGBM) or a frame (the polars pipeline); :meth:`Bundle.self_check` replays
the golden rows through the per-request path.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from skewless.errors import SkewlessError

from .encoding import ModelInputs

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import polars as pl

    from skewless.compiled import CompiledFeatureSet, State
    from skewless.feature_set import FeatureSet

__all__ = ["Bundle", "BundleError", "load_bundle", "encode_value", "decode_value", "same_value",
           "MANIFEST_FILE", "MODEL_FILE", "GOLDEN_FILE", "FORMAT", "FORMAT_VERSION"]

FORMAT = "skewless.bundle"
FORMAT_VERSION = 1
MANIFEST_FILE = "manifest.json"
MODEL_FILE = "model.txt"
GOLDEN_FILE = "golden_rows.json"
FEATURE_SET_FILE = "feature_set.json"
FITTED_FILE = "fitted.json"
STATS_FILE = "stats.json"


class BundleError(SkewlessError, ValueError):
    """A bundle cannot be loaded or does not match the feature set in code."""


# --------------------------------------------------------------------------- typed JSON values


def encode_value(value: Any, dtype: Any) -> Any:
    """JSON form of one value of skewless dtype ``dtype`` (exact: decodes to an equal value of the same type)."""
    from skewless.dtypes import Date, Datetime, Duration, Float64

    if value is None:
        return None
    if isinstance(dtype, Float64):
        if not math.isfinite(value):
            return {"float": "nan" if value != value else ("inf" if value > 0 else "-inf")}
        return float(value)
    if isinstance(dtype, (Datetime, Date)):
        return value.isoformat()
    if isinstance(dtype, Duration):
        return {"microseconds": value // _dt.timedelta(microseconds=1)}
    return value


def decode_value(data: Any, dtype: Any) -> Any:
    """Inverse of :func:`encode_value`."""
    from skewless.dtypes import Date, Datetime, Duration, Float64

    if data is None:
        return None
    if isinstance(dtype, Float64):
        if isinstance(data, dict):
            return {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}[data["float"]]
        return float(data)
    if isinstance(dtype, Datetime):
        value = _dt.datetime.fromisoformat(data)
        if dtype.time_zone is not None:
            from skewless.runtime.tz import get_zone

            value = value.astimezone(get_zone(dtype.time_zone))
        return value
    if isinstance(dtype, Date):
        return _dt.date.fromisoformat(data)
    if isinstance(dtype, Duration):
        return _dt.timedelta(microseconds=data["microseconds"])
    return data


def same_value(a: Any, b: Any) -> bool:
    """Exact equality: same type, floats bitwise (NaN equals NaN, -0.0 differs from 0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (a != a and b != b) or (a == b and math.copysign(1.0, a) == math.copysign(1.0, b))
    return a == b


# --------------------------------------------------------------------------- the bundle


class Bundle:
    """A loaded, verified bundle.

    Attributes
    ----------
    path : Path
    manifest : dict
    transformer : CompiledFeatureSet
        Computes the features (``row_fn`` per request, ``transform`` in batch).
    inputs : ModelInputs
        The model's feature columns and their encoding.
    """

    def __init__(self, path: Path, manifest: dict[str, Any], transformer: "CompiledFeatureSet"):
        self.path = path
        self.manifest = manifest
        self.transformer = transformer
        self.inputs = ModelInputs.from_json(manifest["model"]["inputs"])
        self._booster = None

    def __repr__(self) -> str:
        return f"<Bundle {str(self.path)!r}: {self.manifest['feature_set']['name']} {self.task}>"

    @property
    def task(self) -> str:
        return self.manifest["model"]["task"]

    @property
    def threshold(self) -> float | None:
        return self.manifest["model"].get("decision_threshold")

    @property
    def feature_set(self) -> "FeatureSet":
        """The feature set as defined in code."""
        return self.transformer.definition

    @property
    def fitted_state(self) -> "State | None":
        return self.transformer.state

    @property
    def booster(self) -> Any:
        """The LightGBM booster (loaded from ``model.txt`` on first use)."""
        if self._booster is None:
            import lightgbm as lgb

            self._booster = lgb.Booster(model_file=str(self.path / MODEL_FILE))
        return self._booster

    # --- scoring --------------------------------------------------------------------
    def score_row(self, row: Mapping[str, Any]) -> float:
        """Score one request: the generated per-request function, the encoding, then LightGBM."""
        import numpy as np

        features = self.transformer.row_fn(row)
        x = np.asarray([self.inputs.encode_row(features)], dtype=np.float64)
        return float(self.booster.predict(x)[0])

    def features_frame(self, data: "pl.LazyFrame | pl.DataFrame", *, keep: tuple[str, ...] = ()) -> "pl.LazyFrame":
        """The batch features of ``data`` (the polars pipeline)."""
        return self.transformer.transform(data, keep=keep)

    def score_features(self, features: "pl.LazyFrame | pl.DataFrame") -> "np.ndarray":
        """Scores of already computed feature rows."""
        return self.booster.predict(self.inputs.encode_frame(features))

    def score_frame(self, data: "pl.LazyFrame | pl.DataFrame") -> "np.ndarray":
        """Scores of raw input rows, in batch."""
        return self.score_features(self.features_frame(data))

    # --- self-check -------------------------------------------------------------------
    def golden_rows(self) -> list[dict[str, Any]]:
        """The golden rows, decoded: ``[{"inputs": {...}, "features": {...}, "score": float}, ...]``."""
        from skewless.dtypes import dtype_from_json

        doc = json.loads((self.path / GOLDEN_FILE).read_text(encoding="utf-8"))
        in_types = {k: dtype_from_json(v) for k, v in doc["input_dtypes"].items()}
        out_types = {k: dtype_from_json(v) for k, v in doc["feature_dtypes"].items()}
        return [
            {
                "inputs": {k: decode_value(v, in_types[k]) for k, v in r["inputs"].items()},
                "features": {k: decode_value(v, out_types[k]) for k, v in r["features"].items()},
                "score": r["score"],
            }
            for r in doc["rows"]
        ]

    def self_check(self) -> list[str]:
        """Replay the golden rows per request; the problems found (empty when features and scores match exactly)."""
        problems = []
        for i, g in enumerate(self.golden_rows()):
            got = self.transformer.row_fn(g["inputs"])
            for name, want in g["features"].items():
                if not same_value(got.get(name), want):
                    problems.append(f"golden row {i}: feature {name!r} is {got.get(name)!r}, batch gave {want!r}")
            score = self.score_row(g["inputs"])
            if score != g["score"]:
                problems.append(f"golden row {i}: score {score!r}, batch gave {g['score']!r}")
        return problems


def read_manifest(path: str | Path) -> dict[str, Any]:
    """The ``manifest.json`` of a complete bundle (raises naming the path otherwise)."""
    path = Path(path)
    if not path.is_dir():
        raise BundleError(f"no bundle at {str(path)!r} (directory not found)")
    file = path / MANIFEST_FILE
    if not file.is_file():
        raise BundleError(f"{str(path)!r} is not a complete skewless bundle (no {MANIFEST_FILE})")
    try:
        manifest = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BundleError(f"cannot read {str(file)!r}: {exc}") from None
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise BundleError(f"{str(file)!r} is not a skewless bundle manifest of version {FORMAT_VERSION}")
    return manifest


def load_feature_set_for(manifest: Mapping[str, Any], feature_set: "CompiledFeatureSet | None" = None, *,
                         where: str) -> "FeatureSet":
    """The feature set (definition) named by a build/bundle manifest, checked against its fingerprint."""
    from skewless.io import load_feature_set

    info = manifest["feature_set"]
    if feature_set is None:
        spec = info.get("spec")
        if not spec:
            raise BundleError(f"{where} does not say where feature set {info['name']!r} is defined; pass it "
                              f"explicitly (feature_set=...)")
        feature_set = load_feature_set(spec)
    fs = feature_set.definition
    if fs.fingerprint != info["fingerprint"]:
        old, new = info.get("feature_fingerprints", {}), fs.feature_fingerprints()
        changed = [k for k in new if k in old and old[k] != new[k]]
        added = [k for k in new if k not in old]
        removed = [k for k in old if k not in new]
        detail = "; ".join(p for p in (
            f"changed: {', '.join(changed)}" if changed else "",
            f"added: {', '.join(added)}" if added else "",
            f"removed: {', '.join(removed)}" if removed else "",
        ) if p) or "inputs or order differ"
        raise BundleError(f"feature set {fs.name!r} in code differs from the one {where} was made with "
                          f"(fingerprint {fs.fingerprint} vs {info['fingerprint']}; {detail})")
    return fs


def load_bundle(path: str | Path, feature_set: "CompiledFeatureSet | None" = None) -> Bundle:
    """Load and verify a bundle (``feature_set`` defaults to the one the manifest names)."""
    from skewless.compiled import load

    path = Path(path)
    manifest = read_manifest(path)
    fs = load_feature_set_for(manifest, feature_set, where=f"bundle {str(path)!r}")
    fitted = manifest["feature_set"].get("fitted")
    transformer = load(fs, path / FITTED_FILE if fitted else None)
    want = manifest["feature_set"].get("state_fingerprint")
    if fitted and want and transformer.state_fingerprint != want:
        raise BundleError(f"bundle {str(path)!r}: fitted.json does not match the manifest's state fingerprint")
    if not (path / MODEL_FILE).is_file():
        raise BundleError(f"bundle {str(path)!r} has no {MODEL_FILE}")
    return Bundle(path, manifest, transformer)
