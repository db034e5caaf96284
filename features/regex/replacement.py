"""Replacement strings with Rust's rules (``$1``, ``${name}``, ``$$``), for both engines."""

from __future__ import annotations

from typing import Union

from .translate import Regex

__all__ = ["parse_replacement", "rust_replacement", "expand_literal", "Piece"]


# --------------------------------------------------------------------------- replacement strings

Piece = Union[str, int]


def parse_replacement(value: str, regex: Regex) -> tuple[Piece, ...]:
    """Parse a replacement string with Rust's rules into literal text and group numbers.

    Rust's ``regex`` expands ``$$`` to ``$``, ``${name}`` and ``$name`` to a
    group, where an unbraced name is the longest run of ``[_0-9A-Za-z]`` (so
    ``$1a`` names the group ``1a``, which does not exist); a name that parses
    as an integer is a group number. A reference to a group that does not
    exist (or did not take part in the match) expands to the empty string; a
    ``$`` that starts no reference is literal.
    """
    names = dict(regex.names)
    pieces: list[Piece] = []
    text: list[str] = []
    i, n = 0, len(value)
    while i < n:
        j = value.find("$", i)
        if j < 0:
            text.append(value[i:])
            break
        text.append(value[i:j])
        i = j
        if value.startswith("$$", i):
            text.append("$")
            i += 2
            continue
        name = None
        if i + 1 < n and value[i + 1] == "{":
            close = value.find("}", i + 2)
            if close >= 0:
                name = value[i + 2:close]
                end = close + 1
        else:
            k = i + 1
            while k < n and (value[k] == "_" or (value[k].isascii() and value[k].isalnum())):
                k += 1
            if k > i + 1:
                name = value[i + 1:k]
                end = k
        if name is None:
            text.append("$")
            i += 1
            continue
        i = end
        index = _group_ref(name, names)
        if index is not None and index <= regex.groups:
            if text:
                pieces.append("".join(text))
                text = []
            pieces.append(index)
    if text and "".join(text):
        pieces.append("".join(text))
    merged: list[Piece] = []
    for p in pieces:
        if isinstance(p, str) and merged and isinstance(merged[-1], str):
            merged[-1] += p
        elif p != "":
            merged.append(p)
    return tuple(merged)


def _group_ref(name: str, names: dict[str, int]) -> int | None:
    # Rust: name.parse::<usize>() (an optional '+', ASCII digits, no overflow) else a group name
    digits = name[1:] if name.startswith("+") else name
    if digits and digits.isascii() and digits.isdigit() and int(digits) < 2**64:
        return int(digits)
    return names.get(name)


def rust_replacement(pieces: tuple[Piece, ...]) -> str:
    """Write parsed pieces back as a canonical Rust replacement string (``$$`` and ``${n}``)."""
    return "".join(p.replace("$", "$$") if isinstance(p, str) else f"${{{p}}}" for p in pieces)


def expand_literal(pieces: tuple[Piece, ...], literal: str) -> str:
    """Expand pieces for a pattern that is a plain string (group 0 is the string, there are no others)."""
    return "".join(p if isinstance(p, str) else (literal if p == 0 else "") for p in pieces)
