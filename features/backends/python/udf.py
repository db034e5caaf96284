"""Python rule: a udf, called directly from the generated per-request function.

Each argument is converted from the generated code's internal value to the Python value the request
path holds (``_to_external``, the conversions of the function's outputs), the function is called on
them, and its result is checked and made internal again (:func:`skewless.runtime.udf.caller`). The
function itself lives in the generated function's globals, never in its source.
"""

from __future__ import annotations

from ...ir import udf as ops
from ...runtime import udf as rt
from .codegen import Arg, Emitter, _to_external
from .table import RULES


@RULES.register(ops.Udf)
def _udf(e: Emitter, node: ops.Udf, args: list[Arg]):
    fn = ops.resolve(node)
    where = f"udf {node.name} (feature {e.feature!r})"
    call = e.const(rt.caller(fn, rt.result_checker(node.return_dtype, node.nullable, where)), "udf")
    values = ", ".join(f"({_to_external(e, a.src, a.field)})" for a in args)
    return f"{call}({values})"
