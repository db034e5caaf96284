"""A generated wide feature set (100 features over 10 numeric/string inputs) and its hand-written peer.

Both are produced mechanically from the same seeded draw of templates: each
template yields a skewless expression and the Python expression a person
would write for it (no Int64 overflow handling, no NaN handling: the generated
rows hold neither). Nullable operands get the obvious ``None if x is None
else ...`` guard. The benchmarks assert that the hand-written function and
``fs.row_fn`` agree exactly on the sample rows before timing them.
"""

from __future__ import annotations

import math
import random
from typing import Any, Callable

from xxhash import xxh64_intdigest

from skewless import FeatureSet, Float64, Input, Int64, String, col, concat_str, lit, when

__all__ = ["make_wide", "wide_rows", "INPUTS"]

#: name -> (dtype, nullable)
INPUTS: dict[str, tuple[Any, bool]] = {
    "i0": (Int64, False), "i1": (Int64, False), "i2": (Int64, True), "i3": (Int64, True),
    "f0": (Float64, False), "f1": (Float64, True), "f2": (Float64, True),
    "s0": (String, False), "s1": (String, True), "s2": (String, True),
}
_INTS = ["i0", "i1", "i2", "i3"]
_FLOATS = ["f0", "f1", "f2"]
_STRS = ["s0", "s1", "s2"]
_WORDS = ["Alpha", "bravo", "CHARLIE", "delta", "Echo", "foxtrot", "Golf", "hotel", "India", "juliet", "KILO",
          "lima", "Mike", "november", "Oscar", "papa"]


def _guard(names: list[str], expr: str) -> str:
    nullable = [n for n in dict.fromkeys(names) if INPUTS[n][1]]
    if not nullable:
        return expr
    return f"(None if {' or '.join(f'{n} is None' for n in nullable)} else {expr})"


def _template(rng: random.Random, kind: int, consts: dict[str, Any]) -> tuple[Any, str]:
    """(skewless expr, Python source) for one feature."""
    ri, rf, rs = (lambda: rng.choice(_INTS)), (lambda: rng.choice(_FLOATS)), (lambda: rng.choice(_STRS))
    if kind == 0:
        a, b, k, m = ri(), ri(), rng.randint(2, 9), rng.randint(2, 50)
        return col(a) * k + col(b) // m, _guard([a, b], f"{a} * {k} + {b} // {m}")
    if kind == 1:
        a, k, m = ri(), rng.randint(-100, 100), rng.randint(3, 97)
        return (col(a) + k) % m, _guard([a], f"({a} + ({k})) % {m}")
    if kind == 2:
        a, k = ri(), rng.randint(-500, 500)
        return col(a) > k, _guard([a], f"{a} > ({k})")
    if kind == 3:
        a, k = rng.choice(["i2", "i3"]), rng.randint(-5, 5)
        return col(a).fill_null(k), f"({a} if {a} is not None else ({k}))"
    if kind == 4:
        a, lo = ri(), rng.randint(-300, 0)
        hi = lo + rng.randint(10, 600)
        return col(a).clip(lo, hi), _guard([a], f"(({lo}) if {a} < ({lo}) else ({hi} if {a} > {hi} else {a}))")
    if kind == 5:
        a, t1 = ri(), rng.randint(-400, 0)
        t2 = t1 + rng.randint(50, 500)
        e = when(col(a) < t1).then(lit("lo")).when(col(a) < t2).then(lit("mid")).otherwise(lit("hi"))
        inner = f"('lo' if {a} < ({t1}) else ('mid' if {a} < {t2} else 'hi'))"
        # polars: a null condition counts as false, so a null input falls through to otherwise.
        return e, (f"('hi' if {a} is None else {inner})" if INPUTS[a][1] else inner)
    if kind == 6:
        f = rf()
        return col(f).log1p(), _guard([f], f"_log1p({f})")
    if kind == 7:
        a, b = rf(), rf()
        return col(a) / (col(b) + 1.0), _guard([a, b], f"{a} / ({b} + 1.0)")
    if kind == 8:
        f, c, d = rf(), round(rng.uniform(0.1, 5), 3), round(rng.uniform(-10, 10), 2)
        return col(f) * c + d, _guard([f], f"{f} * {c!r} + ({d!r})")
    if kind == 9:
        f = rf()
        return col(f).sqrt(), _guard([f], f"_sqrt({f})")
    if kind == 10:
        f, lo = rf(), round(rng.uniform(0, 20), 1)
        hi = lo + round(rng.uniform(5, 50), 1)
        return col(f).clip(lo, hi), _guard([f], f"({lo!r} if {f} < {lo!r} else ({hi!r} if {f} > {hi!r} else {f}))")
    if kind == 11:
        f, t = rf(), round(rng.uniform(0, 100), 1)
        return col(f) >= t, _guard([f], f"{f} >= {t!r}")
    if kind == 12:
        i, f = ri(), rf()
        return col(i).cast(Float64) * col(f), _guard([i, f], f"{i} * {f}")
    if kind == 13:
        s = rs()
        return col(s).str.to_lowercase(), _guard([s], f"{s}.lower()")
    if kind == 14:
        s = rs()
        return col(s).str.len_chars(), _guard([s], f"len({s})")
    if kind == 15:
        s, p = rs(), rng.choice(_WORDS)[:2]
        return col(s).str.starts_with(p), _guard([s], f"{s}.startswith({p!r})")
    if kind == 16:
        s, p = rs(), rng.choice(["a", "li", "o", "er", "-"])
        return col(s).str.contains(p, literal=True), _guard([s], f"({p!r} in {s})")
    if kind == 17:
        s, vals = rs(), sorted(rng.sample(_WORDS, 4))
        name = f"_set{len(consts)}"
        consts[name] = frozenset(vals)
        return col(s).is_in(vals), _guard([s], f"({s} in {name})")
    if kind == 18:
        a, b = rng.sample(_STRS, 2)
        return concat_str(col(a), col(b), separator="_"), _guard([a, b], f"{a} + '_' + {b}")
    if kind == 19:
        s, n = rs(), rng.choice([16, 64, 1000, 4096])
        return col(s).hash_bucket(n), _guard([s], f"_xxh64({s}.encode()) % {n}")
    if kind == 20:
        s, n = rs(), rng.randint(1, 4)
        return col(s).str.head(n), _guard([s], f"{s}[:{n}]")
    if kind == 21:
        a, f, k, t = rng.choice(["i0", "i1"]), "f0", rng.randint(-100, 100), round(rng.uniform(0, 500), 1)
        return (col(a) > k) & (col(f) < t), f"({a} > ({k}) and {f} < {t!r})"
    raise AssertionError(kind)


N_KINDS = 22


def make_wide(n_features: int = 100, seed: int = 20240601) -> tuple[FeatureSet, Callable[[dict], dict], str]:
    """(feature set, hand-written row function, its source)."""
    rng = random.Random(seed)
    consts: dict[str, Any] = {}
    features: dict[str, Any] = {}
    lines: list[str] = []
    for i in range(n_features):
        kind = i % N_KINDS if i < N_KINDS else rng.randrange(N_KINDS)
        expr, src = _template(rng, kind, consts)
        name = f"w{i:03d}"
        features[name] = expr
        lines.append(f"        {name!r}: {src},")
    inputs = {k: Input(dt, nullable=nb) for k, (dt, nb) in INPUTS.items()}
    fs = FeatureSet("wide", inputs, features)
    head = ["def hand_wide(row):"] + [f"    {k} = row[{k!r}]" for k in INPUTS] + ["    return {"]
    source = "\n".join(head + lines + ["    }"]) + "\n"
    namespace: dict[str, Any] = {"_log1p": math.log1p, "_sqrt": math.sqrt, "_xxh64": xxh64_intdigest, **consts}
    exec(compile(source, "<hand_wide>", "exec"), namespace)
    return fs, namespace["hand_wide"], source


def wide_rows(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """Random request rows for the wide set: small ints, non-negative floats, short ASCII words, ~10% nulls."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        row: dict[str, Any] = {}
        for k, (dt, nullable) in INPUTS.items():
            if nullable and rng.random() < 0.1:
                row[k] = None
            elif dt is Int64:
                row[k] = rng.randint(-1000, 100_000)
            elif dt is Float64:
                row[k] = round(rng.uniform(0, 1000), rng.choice([0, 2, 6]))
            else:
                row[k] = rng.choice(_WORDS) + rng.choice(["", "-x", " 9", "li"])
        rows.append(row)
    return rows
