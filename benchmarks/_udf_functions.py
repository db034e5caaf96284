"""The functions benchmarks/udf.py runs as udfs (a udf names a module-level function of an importable module)."""

import math


def abs_log1p(x):
    return None if x is None else math.log1p(abs(x))


def weighted(x, y, w):
    if x is None or y is None or w is None:
        return None
    return x * w + y * (1.0 - w)
