"""The grammar: productions discovered from the public API, and a typed random expression generator.

Nothing here lists ops by hand. :func:`productions` reads the public API by
introspection — every public method of :class:`skewless.Expr`, of each of its
namespaces (``.str``, ``.dt``, any new one), every Python operator, and every
function in ``skewless.__all__`` that builds an expression — so a new op is drawn
as soon as the API offers it. Arguments are drawn from each parameter's
annotation (``Any`` is an operand: a sub-expression, a scalar or a column name;
``int``/``str``/``bool``... are plain parameters, with pools for known names).

Expressions are built top-down with type rejection: a production is applied to a
receiver, the result's type is inferred by the IR's own typing rules, and a
refusal (:class:`~skewless.errors.SkewlessError`) is counted by kind and another
production tried. How often each production accepts a receiver dtype is learnt
as the run goes, so productions are drawn where they type-check.
"""

from __future__ import annotations

import inspect
import math
import operator
import random
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable

import skewless
from skewless import Expr, col, lit, when
from skewless.api.expr import ListNamespace
from skewless.api.namespace import Namespace
from skewless.dtypes import Boolean, DataType, Date, Datetime, Duration, Field, Float64, Int64, Null, String
from skewless.errors import SkewlessError
from skewless.feature_set import _infer
from skewless.ir.base import InferContext

from .schema import DTYPES, SCHEMA, ZONES, random_scalar

BINARY = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
          "//": operator.floordiv, "%": operator.mod, "**": operator.pow, "==": operator.eq, "!=": operator.ne,
          "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "&": operator.and_,
          "|": operator.or_, "^": operator.xor}
UNARY = {"neg": operator.neg, "invert": operator.invert, "pos": operator.pos}
#: Public names that do not build expressions (or only name things).
NOT_EXPRESSIONS = {"col", "lit", "feature_set", "fit"}
#: refusals after which a production never accepted is no longer sought first (see Generator.wanted)
HOPELESS = 1000
#: separators for str.split productions
SPLIT_BY = [",", "", " ", "a", "ß", ", ", "\u0301", "aa"]

#: Pools for plain parameters, by parameter name (the API's own names; new ones fall back on the annotation).
PARAM_POOLS: dict[str, list[Any]] = {
    "decimals": [0, 0, 1, 2, 3, -1, 6, 15],
    "mode": ["half_to_even", "half_away_from_zero", "to_zero"],
    "closed": ["both", "left", "right", "none"],
    "time_zone": ZONES,
    "time_unit": ["us", "ms", "s", "d", "ns"],
    # chrono formats (str.strptime / to_date / to_datetime and dt.strftime / to_string), some refused
    "format": ["%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%d/%m/%y %I:%M %p", "%F %T%.f", "%Y%m%d", "%b %e %Y", "%Y-%j",
               "%H:%M", "%a %A %u %w %V %G", "%s %z", "%Y %Z", "%.3f|%f|%-d", "%FT%T%z", "%d/%m/%Y %H:%M %:z", None,
               "%d/%m/%Y", "%Y"],  # (a second "format" key further down silently replaced this pool: merged)
    "every": ["1h", "15m", "1d", "1w", "1mo", "1y", "1q", "3d", "90m", "1d12h", "-1h", "1us"],
    "by": ["1h", "-1d", "1mo", "-1mo", "1y", "2w", "36h", "-15m", "1w1d", "1500us"],
    "pattern": ["a", ".", "a.b", "^a", "b$", "[0-9]+", "(a)(b)?", "\\d", "(?i)σ", "", "\\s+", "(", "[[:alpha:]]",
                "x*", "ß", "(?i)k", "^$", "\\bA", "(\\d+)", "([a-z]+)-(\\d)", "(?i)(σ|ß)", "(.)(.)"],
    "value": ["", "x", "$1", "${1}_", "\\", "ẞ"],
    "fill_char": [" ", "0", "ß", "x"],
    "characters": [None, " ", "ab", "\t\n", "🙂", "0"],
    "separator": ["", "-", ", ", "ß"],
    "group_index": [0, 1, 2],
    "n": [0, 1, 2, 3, -1, 5],
    "length": [0, 1, 3, 8, None],
    "offset": [0, 1, -1, 3, -4, 20],
    "base": [math.e, 2.0, 10.0, 0.5, 1.0, 0.0, -2.0, 3],
    "strategy": ["mean", "median", "most_frequent", "constant"],
    "n_bins": [1, 2, 3, 5],
    "ddof": [0, 1],
    "folds": [2, 3],
    "smoothing": [0.0, 1.0, 10.0],
    "lower": [0.0, 0.05, 0.25],
    "upper": [0.75, 0.95, 1.0],
    "quantile_range": [(0.25, 0.75), (0.1, 0.9)],
    "max_categories": [None, 2, 5],
    "min_frequency": [None, 1, 2],
}


@dataclass(frozen=True)
class Production:
    """One way to build an expression: ``name`` (e.g. ``"Expr.log1p"``, ``"str.contains"``, ``"op:+"``)."""

    name: str
    kind: str  # "method", "namespace", "binary", "rbinary", "unary", "function", "when"
    params: tuple[inspect.Parameter, ...]
    target: Any  # the method name, the namespace and method, the operator or the function


def productions() -> list[Production]:
    """Every production of the public API (see the module docstring)."""
    out: list[Production] = []
    probe = col("x")
    for name in sorted(dir(Expr)):
        if name.startswith("_"):
            continue
        attr = inspect.getattr_static(Expr, name)
        if isinstance(attr, property):
            ns = getattr(probe, name)
            if isinstance(ns, Namespace):
                for method in sorted(n for n in dir(type(ns)) if not n.startswith("_")):
                    fn = getattr(type(ns), method)
                    if callable(fn):
                        params = tuple(inspect.signature(fn).parameters.values())[1:]
                        out.append(Production(f"{name}.{method}", "namespace", params, (name, method)))
            continue
        if callable(attr):
            params = tuple(inspect.signature(getattr(Expr, name)).parameters.values())[1:]
            out.append(Production(f"Expr.{name}", "method", params, name))
    # str.split gives a List, readable only through .list: one production per accessor, split included
    for method in ("get", "first", "last", "len"):
        fn = getattr(ListNamespace, method)
        params = tuple(inspect.signature(fn).parameters.values())[1:]
        out.append(Production(f"str.split.list.{method}", "split_list", params, method))
    for sym, fn in BINARY.items():
        out.append(Production(f"op:{sym}", "binary", (), fn))
        out.append(Production(f"op:scalar{sym}", "rbinary", (), fn))
    for name, fn in UNARY.items():
        out.append(Production(f"op:{name}", "unary", (), fn))
    for name in sorted(skewless.__all__):
        obj = getattr(skewless, name)
        if name in NOT_EXPRESSIONS or not inspect.isfunction(obj) or getattr(obj, "not_fuzzed", None):
            continue  # (not_fuzzed: the function says why it is not drawn, e.g. udf needs a user's function)
        params = tuple(inspect.signature(obj).parameters.values())
        kind = "when" if obj is when else "function"
        out.append(Production(f"fn:{name}", kind, params, obj))
    return out


@dataclass
class Typed:
    """A generated expression with its inferred field and depth."""

    expr: Expr
    field: Field
    depth: int


class Refused(Exception):
    """The API or the typing rules refused a candidate (a :class:`SkewlessError`); ``kind`` names it."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def refusal_kind(where: str, exc: BaseException) -> str:
    """A short key for a refusal: where, the exception class and its message without values."""
    msg = str(exc).split(": ", 1)[-1] if where == "definition" else str(exc)
    msg = re.sub(r"'[^']*'|\"[^\"]*\"|\(.*?\)|\[.*?\]|-?\d[\d.e+-]*", "_", msg)
    return f"{where}: {type(exc).__name__}: {msg[:70]}"


class Generator:
    """Draws random typed expressions over :data:`~parity_tests.fuzz.schema.SCHEMA`."""

    def __init__(self, rng: random.Random, prods: list[Production] | None = None):
        self.rng = rng
        self.prods = prods if prods is not None else productions()
        self.schema = {k: v.field() for k, v in SCHEMA.items()}
        self.ctx = InferContext(self.schema)
        self.memo: dict[Any, Field] = {}
        self.refusals: Counter[str] = Counter()
        self.crashes: list[tuple[str, str]] = []  # (production, traceback text): the API raised internally
        self.tried: Counter[tuple[str, str]] = Counter()
        self.tried_total: Counter[str] = Counter()  # per production, over every receiver dtype
        self.accepted: Counter[tuple[str, str]] = Counter()
        self.used: Counter[str] = Counter()

    # --- typing -------------------------------------------------------------------
    def infer(self, expr: Expr) -> Field:
        if len(self.memo) > 200_000:
            self.memo.clear()
        try:
            return _infer(expr._node, self.ctx, self.memo)
        except SkewlessError as exc:
            raise Refused(refusal_kind("typing", exc), str(exc)) from None

    # --- leaves ----------------------------------------------------------------------
    def leaf(self, want: DataType | None = None) -> Typed:
        rng = self.rng
        if rng.random() < 0.7:
            names = [n for n, f in self.schema.items() if want is None or f.dtype == want] or list(self.schema)
            expr = col(rng.choice(names))
        else:
            expr = self.literal(want)
        return Typed(expr, self.infer(expr), 1)

    def literal(self, want: DataType | None = None) -> Expr:
        rng = self.rng
        dtype = want if want is not None and rng.random() < 0.7 else None
        value = random_scalar(rng, dtype)
        pick = rng.random()
        try:
            if value is None and pick < 0.6:
                return lit(None, dtype=rng.choice(list(DTYPES.values())))
            if isinstance(value, int) and not isinstance(value, bool) and pick < 0.2:
                return lit(value, dtype=Float64)
            return lit(value)
        except SkewlessError as exc:
            self.refusals[refusal_kind("api lit", exc)] += 1
            return lit(0)

    # --- operands and parameters -------------------------------------------------------
    def operand(self, depth: int, like: DataType | None) -> Any:
        """An argument annotated ``Any``: a sub-expression, a Python scalar or (rarely) a column name."""
        rng = self.rng
        pick = rng.random()
        if pick < 0.55:
            want = like if like is not None and rng.random() < 0.6 else None
            return self.expr(rng.randint(1, max(1, depth)), want).expr
        if pick < 0.93:
            return random_scalar(rng, like if like is not None and rng.random() < 0.6 else None)
        return rng.choice(list(self.schema))

    def param(self, prod: Production, p: inspect.Parameter, depth: int, like: DataType | None) -> Any:
        rng = self.rng
        ann = str(p.annotation)
        name = p.name
        if name == "dtype":
            return rng.choice([Int64, Float64, Boolean, String, Date, Datetime("us", "UTC"), Duration("us")]
                              + ([None] if p.default is None else []))
        if name == "values" or "Iterable[Any]" in ann:
            kind = like if like is not None and rng.random() < 0.8 else None
            return [random_scalar(rng, kind) for _ in range(rng.randint(0, 4))] + ([None] if rng.random() < 0.2 else [])
        if name == "mapping" or ann.startswith("Mapping"):
            keys = [random_scalar(rng, like) for _ in range(rng.randint(1, 4))]
            vdtype = rng.choice([Int64(), Float64(), String()])
            return {k: random_scalar(rng, vdtype) for k in keys if k is not None}
        if name == "edges" or "Iterable[float]" in ann:
            return sorted(rng.choice([-1.0, 0.0, 0.5, 1.0, 2.0, 10.0, 100.0, float("inf")]) for _ in range(rng.randint(1, 4)))
        if name in ("default", "fill_value"):
            return random_scalar(rng, rng.choice([Int64(), Float64(), String(), None]))
        if name == "n" and prod.name == "Expr.hash_bucket":
            return rng.choice([1, 2, 7, 64, 1000, 0, -1])
        if name in PARAM_POOLS and "Any" not in ann:
            return rng.choice(PARAM_POOLS[name])
        if name in PARAM_POOLS and "str" in ann and rng.random() < 0.75:
            # "str | Any" (dt.truncate's every, dt.offset_by's by): a string of the pool, else any operand
            # (drawn as an operand only, every= is nearly always refused and DtTruncate was rarely reached)
            return rng.choice(PARAM_POOLS[name])
        if ann == "bool":
            return rng.random() < 0.5
        if "Any" in ann:
            return self.operand(depth, like)
        if "int" in ann:
            return rng.choice([0, 1, 2, 3, -1, 10] + ([None] if "None" in ann else []))
        if "float" in ann:
            return rng.choice([0.0, 0.5, 1.0, 2.5, -1.0])
        if "str" in ann:
            if p.default is not inspect.Parameter.empty and rng.random() < 0.5:
                return p.default
            return rng.choice(["", "a", "x_", "%Y"] + ([None] if "None" in ann else []))
        return p.default if p.default is not inspect.Parameter.empty else None

    def _call(self, prod: Production, fn: Callable, recv: Typed | None, depth: int) -> Expr:
        rng = self.rng
        like = recv.field.dtype if recv is not None else None
        args: list[Any] = [] if recv is None else [recv.expr]
        kwargs: dict[str, Any] = {}
        params = list(prod.params)
        if recv is not None and prod.kind == "function" and params and params[0].kind is inspect.Parameter.KEYWORD_ONLY:
            args = []  # a function of keyword arguments only (duration(...)) takes no receiver: a constant
        elif recv is not None and prod.kind == "function" and params:
            if params[0].kind is inspect.Parameter.VAR_POSITIONAL:
                args += [self.operand(depth, like) for _ in range(rng.randint(0, 3))]
            params = params[1:]  # the receiver is the first positional operand
        keywords = False  # once a parameter is passed by keyword, the later ones are too
        for p in params:
            optional = p.default is not inspect.Parameter.empty
            if p.kind is inspect.Parameter.VAR_POSITIONAL:
                args += [self.operand(depth, like) for _ in range(rng.randint(0, 3))]
            elif p.kind is inspect.Parameter.VAR_KEYWORD:
                continue
            elif optional and rng.random() < 0.4:
                keywords = True
                continue
            elif keywords or p.kind is inspect.Parameter.KEYWORD_ONLY or (optional and rng.random() < 0.5):
                keywords = True
                kwargs[p.name] = self.param(prod, p, depth, like)
            else:
                args.append(self.param(prod, p, depth, like))
        if prod.kind == "method":
            return getattr(args[0], prod.target)(*args[1:], **kwargs)
        if prod.kind == "namespace":
            ns, method = prod.target
            return getattr(getattr(args[0], ns), method)(*args[1:], **kwargs)
        if prod.kind == "split_list":
            if prod.target == "get" and rng.random() < 0.7:
                kwargs["null_on_oob"] = True
            parts = args[0].str.split(rng.choice(SPLIT_BY), inclusive=rng.random() < 0.3)
            return getattr(parts.list, prod.target)(*args[1:], **kwargs)
        return fn(*args, **kwargs)

    def apply(self, prod: Production, recv: Typed, depth: int) -> Expr:
        """Build ``prod`` over ``recv`` (raises :class:`Refused` or lets internal errors through)."""
        rng = self.rng
        try:
            if prod.kind == "binary":
                return prod.target(recv.expr, self.operand(depth, recv.field.dtype))
            if prod.kind == "rbinary":
                scalar = random_scalar(rng, recv.field.dtype if rng.random() < 0.7 else None)
                if isinstance(scalar, str) and prod.name == "op:scalar%":
                    scalar = len(scalar)  # str % x is Python's string formatting, never an expression
                return prod.target(scalar, recv.expr)
            if prod.kind == "unary":
                return prod.target(recv.expr)
            if prod.kind == "when":
                return self._when(recv, depth)
            return self._call(prod, prod.target, recv, depth)
        except SkewlessError as exc:
            raise Refused(refusal_kind(f"api {prod.name}", exc), str(exc)) from None

    def _when(self, recv: Typed, depth: int) -> Expr:
        rng = self.rng

        def cond() -> Any:
            if rng.random() < 0.15:
                return rng.choice([True, False, None])
            return self.expr(rng.randint(1, max(1, depth - 1)), Boolean()).expr

        chain = when(cond()).then(recv.expr)
        for _ in range(rng.randrange(3)):
            chain = chain.when(cond()).then(self.operand(depth, recv.field.dtype))
        return chain if rng.random() < 0.25 else chain.otherwise(self.operand(depth, recv.field.dtype))

    # --- expressions ----------------------------------------------------------------------
    def pick(self, dtype: DataType) -> Production:
        """A production, weighted by how often it accepted receivers of ``dtype`` so far."""
        key = type(dtype).__name__
        # (productions not used yet weigh more, so every op is reached early in a run)
        weights = [(self.accepted[(p.name, key)] + 1) / (self.tried[(p.name, key)] + 2)
                   * (4.0 if self.wanted(p) else 1.0) for p in self.prods]
        return self.rng.choices(self.prods, weights)[0]

    def wanted(self, prod: Production) -> bool:
        """Whether ``prod`` is still sought first: never accepted, and refused fewer than :data:`HOPELESS`
        times. A production the typing rules refuse on every receiver (``Expr.alias``, the ``.list`` methods
        outside ``str.split(...).list``, ``str.split`` alone: skewless has no List dtype) stops being sought
        then; chasing those six on every dtype took ~85% of the generator's time (10.9 vs 1.7 ms a feature)."""
        return not self.used[prod.name] and self.tried_total[prod.name] < HOPELESS

    def expr(self, depth: int, want: DataType | None = None) -> Typed:
        """An accepted expression of nesting depth up to ``depth`` (of dtype ``want`` when it can)."""
        rng = self.rng
        if depth <= 1 or rng.random() < 0.08:
            return self.leaf(want)
        recv = self.expr(depth - 1, None if rng.random() < 0.5 else want)
        for _ in range(6):
            prod = self.pick(recv.field.dtype)
            key = (prod.name, type(recv.field.dtype).__name__)
            self.tried[key] += 1
            self.tried_total[prod.name] += 1
            try:
                out = self.apply(prod, recv, depth - 1)
                field = self.infer(out)
            except Refused as r:
                self.refusals[r.kind] += 1
                continue
            except Exception as exc:  # an internal error must never look like a refusal
                import traceback

                self.crashes.append((prod.name, "".join(traceback.format_exception_only(type(exc), exc)).strip()))
                continue
            if want is not None and field.dtype != want and rng.random() < 0.5:
                continue
            self.accepted[key] += 1
            self.used[prod.name] += 1
            return Typed(out, field, recv.depth + 1)
        return recv

    def feature(self) -> Typed:
        """One feature's expression: nesting depth 1-6 (the IR rejects always-null Null dtypes later).

        While some production has never been accepted, a third of the features try one of them on
        receivers of every dtype first, so each op is reached early in a run."""
        rng = self.rng
        unused = [p for p in self.prods if self.wanted(p)]
        if unused and rng.random() < 0.33:
            prod = rng.choice(unused)
            for dtype in rng.sample(list(DTYPES.values()), len(DTYPES)):
                for _ in range(3):
                    recv = self.expr(rng.randint(1, 3), dtype)
                    if recv.field.dtype != dtype:
                        continue
                    key = (prod.name, type(dtype).__name__)
                    self.tried[key] += 1
                    self.tried_total[prod.name] += 1
                    try:
                        out = self.apply(prod, recv, 3)
                        field = self.infer(out)
                    except Refused as r:
                        self.refusals[r.kind] += 1
                        continue
                    except Exception as exc:
                        import traceback

                        self.crashes.append((prod.name, "".join(traceback.format_exception_only(type(exc), exc)).strip()))
                        continue
                    self.accepted[key] += 1
                    self.used[prod.name] += 1
                    return Typed(out, field, recv.depth + 1)
        return self.expr(rng.randint(1, 6))


_ = (Date, Datetime, Duration, Null, String, Int64)
