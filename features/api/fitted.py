"""Fitted transforms (scikit-learn's names) and the ops that apply fixed state.

A fitted transform learns constants (a mean, a vocabulary, bucket edges, ...)
from skewless.training data with :func:`features.fit` and is then applied identically
by the batch and per-request runtimes. It composes with every other
expression and may read other features:

>>> from skewless import col, standardize, one_hot
>>> standardize(col("distance").log1p())
<Expr standardize(col('distance').log1p(), ddof=0)>
>>> one_hot(col("carrier"), max_categories=10)
<Expr one_hot(col('carrier'), max_categories=10, min_frequency=None)>

The exact learning rules (NaN, constant columns, empty vocabularies, ...) are
documented in :mod:`skewless.ir.fitted`.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from ..dtypes import Float64, to_dtype
from ..errors import ExprTypeError
from ..ir import applied, fitted
from ..ir.base import canonical_literal, literal_dtype
from .expr import Expr, col

__all__ = [
    "standardize", "min_max_scale", "robust_scale", "impute", "ordinal_encode", "one_hot", "quantile_bucketize",
    "uniform_bucketize", "frequency_encode", "target_encode", "winsorize", "map_values", "bucketize",
]


def _node(expr: Any):
    if isinstance(expr, str):
        return col(expr)._node
    if not isinstance(expr, Expr):
        from .expr import wrap
        from .foreign import is_foreign

        if is_foreign(expr):  # a polars expression: refused by the feature set, naming the feature
            return wrap(expr)
        raise ExprTypeError(f"expected an expression or a column name, got {type(expr).__name__}")
    return expr._node


def _number(value: Any) -> Any:
    value = canonical_literal(value)
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


def standardize(expr: Any, *, ddof: int = 0) -> Expr:
    """``(x - mean) / std`` with the mean and std learned from the training rows.

    Parameters
    ----------
    expr : Expr or str
        A numeric expression (or column name).
    ddof : int, default 0
        Delta degrees of freedom of the std: 0 (population) as scikit-learn's
        ``StandardScaler``; note that polars' ``std()`` defaults to 1.

    A constant training column gives ``0.0``; NaN and ±inf are ignored when
    fitting and propagate when transforming (NaN gives NaN, inf gives inf).

    Examples
    --------
    >>> standardize(col("distance").log1p())
    <Expr standardize(col('distance').log1p(), ddof=0)>
    """
    return Expr(fitted.Standardize(_node(expr), ddof))


def min_max_scale(expr: Any) -> Expr:
    """``(x - min) / (max - min)``: the training range maps to ``[0, 1]`` (no clipping outside it).

    Examples
    --------
    >>> min_max_scale("air_time")
    <Expr min_max_scale(col('air_time'))>
    """
    return Expr(fitted.MinMaxScale(_node(expr)))


def robust_scale(expr: Any, *, quantile_range: tuple[float, float] = (0.25, 0.75)) -> Expr:
    """``(x - median) / (q_high - q_low)``: scikit-learn's ``RobustScaler`` (quantiles in [0, 1], not percent).

    Examples
    --------
    >>> robust_scale("distance")
    <Expr robust_scale(col('distance'), q_low=0.25, q_high=0.75)>
    """
    lo, hi = quantile_range
    return Expr(fitted.RobustScale(_node(expr), _number(lo), _number(hi)))


def winsorize(expr: Any, lower: float = 0.05, upper: float = 0.95) -> Expr:
    """Clip to the ``lower`` and ``upper`` quantiles learned from the training rows.

    Examples
    --------
    >>> winsorize("dep_delay", 0.01, 0.99)
    <Expr winsorize(col('dep_delay'), lower=0.01, upper=0.99)>
    """
    return Expr(fitted.Winsorize(_node(expr), _number(lower), _number(upper)))


def impute(expr: Any, strategy: str = "mean", *, fill_value: Any = None) -> Expr:
    """Replace missing values (null, and NaN for floats) by a learned or given value.

    Parameters
    ----------
    strategy : {"mean", "median", "most_frequent", "constant"}
        As scikit-learn's ``SimpleImputer``; mean and median give Float64.
    fill_value : scalar, optional
        The value for ``"constant"``; for the other strategies, the value used
        when the training rows hold no non-missing value.

    Examples
    --------
    >>> impute("dep_delay", "median")
    <Expr impute(col('dep_delay'), strategy='median', fill_value=None)>
    """
    return Expr(fitted.Impute(_node(expr), strategy, canonical_literal(fill_value)))


def ordinal_encode(expr: Any, *, max_categories: int | None = None, min_frequency: int | float | None = None) -> Expr:
    """Category -> Int64 code over a learned vocabulary; ``k`` = other (unseen/infrequent), ``k + 1`` = null.

    Examples
    --------
    >>> ordinal_encode("dest", min_frequency=100)
    <Expr ordinal_encode(col('dest'), max_categories=None, min_frequency=100)>
    """
    return Expr(fitted.OrdinalEncode(_node(expr), max_categories, min_frequency))


def one_hot(expr: Any, *, max_categories: int | None = None, min_frequency: int | float | None = None) -> Expr:
    """One 0/1 Int64 column per learned category, plus ``__other`` and ``__null`` columns.

    A feature ``carrier_oh = one_hot(col("carrier"))`` becomes the columns
    ``carrier_oh__AA``, ``carrier_oh__B6``, ..., ``carrier_oh__other`` and
    ``carrier_oh__null`` (see :class:`skewless.ir.fitted.OneHot` for the
    naming rule). It must be a feature of its own.

    Examples
    --------
    >>> one_hot(col("carrier"), max_categories=10)
    <Expr one_hot(col('carrier'), max_categories=10, min_frequency=None)>
    """
    return Expr(fitted.OneHot(_node(expr), max_categories, min_frequency))


def frequency_encode(expr: Any) -> Expr:
    """The fraction of training rows holding the value (null is a category; unseen gives 0.0).

    Examples
    --------
    >>> frequency_encode("dest")
    <Expr frequency_encode(col('dest'))>
    """
    return Expr(fitted.FrequencyEncode(_node(expr)))


def target_encode(expr: Any, *, smoothing: float = 10.0, folds: int = 5) -> Expr:
    """Smoothed mean of the label per category (``fit(..., label=...)`` names the label).

    ``(sum_c + smoothing * prior) / (n_c + smoothing)``; unseen categories get
    the prior. Training rows get out-of-fold encodings from
    ``fitted.transform_training`` (``folds`` folds), serving the full-data ones.

    Examples
    --------
    >>> target_encode(col("route"), smoothing=20)
    <Expr target_encode(col('route'), smoothing=20.0, folds=5)>
    """
    return Expr(fitted.TargetEncode(_node(expr), _number(smoothing), folds))


def quantile_bucketize(expr: Any, n_bins: int = 5) -> Expr:
    """Bucket index ``0 .. n_bins-1`` between learned quantiles (numpy "linear"); NaN/null give null.

    Examples
    --------
    >>> quantile_bucketize("sched_dep_time", 8)
    <Expr quantile_bucketize(col('sched_dep_time'), n_bins=8)>
    """
    return Expr(fitted.QuantileBucketize(_node(expr), n_bins))


def uniform_bucketize(expr: Any, n_bins: int = 5) -> Expr:
    """Bucket index ``0 .. n_bins-1`` of equal width between the learned min and max.

    Examples
    --------
    >>> uniform_bucketize("distance", 10)
    <Expr uniform_bucketize(col('distance'), n_bins=10)>
    """
    return Expr(fitted.UniformBucketize(_node(expr), n_bins))


# --------------------------------------------------------------------------- applied ops


def map_values(expr: Any, mapping: Mapping[Any, Any], default: Any = None, *, dtype: Any = None) -> Expr:
    """Look each value up in a fixed ``mapping``; ``default`` for other values, null stays null.

    Like polars' ``replace_strict(old, new, default=...)``, except that null
    is never looked up (polars maps it to the default).

    Examples
    --------
    >>> map_values("carrier", {"AA": 1, "DL": 2}, default=0)
    <Expr map_values(col('carrier'), {'AA': 1, 'DL': 2}, default=0)>
    """
    keys = tuple(canonical_literal(k) for k in mapping)
    values = tuple(canonical_literal(v) for v in mapping.values())
    default = canonical_literal(default)
    if dtype is None:
        seen = [literal_dtype(v) for v in (*values, default) if v is not None]
        if not seen:
            raise ExprTypeError("map_values(): give dtype= when the mapping is empty and the default is None")
        dtype = Float64() if any(isinstance(d, Float64) for d in seen) else seen[0]
    dtype = to_dtype(dtype)
    if isinstance(dtype, Float64):
        values = tuple(_number(v) for v in values)
        default = _number(default)
    return Expr(applied.MapValues(_node(expr), keys, values, default, dtype))


def bucketize(expr: Any, edges: Iterable[float], *, closed: str = "left") -> Expr:
    """Index of the bucket holding the value among fixed, strictly increasing ``edges``.

    ``closed="left"``: buckets ``[e_i, e_{i+1})`` (``bisect_right``);
    ``closed="right"``: ``(e_i, e_{i+1}]``. NaN and null give null.

    Examples
    --------
    >>> bucketize("distance", [500, 1500])
    <Expr bucketize(col('distance'), [500.0, 1500.0], closed='left')>
    """
    return Expr(applied.Bucketize(_node(expr), tuple(float(_number(e)) for e in edges), closed))
