"""Fitted feature sets as verified JSON artifacts (no pickle; loading never imports polars).

>>> from skewless.artifact import save, load            # doctest: +SKIP
>>> save(fitted, "flights_fitted.json")                   # doctest: +SKIP
>>> fitted = load("flights_fitted.json", flights_fitted)  # doctest: +SKIP

An artifact is one JSON document::

    {"manifest": {"format": "skewless.fitted-feature-set", "format_version": 1,
                  "feature_set": ..., "definition_fingerprint": ..., "feature_fingerprints": {...},
                  "lowered_fingerprint": ..., "state_fingerprint": ...,
                  "skewless_version": ..., "polars_version": ..., "tzdata_version": ..., "python_version": ...,
                  "created_at": ..., "label": ..., "training_rows": ..., "labelled_rows": ...,
                  "input_schema": {...}, "output_schema": {...}, "python_source": "..."},
     "state": {"<node key>": {"op": "Standardize", "count": ..., "mean": ..., "std": ..., "expr": ...}, ...}}

Non-finite floats are written ``{"float": "nan"}`` / ``"inf"`` / ``"-inf"`` (bare
``NaN`` is not JSON). :func:`load` takes the feature set *as defined in code now*
and refuses, saying what differs, when:

* the file is not valid JSON (truncated, corrupt) or not an artifact;
* the format version is unknown;
* a value has the wrong type or a field is missing or unexpected (pydantic v2,
  strict);
* the state does not hash to the manifest's ``state_fingerprint`` (edited or
  damaged after it was written);
* the definition in code differs from the one that was fitted: the changed,
  added and removed features (and inputs) are named;
* the state does not fit the definition (a category of the wrong type, a
  missing entry), or lowering it gives a different plain feature set than at
  fit time (skewless changed how it lowers fitted ops: refit), or the
  per-request source generated now differs from the reviewed one in the
  manifest (``check_source=False`` accepts that).

Safety: the state is data only. It is re-lowered by the code of this process;
strings from the artifact reach the generated per-request source only as
``repr`` literals or as constants in the function's globals (see
:mod:`skewless.backends.python.codegen`), and the stored ``python_source`` is
for review only, never executed. The fingerprints detect damage, not malice:
protect artifacts with file permissions or signatures like any other model file.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Mapping, Union

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError

from .errors import SkewlessError

if TYPE_CHECKING:  # pragma: no cover
    from .feature_set import FeatureSet
    from .fitting import FittedFeatureSet

__all__ = ["save", "load", "ArtifactError", "FORMAT", "FORMAT_VERSION", "state_fingerprint", "to_document"]

FORMAT = "skewless.fitted-feature-set"
FORMAT_VERSION = 1


class ArtifactError(SkewlessError, ValueError):
    """An artifact cannot be loaded; the message says what differs.

    ``changed``, ``added`` and ``removed`` name the features that differ from
    the definitions in code (empty unless that is the reason).
    """

    def __init__(self, message: str, *, changed: list[str] | None = None, added: list[str] | None = None,
                 removed: list[str] | None = None):
        super().__init__(message)
        self.changed = changed or []
        self.added = added or []
        self.removed = removed or []


# --------------------------------------------------------------------------- JSON encoding of values

_SPECIAL = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def encode(value: Any) -> Any:
    """JSON-able form of state: non-finite floats tagged, tuples as lists, dict keys kept."""
    if isinstance(value, float) and not math.isfinite(value):
        return {"float": "nan" if value != value else ("inf" if value > 0 else "-inf")}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    return value


def decode(value: Any) -> Any:
    """Inverse of :func:`encode` (an unknown tag is left alone and fails validation)."""
    if isinstance(value, dict):
        if len(value) == 1 and "float" in value and value["float"] in _SPECIAL:
            return _SPECIAL[value["float"]]
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def _canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode()


def state_fingerprint(state: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of the (encoded) state."""
    return hashlib.sha256(_canonical(encode(dict(state)))).hexdigest()


# --------------------------------------------------------------------------- pydantic models

_STRICT = ConfigDict(strict=True, extra="forbid", frozen=True)
Count = Annotated[int, Field(ge=0)]
OptFloat = Union[float, None]
Category = Union[StrictBool, StrictInt, StrictStr]


class _State(BaseModel):
    model_config = _STRICT
    expr: str


class StandardizeState(_State):
    op: Literal["Standardize"]
    count: Count
    mean: OptFloat
    std: OptFloat


class MinMaxScaleState(_State):
    op: Literal["MinMaxScale"]
    count: Count
    min: OptFloat
    max: OptFloat


class RobustScaleState(_State):
    op: Literal["RobustScale"]
    count: Count
    median: OptFloat
    q_low_value: OptFloat
    q_high_value: OptFloat


class WinsorizeState(_State):
    op: Literal["Winsorize"]
    count: Count
    lower_value: OptFloat
    upper_value: OptFloat


class ImputeState(_State):
    op: Literal["Impute"]
    count: Count | None = None
    value: Union[StrictBool, StrictInt, float, StrictStr]


class _VocabularyState(_State):
    rows: Count
    null_count: Count
    vocabulary: list[Category]
    counts: list[Count]


class OrdinalEncodeState(_VocabularyState):
    op: Literal["OrdinalEncode"]


class OneHotState(_VocabularyState):
    op: Literal["OneHot"]


class FrequencyEncodeState(_State):
    op: Literal["FrequencyEncode"]
    rows: Count
    null_count: Count
    keys: list[Category]
    counts: list[Count]


class TargetEncodeState(_State):
    op: Literal["TargetEncode"]
    labelled_rows: Count
    label_sum: float
    keys: list[Category]
    counts: list[Count]
    sums: list[float]
    null_count: Count
    null_sum: float


class QuantileBucketizeState(_State):
    op: Literal["QuantileBucketize"]
    count: Count
    quantiles: list[float]
    edges: list[float]


class UniformBucketizeState(_State):
    op: Literal["UniformBucketize"]
    count: Count
    min: OptFloat
    max: OptFloat
    edges: list[float]


NodeState = Annotated[
    Union[StandardizeState, MinMaxScaleState, RobustScaleState, WinsorizeState, ImputeState, OrdinalEncodeState,
          OneHotState, FrequencyEncodeState, TargetEncodeState, QuantileBucketizeState, UniformBucketizeState],
    Field(discriminator="op"),
]


class FieldModel(BaseModel):
    model_config = _STRICT
    dtype: dict[str, Union[StrictStr, None]]
    nullable: StrictBool


class Manifest(BaseModel):
    model_config = _STRICT
    format: Literal["skewless.fitted-feature-set"]
    format_version: Literal[1]
    feature_set: StrictStr
    definition_fingerprint: StrictStr
    feature_fingerprints: dict[str, StrictStr]
    lowered_fingerprint: StrictStr
    state_fingerprint: StrictStr
    skewless_version: StrictStr
    polars_version: Union[StrictStr, None]
    tzdata_version: Union[StrictStr, None]
    python_version: StrictStr
    created_at: StrictStr
    label: Union[StrictStr, None]
    training_rows: Union[Count, None]
    labelled_rows: Union[Count, None]
    input_schema: dict[str, FieldModel]
    output_schema: dict[str, FieldModel]
    python_source: StrictStr


class Artifact(BaseModel):
    model_config = _STRICT
    manifest: Manifest
    state: dict[str, NodeState]


# --------------------------------------------------------------------------- writing


def _versions() -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    from . import __version__

    try:
        tz = version("tzdata")
    except PackageNotFoundError:  # pragma: no cover
        tz = None
    return {"skewless_version": __version__, "tzdata_version": tz,
            "python_version": ".".join(map(str, sys.version_info[:3]))}


def _schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    return {k: {"dtype": f.dtype.to_json(), "nullable": f.nullable} for k, f in schema.items()}


def to_document(fitted: "FittedFeatureSet") -> dict[str, Any]:
    """The artifact as a JSON-able dict."""
    fs = fitted.definition
    state = encode(fitted.state)
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "feature_set": fs.name,
        "definition_fingerprint": fs.fingerprint,
        "feature_fingerprints": fs.feature_fingerprints(),
        "lowered_fingerprint": fitted.lowered.fingerprint,
        "state_fingerprint": hashlib.sha256(_canonical(state)).hexdigest(),
        **_versions(),
        "polars_version": fitted.meta.get("polars_version"),
        "created_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "label": fitted.meta.get("label"),
        "training_rows": fitted.meta.get("training_rows"),
        "labelled_rows": fitted.meta.get("labelled_rows"),
        "input_schema": _schema(fs.input_schema()),
        "output_schema": _schema(fitted.output_schema()),
        "python_source": fitted.python_source(),
    }
    return {"manifest": manifest, "state": state}


def save(fitted: "FittedFeatureSet", path: str | os.PathLike[str]) -> Path:
    """Write ``fitted`` to ``path`` atomically (a temporary file in the same directory, then ``os.replace``).

    A file already at ``path`` keeps its permission bits; a new one gets ``0o644``.
    """
    path = Path(path)
    text = json.dumps(to_document(fitted), indent=1, ensure_ascii=False, allow_nan=False, sort_keys=False) + "\n"
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:  # pragma: no cover
            pass
        raise
    return path


# --------------------------------------------------------------------------- loading


def _refuse_constant(token: str) -> Any:
    raise ValueError(f"non-standard JSON constant {token}")


def _errors(exc: ValidationError, limit: int = 5) -> str:
    parts = []
    for err in exc.errors()[:limit]:
        where = ".".join(str(p) for p in err["loc"])
        parts.append(f"{where}: {err['msg']}")
    more = exc.error_count() - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def _definition_diff(fs: "FeatureSet", manifest: Manifest) -> ArtifactError:
    old, new = manifest.feature_fingerprints, fs.feature_fingerprints()
    changed = [k for k in new if k in old and old[k] != new[k]]
    added = [k for k in new if k not in old]
    removed = [k for k in old if k not in new]
    parts = []
    if changed:
        parts.append(f"changed features: {', '.join(changed)}")
    if added:
        parts.append(f"added features: {', '.join(added)}")
    if removed:
        parts.append(f"removed features: {', '.join(removed)}")
    old_inputs = {k: (f.dtype, f.nullable) for k, f in manifest.input_schema.items()}
    new_inputs = {k: (f.dtype.to_json(), f.nullable) for k, f in fs.input_schema().items()}
    if old_inputs != new_inputs:
        diff = sorted(k for k in set(old_inputs) | set(new_inputs) if old_inputs.get(k) != new_inputs.get(k))
        parts.append(f"changed inputs: {', '.join(diff)}")
    if fs.name != manifest.feature_set:
        parts.append(f"renamed from {manifest.feature_set!r} to {fs.name!r}")
    if not parts:
        parts.append("the feature order differs")
    return ArtifactError(
        f"the artifact was fitted for a different definition of feature set {fs.name!r} ({'; '.join(parts)});"
        " refit it on the training data",
        changed=changed, added=added, removed=removed,
    )


def load(path: str | os.PathLike[str], fs: "FeatureSet", *, check_source: bool = True,
         data: bytes | None = None) -> "FittedFeatureSet":
    """Load and verify an artifact against the feature set ``fs`` as defined in code now.

    ``data``: the artifact's bytes, already read (and verified) by the caller; ``path`` then only
    names it in messages.

    With ``check_source`` (the default) the per-request source generated now
    must equal the reviewed one stored in the manifest (it is regenerated, never
    read from the file); pass False to accept a skewless whose code generator
    changed while the lowered definition (``lowered_fingerprint``) did not.

    Raises
    ------
    ArtifactError
        Naming what differs (see the module docstring). Never executes
        anything from the file; never imports polars.
    """
    from .errors import DefinitionError, ExprTypeError
    from .fitting import FitError, FittedFeatureSet, fitted_nodes, node_key

    path = Path(path)
    try:
        raw = path.read_bytes() if data is None else data
    except OSError as exc:
        raise ArtifactError(f"cannot read artifact {str(path)!r}: {exc.strerror or exc}") from None
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except UnicodeDecodeError as exc:
        raise ArtifactError(f"artifact {str(path)!r} is not UTF-8 text (corrupt?): {exc.reason} at byte {exc.start}") from None
    except json.JSONDecodeError as exc:
        raise ArtifactError(
            f"artifact {str(path)!r} is not valid JSON (truncated or corrupt): {exc.msg} at line {exc.lineno}"
            f" column {exc.colno}"
        ) from None
    except ValueError as exc:
        raise ArtifactError(f"artifact {str(path)!r} is not valid JSON: {exc}") from None
    manifest = data.get("manifest") if isinstance(data, dict) else None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArtifactError(f"{str(path)!r} is not a skewless fitted feature set artifact (no {FORMAT!r} manifest)")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION or type(version) is not int:
        raise ArtifactError(f"unknown artifact format version {version!r}: this skewless reads version {FORMAT_VERSION}")
    raw_state = data.get("state")
    try:
        artifact = Artifact.model_validate({**data, "state": decode(raw_state) if isinstance(raw_state, dict) else raw_state})
    except ValidationError as exc:
        raise ArtifactError(f"artifact {str(path)!r} has wrong or missing values: {_errors(exc)}") from None
    m = artifact.manifest
    digest = hashlib.sha256(_canonical(raw_state)).hexdigest()
    if digest != m.state_fingerprint:
        raise ArtifactError(
            f"artifact {str(path)!r}: the state does not match its fingerprint (manifest {m.state_fingerprint[:16]}...,"
            f" content {digest[:16]}...): it was changed or damaged after it was written"
        )
    if fs.fingerprint != m.definition_fingerprint:
        raise _definition_diff(fs, m)
    state = {k: s.model_dump(exclude_unset=True) for k, s in artifact.state.items()}
    expected = {node_key(n) for n in fitted_nodes(fs)}
    if set(state) != expected:
        raise ArtifactError(
            f"artifact {str(path)!r}: the state has entries {sorted(set(state) - expected)} that match no fitted op"
            f" and lacks {sorted(expected - set(state))}"
        )
    meta = {"label": m.label, "training_rows": m.training_rows, "labelled_rows": m.labelled_rows,
            "polars_version": m.polars_version, "skewless_version": m.skewless_version, "created_at": m.created_at}
    try:
        fitted = FittedFeatureSet(fs, state, meta)
    except (FitError, DefinitionError, ExprTypeError) as exc:
        raise ArtifactError(f"artifact {str(path)!r}: the state does not fit the definition: {exc}") from None
    if fitted.lowered.fingerprint != m.lowered_fingerprint:
        raise ArtifactError(
            f"artifact {str(path)!r}: this skewless lowers the state to a different feature set than skewless"
            f" {m.skewless_version} did when it was written; refit it"
        )
    if check_source and fitted.python_source() != m.python_source:
        raise ArtifactError(
            f"artifact {str(path)!r}: the per-request source generated now differs from the reviewed one stored in"
            f" the artifact (skewless {m.skewless_version} wrote it); review the new source and refit, or load with"
            " check_source=False"
        )
    return fitted
