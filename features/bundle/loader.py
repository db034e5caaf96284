"""Loading a sealed bundle, in the order that keeps every parser behind a check.

1. ``manifest.json``: size-bounded, then (when a key is set) its HMAC signature, then the strict
   pydantic model (:class:`~skewless.bundle.manifest.BundleManifest`);
2. every other file: the directory must hold exactly the files the manifest lists, each with its
   size and SHA-256 — checked on the bytes that are then used (no second read), before any of
   them is parsed;
3. the feature set, rebuilt from its own serialized definition (never imported from a module the
   bundle names) and checked against the manifest's fingerprints, feature by feature;
4. the fitted state (:func:`skewless.artifact.load`), the golden rows (minimum count, coverage
   as recorded) and the model inputs. LightGBM parses ``model.txt`` only when the booster is
   first asked for, from the verified bytes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Collection, Mapping

from pydantic import ValidationError

from skewless.errors import SkewlessError

from .codec import CodecError, decode_float, decode_value, same_value
from .encoding import ModelInputs
from .manifest import (MAX_MANIFEST_BYTES, MIN_GOLDEN_ROWS, BundleManifest, DefinitionFile, GoldenFile, GoldenState)
from .seal import SIGNATURE_FILE, SealError, check_file, verify_signature

if TYPE_CHECKING:  # pragma: no cover
    from skewless.compiled import CompiledFeatureSet, State
    from skewless.feature_set import FeatureSet

__all__ = ["Bundle", "BundleError", "load_bundle", "read_manifest", "feature_diff", "golden_coverage",
           "MANIFEST_FILE", "MODEL_FILE", "GOLDEN_FILE", "FEATURE_SET_FILE", "FITTED_FILE", "STATS_FILE"]

MANIFEST_FILE = "manifest.json"
MODEL_FILE = "model.txt"
GOLDEN_FILE = "golden_rows.json"
FEATURE_SET_FILE = "feature_set.json"
FITTED_FILE = "fitted.json"
STATS_FILE = "stats.json"
GOLDEN_STATE_FILE = "golden_state.json"
#: The embedded online store's file in the bundle directory (the service's default store; see
#: skewless.serving.settings): mutable entity state, written after the bundle, so never sealed.
STORE_FILE = "state.db"
#: Files that are not listed in the manifest (the manifest itself, the signature of its bytes, and the
#: embedded store with SQLite's write-ahead log and shared-memory files).
UNLISTED = frozenset({MANIFEST_FILE, SIGNATURE_FILE, STORE_FILE, STORE_FILE + "-wal", STORE_FILE + "-shm"})


class BundleError(SkewlessError, ValueError):
    """A bundle cannot be loaded or does not match what it says; the message names the file or feature."""

    def __init__(self, message: str, *, changed: list[str] | None = None, added: list[str] | None = None,
                 removed: list[str] | None = None):
        super().__init__(message)
        self.changed, self.added, self.removed = changed or [], added or [], removed or []


def _pydantic_errors(exc: ValidationError, limit: int = 5) -> str:
    errors = exc.errors(include_url=False, include_input=False)
    parts = [f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in errors[:limit]]
    more = f" (and {len(errors) - limit} more)" if len(errors) > limit else ""
    return "; ".join(parts) + more


def _read_bounded(file: Path, limit: int) -> bytes:
    size = file.stat().st_size
    if size > limit:
        raise BundleError(f"{file.name} is {size:,} bytes, over the limit of {limit:,}")
    return file.read_bytes()


def read_manifest(path: str | Path, *, key: str | bytes | None = None) -> dict[str, Any]:
    """The validated ``manifest.json`` of a complete bundle, as a dict (raises naming the path otherwise)."""
    return _manifest(Path(path), key)[0].model_dump(mode="json")


def _manifest(path: Path, key: str | bytes | None) -> tuple[BundleManifest, bytes]:
    if not path.is_dir():
        raise BundleError(f"no bundle at {str(path)!r} (directory not found)")
    file = path / MANIFEST_FILE
    if not file.is_file():
        raise BundleError(f"{str(path)!r} is not a complete skewless bundle (no {MANIFEST_FILE})")
    try:
        data = _read_bounded(file, MAX_MANIFEST_BYTES)
    except OSError as exc:
        raise BundleError(f"cannot read {str(file)!r}: {exc}") from None
    if key:
        try:
            verify_signature(path, data, key)
        except SealError as exc:
            raise BundleError(f"bundle {str(path)!r}: {exc}") from None
    try:
        manifest = BundleManifest.model_validate_json(data)
    except ValidationError as exc:
        version = _peek_version(data)
        if version is not None and version != 2:
            raise BundleError(f"{str(file)!r} is a skewless bundle of format version {version!r}; this skewless "
                              f"reads version 2 (sealed bundles): train it again") from None
        raise BundleError(f"{str(file)!r} is not a valid bundle manifest: {_pydantic_errors(exc)}") from None
    return manifest, data


def _peek_version(data: bytes) -> Any:
    try:
        doc = json.loads(data)
        return doc.get("format_version") if isinstance(doc, dict) and doc.get("format") == "skewless.bundle" else None
    except (ValueError, RecursionError):
        return None


def _verified_files(path: Path, manifest: BundleManifest) -> dict[str, bytes]:
    """The bytes of every listed file, each checked against its manifest entry (exactly the listed files)."""
    present = {p.name for p in path.iterdir()} - UNLISTED
    listed = set(manifest.files)
    extra, missing = sorted(present - listed), sorted(listed - present)
    if missing:
        raise BundleError(f"bundle {str(path)!r}: {missing[0]} is listed in the manifest but missing")
    if extra:
        raise BundleError(f"bundle {str(path)!r}: {extra[0]} is not listed in the manifest (a sealed bundle holds "
                          f"only its own files)")
    out = {}
    for name in sorted(listed):
        file = path / name
        if not file.is_file() or file.is_symlink():
            raise BundleError(f"bundle {str(path)!r}: {name} is not a regular file")
        entry = manifest.files[name]
        try:
            data = _read_bounded(file, entry.bytes)
            check_file(name, data, entry.model_dump())
        except SealError as exc:
            raise BundleError(f"bundle {str(path)!r}: {exc}") from None
        except BundleError as exc:
            raise BundleError(f"bundle {str(path)!r}: {exc} (the manifest says {entry.bytes:,}): the file was "
                              f"changed after the bundle was written") from None
        out[name] = data
    return out


def feature_diff(old: Mapping[str, str], new: Mapping[str, str]) -> tuple[list[str], list[str], list[str]]:
    """``(changed, added, removed)`` feature names between two ``{feature: fingerprint}`` maps."""
    changed = [k for k in new if k in old and old[k] != new[k]]
    return changed, [k for k in new if k not in old], [k for k in old if k not in new]


def check_definition(fs: "FeatureSet", info: Mapping[str, Any], where: str) -> None:
    """Raise :class:`BundleError`, naming the features that differ, unless ``fs`` is the recorded definition."""
    if fs.fingerprint == info["fingerprint"]:
        return
    changed, added, removed = feature_diff(info.get("feature_fingerprints") or {}, fs.feature_fingerprints())
    detail = "; ".join(p for p in (
        f"changed: {', '.join(changed)}" if changed else "",
        f"added: {', '.join(added)}" if added else "",
        f"removed: {', '.join(removed)}" if removed else "",
    ) if p) or "the inputs or the order of the features differ"
    raise BundleError(f"feature set {fs.name!r} differs from the one {where} was made with "
                      f"(fingerprint {fs.fingerprint} vs {info['fingerprint']}; {detail})",
                      changed=changed, added=added, removed=removed)


def golden_coverage(rows: list[dict[str, Any]], inputs: ModelInputs) -> dict[str, Any]:
    """What decoded golden rows exercise: inputs null in some row; known categories per categorical input."""
    null_inputs = sorted({k for r in rows for k, v in r["inputs"].items() if v is None})
    categories = {}
    for c in inputs.columns:
        if c.kind == "category":
            known = set(c.categories)
            categories[c.name] = len({r["features"].get(c.name) for r in rows} & known)
    return {"null_inputs": null_inputs, "categories": categories}


def decode_golden(doc: GoldenFile) -> list[dict[str, Any]]:
    from skewless.dtypes import dtype_from_json

    in_types = {k: dtype_from_json(v) for k, v in doc.input_dtypes.items()}
    out_types = {k: dtype_from_json(v) for k, v in doc.feature_dtypes.items()}
    rows = []
    for i, r in enumerate(doc.rows):
        try:
            rows.append({
                "inputs": {k: decode_value(v, in_types[k]) for k, v in r.inputs.items()},
                "features": {k: decode_value(v, out_types[k]) for k, v in r.features.items()},
                "score": ([decode_float(v) for v in r.score] if isinstance(r.score, list)
                          else decode_float(r.score)),
            })
        except (CodecError, KeyError) as exc:
            raise BundleError(f"{GOLDEN_FILE}: row {i}: {type(exc).__name__}: {exc}") from None
    return rows


class Bundle:
    """A loaded, verified bundle (no polars needed unless the batch methods are used).

    Attributes
    ----------
    path : Path
    manifest : dict
        The validated manifest (``record`` is the pydantic model).
    transformer : FeatureSet or FittedFeatureSet
        Computes the features (``row_fn`` per request, ``transform`` in batch).
    inputs : ModelInputs
        The model's feature columns, their encoding and their names inside the model.
    """

    def __init__(self, path: Path, record: BundleManifest, transformer: "CompiledFeatureSet", files: Mapping[str, bytes],
                 golden: list[dict[str, Any]], golden_state: "Mapping[str, list[dict[str, Any]]] | None" = None,
                 golden_events: "Mapping[str, list[dict[str, Any]]] | None" = None):
        self.path = path
        self.golden_state = golden_state
        self.golden_events = golden_events
        self.record = record
        self.manifest = record.model_dump(mode="json")
        self.transformer = transformer
        self.inputs = ModelInputs.from_json(self.manifest["model"]["inputs"])
        self._model_text = files[record.model.file].decode("utf-8")
        self._golden = golden
        self._booster = None

    def __repr__(self) -> str:
        return f"<Bundle {str(self.path)!r}: {self.record.feature_set.name} {self.task}>"

    @property
    def task(self) -> str:
        return self.record.model.task

    @property
    def threshold(self) -> float | None:
        return self.record.model.decision_threshold

    @property
    def feature_set(self) -> "FeatureSet":
        """The feature set's definition (rebuilt from the bundle)."""
        return self.transformer.definition

    @property
    def fitted_state(self) -> "State | None":
        return self.transformer.state

    @property
    def model_text(self) -> str:
        """``model.txt`` as verified against the manifest at load."""
        return self._model_text

    @property
    def booster(self) -> Any:
        """The LightGBM booster, parsed on first use from the verified ``model.txt``; inputs checked by name."""
        if self._booster is None:
            import lightgbm as lgb

            booster = lgb.Booster(model_str=self._model_text)
            names = list(booster.feature_name())
            if names != self.inputs.model_names:
                raise BundleError(f"bundle {str(self.path)!r}: model.txt reads the inputs {names[:5]}... but the "
                                  f"manifest maps {self.inputs.model_names[:5]}...")
            self._booster = booster
        return self._booster

    # --- scoring --------------------------------------------------------------------
    @property
    def classes(self) -> list[str] | None:
        """A multiclass model's class names (sorted; score ``i`` is the probability of class ``i``), else None."""
        return self.record.model.classes

    def score_row(self, row: Mapping[str, Any]) -> float | list[float]:
        """Score one request: the generated per-request function, the encoding, then LightGBM.

        A multiclass model's score is the list of class probabilities (in the order of :attr:`classes`).
        """
        import numpy as np

        features = self.transformer.row_fn(row)
        x = np.asarray([self.inputs.encode_row(features)], dtype=np.float64)
        out = self.booster.predict(x)[0]
        return out.tolist() if self.classes is not None else float(out)

    def features_frame(self, data: Any, *, keep: tuple[str, ...] = ()) -> Any:
        """The batch features of ``data`` (the polars pipeline)."""
        return self.transformer.transform(data, keep=keep)

    def score_features(self, features: Any) -> Any:
        """Scores of already computed feature rows."""
        return self.booster.predict(self.inputs.encode_frame(features))

    def score_frame(self, data: Any) -> Any:
        """Scores of raw input rows, in batch."""
        return self.score_features(self.features_frame(data))

    # --- self-check -------------------------------------------------------------------
    def golden_rows(self) -> list[dict[str, Any]]:
        """The golden rows, decoded: ``[{"inputs": {...}, "features": {...}, "score": float}, ...]``."""
        return [dict(r) for r in self._golden]

    def golden_lookups(self) -> list[dict[str, Any]] | None:
        """The golden rows' lookups read on the serving path, from a private store holding the golden state.

        ``None`` without lookups. The golden requests (keys and time only) are replayed in time order into
        a fresh embedded store in a temporary directory (:func:`skewless.state.golden.replay_requests`).
        """
        lookups = self.transformer.lookups
        if lookups is None:
            return None
        import tempfile

        from skewless.state.golden import replay_requests
        from skewless.state.sqlite_store import SQLiteStore

        request = list(self.transformer.request_schema())
        with tempfile.TemporaryDirectory(prefix="skewless-golden-") as tmp:
            store = SQLiteStore(Path(tmp) / "golden.db")
            try:
                return replay_requests(lookups, [{k: g["inputs"][k] for k in request} for g in self._golden],
                                       self.golden_state or {}, store)
            finally:
                store.close()

    def golden_windows(self) -> list[dict[str, Any]] | None:
        """The golden rows' windows computed on the serving path, from a private store fed the golden events.

        ``None`` without windows. The golden events are ingested in time order into a fresh embedded store in
        a temporary directory, each golden request asked once the events before it arrived
        (:func:`skewless.windows.golden.replay_golden`).
        """
        windows = self.transformer.windows
        if windows is None:
            return None
        import tempfile

        from skewless.state.sqlite_store import SQLiteStore
        from skewless.windows.golden import replay_golden

        request = list(self.transformer.request_schema())
        with tempfile.TemporaryDirectory(prefix="skewless-golden-") as tmp:
            store = SQLiteStore(Path(tmp) / "golden.db")
            try:
                return replay_golden(windows, [{k: g["inputs"][k] for k in request} for g in self._golden],
                                     self.golden_events or {}, store)
            finally:
                store.close()

    def self_check(self) -> list[str]:
        """Replay the golden rows per request (lookups, windows, features and ``Booster.predict``); the problems."""
        problems = lookup_problems(self._golden, self.golden_lookups())
        problems += lookup_problems(self._golden, self.golden_windows(), what="window")
        for i, g in enumerate(self._golden):
            got = self.transformer.row_fn(g["inputs"])
            for name, want in g["features"].items():
                if not same_value(got.get(name), want):
                    problems.append(f"golden row {i}: feature {name!r} is {got.get(name)!r}, batch gave {want!r}")
            score = self.score_row(g["inputs"])
            if not same_value(score, g["score"]):
                problems.append(f"golden row {i}: score {score!r}, batch gave {g['score']!r}")
        return problems


def lookup_problems(golden: list[dict[str, Any]], looked: list[dict[str, Any]] | None, *,
                    what: str = "lookup") -> list[str]:
    """Where the lookups (or windows) read on the serving path differ from the inputs the batch recorded."""
    problems = []
    batch = "the batch join" if what == "lookup" else "the batch windows"
    for i, (g, got) in enumerate(zip(golden, looked or ())):
        for name, value in got.items():
            if not same_value(value, g["inputs"].get(name)):
                problems.append(f"golden row {i}: {what} {name!r} read {value!r} from the store, {batch} "
                                f"gave {g['inputs'].get(name)!r}")
    return problems


def load_bundle(path: str | Path, feature_set: "CompiledFeatureSet | None" = None, *,
                key: str | bytes | None = None, udf_modules: "Collection[str] | None" = None) -> Bundle:
    """Load and verify a sealed bundle.

    Parameters
    ----------
    feature_set : optional
        A definition the bundle must have been made with (e.g. the one in code now): refused,
        naming the changed, added and removed features, when it differs. The bundle is always
        served from its own serialized definition.
    key : optional
        The HMAC key: the bundle's ``signature.json`` must verify with it (see :mod:`.seal`).
    udf_modules : optional
        With udfs in the definition: the modules that may be imported for them (the service passes
        ``SKEWLESS_SERVE_UDF_MODULES``; another module is refused before anything is imported). None:
        any. Either way each udf function's source must still have the SHA-256 the bundle records
        (:func:`skewless.bundle.udfs.check_udfs`). Without udfs no module is imported.
    """
    from .definition import DefinitionDataError, definition_from_data

    path = Path(path)
    where = f"bundle {str(path)!r}"
    record, _ = _manifest(path, key)
    files = _verified_files(path, record)
    info = record.feature_set
    for name in [info.definition_file, info.fitted_file, record.model.file, record.golden.file]:
        if name is not None and name not in files:
            raise BundleError(f"{where}: the manifest names {name} but does not list it among its files")
    try:
        definition = DefinitionFile.model_validate_json(files[info.definition_file])
        fs = definition_from_data(definition.definition)
    except ValidationError as exc:
        raise BundleError(f"{where}: {info.definition_file}: {_pydantic_errors(exc)}") from None
    except DefinitionDataError as exc:
        raise BundleError(f"{where}: {info.definition_file}: {exc}") from None
    if fs.name != info.name:
        raise BundleError(f"{where}: {info.definition_file} defines {fs.name!r}, the manifest says {info.name!r}")
    check_definition(fs, info.model_dump(), where + " (its own definition)")
    from .udfs import check_udfs

    check_udfs(fs, udf_modules, where)  # (before anything could compile the features and call a udf)
    if feature_set is not None:
        check_definition(feature_set.definition, info.model_dump(), where)
    transformer = _load_fitted(path, files, info, fs) if info.fitted else fs
    outputs = list(transformer.output_schema())
    inputs = [c.name for c in record.model.inputs]
    if inputs != outputs:
        raise BundleError(f"{where}: the model inputs in the manifest are not the feature set's outputs")
    try:
        golden_doc = GoldenFile.model_validate_json(files[record.golden.file])
    except ValidationError as exc:
        raise BundleError(f"{where}: {record.golden.file}: {_pydantic_errors(exc)}") from None
    golden = decode_golden(golden_doc)
    least = min(MIN_GOLDEN_ROWS, record.golden.available)
    if len(golden) < least or len(golden) != record.golden.rows:
        raise BundleError(f"{where}: {record.golden.file} holds {len(golden)} rows; the manifest says "
                          f"{record.golden.rows} (at least {least})")
    state = _golden_state(where, record, files, transformer, golden)
    events = _golden_events(where, record, files, transformer, golden)
    bundle = Bundle(path, record, transformer, files, golden, state, events)
    coverage = golden_coverage(golden, bundle.inputs)
    if coverage != record.golden.coverage.model_dump():
        raise BundleError(f"{where}: the golden rows do not cover what the manifest records ({coverage} vs "
                          f"{record.golden.coverage.model_dump()})")
    uncovered = [k for k, n in coverage["categories"].items() if n == 0
                 and bundle.inputs.columns[bundle.inputs.names.index(k)].categories]
    if uncovered:
        raise BundleError(f"{where}: no golden row has a known category of {', '.join(uncovered)}")
    return bundle


def _golden_state(where: str, record: BundleManifest, files: Mapping[str, bytes], transformer: "CompiledFeatureSet",
                  golden: list[dict[str, Any]]) -> "dict[str, list[dict[str, Any]]] | None":
    """The golden state of a feature set with lookups (decoded), checked against the golden rows' inputs."""
    lookups = transformer.lookups
    if lookups is None:
        return _golden_history(where, record.golden.state_file, files, golden, None, None, None,
                               absent="the feature set looks nothing up")
    from skewless.state.golden import decode_state

    return _golden_history(
        where, record.golden.state_file, files, golden, lookups.outputs,
        lambda data: decode_state(lookups, GoldenState.model_validate_json(data).model_dump(mode="json")),
        f"the feature set looks up {sorted(lookups.tables)}, but the bundle has no golden state (the rows its golden "
        "rows read)", inputs_noun="looked-up inputs")


def _golden_events(where: str, record: BundleManifest, files: Mapping[str, bytes], transformer: "CompiledFeatureSet",
                   golden: list[dict[str, Any]]) -> "dict[str, list[dict[str, Any]]] | None":
    """The golden events of a feature set with windows (decoded), checked against the golden rows' inputs."""
    windows = transformer.windows
    if windows is None:
        return _golden_history(where, record.golden.events_file, files, golden, None, None, None,
                               absent="the feature set declares no windows")
    from skewless.bundle.manifest import GoldenEvents
    from skewless.windows.golden import decode_events

    return _golden_history(
        where, record.golden.events_file, files, golden, windows.outputs,
        lambda data: decode_events(windows, GoldenEvents.model_validate_json(data).model_dump(mode="json")),
        f"the feature set aggregates the events of {sorted(windows.sources)}, but the bundle has no golden events "
        "(the events its golden rows read)", inputs_noun="window inputs")


def _golden_history(where: str, name: str | None, files: Mapping[str, bytes], golden: list[dict[str, Any]],
                    outputs: Any, decode: Any, missing: str | None, *, absent: str = "",
                    inputs_noun: str = "") -> Any:
    """The decoded golden history file ``name`` (lookups' state or windows' events) of the bundle: refused when
    the feature set declares none but the manifest names one (``outputs`` None, ``absent`` says why), when it is
    missing (``missing``) or undecodable, or when a golden row lacks one of the ``outputs`` among its inputs."""
    if outputs is None:
        if name is not None:
            raise BundleError(f"{where}: the manifest names {name}, but {absent}")
        return None
    if name is None or name not in files:
        raise BundleError(f"{where}: {missing}")
    try:
        history = decode(files[name])
    except ValidationError as exc:
        raise BundleError(f"{where}: {name}: {_pydantic_errors(exc)}") from None
    except (CodecError, KeyError) as exc:
        raise BundleError(f"{where}: {name}: {type(exc).__name__}: {exc}") from None
    wanted = set(outputs)
    for i, g in enumerate(golden):
        if not wanted <= set(g["inputs"]):
            raise BundleError(f"{where}: golden row {i} lacks the {inputs_noun} {sorted(wanted - set(g['inputs']))}")
    return history


def _load_fitted(path: Path, files: Mapping[str, bytes], info: Any, fs: "FeatureSet") -> "CompiledFeatureSet":
    """The fitted feature set from the verified bytes of the fitted artifact."""
    from skewless.artifact import ArtifactError, load

    try:
        transformer = load(path / info.fitted_file, fs, data=files[info.fitted_file])
    except ArtifactError as exc:
        raise BundleError(f"bundle {str(path)!r}: {info.fitted_file}: {exc}") from None
    if info.state_fingerprint and transformer.state_fingerprint != info.state_fingerprint:
        raise BundleError(f"bundle {str(path)!r}: {info.fitted_file} does not match the manifest's state fingerprint")
    return transformer
