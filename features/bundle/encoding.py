"""How feature values become the model's float inputs, identically in batch (polars) and per request (pure Python).

One rule per feature column, stored in the bundle's manifest:

* ``number`` (Int64, Float64): the value as a float (``float(v)``; NaN stays NaN), null -> NaN;
* ``bool``: 1.0 / 0.0, null -> NaN;
* ``category`` (String): the position of the value in the sorted vocabulary of the
  training split (LightGBM categorical feature); null and values not seen in
  training -> NaN (LightGBM's "missing");
* ``datetime`` / ``date`` / ``duration``: microseconds since the epoch / days since
  the epoch / microseconds, as a float.

Int -> float conversions round to nearest-even both in polars and in Python, so
the two paths give bitwise-equal inputs. This module imports neither polars nor
numpy at import time (serving may use :meth:`ModelInputs.encode_row` alone).
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping, Sequence

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import polars as pl

__all__ = ["ColumnEncoding", "ModelInputs", "model_name", "KINDS"]

_NAN = math.nan
_EPOCH_AWARE = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_EPOCH_NAIVE = _dt.datetime(1970, 1, 1)
_EPOCH_DATE = _dt.date(1970, 1, 1)
_US = _dt.timedelta(microseconds=1)
KINDS = ("number", "bool", "category", "datetime", "date", "duration")


def model_name(position: int) -> str:
    """The name of the model's input column at ``position``: ``f0000``, ``f0001``, ...

    Feature names are not given to LightGBM: it rewrites spaces, commas, quotes and other
    characters in feature names (a one-hot column of ``"Adelie Penguin (Pygoscelis adeliae)"``
    would come back with underscores, a comma breaks its JSON model dump). These names survive
    any model format; the manifest maps them to the feature names.
    """
    return f"f{position:04d}"


@dataclass(frozen=True)
class ColumnEncoding:
    name: str
    kind: str
    categories: tuple[str, ...] = ()
    model_name: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "model_name": self.model_name, "kind": self.kind}
        if self.kind == "category":
            out["categories"] = list(self.categories)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "ColumnEncoding":
        kind = data["kind"]
        if kind not in KINDS:
            raise ValueError(f"unknown encoding kind {kind!r} for column {data.get('name')!r}")
        return cls(str(data["name"]), kind, tuple(data.get("categories", ())), str(data.get("model_name", "")))


def _kind_of(dtype: Any) -> str:
    from skewless.dtypes import Boolean, Date, Datetime, Duration, Float64, Int64, String

    if isinstance(dtype, (Int64, Float64)):
        return "number"
    if isinstance(dtype, Boolean):
        return "bool"
    if isinstance(dtype, String):
        return "category"
    if isinstance(dtype, Datetime):
        return "datetime"
    if isinstance(dtype, Date):
        return "date"
    if isinstance(dtype, Duration):
        return "duration"
    raise TypeError(f"no model encoding for dtype {dtype!r}")


class ModelInputs:
    """The ordered feature columns the model reads and how each is encoded."""

    def __init__(self, columns: Sequence[ColumnEncoding]):
        self.columns = [c if c.model_name else ColumnEncoding(c.name, c.kind, c.categories, model_name(i))
                        for i, c in enumerate(columns)]
        self.names = [c.name for c in self.columns]
        #: The column names inside the model (see :func:`model_name`), in the same order.
        self.model_names = [c.model_name for c in self.columns]
        self._codes = {c.name: {v: float(i) for i, v in enumerate(c.categories)} for c in self.columns
                       if c.kind == "category"}

    # --- construction and storage -------------------------------------------------
    @classmethod
    def fit(cls, output_schema: Mapping[str, Any], train: "pl.LazyFrame") -> "ModelInputs":
        """Encodings for ``output_schema`` (name -> Field); vocabularies from the training split ``train``."""
        import polars as pl

        kinds = {name: _kind_of(f.dtype) for name, f in output_schema.items()}
        cats = [n for n, k in kinds.items() if k == "category"]
        vocab: dict[str, tuple[str, ...]] = {}
        if cats:
            frames = pl.collect_all([train.select(pl.col(c).drop_nulls().unique().sort()) for c in cats],
                                    engine="streaming")
            vocab = {c: tuple(f.to_series().to_list()) for c, f in zip(cats, frames)}
        return cls([ColumnEncoding(n, k, vocab.get(n, ())) for n, k in kinds.items()])

    def to_json(self) -> list[dict[str, Any]]:
        return [c.to_json() for c in self.columns]

    @classmethod
    def from_json(cls, data: Sequence[Mapping[str, Any]]) -> "ModelInputs":
        return cls([ColumnEncoding.from_json(d) for d in data])

    @property
    def categorical(self) -> list[str]:
        return [c.name for c in self.columns if c.kind == "category"]

    @property
    def categorical_model_names(self) -> list[str]:
        return [c.model_name for c in self.columns if c.kind == "category"]

    # --- per request ------------------------------------------------------------------
    def encode_row(self, features: Mapping[str, Any]) -> list[float]:
        """The model's input vector for one row of feature values (pure Python)."""
        out: list[float] = []
        for c in self.columns:
            v = features[c.name]
            if v is None:
                out.append(_NAN)
            elif c.kind == "number" or c.kind == "bool":
                out.append(float(v))
            elif c.kind == "category":
                out.append(self._codes[c.name].get(v, _NAN))
            elif c.kind == "datetime":
                epoch = _EPOCH_AWARE if v.tzinfo is not None else _EPOCH_NAIVE
                out.append(float((v - epoch) // _US))
            elif c.kind == "date":
                out.append(float((v - _EPOCH_DATE).days))
            else:  # duration
                out.append(float(v // _US))
        return out

    # --- batch ------------------------------------------------------------------------
    def exprs(self) -> "list[pl.Expr]":
        """Polars expressions computing the encoded Float64 columns (same values as :meth:`encode_row`)."""
        import polars as pl

        out = []
        for c in self.columns:
            x = pl.col(c.name)
            if c.kind in ("number", "bool"):
                e = x.cast(pl.Float64)
            elif c.kind == "category":
                e = x.replace_strict(list(c.categories), [float(i) for i in range(len(c.categories))],
                                     default=None, return_dtype=pl.Float64)
            elif c.kind == "datetime":
                e = x.dt.epoch("us").cast(pl.Float64)
            elif c.kind == "date":
                e = x.cast(pl.Int64).cast(pl.Float64)
            else:
                e = x.dt.total_microseconds().cast(pl.Float64)
            out.append(e.fill_null(_NAN).alias(c.name))
        return out

    def encode_frame(self, frame: "pl.LazyFrame | pl.DataFrame") -> "np.ndarray":
        """A C-contiguous float64 matrix (rows x columns) of the encoded features of ``frame``."""
        import numpy as np
        import polars as pl

        lf = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
        df = lf.select(self.exprs()).collect(engine="streaming")
        return np.ascontiguousarray(df.to_numpy(), dtype=np.float64)
