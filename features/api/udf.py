"""``skewless.udf``: the escape hatch for a computation skewless lacks (see :mod:`skewless.ir.udf`)."""

from __future__ import annotations

from typing import Any, Callable

from ..dtypes import to_dtype
from ..errors import ExprTypeError, SchemaError
from ..ir.normalize import is_constant
from ..ir.udf import Udf, UdfError, function_reference, remember
from .expr import Expr, _Refused, wrap

__all__ = ["udf"]


def _refused(fn: Any, message: str) -> Expr:
    what = getattr(fn, "__qualname__", None) or type(fn).__name__
    return Expr(_Refused(message, f"udf({str(what)[:80]}, ...)"))


def udf(fn: Callable[..., Any], *exprs: Any, return_dtype: Any = None, nullable: bool = True) -> Expr:
    """Compute a feature with your own Python function, called once per row, the same on both runtimes.

    The escape hatch for a computation skewless lacks. ``fn`` must be a plain ``def`` at the top level of
    an importable module (not a lambda, a nested function, a method, a builtin, or anything in
    ``__main__``): a bundle records its ``module:qualname`` and the SHA-256 of its source, and
    ``skewless serve`` imports it only when ``SKEWLESS_SERVE_UDF_MODULES`` lists its module and its
    source still has that hash.

    Parameters
    ----------
    fn : function
        Called as ``fn(*values)`` with one Python value per expression, on both runtimes exactly the
        values the per-request function holds: ``None`` for null (nulls are passed, not skipped),
        ``int``, ``float`` (NaN, ``-0.0`` kept), ``str``, ``bool``, ``datetime.date``,
        ``datetime.datetime`` (in the declared zone, aware iff zoned), ``datetime.timedelta``.
    *exprs : Expr or str
        The arguments; a string names a column (as in ``pl.struct("a", "b")``), other scalars are literals.
        At least one must read a column.
    return_dtype : dtype
        Required: ``Int64``, ``Float64``, ``Boolean``, ``String``, ``Date``, ``Datetime(...)`` or ``Duration(...)``.
    nullable : bool
        Whether ``fn`` may return ``None`` (default True).

    Notes
    -----
    The result is checked on both runtimes: an exact ``int`` within Int64, ``float``, ``bool``, ``str``,
    ``date``, naive/aware ``datetime`` as declared (aware: any zone, it is an instant), ``timedelta``,
    nothing finer than the unit; ``None`` only when nullable. Anything else raises
    :class:`~skewless.ir.udf.UdfError` naming the udf and the feature; nothing is ever cast. A float
    result is kept bit for bit (NaN payloads, ``-0.0``): the parity harness compares it bitwise.

    The function is your responsibility: it must be deterministic (same result for the same arguments,
    in every process and on every machine) and keep no state between calls; skewless' op-by-op parity
    argument stops at it (the harness still compares both runtimes on every row it checks). In batch it
    runs in Python per row: measured on 10^6 rows, 3-9 million rows/s for a one-line function, 9-13x
    slower than the native op and 1.1-1.7x slower than polars' ``map_elements``, 35-50x slower than a
    native three-argument expression; per request it adds ~0.1 us (``python -m benchmarks.udf``,
    ``benchmarks/RESULTS.md``). The differential fuzzer does not draw it.

    Examples
    --------
    In a module of your own (``myfeatures/geo.py``)::

        def haversine_km(lat, lon, lat0, lon0):
            if lat is None or lon is None:
                return None
            ...
            return 6371.0 * c

        distance_km = udf(haversine_km, "lat", "lon", 40.64, -73.78, return_dtype=Float64)

    """
    try:
        module, qualname, sha = function_reference(fn)
    except UdfError as exc:
        return _refused(fn, str(exc))
    name = f"{module}:{qualname}"
    if return_dtype is None:
        return _refused(fn, f"udf {name}: give return_dtype= (Int64, Float64, Boolean, String, Date, Datetime(...) "
                            f"or Duration(...)): a udf is typed when it is defined")
    try:
        dtype = to_dtype(return_dtype)
    except (SchemaError, TypeError, ValueError) as exc:
        return _refused(fn, f"udf {name}: return_dtype: {exc}")
    if type(nullable) is not bool:
        return _refused(fn, f"udf {name}: nullable must be True or False, got {nullable!r}")
    nodes = []
    for i, value in enumerate(exprs):
        try:
            nodes.append(wrap(value, str_as_col=True))
        except ExprTypeError as exc:
            return _refused(fn, f"udf {name}: argument {i}: {exc}")
    if not nodes or all(is_constant(n) for n in nodes):
        return _refused(fn, f"udf {name}: needs at least one argument that reads a column (a constant needs no "
                            f"udf: compute it in Python and use lit())")
    remember(fn, (module, qualname, sha))
    return Expr(Udf(tuple(nodes), module, qualname, sha, dtype, nullable))


#: the differential fuzzer does not draw udf (parity_tests/fuzz reads this): it has no user function to call
udf.not_fuzzed = Udf.not_fuzzed  # type: ignore[attr-defined]
