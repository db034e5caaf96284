"""Python rules: strings.

Plain-string work uses ``str`` methods inline (they count code points, as
polars does). Regexes are translated at definition time
(:mod:`skewless.regex`) and compiled once per generated function; the
generated code calls the compiled pattern's bound methods, stored as
constants. Only patterns that can match the empty string need Rust's match
iteration (:func:`skewless.runtime.strings.rust_matches`) for
``count_matches``/``replace_all``.
"""

from __future__ import annotations

import re

from ...dtypes import Boolean, Float64, Int64, Null, String
from ...ir import strings as ops
from ...runtime import casts
from ...runtime import strings as rt
from ...regex import Regex, expand_literal, parse_replacement, translate
from .codegen import Arg, Emitter
from .table import RULES


def _bound(e: Emitter, regex: Regex, method: str) -> str:
    """A constant holding ``re.compile(regex.python).<method>``.

    Bound methods are stored, not the pattern: their repr carries the object's
    identity, whereas a compiled pattern's repr is truncated to 200 characters
    and would let ``Emitter.const`` merge two different long patterns.
    """
    return e.const(getattr(re.compile(regex.python), method), f"re_{method}_")


RULES.gap(ops.StrReverse, "polars reverses by extended grapheme cluster (Unicode UAX #29) and the per-request "
          "runtime has no grapheme segmentation; reversing code points differs on combining marks, emoji and flags")
RULES.register(ops.StrLenChars)(lambda e, n, a: f"len({a[0].src})")
RULES.register(ops.StrLenBytes)(lambda e, n, a: f"(len({a[0].src}) if {a[0].src}.isascii() else len({a[0].src}.encode()))")


@RULES.register(ops.StrToLowercase)
def _lower(e: Emitter, node, args: list[Arg]):
    s = args[0].src
    return f"({s}.lower() if {s}.isascii() else {e.helper(rt.to_lowercase)}({s}))"


@RULES.register(ops.StrToUppercase)
def _upper(e: Emitter, node, args: list[Arg]):
    s = args[0].src
    return f"({s}.upper() if {s}.isascii() else {e.helper(rt.to_uppercase)}({s}))"


def _strip(method: str):
    def rule(e: Emitter, node, args: list[Arg]):
        chars = e.const(rt.WHITESPACE, "whitespace") if node.characters is None else e.literal(node.characters)
        return f"{args[0].src}.{method}({chars})"

    return rule


RULES.register(ops.StrStripChars)(_strip("strip"))
RULES.register(ops.StrStripCharsStart)(_strip("lstrip"))
RULES.register(ops.StrStripCharsEnd)(_strip("rstrip"))
RULES.register(ops.StrStartsWith)(lambda e, n, a: f"{a[0].src}.startswith({a[1].src})")
RULES.register(ops.StrEndsWith)(lambda e, n, a: f"{a[0].src}.endswith({a[1].src})")


@RULES.register(ops.StrContains)
def _contains(e: Emitter, node, args: list[Arg]):
    s = args[0].src
    text = node.pattern if node.literal else translate(node.pattern).literal
    if text is not None:
        return f"{e.literal(text)} in {s}"
    return f"{_bound(e, translate(node.pattern), 'search')}({s}) is not None"


@RULES.register(ops.StrCountMatches)
def _count_matches(e: Emitter, node, args: list[Arg]):
    s = args[0].src
    regex = None if node.literal else translate(node.pattern)
    text = node.pattern if regex is None else regex.literal
    if text is not None:
        return f"{s}.count({e.literal(text)})"
    if regex.can_match_empty:
        return f"{e.helper(rt.count_matches_empty)}({_bound(e, regex, 'search')}, {s})"
    return f"len({_bound(e, regex, 'findall')}({s}))"


@RULES.register(ops.StrExtract)
def _extract(e: Emitter, node, args: list[Arg]):
    search = _bound(e, translate(node.pattern), "search")
    return [
        f"{{out}} = {search}({args[0].src})",
        f"if {{out}} is not None: {{out}} = {{out}}.group({node.group_index})",
    ]


def _replace(e: Emitter, node, s: str, n: int) -> str:
    """``n`` = number of replacements, -1 for all."""
    count = "" if n == -1 else f", {n}"
    if node.literal:
        return f"{s}.replace({e.literal(node.pattern)}, {e.literal(node.value)}{count})"
    regex = translate(node.pattern)
    pieces = parse_replacement(node.value, regex)
    if regex.literal is not None:
        value = expand_literal(pieces, regex.literal)
        return f"{s}.replace({e.literal(regex.literal)}, {e.literal(value)}{count})"
    expand = e.const(rt.make_expander(pieces), "expand")
    if n == -1 and regex.can_match_empty:
        return f"{e.helper(rt.replace_empty)}({_bound(e, regex, 'search')}, {s}, {expand})"
    # Python's and Rust's iterations agree when no match can be empty, and on the first match always.
    return f"{_bound(e, regex, 'sub')}({expand}, {s}, {0 if n == -1 else n})"


RULES.register(ops.StrReplace)(lambda e, n, a: _replace(e, n, a[0].src, n.n))
RULES.register(ops.StrReplaceAll)(lambda e, n, a: _replace(e, n, a[0].src, -1))


@RULES.register(ops.StrSlice)
def _slice(e: Emitter, node, args: list[Arg]):
    s, offset, length = args[0].src, node.offset, node.length
    if length is None:
        return f"{s}[{offset}:]" if offset else s
    if offset >= 0:
        return f"{s}[{offset}:{offset + length}]"
    # polars: start = len + offset, end = start + length, both clamped at 0 (see StrSlice)
    return [f"{{out}} = len({s}) + ({offset})", f"{{out}} = {s}[max({{out}}, 0):max({{out}} + {length}, 0)]"]


RULES.register(ops.StrHead)(lambda e, n, a: f"{a[0].src}[:{n.n}]")
RULES.register(ops.StrTail)(lambda e, n, a: "''" if n.n == 0 else f"{a[0].src}[{-n.n}:]")
RULES.register(ops.StrZfill)(lambda e, n, a: f"{a[0].src}.zfill({n.length})")
RULES.register(ops.StrPadStart)(lambda e, n, a: f"{a[0].src}.rjust({n.length}, {e.literal(n.fill_char)})")


def _as_text(e: Emitter, arg: Arg) -> str:
    """Source of a non-null operand written as polars casts it to String."""
    if isinstance(arg.dtype, String):
        return arg.src
    if isinstance(arg.dtype, Int64):
        return f"str({arg.src})"
    if isinstance(arg.dtype, Boolean):
        return f"('true' if {arg.src} else 'false')"
    if isinstance(arg.dtype, Float64):
        return f"{e.helper(casts.float_to_str)}({arg.src})"
    raise AssertionError(arg.dtype)


@RULES.register(ops.ConcatStr)
def _concat_str(e: Emitter, node, args: list[Arg]):
    sep = node.separator
    if not node.ignore_nulls:
        if any(isinstance(a.dtype, Null) for a in args):
            return "None"
        texts = [_as_text(e, a) for a in args]
        body = " + ".join(texts) if not sep and len(texts) <= 4 else f"{e.literal(sep)}.join(({', '.join(texts)},))"
        guards = list(dict.fromkeys(a.src for a in args if a.nullable))
        if guards:
            return f"(None if {' or '.join(f'{g} is None' for g in guards)} else {body})"
        return body
    present = [a for a in args if not isinstance(a.dtype, Null)]
    if not any(a.nullable for a in present):
        texts = [_as_text(e, a) for a in present]
        if not texts:
            return "''"
        return " + ".join(texts) if not sep and len(texts) <= 4 else f"{e.literal(sep)}.join(({', '.join(texts)},))"
    items = [
        f"(None if {a.src} is None else {_as_text(e, a)})" if a.nullable and not isinstance(a.dtype, String)
        else _as_text(e, a)
        for a in present
    ]
    return f"{e.literal(sep)}.join([_p for _p in ({', '.join(items)},) if _p is not None])"


@RULES.register(ops.StrSplitGet)
def _split_get(e: Emitter, node, args: list[Arg]):
    s = args[0].src
    by = e.literal(node.by)
    if node.by and not node.inclusive and node.index == 0:  # str.split with maxsplit: never out of range
        return f"{s}.split({by}, 1)[0]"
    if node.by and not node.inclusive and node.index == -1:  # (not rsplit: "aaa" at "aa" is "", "a" from the left)
        return f"{s}.split({by})[-1]"
    return f"{e.helper(rt.split_get)}({s}, {by}, {node.inclusive!r}, {node.index!r})"


@RULES.register(ops.StrSplitLen)
def _split_len(e: Emitter, node, args: list[Arg]):
    s = args[0].src
    if node.by and not node.inclusive:
        return f"{s}.count({e.literal(node.by)}) + 1"
    return f"len({e.helper(rt.split_parts)}({s}, {e.literal(node.by)}, {node.inclusive!r}))"
