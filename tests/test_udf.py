"""``skewless.udf``: refused at definition naming the feature, the same values and the same result checks on
both runtimes, floats kept bit for bit, the function named by module:qualname and source hash (issue 13)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import math
import struct
import zoneinfo

import polars as pl
import pytest

from skewless import (Boolean, Date, Datetime, DefinitionError, Duration, FeatureSet, Float64, Input, Int64, String,
                      UdfError, col, lit, udf)
from skewless.bundle.definition import definition_from_data
from skewless.ir.base import walk
from skewless.ir.udf import Udf, resolve, source_sha256

NY = zoneinfo.ZoneInfo("America/New_York")


# --------------------------------------------------------------------------- module-level functions a udf can name


def double(x):
    return None if x is None else x * 2.0


def describe(*values):
    """What the function was handed: type names and reprs (the same on both runtimes)."""
    return repr([(type(v).__name__, v, getattr(getattr(v, "tzinfo", None), "key", None)) for v in values])


_GIVE: list = []


def give(i):
    """The value ``_GIVE[i]`` (each test sets the list before it compiles)."""
    return _GIVE[i]


def signs(x):
    if x is None:
        return None
    if x != x:
        return struct.unpack("<d", struct.pack("<Q", 0xFFF0000000000001))[0]  # a negative signalling-pattern NaN
    return -0.0 if x == 0 else x


def _nested_factory():
    def inner(x):
        return x
    return inner


class Holder:
    def method(self, x):
        return x

    @staticmethod
    def static(x):
        return x


def gen(x):
    yield x


def _run_both(fs, rows):
    """(per-request results, batch results) of ``fs`` on ``rows``; exceptions are returned, not raised."""
    try:
        per_request = [fs.row_fn(r) for r in rows]
    except Exception as exc:  # noqa: BLE001 - compared below
        per_request = exc
    try:
        frame = pl.DataFrame(rows, schema={k: _pl(f.dtype) for k, f in fs.input_schema().items()})
        batch = fs.transform(frame).collect().to_dicts()
    except Exception as exc:  # noqa: BLE001
        batch = exc
    return per_request, batch


def _pl(dtype):
    from skewless.backends.polars.dtypes import to_polars

    return to_polars(dtype)


# --------------------------------------------------------------------------- refused at definition, naming the feature


@pytest.mark.parametrize("fn, expect", [
    (lambda x: x, "cannot take a lambda"),
    (_nested_factory(), "nested function"),
    (Holder().method, "cannot take a method"),
    (Holder.static, "a method or class attribute"),
    (len, "plain Python function"),
    (math.log1p, "plain Python function"),
    (functools.partial(double), "plain Python function"),
    (gen, "coroutine or generator"),
    ("double", "needs a function"),
])
def test_functions_a_bundle_cannot_name_are_refused_naming_the_feature(fn, expect):
    with pytest.raises(DefinitionError) as info:
        FeatureSet("u", {"x": Float64}, {"f": udf(fn, "x", return_dtype=Float64)})
    assert "feature 'f'" in str(info.value) and expect in str(info.value), str(info.value)


def test_a_function_of_main_or_not_importable_under_its_name_is_refused():
    main_fn = {"__name__": "__main__"}
    exec("def from_script(x):\n    return x\n", main_fn)  # noqa: S102 - a function as a script defines it
    with pytest.raises(DefinitionError, match=r"feature 'f'.*defined in '__main__'.*move it into a module"):
        FeatureSet("u", {"x": Float64}, {"f": udf(main_fn["from_script"], "x", return_dtype=Float64)})
    renamed = {"__name__": __name__}
    exec("def not_here(x):\n    return x\n", renamed)  # noqa: S102 - this module has no not_here
    with pytest.raises(DefinitionError, match=r"feature 'f'.*not importable as that name"):
        FeatureSet("u", {"x": Float64}, {"f": udf(renamed["not_here"], "x", return_dtype=Float64)})


@pytest.mark.parametrize("kwargs, args, expect", [
    ({}, ("x",), "give return_dtype="),
    ({"return_dtype": "Int32"}, ("x",), "return_dtype"),
    ({"return_dtype": Float64, "nullable": 1}, ("x",), "nullable must be True or False"),
    ({"return_dtype": Float64}, ([1, 2],), "argument 0"),
    ({"return_dtype": Float64}, (), "at least one argument that reads a column"),
    ({"return_dtype": Float64}, (1.0, lit("a")), "at least one argument that reads a column"),
    ({"return_dtype": Float64}, ("x", lit(None)), "argument 1 is an untyped null"),
    ({"return_dtype": Float64}, ("nope",), "unknown column 'nope'"),
])
def test_wrong_types_and_arguments_are_refused_naming_the_feature(kwargs, args, expect):
    with pytest.raises(DefinitionError) as info:
        FeatureSet("u", {"x": Float64}, {"f": udf(double, *args, **kwargs)})
    assert "feature 'f'" in str(info.value) and expect in str(info.value), str(info.value)


# --------------------------------------------------------------------------- the values handed to the function


def test_both_runtimes_hand_the_function_the_request_paths_python_values():
    fs = FeatureSet("u", {"i": Input(Int64, nullable=True), "x": Input(Float64, nullable=True),
                          "s": Input(String, nullable=True), "b": Input(Boolean, nullable=True),
                          "d": Input(Date, nullable=True), "t": Input(Datetime("us", "America/New_York"), nullable=True),
                          "w": Input(Datetime("ms"), nullable=True), "g": Input(Duration("us"), nullable=True)},
                    {"seen": udf(describe, "i", "x", "s", "b", "d", "t", "w", "g", col("t").dt.convert_time_zone("UTC"),
                                 return_dtype=String)})
    t = dt.datetime(2013, 11, 3, 1, 30, tzinfo=NY).replace(fold=1)  # the second 01:30 (EST)
    rows = [{"i": -7, "x": -0.0, "s": "straße", "b": False, "d": dt.date(1, 1, 1), "t": t,
             "w": dt.datetime(1969, 12, 31, 23, 59, 59, 999000), "g": dt.timedelta(microseconds=-1)},
            dict.fromkeys(["i", "x", "s", "b", "d", "t", "w", "g"])]
    per_request, batch = _run_both(fs, rows)
    assert per_request == batch
    seen = eval(per_request[0]["seen"], {"datetime": dt, "zoneinfo": zoneinfo})  # noqa: S307 - our own repr
    types = [s[0] for s in seen]
    assert types == ["int", "float", "str", "bool", "date", "datetime", "datetime", "timedelta", "datetime"]
    assert math.copysign(1.0, seen[1][1]) < 0 and seen[5][2] == "America/New_York"
    assert seen[8][1].utcoffset() == dt.timedelta(0) and seen[8][1].timestamp() == seen[5][1].timestamp()  # one instant
    assert seen[5][1].utcoffset() == dt.timedelta(hours=-5) and seen[6][1].tzinfo is None  # the instant, EST
    assert eval(per_request[1]["seen"]) == [("NoneType", None, None)] * 9  # noqa: S307 - nulls are passed as None


def test_nan_payloads_and_negative_zero_are_kept_bit_for_bit_on_both_runtimes():
    fs = FeatureSet("u", {"x": Input(Float64, nullable=True)}, {"y": udf(signs, "x", return_dtype=Float64)})
    rows = [{"x": 0.0}, {"x": float("nan")}, {"x": None}, {"x": float("-inf")}]
    per_request, batch = _run_both(fs, rows)

    def bits(v):
        return None if v is None else struct.pack("<d", v)

    assert [bits(r["y"]) for r in per_request] == [bits(r["y"]) for r in batch]
    assert bits(per_request[0]["y"]) == bits(-0.0) and bits(per_request[1]["y"]) == bytes.fromhex("010000000000f0ff")


# --------------------------------------------------------------------------- the result is checked on both runtimes


_WRONG = [
    (Float64, True, 1, "must return a float"),
    (Float64, True, True, "must return a float"),
    (Int64, True, 1.0, "must return an int"),
    (Int64, True, False, "must return an int"),
    (Int64, True, 2 ** 63, "outside Int64"),
    (String, True, b"x", "must return a str"),
    (Boolean, True, 1, "must return a bool"),
    (Date, True, dt.datetime(2020, 1, 1), "must return a datetime.date"),
    (Datetime("us"), True, dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc), "a naive datetime"),
    (Datetime("us", "UTC"), True, dt.datetime(2020, 1, 1), "an aware datetime"),
    (Datetime("ms"), True, dt.datetime(2020, 1, 1, 0, 0, 0, 1500), "finer than the declared unit 'ms'"),
    (Duration("ms"), True, dt.timedelta(microseconds=1), "finer than the declared unit 'ms'"),
    (Duration("us"), True, 5, "must return a datetime.timedelta"),
    (Float64, False, None, "None, but it is declared nullable=False"),
]


@pytest.mark.parametrize("dtype, nullable, value, expect", _WRONG, ids=[f"{d!r}-{v!r}" for d, _, v, _ in _WRONG])
def test_a_wrong_result_raises_on_both_runtimes_naming_the_udf_and_the_feature(dtype, nullable, value, expect):
    _GIVE[:] = [value]
    fs = FeatureSet("u", {"i": Input(Int64)}, {"out": udf(give, "i", return_dtype=dtype, nullable=nullable)})
    per_request, batch = _run_both(fs, [{"i": 0}])
    for err in (per_request, batch):
        assert isinstance(err, UdfError), err
        assert f"udf {__name__}:give (feature 'out') returned" in str(err) and expect in str(err), str(err)


def test_right_results_of_every_dtype_are_accepted_and_equal_on_both_runtimes():
    values = [(Float64, 1.5), (Int64, -(2 ** 63)), (String, ""), (Boolean, False), (Date, dt.date(9999, 12, 31)),
              (Datetime("us"), dt.datetime(1, 1, 1)), (Datetime("ms", "Asia/Kolkata"), dt.datetime(2020, 1, 1, tzinfo=NY)),
              (Duration("ms"), dt.timedelta(days=-3, milliseconds=5)), (Float64, None)]
    for dtype, value in values:
        _GIVE[:] = [value]
        fs = FeatureSet("u", {"i": Input(Int64)}, {"out": udf(give, "i", return_dtype=dtype)})
        per_request, batch = _run_both(fs, [{"i": 0}])
        assert per_request == batch, (dtype, per_request, batch)
        want = value.astimezone(zoneinfo.ZoneInfo("Asia/Kolkata")) if isinstance(dtype, Datetime) and dtype.time_zone \
            else value
        assert per_request[0]["out"] == want and type(per_request[0]["out"]) is type(want)


# --------------------------------------------------------------------------- named by module:qualname and source hash


def test_the_definition_records_module_qualname_and_source_hash_and_rebuilds_from_them():
    fs = FeatureSet("u", {"x": Input(Float64, nullable=True)}, {"y": udf(double, "x", return_dtype=Float64) + 1.0})
    data = json.loads(json.dumps(fs.ir_json()))
    node = data["features"]["y"]["left"]
    assert node["op"] == "Udf" and node["module"] == __name__ and node["qualname"] == "double"
    assert node["source_sha256"] == source_sha256(double) and len(node["source_sha256"]) == 64
    rebuilt = definition_from_data(data)
    assert rebuilt.fingerprint == fs.fingerprint and rebuilt.row_fn({"x": 2.0}) == {"y": 5.0}
    other = FeatureSet("u", {"x": Input(Float64, nullable=True)}, {"y": udf(describe, "x", return_dtype=String)})
    assert other.feature_fingerprints()["y"] != fs.feature_fingerprints()["y"]


def test_a_function_whose_source_changed_is_refused_naming_it_and_both_hashes():
    fs = FeatureSet("u", {"x": Input(Float64, nullable=True)}, {"y": udf(double, "x", return_dtype=Float64)})
    (node,) = [n for n in walk(fs.features["y"].node) if isinstance(n, Udf)]
    stale = dataclasses.replace(node, source_sha256="0" * 64)
    with pytest.raises(UdfError) as info:
        resolve(stale)
    msg = str(info.value)
    assert f"udf {__name__}:double" in msg and "0" * 64 in msg and source_sha256(double) in msg
    data = json.loads(json.dumps(fs.ir_json()))
    data["features"]["y"]["source_sha256"] = "0" * 64
    with pytest.raises(UdfError, match="the function changed since"):
        definition_from_data(data).row_fn({"x": 1.0})
    missing = dataclasses.replace(node, qualname="no_such_function")
    with pytest.raises(UdfError, match="has no 'no_such_function'"):
        resolve(missing)
    with pytest.raises(UdfError, match="cannot be imported"):
        resolve(dataclasses.replace(node, module="no_such_module_u13"))


def test_parity_reports_list_udf_features_as_outside_the_op_by_op_proof(tmp_path):
    from skewless.cli.reports import report_dict
    from skewless.parity import check_parity

    fs = FeatureSet("u", {"x": Input(Float64, nullable=True)},
                    {"y": udf(double, "x", return_dtype=Float64), "z": col("x") + 1.0})
    report = check_parity(fs, [{"x": 1.5}, {"x": None}, {"x": float("nan")}])
    assert report.ok and report.udf_features == ["y"]
    assert "udf features (user functions, outside the op-by-op proof; compared on these rows): y" in report.summary()
    assert report_dict(report, fs)["udf_features"] == ["y"]  # skewless parity --json


def test_fitted_ops_learn_over_a_udf_and_both_runtimes_agree():
    from skewless import fit, one_hot, quantile_bucketize, standardize
    from skewless.parity import check_parity

    fs = FeatureSet("u", {"x": Input(Float64, nullable=True), "s": Input(String, nullable=True)},
                    {"y": standardize(udf(double, "x", return_dtype=Float64)),
                     "q": quantile_bucketize(udf(double, "x", return_dtype=Float64), 4), "o": one_hot(col("s"))})
    data = pl.DataFrame({"x": [1.0, 2.0, None, 4.0, 8.0, -1.0, -0.0], "s": ["a", "b", None, "a", "c", "a", "b"]})
    fitted = fit(fs, data)
    report = check_parity(fitted, data, single_row_frames=True)
    assert report.ok and report.udf_features == ["y", "q"], report.summary()
    mean = sum(2.0 * v for v in [1.0, 2.0, 4.0, 8.0, -1.0, -0.0]) / 6
    assert fitted.row_fn({"x": mean / 2, "s": "a"})["y"] == 0.0  # standardized around the udf's own mean
