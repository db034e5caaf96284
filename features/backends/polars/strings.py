"""Polars rules: strings.

Regex patterns are never passed as written: :func:`skewless.regex.translate`
rewrites them (explicit classes for ``\\w``/``\\d``/``\\s`` and ``(?i)``, ``\\z`` for ``$``)
into the program the per-request runtime runs too. A pattern that is a plain
string goes through polars' literal path, with the replacement pre-expanded.
"""

from __future__ import annotations

from ...dtypes import Null, String
from ...ir import strings as ops
from ...regex import expand_literal, parse_replacement, rust_replacement, translate
from .lazy import pl
from .table import RULES


def _s(arg):
    """The operand as a String column (a ``lit(None)`` has polars dtype Null)."""
    return arg.expr if isinstance(arg.dtype, String) else arg.expr.cast(pl.String)


RULES.register(ops.StrLenChars)(lambda c, n, a: _s(a[0]).str.len_chars().cast(pl.Int64))
RULES.register(ops.StrLenBytes)(lambda c, n, a: _s(a[0]).str.len_bytes().cast(pl.Int64))
RULES.register(ops.StrToLowercase)(lambda c, n, a: _s(a[0]).str.to_lowercase())
RULES.register(ops.StrToUppercase)(lambda c, n, a: _s(a[0]).str.to_uppercase())
RULES.register(ops.StrReverse)(lambda c, n, a: _s(a[0]).str.reverse())
RULES.register(ops.StrStripChars)(lambda c, n, a: _s(a[0]).str.strip_chars(n.characters))
RULES.register(ops.StrStripCharsStart)(lambda c, n, a: _s(a[0]).str.strip_chars_start(n.characters))
RULES.register(ops.StrStripCharsEnd)(lambda c, n, a: _s(a[0]).str.strip_chars_end(n.characters))
RULES.register(ops.StrStartsWith)(lambda c, n, a: _s(a[0]).str.starts_with(_s(a[1])))
RULES.register(ops.StrEndsWith)(lambda c, n, a: _s(a[0]).str.ends_with(_s(a[1])))
RULES.register(ops.StrSlice)(lambda c, n, a: _s(a[0]).str.slice(n.offset, n.length))
RULES.register(ops.StrHead)(lambda c, n, a: _s(a[0]).str.head(n.n))
RULES.register(ops.StrTail)(lambda c, n, a: _s(a[0]).str.tail(n.n))
RULES.register(ops.StrZfill)(lambda c, n, a: _s(a[0]).str.zfill(n.length))
RULES.register(ops.StrPadStart)(lambda c, n, a: _s(a[0]).str.pad_start(n.length, n.fill_char))


@RULES.register(ops.StrContains)
def _contains(c, node, args):
    s = _s(args[0])
    if node.literal:
        return s.str.contains(node.pattern, literal=True)
    regex = translate(node.pattern)
    if regex.literal is not None:
        return s.str.contains(regex.literal, literal=True)
    return s.str.contains(regex.rust, literal=False, strict=True)


@RULES.register(ops.StrCountMatches)
def _count_matches(c, node, args):
    s = _s(args[0])
    if node.literal:
        out = s.str.count_matches(node.pattern, literal=True)
    else:
        regex = translate(node.pattern)
        if regex.literal is not None:
            out = s.str.count_matches(regex.literal, literal=True)
        else:
            out = s.str.count_matches(regex.rust, literal=False)
    return out.cast(pl.Int64)


@RULES.register(ops.StrExtract)
def _extract(c, node, args):
    return _s(args[0]).str.extract(translate(node.pattern).rust, node.group_index)


def _replace(s, node, n: int):
    """``n`` = number of replacements, -1 for all."""
    if node.literal:
        pattern, value, literal = node.pattern, node.value, True
    else:
        regex = translate(node.pattern)
        pieces = parse_replacement(node.value, regex)
        if regex.literal is not None:
            pattern, value, literal = regex.literal, expand_literal(pieces, regex.literal), True
        else:
            pattern, value, literal = regex.rust, rust_replacement(pieces), False
    if n == -1:
        return s.str.replace_all(pattern, value, literal=literal)
    return s.str.replace(pattern, value, literal=literal, n=n)


RULES.register(ops.StrReplace)(lambda c, n, a: _replace(_s(a[0]), n, n.n))
RULES.register(ops.StrReplaceAll)(lambda c, n, a: _replace(_s(a[0]), n, -1))


@RULES.register(ops.ConcatStr)
def _concat_str(c, node, args):
    parts = []
    for a in args:
        if isinstance(a.dtype, Null):
            parts.append(pl.lit(None, dtype=pl.String))
        elif isinstance(a.dtype, String):
            parts.append(a.expr)
        else:  # Int64, Float64, Boolean: polars' cast formatting, which the python rule mirrors
            parts.append(a.expr.cast(pl.String))
    return pl.concat_str(parts, separator=node.separator, ignore_nulls=node.ignore_nulls)



@RULES.register(ops.StrSplitGet)
def _split_get(c, node, args):
    parts = _s(args[0]).str.split(node.by, inclusive=node.inclusive).list
    if node.accessor == "first":
        return parts.first()
    if node.accessor == "last":
        return parts.last()
    return parts.get(node.index, null_on_oob=node.null_on_oob)


RULES.register(ops.StrSplitLen)(
    lambda c, n, a: _s(a[0]).str.split(n.by, inclusive=n.inclusive).list.len().cast(pl.Int64))
