"""skewless features: write features once, run them in batch (polars) and per request (Python).

>>> from skewless import col, feature_set, Input, Float64
>>> @feature_set
... class example:
...     x = Input(Float64, nullable=True)
...     x_log = col("x").log1p().fill_null(0.0)
>>> example.row_fn({"x": 0.0})
{'x_log': 0.0}
"""

if not __name__.startswith("skewless"):  # the repository folder imported under its own name
    raise ImportError(
        f"this folder is the package skewless{'' if __name__ == 'features' else '.' + __name__}; "
        f"import it as such (pip install -e . maps the repository's folders into the skewless namespace)"
    )

from .api.expr import Expr, coalesce, col, lit, when
from .api.numeric import max_horizontal, min_horizontal, sum_horizontal
from .api.strings import concat_str
from .api.temporal import duration
from .api.udf import udf
from .ir.udf import UdfError
from .dtypes import Boolean, DataType, Date, Datetime, Duration, Field, Float64, Int64, String
from .errors import (
    CompileError,
    DefinitionError,
    ExprTypeError,
    InvalidOperationError,
    SchemaError,
    SkewlessError,
)
from .compiled import CompiledFeatureSet
from .feature_set import Feature, FeatureSet, Input, feature_set
from .api.fitted import __all__ as _fitted_api
from .api.fitted import *  # noqa: F403  (standardize, one_hot, ..., map_values, bucketize)
from .fitting import FittedFeatureSet, fit
from .state.lookups import EntityTable, Lookup
from .windows.declared import Windowed
from .windows.spec import EventSource, Windows

__version__ = "0.1.0"

__all__ = [
    "Expr",
    "col",
    "lit",
    "when",
    "coalesce",
    "concat_str",
    "duration",
    "udf",
    "UdfError",
    "min_horizontal",
    "max_horizontal",
    "sum_horizontal",
    "Boolean",
    "DataType",
    "Date",
    "Datetime",
    "Duration",
    "Field",
    "Float64",
    "Int64",
    "String",
    "CompiledFeatureSet",
    "Feature",
    "FeatureSet",
    "Input",
    "feature_set",
    "SkewlessError",
    "DefinitionError",
    "ExprTypeError",
    "SchemaError",
    "CompileError",
    "InvalidOperationError",
]
__all__ += [*_fitted_api, "fit", "FittedFeatureSet", "EntityTable", "Lookup", "EventSource", "Windows", "Windowed"]
