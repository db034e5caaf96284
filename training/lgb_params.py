"""LightGBM parameters: names checked against LightGBM's own list, defaults scaled to the data's size.

LightGBM ignores an unknown parameter with a warning that ``verbose=-1`` hides, so a misspelt
``min_data_in_leef=5`` trains silently with the default. :func:`check_params` refuses it naming the
closest valid name (LightGBM's parameter and alias table, read from the library itself).

:func:`size_defaults`: the fixed defaults suit millions of rows; on a few hundred (a 300-row
table gives about 210 training rows) ``min_data_in_leaf=50`` allows at most four leaves and
``min_data_in_bin=3`` coarse bins, so the model barely learns and early stopping decides nothing.
Below 5,000 training rows ``min_data_in_leaf`` is a twentieth of them (at least 3) and
``min_data_in_bin`` 1; a parameter the caller gives always wins.
"""

from __future__ import annotations

import difflib
import functools
from typing import Any, Mapping

from skewless.errors import SkewlessError

__all__ = ["check_params", "size_defaults", "known_params"]

#: Not LightGBM parameters, but keys its Python package reads from ``params`` itself.
_PYTHON_PACKAGE_KEYS = {"early_stopping_round", "early_stopping_rounds", "early_stopping", "n_iter_no_change",
                        "num_boost_round", "num_iterations", "num_iteration", "n_iter", "num_tree", "num_trees",
                        "num_round", "num_rounds", "nrounds", "n_estimators", "max_iter"}


@functools.cache
def known_params() -> dict[str, str]:
    """``{name or alias: main name}`` of every LightGBM parameter (from the installed library)."""
    from lightgbm.basic import _ConfigAliases

    table = _ConfigAliases._get_all_param_aliases()
    out = {}
    for main, aliases in table.items():
        out[main] = main
        for alias in aliases:
            out.setdefault(alias, main)
    return out


def check_params(params: Mapping[str, Any], *, error: type[SkewlessError] = SkewlessError) -> dict[str, Any]:
    """``params`` unchanged when every key is a LightGBM parameter or alias; else raise naming the closest one."""
    names = known_params()
    for key in params:
        if key in names or key in _PYTHON_PACKAGE_KEYS:
            continue
        close = difflib.get_close_matches(str(key), list(names), n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise error(f"unknown LightGBM parameter {key!r}{hint} (see LightGBM's Parameters page)")
    return dict(params)


def size_defaults(train_rows: int) -> dict[str, Any]:
    """Defaults that depend on how many training rows there are (see the module docstring)."""
    if train_rows >= 5000:
        return {}
    return {"min_data_in_leaf": max(3, train_rows // 20), "min_data_in_bin": 1}


def given(params: Mapping[str, Any], main: str) -> bool:
    """Whether ``params`` sets LightGBM parameter ``main`` under its name or any alias."""
    names = known_params()
    return any(names.get(k) == main for k in params)
