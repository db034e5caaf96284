"""Python rules: hashing (``hash_bucket`` with the ``xxhash`` package)."""

from __future__ import annotations


from ...dtypes import Boolean, Date, Int64, Null
from ...ir import hashing as ops
from ...runtime import hashing as rt
from ...runtime.casts import date_to_str
from .codegen import Arg, Emitter
from .table import RULES


def _text(e: Emitter, a: Arg) -> str:
    """Source of the value's text, exactly as polars' ``cast(String)`` writes it."""
    if isinstance(a.dtype, Int64):
        return f"str({a.src})"
    if isinstance(a.dtype, Boolean):
        return f"('true' if {a.src} else 'false')"
    if isinstance(a.dtype, Date):  # internal: days since 1970-01-01; a computed Date can be in any year
        return f"{e.helper(date_to_str)}({a.src})"
    return a.src


@RULES.register(ops.HashBucket)
def _hash_bucket(e: Emitter, node, args: list[Arg]):
    (a,) = args
    if isinstance(a.dtype, Null):
        return "None"
    return f"{e.helper(rt.xxh64_intdigest)}({_text(e, a)}.encode()) % {node.n}"
