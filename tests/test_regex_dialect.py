"""The shared regex dialect (features/regex/) and the Unicode tables behind it.

* Unsupported constructs are refused when the feature set is defined, naming the construct.
* Translated patterns give the same results in polars (Rust) and in Python, on random text
  mixing ASCII, digits, whitespace that the engines classify differently, combining marks,
  Greek, emoji and case-folding oddities; and the translation keeps polars' own meaning of
  the pattern as written.
* The tables measured from polars (``\\w \\d \\s``, case folding, White_Space, case mapping)
  still match polars over every code point.
"""

from __future__ import annotations

import re

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skewless import DefinitionError, FeatureSet, Input, String, col
from skewless.runtime import strings as rt
from skewless.regex import (
    DIGIT,
    SPACE,
    WORD,
    RegexDialectError,
    case_fold,
    parse_replacement,
    rust_replacement,
    translate,
)
from skewless.regex.charsets import _ORBITS, _complement

# --------------------------------------------------------------------------- refused constructs

REFUSED = [
    (r"(?=a)", "look-ahead"), (r"(?!a)", "negative look-ahead"), (r"(?<=a)b", "look-behind"),
    (r"(?<!a)b", "negative look-behind"), (r"(a)\1", "backreference"), (r"(?P<x>a)(?P=x)", "backreference"),
    (r"\k<x>", "backreference"), (r"a*+", "possessive"), (r"a++", "possessive"), (r"a?+", "possessive"),
    (r"a{2}+", "possessive"), (r"(?>a)", "atomic group"), (r"(?(1)a|b)", "conditional"),
    (r"\p{Greek}", "\\p{"), (r"\pL", "\\p{"), (r"\P{L}", "\\P{"), (r"\Aab", "\\A"), (r"ab\z", "\\z"),
    (r"ab\Z", "\\Z"), (r"\Gab", "\\G"), (r"[[:alpha:]]", "POSIX"), (r"[a-z&&[^aeiou]]", "'&&'"),
    (r"[a-z--b]", "'--'"), (r"[a~~b]", "'~~'"), (r"[a[b]]", "nested class"), (r"a{,3}", "{,n}"),
    (r"\0", "octal"), (r"\012", "octal"), (r"a(?i)b", "inline flags"), (r"(?U)a*", "swap-greed"),
    (r"(?u)a", "Unicode flag"), (r"(?a)\w", "ASCII flag"), (r"(?#note)a", "comment group"),
    (r"\b{start}", "\\b{"), (r"\<a", "\\<"), (r"a\>", "\\>"), (r"\Qa.b\E", "\\Q"), (r"\N{BULLET}", "\\N"),
    (r"\e", "unknown escape"), (r"\cA", "control escape"), (r"a**", "quantifier applied to a quantifier"),
    (r"a{2}{3}", "quantifier applied to a quantifier"), (r"^*", "anchor"), (r"\b+", "anchor"),
    (r"(a?)*", "capture group inside a repetition"), (r"(a|)+", "capture group inside a repetition"),
    (r"(?:(a)|b?)+", "capture group inside a repetition"), (r"a{", "'{'"), (r"{1}", "'{'"), (r"x{2, 3}", "'{'"),
    (r"*a", "nothing to repeat"), (r"(a", "unclosed group"), (r"a)", "unbalanced"), (r"[a", "unclosed class"),
    (r"[z-a]", "invalid class range"), (r"[\d-z]", "range bound"), (r"[a-c-e]", "ambiguous '-'"),
    (r"[^\x00-\x{10FFFF}]", "matches no character"), (r"(?x)[#]", "'#' inside a class"),
    (r"(?P<1x>a)", "group names"), (r"(?P<a>x)(?P<a>y)", "duplicate group name"), (r"\x{D800}", "scalar"),
    (r"a{1001}", "above 1000"), ("\\é", "escaping"), ("a\\", "trailing backslash"), (r"[\b]", "\\b inside a class"),
]


@pytest.mark.parametrize(("pattern", "construct"), REFUSED, ids=[p for p, _ in REFUSED])
def test_refused_at_definition_time(pattern, construct):
    for make in (
        lambda: col("s").str.contains(pattern),
        lambda: col("s").str.count_matches(pattern),
        lambda: col("s").str.replace_all(pattern, "x"),
        lambda: col("s").str.extract(pattern, 0),
    ):
        expr = make()  # building the expression does not fail: the feature set does, with the feature's name
        with pytest.raises(DefinitionError) as info:
            FeatureSet("refused", {"s": Input(String)}, {"flag": expr})
        message = str(info.value)
        assert "feature 'flag'" in message, message
        assert construct.lower() in message.lower(), message
        assert repr(pattern) in message, message


def test_translate_raises_dialect_error():
    with pytest.raises(RegexDialectError, match=r"look-ahead \(\?=\.\.\.\) is not supported \(at position 1\)"):
        translate("a(?=b)")


def test_literal_mode_accepts_anything():
    fs = FeatureSet("lit", {"s": Input(String)}, {"has": col("s").str.contains("(?=a)[", literal=True)})
    assert fs.row_fn({"s": "x(?=a)[y"}) == {"has": True}


def test_other_definition_errors():
    cases = [
        (lambda: col("s").str.extract(r"(a)", 2), "only 1 capture group"),
        (lambda: col("s").str.replace(r"a+", "b", n=2), "n > 1"),
        (lambda: col("s").str.replace("a", "b", n=0), "n must be >= 1"),
        (lambda: col("s").str.slice(0, -1), "length must be an int >= 0"),
        (lambda: col("s").str.pad_start(3, "ab"), "single character"),
        (lambda: col("n").str.len_chars(), "needs a String operand"),
    ]
    for make, text in cases:
        with pytest.raises(DefinitionError, match=re.escape(text)):
            FeatureSet("bad", {"s": Input(String), "n": Input("Int64")}, {"f": make()})


# --------------------------------------------------------------------------- agreement on random text

PATTERNS = [
    r"\w+", r"\W+", r"\d+", r"\D", r"\s+", r"\S+", r"[\w\s]+", r"[^\w\s]", r"\b\w+\b", r"\b", r"\B", r"\B\w",
    r"^\w", r"\w$", r"^$", r"$", r"^", r"(?m)^\w+", r"(?m)\w$", r"(?m)^$", r".", r"(?s).", r"a.b", r"(?s)a.b",
    r"a*", r"a*?", r"a+?", r"(?:ab|a)*", r"(?:a|b?)+c?", r"(?:a|)+", r"x?", r"(?:\b|a)+", r"(?:^|,)\w*", r"\w*$",
    r"(?i)k", r"(?i)s", r"(?i)ß", r"(?i)σ", r"(?i)ǅ", r"(?i)ﬁ", r"(?i)i", r"(?i)İ", r"(?i)[a-z]+", r"(?i)[^k]",
    r"(?i)\w\b", r"(?i:a)b", r"(?-i:a)", r"(?x) a \s* b # comment", r"(?is)a.", r"(\w)(\d)?", r"(a|ab)(c|bcd)?",
    r"(?P<w>\w+)\s*(?<d>\d*)", r"((a)|b)+", r"(?:a(b)?)+", r"(a)|(b)", r"(\w+?)(\d*)$", r"[\^\]\-]", r"\$\.",
    r"\x{1F642}|\u00e9|\U0001F44D", r"[\u{2028}\n]", r"\n$", r"(?m)\n$", r"[^\n]+", r"\d*\.?\d*", r"\w{2,3}",
    r"\s{2}", r"[α-ω]+", r"[\x{300}-\x{36F}]", r"(?i)straSSe", r"Σ\b", r"", r"|a", r"a|",
]
TRANSLATED = [translate(p) for p in PATTERNS]
REPLACEMENT = "<$0|$1|${w}|$$|$2x>"

ALPHABET = (
    list("abcksxyzAB019_-.,$^()[]{}|\\")
    + [" ", "\t", "\n", "\r", "\x0b", "\x1c", "\x1d", "\x1f", "\x85", "\u00a0", "\u2028", "\u2029", "\u3000", "\u200b"]
    + ["\u0301", "\u0345", "\u0eCE", "\u200d", "é", "ß", "ẞ", "İ", "ı", "K", "\u212a", "ſ", "Σ", "σ", "ς", "Α", "ω"]
    + ["ǅ", "ǆ", "Ǆ", "ﬁ", "µ", "μ", "ι", "ᾳ", "٣", "²", "Ⅻ", "ⅻ", "\ua7cb", "\U0001df25", "東"]
    + ["🙂", "👍", "\U0001F3FD"]
)
texts = st.lists(st.text(alphabet=ALPHABET, max_size=14), min_size=1, max_size=25)


def _python_results(regex, compiled, s):
    search = compiled.search
    expand = rt.make_expander(parse_replacement(REPLACEMENT, regex))
    out = {
        "contains": search(s) is not None,
        "count": rt.count_matches_empty(search, s) if regex.can_match_empty else len(compiled.findall(s)),
        "replace_all": rt.replace_empty(search, s, expand) if regex.can_match_empty else compiled.sub(expand, s),
        "replace": compiled.sub(expand, s, 1),
    }
    for g in range(regex.groups + 1):
        out[f"extract{g}"] = rt.extract(search, s, g)
    return out


def _polars_exprs(pattern, rust_value):
    s = pl.col("s").str
    exprs = {
        "contains": s.contains(pattern), "count": s.count_matches(pattern).cast(pl.Int64),
        "replace_all": s.replace_all(pattern, rust_value), "replace": s.replace(pattern, rust_value),
    }
    return exprs


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_translated_patterns_agree(strings):
    exprs = {}
    for k, regex in enumerate(TRANSLATED):
        value = rust_replacement(parse_replacement(REPLACEMENT, regex))
        for name, e in _polars_exprs(regex.rust, value).items():
            exprs[f"{k}:{name}"] = e
        for g in range(regex.groups + 1):
            exprs[f"{k}:extract{g}"] = pl.col("s").str.extract(regex.rust, g)
        # the translation must keep polars' own meaning of the pattern as written
        for name, e in _polars_exprs(regex.pattern, REPLACEMENT).items():
            exprs[f"{k}:orig_{name}"] = e
    batch = pl.DataFrame({"s": strings}, schema={"s": pl.String}).select(**exprs)  # one polars call
    columns = {name: batch[name].to_list() for name in batch.columns}
    for k, regex in enumerate(TRANSLATED):
        compiled = re.compile(regex.python)
        for i, s in enumerate(strings):
            for name, value in _python_results(regex, compiled, s).items():
                rust = columns[f"{k}:{name}"][i]
                assert rust == value, (regex.pattern, name, s, rust, value)
            for name in ("contains", "count", "replace_all", "replace"):
                assert columns[f"{k}:orig_{name}"][i] == columns[f"{k}:{name}"][i], (regex.pattern, name, s)


CASE_INSENSITIVE = {
    # pattern: (texts it matches, texts it does not match) in both engines (Rust's simple case folding)
    r"(?i)^k$": (["k", "K", "\u212a"], ["ĸ"]),
    r"(?i)^i$": (["i", "I"], ["ı", "İ"]),  # Python's re.I would also match dotless ı
    r"(?i)^İ$": (["İ"], ["i", "I", "i\u0307"]),
    r"(?i)^ß$": (["ß", "ẞ"], ["ss", "SS"]),  # simple folding: no ß -> ss
    r"(?i)^σ$": (["σ", "ς", "Σ"], ["s"]),
    r"(?i)^ΣΑΣ$": (["σας", "ΣΑΣ", "ςας", "σαΣ"], ["σα"]),
    r"(?i)^ǅ$": (["ǅ", "Ǆ", "ǆ"], ["D"]),
    r"(?i)^ﬁ$": (["ﬁ"], ["fi", "FI"]),  # no full folding
    r"(?i)^s$": (["s", "S", "ſ"], ["ß"]),
    r"(?i)^µ$": (["µ", "μ", "Μ"], ["m"]),
}


def test_case_insensitive_agreement_on_special_text():
    strings = sorted({t for yes, no in CASE_INSENSITIVE.values() for t in yes + no})
    frame = pl.DataFrame({"s": strings})
    for pattern, (yes, no) in CASE_INSENSITIVE.items():
        regex = translate(pattern)
        native = dict(zip(strings, frame.select(pl.col("s").str.contains(pattern))["s"].to_list()))
        ours = dict(zip(strings, frame.select(pl.col("s").str.contains(regex.rust))["s"].to_list()))
        compiled = re.compile(regex.python)
        for t in yes + no:
            expected = t in yes
            assert native[t] is expected and ours[t] is expected, (pattern, t)
            assert (compiled.search(t) is not None) is expected, (pattern, t)
    # where Python's own re.IGNORECASE disagrees with polars (hence the explicit classes)
    assert re.search(r"(?i)^i$", "ı") is not None


def test_dollar_does_not_match_before_final_newline():
    regex = translate(r"a$")
    assert re.search(regex.python, "a\n") is None and re.search(r"a$", "a\n") is not None
    assert pl.select(pl.lit("a\n").str.contains(regex.rust)).item() is False


def test_empty_matches_follow_rust():
    regex = translate("a*")
    search = re.compile(regex.python).search
    assert rt.count_matches_empty(search, "baaa") == 2 and len(re.findall("a*", "baaa")) == 3
    assert rt.replace_empty(search, "baaa", lambda m: "-") == "-b-" and re.sub("a*", "-", "baaa") == "-b--"


def test_replacement_syntax():
    regex = translate(r"(?P<n>a)(b)?")
    pieces = parse_replacement("$1a|${1}a|$n|$$|$|${+1}|${}|${0|$9", regex)
    assert pieces == ("|", 1, "a|", 1, "|$|$|", 1, "||${0|")
    assert rust_replacement(pieces) == "|${1}a|${1}|$$|$$|${1}||$${0|"


# --------------------------------------------------------------------------- tables re-measured from polars

CODE_POINTS = [chr(i) for i in range(0x110000) if not 0xD800 <= i <= 0xDFFF]


@pytest.fixture(scope="module")
def all_chars():
    return pl.DataFrame({"s": CODE_POINTS})


def _ranges_of(mask):
    out: list[tuple[int, int]] = []
    for c, m in zip(CODE_POINTS, mask):
        if m:
            i = ord(c)
            if out and out[-1][1] == i - 1:
                out[-1] = (out[-1][0], i)
            else:
                out.append((i, i))
    return tuple(out)


def test_shorthand_tables_match_polars(all_chars):
    got = all_chars.select(
        w=pl.col("s").str.contains(r"^\w$"), d=pl.col("s").str.contains(r"^\d$"), s=pl.col("s").str.contains(r"^\s$")
    )
    assert _ranges_of(got["w"].to_list()) == WORD
    assert _ranges_of(got["d"].to_list()) == DIGIT
    assert _ranges_of(got["s"].to_list()) == SPACE
    for table in (WORD, DIGIT, SPACE):  # closed under case folding, so (?i) cannot change them
        assert case_fold(table) == table and case_fold(_complement(table)) == _complement(table)


def test_case_folding_orbits_match_polars(all_chars):
    members = sorted({cp for orbit in _ORBITS for cp in orbit})
    # every orbit member matches exactly its orbit under (?i)
    frame = pl.DataFrame({"s": [chr(c) for c in members]})
    batch = frame.select(**{str(c): pl.col("s").str.contains(f"(?i)^{re.escape(chr(c))}$") for c in members})
    for orbit in _ORBITS:
        for c in orbit:
            matched = {m for m, hit in zip(members, batch[str(c)].to_list()) if hit}
            assert matched == set(orbit), (hex(c), sorted(map(hex, matched)))
    # and no other code point is matched by (?i) of a member
    klass = "[" + "".join(re.escape(chr(c)) for c in members) + "]"
    hits = all_chars.select(pl.col("s").str.contains(f"(?i)^{klass}$"))["s"].to_list()
    assert {ord(c) for c, h in zip(CODE_POINTS, hits) if h} == set(members)


def test_whitespace_table_matches_polars(all_chars):
    stripped = all_chars.select(pl.col("s").str.strip_chars() == "")["s"].to_list()
    assert "".join(c for c, x in zip(CODE_POINTS, stripped) if x) == rt.WHITESPACE


def test_case_mapping_matches_polars(all_chars):
    got = all_chars.select(lo=pl.col("s").str.to_lowercase(), up=pl.col("s").str.to_uppercase())
    assert [c for c, x in zip(CODE_POINTS, got["lo"].to_list()) if rt.to_lowercase(c) != x] == []
    assert [c for c, x in zip(CODE_POINTS, got["up"].to_list()) if rt.to_uppercase(c) != x] == []


def test_final_sigma_classes_match_polars():
    # "cΣ" ends in ς iff c is cased (and not case-ignorable); "AcΣ" also when c is case-ignorable
    frame = pl.DataFrame({"a": [c + "Σ" for c in CODE_POINTS], "b": ["A" + c + "Σ" for c in CODE_POINTS]})
    got = frame.select(pl.col("a").str.to_lowercase(), pl.col("b").str.to_lowercase())
    for column in ("a", "b"):
        values = got[column].to_list()
        prefix = "" if column == "a" else "A"
        bad = [c for c, x in zip(CODE_POINTS, values) if rt.to_lowercase(prefix + c + "Σ") != x]
        assert bad == [], [hex(ord(c)) for c in bad[:20]]



def test_unicode_tables_are_what_the_committed_script_measures_from_polars():
    # features/regex/unicode_tables.py is generated by scripts/regex_tables.py (never edited by hand):
    # measuring again from the installed polars must give the committed text, byte for byte.
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("regex_tables", root / "scripts" / "regex_tables.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    tables = script.measure()
    assert tables["polars"] == pl.__version__
    assert script.render(tables) == (root / "features" / "regex" / "unicode_tables.py").read_text(encoding="utf-8")
    # and the module the dialect reads is that file's content
    from skewless.regex import unicode_tables

    assert unicode_tables.WORD.split() == [f"{lo:X}" if lo == hi else f"{lo:X}-{hi:X}" for lo, hi in WORD]
