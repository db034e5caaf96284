"""The served-feature log (:mod:`skewless.serving.feature_log`): exact typed round trip (Parquet that polars
reads as is), rotation, sampling, drops counted and never blocking, flush on close, write errors counted
without reaching serving, and crash safety (orphaned ``.part`` files finalized on start; a real process
killed with SIGKILL loses only what it had not written)."""

from __future__ import annotations

import datetime as dt
import errno
import json
import logging
import math
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from skewless.dtypes import Boolean, Date, Datetime, Duration, Field, Float64, Int64, String
from skewless.runtime.tz import get_zone
from skewless.serving.feature_log import FORMAT_VERSION, PARQUET, PART, FeatureLog, RequestIds, read_log, recover
from skewless.training.bundle import same_value

NY = get_zone("America/New_York")
IN = {"i": Field(Int64(), True), "pad": Field(String(), True)}
OUT = {"f": Field(Float64(), True)}


def _log(directory, **kw) -> FeatureLog:
    return FeatureLog(directory, bundle_id=kw.pop("bundle_id", "b-1"), input_schema=kw.pop("input_schema", IN),
                      output_schema=kw.pop("output_schema", OUT), **kw)


def _row(i, pad=None) -> dict:
    return {"i": i, "pad": pad}


def _feat(f=None) -> dict:
    return {"f": f}


def _files(d, suffix=PARQUET):
    return sorted(p for p in os.listdir(d) if p.endswith(suffix))


def _check(log: FeatureLog) -> dict:
    s = log.stats()
    assert s["submitted"] == s["written"] + s["dropped"] + s["sampled_out"], s
    assert s["queued"] == 0, s
    return s


def _same(a, b) -> bool:
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime) and a.tzinfo is not None:
        # the same instant in the same zone (a fold=1 time never equals one of another tzinfo object)
        return (a.timestamp(), str(a.tzinfo)) == (b.timestamp(), str(b.tzinfo)) and b.tzinfo is not None
    return same_value(a, b)


def _same_row(a, b) -> bool:
    return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)


EDGE_IN = {
    "nan": Float64(), "inf": Float64(), "ninf": Float64(), "nzero": Float64(), "tiny": Float64(), "big": Float64(),
    "null": Float64(), "t": Boolean(), "imax": Int64(), "imin": Int64(), "s": String(), "mb": String(),
    "ny": Datetime("us", "America/New_York"), "utc": Datetime("us", "UTC"), "naive": Datetime("us", None),
    "ms": Datetime("ms", "UTC"), "date": Date(), "dur": Duration("us"), "dur_us": Duration("us"),
}
EDGE_VALUES = {
    "nan": math.nan, "inf": math.inf, "ninf": -math.inf, "nzero": -0.0, "tiny": 5e-324,
    "big": 1.7976931348623157e308, "null": None, "t": True, "imax": 2 ** 63 - 1, "imin": -(2 ** 63),
    "s": "", "mb": "é€😀 \u2028\x00\"\\",
    "ny": dt.datetime(2013, 11, 3, 1, 30, fold=1, tzinfo=NY),  # DST fold: the instant must survive
    "utc": dt.datetime(2013, 1, 1, 5, 0, 0, 1, tzinfo=dt.timezone.utc),
    "naive": dt.datetime(1, 1, 1), "ms": dt.datetime(2013, 1, 1, 5, 0, 0, 1000, tzinfo=dt.timezone.utc),
    "date": dt.date(9999, 12, 31),
    "dur": dt.timedelta(days=-106_751_991), "dur_us": dt.timedelta(microseconds=-1),
}


def test_records_round_trip_exactly_and_polars_reads_the_files_as_they_are(tmp_path):
    import polars as pl

    schema = {k: Field(t, True) for k, t in EDGE_IN.items()}
    flog = _log(tmp_path, input_schema=schema, output_schema=schema, bundle_id="bundle-7")
    flog.start()
    before = dt.datetime.now(dt.timezone.utc)
    assert flog.submit("/v1/predict", EDGE_VALUES, EDGE_VALUES, 0.25, "req-a")
    assert flog.submit("/v1/features", EDGE_VALUES, EDGE_VALUES, None, "req-b", 3)
    assert flog.submit("/v1/predict", EDGE_VALUES, EDGE_VALUES, math.nan, "req-c")
    flog.close()
    after = dt.datetime.now(dt.timezone.utc)
    assert _check(flog)["written"] == 3
    recs = list(read_log(tmp_path))
    assert [(r["request_id"], r["row"], r["route"], r["bundle_id"]) for r in recs] == [
        ("req-a", 0, "/v1/predict", "bundle-7"), ("req-b", 3, "/v1/features", "bundle-7"),
        ("req-c", 0, "/v1/predict", "bundle-7")]
    for r in recs:
        assert before <= r["time"] <= after
        assert _same_row(r["inputs"], EDGE_VALUES), r["inputs"]
        assert _same_row(r["features"], EDGE_VALUES)
        assert r["inputs"]["ny"].utcoffset() == dt.timedelta(hours=-5)  # the second 01:30 (fold=1) is EST
    assert recs[0]["score"] == 0.25 and recs[1]["score"] is None and math.isnan(recs[2]["score"])
    # no decoder: polars reads the Parquet files, typed
    df = pl.read_parquet(tmp_path / f"*{PARQUET}")
    assert df.schema["time"] == pl.Datetime("us", "UTC") and df.schema["score"] == pl.Float64
    inputs = df.select(pl.col("inputs").struct.unnest())
    assert inputs.schema["ny"] == pl.Datetime("us", "America/New_York") and inputs.schema["dur"] == pl.Duration("us")
    assert inputs.schema["ms"] == pl.Datetime("ms", "UTC") and inputs.schema["date"] == pl.Date
    assert inputs["nzero"].to_list()[0] == 0.0 and math.copysign(1, inputs["nzero"][0]) == -1
    assert inputs["nan"].is_nan().all() and inputs["null"].is_null().all()
    assert inputs["imin"][0] == -(2 ** 63) and inputs["mb"][0] == EDGE_VALUES["mb"]
    meta = __import__("pyarrow.parquet", fromlist=["x"]).read_schema(tmp_path / _files(tmp_path)[0]).metadata
    assert meta[b"skewless.log_format"] == str(FORMAT_VERSION).encode() and meta[b"skewless.bundle_id"] == b"bundle-7"


def test_rotation_gives_complete_files_and_no_part_after_close(tmp_path):
    flog = _log(tmp_path, max_file_bytes=4000, flush_interval=0.01)
    flog.start()
    for i in range(40):
        flog.submit("/v1/predict", _row(i, "x" * 200), _feat(i / 3), i / 7, f"r{i}")
        time.sleep(0.005)
    flog.close()
    s = _check(flog)
    assert s["written"] == 40 and s["files"] >= 2 and s["files"] == len(_files(tmp_path))
    assert not _files(tmp_path, PART)
    recs = list(read_log(tmp_path))
    assert [r["inputs"]["i"] for r in recs] == list(range(40))
    assert all(r["features"]["f"] == r["inputs"]["i"] / 3 for r in recs)


def test_max_files_keeps_the_newest(tmp_path):
    flog = _log(tmp_path, max_file_bytes=1, max_files=2, flush_interval=0.01)  # every batch finishes its file
    flog.start()
    for i in range(5):
        flog.submit("/v1/predict", _row(i), _feat(), None)
        _wait_written(flog, i + 1)
    flog.close()
    s = _check(flog)
    assert s["files"] == 5 and s["deleted"] == 3 and len(_files(tmp_path)) == 2
    assert [r["inputs"]["i"] for r in read_log(tmp_path)] == [3, 4]


def test_sampling_rate_is_respected_and_counted(tmp_path):
    flog = _log(tmp_path, sample_rate=0.25, seed=7)
    flog.start()
    n = 4000
    logged = sum(flog.submit("/v1/predict", _row(i), _feat(), None) for i in range(n))
    flog.close()
    s = _check(flog)
    assert s["submitted"] == n and s["sampled_out"] == n - logged and 800 < logged < 1200
    assert s["written"] == logged == len(list(read_log(tmp_path)))


@pytest.mark.parametrize("rate,logged", [(0.0, 0), (1.0, 20)])
def test_sampling_extremes(tmp_path, rate, logged):
    flog = _log(tmp_path, sample_rate=rate)
    flog.start()
    for i in range(20):
        flog.submit("/v1/predict", _row(i), _feat(), None)
    flog.close()
    assert _check(flog)["written"] == logged == len(list(read_log(tmp_path)))


def test_full_queue_drops_and_counts(tmp_path):
    flog = _log(tmp_path, max_queue=5)
    # writer not started yet: the queue fills and submit answers False at once
    results = [flog.submit("/v1/predict", _row(i), _feat(), None) for i in range(20)]
    assert results == [True] * 5 + [False] * 15
    assert flog.stats()["dropped"] == 15 and flog.stats()["queued"] == 5
    flog.start()
    flog.close()
    assert not flog.submit("/v1/predict", _row(99), _feat(), None)  # after close: dropped, counted
    s = _check(flog)
    assert s == {**s, "submitted": 21, "written": 5, "dropped": 16}
    assert [r["inputs"]["i"] for r in read_log(tmp_path)] == [0, 1, 2, 3, 4]


class _Paused(FeatureLog):
    """A log whose writer waits for ``resume`` before each batch (a slow disk)."""

    def __init__(self, *a, **k):
        super().__init__(*a, bundle_id="b", input_schema=IN, output_schema=OUT, **k)
        self.resume = threading.Event()
        self.waiting = threading.Event()

    def _write(self, batch):
        self.waiting.set()
        self.resume.wait(120)
        super()._write(batch)


def test_a_stalled_writer_never_blocks_submit(tmp_path):
    flog = _Paused(tmp_path, max_queue=10, flush_interval=0.01)
    flog.start()
    flog.submit("/v1/predict", _row(-1), _feat(), None)
    assert flog.waiting.wait(60)  # the writer holds that record and waits
    done = []

    def submitter():
        done.append([flog.submit("/v1/predict", _row(i), _feat(), None) for i in range(1000)])

    t = threading.Thread(target=submitter)
    t.start()
    t.join(60)  # a blocking submit would hang here (generous bound, not a timing assertion)
    assert not t.is_alive() and sum(done[0]) == 10
    assert flog.stats()["dropped"] == 990
    flog.resume.set()
    flog.close()
    s = _check(flog)
    assert s["written"] == 11 and s["submitted"] == 1001
    assert [r["inputs"]["i"] for r in read_log(tmp_path)] == list(range(-1, 10))


def test_close_returns_after_its_timeout_when_the_writer_hangs(tmp_path, caplog):
    flog = _Paused(tmp_path, flush_interval=0.01)
    flog.start()
    flog.submit("/v1/predict", _row(0), _feat(), None)
    assert flog.waiting.wait(60)
    with caplog.at_level(logging.ERROR, logger="skewless.serving.feature_log"):
        flog.close(timeout=0.2)
    assert "did not finish" in caplog.text
    flog.resume.set()  # let the thread finish its work
    flog._thread.join(60)
    assert [r["inputs"]["i"] for r in read_log(tmp_path)] == [0]


def test_close_flushes_and_is_idempotent(tmp_path):
    flog = _log(tmp_path, flush_interval=3600, max_queue=50_000)
    flog.start()
    for i in range(5000):
        flog.submit("/v1/predict", _row(i), _feat(float(i)), None)
    flog.close()
    flog.close()
    s = _check(flog)
    assert s["written"] == 5000 and s["files"] == 1
    assert not _files(tmp_path, PART)
    assert [r["inputs"]["i"] for r in read_log(tmp_path)] == list(range(5000))
    (summary,) = _files(tmp_path, ".stats.json")
    doc = json.loads((tmp_path / summary).read_text())
    assert {k: doc[k] for k in s} == s and doc["bundle_id"] == "b-1" and doc["sample_rate"] == 1.0


def test_close_without_start_writes_what_was_queued(tmp_path):
    flog = _log(tmp_path / "new" / "dir")
    flog.submit("/v1/predict", _row(1), _feat(), None)
    flog.close()
    assert [r["inputs"]["i"] for r in read_log(tmp_path / "new" / "dir")] == [1]


def test_an_unwritable_directory_is_counted_not_raised(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    flog = _log(blocker / "log", flush_interval=0.01)
    with caplog.at_level(logging.ERROR, logger="skewless.serving.feature_log"):
        flog.start()
        # serving goes on: submit still takes records (and never raises)
        assert all(flog.submit("/v1/predict", _row(i), _feat(), None) for i in range(100))
        flog.close()
    s = _check(flog)
    assert s["written"] == 0 and s["dropped"] == 100 and s["errors"] >= 1
    assert len([r for r in caplog.records if r.name == "skewless.serving.feature_log"]) == 1  # logged once


class _FullDisk:
    """A file which, once ``armed``, stores half of one write and then fails like a full disk (once)."""

    def __init__(self, f):
        self.f, self.armed = f, False

    def write(self, data):
        if self.armed:
            self.armed = False
            self.f.write(bytes(data[: len(data) // 2]))
            raise OSError(errno.ENOSPC, "No space left on device")
        return self.f.write(data)

    def __getattr__(self, name):
        return getattr(self.f, name)


class _FullDiskLog(_Paused):
    def _raw_open(self, path):
        return _FullDisk(super()._raw_open(path))


def test_a_failed_write_loses_its_batch_counted_and_keeps_whole_batches(tmp_path, caplog):
    flog = _FullDiskLog(tmp_path, flush_interval=0.01)
    flog.start()
    with caplog.at_level(logging.ERROR, logger="skewless.serving.feature_log"):
        for i in range(3):
            # one batch at a time: the writer waits for each record before writing it
            flog.waiting.clear()
            assert flog.submit("/v1/predict", _row(i, "x" * 100), _feat(), None)
            assert flog.waiting.wait(60)
            if i == 1:
                flog._file.armed = True  # the second batch meets a full disk
            flog.resume.set()
            _wait_done(flog, i + 1)
            flog.resume.clear()
        flog.resume.set()
        flog.close()
    s = _check(flog)
    assert s["written"] == 2 and s["dropped"] == 1 and s["errors"] == 1
    assert [r["inputs"]["i"] for r in read_log(tmp_path)] == [0, 2]  # the torn batch was left out
    assert not _files(tmp_path, PART) and len(_files(tmp_path)) == 2  # the broken file finalized with its batch
    assert "No space left" in caplog.text


def test_an_unencodable_value_loses_only_its_record(tmp_path):
    flog = _log(tmp_path)
    flog.start()
    flog.submit("/v1/predict", _row(0), _feat(), None)
    flog.submit("/v1/predict", _row(object()), _feat(), None)
    flog.submit("/v1/predict", _row(2, "a\ud800b"), _feat(), None)  # a lone surrogate: not UTF-8
    flog.submit("/v1/predict", _row(2 ** 63), _feat(), None)  # not an Int64
    flog.submit("/v1/predict", _row(4), _feat(), None)
    flog.close()
    s = _check(flog)
    assert s["written"] == 2 and s["dropped"] == 3 and s["errors"] == 3
    assert [r["inputs"]["i"] for r in read_log(tmp_path)] == [0, 4]


def test_concurrent_submitters_lose_nothing_uncounted(tmp_path):
    threads, per_thread = 8, 2500
    flog = _log(tmp_path, max_queue=64, max_file_bytes=200_000, flush_interval=0.005)
    flog.start()
    accepted: list[list[int]] = [[] for _ in range(threads)]

    def client(t):
        for j in range(per_thread):
            i = t * per_thread + j
            if flog.submit("/v1/predict", _row(i), _feat(i * 0.5), None, f"r{i}"):
                accepted[t].append(i)

    pool = [threading.Thread(target=client, args=(t,)) for t in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(300)
    flog.close()
    s = _check(flog)
    assert s["submitted"] == threads * per_thread
    recs = list(read_log(tmp_path))
    ids = [r["inputs"]["i"] for r in recs]
    assert len(ids) == s["written"] == len(set(ids))
    assert set(ids) == {i for a in accepted for i in a}  # exactly the accepted records, each once
    assert all(r["features"]["f"] == r["inputs"]["i"] * 0.5 and r["request_id"] == f"r{r['inputs']['i']}"
               for r in recs)


@pytest.mark.parametrize("kwargs", [{"sample_rate": 1.5}, {"sample_rate": -0.1}, {"max_queue": 0},
                                    {"max_files": 0}, {"flush_interval": 0}])
def test_bad_settings_are_refused(tmp_path, kwargs):
    with pytest.raises(ValueError):
        _log(tmp_path, **kwargs)


def _wait_written(flog, n):
    for _ in range(6000):
        if flog.stats()["written"] >= n:
            return
        time.sleep(0.01)
    raise AssertionError(f"not written: {flog.stats()}")


def _wait_done(flog, n):
    """Until ``n`` records were written or lost."""
    for _ in range(6000):
        s = flog.stats()
        if s["written"] + s["dropped"] >= n:
            return
        time.sleep(0.01)
    raise AssertionError(f"not written: {flog.stats()}")


def test_the_file_being_written_is_a_locked_part_read_as_it_grows(tmp_path):
    flog = _log(tmp_path, flush_interval=0.01)
    flog.start()
    for i in range(10):
        flog.submit("/v1/predict", _row(i), _feat(), None)
    _wait_written(flog, 10)
    assert not _files(tmp_path) and len(_files(tmp_path, PART)) == 1
    assert recover(tmp_path) == (0, 0)  # a live writer's file is left alone
    assert list(read_log(tmp_path, include_partial=False)) == []
    assert [r["inputs"]["i"] for r in read_log(tmp_path)] == list(range(10))
    flog.close()
    assert len(_files(tmp_path)) == 1 and not _files(tmp_path, PART)
    assert [r["inputs"]["i"] for r in read_log(tmp_path)] == list(range(10))


def test_an_orphaned_part_with_a_torn_tail_is_finalized_on_start(tmp_path):
    flog = _log(tmp_path, flush_interval=0.01)
    flog.start()
    for i in range(7):
        flog.submit("/v1/predict", _row(i), _feat(), None)
        _wait_written(flog, i + 1)  # seven batches
    (part,) = _files(tmp_path, PART)
    data = (tmp_path / part).read_bytes()
    flog._abandon = lambda: None  # leave the process's state as a crash would: no finalize
    orphan = tmp_path / part.replace("-p", "-crashed-p")
    orphan.write_bytes(data[:-30])  # a copy, torn inside its last batch, not locked by anyone
    flog.close()
    assert [r["inputs"]["i"] for r in read_log(tmp_path)].count(6) == 1  # the torn batch is not read
    again = _log(tmp_path)
    again.start()
    again.close()
    s = again.stats()
    assert s["recovered_files"] == 1 and s["recovered_records"] == 6
    assert not _files(tmp_path, PART) and len(_files(tmp_path)) == 2
    assert sorted(r["inputs"]["i"] for r in read_log(tmp_path)) == sorted([*range(7), *range(6)])


def test_sigkill_loses_only_what_was_not_written_and_the_next_start_finalizes_it(tmp_path):
    """A real process, killed with SIGKILL while its file is open: every record it had written survives."""
    script = textwrap.dedent(f"""
        import sys, time
        from skewless.dtypes import Field, Float64, Int64, String
        from skewless.serving.feature_log import FeatureLog
        flog = FeatureLog({str(tmp_path)!r}, bundle_id="b", input_schema={{"i": Field(Int64(), True),
                          "pad": Field(String(), True)}}, output_schema={{"f": Field(Float64(), True)}},
                          flush_interval=0.02)
        flog.start()
        for i in range(3000):
            flog.submit("/v1/predict", {{"i": i, "pad": None}}, {{"f": i / 3}}, None, "r%d" % i)
            if i % 100 == 0:
                time.sleep(0.001)
        while flog.stats()["written"] < 3000:
            time.sleep(0.01)
        for i in range(3000, 3000000):  # keeps submitting until killed
            flog.submit("/v1/predict", {{"i": i, "pad": None}}, {{"f": i / 3}}, None, "r%d" % i)
            if i == 3000:
                print("written", flush=True)
            if i % 100 == 0:
                time.sleep(0.001)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "written"
        time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(60)
    assert proc.returncode == -signal.SIGKILL
    assert _files(tmp_path, PART) and not _files(tmp_path, ".stats.json")  # it never closed
    seen = [r["inputs"]["i"] for r in read_log(tmp_path)]  # read_log reads the orphan as it is
    assert seen[:3000] == list(range(3000)) and seen == list(range(len(seen)))
    flog = _log(tmp_path)
    flog.start()
    flog.close()
    s = flog.stats()
    assert s["recovered_files"] >= 1 and s["recovered_records"] == len(seen)
    assert not _files(tmp_path, PART)
    recs = list(read_log(tmp_path))
    assert [r["inputs"]["i"] for r in recs] == seen and all(r["features"]["f"] == r["inputs"]["i"] / 3 for r in recs)


def test_request_ids_are_the_clients_when_acceptable_else_generated():
    ids = RequestIds()
    assert ids.accept("abc-123") == "abc-123" and ids.accept(b"abc") == "abc"
    generated = {ids.accept(v) for v in (None, "", "x" * 129, "has space", "tab\t", "é", b"\xff")}
    assert len(generated) == 7 and all(g.count("-") == 1 for g in generated)
    assert RequestIds().new().split("-")[0] != ids.new().split("-")[0]
