"""Python rules: applied state (``map_values``, ``bucketize``, one-hot columns) and the fitted ops' refusal.

Learned constants never reach the generated source as text: a mapping is a
``dict`` and bucket edges a ``tuple`` in the function's globals, so a
vocabulary string holding quotes, newlines or Python code stays data.
"""

from __future__ import annotations

import bisect

from ...dtypes import Int64, Null
from ...errors import CompileError
from ...ir import applied as ops
from ...ir.fitted import FITTED_OPS
from .codegen import Arg, Emitter
from .table import RULES


@RULES.register(ops.MapValues)
def _map_values(e: Emitter, node, args: list[Arg]):
    (a,) = args
    if isinstance(a.dtype, Null):
        return "None"
    default = e.literal(node.default)
    if not node.keys:
        return default
    return f"{e.const(node.mapping(), 'map')}.get({a.src}, {default})"


@RULES.register(ops.Bucketize)
def _bucketize(e: Emitter, node, args: list[Arg]):
    (a,) = args
    if isinstance(a.dtype, Null):
        return "None"
    fn = bisect.bisect_right if node.closed == "left" else bisect.bisect_left
    if isinstance(a.dtype, Int64):
        return f"{e.helper(fn)}({e.const(node.edges, 'edges')}, float({a.src}))" if node.edges else "0"
    # Float64: NaN has no bucket.
    found = f"{e.helper(fn)}({e.const(node.edges, 'edges')}, {a.src})" if node.edges else "0"
    return f"(None if {a.src} != {a.src} else {found})"


@RULES.register(ops.OneHotColumns)
def _one_hot_columns(e: Emitter, node, args: list[Arg]):
    """The row of 0/1 columns of the code, read from a table of ready-made rows (spread into the
    returned dict by ``generate_source``); an unknown code gives all zeros."""
    (a,) = args
    names = node.names
    table = {i: {m: int(j == i) for j, m in enumerate(names)} for i in range(len(names))}
    return f"{e.const(table, 'rows')}.get({a.src}, {e.const({m: 0 for m in names}, 'zeros')})"


def _unfitted(e: Emitter, node, args: list[Arg]):
    raise CompileError(
        f"{node.method}() is a fitted op (feature {e.feature!r}): learn its state first with"
        " skewless.fit(feature_set, training_data) and compile the fitted feature set"
    )


RULES.register(*FITTED_OPS.values())(_unfitted)
