"""Generate one straight-line Python function per feature set.

The technique is the one attrs and dataclasses use: build the source as text
plus a globals dict, ``compile`` it under a readable filename and register the
text with :mod:`linecache`, so tracebacks and pdb show the generated lines.

Safety: the only user-controlled text that reaches the source is emitted with
``repr`` of an exact ``str``, ``int``, ``float`` or ``bool`` (which cannot break
out of a literal); every other constant (regexes, zones, sets, datetimes,
non-finite floats) lives in the globals dict under a generated name. Comments
only carry names that are plain identifiers.

Determinism: :func:`generate_source` gives byte-identical text for the same
definition in every process. Names of temporaries, constants and helpers
depend only on the order in which rules ask for them and on the helpers'
qualified names (``_date_fromordinal``), never on ``id()`` or hash order
(``tests/test_codegen_determinism.py``); the demo sets' source is committed
as snapshots (``tests/snapshots/codegen/``).

Representation inside the generated code mirrors polars' physical one:
``Datetime`` is an integer count of its time unit since the Unix epoch (UTC),
``Date`` an integer count of days, ``Duration`` an integer count of its unit.
Inputs are converted on entry and outputs on return.
"""

from __future__ import annotations

import contextlib
import keyword
import linecache
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping

from ...dtypes import Date, Datetime, Duration, Field, Float64, Int64, String
from ...errors import CompileError
from ...ir.base import Column, Literal, Node, walk
from ...ir.core import Cast, Eq, When
from ...ir.numeric import FillNan
from ...ir.temporal import StrToTemporal
from ...runtime import convert
from ..driver import Driver
from ..registry import OperandInfo
from .ranges import ValueRanges
from .table import RULES

if TYPE_CHECKING:
    from ...feature_set import FeatureSet

__all__ = ["Arg", "Emitter", "GeneratedSource", "CompiledFunction", "generate_source", "compile_source",
           "compile_feature_set"]

_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,40}")


def _fallible_casts(node: Node, fields: Mapping[Node, Field]) -> list[Node]:
    """The strict casts under ``node`` that can fail on some value (the only ops that raise at run time)."""
    out = []
    for n in walk(node):
        if isinstance(n, StrToTemporal) and n.strict:  # polars evaluates it on the rows that reach it, too
            out.append(n)
        elif isinstance(n, Cast) and n.strict:
            src, dst = fields[n.operand].dtype, n.dtype
            if (isinstance(src, Float64) and isinstance(dst, Int64)) or (
                    isinstance(src, String) and isinstance(dst, (Int64, Float64))):
                out.append(n)
    return out


def _lazy_positions(node: Node) -> list[Node]:
    """The operands polars evaluates only on the rows that reach them: ``then``/``otherwise`` values
    and later conditions of a ``when``, the value of a ``fill_nan`` (on its NaN rows)."""
    if isinstance(node, FillNan):
        return [node.value]
    return list(node.operands[1:])


@dataclass(frozen=True, slots=True)
class Arg(OperandInfo):
    """An operand as a rule sees it: source text of its value, its static field and IR node.

    ``guarded``: the driver already tests this operand for None around the code the rule
    returns (the op propagates nulls), so that code may treat it as present. Code a rule
    emits itself (:meth:`Emitter.emit`, :meth:`Emitter.shared`) runs outside that guard.
    """

    src: str
    field: Field
    node: Node
    guarded: bool = False

    @property
    def maybe_none(self) -> bool:
        """Whether the value may be None where the rule's returned code runs."""
        return self.field.nullable and not self.guarded


#: Names of the non-finite float constants in the generated code.
_NON_FINITE = {"inf": "_INF", "-inf": "_NEG_INF", "nan": "_NAN"}

_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


def _helper_base(fn: Callable[..., Any]) -> str:
    """A readable global name for a helper from its qualified name: ``date.fromordinal`` -> ``_date_fromordinal``."""
    qualname = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or type(fn).__name__
    if not _DOTTED.fullmatch(qualname):  # a closure (``make.<locals>.rule``): its own name
        qualname = getattr(fn, "__name__", "") or "helper"
        qualname = qualname if _DOTTED.fullmatch(qualname) else "helper"
    return "_" + "_".join(part.strip("_") or "x" for part in qualname.split("."))


class Emitter(Driver):
    """Accumulates the function body; rules call its helpers (see :class:`~skewless.backends.driver.Driver`).

    Every name it gives (temporaries, constants, helpers) depends only on the order
    in which the rules ask for them, never on object ids or hashes, so the same
    definition generates the same source in every process.
    """

    rules = RULES

    def __init__(self, fields: Mapping[Node, Field]):
        super().__init__(fields)
        self.lines: list[str] = []
        self.globals: dict[str, Any] = {"__builtins__": __builtins__}
        self._const_names: dict[tuple, str] = {}
        self._helper_names: dict[Any, str] = {}
        self._shared: dict[Any, str] = {}
        self._n = 0
        self._indent = 0  # block depth of emitted lines (see block())
        #: how often each node occurs in the features' expression trees (shared subtrees repeat)
        self.uses: dict[Node, int] = {}
        #: Integer intervals of the nodes: rules omit Int64 overflow checks that cannot fire.
        self.ranges = ValueRanges(fields)

    # --- names and constants ---------------------------------------------------
    def tmp(self) -> str:
        self._n += 1
        return f"_t{self._n}"

    def _free_name(self, base: str) -> str:
        name, k = base, 1
        while name in self.globals:
            k += 1
            name = f"{base}_{k}"
        return name

    def const(self, value: Any, hint: str = "c") -> str:
        """Put ``value`` in the globals dict and return its name (deduplicated)."""
        # Key by value where it is hashable (compiled regexes, frozensets, zones); repr is
        # not enough (a compiled pattern's repr is cut at 200 characters). The name only
        # counts constants, so it does not depend on the key.
        try:
            key: tuple = (type(value), value, hint)
            hash(key)
        except TypeError:
            key = (type(value), id(value), hint)
        name = self._const_names.get(key)
        if name is None:
            name = self._free_name(f"_{hint}{len(self._const_names)}")
            self._const_names[key] = name
            self.globals[name] = value
        return name

    def helper(self, fn: Callable[..., Any]) -> str:
        """Make a runtime helper function callable from the generated code.

        The name comes from the helper's qualified name (``_date_fromordinal``);
        helpers are told apart by equality, so a bound method fetched twice
        (``date.fromordinal``) is one helper.
        """
        name = self._helper_names.get(fn)
        if name is None:
            name = self._free_name(_helper_base(fn))
            self._helper_names[fn] = name
            self.globals[name] = fn
        return name

    def literal(self, value: Any) -> str:
        """Source text for a constant: a Python literal when provably safe, else a global."""
        t = type(value)
        if value is None or t is bool:
            return repr(value)
        if t is int:
            return repr(value) if value >= 0 else f"({value!r})"
        if t is float:
            text = repr(value)
            if math.isfinite(value):
                return text if not text.startswith("-") else f"({text})"
            name = _NON_FINITE[text]
            self.globals[name] = value
            return name
        if t is str:
            return repr(value)
        return self.const(value)

    def emit(self, line: str) -> None:
        self.lines.append("    " * (1 + self._indent) + line)

    def count_uses(self, node: Node) -> None:
        for n in walk(node):
            self.uses[n] = self.uses.get(n, 0) + 1

    @contextlib.contextmanager
    def block(self) -> Iterator[None]:
        """Emit into an indented block (the body of an ``if``/``else``) whose values stay inside it:
        nodes compiled there are forgotten afterwards, so code after the block never reads a
        variable the block may not have set."""
        memo, shared = dict(self.memo), dict(self._shared)
        self._indent += 1
        try:
            yield
        finally:
            self._indent -= 1
            self.memo, self._shared = memo, shared

    def shared(self, key: Any, make: Callable[[], str]) -> str:
        """Compute an auxiliary value once per function (e.g. a local wall-clock tuple).

        ``make`` returns an expression; it is assigned to a variable the first
        time ``key`` is seen and that variable is returned ever after. The
        expression must be safe to evaluate whenever its operands are not null.
        """
        var = self._shared.get(key)
        if var is None:
            var = self.tmp()
            self.emit(f"{var} = {make()}")
            self._shared[key] = var
        return var

    # --- compiling nodes (the driver's hooks) -------------------------------------
    def compile_literal(self, node: Literal) -> str:
        return self.literal(convert.literal_to_internal(node.value, node.dtype))

    def compile_column(self, node: Column) -> str:
        raise CompileError(f"input {node.name!r} was not loaded")  # inputs are preloaded

    def operand(self, parent: Node, child: Node, value: str) -> Arg:
        return Arg(value, self.fields[child], child, parent.propagates_nulls)

    def apply(self, rule: Callable[..., Any], node: Node, args: list[Arg]) -> str:
        """Emit the rule's code for ``node`` into a new variable, behind one None test of the
        operands that may be None when the op propagates nulls; return the variable."""
        out = rule(self, node, args)
        var = self.tmp()
        guards = list(dict.fromkeys(a.src for a in args if a.nullable)) if node.propagates_nulls else []
        cond = " or ".join(f"{g} is None" for g in guards)
        if isinstance(out, str):
            self.emit(f"{var} = None if {cond} else {out}" if guards else f"{var} = {out}")
        else:
            body = [s.replace("{out}", var) for s in out]
            if guards:
                self.emit(f"if {cond}:")
                self.emit(f"    {var} = None")
                self.emit("else:")
                body = ["    " + s for s in body]
            for s in body:
                self.emit(s)
        return var

    #: Source text of a variable or literal holding a node's value (the driver's ``compile``).
    def compile_whole(self, node: Node) -> str | None:
        """``when`` and ``fill_nan`` evaluate an operand that may raise (a strict cast) only on the
        rows that reach it, as polars does (see :meth:`_lazy`); None for every other node."""
        if isinstance(node, (When, FillNan)):
            if isinstance(node, FillNan) and not isinstance(self.fields[node.operand].dtype, Float64):
                return None
            casts = [c for n in _lazy_positions(node) for c in _fallible_casts(n, self.fields)]
            # A cast used more than once is computed on every row, first: polars' common
            # sub-expression elimination (on by default, both engines) hoists it out of the branch.
            for c in casts:
                if self.uses.get(c, 1) > 1:
                    self.compile(c)
            if any(self.uses.get(c, 1) <= 1 for c in casts):
                return self._lazy(node)
        return None

    #: Source text of a variable or literal holding a node's value (the driver's ``compile``).
    value = Driver.compile

    def _branch(self, var: str, node: Node, dtype: Any) -> None:
        from .core import coerce

        src = self.compile(node)
        self.emit(f"{var} = {coerce(self, Arg(src, self.fields[node], node), dtype)}")

    def _lazy(self, node: Node) -> str:
        """``when``/``fill_nan`` as if/else blocks: each branch's operands are computed inside it."""
        dtype = self.fields[node].dtype
        var = self.tmp()
        if isinstance(node, FillNan):
            x = self.compile(node.operand)
            self.emit(f"if {x} != {x}:")  # NaN (None != None is False: null stays null)
            with self.block():
                self._branch(var, node.value, dtype)
            self.emit("else:")
            with self.block():
                self._branch(var, node.operand, dtype)
            return var
        ops = node.operands

        def chain(i: int) -> None:
            if i == len(ops) - 1:
                self._branch(var, ops[-1], dtype)
                return
            cond = self.compile(ops[i])  # a null condition is falsy and counts as False (polars)
            self.emit(f"if {cond}:")
            with self.block():
                self._branch(var, ops[i + 1], dtype)
            self.emit("else:")
            with self.block():
                chain(i + 2)

        chain(0)
        return var

    def preload(self, node: Column, var: str) -> None:
        self.memo[node] = var


@dataclass(frozen=True)
class GeneratedSource:
    """The generated per-request function before it is compiled.

    Attributes
    ----------
    name : str
        The function's name in ``source``.
    source : str
        The whole module text (one ``def``); byte-identical for the same definition in any process.
    filename : str
        The readable filename it compiles under (shown in tracebacks).
    globals : dict
        Everything the source refers to besides builtins: helpers and constants, by their names.
    """

    name: str
    source: str
    filename: str
    globals: dict[str, Any]


@dataclass
class CompiledFunction:
    """The generated per-request function and what produced it."""

    name: str
    source: str
    filename: str
    row_fn: Callable[[Mapping[str, Any]], dict[str, Any]]
    globals: dict[str, Any]

    def __call__(self, row: Mapping[str, Any]) -> dict[str, Any]:
        return self.row_fn(row)


def _local_name(name: str, taken: set[str], prefix: str) -> str:
    """A readable local variable name for an input or feature, never colliding with generated ones."""
    if _IDENT.fullmatch(name) and not keyword.iskeyword(name) and name not in taken and not name.startswith("_"):
        base = f"{prefix}{name}"
    else:
        base = f"{prefix}{len(taken)}"
    while base in taken:
        base += "_"
    taken.add(base)
    return base


def _to_internal(e: Emitter, src: str, field: Field) -> str:
    dt = field.dtype
    if isinstance(dt, Datetime):
        fn = e.helper(convert.datetime_to_epoch_us if dt.time_unit == "us" else convert.datetime_to_epoch_ms)
    elif isinstance(dt, Date):
        fn = e.helper(convert.date_to_days)
    elif isinstance(dt, Duration):
        fn = e.helper(convert.timedelta_to_us if dt.time_unit == "us" else convert.timedelta_to_ms)
    else:
        return src
    return f"None if {src} is None else {fn}({src})" if field.nullable else f"{fn}({src})"


def _to_external(e: Emitter, src: str, field: Field) -> str:
    dt = field.dtype
    if isinstance(dt, Datetime):
        fn = e.helper(convert.epoch_to_datetime)
        call = f"{fn}({src}, {e.literal(dt.time_unit)}, {e.const(dt.time_zone, 'tzname')})"
    elif isinstance(dt, Date):
        call = f"{e.helper(convert.days_to_date)}({src})"
    elif isinstance(dt, Duration):
        call = f"{e.helper(convert.int_to_timedelta)}({src}, {e.literal(dt.time_unit)})"
    else:
        return src
    return f"None if {src} is None else {call}" if field.nullable else call


def _indicator(node: Node, fields: Mapping[Node, Field]) -> tuple[Node, int] | None:
    """``(X, i)`` when ``node`` is ``(X == i).cast(Int64)`` with X a non-null Int64 (a one-hot column)."""
    if not (isinstance(node, Cast) and isinstance(node.dtype, Int64) and isinstance(node.operand, Eq)):
        return None
    x, lit = node.operand.left, node.operand.right
    if not (isinstance(lit, Literal) and type(lit.value) is int and isinstance(lit.dtype, Int64)):
        return None
    f = fields[x]
    return (x, lit.value) if isinstance(f.dtype, Int64) and not f.nullable else None


def _indicator_runs(fs: "FeatureSet") -> dict[str, tuple[Node, list[tuple[str, int]]]]:
    """Runs of 3+ consecutive features ``(X == i).cast(Int64)`` over one X, by their first feature.

    Hand-written indicator columns (a lowered ``one_hot`` is one node of its own,
    :class:`~skewless.ir.applied.OneHotColumns`, and needs no matching). Computing them one by one
    costs two statements per column; one dict lookup of X in a table of ready-made rows, spread
    into the returned dict (``**``, which keeps the key order), gives the same values.
    """
    runs: dict[str, tuple[Node, list[tuple[str, int]]]] = {}
    current: tuple[Node, list[tuple[str, int]]] | None = None
    for name, feat in fs.features.items():
        hit = _indicator(feat.node, fs._fields)
        if hit is not None and current is not None and hit[0] == current[0] \
                and hit[1] not in {i for _, i in current[1]}:
            current[1].append((name, hit[1]))
            continue
        if current is not None and len(current[1]) >= 3:
            runs[current[1][0][0]] = current
        current = (hit[0], [(name, hit[1])]) if hit is not None else None
    if current is not None and len(current[1]) >= 3:
        runs[current[1][0][0]] = current
    return runs


def generate_source(fs: "FeatureSet") -> GeneratedSource:
    """The source text and globals of the per-request function of ``fs`` (nothing is compiled)."""
    e = Emitter(fs._fields)
    for feat in fs.features.values():
        e.count_uses(feat.node)
    taken: set[str] = set()
    fn_name = "features_" + (fs.name if _IDENT.fullmatch(fs.name) else "set")
    header = [
        f"def {fn_name}(row):",
        f"    # generated by skewless for feature set {fs.name!r}" if _IDENT.fullmatch(fs.name) else
        "    # generated by skewless",
        f"    # fingerprint {fs.fingerprint}; inputs -> features, no polars",
    ]
    for name in fs.used_inputs():
        var = _local_name(name, taken, "in_")
        e.emit(f"{var} = {_to_internal(e, f'row[{name!r}]', fs.inputs[name])}")
        e.preload(Column(name), var)
    outputs: list[tuple[str | None, str]] = []
    runs = _indicator_runs(fs)
    in_run: set[str] = {n for _, members in runs.values() for n, _ in members[1:]}
    for name, feat in fs.features.items():
        e.feature = name
        if name in runs:
            x, members = runs[name]
            table = {i: {m: int(j == i) for m, j in members} for _, i in members}
            code = e.value(x)
            var = e.tmp()
            e.emit(f"{var} = {e.const(table, 'rows')}.get({code}, {e.const({m: 0 for m, _ in members}, 'zeros')})")
            if _IDENT.fullmatch(name) and _IDENT.fullmatch(members[-1][0]):
                e.lines[-1] += f"  # {name} .. {members[-1][0]}"
            outputs.append((None, var))
            continue
        if name in in_run:
            continue
        if feat.columns != (name,):  # an op with several output columns (a lowered one_hot): a dict to spread
            var = e.value(feat.node)
            first, last = feat.columns[0], feat.columns[-1]
            if _IDENT.fullmatch(first) and _IDENT.fullmatch(last):
                e.lines[-1] += f"  # {first} .. {last}"
            outputs.append((None, var))
            continue
        src = e.value(feat.node)
        if src in (v for _, v in outputs) or not src.startswith("_t"):
            # Keep each feature in its own variable (a literal or a shared value).
            var = _local_name(name, taken, "f_")
            e.emit(f"{var} = {src}")
            src = var
        elif _IDENT.fullmatch(name):
            e.lines[-1] += f"  # {name}"
        outputs.append((name, _to_external(e, src, feat.field)))
    e.emit("return {")
    for name, src in outputs:
        e.emit(f"    {name!r}: {src}," if name is not None else f"    **{src},")
    e.emit("}")
    source = "\n".join(header + e.lines) + "\n"
    filename = f"<skewless-generated {fs.name if _IDENT.fullmatch(fs.name) else 'feature set'} {fs.fingerprint}>"
    return GeneratedSource(fn_name, source, filename, e.globals)


def compile_source(generated: GeneratedSource) -> CompiledFunction:
    """Compile generated source under its filename, registered with :mod:`linecache` (tracebacks and
    pdb show the generated lines), and return the function."""
    source, filename = generated.source, generated.filename
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    code = compile(source, filename, "exec")
    namespace = dict(generated.globals)
    exec(code, namespace)  # noqa: S102 - our own generated source, see module docstring
    return CompiledFunction(generated.name, source, filename, namespace[generated.name], namespace)


def compile_feature_set(fs: "FeatureSet") -> CompiledFunction:
    """Generate, compile and register the per-request function of ``fs``."""
    return compile_source(generate_source(fs))


def evaluate_constant(node: Node, fields: Mapping[Node, Field]) -> Any:
    """The value of a sub-expression that reads no input, as the per-request function computes it.

    Used at definition time to fold scalar-valued sub-expressions into literals
    (:mod:`skewless.ir.normalize`). Raises what the generated code raises
    (:class:`~skewless.errors.InvalidOperationError` for a strict cast of a bad value).
    """
    e = Emitter(fields)
    src = e.value(node)
    e.emit(f"return {_to_external(e, src, fields[node])}")
    source = "def _constant():\n" + "\n".join(e.lines) + "\n"
    namespace = e.globals
    exec(compile(source, "<skewless constant>", "exec"), namespace)  # noqa: S102 - see module docstring
    return namespace["_constant"]()
