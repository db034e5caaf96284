"""The served-feature log: what every request (or a sample) was served, written off the request path.

:class:`FeatureLog` takes one record per request in :meth:`FeatureLog.submit`, which only samples,
stamps the wall-clock time and puts a tuple on a bounded :class:`queue.Queue` (``put_nowait``: when
the queue is full the record is counted as dropped, serving never waits). A daemon writer thread
drains the queue in batches, encodes the records as JSON lines with :mod:`orjson` and appends them to
size-rotated files. :meth:`FeatureLog.close` (on shutdown) writes everything still queued, fsyncs
and joins the writer. Later skew reports read the log back with :func:`read_log`.

Files
-----
``served-<UTC start>-p<pid>-<seq>.jsonl`` in the log directory, one record per line. A file being
written is named ``....jsonl.part`` and renamed to ``.jsonl`` (after an fsync) when it reaches
``max_file_bytes`` or the log closes, so a ``.jsonl`` file is always complete; a ``.part`` left
behind was cut short by a crash (:func:`read_log` skips those unless asked). The pid in the name
lets several server processes share one directory. With ``max_files`` the oldest complete files
beyond that number are deleted. On close a summary ``served-<UTC start>-p<pid>.stats.json`` holds
the final counters (how many requests were sampled out or dropped: a report needs them to know
what the log does not show).

Record (``"v": 1``)::

    {"v": 1, "time": "2026-11-23T14:05:00.123456+00:00", "route": "/v1/predict",
     "fingerprint": "...", "inputs": {...}, "features": {...} | null, "score": 0.12 | null}

``time`` is the UTC wall clock (microseconds) when the request path called :meth:`FeatureLog.submit`;
``fingerprint`` is what the service passed (the bundle's id). Values in ``inputs``, ``features``
and ``score`` are plain JSON where JSON is exact, else tagged objects (skewless inputs and features
are flat, so an object there is always a tag): non-finite floats ``{"float": "nan" | "inf" |
"-inf"}`` (as in the API responses; orjson alone would write ``null``), ``{"datetime": ISO 8601,
"zone": "Europe/Paris"}`` (``zone`` when the tzinfo has an IANA key), ``{"date": ISO 8601}`` and
``{"duration_us": int}``. Durations are exact microsecond counts like the bundle's golden rows, not
the API's ``total_seconds()`` float, which cannot hold every microsecond of a long duration: skew
is judged bitwise, so the log must be exact. A string with a lone surrogate (JSON requests can
carry ``"\\ud800"``) is written escaped by :mod:`json`, which orjson refuses to do.

Counters (:meth:`FeatureLog.stats`): once the log is closed, ``submitted`` = ``written`` +
``dropped`` + ``sampled_out`` (before, plus ``queued`` and the batch being written). ``dropped``
counts a full queue, records submitted after :meth:`FeatureLog.close`, records whose write failed
(disk full, permissions: also counted in ``errors`` and logged once; the writer carries on) and
records that cannot be encoded.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import json
import logging
import math
import os
import queue
import random
import threading
import time
from pathlib import Path
from typing import Any, Iterator, Mapping

import orjson

__all__ = ["FeatureLog", "read_log", "FORMAT_VERSION"]

log = logging.getLogger("skewless.serving.feature_log")

#: Version of the record layout (the ``"v"`` field of every record).
FORMAT_VERSION = 1
PREFIX = "served-"
PART = ".part"

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_PLAIN = frozenset((int, str, bool, type(None)))
_MAX_BATCH = 2000
_STOP = object()  # wakes the writer on close


# --------------------------------------------------------------------------- value encoding


def _nonfinite(v: float) -> dict[str, str]:
    return {"float": "nan" if v != v else ("inf" if v > 0 else "-inf")}


def _default(v: Any) -> Any:
    """orjson's hook for what it does not write itself (datetimes are passed through to it)."""
    if isinstance(v, _dt.datetime):
        out = {"datetime": v.isoformat()}
        zone = getattr(v.tzinfo, "key", None)  # an IANA zone; fixed offsets (and UTC) need none
        if zone is not None:
            out["zone"] = zone
        return out
    if isinstance(v, _dt.date):
        return {"date": v.isoformat()}
    if isinstance(v, _dt.timedelta):
        return {"duration_us": v // _dt.timedelta(microseconds=1)}
    if isinstance(v, float):  # a float subclass (numpy.float64): as a plain float
        return _encode_value(float(v))
    if hasattr(v, "__index__") and not isinstance(v, (bytes, str)):  # numpy integers
        return v.__index__()
    raise TypeError(f"cannot log a value of type {type(v).__name__}")


def _encode_value(v: Any) -> Any:
    if type(v) is float and v - v != 0.0:  # inf - inf and nan - nan are nan
        return _nonfinite(v)
    return v


def _encode_row(row: Mapping[str, Any] | None) -> Any:
    """``row`` with its non-finite floats tagged (a copy only when there are some).

    The other types are left to orjson and :func:`_default`: this loop runs for every value of
    every record, so it does the least it can (a Python call per value costs ten times more).
    """
    if row is None:
        return None
    out = None
    for k, v in row.items():
        if type(v) is float and v - v != 0.0:
            if out is None:
                out = dict(row)
            out[k] = _nonfinite(v)
    return row if out is None else out


class _Decoder:
    """Inverse of :func:`_encode_value` (zones cached: loading one reads the tz database)."""

    def __init__(self) -> None:
        self._zones: dict[str, Any] = {}

    def zone(self, key: str) -> Any:
        z = self._zones.get(key)
        if z is None:
            from skewless.runtime.tz import get_zone

            z = self._zones[key] = get_zone(key)
        return z

    def value(self, v: Any) -> Any:
        if not isinstance(v, dict):
            return v
        if "float" in v:
            return {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}[v["float"]]
        if "datetime" in v:
            d = _dt.datetime.fromisoformat(v["datetime"])
            return d.astimezone(self.zone(v["zone"])) if "zone" in v else d
        if "date" in v:
            return _dt.date.fromisoformat(v["date"])
        if "duration_us" in v:
            return _dt.timedelta(microseconds=v["duration_us"])
        raise ValueError(f"unknown tagged value {v!r}")

    def row(self, row: Mapping[str, Any] | None) -> dict[str, Any] | None:
        return None if row is None else {k: self.value(v) for k, v in row.items()}

    def record(self, rec: dict[str, Any]) -> dict[str, Any]:
        rec["time"] = _dt.datetime.fromisoformat(rec["time"])
        rec["inputs"] = self.row(rec["inputs"])
        rec["features"] = self.row(rec["features"])
        rec["score"] = self.value(rec["score"])
        return rec


def _loads(line: bytes) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        # lines holding a lone surrogate (valid JSON escapes orjson refuses) were written by json
        return json.loads(line)


def read_log(directory: str | os.PathLike, *, include_partial: bool = False) -> Iterator[dict[str, Any]]:
    """The records of the served-feature log in ``directory``, decoded, file by file in name order.

    Parameters
    ----------
    directory : path
        The log directory (``SKEWLESS_SERVE_LOG_DIR``).
    include_partial : bool
        Also read ``.jsonl.part`` files (being written, or left by a crash); an undecodable last
        line there (cut short) is skipped.

    Yields
    ------
    dict
        ``{"v", "time" (aware UTC datetime), "route", "fingerprint", "inputs", "features",
        "score"}`` with typed values (NaN, datetimes with their zone, dates, timedeltas).

    Examples
    --------
    >>> for rec in read_log("out/served-log"):            # doctest: +SKIP
    ...     print(rec["time"], rec["score"])
    """
    root = Path(directory)
    names = sorted(p.name for p in root.iterdir()
                   if p.name.startswith(PREFIX) and (p.name.endswith(".jsonl")
                                                      or (include_partial and p.name.endswith(".jsonl" + PART))))
    dec = _Decoder()
    for name in names:
        with open(root / name, "rb") as f:  # line by line: files can be large
            for i, line in enumerate(f, 1):
                if line == b"\n":
                    continue
                try:
                    rec = _loads(line)
                except ValueError:
                    if name.endswith(PART) and not line.endswith(b"\n"):
                        continue  # the torn tail of an interrupted write
                    raise ValueError(f"{root / name}: line {i} is not a log record") from None
                yield dec.record(rec)


# --------------------------------------------------------------------------- the log


class FeatureLog:
    """Log served inputs, features and scores to rotated JSON-lines files, off the request path.

    Parameters
    ----------
    directory : path
        Where the files go (created with the first file).
    fingerprint : str
        The served bundle's fingerprint, written in every record.
    sample_rate : float
        Fraction of submitted requests logged (decided per request with :func:`random.random`).
    max_queue : int
        Records waiting for the writer at most; beyond that :meth:`submit` drops and counts.
    max_file_bytes : int
        A file is completed (renamed ``.jsonl``) before it would exceed this size (a single
        larger record gets a file of its own).
    max_files : int or None
        Keep at most this many complete files in the directory (oldest deleted first).
    flush_interval : float
        Seconds between the writer's fsyncs of new data (and its checks for close).
    seed : int or None
        Seed of the sampling generator (tests).

    Notes
    -----
    Thread safety: :meth:`submit` runs on many request threads. Its counters and the
    closed-check are guarded by one lock: ``self.n += 1`` is not atomic even under the GIL
    (load, add and store are separate bytecodes), and a lock keeps the counts exact without the GIL
    too. The lock is held for a few hundred nanoseconds, never while waiting (``put_nowait``; the
    queue's own mutex is taken anyway). Holding it across the closed-check and the put means no
    record can enter the queue after :meth:`close` has emptied it. The writer's counters
    (``written``, ``files``, ...) are changed by the writer thread only.

    Examples
    --------
    >>> flog = FeatureLog("out/served-log", fingerprint="9c85abe031c592f6")   # doctest: +SKIP
    >>> flog.start()                                                          # doctest: +SKIP
    >>> flog.submit("/v1/predict", {"distance": 1400}, {"distance_log": 7.24}, 0.21)  # doctest: +SKIP
    True
    >>> flog.close()                                                          # doctest: +SKIP
    """

    def __init__(self, directory: str | os.PathLike, *, fingerprint: str, sample_rate: float = 1.0,
                 max_queue: int = 10_000, max_file_bytes: int = 64 * 2**20, max_files: int | None = None,
                 flush_interval: float = 1.0, seed: int | None = None):
        if not 0.0 <= sample_rate <= 1.0:
            raise ValueError(f"sample_rate must be within [0, 1], got {sample_rate!r}")
        if max_queue < 1 or max_file_bytes < 1 or (max_files is not None and max_files < 1):
            raise ValueError("max_queue, max_file_bytes and max_files must be positive")
        if not flush_interval > 0:
            raise ValueError(f"flush_interval must be positive, got {flush_interval!r}")
        self.directory = Path(directory)
        self.fingerprint = str(fingerprint)
        self.sample_rate = float(sample_rate)
        self.max_file_bytes = int(max_file_bytes)
        self.max_files = max_files
        self.flush_interval = float(flush_interval)
        self._queue: queue.Queue = queue.Queue(maxsize=max_queue)
        self._random = random.Random(seed).random
        self._lock = threading.Lock()
        self._closed = False
        self._thread: threading.Thread | None = None
        self._started_at = _dt.datetime.now(_dt.timezone.utc)
        self._stem = f"{PREFIX}{self._started_at:%Y%m%dT%H%M%S.%fZ}-p{os.getpid()}"
        self._seq = itertools.count(1)
        # request-path counters (under self._lock)
        self._submitted = self._sampled_out = self._dropped = 0
        # writer-thread counters
        self._written = self._failed = self._files = self._deleted = self._errors = 0
        self._error_logged = False
        self._file = None
        self._path: Path | None = None
        self._size = 0
        self._dirty = False

    # --- request path -----------------------------------------------------------------
    def submit(self, route: str, inputs: Mapping[str, Any], features: Mapping[str, Any] | None,
               score: float | None) -> bool:
        """Queue one record; never blocks. False when sampled out or dropped (queue full, closed).

        ``inputs`` and ``features`` must not be mutated afterwards (they are encoded later, by the
        writer thread).
        """
        now = time.time_ns()
        sampled = self.sample_rate >= 1.0 or self._random() < self.sample_rate
        with self._lock:
            self._submitted += 1
            if not sampled:
                self._sampled_out += 1
                return False
            if self._closed:
                self._dropped += 1
                return False
            try:
                self._queue.put_nowait((now, route, inputs, features, score))
            except queue.Full:
                self._dropped += 1
                return False
        return True

    # --- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        """Start the writer thread (records submitted before are kept and written)."""
        if self._thread is not None or self._closed:
            return
        self._thread = threading.Thread(target=self._run, name="skewless-feature-log", daemon=True)
        self._thread.start()

    def close(self, timeout: float = 10.0) -> None:
        """Write everything queued, complete the current file (fsync, rename) and join the writer.

        Idempotent. Records submitted from now on are dropped (counted). When the writer has not
        finished after ``timeout`` seconds (a hung disk) it is left behind as a daemon thread and
        whatever it has not written is lost (and logged).
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self._thread is None:  # never started: write what was queued here
            self._drain_and_finish()
            return
        try:
            self._queue.put_nowait(_STOP)
        except queue.Full:
            pass  # the writer is busy and checks self._closed when the queue is empty
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.error("feature log writer did not finish within %.1fs; %d records queued may be lost",
                      timeout, self._queue.qsize())

    def stats(self) -> dict[str, int]:
        """Counters: submitted, sampled_out, dropped, written, queued, files, deleted, errors."""
        with self._lock:
            submitted, sampled_out, dropped = self._submitted, self._sampled_out, self._dropped
        return {"submitted": submitted, "sampled_out": sampled_out, "dropped": dropped + self._failed,
                "written": self._written, "queued": self._queue.qsize(), "files": self._files,
                "deleted": self._deleted, "errors": self._errors}

    # --- writer thread ----------------------------------------------------------------
    def _run(self) -> None:
        last_sync = time.monotonic()
        while True:
            try:
                first = self._queue.get(timeout=self.flush_interval)
            except queue.Empty:
                first = _STOP
            batch = [] if first is _STOP else [first]
            self._take_queued(batch, _MAX_BATCH)
            if batch:
                self._write(batch)
            if self._closed and self._queue.empty():
                break
            if self._dirty and time.monotonic() - last_sync >= self.flush_interval:
                self._sync()
                last_sync = time.monotonic()
        self._drain_and_finish()

    def _take_queued(self, batch: list, limit: int | None = None) -> None:
        """Move what is queued (without waiting; stop markers dropped) into ``batch``, up to ``limit`` items."""
        while limit is None or len(batch) < limit:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not _STOP:
                batch.append(item)

    def _drain_and_finish(self) -> None:
        # after close: nothing can be queued any more (submit checks _closed under the lock)
        batch: list = []
        self._take_queued(batch)
        if batch:
            self._write(batch)
        self._finish_file()
        self._write_summary()

    def _encode(self, item: tuple) -> bytes | None:
        now, route, inputs, features, score = item
        rec = {
            "v": FORMAT_VERSION,
            "time": (_EPOCH + _dt.timedelta(microseconds=now // 1000)).isoformat(),
            "route": route,
            "fingerprint": self.fingerprint,
            "inputs": _encode_row(inputs),
            "features": _encode_row(features),
            "score": _encode_value(score),
        }
        try:
            return orjson.dumps(rec, default=_default, option=orjson.OPT_PASSTHROUGH_DATETIME)
        except TypeError:
            # orjson refuses lone surrogates (a JSON request may carry "\ud800"); json escapes them
            return json.dumps(rec, default=_default, ensure_ascii=True, allow_nan=False,
                              separators=(",", ":")).encode("ascii")

    def _write(self, batch: list[tuple]) -> None:
        lines = []
        for item in batch:
            try:
                lines.append(self._encode(item) + b"\n")
            except Exception as exc:  # a value of an unexpected type: lose this record, not the log
                self._failed += 1
                self._error(exc)
        # whole lines per file: complete the file before a line would take it past max_file_bytes
        chunk: list[bytes] = []
        size = 0
        for line in lines:
            if (chunk or self._size) and self._size + size + len(line) > self.max_file_bytes:
                if chunk:
                    self._append(chunk, size)
                    chunk, size = [], 0
                self._finish_file()
            chunk.append(line)
            size += len(line)
        if chunk:
            self._append(chunk, size)

    def _append(self, lines: list[bytes], size: int) -> None:
        """Write whole lines to the current file (opened on demand); on error lose them, counted."""
        try:
            if self._file is None:
                self._open()
            data = memoryview(b"".join(lines))
            start = self._size
            try:
                while data:
                    n = self._file.write(data)
                    data = data[n:]
            except OSError:
                self._rollback(start)
                raise
            self._size += size
            self._written += len(lines)
            self._dirty = True
        except OSError as exc:
            self._failed += len(lines)
            self._error(exc)

    def _rollback(self, size: int) -> None:
        # cut a torn line so the file stays whole lines; if even that fails, give the file up
        try:
            os.ftruncate(self._file.fileno(), size)
            self._file.seek(size)
        except OSError:
            try:
                self._file.close()
            except OSError:
                pass
            self._file, self._size = None, 0  # left as .part: incomplete

    def _open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        while True:
            self._path = self.directory / f"{self._stem}-{next(self._seq):06d}.jsonl{PART}"
            try:
                self._file = open(self._path, "xb", buffering=0)
                break
            except FileExistsError:
                continue  # never overwrite: take the next sequence number
        self._size, self._dirty = 0, False

    def _sync(self) -> None:
        if self._file is None:
            return
        try:
            os.fsync(self._file.fileno())
            self._dirty = False
        except OSError as exc:
            self._error(exc)

    def _finish_file(self) -> None:
        """fsync, close and rename the current file to ``.jsonl`` (then apply ``max_files``)."""
        f, path = self._file, self._path
        self._size = 0
        if f is None:
            return
        self._file = None
        try:
            if self._dirty:
                os.fsync(f.fileno())
            f.close()
            self._dirty = False
            os.rename(path, path.with_name(path.name[: -len(PART)]))
            self._files += 1
            self._sync_directory()
        except OSError as exc:
            self._error(exc)
            return
        if self.max_files is not None:
            self._retain()

    def _sync_directory(self) -> None:
        try:
            fd = os.open(self.directory, os.O_RDONLY)
        except OSError:
            return  # not supported everywhere (Windows); the rename is still atomic
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)

    def _retain(self) -> None:
        try:
            done = sorted(p for p in os.listdir(self.directory) if p.startswith(PREFIX) and p.endswith(".jsonl"))
        except OSError as exc:
            self._error(exc)
            return
        for name in done[: max(0, len(done) - self.max_files)]:
            try:
                os.remove(self.directory / name)
                self._deleted += 1
            except FileNotFoundError:
                pass  # another server process sharing the directory deleted it first
            except OSError as exc:
                self._error(exc)

    def _write_summary(self) -> None:
        s = self.stats()
        doc = {"v": FORMAT_VERSION, "fingerprint": self.fingerprint, "sample_rate": self.sample_rate,
               "started": self._started_at.isoformat(),
               "closed": _dt.datetime.now(_dt.timezone.utc).isoformat(), **s}
        path = self.directory / f"{self._stem}.stats.json"
        tmp = path.with_name(path.name + PART)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
            os.replace(tmp, path)
        except OSError as exc:
            self._error(exc)

    def _error(self, exc: BaseException) -> None:
        self._errors += 1
        if not self._error_logged:  # once: a full disk would otherwise flood the log
            self._error_logged = True
            log.error("served-feature log %s: %s: %s (records are being lost; counted in stats(): "
                      "errors, dropped)", self.directory, type(exc).__name__, exc)
