"""Training beyond binary time splits (issue 13): string labels, seeded random and stratified splits without
an event time, LightGBM parameters checked by name, defaults that let a small table learn; and polars'
vocabulary in the "did you mean" of an unknown method."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from skewless import DefinitionError, FeatureSet, Float64, Input, String, col, one_hot, standardize
from skewless.errors import SkewlessError
from skewless.training.build import BuildError, build_dataset, parse_label
from skewless.training.train import TrainError, train

CSV = Path(__import__("palmerpenguins").__file__).parent / "data" / "penguins.csv"
PENGUINS = FeatureSet(
    "penguins_small",
    {"island": Input(String), "bill_length_mm": Input(Float64, nullable=True),
     "flipper_length_mm": Input(Float64, nullable=True), "sex": Input(String, nullable=True)},
    {"bill": col("bill_length_mm").fill_null(0.0), "flipper_std": standardize(col("flipper_length_mm")),
     "island_oh": one_hot(col("island")), "sex_known": col("sex").is_not_null()},
)


def test_labels_compare_strings():
    df = pl.DataFrame({"species": ["Adelie", "Gentoo", None]})
    for text, want in (("species == 'Adelie'", [True, False, None]), ('species != "Adelie"', [False, True, None])):
        expr, shown, columns = parse_label(text)
        assert df.select(expr.alias("y"))["y"].to_list() == want and columns == ["species"]
    with pytest.raises(BuildError, match="column == 'text'"):
        parse_label("species > 'Adelie'")


@pytest.mark.parametrize("split_by", ["random", "stratified"])
def test_a_seeded_split_without_event_time_is_recorded_and_repeatable(tmp_path, split_by):
    args = dict(label="species == 'Adelie'", event_time=None, split_by=split_by, seed=3)
    a = build_dataset(PENGUINS, str(CSV), tmp_path / "a", **args)
    b = build_dataset(PENGUINS, str(CSV), tmp_path / "b", **args)
    c = build_dataset(PENGUINS, str(CSV), tmp_path / "c", **{**args, "seed": 4})
    info = json.loads((tmp_path / "a" / "build.json").read_text())["split"]
    assert info["mode"] == split_by and info["seed"] == 3 and info["fractions"] == [0.7, 0.85]
    rows = {s: pl.read_parquet(tmp_path / "a" / s / "*.parquet") for s in ("train", "valid", "test")}
    again = {s: pl.read_parquet(tmp_path / "b" / s / "*.parquet") for s in ("train", "valid", "test")}
    assert all(rows[s].equals(again[s]) for s in rows)
    other = pl.read_parquet(tmp_path / "c" / "train" / "*.parquet")
    assert set(other["source_row"]) != set(rows["train"]["source_row"])
    assert sum(a.rows.values()) == 344 and a.rows["train"] > a.rows["valid"] > 0
    if split_by == "stratified":  # every split keeps the class proportion (to a row)
        total = sum(int(r["label"].sum()) for r in rows.values()) / 344
        for s, r in rows.items():
            assert abs(r["label"].mean() - total) <= 1.5 / r.height, s


def test_split_errors_name_the_fix(tmp_path):
    with pytest.raises(BuildError, match="split_by='random'"):
        build_dataset(PENGUINS, str(CSV), tmp_path / "x", label="body_mass_g", event_time=None)
    with pytest.raises(BuildError, match="stratified split needs class labels"):
        build_dataset(PENGUINS, str(CSV), tmp_path / "x", label="body_mass_g", event_time=None, split_by="stratified")
    with pytest.raises(BuildError, match="two row fractions"):
        build_dataset(PENGUINS, str(CSV), tmp_path / "x", label="body_mass_g", event_time=None, split_by="random",
                      split=("2020-01-01", "2021-01-01"))


@pytest.fixture(scope="module")
def mass_build(tmp_path_factory):
    out = tmp_path_factory.mktemp("mass") / "build"
    build_dataset(PENGUINS, str(CSV), out, label="body_mass_g", event_time=None, split_by="random")
    return out


def test_unknown_lightgbm_parameters_are_refused_naming_the_closest(mass_build, tmp_path):
    with pytest.raises(TrainError, match=r"unknown LightGBM parameter 'min_data_in_leef'; did you mean 'min_data_in_leaf'"):
        train(mass_build, tmp_path / "bundle", params={"min_data_in_leef": 5}, tracking=False)
    assert not (tmp_path / "bundle").exists()


def test_a_300_row_table_learns_and_early_stops(mass_build, tmp_path):
    result = train(mass_build, tmp_path / "bundle", tracking=False)
    params = result.manifest["model"]["params"]
    from skewless.training.build import read_build

    assert params["min_data_in_leaf"] == max(3, read_build(mass_build)["rows"]["train"] // 20) < 50
    assert result.manifest["model"]["best_iteration"] < 1000 - 50  # early stopping decided, not the round cap
    assert result.metrics["test"]["rmse"] < 600  # body mass: the label's std is about 800 g
    given = train(mass_build, tmp_path / "b2", params={"min_child_samples": 40}, tracking=False)  # an alias wins
    assert "min_data_in_leaf" not in given.manifest["model"]["params"]


@pytest.mark.parametrize("make, hint", [
    (lambda: col("x").qcut(4), "quantile_bucketize"),
    (lambda: col("x").rank(), "quantile_bucketize"),
    (lambda: col("x").mean(), "standardize"),
    (lambda: col("x").replace_strict({1: 2}), "map_values"),
    (lambda: col("x").cut([1, 2]), "bucketize"),
    (lambda: col("s").str.json_decode(), "Struct"),
    (lambda: col("s").str.split_exact(",", 1).struct.field("x"), "str.extract"),
    (lambda: col("x").mean().over("s"), "standardize"),
])
def test_did_you_mean_knows_polars_vocabulary_and_survives_a_chain(make, hint):
    with pytest.raises(DefinitionError, match=hint) as err:
        FeatureSet("s", {"x": Float64, "s": String}, {"f": make()})
    assert "arctan" not in str(err.value)
