"""The online windows state encoding (skewless.windows.state): the held events round-trip bit for bit through
the store codec, and every aggregate read from the stored prefix sums and value columns equals
skewless.windows.exact's canonical value over the same window, bitwise, on edge values."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from skewless.state.codec import decode_row, encode_row
from skewless.state.replay import same_value
from skewless.windows import exact
from skewless.windows.state import decode_state, encode_state, extend_state, window_value

EDGE = [0.0, -0.0, 0.1, -0.1, 1e16, -1e16, 5e-324, -5e-324, 1.7976931348623157e308, -1.7976931348623157e308,
        2.5e-308, 3.0, 0.01, 123.45, math.inf, -math.inf, math.nan]
AGGS = ("len", "count", "sum", "mean", "var", "std", "min", "max", "first", "last", "n_unique")


def test_codec_binary_tail_round_trips_bytes_with_newlines():
    row = {"a": 1, "b": b"x\ny\n\x00", "c": b"", "d": [1, {"q": [2.5, None]}], "e": b"\n", "f": "x\ny"}
    data = encode_row(row)
    assert decode_row(data) == row
    assert decode_row(encode_row({"a": 1.5})) == {"a": 1.5}  # rows without bytes stay plain JSON
    assert b"\n" not in encode_row({"s": "a\nb"})


floats = st.one_of(st.none(), st.sampled_from(EDGE), st.floats(allow_nan=True, allow_infinity=True),
                   st.integers(-10**6, 10**6).map(lambda i: i / 100))
ints = st.one_of(st.none(), st.integers(-2**63, 2**63 - 1), st.integers(-5, 5))


@settings(max_examples=150, deadline=None, database=None, derandomize=True)
@given(st.lists(st.tuples(floats, ints, st.one_of(st.none(), st.booleans()), st.one_of(st.none(), st.sampled_from("abc"))),
                min_size=0, max_size=25), st.integers(1, 12), st.data())
def test_every_aggregate_from_the_stored_state_equals_the_exact_definition(rows, repeat, data):
    kinds = ["float", "int", "bool", "other"]
    rows = rows[:len(rows) // 2] + rows * repeat  # long enough for the block minima/maxima (64 values) too
    events = [[1000 * i, i, *r] for i, r in enumerate(rows)]
    row = decode_row(encode_row(encode_state(None if not events else events[-1][0], 0, 0, {}, events, kinds,
                                             frozenset({0, 1, 2}), frozenset({0, 1, 2}))))
    state = decode_state(row)
    back = state.events()
    assert len(back) == len(events)
    for a, b in zip(back, events):
        assert all(same_value(x, y) and type(x) is type(y) for x, y in zip(a, b)), (a, b)
    n = len(events)
    for _ in range(8):
        lo = data.draw(st.integers(0, n))
        hi = data.draw(st.integers(lo, n))
        for j, kind in enumerate(kinds):
            values = [e[2 + j] for e in events[lo:hi]]
            for agg in AGGS:
                if kind == "other" and agg not in ("len", "count", "first", "last", "n_unique"):
                    continue
                got = window_value(agg, kind, state.columns[j], lo, hi, 1)
                want = exact.aggregate(agg, kind, values, 1)
                assert same_value(got, want) and type(got) is type(want), (agg, kind, values, got, want)


plain_floats = st.one_of(st.sampled_from([x for x in EDGE if x == x]), st.floats(allow_nan=False),
                         st.integers(-10**6, 10**6).map(lambda i: i / 100))


@settings(max_examples=60, deadline=None, database=None, derandomize=True)
@given(st.lists(st.tuples(plain_floats, st.integers(-2**63, 2**63 - 1), st.booleans()), min_size=1, max_size=40),
       st.integers(1, 10), st.data())
def test_min_max_from_the_block_extremes_without_nulls_or_nan(rows, repeat, data):
    kinds = ["float", "int", "bool"]
    rows = rows * repeat
    events = [[1000 * i, i, *r] for i, r in enumerate(rows)]
    state = decode_state(decode_row(encode_row(encode_state(events[-1][0], 0, 0, {}, events, kinds, frozenset(),
                                                            frozenset({0, 1, 2})))))
    n = len(events)
    for _ in range(10):
        lo = data.draw(st.integers(0, n))
        hi = data.draw(st.integers(lo, n))
        for j, kind in enumerate(kinds):
            values = [e[2 + j] for e in events[lo:hi]]
            for agg in ("min", "max"):
                got, want = window_value(agg, kind, state.columns[j], lo, hi, 1), exact.aggregate(agg, kind, values)
                assert same_value(got, want) and type(got) is type(want), (agg, kind, lo, hi, got, want)


@settings(max_examples=120, deadline=None, database=None, derandomize=True)
@given(st.lists(st.tuples(floats, ints, st.one_of(st.none(), st.booleans()), st.one_of(st.none(), st.sampled_from("abc"))),
                min_size=1, max_size=30), st.integers(1, 8), st.data())
def test_appending_to_a_state_equals_encoding_it_whole(rows, repeat, data):
    """extend_state (an in-order ingest: drop sealed events, append new ones, prefixes keep their base) reads
    exactly as the state encoded from scratch, wherever it applies; where it does not it says so (None)."""
    kinds = ["float", "int", "bool", "other"]
    rows = rows * repeat
    events = [[1000 * i, i, *r] for i, r in enumerate(rows)]
    n = len(events)
    held = data.draw(st.integers(1, n))
    cut = data.draw(st.integers(0, held - 1))
    squared, blocked = frozenset({0, 1, 2}), frozenset({0, 1, 2})
    base = decode_state(decode_row(encode_row(encode_state(events[held - 1][0], 0, 0, {}, events[:held], kinds,
                                                           squared, blocked))))
    row = extend_state(base, cut, events[held:], events[-1][0], 0, cut, {}, kinds, squared, blocked)
    if row is None:  # a layout change: the caller encodes everything again
        return
    ext = decode_state(decode_row(encode_row(row)))
    full = decode_state(encode_state(events[-1][0], 0, cut, {}, events[cut:], kinds, squared, blocked))
    assert ext.n == full.n == n - cut
    for a, b in zip(ext.events(), full.events()):
        assert all(same_value(x, y) for x, y in zip(a, b)), (a, b)
    for _ in range(8):
        lo = data.draw(st.integers(0, ext.n))
        hi = data.draw(st.integers(lo, ext.n))
        for j, kind in enumerate(kinds):
            for agg in AGGS:
                if kind == "other" and agg not in ("len", "count", "first", "last", "n_unique"):
                    continue
                got = window_value(agg, kind, ext.columns[j], lo, hi, 1)
                want = window_value(agg, kind, full.columns[j], lo, hi, 1)
                assert same_value(got, want) and type(got) is type(want), (agg, kind, lo, hi, got, want)
