"""Train a LightGBM model on a build and write a bundle (see :mod:`skewless.training.bundle`), tracked in MLflow.

>>> from skewless.training.train import train                         # doctest: +SKIP
>>> result = train("out/build", "out/bundle")                # doctest: +SKIP
>>> result.metrics["test"]                                   # doctest: +SKIP
{'auc': 0.93, 'log_loss': 0.25, ...}

* Binary classification (Boolean label) or regression (numeric label), as the build says.
* Early stopping on the validation split; metrics on the test split: AUC and log
  loss (binary) or RMSE and MAE (regression), also on validation.
* The model is saved in LightGBM's native text format; metrics and golden
  scores are computed with the model *read back from that file*, so they are
  the scores serving will reproduce.
* Every run is logged to MLflow (:mod:`skewless.training.tracking`); when tracking fails
  the bundle is still written, its manifest says ``tracking.status = "failed"``
  with the reason, and :attr:`TrainResult.tracking_error` is set.
"""

from __future__ import annotations

import math
import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from skewless.errors import SkewlessError

from skewless.bundle import (FEATURE_SET_FILE, FITTED_FILE, FORMAT, FORMAT_VERSION, GOLDEN_FILE, MANIFEST_FILE,
                             MODEL_FILE, STATS_FILE, BundleError, ModelInputs, encode_value, golden_coverage)
from skewless.bundle.codec import encode_float
from skewless.bundle.seal import seal_files, write_signature

from ._util import atomic_dir, git_info, now_iso, versions, write_json
from .build import LABEL_COLUMN, SPLITS, _Steps, read_build
from .bundle import load_feature_set_for

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from skewless.compiled import CompiledFeatureSet
    from skewless.feature_set import FeatureSet

__all__ = ["train", "TrainResult", "TrainError", "DEFAULT_PARAMS", "binary_metrics", "regression_metrics", "KEY_ENV"]

#: Environment variable holding the HMAC key bundles are signed with (unset: bundles are not signed).
KEY_ENV = "SKEWLESS_BUNDLE_KEY"


class TrainError(SkewlessError, ValueError):
    """Training cannot run on this build."""


#: LightGBM parameters used unless overridden (``params=``).
DEFAULT_PARAMS: dict[str, Any] = {
    "learning_rate": 0.1,
    "num_leaves": 31,
    "min_data_in_leaf": 50,
    "feature_fraction": 0.9,
    "lambda_l2": 1.0,
    "max_bin": 255,
    "cat_smooth": 10.0,
    "deterministic": True,
    "force_row_wise": True,
    "verbose": -1,
}


@dataclass
class TrainResult:
    bundle_dir: Path
    manifest: dict[str, Any]
    metrics: dict[str, dict[str, float]]
    run_id: str | None
    tracking_uri: str | None
    tracking_error: str | None
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)


# --------------------------------------------------------------------------- metrics


def auc(y: "np.ndarray", score: "np.ndarray") -> float:
    """Area under the ROC curve (Mann-Whitney U with average ranks for ties)."""
    import numpy as np

    y = np.asarray(y, dtype=bool)
    score = np.asarray(score, dtype=np.float64)
    n_pos = int(y.sum())
    n_neg = y.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(score, kind="mergesort")
    s = score[order]
    ranks = np.empty(s.size, dtype=np.float64)
    # average ranks over runs of equal scores
    starts = np.r_[0, np.flatnonzero(np.diff(s)) + 1]
    ends = np.r_[starts[1:], s.size]
    avg = (starts + ends + 1) / 2.0
    ranks[order] = np.repeat(avg, ends - starts)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def binary_metrics(y: "np.ndarray", p: "np.ndarray", threshold: float = 0.5) -> dict[str, float]:
    import numpy as np

    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    q = np.clip(p, 1e-15, 1 - 1e-15)
    return {
        "auc": auc(y > 0.5, p),
        "log_loss": float(-np.mean(y * np.log(q) + (1 - y) * np.log1p(-q))),
        "accuracy": float(np.mean((p >= threshold) == (y > 0.5))),
        "positive_rate": float(np.mean(y)),
        "mean_score": float(np.mean(p)),
        "rows": float(y.size),
    }


def regression_metrics(y: "np.ndarray", p: "np.ndarray") -> dict[str, float]:
    import numpy as np

    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    err = p - y
    return {"rmse": float(np.sqrt(np.mean(err * err))), "mae": float(np.mean(np.abs(err))),
            "mean_label": float(np.mean(y)), "mean_score": float(np.mean(p)), "rows": float(y.size)}


def multiclass_metrics(y: "np.ndarray", p: "np.ndarray") -> dict[str, float]:
    """Multi log loss, accuracy (argmax) and macro one-vs-rest AUC of class indices ``y`` and probabilities ``p``
    (rows x classes); a class absent from ``y`` is left out of the macro AUC."""
    import numpy as np

    y = np.asarray(y).astype(np.int64)
    p = np.asarray(p, dtype=np.float64)
    q = np.clip(p[np.arange(y.size), y], 1e-15, 1.0)
    aucs = [auc(y == k, p[:, k]) for k in range(p.shape[1])]
    aucs = [a for a in aucs if not math.isnan(a)]
    return {"multi_logloss": float(-np.mean(np.log(q))),
            "accuracy": float(np.mean(np.argmax(p, axis=1) == y)),
            "macro_auc_ovr": float(np.mean(aucs)) if aucs else float("nan"),
            "rows": float(y.size)}


def metrics_for(task: str, y: "np.ndarray", p: "np.ndarray", threshold: float = 0.5) -> dict[str, float]:
    if task == "multiclass":
        return multiclass_metrics(y, p)
    return binary_metrics(y, p, threshold) if task == "binary" else regression_metrics(y, p)


# --------------------------------------------------------------------------- loading a build


def load_transformer(build_dir: Path, manifest: Mapping[str, Any],
                     feature_set: "CompiledFeatureSet | None" = None) -> "CompiledFeatureSet":
    """The feature set (with its fitted state, if any) a build was made with, verified against its fingerprints."""
    from skewless.compiled import load

    fs = load_feature_set_for(manifest, feature_set, where=f"build {str(build_dir)!r}")
    fitted = manifest["feature_set"].get("fitted")
    return load(fs, build_dir / manifest["fitted_artifact"] if fitted else None)


# --------------------------------------------------------------------------- the steps of train()


@dataclass
class _Job:
    """What the steps of :func:`train` share: the build, its feature set, the encoded splits."""

    build_dir: Path
    bundle_dir: Path
    build: dict[str, Any]
    transformer: "CompiledFeatureSet"
    fs: "FeatureSet"
    task: str
    inputs: ModelInputs | None = None
    X: dict[str, Any] = field(default_factory=dict)
    y: dict[str, Any] = field(default_factory=dict)


def _read(build_dir: Path, bundle_dir: Path, feature_set: "CompiledFeatureSet | None") -> _Job:
    """Step 1: the build record (validated), the feature set it was made with, checked against it."""
    build = read_build(build_dir)
    transformer = load_transformer(build_dir, build, feature_set)
    fs = transformer.definition
    if list(transformer.output_schema()) != build["feature_columns"]:
        raise TrainError(f"build {str(build_dir)!r} has feature columns that differ from the feature set's output")
    return _Job(build_dir, bundle_dir, build, transformer, fs, build["label"]["task"])


def _encode(job: _Job) -> None:
    """Step 2: the model's input encoding (vocabularies from the training split) and the float matrices."""
    import polars as pl

    scans = {s: pl.scan_parquet([job.build_dir / f for f in job.build["files"][s]]) for s in SPLITS}
    job.inputs = ModelInputs.fit(job.transformer.output_schema(), scans["train"])
    job.X = {s: job.inputs.encode_frame(scans[s]) for s in SPLITS}
    classes = job.build["label"].get("classes")
    if job.task == "multiclass":  # class i = classes[i]; a class the build did not record is refused
        if not (isinstance(classes, list) and len(classes) >= 2 and all(isinstance(c, str) for c in classes)):
            raise TrainError(f"build {str(job.build_dir)!r} is multiclass but records no classes in build.json")
        index = {c: float(i) for i, c in enumerate(classes)}
        y_of = pl.col(LABEL_COLUMN).replace_strict(index, return_dtype=pl.Float64)
    else:
        y_of = pl.col(LABEL_COLUMN).cast(pl.Float64)
    try:
        job.y = {s: scans[s].select(y_of).collect().to_series().to_numpy() for s in SPLITS}
    except pl.exceptions.InvalidOperationError as exc:
        raise TrainError(f"build {str(job.build_dir)!r}: a label value is not one of the recorded classes "
                         f"{classes}: {exc}") from None


def _fit(job: _Job, params: dict[str, Any], num_boost_round: int, early_stopping_rounds: int,
         on_iteration: Callable[[int, int], None] | None) -> tuple[Any, int]:
    """Step 3: LightGBM with early stopping on the validation split; the booster and its best iteration.

    The model's columns are named ``f0000``, ``f0001``, ... (:func:`skewless.bundle.encoding.model_name`):
    LightGBM rewrites feature names with spaces, commas or quotes, so feature names never reach it.
    """
    import lightgbm as lgb

    inputs = job.inputs
    dtrain = lgb.Dataset(job.X["train"], label=job.y["train"], feature_name=inputs.model_names,
                         categorical_feature=inputs.categorical_model_names or "auto", free_raw_data=False,
                         params={"max_bin": params.get("max_bin", 255), "verbose": -1})
    dvalid = lgb.Dataset(job.X["valid"], label=job.y["valid"], reference=dtrain)
    callbacks = [lgb.early_stopping(early_stopping_rounds, first_metric_only=True, verbose=False)]
    if on_iteration is not None:
        callbacks.append(lambda env: on_iteration(env.iteration + 1, env.end_iteration))
    try:
        booster = lgb.train(params, dtrain, num_boost_round=num_boost_round, valid_sets=[dvalid],
                            valid_names=["valid"], callbacks=callbacks)
    except lgb.basic.LightGBMError as exc:
        raise TrainError(f"LightGBM failed: {exc}") from None
    return booster, int(booster.best_iteration or booster.current_iteration())


def _save_and_score(job: _Job, tmp: Path, booster: Any, best_iteration: int,
                    threshold: float) -> tuple[Any, dict[str, dict[str, float]]]:
    """Step 4: save ``model.txt``; metrics from the model read back from that file (what serving will run)."""
    import lightgbm as lgb

    booster.save_model(str(tmp / MODEL_FILE), num_iteration=best_iteration)
    saved = lgb.Booster(model_file=str(tmp / MODEL_FILE))
    scores = {s: saved.predict(job.X[s]) for s in ("valid", "test")}
    return saved, {s: metrics_for(job.task, job.y[s], scores[s], threshold) for s in ("valid", "test")}


def _write_files(job: _Job, tmp: Path, saved: Any) -> dict[str, Any]:
    """Step 5: golden rows, the serialized definition, fitted state and statistics; the golden section."""
    build, fs, transformer = job.build, job.fs, job.transformer
    golden = _golden_rows(job.build_dir, build, transformer, job.inputs, saved, fs)
    write_json(tmp / GOLDEN_FILE, golden, compact_depth=3)
    write_json(tmp / FEATURE_SET_FILE, {
        "name": fs.name, "spec": build["feature_set"]["spec"], "fingerprint": fs.fingerprint,
        "feature_fingerprints": fs.feature_fingerprints(),
        "input_schema": {k: {"dtype": f.dtype.to_json(), "nullable": f.nullable} for k, f in fs.inputs.items()},
        "output_schema": {k: {"dtype": f.dtype.to_json(), "nullable": f.nullable}
                          for k, f in transformer.output_schema().items()},
        "definition": fs.ir_json(),
    })
    if build["feature_set"].get("fitted"):
        shutil.copyfile(job.build_dir / build["fitted_artifact"], tmp / FITTED_FILE)
    shutil.copyfile(job.build_dir / build["stats"], tmp / STATS_FILE)
    from skewless.bundle.loader import GOLDEN_STATE_FILE, decode_golden
    from skewless.bundle.manifest import GoldenFile

    decoded = decode_golden(GoldenFile.model_validate(golden))
    section = {"file": GOLDEN_FILE, "rows": len(decoded), "available": max(1, int(build["rows"].get("test", 0) or 0)),
               "coverage": golden_coverage(decoded, job.inputs)}
    if fs.lookups is not None:  # the entity-table rows the golden rows read, for the self-check's private store
        if not build.get("golden_state"):
            raise TrainError(f"build {str(job.build_dir)!r} has lookups but no golden state; build it again")
        shutil.copyfile(job.build_dir / build["golden_state"], tmp / GOLDEN_STATE_FILE)
        section["state_file"] = GOLDEN_STATE_FILE
    if fs.windows is not None:  # the events the golden rows' windows read, for the same private store
        from skewless.windows.golden import GOLDEN_EVENTS_FILE

        if not build.get("golden_events"):
            raise TrainError(f"build {str(job.build_dir)!r} has windows but no golden events; build it again")
        shutil.copyfile(job.build_dir / build["golden_events"], tmp / GOLDEN_EVENTS_FILE)
        section["events_file"] = GOLDEN_EVENTS_FILE
    return section


def _manifest(job: _Job, tmp: Path, *, bundle_id: str, saved: Any, best_iteration: int, params: dict[str, Any],
              metrics: dict[str, Any], golden: dict[str, Any], threshold: float) -> dict[str, Any]:
    """Step 6: the manifest, with the SHA-256 of every file written so far (the seal)."""
    build, fs, task = job.build, job.fs, job.task
    fitted = bool(build["feature_set"].get("fitted"))
    git = git_info(*(p for p in [build.get("git") and build["git"].get("repo")] if p))
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "bundle_id": bundle_id,
        "created_at": now_iso(),
        "files": seal_files(tmp, [p.name for p in tmp.iterdir()]),
        "feature_set": {
            "name": fs.name,
            "spec": build["feature_set"]["spec"],
            "fingerprint": fs.fingerprint,
            "feature_fingerprints": fs.feature_fingerprints(),
            "fitted": fitted,
            "state_fingerprint": build["feature_set"].get("state_fingerprint"),
            "definition_file": FEATURE_SET_FILE,
            "fitted_file": FITTED_FILE if fitted else None,
            "file": FITTED_FILE if fitted else FEATURE_SET_FILE,
        },
        "model": {
            "file": MODEL_FILE,
            "format": "lightgbm text",
            "task": task,
            "classes": build["label"].get("classes") if task == "multiclass" else None,
            "decision_threshold": threshold if task == "binary" else None,
            "score": {"binary": "probability of the label", "regression": "predicted label",
                      "multiclass": "probability of each class, in the order of classes"}[task],
            "best_iteration": best_iteration,
            "num_trees": saved.num_trees(),
            "params": dict(params),
            "inputs": job.inputs.to_json(),
        },
        "golden": golden,
        "check": {"self_check": "passed", "golden_rows": golden["rows"], "checked_at": now_iso()},
        "metrics": metrics,
        "data": {
            "build_dir": str(job.build_dir.resolve()),
            "data_hash": build["data_hash"],
            "source": build.get("source"),
            "label": build["label"],
            "event_time": build["event_time"],
            "split": build["split"],
            "rows": build["rows"],
        },
        "git": git or build.get("git"),
        "build_git": build.get("git"),
        "versions": versions("polars", "lightgbm", "mlflow", "numpy"),
        "stats": STATS_FILE,
        "tracking": {"status": "disabled", "uri": None, "run_id": None},
    }


def _write_manifest(tmp: Path, manifest: dict[str, Any], key: str | None) -> None:
    write_json(tmp / MANIFEST_FILE, manifest)
    if key:
        write_signature(tmp, key)


def _check_as_served(tmp: Path, key: str | None) -> None:
    """Step 7: exactly what ``serve`` runs before it reports ready: load (seal, definition, state, golden
    rows), LightGBM from the verified bytes, and the golden rows through the per-request path."""
    from skewless.serving.bundle_loader import check_bundle

    try:
        served = check_bundle(tmp, key=key)
    except BundleError as exc:
        raise TrainError(f"the bundle written does not load as serve loads it: {exc}") from None
    if served.problems:
        raise TrainError("the bundle written fails the self-check serve runs: " + "; ".join(served.problems[:5]))


# --------------------------------------------------------------------------- training


def train(
    build_dir: str | Path,
    bundle_dir: str | Path,
    *,
    feature_set: "CompiledFeatureSet | None" = None,
    params: Mapping[str, Any] | None = None,
    num_boost_round: int = 1000,
    early_stopping_rounds: int = 50,
    seed: int = 0,
    threads: int | None = None,
    decision_threshold: float = 0.5,
    tracking: bool = True,
    tracking_uri: str | None = None,
    experiment: str = "skewless",
    tracking_timeout: float = 10.0,
    register_as: str | None = None,
    sign_key: str | None = None,
    overwrite: bool = False,
    progress: Callable[[str], None] | None = None,
    on_iteration: Callable[[int, int], None] | None = None,
    warn: Callable[[str], None] | None = None,
) -> TrainResult:
    """Train on the build in ``build_dir``; write the bundle to ``bundle_dir``.

    The steps, in order (each a function of this module): read the build (:func:`_read`), encode
    the features (:func:`_encode`), fit LightGBM (:func:`_fit`), save and score the model
    (:func:`_save_and_score`), write the bundle's files (:func:`_write_files`) and its sealed
    manifest (:func:`_manifest`), load and self-check it exactly as ``serve`` does
    (:func:`_check_as_served`), then track the run (:func:`_track`). Everything is written to a
    hidden temporary directory that becomes ``bundle_dir`` only when all of that passed.

    Parameters
    ----------
    feature_set : the feature set the build was made with; default: imported from the spec the build records
    params : LightGBM parameters overriding :data:`DEFAULT_PARAMS` (unknown names are refused, naming the
        closest valid one); below 5,000 training rows ``min_data_in_leaf`` and ``min_data_in_bin`` default
        to values that let a small table learn (:func:`skewless.training.lgb_params.size_defaults`)
    num_boost_round, early_stopping_rounds : boosting rounds, and patience on the validation loss
    threads : LightGBM threads (default: all cores)
    decision_threshold : score threshold of the binary decision, a number strictly between 0 and 1
    tracking, tracking_uri, experiment : MLflow logging (see :mod:`skewless.training.tracking`)
    tracking_timeout : seconds any one MLflow call may take (then tracking is abandoned, the bundle still written)
    register_as : also register the bundle's MLflow model (``<run>/model``) under this name
    sign_key : HMAC key signing the bundle (default: ``$SKEWLESS_BUNDLE_KEY``; unset: not signed)
    progress : called with the name of each step; on_iteration(i, total) after each boosting round
    warn : called with a message when tracking fails (default: a RuntimeWarning)
    """
    if not (isinstance(decision_threshold, (int, float)) and not isinstance(decision_threshold, bool)
            and math.isfinite(decision_threshold) and 0.0 < decision_threshold < 1.0):
        raise TrainError(f"decision_threshold must be a finite number strictly between 0 and 1, got "
                         f"{decision_threshold!r}")
    decision_threshold = float(decision_threshold)
    key = sign_key if sign_key is not None else (os.environ.get(KEY_ENV) or None)
    started = time.perf_counter()
    steps = _Steps(progress)
    steps("reading the build")
    job = _read(Path(build_dir), Path(bundle_dir), feature_set)
    steps("encoding the features")
    _encode(job)
    steps("training LightGBM")
    objective = {"binary": {"objective": "binary", "metric": ["binary_logloss", "auc"]},
                 "regression": {"objective": "regression", "metric": ["rmse"]},
                 "multiclass": {"objective": "multiclass", "num_class": len(job.build["label"].get("classes") or []),
                                "metric": ["multi_logloss", "multi_error"]}}[job.task]
    from .lgb_params import check_params, given, size_defaults

    user_params = check_params(params or {}, error=TrainError)  # a misspelt name is refused, naming the closest
    # a default gives way to the caller's value under any of LightGBM's names for it (min_child_samples ...)
    defaults = {k: v for k, v in {**DEFAULT_PARAMS, **size_defaults(len(job.y["train"]))}.items()
                if not given(user_params, k)}
    full_params = {**defaults, **objective, "seed": seed, "num_threads": threads or (os.cpu_count() or 1),
                   **user_params}
    booster, best_iteration = _fit(job, full_params, num_boost_round, early_stopping_rounds, on_iteration)

    bundle_id = uuid.uuid4().hex
    with atomic_dir(job.bundle_dir, marker=MANIFEST_FILE, overwrite=overwrite) as tmp:
        steps("scoring the test split with the saved model")
        saved, metrics = _save_and_score(job, tmp, booster, best_iteration, decision_threshold)
        steps("writing the bundle")
        golden = _write_files(job, tmp, saved)
        manifest = _manifest(job, tmp, bundle_id=bundle_id, saved=saved, best_iteration=best_iteration,
                             params=full_params, metrics=metrics, golden=golden, threshold=decision_threshold)
        _write_manifest(tmp, manifest, key)
        steps("loading and self-checking the bundle as serve does")
        _check_as_served(tmp, key)
        uri, tracking_error = None, None
        if tracking:
            steps("logging the run to MLflow")
            uri, tracking_error = _track(job, tmp, manifest, key, bundle_id=bundle_id, params=full_params,
                                         metrics=metrics, best_iteration=best_iteration, tracking_uri=tracking_uri,
                                         experiment=experiment, timeout=tracking_timeout, register_as=register_as,
                                         num_boost_round=num_boost_round,
                                         early_stopping_rounds=early_stopping_rounds)
        timings = steps.done()
    if tracking_error is not None:
        message = f"MLflow tracking failed; the bundle was written without a run: {tracking_error}"
        if warn is not None:
            warn(message)
        else:
            import warnings

            warnings.warn(message, RuntimeWarning, stacklevel=2)
    return TrainResult(job.bundle_dir, manifest, metrics,
                       manifest["tracking"].get("run_id") if not tracking_error else None,
                       uri, tracking_error, time.perf_counter() - started, timings)


def _track(job: _Job, tmp: Path, manifest: dict[str, Any], key: str | None, *, bundle_id: str,
           params: dict[str, Any], metrics: dict[str, Any], best_iteration: int, tracking_uri: str | None,
           experiment: str, timeout: float, register_as: str | None, num_boost_round: int,
           early_stopping_rounds: int) -> tuple[str, str | None]:
    """Step 8: the MLflow run (the run id goes into the manifest, the bundle into the run); never fatal.

    Every MLflow call is bounded by ``timeout`` seconds; on any failure the manifest says
    ``tracking.status = "failed"`` with the reason and the bundle is still written.
    """
    from .tracking import TAGS, Tracker, TrackingError, resolve_tracking_uri

    build, fs, task = job.build, job.fs, job.task
    uri = resolve_tracking_uri(tracking_uri, job.bundle_dir.parent)
    tags = {
        TAGS["bundle_id"]: bundle_id,
        TAGS["feature_set"]: fs.name,
        TAGS["feature_fingerprint"]: fs.fingerprint,
        TAGS["state_fingerprint"]: str(build["feature_set"].get("state_fingerprint")),
        TAGS["data_hash"]: build["data_hash"],
        TAGS["git_commit"]: (manifest.get("git") or {}).get("commit") or "unknown",
        TAGS["task"]: task,
        "mlflow.source.name": "skewless train",
    }
    tracker, error = None, None
    try:
        tracker = Tracker(uri, experiment, timeout=timeout)
        tracker.start(name=f"{fs.name}-{bundle_id[:8]}", tags=tags)
    except TrackingError as exc:
        error = str(exc)
    manifest["tracking"] = {"status": "logged" if error is None else "failed", "uri": uri, "experiment": experiment,
                            "experiment_id": tracker.experiment_id if tracker else None,
                            "run_id": tracker.run_id if tracker else None, "error": error}
    _write_manifest(tmp, manifest, key)
    if error is not None:
        return uri, error
    flat_metrics = {f"{s}_{k}": v for s, m in metrics.items() for k, v in m.items() if k != "rows"}
    flat_metrics["best_iteration"] = best_iteration
    run_params = {**{f"lgb.{k}": v for k, v in params.items()},
                  "num_boost_round": num_boost_round, "early_stopping_rounds": early_stopping_rounds,
                  "feature_set": fs.name, "label": build["label"]["definition"], "task": task,
                  "event_time": build["event_time"]["column"], "train_end": build["split"].get("train_end"),
                  "valid_end": build["split"].get("valid_end"), "rows_train": build["rows"]["train"],
                  "rows_valid": build["rows"]["valid"], "rows_test": build["rows"]["test"],
                  "features": len(build["feature_columns"]), "bundle_dir": str(job.bundle_dir.resolve())}
    try:
        tracker.log(params=run_params, metrics=flat_metrics, artifacts={"": tmp / STATS_FILE, "bundle": tmp})
        version = tracker.log_model(tmp, register_as=register_as)
        manifest["tracking"].update(model_uri=f"runs:/{tracker.run_id}/model",
                                    registered_model=register_as, registered_version=version)
        _write_manifest(tmp, manifest, key)
        tracker.end("FINISHED")
    except TrackingError as exc:
        error = str(exc)
        manifest["tracking"].update(status="failed", error=error)
        _write_manifest(tmp, manifest, key)
        try:
            tracker.end("FAILED")
        except TrackingError:
            pass
    return uri, error


def _golden_rows(build_dir: Path, build: Mapping[str, Any], transformer: "CompiledFeatureSet", inputs: ModelInputs,
                 booster: Any, fs: "FeatureSet") -> dict[str, Any]:
    """Golden inputs of the build with their batch features (polars pipeline) and scores (saved model)."""
    import polars as pl

    raw = pl.read_parquet(build_dir / build["golden_inputs"])
    feats = transformer.transform(raw.lazy()).collect()
    scores = booster.predict(inputs.encode_frame(feats))
    in_types = {k: fs.inputs[k].dtype for k in raw.columns}
    out_types = {k: f.dtype for k, f in transformer.output_schema().items()}
    rows = []
    for r_in, r_out, s in zip(raw.iter_rows(named=True), feats.iter_rows(named=True), scores):
        rows.append({
            "inputs": {k: encode_value(v, in_types[k]) for k, v in r_in.items()},
            "features": {k: encode_value(v, out_types[k]) for k, v in r_out.items()},
            "score": [encode_float(float(v)) for v in s] if s.ndim else encode_float(float(s)),
        })
    return {
        "about": "inputs with their batch-computed (polars) features and the saved model's scores; serving must "
                 "reproduce both exactly (floats bitwise)",
        "input_dtypes": {k: d.to_json() for k, d in in_types.items()},
        "feature_dtypes": {k: d.to_json() for k, d in out_types.items()},
        "rows": rows,
    }

