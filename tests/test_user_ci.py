"""skewless.testing (parity checks in a user's own CI) and the per-request contract (issue 13).

Before: ``check_parity(fitted_set, ...)`` raised AttributeError, the row generators lived in the test
package, and ``row_fn({"x": 7})`` for a Float64 ``x`` computed with the int (``-x`` gave ``0``, a
string cast ``'7'``), a missing key was a bare KeyError and ``None`` in a non-nullable input gave a value.
"""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest

from skewless import (
    Boolean,
    Date,
    Datetime,
    Duration,
    FeatureSet,
    Float64,
    Input,
    Int64,
    SkewlessError,
    String,
    col,
    fit,
    standardize,
)
from skewless.requests import RequestError, checked_row_fn, request_validator
from skewless.testing import ParityAssertionError, assert_parity

FS = FeatureSet(
    "contract",
    {"x": Input(Float64), "n": Input(Int64, nullable=True), "s": Input(String), "b": Input(Boolean),
     "t": Input(Datetime("us", "America/New_York")), "d": Input(Date, nullable=True), "u": Input(Duration)},
    {"neg": -col("x"), "x_text": col("x").cast(String), "n1": col("n") + 1, "up": col("s").str.to_uppercase(),
     "hour": col("t").dt.hour(), "nb": col("b").not_(), "year": col("d").dt.year(), "secs": col("u").dt.total_seconds()},
)
ROW = {"x": 7, "n": None, "s": "ab", "b": True, "t": "2024-03-10T06:59:00+00:00", "d": "2024-02-29", "u": "PT90S"}


# --------------------------------------------------------------------------- assert_parity


def test_assert_parity_checks_real_edge_hypothesis_and_one_row_frames():
    real = [{"x": 1.5, "n": 3, "s": "é", "b": False, "t": dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
             .astimezone(__import__("zoneinfo").ZoneInfo("America/New_York")), "d": None, "u": dt.timedelta(1)}]
    checks = assert_parity(FS, real, examples=30, edge_limit=300)
    assert set(checks.rows_checked) == {"real rows", "edge rows", "hypothesis rows", "one-row frames"}
    assert checks.rows_checked["edge rows"] == 300 and checks.rows_checked["hypothesis rows"] >= 30
    assert "both runtimes agree" in str(checks)


def test_assert_parity_takes_fitted_sets_and_frames_and_refuses_an_unfitted_one():
    written = FeatureSet("f", {"x": Input(Float64)}, {"z": standardize(col("x"))})
    with pytest.raises(SkewlessError, match="has fitted ops: fit it first"):
        assert_parity(written)
    rows = pl.DataFrame({"x": [1.0, 2.0, 4.0]})
    fitted = fit(written, rows.to_pandas())
    assert assert_parity(fitted, rows.to_arrow(), examples=10).rows_checked["real rows"] == 3


def test_assert_parity_fails_as_an_assertion_naming_the_feature(monkeypatch):
    from skewless.backends.python.rules import RULES
    from skewless.ir import core

    monkeypatch.setitem(RULES, core.Add, lambda e, node, args: f"{args[0].src} + {args[1].src} + 1")
    broken = FeatureSet("broken", {"a": Input(Int64, nullable=True)}, {"plus": col("a") + 1})
    with pytest.raises(ParityAssertionError, match=r"(?s)edge rows: parity 'broken'.*plus: \d+ rows differ"):
        assert_parity(broken, examples=0)
    with pytest.raises(AssertionError, match="hypothesis rows"):
        assert_parity(broken, edges=False, examples=5)


def test_the_test_suite_uses_the_library_generators():
    import parity_tests.edges
    import parity_tests.strategies
    import skewless.testing as t

    assert parity_tests.edges.edge_rows is t.edge_rows and parity_tests.edges.edge_values is t.edge_values
    assert parity_tests.strategies.rows_for is t.rows_for


# --------------------------------------------------------------------------- the per-request contract


def test_row_fn_is_documented_as_the_unvalidated_hot_path():
    doc = type(FS).row_fn.__doc__
    assert "unvalidated" in doc and "checked_row_fn" in doc


def test_checked_row_fn_coerces_as_the_service_does():
    checked = checked_row_fn(FS)
    got = checked(ROW)
    as_float = checked({**ROW, "x": 7.0})
    assert got == as_float  # an int for a Float64 input gives the features of the float
    assert got["x_text"] == "7.0" and got["hour"] == 1 and got["secs"] == 90.0 and got["year"] == 2024
    zero = checked({**ROW, "x": 0})
    assert zero["neg"] == 0.0 and math.copysign(1.0, zero["neg"]) == -1.0  # -0.0, as polars gives for -(0.0)
    assert FS.checked_row_fn()(ROW) == got
    # Python temporal objects are taken too, converted to the declared zone
    aware = {**ROW, "t": dt.datetime(2024, 3, 10, 6, 59, tzinfo=dt.timezone.utc), "d": dt.date(2024, 2, 29),
             "u": dt.timedelta(seconds=90)}
    assert checked(aware) == got


@pytest.mark.parametrize("change, field, message", [
    ({"x": None}, "x", "not nullable"),
    ({"x": "7"}, "x", "valid number"),
    ({"x": True}, "x", "valid number"),
    ({"n": 1.0}, "n", "valid integer"),
    ({"n": 2**63}, "n", "less than or equal"),
    ({"s": 5}, "s", "valid string"),
    ({"t": "2024-03-10T06:59:00"}, "t", "timezone"),
    ({"t": 1710053940}, "t", "ISO 8601"),
    ({"zz": 1}, "zz", "not a declared input"),
], ids=["null", "string for float", "bool for float", "float for int", "int64 range", "int for string",
        "naive datetime", "unix time", "unknown key"])
def test_checked_row_fn_refuses_naming_the_field(change, field, message):
    with pytest.raises(RequestError, match=rf"input '{field}': .*{message}") as err:
        checked_row_fn(FS)({**ROW, **change})
    assert err.value.errors[0][0] == field


def test_a_missing_key_is_named_and_unknown_keys_can_be_ignored():
    row = dict(ROW)
    del row["b"]
    with pytest.raises(RequestError, match=r"input 'b': missing"):
        checked_row_fn(FS)(row)
    assert checked_row_fn(FS, extra="ignore")({**ROW, "zz": 1}) == checked_row_fn(FS)(ROW)


def test_the_validator_agrees_with_the_service_request_model():
    from pydantic import ValidationError

    from skewless.serving.schemas import request_model

    model = request_model("contract", FS.input_schema())
    validate = request_validator(FS)
    cases = [ROW, {**ROW, "x": 1.5}, {**ROW, "x": None}, {**ROW, "n": 1.0}, {**ROW, "n": True}, {**ROW, "s": None},
             {**ROW, "t": "2024-03-10T06:59:00"}, {**ROW, "d": None}, {**ROW, "u": 5}, {**ROW, "x": float("nan")}]
    for row in cases:
        try:
            want = model.model_validate(row).model_dump()
        except ValidationError:
            want = None
        try:
            got = validate(row)
        except RequestError:
            got = None
        assert got == want, row
