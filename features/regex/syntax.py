"""The regex dialect's syntax tree and its parser (Rust's spelling; see :mod:`skewless.regex`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Union

from .charsets import _MAX_CP, _ORBIT_OF, _SHORTHANDS, _SURROGATES, ANY, DOT, SPACE, Ranges, _complement, _norm, case_fold
from .errors import MAX_REPEAT, RegexDialectError


# --------------------------------------------------------------------------- syntax tree


@dataclass(frozen=True)
class _Set:
    ranges: Ranges


@dataclass(frozen=True)
class _Cat:
    items: tuple


@dataclass(frozen=True)
class _Alt:
    items: tuple


@dataclass(frozen=True)
class _Rep:
    body: object
    lo: int
    hi: int | None
    greedy: bool


@dataclass(frozen=True)
class _Group:
    body: object
    index: int | None
    name: str | None


@dataclass(frozen=True)
class _Look:
    kind: str  # start, end, line_start, line_end, word, not_word


_Node = Union[_Set, _Cat, _Alt, _Rep, _Group, _Look]


@dataclass(frozen=True)
class _Flags:
    i: bool = False
    s: bool = False
    m: bool = False
    x: bool = False


# Rust's char::is_whitespace (White_Space): what (?x) skips.
_WHITESPACE = frozenset(chr(cp) for lo, hi in SPACE for cp in range(lo, hi + 1))
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PUNCT = frozenset("!\"#$%&'()*+,-./:;=?@[\\]^_`{|}~")  # ASCII punctuation both engines let \ escape (not < >)
_SIMPLE_ESCAPES = {"n": 10, "t": 9, "r": 13, "f": 12, "v": 11, "a": 7}


class _Parser:
    def __init__(self, pattern: str):
        self.p = pattern
        self.n = len(pattern)
        self.i = 0
        self.groups = 0
        self.names: dict[str, int] = {}

    # --- helpers ---------------------------------------------------------------------
    def fail(self, what: str, at: int | None = None) -> RegexDialectError:
        pos = self.i if at is None else at
        return RegexDialectError(f"regex {self.p!r}: {what} (at position {pos})")

    def peek(self, k: int = 0) -> str | None:
        j = self.i + k
        return self.p[j] if j < self.n else None

    def startswith(self, text: str) -> bool:
        return self.p.startswith(text, self.i)

    def skip(self, flags: _Flags) -> None:
        """In verbose mode, skip whitespace and ``#`` comments."""
        if not flags.x:
            return
        while self.i < self.n:
            c = self.p[self.i]
            if c in _WHITESPACE:
                self.i += 1
            elif c == "#":
                end = self.p.find("\n", self.i)
                self.i = self.n if end < 0 else end + 1
            else:
                break

    # --- grammar ---------------------------------------------------------------------
    def parse(self) -> _Node:
        flags = _Flags()
        while True:
            m = re.compile(r"\(\?([A-Za-z-]*)\)").match(self.p, self.i)
            if not m:
                break
            flags = self.flag_letters(m.group(1), flags, self.i)
            self.i = m.end()
            self.skip(flags)
        node = self.alternation(flags)
        if self.i < self.n:
            raise self.fail("unbalanced ')'")
        return node

    def flag_letters(self, letters: str, flags: _Flags, at: int) -> _Flags:
        on, _, off = letters.partition("-")
        if "-" in off or not (on or off) or letters.endswith("-"):
            raise self.fail(f"malformed flags '(?{letters}'", at)
        values = {"i": flags.i, "s": flags.s, "m": flags.m, "x": flags.x}
        for letters_, value in ((on, True), (off, False)):
            for f in letters_:
                if f not in values:
                    hint = {
                        "U": "Rust's swap-greed flag", "u": "Rust's Unicode flag", "R": "Rust's CRLF flag",
                        "a": "Python's ASCII flag", "L": "Python's locale flag",
                    }.get(f, "unknown flag")
                    raise self.fail(f"flag {f!r} ({hint}) is not supported; use i, s, m or x", at)
                values[f] = value
        return _Flags(**values)

    def alternation(self, flags: _Flags) -> _Node:
        branches = [self.concatenation(flags)]
        while self.peek() == "|":
            self.i += 1
            branches.append(self.concatenation(flags))
        return branches[0] if len(branches) == 1 else _Alt(tuple(branches))

    def concatenation(self, flags: _Flags) -> _Node:
        items: list[_Node] = []
        while True:
            self.skip(flags)
            c = self.peek()
            if c is None or c in "|)":
                break
            start = self.i
            atom = self.atom(flags)
            self.skip(flags)
            q = self.quantifier(flags)
            if q is not None:
                if isinstance(atom, _Look):
                    raise self.fail("a quantifier on an anchor or word boundary is not supported", start)
                atom = _Rep(atom, *q)
                self.skip(flags)
                if self.peek() in ("*", "+", "?") or (self.peek() == "{" and self.counted(flags, probe=True)):
                    what = (
                        "possessive quantifier" if self.peek() == "+" else "a quantifier applied to a quantifier"
                    )
                    raise self.fail(f"{what} is not supported (Rust and Python read it differently);"
                                    " wrap the inner part in (?:...)")
            items.append(atom)
        return items[0] if len(items) == 1 else _Cat(tuple(items))

    def quantifier(self, flags: _Flags):
        c = self.peek()
        if c == "*":
            lo, hi = 0, None
            self.i += 1
        elif c == "+":
            lo, hi = 1, None
            self.i += 1
        elif c == "?":
            lo, hi = 0, 1
            self.i += 1
        elif c == "{":
            lo, hi = self.counted(flags)
        else:
            return None
        self.skip(flags)
        greedy = True
        if self.peek() == "?":
            self.i += 1
            greedy = False
        return lo, hi, greedy

    def counted(self, flags: _Flags, probe: bool = False):
        """Parse ``{n}``, ``{n,}`` or ``{n,m}`` (whitespace allowed inside in verbose mode)."""
        start = self.i
        self.i += 1

        def number():
            self.skip(flags)
            j = self.i
            while self.i < self.n and self.p[self.i] in "0123456789":
                self.i += 1
            text = self.p[j:self.i]
            self.skip(flags)
            return int(text) if text else None

        lo = number()
        hi = lo
        comma = False
        if self.peek() == ",":
            comma = True
            self.i += 1
            hi = number()
        ok = self.peek() == "}"
        if probe:
            self.i = start
            return ok and lo is not None
        if not ok or lo is None:
            if ok and comma and lo is None:
                raise self.fail("'{,n}' is not supported (Python reads it as {0,n}, Rust refuses it); write {0,n}", start)
            raise self.fail("'{' must start a repetition {n}, {n,} or {n,m}; write a literal brace as \\{", start)
        self.i += 1
        if not comma:
            hi = lo
        if hi is not None and hi < lo:
            raise self.fail(f"repetition {{{lo},{hi}}} has min > max", start)
        if lo > MAX_REPEAT or (hi is not None and hi > MAX_REPEAT):
            raise self.fail(f"repetition counts above {MAX_REPEAT} are not supported", start)
        return lo, hi

    def literal(self, cp: int, flags: _Flags) -> _Set:
        orbit = _ORBIT_OF.get(cp) if flags.i else None
        return _Set(_norm((c, c) for c in orbit) if orbit else ((cp, cp),))

    def atom(self, flags: _Flags) -> _Node:
        c = self.p[self.i]
        if c == "(":
            return self.group(flags)
        if c == "[":
            return self.char_class(flags)
        if c == ".":
            self.i += 1
            return _Set(ANY if flags.s else DOT)
        if c == "^":
            self.i += 1
            return _Look("line_start" if flags.m else "start")
        if c == "$":
            self.i += 1
            return _Look("line_end" if flags.m else "end")
        if c == "\\":
            item = self.escape(flags, in_class=False)
            if isinstance(item, int):
                return self.literal(item, flags)
            return item
        if c in "*+?":
            raise self.fail(f"quantifier {c!r} has nothing to repeat")
        if c == "{":
            raise self.fail("'{' must follow something to repeat; write a literal brace as \\{")
        self.i += 1
        return self.literal(ord(c), flags)

    def group(self, flags: _Flags) -> _Node:
        start = self.i
        self.i += 1
        index = name = None
        if self.peek() == "?":
            self.i += 1
            refused = [
                ("=", "look-ahead (?=...)"), ("!", "negative look-ahead (?!...)"),
                ("<=", "look-behind (?<=...)"), ("<!", "negative look-behind (?<!...)"),
                ("P=", "backreference (?P=name)"), ("P>", "recursion (?P>name)"), (">", "atomic group (?>...)"),
                ("#", "comment group (?#...)"), ("(", "conditional (?(...)...)"), ("|", "branch reset (?|...)"),
                ("R)", "recursion (?R)"),
            ]
            for prefix, what in refused:
                if self.startswith(prefix):
                    raise self.fail(f"{what} is not supported", start)
            if self.startswith(":"):
                self.i += 1
            elif self.startswith("P<") or self.startswith("<"):
                self.i += 2 if self.startswith("P<") else 1
                m = _NAME.match(self.p, self.i)
                end = self.p.find(">", self.i)
                if not m or m.end() != end:
                    raise self.fail("group names must match [A-Za-z_][A-Za-z0-9_]* and end with '>'", start)
                name = m.group()
                if name in self.names:
                    raise self.fail(f"duplicate group name {name!r}", start)
                self.groups += 1
                index = self.groups
                self.names[name] = index
                self.i = end + 1
            else:
                m = re.compile(r"([A-Za-z-]*)([:)])").match(self.p, self.i)
                if not m:
                    raise self.fail("unknown group syntax '(?'", start)
                new = self.flag_letters(m.group(1), flags, start)
                if m.group(2) == ")":
                    raise self.fail(
                        f"inline flags '(?{m.group(1)})' are only supported at the very start of the pattern;"
                        f" use a scoped group '(?{m.group(1)}:...)'",
                        start,
                    )
                self.i = m.end()
                flags = new
        else:
            self.groups += 1
            index = self.groups
        body = self.alternation(flags)
        if self.peek() != ")":
            raise self.fail("unclosed group '('", start)
        self.i += 1
        return _Group(body, index, name)

    def hex_escape(self, kind: str, start: int) -> int:
        width = {"x": 2, "u": 4, "U": 8}[kind]
        if self.peek() == "{":
            end = self.p.find("}", self.i)
            digits = self.p[self.i + 1:end] if end > 0 else ""
            self.i = end + 1 if end > 0 else self.n
        else:
            digits = self.p[self.i:self.i + width]
            if len(digits) != width:
                digits = ""
            self.i += width
        if not digits or len(digits) > 8 or not all(d in "0123456789abcdefABCDEF" for d in digits):
            raise self.fail(f"malformed escape \\{kind}", start)
        cp = int(digits, 16)
        if cp > _MAX_CP or _SURROGATES[0] <= cp <= _SURROGATES[1]:
            raise self.fail(f"escape \\{kind} names no Unicode scalar value", start)
        return cp

    def escape(self, flags: _Flags, in_class: bool):
        """Parse an escape; returns a code point, a ``_Set`` (shorthand class) or a ``_Look``."""
        start = self.i
        self.i += 1
        c = self.peek()
        if c is None:
            raise self.fail("trailing backslash", start)
        self.i += 1
        if c in _SHORTHANDS:
            return _Set(_SHORTHANDS[c])
        if c in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[c]
        if c in "xuU":
            return self.hex_escape(c, start)
        if c in "bB" and not in_class:
            if self.peek() == "{":
                raise self.fail("special word boundaries \\b{...} are not supported", start)
            return _Look("word" if c == "b" else "not_word")
        what = {
            "b": "\\b inside a class (backspace in Python, an error in Rust)",
            "A": "\\A (write ^)", "z": "\\z (write $)", "Z": "\\Z (write $)", "G": "\\G",
            "p": "Unicode property classes \\p{...}", "P": "Unicode property classes \\P{...}",
            "0": "octal escapes", "k": "backreferences \\k<name>", "g": "backreferences \\g<...>",
            "<": "\\< (a word start in Rust, a literal '<' in Python)",
            ">": "\\> (a word end in Rust, a literal '>' in Python)",
            "Q": "quoting \\Q...\\E", "N": "named characters \\N{...}", "c": "control escapes \\cX",
            "o": "octal escapes \\o{...}",
        }.get(c)
        if what is None and c in "123456789":
            what = "backreferences \\1..\\9"
        if what is not None:
            raise self.fail(f"{what} is not supported", start)
        if c in _PUNCT or c == " ":
            return ord(c)
        if c.isascii() and c.isalnum():
            raise self.fail(f"unknown escape \\{c} is not supported", start)
        raise self.fail(f"escaping {c!r} is not supported (only ASCII punctuation may be escaped)", start)

    def class_skip(self, flags: _Flags) -> None:
        if flags.x:
            while self.peek() is not None and self.peek() in _WHITESPACE:
                self.i += 1
            if self.peek() == "#":
                raise self.fail("'#' inside a class in verbose mode (Rust starts a comment there); escape it as \\#")

    def char_class(self, flags: _Flags) -> _Set:
        start = self.i
        self.i += 1
        negated = self.peek() == "^"
        if negated:
            self.i += 1
        ranges: list[tuple[int, int]] = []
        first = True
        while True:
            self.class_skip(flags)
            c = self.peek()
            if c is None:
                raise self.fail("unclosed class '['", start)
            if c == "]" and not first:
                self.i += 1
                break
            if c == "[":
                if self.peek(1) == ":":
                    raise self.fail("POSIX classes like [:alpha:] are not supported")
                raise self.fail("a nested class '[' inside a class is not supported; escape it as \\[")
            two = self.p[self.i:self.i + 2]
            if two in ("&&", "--", "~~"):
                raise self.fail(f"class set operation '{two}' is not supported")
            if c == "-" and not first and self.peek(1) != "]":
                raise self.fail("ambiguous '-' in a class; escape it as \\-")
            item_start = self.i
            lo = self.class_atom(flags)
            first = False
            save = self.i
            self.class_skip(flags)
            if self.peek() == "-" and self.peek(1) not in (None, "]"):
                self.i += 1
                self.class_skip(flags)
                if self.peek() in (None, "]"):
                    raise self.fail("ambiguous '-' in a class; escape it as \\-")
                hi = self.class_atom(flags)
                if isinstance(lo, _Set) or isinstance(hi, _Set):
                    raise self.fail("a class like \\d cannot be a range bound", item_start)
                if hi < lo:
                    raise self.fail(f"invalid class range {chr(lo)!r}-{chr(hi)!r}", item_start)
                ranges.append((lo, hi))
                continue
            self.i = save
            if isinstance(lo, _Set):
                ranges.extend(lo.ranges)
            else:
                ranges.append((lo, lo))
        result = _norm(ranges)
        if flags.i:
            result = case_fold(result)
        if negated:
            result = _complement(result)
        if not result:
            raise self.fail("the class matches no character", start)
        return _Set(result)

    def class_atom(self, flags: _Flags):
        """One class member: a code point, or a ``_Set`` for ``\\d``-style escapes."""
        if self.peek() == "\\":
            return self.escape(flags, in_class=True)
        c = self.p[self.i]
        self.i += 1
        return ord(c)
