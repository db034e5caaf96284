"""Per-request helpers of the string ops (pure Python, no polars).

Polars' case mapping, trimming and regex iteration follow Rust and a newer
Unicode version than Python 3.11's. The tables below hold exactly where they
differ, measured from polars 2.1.0 over every code point
(``tests/test_regex_dialect.py`` re-measures them).
"""

from __future__ import annotations

import re
from typing import Any, Callable

#: Rust's ``char::is_whitespace`` (Unicode White_Space): what ``strip_chars()`` removes.
#: Python's ``str.strip()`` also removes U+001C..U+001F, Rust does not.
WHITESPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)

# Code point -> Rust's single-character lower/upper case where Python 3.11 (Unicode 14) differs
# (characters added in Unicode 15 and 16).
_LOWER_FIX = (
    "1C89:1C8A A7CB:264 A7CC:A7CD A7CE:A7CF A7D2:A7D3 A7D4:A7D5 A7DA:A7DB A7DC:19B 10D50:10D70 10D51:10D71 "
    "10D52:10D72 10D53:10D73 10D54:10D74 10D55:10D75 10D56:10D76 10D57:10D77 10D58:10D78 10D59:10D79 10D5A:10D7A "
    "10D5B:10D7B 10D5C:10D7C 10D5D:10D7D 10D5E:10D7E 10D5F:10D7F 10D60:10D80 10D61:10D81 10D62:10D82 10D63:10D83 "
    "10D64:10D84 10D65:10D85 16EA0:16EBB 16EA1:16EBC 16EA2:16EBD 16EA3:16EBE 16EA4:16EBF 16EA5:16EC0 16EA6:16EC1 "
    "16EA7:16EC2 16EA8:16EC3 16EA9:16EC4 16EAA:16EC5 16EAB:16EC6 16EAC:16EC7 16EAD:16EC8 16EAE:16EC9 16EAF:16ECA "
    "16EB0:16ECB 16EB1:16ECC 16EB2:16ECD 16EB3:16ECE 16EB4:16ECF 16EB5:16ED0 16EB6:16ED1 16EB7:16ED2 16EB8:16ED3 "
)
_UPPER_FIX = (
    "19B:A7DC 264:A7CB 1C8A:1C89 A7CD:A7CC A7CF:A7CE A7D3:A7D2 A7D5:A7D4 A7DB:A7DA 10D70:10D50 10D71:10D51 "
    "10D72:10D52 10D73:10D53 10D74:10D54 10D75:10D55 10D76:10D56 10D77:10D57 10D78:10D58 10D79:10D59 10D7A:10D5A "
    "10D7B:10D5B 10D7C:10D5C 10D7D:10D5D 10D7E:10D5E 10D7F:10D5F 10D80:10D60 10D81:10D61 10D82:10D62 10D83:10D63 "
    "10D84:10D64 10D85:10D65 16EBB:16EA0 16EBC:16EA1 16EBD:16EA2 16EBE:16EA3 16EBF:16EA4 16EC0:16EA5 16EC1:16EA6 "
    "16EC2:16EA7 16EC3:16EA8 16EC4:16EA9 16EC5:16EAA 16EC6:16EAB 16EC7:16EAC 16EC8:16EAD 16EC9:16EAE 16ECA:16EAF "
    "16ECB:16EB0 16ECC:16EB1 16ECD:16EB2 16ECE:16EB3 16ECF:16EB4 16ED0:16EB5 16ED1:16EB6 16ED2:16EB7 16ED3:16EB8 "
)
# Final sigma: Rust lowercases U+03A3 to U+03C2 when the previous character that is not
# Case_Ignorable is Cased and the next such character is not. These are the characters whose
# class differs between Rust and Python 3.11: C = cased, I = case-ignorable.
_SIGMA_C = (
    "1DF25-1DF2A "
)
_SIGMA_I = (
    "ECE 10EFD-10EFF 11241 11F00-11F01 11F36-11F3A 11F40 11F42 13439-13440 13447-13455 1E030-1E06D 1E08F "
    "1E4EB-1E4EF "
)


def _decode_map(text: str) -> dict[str, str]:
    out = {}
    for item in text.split():
        k, _, v = item.partition(":")
        out[chr(int(k, 16))] = chr(int(v, 16))
    return out


def _decode_chars(text: str) -> list[str]:
    out = []
    for item in text.split():
        lo, _, hi = item.partition("-")
        out.extend(chr(c) for c in range(int(lo, 16), int(hi or lo, 16) + 1))
    return out


def _char_class(chars) -> "re.Pattern[str]":
    return re.compile("[" + "".join(f"\\U{ord(c):08x}" for c in sorted(chars)) + "]")


LOWER_FIX = _decode_map(_LOWER_FIX)
UPPER_FIX = _decode_map(_UPPER_FIX)
_SIGMA_KIND = {**{c: "C" for c in _decode_chars(_SIGMA_C)}, **{c: "I" for c in _decode_chars(_SIGMA_I)}}
_lower_special = _char_class(LOWER_FIX).search
_upper_special = _char_class(UPPER_FIX).search
_sigma_special = _char_class(_SIGMA_KIND).search


def _kind(c: str) -> str:
    """Rust's class of ``c`` for the final-sigma rule: 'C' cased, 'I' case-ignorable, 'N' neither."""
    kind = _SIGMA_KIND.get(c)
    if kind is not None:
        return kind
    # Python's own classes, read off its final-sigma rule (they agree with Rust elsewhere).
    if (c + "\u03a3").lower()[-1] == "\u03c2":
        return "C"
    if ("A" + c + "\u03a3").lower()[-1] == "\u03c2":
        return "I"
    return "N"


def _final_sigma(s: str, i: int) -> bool:
    j = i - 1
    while j >= 0 and _kind(s[j]) == "I":
        j -= 1
    if j < 0 or _kind(s[j]) != "C":
        return False
    j = i + 1
    while j < len(s) and _kind(s[j]) == "I":
        j += 1
    return j == len(s) or _kind(s[j]) != "C"


def to_lowercase(s: str) -> str:
    """Rust's ``str::to_lowercase`` (polars ``str.to_lowercase``)."""
    if _lower_special(s) is None and ("\u03a3" not in s or _sigma_special(s) is None):
        return s.lower()
    out = []
    for i, c in enumerate(s):
        if c == "\u03a3":
            out.append("\u03c2" if _final_sigma(s, i) else "\u03c3")
        else:
            out.append(LOWER_FIX.get(c) or c.lower())
    return "".join(out)


def to_uppercase(s: str) -> str:
    """Rust's ``str::to_uppercase`` (polars ``str.to_uppercase``)."""
    if _upper_special(s) is None:
        return s.upper()
    return "".join(UPPER_FIX.get(c) or c.upper() for c in s)


# --------------------------------------------------------------------------- regex iteration


def rust_matches(search: Callable[..., Any], s: str) -> list:
    """All matches of a compiled pattern's ``search``, iterated as Rust's regex crate does.

    Rust skips an empty match that ends where the previous match ended (and
    retries one character later); Python reports it. ``search(s, pos)`` keeps
    the text before ``pos`` visible to anchors and look-behind, as Rust does.
    """
    out = []
    pos, last_end, n = 0, -1, len(s)
    while pos <= n:
        m = search(s, pos)
        if m is None:
            break
        start, end = m.span()
        if start == end and end == last_end:
            pos = end + 1
            continue
        out.append(m)
        last_end = pos = end
    return out


def count_matches_empty(search: Callable[..., Any], s: str) -> int:
    """``count_matches`` for a pattern that can match the empty string."""
    return len(rust_matches(search, s))


def replace_empty(search: Callable[..., Any], s: str, expand: Callable[[Any], str]) -> str:
    """``replace_all`` for a pattern that can match the empty string (Rust's iteration)."""
    parts = []
    last = 0
    for m in rust_matches(search, s):
        parts.append(s[last:m.start()])
        parts.append(expand(m))
        last = m.end()
    parts.append(s[last:])
    return "".join(parts)


def make_expander(pieces: tuple) -> Callable[[Any], str]:
    """Replacement function for parsed Rust replacement pieces (str = text, int = group number).

    A group that did not take part in the match expands to the empty string.
    """
    if all(isinstance(p, str) for p in pieces):
        text = "".join(pieces)
        return lambda m: text
    if len(pieces) == 1:
        (g,) = pieces
        return lambda m: m.group(g) or ""

    def expand(m: Any) -> str:
        group = m.group
        return "".join([p if p.__class__ is str else (group(p) or "") for p in pieces])

    return expand


def extract(search: Callable[..., Any], s: str, group: int) -> str | None:
    m = search(s)
    return None if m is None else m.group(group)


def split_parts(s: str, by: str, inclusive: bool) -> list[str]:
    """``s.str.split(by, inclusive=...)`` as polars 2.1 splits: code points at ``by=""`` (none for ``""``);
    inclusive parts keep their ``by`` and an empty last part is dropped."""
    if by == "":
        return list(s)
    parts = s.split(by)
    if inclusive:
        return [p + by for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
    return parts


def split_get(s: str, by: str, inclusive: bool, index: int) -> str | None:
    """Part ``index`` of :func:`split_parts`, None out of range."""
    parts = split_parts(s, by, inclusive)
    return parts[index] if -len(parts) <= index < len(parts) else None
