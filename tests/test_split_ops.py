"""str.split + element access: polars' spelling over one fused op; what skewless cannot copy is refused at definition."""

from __future__ import annotations

import pytest

from skewless import DefinitionError, FeatureSet, String, col


@pytest.mark.parametrize("make, message", [
    (lambda: col("s").str.split(","), "gives a List, and skewless has no List dtype"),
    (lambda: col("s").str.split(",").str.len_chars(), "gives a List"),
    (lambda: col("s").str.split(",") == "a", "gives a List"),
    (lambda: col("s").list.first(), "list.first() needs a List"),
    (lambda: col("s").str.split(",").list.get(1), "pass null_on_oob=True"),
    (lambda: col("s").str.split("").list.get(0), "pass null_on_oob=True"),
    (lambda: col("s").str.split(",", inclusive=True).list.get(-1), "pass null_on_oob=True"),
    (lambda: col("s").str.split(col("s")).list.first(), "literal string"),
    (lambda: col("s").str.split(",").list.get("1", null_on_oob=True), "index must be an int"),
    (lambda: col("s").str.split(",").list.join("-"), "take one element"),
])
def test_split_refusals_name_the_feature(make, message):
    with pytest.raises(DefinitionError, match="feature 'f'") as err:
        FeatureSet("s", {"s": String}, {"f": make()})
    assert message in str(err.value)


def test_split_accessors_per_request():
    fs = FeatureSet("s", {"s": String}, {
        "origin": col("s").str.split("-").list.first(), "dest": col("s").str.split("-").list.last(),
        "via": col("s").str.split("-").list.get(1, null_on_oob=True), "hops": col("s").str.split("-").list.len(),
        "chars": col("s").str.split("").list.len(), "kept": col("s").str.split("-", inclusive=True).list.first(),
    })
    assert fs.row_fn({"s": "JFK-LAX"}) == {"origin": "JFK", "dest": "LAX", "via": "LAX", "hops": 2, "chars": 7, "kept": "JFK-"}
    assert fs.row_fn({"s": ""}) == {"origin": "", "dest": "", "via": None, "hops": 1, "chars": 0, "kept": None}
