"""Property test: random text through every string op, batch (polars) vs per-request (Python).

Each hypothesis example is a batch of rows checked with one :func:`check_parity` call.
The alphabet mixes ASCII, digits, whitespace the two runtimes classify differently
(U+001C, U+0085, U+00A0, U+2028), combining marks, Greek (final sigma), case-folding
oddities, characters newer than Python's Unicode tables, and emoji.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skewless import Boolean, FeatureSet, Float64, Input, Int64, String, col, concat_str, lit
from skewless.parity import check_parity

ALPHABET = (
    list("abcksxAB0129_-+.,$^()|\\")
    + [" ", "\t", "\n", "\x1c", "\x1f", "\x85", "\u00a0", "\u2028", "\u3000", "\u200b"]
    + ["\u0301", "\u0345", "\u0ece", "é", "ß", "ẞ", "İ", "ı", "\u212a", "ſ", "Σ", "σ", "ς", "Α", "ǅ", "ﬁ", "µ"]
    + ["٣", "²", "\ua7cb", "\U00010d50", "\U0001df25", "東", "🙂", "\U0001F3FD"]
)

s = col("s")
FEATURES = {
    "len_chars": s.str.len_chars(), "len_bytes": s.str.len_bytes(),
    "lower": s.str.to_lowercase(), "upper": s.str.to_uppercase(),
    "strip": s.str.strip_chars(), "strip_start": s.str.strip_chars_start(), "strip_end": s.str.strip_chars_end(),
    "strip_set": s.str.strip_chars("a \u0301"),
    "contains_regex": s.str.contains(r"\b\w+\d"), "contains_fold": s.str.contains(r"(?i)ks|σ$"),
    "contains_literal": s.str.contains("a.", literal=True),
    "starts_with": s.str.starts_with("a"), "ends_with": s.str.ends_with(col("p")),
    "slice": s.str.slice(1, 3), "slice_neg": s.str.slice(-4, 2), "slice_rest": s.str.slice(-2),
    "head": s.str.head(3), "head_neg": s.str.head(-2), "tail": s.str.tail(2), "tail_neg": s.str.tail(-1),
    "replace": s.str.replace(r"(\w)(\s*)", "${2}[$1]"), "replace_literal": s.str.replace("a", "$0", literal=True, n=2),
    "replace_all": s.str.replace_all(r"\s+|$", "_"), "replace_all_empty": s.str.replace_all("a*", "-"),
    "replace_all_named": s.str.replace_all(r"(?P<d>\d)", "<$d$$>"),
    "count": s.str.count_matches(r"\w"), "count_empty": s.str.count_matches(r"\b"),
    "count_literal": s.str.count_matches("a", literal=True),
    "zfill": s.str.zfill(6), "pad_start": s.str.pad_start(7, "·"),
    "extract": s.str.extract(r"(\d+)"), "extract_whole": s.str.extract(r"(?m)^\S+$", 0),
    "concat": concat_str("s", "i", "f", "b", separator="|"),
    "concat_ignore": concat_str("s", col("p"), lit("!"), separator=" ", ignore_nulls=True),
    "chained": s.str.strip_chars().str.to_lowercase().str.replace_all(r"[^\w]+", "-").str.len_chars(),
    "split_first": s.str.split(" ").list.first(), "split_last": s.str.split("a").list.get(-1),
    "split_get": s.str.split("\u0301").list.get(1, null_on_oob=True), "split_len": s.str.split("").list.len(),
    "split_inclusive": s.str.split("ß", inclusive=True).list.get(-2, null_on_oob=True),
}
FS = FeatureSet(
    "string_properties",
    {
        "s": Input(String, nullable=True), "p": Input(String, nullable=True), "i": Input(Int64, nullable=True),
        "f": Input(Float64, nullable=True), "b": Input(Boolean, nullable=True),
    },
    FEATURES,
)

text = st.text(alphabet=ALPHABET, max_size=16)
rows = st.lists(
    st.fixed_dictionaries(
        {
            "s": st.none() | text,
            "p": st.none() | text | st.sampled_from(["", "a", "Σ"]),
            "i": st.none() | st.integers(-(2**63), 2**63 - 1),
            "f": st.none() | st.floats(allow_nan=True, allow_infinity=True),
            "b": st.none() | st.booleans(),
        }
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows)
def test_string_ops_parity(batch):
    report = check_parity(FS, batch)
    assert report.ok, report.summary()
