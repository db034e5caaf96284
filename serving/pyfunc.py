"""The bundle as an MLflow model: the ``python_function`` flavor, scoring exactly as the service does.

``skewless train`` logs the bundle as an MLflow model (``<run>/model``) with this module as its
loader (``loader_module``: no pickle; the bundle directory is the model's data) and a signature made
from the feature set's input schema; ``--register-as NAME`` also registers it in MLflow's model
registry. Loading it runs :func:`~skewless.serving.bundle_loader.check_bundle` — the seal, the
serialized definition, the golden-row self-check — and refuses a bundle that fails it.

``predict`` takes a pandas DataFrame (or a list of dicts) of raw input rows, validates each row with
the service's own request model, computes the features with the generated per-request function and
scores the matrix with one LightGBM call: the same scores as ``POST /v1/predict/batch``, bitwise
(tested). Temporal inputs are ISO 8601 strings in the signature, as in the HTTP API (pandas
timestamps are accepted too). pandas keeps a nullable integer column as floats: for Int64 inputs a
whole float is read as the integer, NaN as null.
"""

from __future__ import annotations

import datetime as _dt
import math
from pathlib import Path
from typing import Any, Mapping

__all__ = ["BundleModel", "signature", "save_model", "_load_pyfunc"]


def _plain(value: Any, kind: str) -> Any:
    """A pandas/numpy cell as the JSON value the HTTP API would receive."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if kind == "Int64" and isinstance(value, float) and value.is_integer():
        return int(value)
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp
        value = value.to_pydatetime()
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    if isinstance(value, _dt.timedelta):
        from skewless.bundle.codec import encode_duration

        return encode_duration(value)
    return value


class BundleModel:
    """What ``mlflow.pyfunc.load_model(...)`` wraps: a checked bundle and the service's request model."""

    def __init__(self, bundle_dir: str | Path):
        import orjson

        from skewless.bundle import BundleError

        from .bundle_loader import check_bundle
        from .schemas import request_model

        served = check_bundle(bundle_dir)
        if served.problems:
            raise BundleError("the bundle fails its self-check: " + "; ".join(served.problems[:5]))
        self.served = served
        schema = served.bundle.transformer.input_schema()
        self.kinds = {k: type(f.dtype).__name__ for k, f in schema.items()}
        self.names = tuple(schema)
        self.Inputs = request_model(served.bundle.record.feature_set.name, schema)
        self._dumps = orjson.dumps

    def rows(self, model_input: Any) -> list[dict[str, Any]]:
        records = model_input.to_dict(orient="records") if hasattr(model_input, "to_dict") else list(model_input)
        out = []
        for i, r in enumerate(records):
            body = self._dumps({k: _plain(v, self.kinds.get(k, "")) for k, v in r.items()})
            try:
                valid = self.Inputs.model_validate_json(body)
            except Exception as exc:
                raise ValueError(f"row {i}: {exc}") from None
            d = valid.__dict__
            out.append({k: d[k] for k in self.names})
        return out

    def predict(self, model_input: Any, params: Mapping[str, Any] | None = None) -> Any:
        """Scores of the raw input rows (a float64 numpy array), as the service computes them; for a multiclass
        bundle one row of class probabilities per input row (columns in the order of the bundle's classes)."""
        import numpy as np

        s = self.served
        feats = [s.features(r) for r in self.rows(model_input)]
        return np.asarray(s.score_many(feats), dtype=np.float64)


def _load_pyfunc(data_path: str) -> BundleModel:
    """MLflow's entry point for ``loader_module`` models: ``data_path`` is the bundle directory."""
    return BundleModel(data_path)


_COLSPEC = {"Int64": "long", "Float64": "double", "Boolean": "boolean", "String": "string",
            "Datetime": "string", "Date": "string", "Duration": "string"}


def signature(input_schema: Mapping[str, Any], classes: list[str] | None = None) -> Any:
    """The MLflow signature of a feature set's input schema (temporal inputs as ISO 8601 strings); the
    output is ``score``, or one ``double`` per class of a multiclass model (named by the class)."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    cols = []
    for name, f in input_schema.items():
        kind = type(f.dtype).__name__
        t = "double" if kind == "Int64" and f.nullable else _COLSPEC[kind]  # pandas: nullable ints are floats
        cols.append(ColSpec(t, name, required=not f.nullable))
    outputs = [ColSpec("double", "score")] if classes is None else [ColSpec("double", c) for c in classes]
    return ModelSignature(inputs=Schema(cols), outputs=Schema(outputs))


def save_model(bundle_dir: str | Path, path: str | Path) -> Path:
    """Write the MLflow model of the bundle at ``bundle_dir`` to ``path`` (the bundle becomes its data)."""
    import mlflow.pyfunc

    from skewless.bundle import load_bundle

    bundle = load_bundle(bundle_dir)
    mlflow.pyfunc.save_model(path=str(path), loader_module="skewless.serving.pyfunc", data_path=str(bundle_dir),
                             signature=signature(bundle.transformer.input_schema(), bundle.classes))
    return Path(path)
