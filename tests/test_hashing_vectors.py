"""hash_bucket is pinned to the published XXH64 algorithm: a library change that alters
hashes (and so silently moves every value to another bucket) must fail CI."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from skewless import DefinitionError, ExprTypeError, FeatureSet, Input, Int64, String, col

# Published XXH64 test vectors (seed 0), independent of any implementation.
VECTORS = {
    "": 0xEF46DB3751D8E999,
    "a": 0xD24EC4F1A98C6E5B,
    "abc": 0x44BC2CF5AD770999,
    "Nobody inspects the spammish repetition": 0xFBCEA83C8A378BF1,
}
N_MAX = 2**63 - 1


def test_xxhash_package_matches_vectors():
    import xxhash

    for text, want in VECTORS.items():
        assert xxhash.xxh64_intdigest(text.encode()) == want, text


def test_polars_hash_plugin_matches_vectors():
    import polars as pl
    import polars_hash as plh

    df = pl.DataFrame({"s": list(VECTORS)})
    got = df.select(plh.NonCryptographicHashingNameSpace(pl.col("s")).xxhash64()).to_series().to_list()
    assert got == list(VECTORS.values())


@pytest.mark.parametrize("n", [N_MAX, 1000, 7, 1])
def test_hash_bucket_both_runtimes_match_vectors(n):
    fs = FeatureSet("hv", {"s": String}, {"b": col("s").hash_bucket(n)})
    want = [h % n for h in VECTORS.values()]
    batch = fs.transform(__import__("polars").DataFrame({"s": list(VECTORS)})).collect()["b"].to_list()
    assert batch == want
    assert [fs.row_fn({"s": s})["b"] for s in VECTORS] == want


def test_int_hashes_its_decimal_text():
    import xxhash

    fs = FeatureSet("hi", {"i": Int64}, {"b": col("i").hash_bucket(N_MAX)})
    for i in (0, -7, 2**63 - 1, -(2**63)):
        assert fs.row_fn({"i": i})["b"] == xxhash.xxh64_intdigest(str(i).encode()) % N_MAX


@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "8", 2**63, None])
def test_n_must_be_a_positive_int_literal(bad):
    with pytest.raises(ExprTypeError):
        col("s").hash_bucket(bad)


def test_unhashable_dtype_is_a_definition_error():
    from skewless import Float64

    with pytest.raises(DefinitionError, match="cast to String"):
        FeatureSet("hf", {"x": Float64}, {"b": col("x").hash_bucket(3)})


def test_defining_and_serving_never_imports_polars_hash():
    code = textwrap.dedent(
        """
        import sys
        from skewless import FeatureSet, Input, String, col
        fs = FeatureSet("h", {"s": Input(String, nullable=True)}, {"b": col("s").hash_bucket(10)})
        assert fs.row_fn({"s": "abc"})["b"] == 0x44BC2CF5AD770999 % 10
        assert fs.row_fn({"s": None})["b"] is None
        bad = sorted(m for m in sys.modules if m.split(".")[0] in ("polars", "polars_hash"))
        assert not bad, bad
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True)


_ = Input
