"""The served-feature log (:mod:`skewless.serving.feature_log`): exact round trip, rotation, sampling,
drops counted and never blocking, flush on close, write errors counted without reaching serving."""

from __future__ import annotations

import datetime as dt
import errno
import json
import logging
import math
import os
import threading
import time

import pytest

from skewless.runtime.tz import get_zone
from skewless.serving.feature_log import FORMAT_VERSION, FeatureLog, read_log
from skewless.training.bundle import same_value

NY = get_zone("America/New_York")


def _files(d, suffix=".jsonl"):
    return sorted(p for p in os.listdir(d) if p.endswith(suffix))


def _check(log: FeatureLog) -> dict:
    s = log.stats()
    assert s["submitted"] == s["written"] + s["dropped"] + s["sampled_out"], s
    assert s["queued"] == 0, s
    return s


def _same_row(a, b) -> bool:
    return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)


EDGE_INPUTS = {
    "nan": math.nan, "inf": math.inf, "ninf": -math.inf, "nzero": -0.0, "zero": 0.0, "tiny": 5e-324,
    "big": 1.7976931348623157e308, "f": 0.1, "null": None, "t": True, "fl": False,
    "imax": 2 ** 63 - 1, "imin": -(2 ** 63), "i": 0,
    "s": "", "mb": "é€😀 \u2028\x00\"\\", "surrogate": "a\ud800b",
    "ny": dt.datetime(2013, 11, 3, 1, 30, fold=1, tzinfo=NY),  # DST fold: the offset must survive
    "utc": dt.datetime(2013, 1, 1, 5, 0, 0, 1, tzinfo=dt.timezone.utc),
    "fixed": dt.datetime(2013, 1, 1, 5, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
    "naive": dt.datetime(1, 1, 1),
    "date": dt.date(9999, 12, 31),
    "dur": dt.timedelta(days=-999_999_999), "dur_us": dt.timedelta(microseconds=-1),
}


def test_records_round_trip_exactly(tmp_path):
    flog = FeatureLog(tmp_path, fingerprint="fp-1")
    flog.start()
    before = dt.datetime.now(dt.timezone.utc)
    features = {"a": 1.0, "b": math.nan, "c": -0.0, "d": None, "e": "x", "when": EDGE_INPUTS["ny"]}
    assert flog.submit("/v1/predict", EDGE_INPUTS, features, 0.25)
    assert flog.submit("/v1/features", {"x": 1}, features, None)
    assert flog.submit("/v1/predict", {"x": 2}, None, math.nan)
    flog.close()
    after = dt.datetime.now(dt.timezone.utc)
    recs = list(read_log(tmp_path))
    assert len(recs) == 3 and _check(flog)["written"] == 3
    r = recs[0]
    assert r["v"] == FORMAT_VERSION and r["route"] == "/v1/predict" and r["fingerprint"] == "fp-1"
    assert before <= r["time"] <= after and r["time"].tzinfo == dt.timezone.utc
    assert _same_row(r["inputs"], EDGE_INPUTS), r["inputs"]
    # datetimes keep their zone (an offset alone would lose it) and their fold
    assert r["inputs"]["ny"].tzinfo is not None and r["inputs"]["ny"].tzinfo.key == "America/New_York"
    assert r["inputs"]["ny"].utcoffset() == dt.timedelta(hours=-5)
    assert r["inputs"]["naive"].tzinfo is None and r["inputs"]["utc"].tzinfo == dt.timezone.utc
    assert _same_row(r["features"], features) and r["score"] == 0.25
    assert recs[1]["route"] == "/v1/features" and recs[1]["score"] is None
    assert recs[2]["features"] is None and math.isnan(recs[2]["score"])
    assert recs[0]["time"] <= recs[1]["time"] <= recs[2]["time"]


def test_non_finite_floats_are_tagged_not_null(tmp_path):
    flog = FeatureLog(tmp_path, fingerprint="fp")
    flog.start()
    flog.submit("/v1/predict", {"x": math.nan, "y": None}, {"z": -math.inf}, math.inf)
    flog.close()
    (name,) = _files(tmp_path)
    raw = json.loads((tmp_path / name).read_text(encoding="utf-8"))
    assert raw["inputs"] == {"x": {"float": "nan"}, "y": None}
    assert raw["features"] == {"z": {"float": "-inf"}} and raw["score"] == {"float": "inf"}


def _wait_written(flog, n):
    deadline = time.monotonic() + 120
    while flog.stats()["written"] < n and time.monotonic() < deadline:
        time.sleep(0.001)


@pytest.mark.parametrize("one_by_one", [False, True])
def test_rotation_gives_complete_files_and_no_part_after_close(tmp_path, one_by_one):
    # one_by_one: each record is a batch of its own; else all wait in the queue and make one batch
    flog = FeatureLog(tmp_path, fingerprint="fp", max_file_bytes=4000)
    if one_by_one:
        flog.start()
    n = 300
    for i in range(n):
        assert flog.submit("/v1/predict", {"i": i, "s": "é" * (i % 7)}, {"f": i / 3}, i / n)
        if one_by_one:
            _wait_written(flog, i + 1)
    flog.start()
    flog.close()
    s = _check(flog)
    names = _files(tmp_path)
    assert s["written"] == n and s["files"] == len(names) >= 5
    assert not _files(tmp_path, ".part")
    for name in names:
        data = (tmp_path / name).read_bytes()
        assert 0 < len(data) <= 4000 and data.endswith(b"\n")
    recs = list(read_log(tmp_path))
    assert [r["inputs"]["i"] for r in recs] == list(range(n))
    assert all(r["features"]["f"] == r["inputs"]["i"] / 3 for r in recs)


def test_a_record_larger_than_a_file_gets_a_file_of_its_own(tmp_path):
    flog = FeatureLog(tmp_path, fingerprint="fp", max_file_bytes=100)
    flog.start()
    for i in range(3):
        flog.submit("/v1/predict", {"i": i, "s": "x" * 500}, None, None)
    flog.close()
    assert len(_files(tmp_path)) == 3 and [r["inputs"]["i"] for r in read_log(tmp_path)] == [0, 1, 2]


def test_max_files_keeps_the_newest(tmp_path):
    flog = FeatureLog(tmp_path, fingerprint="fp", max_file_bytes=600, max_files=3)
    flog.start()
    n = 200
    for i in range(n):
        flog.submit("/v1/predict", {"i": i}, {"f": 1.5}, 0.5)
    flog.close()
    s = _check(flog)
    assert len(_files(tmp_path)) == 3 and s["files"] > 3 and s["deleted"] == s["files"] - 3
    ids = [r["inputs"]["i"] for r in read_log(tmp_path)]
    assert ids == list(range(n - len(ids), n))  # the newest records, none missing among them


def test_sampling_rate_is_respected_and_counted(tmp_path):
    n, rate = 20_000, 0.25
    flog = FeatureLog(tmp_path, fingerprint="fp", sample_rate=rate, max_queue=n, seed=1234)
    flog.start()
    kept = sum(flog.submit("/v1/predict", {"i": i}, None, None) for i in range(n))
    flog.close()
    s = _check(flog)
    assert s["written"] == kept and s["sampled_out"] == n - kept and s["dropped"] == 0
    sd = math.sqrt(n * rate * (1 - rate))  # ~61: 8 standard deviations cannot flake
    assert abs(kept - n * rate) < 8 * sd, kept
    assert len(list(read_log(tmp_path))) == kept


@pytest.mark.parametrize("rate, logged", [(0.0, 0), (1.0, 50)])
def test_sampling_extremes(tmp_path, rate, logged):
    flog = FeatureLog(tmp_path, fingerprint="fp", sample_rate=rate)
    flog.start()
    for i in range(50):
        flog.submit("/v1/predict", {"i": i}, None, None)
    flog.close()
    assert _check(flog)["written"] == logged == len(list(read_log(tmp_path)))


def test_full_queue_drops_and_counts(tmp_path):
    flog = FeatureLog(tmp_path, fingerprint="fp", max_queue=5)
    # writer not started yet: the queue fills and submit answers False at once
    results = [flog.submit("/v1/predict", {"i": i}, None, None) for i in range(20)]
    assert results == [True] * 5 + [False] * 15
    assert flog.stats()["dropped"] == 15 and flog.stats()["queued"] == 5
    flog.start()
    flog.close()
    assert not flog.submit("/v1/predict", {"i": 99}, None, None)  # after close: dropped, counted
    s = _check(flog)
    assert s == {**s, "submitted": 21, "written": 5, "dropped": 16}
    assert [r["inputs"]["i"] for r in read_log(tmp_path)] == [0, 1, 2, 3, 4]


class _Paused(FeatureLog):
    """A log whose writer waits for ``resume`` before each batch (a slow disk)."""

    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.resume = threading.Event()
        self.waiting = threading.Event()

    def _write(self, batch):
        self.waiting.set()
        self.resume.wait(120)
        super()._write(batch)


def test_a_stalled_writer_never_blocks_submit(tmp_path):
    flog = _Paused(tmp_path, fingerprint="fp", max_queue=10)
    flog.start()
    flog.submit("/v1/predict", {"i": -1}, None, None)
    assert flog.waiting.wait(60)  # the writer holds that record and waits
    done = []

    def submitter():
        done.append([flog.submit("/v1/predict", {"i": i}, None, None) for i in range(1000)])

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
    flog = _Paused(tmp_path, fingerprint="fp")
    flog.start()
    flog.submit("/v1/predict", {"i": 0}, None, None)
    assert flog.waiting.wait(60)
    with caplog.at_level(logging.ERROR, logger="skewless.serving.feature_log"):
        flog.close(timeout=0.2)
    assert "did not finish" in caplog.text
    flog.resume.set()  # let the thread finish its work
    flog._thread.join(60)
    assert [r["inputs"]["i"] for r in read_log(tmp_path)] == [0]


def test_close_flushes_and_is_idempotent(tmp_path):
    flog = FeatureLog(tmp_path, fingerprint="fp", flush_interval=3600, max_queue=50_000)
    flog.start()
    for i in range(5000):
        flog.submit("/v1/predict", {"i": i}, {"f": float(i)}, None)
    flog.close()
    flog.close()
    s = _check(flog)
    assert s["written"] == 5000 and s["files"] == 1
    assert not _files(tmp_path, ".part")
    assert [r["inputs"]["i"] for r in read_log(tmp_path)] == list(range(5000))
    (summary,) = _files(tmp_path, ".stats.json")
    doc = json.loads((tmp_path / summary).read_text())
    assert {k: doc[k] for k in s} == s and doc["fingerprint"] == "fp" and doc["sample_rate"] == 1.0


def test_close_without_start_writes_what_was_queued(tmp_path):
    flog = FeatureLog(tmp_path / "new" / "dir", fingerprint="fp")
    flog.submit("/v1/predict", {"i": 1}, None, None)
    flog.close()
    assert [r["inputs"]["i"] for r in read_log(tmp_path / "new" / "dir")] == [1]


def test_an_unwritable_directory_is_counted_not_raised(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    flog = FeatureLog(blocker / "log", fingerprint="fp")
    with caplog.at_level(logging.ERROR, logger="skewless.serving.feature_log"):
        flog.start()
        # serving goes on: submit still takes records (and never raises)
        assert all(flog.submit("/v1/predict", {"i": i}, None, None) for i in range(100))
        flog.close()
    s = _check(flog)
    assert s["written"] == 0 and s["dropped"] == 100 and s["errors"] >= 1
    assert len([r for r in caplog.records if r.name == "skewless.serving.feature_log"]) == 1  # logged once


class _FullDisk:
    """A file whose second write stores half the data and then fails like a full disk."""

    def __init__(self, f):
        self.f, self.calls = f, 0

    def write(self, data):
        self.calls += 1
        if self.calls == 2:
            self.f.write(bytes(data[: len(data) // 2]))
            raise OSError(errno.ENOSPC, "No space left on device")
        return self.f.write(data)

    def __getattr__(self, name):
        return getattr(self.f, name)


class _FullDiskLog(_Paused):
    def _open(self):
        super()._open()
        self._file = _FullDisk(self._file)


def test_a_failed_write_loses_its_batch_counted_and_leaves_whole_lines(tmp_path, caplog):
    flog = _FullDiskLog(tmp_path, fingerprint="fp")
    flog.start()
    for i in range(3):
        # one batch at a time: the writer waits for each record before writing it
        flog.waiting.clear()
        assert flog.submit("/v1/predict", {"i": i, "pad": "x" * 100}, None, None)
        assert flog.waiting.wait(60)
        flog.resume.set()
        flog.resume.clear()
    with caplog.at_level(logging.ERROR, logger="skewless.serving.feature_log"):
        flog.resume.set()
        flog.close()
    s = _check(flog)
    assert s["written"] == 2 and s["dropped"] == 1 and s["errors"] == 1
    assert [r["inputs"]["i"] for r in read_log(tmp_path)] == [0, 2]  # the torn line was cut


def test_an_unencodable_value_loses_only_its_record(tmp_path):
    flog = FeatureLog(tmp_path, fingerprint="fp")
    flog.start()
    flog.submit("/v1/predict", {"i": 0}, None, None)
    flog.submit("/v1/predict", {"i": object()}, None, None)
    flog.submit("/v1/predict", {"i": 2}, None, None)
    flog.close()
    s = _check(flog)
    assert s["written"] == 2 and s["dropped"] == 1 and s["errors"] == 1
    assert [r["inputs"]["i"] for r in read_log(tmp_path)] == [0, 2]


def test_concurrent_submitters_lose_nothing_uncounted(tmp_path):
    threads, per_thread = 8, 2500
    flog = FeatureLog(tmp_path, fingerprint="fp", max_queue=64, max_file_bytes=200_000)
    flog.start()
    accepted: list[list[int]] = [[] for _ in range(threads)]

    def client(t):
        for j in range(per_thread):
            i = t * per_thread + j
            if flog.submit("/v1/predict", {"i": i}, {"f": i * 0.5}, None):
                accepted[t].append(i)

    pool = [threading.Thread(target=client, args=(t,)) for t in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(300)
    flog.close()
    s = _check(flog)
    assert s["submitted"] == threads * per_thread
    ids = [r["inputs"]["i"] for r in read_log(tmp_path)]
    assert len(ids) == s["written"] == len(set(ids))
    assert set(ids) == {i for a in accepted for i in a}  # exactly the accepted records, each once
    assert all(r["features"]["f"] == r["inputs"]["i"] * 0.5 for r in read_log(tmp_path))


def test_read_log_skips_the_torn_tail_of_a_part_file_only_when_asked(tmp_path):
    flog = FeatureLog(tmp_path, fingerprint="fp")
    flog.start()
    flog.submit("/v1/predict", {"i": 0}, None, None)
    flog.close()
    (name,) = _files(tmp_path)
    line = (tmp_path / name).read_bytes()
    (tmp_path / (name[:-6] + "-crashed.jsonl.part")).write_bytes(line + line[:10])
    assert len(list(read_log(tmp_path))) == 1
    assert len(list(read_log(tmp_path, include_partial=True))) == 2
    (tmp_path / "served-broken.jsonl").write_bytes(line[:10] + b"\n" + line)
    with pytest.raises(ValueError, match="line 1"):
        list(read_log(tmp_path))


@pytest.mark.parametrize("kwargs", [{"sample_rate": 1.5}, {"sample_rate": -0.1}, {"max_queue": 0},
                                    {"max_files": 0}, {"flush_interval": 0}])
def test_bad_settings_are_refused(tmp_path, kwargs):
    with pytest.raises(ValueError):
        FeatureLog(tmp_path, fingerprint="fp", **kwargs)


def test_the_file_being_written_does_not_look_complete(tmp_path):
    flog = FeatureLog(tmp_path, fingerprint="fp")
    flog.start()
    for i in range(10):
        flog.submit("/v1/predict", {"i": i}, None, None)
    _wait_written(flog, 10)
    assert flog.stats()["written"] == 10
    assert not _files(tmp_path) and len(_files(tmp_path, ".jsonl.part")) == 1
    assert list(read_log(tmp_path)) == []  # readers see complete files only
    assert [r["inputs"]["i"] for r in read_log(tmp_path, include_partial=True)] == list(range(10))
    flog.close()
    assert len(_files(tmp_path)) == 1 and not _files(tmp_path, ".part")
    assert [r["inputs"]["i"] for r in read_log(tmp_path)] == list(range(10))
