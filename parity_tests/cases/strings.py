"""Parity cases: the ``.str`` namespace, ``concat_str`` and the shared regex dialect."""

from __future__ import annotations

from skewless import Boolean, Float64, Input, Int64, String, col, concat_str, lit

from . import case

s = col("s")

# Text that separates Rust from Python: White_Space vs str.isspace (U+001C..U+001F, U+0085),
# final sigma with case-ignorable neighbours, case mappings added after Python's Unicode 14
# (U+A7CB, U+10D50, U+1DF25 is cased for Rust only, U+0ECE is case-ignorable for Rust only),
# combining marks and other non-ASCII word characters, newlines before the end.
TRICKY = [
    "\x1c x \x1f", "\x1d\x1e", "\x85z\u200b", "\u00a0y\u2028", "\u3000\u2029 t \u202f", "ΑΣ.", "ΑΣ'Α", "Α\u0301Σ",
    "ΑΣ\u0301", "ΣΑΣ ΟΔΟΣ", "\u1df25Σ", "Α\u0eceΣ", "ΑΣ\u0eceΑ", "\ua7cb\ua7dc", "\U00010d50\U00010d70",
    "straße STRASSE", "ǅemal ǆ Ǆ", "ﬁle ﬂow", "\u212aelvin k K", "İstanbul ıi", "ſs ẞß", "µμΜ", "ᾳ ᾼ",
    "e\u0301t\u00e9", "x\u0345y", "a\u200db", "٣٤ 12 ²", "Ⅻ ⅻ", "abc\n", "a\nb\n", "\n", "baaa", "aaa",
    "a-b c_d", "$1 $x", "foo.bar@baz", "N123AA", "--7", "-", "+", "ab ab ab", "🙂a🙂", "x" * 40,
]
ROWS = [{"s": t} for t in TRICKY]

case(
    "strings.unary",
    {"s": String},
    {
        "len_chars": s.str.len_chars(), "len_bytes": s.str.len_bytes(), "lower": s.str.to_lowercase(),
        "upper": s.str.to_uppercase(), "strip": s.str.strip_chars(), "strip_start": s.str.strip_chars_start(),
        "strip_end": s.str.strip_chars_end(), "strip_set": s.str.strip_chars("a -\u0301"),
        "strip_none_set": s.str.strip_chars(""), "strip_start_set": s.str.strip_chars_start("+-"),
        "strip_end_set": s.str.strip_chars_end("\n\x1c"), "lower_len": s.str.to_lowercase().str.len_chars(),
    },
    rows=ROWS,
)

case(
    "strings.slicing",
    {"s": String},
    {
        "slice_0_2": s.str.slice(0, 2), "slice_1": s.str.slice(1), "slice_m2": s.str.slice(-2),
        "slice_m5_2": s.str.slice(-5, 2), "slice_m5_4": s.str.slice(-5, 4), "slice_m1_5": s.str.slice(-1, 5),
        "slice_10_1": s.str.slice(10, 1), "slice_2_0": s.str.slice(2, 0), "slice_m100": s.str.slice(-100),
        "head2": s.str.head(2), "head0": s.str.head(0), "head_m1": s.str.head(-1), "head_m10": s.str.head(-10),
        "tail2": s.str.tail(2), "tail0": s.str.tail(0), "tail_m1": s.str.tail(-1), "tail_m10": s.str.tail(-10),
        "zfill0": s.str.zfill(0), "zfill3": s.str.zfill(3), "zfill6": s.str.zfill(6),
        "pad5": s.str.pad_start(5), "pad_star": s.str.pad_start(4, "*"), "pad_multibyte": s.str.pad_start(8, "é"),
    },
    rows=ROWS,
)

case(
    "strings.prefix_suffix",
    {"s": String, "p": String},
    {
        "starts": col("s").str.starts_with(col("p")), "ends": col("s").str.ends_with(col("p")),
        "starts_lit": col("s").str.starts_with("a"), "ends_lit": col("s").str.ends_with(""),
        "starts_null": col("s").str.starts_with(lit(None, String)),
    },
    rows=[{"s": "ΣΑΣ", "p": "Σ"}, {"s": "e\u0301", "p": "e"}, {"s": "abc", "p": "abc"}],
)

# Regexes: Unicode shorthands, anchors, (?i) folding, (?m), (?x), alternation, lazy and empty matches.
PATTERNS = {
    "word": r"\w+", "digit": r"\d+", "space": r"\s", "nonspace": r"\S+", "boundary": r"\b\w", "nonboundary": r"\B",
    "start": r"^a", "end": r"a$", "end_newline": r"\n$", "dot": r"a.b", "dotall": r"(?s)a.b", "lines": r"(?m)^\w+$",
    "fold_k": r"(?i)k", "fold_s": r"(?i)s+", "fold_sharp": r"(?i)ß", "fold_sigma": r"(?i)σ", "fold_dz": r"(?i)ǅ",
    "fold_i": r"(?i)i", "fold_class": r"(?i)[a-z]+", "fold_neg": r"(?i)[^k\s]", "scoped": r"(?i:a)b",
    "verbose": "(?x) \\w+ \\s* # a comment\n [0-9]", "groups": r"(\w)(\d)?", "named": r"(?P<w>\w+)\s*(?<d>\d*)",
    "alt": r"(a|ab)(c|bcd)?", "lazy": r"\w+?", "empty": r"a*", "maybe_empty": r"(?:a|b?)+", "literal": r"a\.b",
    "plain": "ab", "empty_pattern": "", "escapes": r"\$\^\x{1F642}\u{e9}?", "classes": r"[\s\d,.-]+",
}
for name, pattern in PATTERNS.items():
    feats = {
        "contains": s.str.contains(pattern), "count": s.str.count_matches(pattern),
        "replace_all": s.str.replace_all(pattern, "<$0>"), "replace": s.str.replace(pattern, "[$0]"),
        "extract0": s.str.extract(pattern, 0),
    }
    if "(" in pattern and "(?" not in pattern.replace("(?P<", "").replace("(?<", ""):
        feats["extract1"] = s.str.extract(pattern, 1)
        feats["swap"] = s.str.replace_all(pattern, "${2}$1$$")
    case(f"strings.regex_{name}", {"s": String}, feats, rows=ROWS)

case(
    "strings.replacement_syntax",
    {"s": String},
    {
        "dollar_name_run": s.str.replace_all(r"(a)", "$1x"), "braced": s.str.replace_all(r"(a)", "${1}x"),
        "named": s.str.replace_all(r"(?P<n>a)", "[$n]"), "dollars": s.str.replace_all("a", "$$"),
        "lone_dollar": s.str.replace_all("b", "$"), "plus": s.str.replace_all("a", "${+0}"),
        "empty_name": s.str.replace_all("a", "${}"), "unclosed": s.str.replace_all("a", "${0"),
        "backslash": s.str.replace_all("a", "\\0\\n"), "missing": s.str.replace_all(r"(a)|(b)", "<$2|$9|$x>"),
        "plain_pattern_groups": s.str.replace_all("ab", "<$0$1>"), "first_n": s.str.replace("a", "-", n=2),
        "all_n": s.str.replace("a", "-", n=-1), "regex_all_n": s.str.replace(r"\w", "-", n=-1),
        "empty_first": s.str.replace("", "-"), "empty_n": s.str.replace("", "-", n=2),
    },
    rows=ROWS,
)

case(
    "strings.literal_mode",
    {"s": String},
    {
        "contains": s.str.contains("a.b", literal=True), "contains_empty": s.str.contains("", literal=True),
        "count": s.str.count_matches("a", literal=True), "count_empty": s.str.count_matches("", literal=True),
        "count_dot": s.str.count_matches(".", literal=True), "replace": s.str.replace(".", "$0", literal=True),
        "replace_all": s.str.replace_all("a", "$1", literal=True), "replace_n": s.str.replace("a", "$", literal=True, n=2),
        "replace_all_empty": s.str.replace_all("", "|", literal=True),
    },
    rows=ROWS,
)

case(
    "strings.concat",
    {"s": String, "i": Int64, "f": Float64, "b": Boolean},
    {
        "plain": concat_str("s", "i"), "sep": concat_str("s", "i", "f", "b", separator="|"),
        "ignore": concat_str("s", col("i"), col("b"), separator="-", ignore_nulls=True),
        "with_lit": concat_str(lit("<"), "s", lit(">")), "null_lit": concat_str("s", lit(None), separator=","),
        "null_lit_ignore": concat_str("s", lit(None), separator=",", ignore_nulls=True),
        "single": concat_str("s"), "single_ignore": concat_str("s", ignore_nulls=True),
        "float_only": concat_str("f"), "many": concat_str("s", "s", "s", "s", "s"),
    },
    edge_limit=1500,
)

case(
    "strings.non_nullable",
    {"s": Input(String, nullable=False), "i": Input(Int64, nullable=False)},
    {
        "concat": concat_str("s", "i", ignore_nulls=True), "concat_sep": concat_str("s", "s", separator="/"),
        "extract": col("s").str.extract(r"(\d)"), "upper": col("s").str.to_uppercase(),
        "null_operand": lit(None).str.to_uppercase(), "null_len": lit(None, String).str.len_chars(),
    },
)


# str.split + element access (issue 13): literal separators (one and several characters, a combining mark, "",
# a regex metacharacter), inclusive splits, every accessor, indices in and out of range (null_on_oob), over the
# string edge values and texts made of separators.
_SPLIT_ROWS = [{"s": v} for v in ("a,b,c", ",", ",,", "a,,b,", ",a", "a, b, c", "aaa", "aaaa", "a.b.c", "e\u0301\u0301x",
                                   "ßaß", "东,京", " ", "a b  c ", "", None)]
_split_feats: dict = {}
for tag, by in (("comma", ","), ("empty", ""), ("space", " "), ("comma_space", ", "), ("aa", "aa"), ("dot", "."),
                ("accent", "\u0301"), ("sharp_s", "ß")):
    for inclusive in (False, True):
        parts = col("s").str.split(by, inclusive=inclusive)
        key = f"{tag}{'_inc' if inclusive else ''}"
        _split_feats |= {f"{key}_first": parts.list.first(), f"{key}_last": parts.list.last(), f"{key}_len": parts.list.len()}
        for i in (0, 1, 2, -1, -2, 5):
            _split_feats[f"{key}_get{i}"] = parts.list.get(i, null_on_oob=True)
_split_feats |= {"strict_first": col("s").str.split(",").list.get(0), "strict_last": col("s").str.split(", ").list.get(-1),
                 "upper_part": col("s").str.split(",").list.get(1, null_on_oob=True).str.to_uppercase(),
                 "lit_split": lit("x-y").str.split("-").list.last(), "null_split": lit(None, dtype=String).str.split(",").list.len()}
case("strings.split_get", {"s": String}, _split_feats, rows=_SPLIT_ROWS)
