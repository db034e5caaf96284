"""One conformance suite for every online store (skewless.state): the embedded SQLite store and a real Redis.

Each test runs against both stores. Redis is a real ``redis-server`` started on a free loopback port in
its own directory (``tests/redis_server.py``), killed at the end; the store-down tests start their own.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import signal
import sqlite3
import struct
import subprocess
import sys
import threading
import uuid

import pytest
import redis as redis_py

from redis_server import RedisServer, redis_server  # noqa: F401 - a fixture
from skewless.runtime.tz import get_zone
from skewless.state import InvalidKey, OnlineStore, RedisStore, SQLiteStore, StateRow, StoreUnavailable
from skewless.state.protocol import ConcurrentLoad

STORES = ["sqlite", "redis"]


@pytest.fixture(params=STORES)
def kind(request):
    return request.param


@pytest.fixture
def open_store(kind, tmp_path, request):
    """``open_store()`` -> a new connection to the same store (one namespace per test on the shared Redis)."""
    opened = []
    namespace = f"t{uuid.uuid4().hex[:12]}:"

    def open_store(**kw) -> OnlineStore:
        if kind == "sqlite":
            store = SQLiteStore(tmp_path / "state.db", **kw)
        else:
            server = request.getfixturevalue("redis_server")
            store = RedisStore(server.url, namespace=namespace, **kw)
        opened.append(store)
        return store

    yield open_store
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store):
    return open_store()


def bits(value):
    return struct.pack("<d", value) if type(value) is float else value


def test_both_stores_follow_the_protocol(store):
    assert isinstance(store, OnlineStore)
    assert store.name.startswith(("sqlite:", "redis://127.0.0.1:"))


def test_values_come_back_exactly(store):
    ny = get_zone("America/New_York")
    row = {
        "neg_zero": -0.0, "nan": math.nan, "inf": math.inf, "ninf": -math.inf, "tiny": 5e-324, "third": 1 / 3,
        "big": 2**63 - 1, "small": -(2**63), "flag": True, "off": False, "none": None,
        "text": "Straße ǅ \u0000 \U0001f600 \ud800", "empty": "",
        "aware": dt.datetime(2013, 11, 3, 1, 30, fold=1, tzinfo=ny),  # the second 01:30 of the DST end
        "utc": dt.datetime(2013, 1, 1, 5, 0, 0, 1, tzinfo=get_zone("UTC")),
        "naive": dt.datetime(1969, 12, 31, 23, 59, 59, 999_999), "day": dt.date(1900, 2, 28),
        "span": dt.timedelta(days=-1, microseconds=3),
    }
    store.write("planes", [(("N1",), 10, row)])
    [got] = store.get_many([("planes", ("N1",))])
    assert got.event_time == 10
    assert got.values.keys() == row.keys()
    for name, value in row.items():
        assert type(got.values[name]) is type(value), name
        assert bits(got.values[name]) == bits(value) or (value != value and got.values[name] != got.values[name]), name
    assert got.values["aware"].utcoffset() == row["aware"].utcoffset() == dt.timedelta(hours=-5)
    assert got.values["aware"].tzinfo.key == "America/New_York"


def test_an_older_write_never_overwrites_newer_state(store):
    store.write("weather", [(("EWR",), 100, {"temp": 1.0})])
    store.write("weather", [(("EWR",), 99, {"temp": 2.0})])           # late write: dropped
    assert store.get_many([("weather", ("EWR",))]) == [StateRow(100, {"temp": 1.0})]
    store.write("weather", [(("EWR",), 101, {"temp": 3.0})])
    assert store.get_many([("weather", ("EWR",))]) == [StateRow(101, {"temp": 3.0})]
    # Out of order inside one write as well.
    store.write("weather", [(("JFK",), 7, {"temp": 7.0}), (("JFK",), 5, {"temp": 5.0}), (("JFK",), 6, {"temp": 6.0})])
    assert store.get_many([("weather", ("JFK",))]) == [StateRow(7, {"temp": 7.0})]


def test_equal_event_times_the_later_write_wins(store):
    store.write("weather", [(("EWR",), 100, {"temp": 1.0})])
    store.write("weather", [(("EWR",), 100, {"temp": 2.0})])
    assert store.get_many([("weather", ("EWR",))]) == [StateRow(100, {"temp": 2.0})]
    store.write("weather", [(("LGA",), 5, {"temp": 1.0}), (("LGA",), 5, {"temp": 9.0})])
    assert store.get_many([("weather", ("LGA",))]) == [StateRow(5, {"temp": 9.0})]


def test_missing_keys_and_tables_answer_none_in_order(store):
    store.write("planes", [(("N1",), 1, {"seats": 1}), (("N2",), 2, {"seats": 2})])
    store.write("weather", [(("EWR",), 3, {"temp": 0.5})])
    got = store.get_many([("planes", ("N2",)), ("planes", ("N9",)), ("weather", ("EWR",)), ("nowhere", ("N1",)),
                          ("planes", ("N1",)), ("planes", ("N2",))])
    assert got == [StateRow(2, {"seats": 2}), None, StateRow(3, {"temp": 0.5}), None, StateRow(1, {"seats": 1}),
                   StateRow(2, {"seats": 2})]
    assert store.get_many([]) == []


def test_key_types_are_distinct_entities_and_composite_keys_work(store):
    store.write("t", [((1,), 1, {"v": "int"}), (("1",), 1, {"v": "str"}), ((True,), 1, {"v": "bool"}),
                      ((2013, "EWR"), 1, {"v": "pair"})])
    got = store.get_many([("t", (1,)), ("t", ("1",)), ("t", (True,)), ("t", (2013, "EWR")), ("t", ("EWR", 2013))])
    assert [g and g.values["v"] for g in got] == ["int", "str", "bool", "pair", None]


@pytest.mark.parametrize("key", [(None,), ("EWR", None), (1.5,), (math.nan,), (), "EWR", ["EWR"]])
def test_null_float_and_malformed_keys_are_refused_and_nothing_is_written(store, key):
    with pytest.raises(InvalidKey, match="'weather'"):
        store.write("weather", [(("EWR",), 1, {"temp": 1.0}), (key, 2, {"temp": 2.0})])
    with pytest.raises(InvalidKey):
        store.get_many([("weather", key)])
    assert store.get_many([("weather", ("EWR",))]) == [None]  # the valid row of the refused write is not there


@pytest.mark.parametrize("event_time", [1.0, True, None, "2013-01-01", 2**53 + 1])
def test_event_times_are_int_microseconds(store, event_time):
    with pytest.raises(InvalidKey, match="event time"):
        store.write("weather", [(("EWR",), event_time, {"temp": 1.0})])


def test_bad_table_names_are_refused(store):
    for table in ("", "a b", "x*", "a:b", None):
        with pytest.raises(InvalidKey, match="table name"):
            store.write(table, [(("k",), 1, {})])


def test_all_lookups_of_a_request_are_one_round_trip(store, kind, monkeypatch):
    store.write("planes", [((f"N{i}",), i, {"seats": i}) for i in range(50)])
    store.write("weather", [(("EWR",), 1, {"temp": 1.0})])
    lookups = [("planes", (f"N{i}",)) for i in range(0, 60, 3)] + [("weather", ("EWR",)), ("weather", ("JFK",))]
    # The first read after a Redis server starts also loads the script into its cache (two more round trips,
    # once per server lifetime); the steady state is what a request pays.
    store.get_many(lookups)
    trips = []
    if kind == "sqlite":
        store._conn.set_trace_callback(trips.append)
    else:
        real = redis_py.connection.Connection.send_packed_command
        monkeypatch.setattr(redis_py.connection.Connection, "send_packed_command",
                            lambda self, *a, **k: (trips.append(a), real(self, *a, **k))[1])
    got = store.get_many(lookups)
    assert len(trips) == 1, trips
    assert [g and g.event_time for g in got] == [i if i < 50 else None for i in range(0, 60, 3)] + [1, None]


def test_a_load_switches_versions_atomically(open_store):
    store, reader = open_store(), open_store()  # the reader is a second connection, as another process's
    store.load("planes", [((f"N{i}",), 1, {"v": "old"}) for i in range(10)])
    first = store.version("planes")
    seen = []

    def during(written):
        # Mid-load: the reader sees the old version only, whole; the new rows are invisible.
        got = reader.get_many([("planes", (f"N{i}",)) for i in range(12)])
        seen.append(written)
        assert [g and g.values["v"] for g in got] == ["old"] * 10 + [None, None]
        assert reader.version("planes") == first

    new_rows = [((f"N{i}",), 2, {"v": "new"}) for i in range(2, 12)]  # N0, N1 leave the table
    result = store.load("planes", iter(new_rows), batch_size=3, progress=during)
    assert seen == [3, 6, 9, 10]
    assert result.rows == 10 and result.version == reader.version("planes") != first
    got = reader.get_many([("planes", (f"N{i}",)) for i in range(12)])
    assert [g and g.values["v"] for g in got] == [None, None] + ["new"] * 10


def test_writes_during_a_load_survive_the_switch(open_store):
    store, writer = open_store(), open_store()
    store.load("weather", [(("EWR",), 10, {"t": 1.0})])

    def during(written):
        if written == 2:
            writer.write("weather", [(("EWR",), 50, {"t": 5.0}), (("LGA",), 1, {"t": 0.0})])

    store.load("weather", [(("EWR",), 20, {"t": 2.0}), (("JFK",), 20, {"t": 2.0}), (("LGA",), 30, {"t": 3.0})],
               batch_size=2, progress=during)
    got = store.get_many([("weather", ("EWR",)), ("weather", ("JFK",)), ("weather", ("LGA",))])
    # The live write (time 50) beats the loaded row (20); the loaded LGA row (30) beats the older write (1).
    assert got == [StateRow(50, {"t": 5.0}), StateRow(20, {"t": 2.0}), StateRow(30, {"t": 3.0})]


def test_an_interrupted_load_is_never_visible(open_store):
    store = open_store()
    store.load("planes", [(("N1",), 1, {"v": "old"})])
    live = store.version("planes")

    def rows():
        yield ("N1",), 2, {"v": "new"}
        yield ("N2",), 2, {"v": "new"}
        raise KeyboardInterrupt  # the operator pressed ^C mid-load

    with pytest.raises(KeyboardInterrupt):
        store.load("planes", rows(), batch_size=1)
    with pytest.raises(InvalidKey, match="null"):
        store.load("planes", [(("N3",), 2, {"v": "new"}), ((None,), 2, {"v": "new"})], batch_size=1)
    reader = open_store()
    assert reader.version("planes") == live
    assert reader.get_many([("planes", ("N1",)), ("planes", ("N2",)), ("planes", ("N3",))]) == [
        StateRow(1, {"v": "old"}), None, None]
    assert store.load("planes", [(("N2",), 3, {"v": "again"})]).rows == 1
    assert reader.get_many([("planes", ("N1",)), ("planes", ("N2",))]) == [None, StateRow(3, {"v": "again"})]
    assert _stored_rows(store) == 1  # neither the abandoned loads nor the replaced version left rows behind


def test_a_load_replaced_by_another_load_never_switches(open_store):
    store, other = open_store(), open_store()
    store.load("planes", [(("N1",), 1, {"v": "old"})])

    def during(written):
        if written == 1:
            other.load("planes", [(("N9",), 1, {"v": "other"})])

    with pytest.raises(ConcurrentLoad):
        store.load("planes", [(("N1",), 2, {"v": "mine"}), (("N2",), 2, {"v": "mine"})], batch_size=1,
                   progress=during)
    assert store.get_many([("planes", ("N1",)), ("planes", ("N9",))]) == [None, StateRow(1, {"v": "other"})]


def test_an_empty_load_empties_the_table(store):
    store.write("planes", [(("N1",), 1, {"v": 1})])
    assert store.load("planes", []).rows == 0
    assert store.get_many([("planes", ("N1",))]) == [None]


def _stored_rows(store) -> int:
    if isinstance(store, SQLiteStore):
        return store._conn.execute("SELECT count(*) FROM skewless_state").fetchone()[0]
    return sum(1 for _ in store._client.scan_iter(match=f"{store.namespace}row:*"))


def _within(seconds, fn):
    """Run ``fn`` in a thread; its exception, or a failure if it has not returned after ``seconds``."""
    box = {}

    def run():
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            box["exc"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"no answer after {seconds} s: the timeout is not bounded"
    return box.get("exc")


def test_redis_down_is_store_unavailable_naming_the_store(tmp_path):
    server = RedisServer(tmp_path / "redis")
    store = RedisStore(server.url, timeout=0.5)
    try:
        store.write("planes", [(("N1",), 1, {"v": 1})])
        assert store.get_many([("planes", ("N1",))]) == [StateRow(1, {"v": 1})]
        # A stalled server (SIGSTOP): the socket timeout answers, bounded (the bound is 60x the timeout so
        # a loaded machine cannot fail it; without a timeout the call would hang forever).
        os.kill(server.proc.pid, signal.SIGSTOP)
        try:
            exc = _within(30, lambda: store.get_many([("planes", ("N1",))]))
            assert isinstance(exc, StoreUnavailable) and exc.store == store.name, exc
            assert f"127.0.0.1:{server.port}" in str(exc) and "0.5 s" in str(exc)
        finally:
            os.kill(server.proc.pid, signal.SIGCONT)
        server.stop()  # killed mid-test
        for call in (lambda: store.get_many([("planes", ("N1",))]), lambda: store.write("planes", [(("N1",), 2, {})]),
                     lambda: store.load("planes", []), lambda: store.version("planes")):
            exc = _within(30, call)
            assert isinstance(exc, StoreUnavailable) and str(exc).startswith(f"online store {store.name} is"), exc
    finally:
        store.close()
        server.stop()


def test_sqlite_locked_or_unopenable_is_store_unavailable_naming_the_store(tmp_path):
    path = tmp_path / "state.db"
    store = SQLiteStore(path, timeout=0.2)
    store.write("planes", [(("N1",), 1, {"v": 1})])
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        exc = _within(30, lambda: store.write("planes", [(("N1",), 2, {"v": 2})]))
        assert isinstance(exc, StoreUnavailable) and exc.store == f"sqlite:{path}" and "locked" in str(exc), exc
        exc = _within(30, lambda: store.load("planes", []))
        assert isinstance(exc, StoreUnavailable), exc
        # WAL: readers never wait for a writer, and see the last committed state.
        assert store.get_many([("planes", ("N1",))]) == [StateRow(1, {"v": 1})]
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    store.write("planes", [(("N1",), 2, {"v": 2})])  # the lock released, the store works again
    store.close()
    with pytest.raises(StoreUnavailable, match="closed"):
        store.get_many([("planes", ("N1",))])
    with pytest.raises(StoreUnavailable, match=f"sqlite:{tmp_path}/missing/state.db.*cannot open"):
        SQLiteStore(tmp_path / "missing" / "state.db")
    (tmp_path / "garbage.db").write_bytes(b"not a database" * 100)
    with pytest.raises(StoreUnavailable, match="garbage.db"):
        SQLiteStore(tmp_path / "garbage.db")


def test_the_state_package_never_imports_polars(tmp_path):
    # The serving path reads the store; it must stay free of polars (as the service is).
    code = (f"import sys\nfrom skewless.state import SQLiteStore, RedisStore\nimport skewless.state.lookups\n"
            f"s = SQLiteStore({str(tmp_path / 'x.db')!r}); s.write('t', [(('k',), 1, {{'v': 1.5}})])\n"
            "assert s.get_many([('t', ('k',))])[0].values == {'v': 1.5}\n"
            "print(sorted(m for m in sys.modules if m.startswith('polars')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == "[]", proc.stdout


def test_reads_from_many_threads_get_their_own_answers(store):
    # RedisStore reads on one connection per thread: replies must never cross between threads.
    import threading

    store.write("planes", [((f"N{i}",), i, {"seats": i}) for i in range(40)])
    wrong = []

    def reader(offset):
        for _ in range(100):
            keys = [(offset + j) % 40 for j in range(3)]
            got = store.get_many([("planes", (f"N{k}",)) for k in keys])
            if [g.values["seats"] for g in got] != keys:
                wrong.append((offset, got))

    threads = [threading.Thread(target=reader, args=(i * 7,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not wrong and not any(t.is_alive() for t in threads)


def test_the_fast_key_encoding_is_json_dumps():
    # encode_key writes one-part str/int keys without json.dumps; the bytes must be exactly json.dumps'.
    import json
    import random

    from skewless.state.codec import encode_key

    rng = random.Random(0)
    keys = [("",), ("N14228",), ('a"b',), ("a\\b",), ("\x7f",), ("\x1f",), ("é",), (" ~",), ("[x]",), (0,), (-5,),
            (2**70,), (True,), (False,), ("a", 1)]
    keys += [("".join(chr(rng.randrange(0, 300)) for _ in range(rng.randrange(6))),) for _ in range(3000)]
    keys += [(rng.randrange(-2**65, 2**65),) for _ in range(300)]
    for key in keys:
        assert encode_key("t", key) == json.dumps(list(key), separators=(",", ":"), ensure_ascii=True), key


def test_transact_reads_as_it_goes_writes_and_deletes_several_keys_at_once(store):
    store.write("t", [(("head",), 1, {"next": "b"}), (("a",), 1, {"v": 1}), (("b",), 1, {"v": 2})])

    def change(read):
        (head,) = read([("head",)])
        (row,) = read([(head.values["next"],)])  # a key decided by an earlier read
        return {("head",): (2, {"next": "c"}), ("c",): (0, {"v": row.values["v"] + 1}), ("a",): None}

    store.transact("t", change)
    got = store.get_many([("t", ("head",)), ("t", ("a",)), ("t", ("b",)), ("t", ("c",))])
    assert got == [StateRow(2, {"next": "c"}), None, StateRow(1, {"v": 2}), StateRow(0, {"v": 3})]
    store.transact("new", lambda read: {("x",): (5, {"v": read([("x",)])[0]})})  # a table's first write
    assert store.get_many([("new", ("x",))]) == [StateRow(5, {"v": None})]


def test_transact_that_raises_writes_nothing(store):
    store.write("t", [(("a",), 1, {"v": 1})])

    def change(read):
        read([("a",)])
        raise ValueError("no")

    with pytest.raises(ValueError):
        store.transact("t", change)
    assert store.get_many([("t", ("a",))]) == [StateRow(1, {"v": 1})]


def test_concurrent_transactions_over_two_keys_lose_no_change(open_store):
    # two connections move units between two rows and count moves in a third: any lost or torn change breaks
    # the invariant a + b == 100 or the count
    first = open_store()
    first.write("t", [(("a",), 0, {"v": 100}), (("b",), 0, {"v": 0}), (("n",), 0, {"v": 0})])
    errors = []

    def run(store, step):
        try:
            for _ in range(25):
                def change(read):
                    a, b, n = read([("a",), ("b",), ("n",)])
                    return {("a",): (0, {"v": a.values["v"] - step}), ("b",): (0, {"v": b.values["v"] + step}),
                            ("n",): (0, {"v": n.values["v"] + 1})}

                store.transact("t", change)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(open_store(), step)) for step in (1, 2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert not errors
    a, b, n = (r.values["v"] for r in first.get_many([("t", ("a",)), ("t", ("b",)), ("t", ("n",))]))
    assert (a, b, n) == (100 - 75, 75, 50)


def test_transact_during_a_load_changes_each_version_from_its_own_rows(open_store):
    store = open_store()
    store.write("t", [(("a",), 1, {"v": 1})])

    def bump(read):
        (row,) = read([("a",)])
        return {("a",): (1, {"v": (row.values["v"] if row else 0) + 1}), ("gone",): None}

    def rows():
        yield (("a",), 1, {"v": 10})
        store.transact("t", bump)  # mid-load: the live row and the row loaded so far, each changed
        assert store.get_many([("t", ("a",))])[0].values == {"v": 2}
        yield (("gone",), 1, {"v": 0})

    store.load("t", rows(), batch_size=1)
    assert store.get_many([("t", ("a",))])[0].values == {"v": 11}


def test_a_transaction_that_read_a_torn_view_has_no_effect_and_runs_again(open_store, kind):
    store, other = open_store(), open_store(timeout=0.2)
    store.write("t", [(("a",), 0, {"v": 1}), (("b",), 0, {"v": 1})])  # a == b, always written together
    calls = []

    def change(read):
        (a,) = read([("a",)])
        calls.append(a.values["v"])
        if len(calls) == 1:  # another writer changes both rows between this call's two reads
            try:
                other.write("t", [(("a",), 0, {"v": 2}), (("b",), 0, {"v": 2})])
            except StoreUnavailable:
                assert kind == "sqlite"  # SQLite: the transaction holds the write lock
        (b,) = read([("b",)])
        assert a.values == b.values  # Redis: a torn view; the error is discarded and change runs again
        return {("c",): (0, {"v": a.values["v"] + b.values["v"]})}

    store.transact("t", change)
    assert store.get_many([("t", ("c",))])[0].values == {"v": 2 if kind == "sqlite" else 4}
    assert calls == ([1] if kind == "sqlite" else [1, 2])
