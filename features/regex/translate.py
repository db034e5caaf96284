"""Analysis of a parsed pattern and writing it for each engine; :func:`translate` and :class:`Regex`."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from .charsets import ANY, DOT, WORD, Ranges, _complement
from .errors import RegexDialectError
from .syntax import _PUNCT, _Alt, _Cat, _Group, _Look, _Node, _Parser, _Rep, _Set

__all__ = ["Regex", "translate"]


# --------------------------------------------------------------------------- analysis


def _min_width(node: _Node) -> int:
    if isinstance(node, _Set):
        return 1
    if isinstance(node, _Look):
        return 0
    if isinstance(node, _Group):
        return _min_width(node.body)
    if isinstance(node, _Cat):
        return sum(_min_width(i) for i in node.items)
    if isinstance(node, _Alt):
        return min(_min_width(i) for i in node.items)
    if isinstance(node, _Rep):
        return node.lo * _min_width(node.body)
    raise AssertionError(node)


def _has_capture(node: _Node) -> bool:
    if isinstance(node, _Group):
        return node.index is not None or _has_capture(node.body)
    if isinstance(node, (_Cat, _Alt)):
        return any(_has_capture(i) for i in node.items)
    if isinstance(node, _Rep):
        return _has_capture(node.body)
    return False


def _check(node: _Node, pattern: str) -> None:
    if isinstance(node, _Rep):
        if (node.hi is None or node.hi > 1) and _min_width(node.body) == 0 and _has_capture(node.body):
            raise RegexDialectError(
                f"regex {pattern!r}: a capture group inside a repetition whose body can match the empty"
                " string (like (a?)* or (a|)+) is not supported: Python captures an extra empty iteration"
                " that Rust does not; make the body non-empty or the group non-capturing (?:...)"
            )
        _check(node.body, pattern)
    elif isinstance(node, _Group):
        _check(node.body, pattern)
    elif isinstance(node, (_Cat, _Alt)):
        for i in node.items:
            _check(i, pattern)


def _as_literal(node: _Node) -> str | None:
    """The plain string a pattern matches, when it is one (no class, anchor, repetition or capture)."""
    if isinstance(node, _Set):
        (lo, hi), *rest = node.ranges
        return chr(lo) if lo == hi and not rest else None
    if isinstance(node, _Cat):
        parts = [_as_literal(i) for i in node.items]
        return None if any(p is None for p in parts) else "".join(parts)  # type: ignore[arg-type]
    if isinstance(node, _Group) and node.index is None:
        return _as_literal(node.body)
    return None


# --------------------------------------------------------------------------- writing patterns


def _char(cp: int, rust: bool) -> str:
    c = chr(cp)
    if c.isascii():
        if c.isalnum() or c in "_<> ":
            return c
        if c in _PUNCT:
            return "\\" + c
    elif c.isprintable() and not c.isspace():
        return c
    if rust:
        return f"\\x{{{cp:X}}}"
    if cp < 0x100:
        return f"\\x{cp:02x}"
    return f"\\u{cp:04x}" if cp < 0x10000 else f"\\U{cp:08x}"


def _class_body(ranges: Ranges, rust: bool) -> str:
    out = []
    for lo, hi in ranges:
        if lo == hi:
            out.append(_char(lo, rust))
        elif hi == lo + 1:
            out.append(_char(lo, rust) + _char(hi, rust))
        else:
            out.append(f"{_char(lo, rust)}-{_char(hi, rust)}")
    return "".join(out)


def _set_text(ranges: Ranges, rust: bool) -> str:
    if ranges == ANY:
        return "(?s:.)"
    if ranges == DOT:
        return "."
    if len(ranges) == 1 and ranges[0][0] == ranges[0][1]:
        return _char(ranges[0][0], rust)
    comp = _complement(ranges)
    if len(comp) < len(ranges):
        return f"[^{_class_body(comp, rust)}]"
    return f"[{_class_body(ranges, rust)}]"


@functools.lru_cache(maxsize=None)
def _python_word() -> str:
    return _set_text(WORD, rust=False)


def _look_text(kind: str, rust: bool) -> str:
    if rust:
        return {"start": "\\A", "end": "\\z", "line_start": "(?m:^)", "line_end": "(?m:$)",
                "word": "\\b", "not_word": "\\B"}[kind]
    if kind in ("word", "not_word"):
        w = _python_word()
        if kind == "word":
            return f"(?:(?<={w})(?!{w})|(?<!{w})(?={w}))"
        return f"(?:(?<={w})(?={w})|(?<!{w})(?!{w}))"
    return {"start": "\\A", "end": "\\Z", "line_start": "(?m:^)", "line_end": "(?m:$)"}[kind]


def _write(node: _Node, rust: bool) -> str:
    if isinstance(node, _Set):
        return _set_text(node.ranges, rust)
    if isinstance(node, _Look):
        return _look_text(node.kind, rust)
    if isinstance(node, _Cat):
        return "".join(f"(?:{_write(i, rust)})" if isinstance(i, _Alt) else _write(i, rust) for i in node.items)
    if isinstance(node, _Alt):
        return "|".join(_write(i, rust) for i in node.items)
    if isinstance(node, _Group):
        body = _write(node.body, rust)
        if node.index is None:
            return f"(?:{body})"
        return f"(?P<{node.name}>{body})" if node.name else f"({body})"
    if isinstance(node, _Rep):
        body = _write(node.body, rust)
        atomic = isinstance(node.body, _Group) or (isinstance(node.body, _Set) and not body.startswith("(?"))
        if not atomic:
            body = f"(?:{body})"
        if (node.lo, node.hi) == (0, None):
            q = "*"
        elif (node.lo, node.hi) == (1, None):
            q = "+"
        elif (node.lo, node.hi) == (0, 1):
            q = "?"
        elif node.hi is None:
            q = f"{{{node.lo},}}"
        elif node.lo == node.hi:
            q = f"{{{node.lo}}}"
        else:
            q = f"{{{node.lo},{node.hi}}}"
        return body + q + ("" if node.greedy else "?")
    raise AssertionError(node)


# --------------------------------------------------------------------------- public API


@dataclass(frozen=True)
class Regex:
    """A pattern of the shared dialect, written for each engine.

    Attributes
    ----------
    pattern : the pattern as the user wrote it
    rust : the pattern to give polars
    python : the pattern to give :func:`re.compile` (no flags)
    groups : number of capture groups
    names : ``((name, index), ...)`` of the named groups
    can_match_empty : whether some match may be empty (Rust and Python iterate differently then)
    literal : the plain string the pattern matches, when it is one (else None)
    """

    pattern: str
    rust: str
    python: str
    groups: int
    names: tuple[tuple[str, int], ...]
    can_match_empty: bool
    literal: str | None

    def compiled(self) -> "re.Pattern[str]":
        return re.compile(self.python)


@functools.lru_cache(maxsize=1024)
def translate(pattern: str) -> Regex:
    """Parse ``pattern`` (Rust syntax) and write it for both engines; raise :class:`RegexDialectError`.

    Examples
    --------
    >>> translate(r"^\\d+$").python == r"\\A" + translate(r"\\d").python + r"+\\Z"
    True
    >>> translate("a.c").literal is None, translate(r"a\\.c").literal
    (True, 'a.c')
    """
    if not isinstance(pattern, str):
        raise RegexDialectError(f"a regex pattern must be a str, got {type(pattern).__name__}")
    parser = _Parser(pattern)
    tree = parser.parse()
    _check(tree, pattern)
    out = Regex(
        pattern=pattern,
        rust=_write(tree, rust=True),
        python=_write(tree, rust=False),
        groups=parser.groups,
        names=tuple(sorted(parser.names.items(), key=lambda kv: kv[1])),
        can_match_empty=_min_width(tree) == 0,
        literal=_as_literal(tree),
    )
    try:
        re.compile(out.python)
    except re.error as exc:  # pragma: no cover - a bug in the writer, not in the user's pattern
        raise RegexDialectError(f"regex {pattern!r}: internal translation error: {exc}") from None
    return out
