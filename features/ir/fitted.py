"""Fitted ops: transforms whose constants are learned from skewless.training data.

A fitted op carries its parameters (``ddof``, ``max_categories``, ``n_bins``,
...) but no state. It type-checks like any op, so a feature set using it is
checked when it is defined. It has no backend rule: :func:`features.fit`
learns its state with polars aggregations on the training rows and *lowers* it
into ordinary ops (core arithmetic, :class:`~skewless.ir.applied.MapValues`,
:class:`~skewless.ir.applied.Bucketize`, ``clip``, ``fill_null``), so that both
runtimes apply the same constants and the parity harness checks them as it
checks everything else.

Policies shared by every fitted op (the code: one rule per op in ``features/fitting/``, see
:mod:`skewless.fitting.rules`):

* **What fitting reads.** Numeric statistics (mean, std, min, max, quantiles)
  are computed over the *finite* values only: null, NaN and ±inf are left out
  (scikit-learn also ignores NaN in ``fit``; it refuses inf, skewless ignores
  it so that one stray inf cannot turn every learned constant into NaN).
  Categories are the non-null values; null is a bucket of its own.
* **What transforming does with them.** NaN and ±inf propagate through the
  scalers (``standardize(NaN)`` is NaN, ``standardize(inf)`` is inf); NaN stays
  NaN and ±inf are clipped by ``winsorize``; NaN is *missing* for ``impute``
  (replaced like null) while ±inf is a value; in the bucketizers NaN gives null
  and ∓inf the first/last bucket.
* **Degenerate statistics.** When the learned spread is 0 (constant column), not
  finite (overflow), or there was no finite value at all (all-null column,
  empty training set), the scalers output ``0.0`` for every finite value (NaN
  and ±inf give NaN, null gives null).
* **Quantiles** are numpy's default ``"linear"`` method (Hyndman & Fan type 7)
  computed bitwise as numpy does; the median is the 0.5 quantile.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

from ..dtypes import Boolean, DataType, Field, Float64, Int64, Null, String
from .base import NUMERIC, InferContext, Node, _fmt_param, literal_dtype, require, supertype

__all__ = [
    "FittedOp", "Standardize", "MinMaxScale", "RobustScale", "Impute", "OrdinalEncode", "OneHot",
    "QuantileBucketize", "UniformBucketize", "FrequencyEncode", "TargetEncode", "Winsorize",
    "CATEGORICAL", "IMPUTE_STRATEGIES", "FITTED_OPS",
]

#: Dtypes that the encoders accept as categories.
CATEGORICAL = (String, Int64, Boolean)
IMPUTE_STRATEGIES = ("mean", "median", "most_frequent", "constant")


@dataclass(frozen=True, slots=True)
class FittedOp(Node):
    """Base of the fitted ops: one operand, parameters, no state, no backend rule."""

    abstract = True
    fitted: ClassVar[bool] = True
    operand: Node

    def render(self, args: list[str]) -> str:
        params = [f"{k}={_fmt_param(v)}" for k, v in self.params().items()]
        return f"{self.method}({', '.join([args[0], *params])})"


def _numeric(node: FittedOp, a: Field) -> None:
    require(isinstance(a.dtype, NUMERIC), f"{node.method}() needs a numeric operand (Int64 or Float64), got {a.dtype!r}")


def _categorical(node: FittedOp, a: Field) -> None:
    require(
        isinstance(a.dtype, CATEGORICAL),
        f"{node.method}() encodes String, Int64 or Boolean categories, got {a.dtype!r}"
        + (" (bucketize floats first, e.g. quantile_bucketize)" if isinstance(a.dtype, Float64) else ""),
    )


def _unit(value: Any, what: str, *, open_low: bool = False) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (0 < value <= 1 if open_low else 0 <= value <= 1)
    require(ok, f"{what} must be a number in {'(0, 1]' if open_low else '[0, 1]'}, got {value!r}")


def _vocabulary_params(node: "OrdinalEncode | OneHot") -> None:
    mc, mf = node.max_categories, node.min_frequency
    require(mc is None or (type(mc) is int and mc >= 1), f"{node.method}(): max_categories must be an int >= 1, got {mc!r}")
    if type(mf) is float:
        _unit(mf, f"{node.method}(): a float min_frequency (a fraction of the training rows)", open_low=True)
    else:
        require(mf is None or (type(mf) is int and mf >= 1),
                f"{node.method}(): min_frequency must be an int >= 1 or a float in (0, 1], got {mf!r}")


# --------------------------------------------------------------------------- scalers


@dataclass(frozen=True, slots=True)
class Standardize(FittedOp):
    """``standardize(x, ddof=0)``: ``(x - mean) / std``, learned over the finite training values.

    ``ddof=0`` (the population standard deviation) is scikit-learn's
    ``StandardScaler``; polars' own ``std()`` defaults to ``ddof=1``. Division
    by the learned std is multiplication by its reciprocal in both runtimes.
    A constant (or empty) training column gives ``0.0``.
    """

    method = "standardize"
    ddof: int = 0

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        (a,) = args
        _numeric(self, a)
        require(type(self.ddof) is int and self.ddof >= 0, f"standardize(): ddof must be an int >= 0, got {self.ddof!r}")
        return Field(Float64(), a.nullable)


@dataclass(frozen=True, slots=True)
class MinMaxScale(FittedOp):
    """``min_max_scale(x)``: ``(x - min) / (max - min)``; training values map into ``[0, 1]``.

    Values outside the training range map outside ``[0, 1]`` (no clipping, as
    scikit-learn's ``MinMaxScaler(clip=False)``).
    """

    method = "min_max_scale"

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        (a,) = args
        _numeric(self, a)
        return Field(Float64(), a.nullable)


@dataclass(frozen=True, slots=True)
class RobustScale(FittedOp):
    """``robust_scale(x)``: ``(x - median) / (q_high - q_low)``, by default the interquartile range."""

    method = "robust_scale"
    q_low: float = 0.25
    q_high: float = 0.75

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        (a,) = args
        _numeric(self, a)
        _unit(self.q_low, "robust_scale(): q_low")
        _unit(self.q_high, "robust_scale(): q_high")
        require(self.q_low < self.q_high, "robust_scale(): q_low must be below q_high")
        return Field(Float64(), a.nullable)


@dataclass(frozen=True, slots=True)
class Winsorize(FittedOp):
    """``winsorize(x, lower=0.05, upper=0.95)``: clip to the learned ``lower`` and ``upper`` quantiles.

    Float64 keeps NaN (``clip`` does) and clips ±inf. Int64 stays Int64: the
    bounds are the float quantiles widened to integers (``floor`` of the lower,
    ``ceil`` of the upper, clamped to the Int64 range), so a value inside the
    learned range is never changed. No finite training value: no clipping.
    """

    method = "winsorize"
    lower: float = 0.05
    upper: float = 0.95

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        (a,) = args
        _numeric(self, a)
        _unit(self.lower, "winsorize(): lower")
        _unit(self.upper, "winsorize(): upper")
        require(self.lower < self.upper, "winsorize(): lower must be below upper")
        return a


# --------------------------------------------------------------------------- imputation


@dataclass(frozen=True, slots=True)
class Impute(FittedOp):
    """``impute(x, strategy, fill_value=None)``: replace missing values by a learned (or given) one.

    Missing means null, and also NaN for Float64 (NaN is what scikit-learn's
    ``SimpleImputer`` treats as missing). Strategies: ``"mean"`` and
    ``"median"`` (numeric, give Float64), ``"most_frequent"`` (any dtype; ties
    go to the smallest value, as scikit-learn), ``"constant"`` (``fill_value``).
    With no non-missing training value, the learned strategies fall back to
    ``fill_value`` when given, else to ``0``/``0.0``/``""``/``False``.
    The result is never null.
    """

    method = "impute"
    strategy: str = "mean"
    fill_value: Any = None

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        (a,) = args
        require(self.strategy in IMPUTE_STRATEGIES,
                f"impute(): strategy must be one of {IMPUTE_STRATEGIES}, got {self.strategy!r}")
        require(isinstance(a.dtype, (*NUMERIC, String, Boolean)),
                f"impute() needs an Int64, Float64, String or Boolean operand, got {a.dtype!r}")
        if self.strategy in ("mean", "median"):
            _numeric(self, a)
            dtype: DataType = Float64()
        else:
            dtype = a.dtype
        if self.fill_value is not None:
            fd = literal_dtype(self.fill_value)
            st = supertype(dtype, fd)
            require(st is not None, f"impute(): fill_value {self.fill_value!r} does not fit a {dtype!r} column")
            require(not (isinstance(fd, Float64) and isinstance(self.fill_value, float) and self.fill_value != self.fill_value),
                    "impute(): fill_value cannot be NaN")
            dtype = st
        else:
            require(self.strategy != "constant", "impute(strategy='constant') needs a fill_value")
        return Field(dtype, False)


# --------------------------------------------------------------------------- encoders


@dataclass(frozen=True, slots=True)
class OrdinalEncode(FittedOp):
    """``ordinal_encode(x, max_categories=None, min_frequency=None)``: category -> Int64 code.

    The vocabulary is the non-null training categories seen at least
    ``min_frequency`` times (an int count, or a float fraction of the training
    rows), of which the ``max_categories`` most frequent are kept (ties to the
    smaller value). Codes ``0 .. k-1`` follow the sorted vocabulary (strings by
    code point, as scikit-learn); ``k`` is the bucket for every other value
    (unseen or infrequent) and ``k + 1`` the bucket for null. Never null.
    """

    method = "ordinal_encode"
    max_categories: int | None = None
    min_frequency: int | float | None = None

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        (a,) = args
        _categorical(self, a)
        _vocabulary_params(self)
        return Field(Int64(), False)


@dataclass(frozen=True, slots=True)
class OneHot(FittedOp):
    """``one_hot(x, max_categories=None, min_frequency=None)``: one Int64 0/1 column per bucket.

    The vocabulary is learned as for :class:`OrdinalEncode`. A feature
    ``name = one_hot(...)`` expands into the columns ``name__<category>`` (one
    per vocabulary entry, in sorted order; the category as text: strings as
    they are, integers in decimal, booleans ``true``/``false``), then
    ``name__other`` (unseen or infrequent values) and ``name__null``. A
    category whose column name would collide with ``name__other`` or
    ``name__null`` is named with its ``repr`` instead (``name__'other'``).
    Exactly one column is 1 in every row. It must be a feature of its own: it
    cannot be an operand of another expression (use ``ordinal_encode`` there).
    The declared dtype (before fitting) is that of each column.
    """

    method = "one_hot"
    max_categories: int | None = None
    min_frequency: int | float | None = None

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        (a,) = args
        _categorical(self, a)
        _vocabulary_params(self)
        return Field(Int64(), False)


@dataclass(frozen=True, slots=True)
class FrequencyEncode(FittedOp):
    """``frequency_encode(x)``: the fraction of training rows holding ``x`` (Float64).

    Null is a category (its fraction of the training rows); an unseen value
    gives ``0.0``. Fractions are ``count / rows`` over all training rows.
    """

    method = "frequency_encode"

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        (a,) = args
        _categorical(self, a)
        return Field(Float64(), False)


@dataclass(frozen=True, slots=True)
class TargetEncode(FittedOp):
    """``target_encode(x, smoothing=10.0, folds=5)``: smoothed mean of the label per category.

    ``encoding(c) = (sum_c + smoothing * prior) / (n_c + smoothing)`` where
    ``sum_c`` and ``n_c`` are the label sum and count of category ``c`` and
    ``prior`` the mean label, over the training rows whose label is finite (not
    null, NaN or ±inf) (the "m-estimate"; scikit-learn's ``TargetEncoder(smooth=m)``). Null is
    a category; an unseen value (or null never seen) gets ``prior``. Serving
    uses the encodings learned from all training rows; the training rows
    themselves get out-of-fold encodings (``folds`` folds) from
    :meth:`skewless.fitting.FittedFeatureSet.transform_training`.
    """

    method = "target_encode"
    smoothing: float = 10.0
    folds: int = 5

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        (a,) = args
        _categorical(self, a)
        s = self.smoothing
        require(isinstance(s, (int, float)) and not isinstance(s, bool) and math.isfinite(s) and s >= 0,
                f"target_encode(): smoothing must be a finite number >= 0, got {s!r}")
        require(type(self.folds) is int and self.folds >= 2, f"target_encode(): folds must be an int >= 2, got {self.folds!r}")
        return Field(Float64(), False)


# --------------------------------------------------------------------------- bucketizers


@dataclass(frozen=True, slots=True)
class _Bucketizer(FittedOp):
    abstract = True
    n_bins: int = 5

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        (a,) = args
        _numeric(self, a)
        require(type(self.n_bins) is int and self.n_bins >= 2, f"{self.method}(): n_bins must be an int >= 2, got {self.n_bins!r}")
        return Field(Int64(), a.nullable or isinstance(a.dtype, Float64))


@dataclass(frozen=True, slots=True)
class QuantileBucketize(_Bucketizer):
    """``quantile_bucketize(x, n_bins=5)``: bucket index ``0 .. n_bins-1`` between learned quantiles.

    Edges are the ``i / n_bins`` quantiles (numpy ``"linear"``) of the finite
    training values, with the minimum and maximum as outer edges; equal edges
    are merged (so a skewed column may get fewer buckets, as scikit-learn's
    ``KBinsDiscretizer`` removes empty bins). Buckets are ``[e_i, e_{i+1})``;
    values below the training minimum are in bucket 0 and above the maximum in
    the last one. NaN and null give null.
    """

    method = "quantile_bucketize"


@dataclass(frozen=True, slots=True)
class UniformBucketize(_Bucketizer):
    """``uniform_bucketize(x, n_bins=5)``: ``n_bins`` equal-width buckets between the learned min and max.

    Edges are ``min + i * ((max - min) / n_bins)`` (numpy's ``linspace``);
    otherwise as :class:`QuantileBucketize`.
    """

    method = "uniform_bucketize"


#: Every fitted op class, by name.
FITTED_OPS: dict[str, type[FittedOp]] = {
    cls.__name__: cls
    for cls in (Standardize, MinMaxScale, RobustScale, Winsorize, Impute, OrdinalEncode, OneHot,
                FrequencyEncode, TargetEncode, QuantileBucketize, UniformBucketize)
}

_ = (Null, Boolean)
