"""Measure the Unicode tables of the regex dialect from polars and write ``features/regex/unicode_tables.py``.

The shared regex dialect (:mod:`skewless.regex`) writes ``\\w``, ``\\d``, ``\\s`` and the case
folding of ``(?i)`` out as explicit code point sets, so that Python's ``re`` runs what polars
(Rust's ``regex`` crate) means. Those sets are measured here, from the installed polars, over
every Unicode scalar value:

* ``\\w``, ``\\d``, ``\\s``: the code points ``^\\w$`` (etc.) matches;
* case folding orbits: the code points that have a case in polars (``to_lowercase`` or
  ``to_uppercase`` changes them), grown by what ``(?i)`` of them matches until closed; then for
  each one, the members ``(?i)^c$`` matches. Code points without a case mapping are taken to fold
  only to themselves (Unicode's simple case folding relates cased letters only).

Run from the repository root after upgrading polars::

    .venv/bin/python scripts/regex_tables.py           # rewrite the module
    .venv/bin/python scripts/regex_tables.py --check   # exit 1 when the committed module differs

``tests/test_regex_dialect.py`` regenerates the module text and compares it with the committed one.
"""

from __future__ import annotations

import argparse
import re
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "features" / "regex" / "unicode_tables.py"

Ranges = list[tuple[int, int]]


def _scalars() -> list[str]:
    return [chr(i) for i in range(0x110000) if not 0xD800 <= i <= 0xDFFF]


def _ranges(code_points: list[int]) -> Ranges:
    out: Ranges = []
    for cp in sorted(code_points):
        if out and out[-1][1] == cp - 1:
            out[-1] = (out[-1][0], cp)
        else:
            out.append((cp, cp))
    return out


def _class(code_points: list[int]) -> str:
    return "[" + "".join(re.escape(chr(c)) for c in sorted(code_points)) + "]"


def measure() -> dict[str, object]:
    """``{"word", "digit", "space": ranges, "orbits": [orbit, ...], "polars": version}`` measured from polars."""
    import polars as pl

    chars = _scalars()
    frame = pl.DataFrame({"s": chars})
    got = frame.select(w=pl.col("s").str.contains(r"^\w$"), d=pl.col("s").str.contains(r"^\d$"),
                       sp=pl.col("s").str.contains(r"^\s$"),
                       cased=(pl.col("s").str.to_lowercase() != pl.col("s"))
                       | (pl.col("s").str.to_uppercase() != pl.col("s")))
    tables: dict[str, object] = {
        name: _ranges([ord(c) for c, hit in zip(chars, got[column].to_list()) if hit])
        for name, column in (("word", "w"), ("digit", "d"), ("space", "sp"))
    }
    # the folding candidates: cased code points, closed under what (?i) of them matches
    members = sorted(ord(c) for c, hit in zip(chars, got["cased"].to_list()) if hit)
    while True:
        hits = frame.select(pl.col("s").str.contains(f"(?i)^{_class(members)}$"))["s"].to_list()
        closed = sorted(ord(c) for c, hit in zip(chars, hits) if hit)
        if closed == members:
            break
        members = sorted(set(members) | set(closed))
    candidates = pl.DataFrame({"s": [chr(c) for c in members]})
    matched = candidates.select(**{str(c): pl.col("s").str.contains(f"(?i)^{re.escape(chr(c))}$") for c in members})
    orbits = {tuple(m for m, hit in zip(members, matched[str(c)].to_list()) if hit) for c in members}
    tables["orbits"] = sorted(o for o in orbits if len(o) > 1)
    tables["polars"] = pl.__version__
    return tables


def _text(items: list[str], sep: str) -> str:
    """The items joined, as a parenthesised run of string literals of at most about 110 characters."""
    body = sep.join(items) + " "
    lines = textwrap.wrap(body, 112, break_on_hyphens=False, drop_whitespace=False)
    return "(\n" + "".join(f'    "{line}"\n' for line in lines) + ")"  # hex digits, '-', ',' and spaces only


def _hex_ranges(ranges: Ranges) -> str:
    return _text([f"{lo:X}" if lo == hi else f"{lo:X}-{hi:X}" for lo, hi in ranges], " ")


def render(tables: dict[str, object]) -> str:
    """The text of ``features/regex/unicode_tables.py`` for measured ``tables``."""
    orbits = _text([" ".join(f"{c:X}" for c in orbit) for orbit in tables["orbits"]], ", ")  # type: ignore[union-attr]
    return f'''"""Unicode tables of the regex dialect, measured from polars {tables["polars"]} (GENERATED: do not edit).

Written by ``scripts/regex_tables.py`` (see there how each table is measured); a test regenerates
the text and compares it with this file. ``WORD``, ``DIGIT`` and ``SPACE`` are what ``\\\\w``,
``\\\\d`` and ``\\\\s`` match in Rust's regex crate, as hex ``lo-hi`` ranges or single hex code
points; ``FOLD`` holds the simple case folding orbits ``(?i)`` uses, comma separated.
"""

WORD = {_hex_ranges(tables["word"])}

DIGIT = {_hex_ranges(tables["digit"])}

SPACE = {_hex_ranges(tables["space"])}

FOLD = {orbits}
'''


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed module instead of writing")
    args = parser.parse_args(argv)
    text = render(measure())
    if args.check:
        same = TARGET.read_text(encoding="utf-8") == text
        print(f"{TARGET.relative_to(ROOT)}: {'up to date' if same else 'differs from what polars measures now'}")
        return 0 if same else 1
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
