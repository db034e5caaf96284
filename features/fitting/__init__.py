"""Fit a feature set's fitted ops on training data, then lower them into ordinary IR.

>>> import polars as pl
>>> from skewless import FeatureSet, Input, Float64, String, col, fit, standardize, one_hot
>>> fs = FeatureSet("demo", {"x": Float64, "c": Input(String, nullable=True)},
...                 {"x_std": standardize(col("x")), "c_oh": one_hot(col("c"))})
>>> fitted = fit(fs, pl.DataFrame({"x": [1.0, 2.0, 3.0], "c": ["a", "b", None]}))
>>> fitted.row_fn({"x": 3.0, "c": "zz"})
{'x_std': 1.224744871391589, 'c_oh__a': 0, 'c_oh__b': 0, 'c_oh__other': 1, 'c_oh__null': 0}

How it works
------------
1. **Learn** (:mod:`.learn`, :mod:`.plan`). Every fitted node (``standardize``,
   ``one_hot``, ...) in the definition gets a *state*: a small JSON-able dict of
   learned numbers and vocabularies. The aggregations of all fitted nodes that do
   not depend on each other run together, in one ``select`` (plus one ``group_by``
   per category count, quantile or ``target_encode``) collected with a single
   ``polars.collect_all`` over the lazy training frame; nested fitted nodes are
   learned innermost first, one such pass per nesting level, each reading the
   inner ones already lowered.
2. **Lower** (:mod:`.lowering`). Each fitted node is replaced by ordinary ops
   holding its state as literals: ``(x - mean) / std``, ``map_values(...)``,
   ``bucketize(...)``, ``clip(...)``, ``fill_null(...)``; a ``one_hot`` feature
   becomes one :class:`~skewless.ir.applied.OneHotColumns` node over its ordinal
   code, expanded into its columns by each backend. The result is a plain
   :class:`~skewless.feature_set.FeatureSet` (``fitted.lowered``), so both
   compilers, the code generator and :func:`~skewless.parity.check_parity` work
   on it unchanged. Lowering is pure Python (no polars): loading an artifact in a
   serving process re-lowers the stored state.

Each fitted op declares both in one place, a :class:`~.rules.FittedRule`
registered in :data:`~.rules.RULES` for its IR class; the rules live with their
op family: :mod:`.scalers`, :mod:`.imputation`, :mod:`.encoders`,
:mod:`.bucketizers`. Semantics of each op (NaN, constant columns, empty
vocabularies, quantiles) are documented in :mod:`skewless.ir.fitted`; the
training rows' out-of-fold target encodings in :mod:`.fitted_set`.
"""

from __future__ import annotations

from . import bucketizers, encoders, imputation, scalers  # noqa: F401  (register the rules)
from .encoders import one_hot_columns, target_encoding
from .fitted_set import FittedFeatureSet
from .learn import fit
from .lowering import fitted_nodes, lower, node_key
from .rules import RULES, FitError, FittedRule

__all__ = ["fit", "FittedFeatureSet", "FitError", "fitted_nodes", "node_key", "lower", "one_hot_columns",
           "target_encoding", "FittedRule", "RULES"]
