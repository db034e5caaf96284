"""Top-level functions over several expressions: ``min_horizontal``, ``concat_str``, ...

``min_horizontal``/``max_horizontal``/``sum_horizontal`` belong to the numeric
category, ``concat_str`` to strings; each category fills in its function.
"""

from __future__ import annotations

from typing import Any

from .expr import Expr


def _todo(name: str):
    def fn(*exprs: Any, **kwargs: Any) -> Expr:
        raise NotImplementedError(name)

    fn.__name__ = name
    return fn


min_horizontal = _todo("min_horizontal")
max_horizontal = _todo("max_horizontal")
sum_horizontal = _todo("sum_horizontal")
concat_str = _todo("concat_str")
