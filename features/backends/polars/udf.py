"""Polars rule: a udf, called per row by a batch kernel over a struct of its arguments.

``map_batches`` (elementwise, so the streaming engine streams it) hands the kernel a struct Series of
the arguments; each field is read as its physical values and converted to Python values exactly as the
per-request function converts them (:func:`skewless.runtime.udf.to_python`: the pinned time-zone
database, not polars' own conversion), the same function is called row by row, and each result goes
through the same check (:func:`skewless.runtime.udf.result_checker`) before the column is rebuilt from
the physical values and cast to the declared dtype. polars' ``map_elements`` is not used: it converts
values itself and skips nulls.
"""

from __future__ import annotations

from ...dtypes import Date, Datetime, Duration
from ...ir import udf as ops
from ...runtime import udf as rt
from .dtypes import to_polars
from .lazy import pl
from .table import RULES


def _physical(dtype):
    if isinstance(dtype, Date):
        return pl.Int32
    if isinstance(dtype, (Datetime, Duration)):
        return pl.Int64
    return to_polars(dtype)


@RULES.register(ops.Udf)
def _udf(c, node: ops.Udf, args):
    fn = ops.resolve(node)
    where = f"udf {node.name} (feature {c.feature!r})"
    check = rt.result_checker(node.return_dtype, node.nullable, where)
    readers = [rt.to_python(a.dtype) for a in args]
    names = [f"a{i}" for i in range(len(args))]
    out_dtype = to_polars(node.return_dtype)
    physical = _physical(node.return_dtype)

    def kernel(s):
        columns = []
        for name, read in zip(names, readers):
            values = s.struct.field(name).to_physical().to_list()
            columns.append(values if read is None else [None if v is None else read(v) for v in values])
        out = rt.call_batch(fn, columns, node.return_dtype, node.nullable, check)
        result = pl.Series(s.name, out, dtype=physical)
        return result if physical is out_dtype else result.cast(out_dtype)

    struct = pl.struct([a.expr.alias(n) for a, n in zip(args, names)])
    return struct.map_batches(kernel, return_dtype=out_dtype, is_elementwise=True)
