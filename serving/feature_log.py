"""The served-feature log: what every request (or a sample) was served, typed, written off the request path.

Built for recomputation (``skewless skew`` recomputes every logged row with the bundle's polars
pipeline and compares bitwise): each record holds the request id, the bundle id, the request
time, the validated inputs, the features and the score, in Arrow types derived from the feature
set's schemas — NaN, ±inf, -0.0, zoned datetimes and microsecond durations are stored exactly, and
the finished files are Parquet that polars reads as they are (``pl.scan_parquet("log/*.parquet")``),
no custom decoder.

Request path: :meth:`FeatureLog.submit` only samples, stamps the wall-clock time and puts a tuple
on a bounded :class:`queue.Queue` (``put_nowait``: when the queue is full the record is counted as
dropped, serving never waits). A daemon writer thread drains the queue every ``flush_interval``
seconds (or as soon as 2,000 records wait), builds one Arrow record batch and appends it to the
current file. :meth:`FeatureLog.close` (on shutdown) writes everything still queued, finalizes
the file and joins the writer.

Files
-----
``served-<UTC start>-p<pid>-<seq>.arrows.part``
    The file being written: an Arrow IPC *stream* (one record batch per write, each readable as
    soon as it is written), fsynced after every batch and locked (``flock``) by its writer.
``served-<UTC start>-p<pid>-<seq>.parquet``
    A finished file (zstd). The stream is rewritten as Parquet (to ``.parquet.tmp``, fsync,
    rename, then the ``.part`` is removed) when it reaches ``max_file_bytes`` or the log closes,
    so a ``.parquet`` file is always complete. With ``max_files`` the oldest finished files beyond
    that number are deleted.
``served-<UTC start>-p<pid>.stats.json``
    The final counters, written on close (how many requests were sampled out or dropped: a report
    needs them to know what the log does not show).

Crash safety: a process killed with SIGKILL leaves its ``.part`` behind. The next
:meth:`FeatureLog.start` on the same directory finalizes every ``.part`` that no live writer holds
(the flock is released by the kernel when its process dies), keeping every whole record batch and
dropping a torn last one; counted in :meth:`FeatureLog.stats` (``recovered_files``,
``recovered_records``). :func:`read_log` reads ``.part`` files too (live or orphaned).
**Bound:** a kill -9 loses only the records not yet written to the file — those submitted during the
last ``flush_interval`` seconds (1 s by default) plus any still queued behind them, at most
``max_queue`` + 2,000 records; what was written survives in the OS even before the fsync (an fsync
follows each batch, so a power loss loses at most the same).

Record columns (``FORMAT_VERSION`` 2)::

    request_id  string     the client's X-Request-ID or one the service generated (echoed)
    row         int32      position of the row in its request (0 for single-row endpoints)
    time        timestamp[us, UTC]   wall clock when the request path called submit
    route       string     /v1/predict, /v1/features, /v1/predict/batch, /v1/features/batch
    bundle_id   string     the served bundle's id
    inputs      struct     the validated inputs, one field per input of the feature set, typed
    features    struct     the served features, typed by the feature set's output schema
    score       float64    null on the /v1/features routes; a multiclass model's: the predicted
                           class's probability
    probabilities list<float64>  multiclass bundles only: every class's probability, in the order
                           of the schema metadata ``skewless.classes`` (null on /v1/features)

Inputs are stored as the service validated them, which is what the per-request function computed
from: a datetime sent with any UTC offset is the same instant in the declared zone (the text of
the offset the client wrote is not kept). A value Arrow cannot hold (a string with a lone
surrogate, an out-of-range integer given to the Python API) loses its record, counted in ``dropped``
and ``errors`` and logged once.

Counters (:meth:`FeatureLog.stats`): once the log is closed, ``submitted`` = ``written`` +
``dropped`` + ``sampled_out`` (before, plus ``queued`` and the batch being written). ``dropped``
counts a full queue, records submitted after :meth:`FeatureLog.close`, records whose write failed
(disk full, permissions: also counted in ``errors`` and logged once; the writer carries on) and
records that cannot be encoded.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import logging
import os
import queue
import random
import secrets
import threading
import time
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

__all__ = ["FeatureLog", "read_log", "read_table", "arrow_schema", "recover", "RequestIds", "FORMAT_VERSION",
           "PARQUET", "PART"]

log = logging.getLogger("skewless.serving.feature_log")

#: Version of the record layout (``skewless.log_format`` in every file's schema metadata).
FORMAT_VERSION = 2
PREFIX = "served-"
PART = ".arrows.part"
PARQUET = ".parquet"
_TMP = ".parquet.tmp"
_MAX_BATCH = 2000
_STOP = object()  # wakes the writer on close

try:  # POSIX: the writer's lock on its .part tells recovery the file is live
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


# --------------------------------------------------------------------------- request ids


class RequestIds:
    """Request ids: the client's ``X-Request-ID`` when it is acceptable, else a generated one.

    Generated ids are ``<16 random hex digits of this process>-<counter>``: unique across processes
    and restarts without a UUID per request (``next()`` on a counter, ~100 ns).
    """

    #: Longest client id accepted (longer ones are replaced by a generated id).
    MAX_LEN = 128

    def __init__(self) -> None:
        self._prefix = secrets.token_hex(8)
        self._count = itertools.count(1)

    def new(self) -> str:
        return f"{self._prefix}-{next(self._count)}"

    def accept(self, value: bytes | str | None) -> str:
        """``value`` (1-128 visible ASCII characters) or a new id."""
        if value:
            if isinstance(value, bytes):
                try:
                    value = value.decode("ascii")
                except UnicodeDecodeError:
                    return self.new()
            if len(value) <= self.MAX_LEN and value.isprintable() and value.isascii() and " " not in value:
                return value
        return self.new()


# --------------------------------------------------------------------------- schema


def _arrow_type(dtype: Any) -> Any:
    import pyarrow as pa

    from skewless.dtypes import Boolean, Date, Datetime, Duration, Float64, Int64, Null, String

    if isinstance(dtype, Int64):
        return pa.int64()
    if isinstance(dtype, Float64):
        return pa.float64()
    if isinstance(dtype, Boolean):
        return pa.bool_()
    if isinstance(dtype, String):
        return pa.string()
    if isinstance(dtype, Date):
        return pa.date32()
    if isinstance(dtype, Datetime):
        return pa.timestamp(dtype.time_unit, dtype.time_zone)
    if isinstance(dtype, Duration):
        return pa.duration(dtype.time_unit)
    if isinstance(dtype, Null):
        return pa.null()
    raise TypeError(f"no Arrow type for {dtype!r}")


def arrow_schema(input_schema: Mapping[str, Any], output_schema: Mapping[str, Any], *, bundle_id: str = "",
                 classes: Sequence[str] | None = None) -> Any:
    """The Arrow schema of log records for a feature set's input and output schemas (name -> Field);
    ``classes`` (a multiclass model's) adds the ``probabilities`` column."""
    import json

    import pyarrow as pa

    def struct(schema: Mapping[str, Any]) -> Any:
        return pa.struct([pa.field(n, _arrow_type(f.dtype), nullable=True) for n, f in schema.items()])

    return pa.schema([
        pa.field("request_id", pa.string(), nullable=False),
        pa.field("row", pa.int32(), nullable=False),
        pa.field("time", pa.timestamp("us", "UTC"), nullable=False),
        pa.field("route", pa.string(), nullable=False),
        pa.field("bundle_id", pa.string(), nullable=False),
        pa.field("inputs", struct(input_schema), nullable=False),
        pa.field("features", struct(output_schema), nullable=False),
        pa.field("score", pa.float64()),
        *([pa.field("probabilities", pa.list_(pa.float64()))] if classes is not None else []),
    ], metadata={"skewless.log_format": str(FORMAT_VERSION), "skewless.bundle_id": bundle_id,
                 **({"skewless.classes": json.dumps(list(classes))} if classes is not None else {})})


def _top(score: Any) -> Any:
    """The logged ``score``: the score, or the predicted class's probability (the first maximum)."""
    return max(score) if isinstance(score, (list, tuple)) else score


# --------------------------------------------------------------------------- reading and recovery


def _log_files(root: Path, *suffixes: str) -> list[str]:
    try:
        names = os.listdir(root)
    except FileNotFoundError:
        return []
    return sorted(n for n in names if n.startswith(PREFIX) and n.endswith(suffixes))


def _read_stream(path: Path) -> tuple[Any, list[Any], bool]:
    """(schema or None, the whole record batches, torn) of an Arrow IPC stream file cut short anywhere."""
    import pyarrow as pa

    batches: list[Any] = []
    try:
        with pa.OSFile(str(path), "rb") as f:
            reader = pa.ipc.open_stream(f)
            schema = reader.schema
            try:
                while True:
                    batches.append(reader.read_next_batch())
            except StopIteration:
                return schema, batches, False
    except (pa.ArrowInvalid, OSError, EOFError):
        # a torn schema message (nothing written yet) or a torn batch: keep the whole ones before it
        return (batches[0].schema if batches else None), batches, True
    return schema, batches, False


def read_table(directory: str | os.PathLike, *, include_partial: bool = True) -> Any:
    """Every record of the log in ``directory`` as one :class:`pyarrow.Table` (files in name order).

    Parameters
    ----------
    directory : path
        The log directory (``SKEWLESS_SERVE_LOG_DIR``).
    include_partial : bool
        Also read the ``.arrows.part`` files (being written, or left by a crash): their whole
        record batches (a torn last one is left out).

    Returns
    -------
    pyarrow.Table or None
        None when the directory holds no records. Files written for different bundles with
        different schemas are combined with their columns unified (missing fields null).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = Path(directory)
    tables = []
    suffixes = (PARQUET, PART) if include_partial else (PARQUET,)
    for name in _log_files(root, *suffixes):
        if name.endswith(PARQUET):
            try:
                tables.append(pq.read_table(root / name))
            except FileNotFoundError:  # deleted by retention meanwhile
                continue
        else:
            schema, batches, _ = _read_stream(root / name)
            if batches:
                tables.append(pa.Table.from_batches(batches, schema=schema))
    if not tables:
        return None
    if len({t.schema.remove_metadata() for t in tables}) == 1:
        return pa.concat_tables(tables)
    return pa.concat_tables(tables, promote_options="permissive")


def read_log(directory: str | os.PathLike, *, include_partial: bool = True) -> Iterator[dict[str, Any]]:
    """The records of the log in ``directory`` as Python dicts (typed: NaN, zoned datetimes, timedeltas).

    Each record is ``{"request_id", "row", "time", "route", "bundle_id", "inputs", "features",
    "score"}``; ``inputs`` and ``features`` are dicts. For large logs read the Parquet files with
    polars (:func:`skewless.monitoring.load_log`) or :func:`read_table` instead.

    Examples
    --------
    >>> for rec in read_log("out/served-log"):            # doctest: +SKIP
    ...     print(rec["request_id"], rec["score"])
    """
    table = read_table(directory, include_partial=include_partial)
    if table is None:
        return iter(())
    return iter(table.to_pylist())


def _lock(fd: int, blocking: bool) -> bool:
    if fcntl is None:  # pragma: no cover
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        return True
    except OSError:
        return False


def _sync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # not supported everywhere (Windows); the rename is still atomic
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _finalize(part: Path) -> int:
    """Rewrite the stream ``part`` as ``.parquet`` (tmp, fsync, rename), remove ``part``; records kept."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    target = part.with_name(part.name[: -len(PART)] + PARQUET)
    schema, batches, _ = _read_stream(part)
    rows = sum(b.num_rows for b in batches)
    if rows and not target.exists():  # target exists: a finalize was cut short after its rename
        tmp = target.with_name(target.name[: -len(PARQUET)] + _TMP)
        with open(tmp, "wb") as f:
            pq.write_table(pa.Table.from_batches(batches, schema=schema), f, compression="zstd")
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, target)
    os.remove(part)
    _sync_directory(part.parent)
    return rows


def recover(directory: str | os.PathLike) -> tuple[int, int]:
    """Finalize the ``.part`` files in ``directory`` that no live writer holds (left by a crash).

    Returns ``(files, records)`` recovered. Stale ``.parquet.tmp`` files (a finalize cut short)
    are removed. Called by :meth:`FeatureLog.start`; safe while other processes write to the
    same directory (their files are locked).
    """
    root = Path(directory)
    files = records = 0
    for name in _log_files(root, _TMP):
        try:
            os.remove(root / name)
        except OSError:
            pass
    for name in _log_files(root, PART):
        path = root / name
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            if not _lock(fd, blocking=False):
                continue  # a live writer holds it
            if not path.exists():  # finalized by its writer between listdir and the lock
                continue
            records += _finalize(path)
            files += 1
        finally:
            os.close(fd)
    return files, records


# --------------------------------------------------------------------------- the log


class FeatureLog:
    """Log served inputs, features and scores to rotated Arrow/Parquet files, off the request path.

    Parameters
    ----------
    directory : path
        Where the files go (created with the first file).
    bundle_id : str
        The served bundle's id, written in every record.
    input_schema, output_schema : dict of name -> Field
        The feature set's schemas (the column types of ``inputs`` and ``features``).
    sample_rate : float
        Fraction of submitted requests logged (decided per request with :func:`random.random`).
    max_queue : int
        Records waiting for the writer at most; beyond that :meth:`submit` drops and counts.
    max_file_bytes : int
        The file being written is finalized (as Parquet) once its stream reaches this size.
    max_files : int or None
        Keep at most this many finished files in the directory (oldest deleted first).
    flush_interval : float
        Seconds between the writer's batches (each written and fsynced): the bound on what a
        kill -9 loses.
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
    >>> flog = FeatureLog("out/served-log", bundle_id="9c85abe031c592f6",              # doctest: +SKIP
    ...                   input_schema=fs.input_schema(), output_schema=fs.output_schema())
    >>> flog.start()                                                                    # doctest: +SKIP
    >>> flog.submit("/v1/predict", {"distance": 1400}, {"distance_log": 7.24}, 0.21, "req-1")  # doctest: +SKIP
    True
    >>> flog.close()                                                                    # doctest: +SKIP
    """

    def __init__(self, directory: str | os.PathLike, *, bundle_id: str, input_schema: Mapping[str, Any],
                 output_schema: Mapping[str, Any], sample_rate: float = 1.0, max_queue: int = 10_000,
                 max_file_bytes: int = 64 * 2**20, max_files: int | None = None, flush_interval: float = 1.0,
                 seed: int | None = None, classes: Sequence[str] | None = None):
        if not 0.0 <= sample_rate <= 1.0:
            raise ValueError(f"sample_rate must be within [0, 1], got {sample_rate!r}")
        if max_queue < 1 or max_file_bytes < 1 or (max_files is not None and max_files < 1):
            raise ValueError("max_queue, max_file_bytes and max_files must be positive")
        if not flush_interval > 0:
            raise ValueError(f"flush_interval must be positive, got {flush_interval!r}")
        self.directory = Path(directory)
        self.bundle_id = str(bundle_id)
        self.in_names = tuple(input_schema)
        self.out_names = tuple(output_schema)
        self.schema = arrow_schema(input_schema, output_schema, bundle_id=self.bundle_id, classes=classes)
        self.classes = None if classes is None else tuple(classes)
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
        self._recovered_files = self._recovered_records = 0
        self._error_logged = False
        self._file = None
        self._writer = None
        self._path: Path | None = None

    # --- request path -----------------------------------------------------------------
    def submit(self, route: str, inputs: Mapping[str, Any], features: Mapping[str, Any],
               score: float | Sequence[float] | None, request_id: str = "", row: int = 0) -> bool:
        """Queue one record; never blocks. False when sampled out or dropped (queue full, closed).

        ``score`` is a float, or a multiclass model's class probabilities (logged whole, and their maximum as
        ``score``).

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
                self._queue.put_nowait((now // 1000, route, request_id, row, inputs, features, score))
            except queue.Full:
                self._dropped += 1
                return False
        return True

    # --- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        """Finalize what a crashed writer left in the directory, then start the writer thread.

        Records submitted before are kept and written.
        """
        if self._thread is not None or self._closed:
            return
        import pyarrow.ipc  # noqa: F401  (imported here, not in the writer's first batch)
        import pyarrow.parquet  # noqa: F401

        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._recovered_files, self._recovered_records = recover(self.directory)
        except OSError as exc:
            self._error(exc)
        if self._recovered_files:
            log.warning("served-feature log %s: finalized %d file(s) left by a crashed writer (%d records)",
                        self.directory, self._recovered_files, self._recovered_records)
        self._thread = threading.Thread(target=self._run, name="skewless-feature-log", daemon=True)
        self._thread.start()

    def close(self, timeout: float = 10.0) -> None:
        """Write everything queued, finalize the current file and join the writer.

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
        """Counters: submitted, sampled_out, dropped, written, queued, files, deleted, errors, recovered_*."""
        with self._lock:
            submitted, sampled_out, dropped = self._submitted, self._sampled_out, self._dropped
        return {"submitted": submitted, "sampled_out": sampled_out, "dropped": dropped + self._failed,
                "written": self._written, "queued": self._queue.qsize(), "files": self._files,
                "deleted": self._deleted, "errors": self._errors, "recovered_files": self._recovered_files,
                "recovered_records": self._recovered_records}

    # --- writer thread ----------------------------------------------------------------
    def _run(self) -> None:
        while True:
            deadline = time.monotonic() + self.flush_interval
            batch: list = []
            stop = False
            while len(batch) < _MAX_BATCH and not stop:  # gather for flush_interval (or a full batch)
                wait = deadline - time.monotonic()
                if wait <= 0:
                    break
                try:
                    item = self._queue.get(timeout=wait)
                except queue.Empty:
                    break
                if item is not _STOP:
                    batch.append(item)
                    self._take_queued(batch, _MAX_BATCH)
                # close() sets _closed before it queues the stop marker (which _take_queued may swallow)
                stop = self._closed
            if batch:
                self._write(batch)
            if self._closed and (stop or self._queue.empty()):
                break
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
        while batch:
            self._write(batch[:_MAX_BATCH])
            batch = batch[_MAX_BATCH:]
        self._finish_file()
        self._write_summary()

    def _record_batch(self, items: list[tuple]) -> Any:
        """One Arrow record batch of ``items`` (raises on a value Arrow cannot hold)."""
        import pyarrow as pa

        s = self.schema
        t_in, t_out = s.field("inputs").type, s.field("features").type
        inputs = [it[4] for it in items]
        feats = [it[5] for it in items]
        in_arrays = [pa.array([r[n] for r in inputs], type=t_in.field(i).type) for i, n in enumerate(self.in_names)]
        out_arrays = [pa.array([r[n] for r in feats], type=t_out.field(i).type) for i, n in enumerate(self.out_names)]
        columns = [
            pa.array([it[2] for it in items], type=pa.string()),
            pa.array([it[3] for it in items], type=pa.int32()),
            pa.array([it[0] for it in items], type=pa.int64()).cast(s.field("time").type),
            pa.array([it[1] for it in items], type=pa.string()),
            pa.array([self.bundle_id] * len(items), type=pa.string()),
            pa.StructArray.from_arrays(in_arrays, fields=list(t_in)),
            pa.StructArray.from_arrays(out_arrays, fields=list(t_out)),
            pa.array([_top(it[6]) for it in items], type=pa.float64()),
        ]
        if self.classes is not None:
            columns.append(pa.array([None if it[6] is None else list(it[6]) for it in items],
                                    type=pa.list_(pa.float64())))
        return pa.RecordBatch.from_arrays(columns, schema=s)

    def _encode(self, batch: list[tuple]) -> Any:
        try:
            return self._record_batch(batch)
        except Exception:
            pass
        good = []  # find the records Arrow refuses (lone surrogates, out-of-range ints): lose only those
        for item in batch:
            try:
                self._record_batch([item])
                good.append(item)
            except Exception as exc:
                self._failed += 1
                self._error(exc)
        return self._record_batch(good) if good else None

    def _write(self, batch: list[tuple]) -> None:
        rb = self._encode(batch)
        if rb is None:
            return
        try:
            if self._writer is None:
                self._open()
            self._writer.write_batch(rb)
            os.fsync(self._file.fileno())
            self._written += rb.num_rows
        except OSError as exc:
            self._failed += rb.num_rows
            self._error(exc)
            self._abandon()
            return
        if self._file.tell() >= self.max_file_bytes:
            self._finish_file()

    def _open(self) -> None:
        import pyarrow as pa

        self.directory.mkdir(parents=True, exist_ok=True)
        while True:
            self._path = self.directory / f"{self._stem}-{next(self._seq):06d}{PART}"
            try:
                f = self._raw_open(self._path)
                break
            except FileExistsError:
                continue  # never overwrite: take the next sequence number
        _lock(f.fileno(), blocking=True)
        self._file = f
        try:
            self._writer = pa.ipc.new_stream(f, self.schema)
        except Exception:
            self._abandon()
            raise

    def _raw_open(self, path: Path) -> Any:
        return open(path, "xb", buffering=0)

    def _abandon(self) -> None:
        """Give the current file up after a failed write: finalized now with its whole batches if it
        can be, else left as ``.part`` (for :func:`recover` on a later start)."""
        f, self._file, self._writer = self._file, None, None
        if f is None:
            return
        try:
            _finalize(self._path)
            self._files += 1
        except OSError:
            pass
        try:
            f.close()
        except OSError:
            pass

    def _finish_file(self) -> None:
        """Finalize the current stream as Parquet (then apply ``max_files``)."""
        f, writer, path = self._file, self._writer, self._path
        if f is None:
            return
        self._file = self._writer = None
        try:
            writer.close()  # the end-of-stream marker
            _finalize(path)
            self._files += 1
        except OSError as exc:
            self._error(exc)
            return
        finally:
            f.close()  # releases the lock after the .part is gone
        if self.max_files is not None:
            self._retain()

    def _retain(self) -> None:
        try:
            done = _log_files(self.directory, PARQUET)
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
        import json

        s = self.stats()
        doc = {"v": FORMAT_VERSION, "bundle_id": self.bundle_id, "sample_rate": self.sample_rate,
               "started": self._started_at.isoformat(),
               "closed": _dt.datetime.now(_dt.timezone.utc).isoformat(), **s}
        path = self.directory / f"{self._stem}.stats.json"
        tmp = path.with_name(path.name + ".tmp")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(doc, indent=2))
            os.replace(tmp, path)
        except OSError as exc:
            self._error(exc)

    def _error(self, exc: BaseException) -> None:
        self._errors += 1
        if not self._error_logged:  # once: a full disk would otherwise flood the log
            self._error_logged = True
            log.error("served-feature log %s: %s: %s (records are being lost; counted in stats(): "
                      "errors, dropped)", self.directory, type(exc).__name__, exc)
