"""Polars rules: hashing (``hash_bucket`` with the vetted ``polars-hash`` plugin).

``polars_hash`` is imported on first use, when a feature set is compiled for
polars, never when features are only defined (the serving process).
"""

from __future__ import annotations

from ...dtypes import Null, String
from ...ir import hashing as ops
from .lazy import _LazyModule, pl
from .table import RULES

plh = _LazyModule("polars_hash")


@RULES.register(ops.HashBucket)
def _hash_bucket(c, node, args):
    (a,) = args
    if isinstance(a.dtype, Null):
        return pl.lit(None, dtype=pl.Int64)
    text = a.expr if isinstance(a.dtype, String) else a.expr.cast(pl.String)
    digest = plh.NonCryptographicHashingNameSpace(text).xxhash64(seed=0)  # UInt64
    return (digest % pl.lit(node.n, dtype=pl.UInt64)).cast(pl.Int64)
