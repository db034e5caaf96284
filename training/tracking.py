"""Run tracking in MLflow: every training run is findable from its bundle, and the bundle from its run.

Where runs go (first that is set):

1. the ``tracking_uri`` argument (``skewless train --tracking-uri``);
2. the ``SKEWLESS_TRACKING_URI`` environment variable;
3. the ``MLFLOW_TRACKING_URI`` environment variable;
4. a local SQLite store next to the bundle: ``sqlite:///<bundle parent>/mlruns.db``
   with artifacts under ``<bundle parent>/mlartifacts`` (works offline).

Each run gets tags (see :data:`TAGS`) with the bundle id, the feature set's
fingerprints, the data hash and the git commit; the bundle's manifest records
the tracking URI, experiment and run id. :func:`find_run` goes from a bundle to
its run by searching the ``skewless.bundle_id`` tag (not by trusting the
recorded run id), and checks the other tags agree.

MLflow's usage telemetry is switched off (``MLFLOW_DISABLE_TELEMETRY``) unless
the environment says otherwise.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Mapping

from skewless.errors import SkewlessError

__all__ = ["Tracker", "TrackingError", "resolve_tracking_uri", "find_run", "TAGS", "ENV_URI"]

ENV_URI = "SKEWLESS_TRACKING_URI"
#: Tag names written on every run.
TAGS = {
    "bundle_id": "skewless.bundle_id",
    "feature_set": "skewless.feature_set",
    "feature_fingerprint": "skewless.feature_fingerprint",
    "state_fingerprint": "skewless.state_fingerprint",
    "data_hash": "skewless.data_hash",
    "git_commit": "skewless.git_commit",
    "task": "skewless.task",
}
DEFAULT_DB = "mlruns.db"
DEFAULT_ARTIFACTS = "mlartifacts"


class TrackingError(SkewlessError, RuntimeError):
    """MLflow could not be reached or refused a call; the message says which."""


#: Seconds any one MLflow call may take (``train(tracking_timeout=...)``).
DEFAULT_TIMEOUT = 10.0
#: The first call on a local SQLite store creates its schema (alembic migrations: seconds on a busy machine).
SQLITE_SETUP_TIMEOUT = 120.0


def _quiet_mlflow(timeout: float = DEFAULT_TIMEOUT) -> None:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("MLFLOW_ENABLE_ASYNC_LOGGING", "false")
    # An unreachable server otherwise costs 120 s per request times 7 retries with back-off.
    # (a second more than the bound: the bound is what answers, "did not answer within N s")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", str(max(1, int(timeout)) + 1))
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    for name in ("mlflow", "alembic", "alembic.runtime.migration"):
        logging.getLogger(name).setLevel(logging.WARNING)


def resolve_tracking_uri(explicit: str | None, default_dir: str | Path) -> str:
    """The tracking URI to use (see the module docstring for the order)."""
    for value in (explicit, os.environ.get(ENV_URI), os.environ.get("MLFLOW_TRACKING_URI")):
        if value:
            return value
    return f"sqlite:///{(Path(default_dir).resolve() / DEFAULT_DB)}"


def _artifact_root(uri: str) -> str | None:
    """Artifacts next to a SQLite store (MLflow would otherwise use ./mlartifacts of the current directory)."""
    if uri.startswith("sqlite:///"):
        db = Path(uri[len("sqlite:///"):])
        return (db.parent / DEFAULT_ARTIFACTS).resolve().as_uri()
    return None


def bounded(what: str, timeout: float, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``, or :class:`TrackingError` when it takes more than ``timeout`` seconds.

    The call runs in a daemon thread: one that never answers (an unreachable host, a DNS stall, a
    locked store) is abandoned, not waited for, so a training job never hangs on its tracking.
    """
    import threading

    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # handed to the caller
            box["error"] = exc

    thread = threading.Thread(target=run, name=f"skewless-mlflow-{what}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TrackingError(f"MLflow did not answer within {timeout:g} s ({what})")
    if "error" in box:
        if _timed_out(box["error"]):  # MLflow's own HTTP timeout fired first: the same answer as ours
            raise TrackingError(f"MLflow did not answer within {timeout:g} s ({what})") from box["error"]
        raise box["error"]
    return box.get("value")


def _timed_out(exc: BaseException) -> bool:
    """Whether ``exc`` (an MlflowException wrapping urllib3's ReadTimeoutError, a TimeoutError, ...) is a
    request that timed out."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, TimeoutError) or "timed out" in str(exc).lower():
            return True
        exc = exc.__cause__ or exc.__context__
    return False


class Tracker:
    """One MLflow run, through ``MlflowClient`` (no global MLflow state); every call bounded by ``timeout``."""

    def __init__(self, uri: str, experiment: str = "skewless", *, timeout: float = DEFAULT_TIMEOUT):
        _quiet_mlflow(timeout)
        self.timeout = float(timeout)
        self.uri = uri
        self.experiment_name = experiment
        self.run_id: str | None = None
        self.experiment_id: str | None = None
        try:
            from mlflow.tracking import MlflowClient
        except ImportError as exc:  # pragma: no cover - dependency missing
            raise TrackingError(f"mlflow is not installed: {exc}") from None
        _quiet_mlflow()  # again: importing mlflow configures its loggers
        if uri.startswith("sqlite:///"):
            Path(uri[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
        def connect() -> None:
            self.client = MlflowClient(tracking_uri=uri)
            exp = self.client.get_experiment_by_name(experiment)
            if exp is None:
                self.experiment_id = self.client.create_experiment(experiment, artifact_location=_artifact_root(uri))
            else:
                self.experiment_id = exp.experiment_id

        setup = max(self.timeout, SQLITE_SETUP_TIMEOUT) if uri.startswith("sqlite:///") else self.timeout
        try:
            bounded("connect", setup, connect)
        except TrackingError as exc:
            raise TrackingError(f"cannot use MLflow tracking at {uri!r}: {exc}") from None
        except Exception as exc:
            raise TrackingError(f"cannot use MLflow tracking at {uri!r}: {type(exc).__name__}: {exc}") from None

    def start(self, *, name: str, tags: Mapping[str, str]) -> str:
        try:
            run = bounded("create_run", self.timeout, self.client.create_run, self.experiment_id, run_name=name,
                          tags=dict(tags))
        except Exception as exc:
            raise TrackingError(f"cannot start an MLflow run at {self.uri!r}: {type(exc).__name__}: {exc}") from None
        self.run_id = run.info.run_id
        return self.run_id

    def log(self, *, params: Mapping[str, Any], metrics: Mapping[str, float],
            artifacts: Mapping[str, Path]) -> None:
        """Log params, metrics and artifacts (``{artifact path: local file or directory}``) in one go."""
        from mlflow.entities import Metric, Param

        assert self.run_id is not None
        try:
            import time

            now = int(time.time() * 1000)
            bounded("log_batch", self.timeout, self.client.log_batch,
                self.run_id,
                metrics=[Metric(k, float(v), now, 0) for k, v in metrics.items() if v is not None],
                params=[Param(k, str(v)[:6000]) for k, v in params.items()],
            )
            for where, local in artifacts.items():
                local = Path(local)
                if local.is_dir():
                    bounded("log_artifacts", self.timeout, self.client.log_artifacts, self.run_id, str(local),
                            artifact_path=where)
                else:
                    bounded("log_artifact", self.timeout, self.client.log_artifact, self.run_id, str(local),
                            artifact_path=where or None)
        except Exception as exc:
            raise TrackingError(f"logging to MLflow run {self.run_id} at {self.uri!r} failed: "
                                f"{type(exc).__name__}: {exc}") from None

    def log_model(self, bundle_dir: Path, *, register_as: str | None = None) -> str | None:
        """Log the bundle as an MLflow ``python_function`` model at ``<run>/model`` (and register it).

        The model's loader is :mod:`skewless.serving.pyfunc` (no pickle; the bundle is its data);
        returns the registered version (None when not registering).
        """
        import tempfile

        from skewless.serving.pyfunc import save_model

        assert self.run_id is not None
        try:
            with tempfile.TemporaryDirectory(prefix="skewless-model-") as tmp:
                local = save_model(bundle_dir, Path(tmp) / "model")
                bounded("log_artifacts", self.timeout, self.client.log_artifacts, self.run_id, str(local),
                        artifact_path="model")
            if not register_as:
                return None
            run = bounded("get_run", self.timeout, self.client.get_run, self.run_id)

            def register() -> str:
                from mlflow.exceptions import MlflowException

                try:
                    self.client.create_registered_model(register_as)
                except MlflowException as exc:
                    if "already exists" not in str(exc).lower() and "RESOURCE_ALREADY_EXISTS" not in str(exc):
                        raise
                version = self.client.create_model_version(register_as, f"{run.info.artifact_uri}/model",
                                                           run_id=self.run_id)
                return str(version.version)

            return bounded("register_model", self.timeout, register)
        except TrackingError:
            raise
        except Exception as exc:
            raise TrackingError(f"logging the MLflow model of run {self.run_id} failed: {type(exc).__name__}: "
                                f"{exc}") from None

    def end(self, status: str = "FINISHED") -> None:
        if self.run_id is None:
            return
        try:
            bounded("set_terminated", self.timeout, self.client.set_terminated, self.run_id, status=status)
        except Exception as exc:
            raise TrackingError(f"cannot close MLflow run {self.run_id}: {type(exc).__name__}: {exc}") from None


def find_run(bundle: str | Path | Mapping[str, Any], *, tracking_uri: str | None = None) -> Any:
    """The MLflow run a bundle was logged to, found by its ``skewless.bundle_id`` tag.

    ``bundle`` is a bundle directory or its manifest. The tracking URI defaults
    to the one recorded in the manifest. Raises :class:`TrackingError` when no
    run (or more than one) carries the tag, or when the run's other tags
    (feature fingerprint, data hash) disagree with the bundle.
    """
    from .bundle import read_manifest

    manifest = bundle if isinstance(bundle, Mapping) else read_manifest(bundle)
    info = manifest.get("tracking") or {}
    uri = tracking_uri or info.get("uri")
    if not uri:
        raise TrackingError("the bundle records no tracking URI (tracking was disabled); pass tracking_uri=")
    tracker = Tracker(uri, info.get("experiment") or "skewless")
    bundle_id = manifest["bundle_id"]
    try:
        runs = tracker.client.search_runs(
            [tracker.experiment_id], filter_string=f"tags.`{TAGS['bundle_id']}` = '{bundle_id}'", max_results=2,
        )
    except Exception as exc:
        raise TrackingError(f"searching MLflow at {uri!r} failed: {type(exc).__name__}: {exc}") from None
    if len(runs) != 1:
        raise TrackingError(f"{len(runs)} MLflow runs at {uri!r} carry {TAGS['bundle_id']} = {bundle_id}")
    run = runs[0]
    tags = run.data.tags
    want = {TAGS["feature_fingerprint"]: manifest["feature_set"]["fingerprint"],
            TAGS["data_hash"]: manifest["data"]["data_hash"]}
    bad = {k: (tags.get(k), v) for k, v in want.items() if tags.get(k) != v}
    if bad:
        raise TrackingError(f"MLflow run {run.info.run_id} disagrees with the bundle on {bad}")
    return run
