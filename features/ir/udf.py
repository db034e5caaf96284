"""The escape hatch: ``udf(fn, *exprs, return_dtype=..., nullable=...)``, a user's Python function as an op.

A :class:`Udf` node names its function by ``module:qualname`` and the SHA-256 of its source
(``inspect.getsource``), never by holding the function object: the IR stays plain data (its JSON
form, its fingerprint and a bundle's ``feature_set.json`` record the three), and a runtime finds the
function by importing the module (:func:`resolve`), refusing it when its source has changed since
the definition was made.

What the function receives and must return is the same on both runtimes: one Python value per
argument, exactly the values the per-request function works with (``None`` for null; ``int``,
``float``, ``str``, ``bool``, ``datetime.date``, ``datetime.datetime`` in the declared zone, read
from the instant with skewless' pinned time-zone database, ``datetime.timedelta``), converted by
:mod:`skewless.runtime.udf` in both. Its result is checked against ``return_dtype`` and
``nullable`` on both runtimes (exact types, never cast; see :mod:`skewless.runtime.udf`).

What skewless cannot prove: the op-by-op parity argument stops at a udf (skewless does not know
what the function computes); the parity harness still compares both runtimes on every row it is
given. The function must be deterministic (the same result for the same arguments, in every
process), must not keep state between calls, and runs once per row in Python in batch too, so it is
slow there (measured in ``benchmarks/udf.py``).
"""

from __future__ import annotations

import hashlib
import inspect
import re
from dataclasses import dataclass
from typing import Any, Callable

from ..dtypes import Boolean, DataType, Date, Datetime, Duration, Field, Float64, Int64, Null, String
from ..errors import SkewlessError
from .base import InferContext, Node, require

__all__ = ["Udf", "UdfError", "RETURN_DTYPES", "function_reference", "resolve", "source_sha256", "remember"]

#: The dtypes a udf may take and return (every skewless dtype but Null).
RETURN_DTYPES = (Int64, Float64, Boolean, String, Date, Datetime, Duration)

_HEX64 = re.compile(r"[0-9a-f]{64}")
_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class UdfError(SkewlessError, ValueError):
    """A udf's function cannot be used: it is not importable, its source changed, or it returned a
    value that is not its declared type (the message names the function and the feature)."""


def source_sha256(fn: Callable[..., Any]) -> str:
    """SHA-256 (hex) of ``inspect.getsource(fn)`` encoded as UTF-8."""
    return hashlib.sha256(inspect.getsource(fn).encode("utf-8")).hexdigest()


def function_reference(fn: Any) -> tuple[str, str, str]:
    """``(module, qualname, source SHA-256)`` of a function a udf can name; raises :class:`UdfError` saying why not.

    Accepted: a plain ``def`` at the top level of an importable module (not ``__main__``), found again
    under its name when the module is imported, with readable source.
    """
    if not callable(fn):
        raise UdfError(f"udf() needs a function as its first argument, got {type(fn).__name__}")
    what = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or type(fn).__name__
    if inspect.ismethod(fn):
        raise UdfError(f"udf() cannot take a method ({what}): define a function at the top level of a module")
    if inspect.isbuiltin(fn) or not inspect.isfunction(fn):
        raise UdfError(f"udf() takes a plain Python function (def at the top level of a module), got "
                       f"{what!r} ({type(fn).__name__}); wrap it in a def of your own")
    if fn.__name__ == "<lambda>":
        raise UdfError("udf() cannot take a lambda: a bundle names the function as module:qualname, and a lambda "
                       "has no name; define it with def at the top level of a module")
    qualname, module = fn.__qualname__, fn.__module__
    if "<locals>" in qualname:
        raise UdfError(f"udf() cannot take a nested function ({qualname}): define it at the top level of a module")
    if not _NAME.fullmatch(qualname):
        raise UdfError(f"udf() takes a function defined at the top level of a module, got {qualname!r} (a method "
                       f"or class attribute)")
    if inspect.iscoroutinefunction(fn) or inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn):
        raise UdfError(f"udf() needs a function that returns its value, {qualname} is a coroutine or generator")
    if not module or module == "__main__" or not _DOTTED.fullmatch(module):
        raise UdfError(f"udf() cannot take {qualname}, defined in {module!r} (a script or notebook): the service "
                       f"imports the function by module name; move it into a module")
    try:
        found = _import(module, qualname)
    except UdfError:
        found = None
    if found is not fn:
        raise UdfError(f"udf(): {module}:{qualname} is not importable as that name (importing the module gives "
                       f"{'nothing' if found is None else 'another object'}); define it at the top level of the "
                       f"module, not redefined or generated")
    try:
        sha = source_sha256(fn)
    except (OSError, TypeError) as exc:
        raise UdfError(f"udf(): the source of {module}:{qualname} cannot be read ({exc}); a bundle records its "
                       f"SHA-256") from None
    return module, qualname, sha


def _import(module: str, qualname: str) -> Any:
    from ..io import _import_module  # (the current directory is searched too, as uvicorn and the CLI do)

    try:
        mod = _import_module(module)
    except Exception as exc:  # any failure of the user's module is reported, never a traceback
        raise UdfError(f"udf {module}:{qualname}: the module {module!r} cannot be imported "
                       f"({type(exc).__name__}: {exc})") from None
    fn = getattr(mod, qualname, None)
    if fn is None:
        raise UdfError(f"udf {module}:{qualname}: the module {module!r} has no {qualname!r}")
    return fn


#: Functions already checked in this process, by (module, qualname, source SHA-256).
_FUNCTIONS: dict[tuple[str, str, str], Callable[..., Any]] = {}


def remember(fn: Callable[..., Any], key: tuple[str, str, str]) -> None:
    """Record that ``fn`` is the function of ``key`` (done when a udf is defined in this process)."""
    _FUNCTIONS[key] = fn


def resolve(node: "Udf") -> Callable[..., Any]:
    """The function of ``node``: imported by ``module:qualname`` (once per process) and refused,
    naming it and both hashes, unless its source still has the recorded SHA-256."""
    key = (node.module, node.qualname, node.source_sha256)
    fn = _FUNCTIONS.get(key)
    if fn is not None:
        return fn
    fn = _import(node.module, node.qualname)
    if not inspect.isfunction(fn):
        raise UdfError(f"udf {node.module}:{node.qualname} is not a function any more ({type(fn).__name__})")
    try:
        sha = source_sha256(fn)
    except (OSError, TypeError) as exc:
        raise UdfError(f"udf {node.module}:{node.qualname}: its source cannot be read ({exc})") from None
    if sha != node.source_sha256:
        raise UdfError(f"udf {node.module}:{node.qualname}: its source now has SHA-256 {sha}, the definition "
                       f"records {node.source_sha256}: the function changed since the feature set (or bundle) "
                       f"was made; restore it or train again")
    _FUNCTIONS[key] = fn
    return fn


@dataclass(frozen=True, slots=True)
class Udf(Node):
    """``udf(fn, *exprs, return_dtype=..., nullable=...)``: a user's Python function, called once per row.

    Both runtimes call the same function on the same Python values (``None`` for null: the op does not
    propagate nulls, the function decides) and check its result: exactly ``int`` (within Int64) for
    Int64, ``float`` for Float64, ``bool``, ``str``, ``datetime.date`` (not a datetime) for Date, a naive
    ``datetime.datetime`` for a naive Datetime and an aware one (any zone: it is an instant) for a zoned
    one, ``datetime.timedelta`` for Duration; nothing finer than a millisecond for an ``"ms"`` unit;
    ``None`` only when ``nullable``. Anything else raises :class:`UdfError` naming the udf and the
    feature, on both runtimes (never a cast). Float results are kept bit for bit: NaN (with its
    payload), ``-0.0`` and infinities are the function's to return and compare bitwise in parity.
    Not fuzzed (the differential fuzzer cannot write functions) and outside the op-by-op proof: the
    function must be deterministic; it runs in Python per row in batch too: on 10^6 rows 3-9 million
    rows/s, 9-13x slower than a native one-argument op and 35-50x slower than a native three-argument
    expression (``python -m benchmarks.udf``, two runs on a loaded 2-core machine); per request it adds
    ~0.1 us.
    """

    method = "udf"
    #: why the differential fuzzer does not draw this op (parity_tests/fuzz reads it)
    not_fuzzed = "a udf calls a user's Python function: the fuzzer has none to draw (parity cases cover it)"
    propagates_nulls = False
    args: tuple[Node, ...]
    module: str
    qualname: str
    source_sha256: str
    return_dtype: DataType
    nullable: bool = True

    @property
    def name(self) -> str:
        return f"{self.module}:{self.qualname}"

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        require(type(self.module) is str and _DOTTED.fullmatch(self.module) is not None
                and type(self.qualname) is str and _NAME.fullmatch(self.qualname) is not None,
                f"udf(): {self.module!r}:{self.qualname!r} is not a module-level function name")
        require(type(self.source_sha256) is str and _HEX64.fullmatch(self.source_sha256) is not None,
                "udf(): the source hash must be 64 hex digits")
        require(isinstance(self.return_dtype, RETURN_DTYPES),
                f"udf {self.name}: return_dtype must be one of Int64, Float64, Boolean, String, Date, Datetime, "
                f"Duration, got {self.return_dtype!r}")
        require(type(self.nullable) is bool, f"udf {self.name}: nullable must be True or False")
        require(len(args) >= 1, f"udf {self.name}: needs at least one argument")
        for i, a in enumerate(args):
            require(not isinstance(a.dtype, Null),
                    f"udf {self.name}: argument {i} is an untyped null; give it a dtype, e.g. lit(None, dtype=Int64)")
        return Field(self.return_dtype, self.nullable)

    def render(self, args: list[str]) -> str:
        inner = ", ".join([self.name, *args, f"return_dtype={self.return_dtype!r}", f"nullable={self.nullable}"])
        return f"udf({inner})"
