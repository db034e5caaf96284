"""Issue 14, finding 9: categories LightGBM would rewrite or choke on train, self-check, serve and score.

Before the model inputs got names of their own (``f0000``...), a one-hot category with spaces trained fine and
then ``serve`` refused the bundle (LightGBM had rewritten the spaces in its feature names), and a category with
a comma failed training with a LightGBM JSON error naming no column. Here every kind of hostile category goes
through build -> train -> the service's own start-up check -> real requests, and the served scores equal the
scores of the batch features.
"""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl
import pytest
from fastapi.testclient import TestClient

from skewless import FeatureSet, Float64, Input, String, col, frequency_encode, one_hot, ordinal_encode, target_encode
from skewless.serving.app import create_app
from skewless.serving.bundle_loader import check_bundle
from skewless.training.build import build_dataset
from skewless.training.train import train

CSV = Path(__import__("palmerpenguins").__file__).parent / "data" / "penguins.csv"

# The island names, replaced by what LightGBM rewrites (spaces, brackets), what broke its JSON (commas, quotes,
# colons, braces) and what a naive generated name would mangle (newline, non-ASCII, an empty string).
HOSTILE = {
    "Torgersen": 'Torgersen Island (Antarctica), "north": {x}',
    "Biscoe": "Biscoe,\nIsland [main]: ü ∑ 🐧",
    "Dream": "",
}

FS = FeatureSet(
    "hostile_categories",
    {"island": Input(String), "bill_length_mm": Input(Float64, nullable=True)},
    {
        "island_oh": one_hot(col("island")),
        "island_code": ordinal_encode(col("island")),
        "island_freq": frequency_encode(col("island")),
        "island_te": target_encode(col("island")),
        "bill": col("bill_length_mm").fill_null(0.0),
    },
)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    data = pl.read_csv(CSV, null_values="NA").with_columns(pl.col("island").replace_strict(HOSTILE))
    data.write_parquet(root / "penguins.parquet")
    build_dataset(FS, str(root / "penguins.parquet"), root / "build", label="species == 'Adelie'",
                  event_time=None, split_by="stratified", seed=1)
    train(root / "build", root / "bundle", tracking=False)
    return root / "bundle", data


def test_model_inputs_never_carry_the_category_text(bundle):
    bundle_dir, _ = bundle
    model_text = (bundle_dir / "model.txt").read_text()
    names = next(line for line in model_text.splitlines() if line.startswith("feature_names="))
    assert all(part.startswith("f") and part[1:].isdigit() for part in names.split("=", 1)[1].split(" ")), names


def test_the_service_start_up_check_passes_and_requests_score_like_batch(bundle):
    bundle_dir, data = bundle
    served = check_bundle(bundle_dir)
    assert served.problems == []
    rows = [{"island": island, "bill_length_mm": bill}
            for island, bill in zip(HOSTILE.values(), (39.1, None, 46.5))]
    frame = pl.DataFrame(rows, schema={"island": pl.String, "bill_length_mm": pl.Float64})
    features = served.bundle.transformer.transform(frame).collect()  # the bundle's own fitted state, in polars
    want = served.score_many(features.to_dicts())
    with TestClient(create_app(bundle_dir)) as client:
        assert client.get("/readyz").json() == {"status": "ready"}
        for i, row in enumerate(rows):
            r = client.post("/v1/predict?include_features=true", json=row)
            assert r.status_code == 200, r.text
            body = r.json()
            for name, value in features.row(i, named=True).items():
                got = body["features"][name]
                assert got == value or (isinstance(value, float) and math.isnan(value)), (name, got, value)
            assert body["score"] == want[i] and 0.0 <= want[i] <= 1.0
