"""The bundle's and the build's records as strict pydantic models, validated whenever they are read.

Strict means: known keys only (``extra="forbid"`` at every level whose keys this project defines),
exact types (a string is not a number), bounded sizes (strings, lists and maps have maximum
lengths; the files themselves are size-checked before they are parsed) and the values that
matter checked for what they mean: a decision threshold is a finite float in (0, 1), file hashes
are 64 hex digits, a model input's name is one LightGBM never rewrites. Provenance sections
(``data.source``, ``split``, ``git``, ``versions``, ``tracking``, metrics, LightGBM parameters)
are plain JSON values: they are recorded for people, never acted upon.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal, Optional, Union

from pydantic import (AfterValidator, model_validator, BaseModel, ConfigDict, Field, JsonValue, StrictBool, StrictFloat, StrictInt,
                      StrictStr)

__all__ = ["BundleManifest", "FileEntry", "FeatureSetInfo", "ModelInfo", "ModelInput", "GoldenInfo",
           "GoldenFile", "DefinitionFile", "BuildRecord", "FORMAT", "FORMAT_VERSION", "BUILD_FORMAT",
           "BUILD_FORMAT_VERSION", "MODEL_INPUT_NAME", "MAX_MANIFEST_BYTES", "MIN_GOLDEN_ROWS"]

FORMAT = "skewless.bundle"
#: 2: sealed (every file hashed in the manifest), definition carried in the bundle, model input names.
FORMAT_VERSION = 2
BUILD_FORMAT = "skewless.build"
BUILD_FORMAT_VERSION = 1

#: Largest manifest.json / build.json read (bytes; vocabularies of categorical inputs live in it).
MAX_MANIFEST_BYTES = 32 * 2 ** 20
#: Fewest golden rows a bundle may carry (the self-check must exercise the model, not one row).
MIN_GOLDEN_ROWS = 16
#: Model input names given to LightGBM: it rewrites spaces, commas, quotes, ... in feature names,
#: never these (the mapping to feature names is in the manifest).
MODEL_INPUT_NAME = r"^f[0-9]{4,6}$"

Name = Annotated[StrictStr, Field(min_length=1, max_length=512)]
Text = Annotated[StrictStr, Field(max_length=4096)]
Hex64 = Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{64}$")]
Fingerprint = Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{16,64}$")]
FileName = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class FileEntry(_Strict):
    """One file of the bundle: its SHA-256 and size (checked before the file is parsed)."""

    sha256: Hex64
    bytes: Annotated[StrictInt, Field(ge=0, le=2 ** 40)]


def _threshold(v: Optional[float]) -> Optional[float]:
    if v is not None and not (math.isfinite(v) and 0.0 < v < 1.0):
        raise ValueError("the decision threshold must be a finite number strictly between 0 and 1")
    return v


class ModelInput(_Strict):
    """One model input column: the feature it encodes, how, and its name inside the model."""

    name: Name
    model_name: Annotated[StrictStr, Field(pattern=MODEL_INPUT_NAME)]
    kind: Literal["number", "bool", "category", "datetime", "date", "duration"]
    categories: Annotated[list[Annotated[StrictStr, Field(max_length=4096)]], Field(max_length=1_000_000)] = []


class ModelInfo(_Strict):
    file: FileName
    format: Literal["lightgbm text"]
    task: Literal["binary", "regression", "multiclass"]
    #: multiclass: the class names, sorted; class i is the model's output i (None for binary/regression)
    classes: Optional[Annotated[list[Annotated[StrictStr, Field(max_length=4096)]], Field(min_length=2, max_length=10_000)]] = None
    decision_threshold: Annotated[Optional[StrictFloat], AfterValidator(_threshold)]
    score: Text
    best_iteration: Annotated[StrictInt, Field(ge=0, le=10 ** 7)]
    num_trees: Annotated[StrictInt, Field(ge=1, le=10 ** 7)]
    params: Annotated[dict[Name, JsonValue], Field(max_length=500)]
    inputs: Annotated[list[ModelInput], Field(min_length=1, max_length=100_000)]

    @model_validator(mode="after")
    def _classes_for_multiclass(self) -> "ModelInfo":
        if (self.task == "multiclass") != (self.classes is not None):
            raise ValueError("a multiclass model records its classes, other tasks none")
        if self.classes is not None and self.classes != sorted(set(self.classes)):
            raise ValueError("the classes must be distinct and sorted")
        return self


class FeatureSetInfo(_Strict):
    name: Name
    spec: Optional[Text] = Field(None, description="where the definition lived when trained (provenance only: "
                                                   "never imported when the bundle is loaded)")
    fingerprint: Fingerprint
    feature_fingerprints: Annotated[dict[Name, Fingerprint], Field(min_length=1, max_length=100_000)]
    fitted: StrictBool
    state_fingerprint: Optional[Hex64]
    definition_file: FileName
    fitted_file: Optional[FileName]
    #: The file the features are computed from: ``fitted_file`` when fitted, else ``definition_file``.
    file: FileName


class GoldenCoverage(_Strict):
    """What the golden rows exercise: inputs that are null in some row, known categories per categorical input."""

    null_inputs: Annotated[list[Name], Field(max_length=100_000)]
    categories: Annotated[dict[Name, Annotated[StrictInt, Field(ge=0)]], Field(max_length=100_000)]


class GoldenInfo(_Strict):
    file: FileName
    #: At least ``min(MIN_GOLDEN_ROWS, available)`` (checked at load).
    rows: Annotated[StrictInt, Field(ge=1, le=100_000)]
    #: Test-period rows the golden rows were drawn from.
    available: Annotated[StrictInt, Field(ge=1)]
    coverage: GoldenCoverage
    #: The entity-table rows the golden rows' lookups read (feature sets with lookups; see skewless.state.golden).
    state_file: Optional[FileName] = None
    #: The events the golden rows' windows read (feature sets with windows; see skewless.windows.golden).
    events_file: Optional[FileName] = None


class CheckInfo(_Strict):
    """What ``train`` verified before it reported the bundle written (the load and self-check of ``serve``)."""

    self_check: Literal["passed"]
    golden_rows: StrictInt
    checked_at: Text


class BundleManifest(_Strict):
    """``manifest.json``: everything a bundle is, and the SHA-256 of every other file in it."""

    format: Literal["skewless.bundle"]
    format_version: Literal[2]
    bundle_id: Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{32}$")]
    created_at: Text
    files: Annotated[dict[FileName, FileEntry], Field(min_length=1, max_length=64)]
    feature_set: FeatureSetInfo
    model: ModelInfo
    golden: GoldenInfo
    check: CheckInfo
    stats: Optional[FileName] = None
    metrics: Annotated[dict[Name, JsonValue], Field(max_length=64)] = {}
    data: Annotated[dict[Name, JsonValue], Field(max_length=64)] = {}
    git: Optional[dict[Name, JsonValue]] = None
    build_git: Optional[dict[Name, JsonValue]] = None
    versions: Annotated[dict[Name, Optional[Text]], Field(max_length=64)] = {}
    tracking: Annotated[dict[Name, JsonValue], Field(max_length=64)] = {}


class _Field(_Strict):
    dtype: dict[Name, JsonValue]
    nullable: StrictBool


class DefinitionFile(_Strict):
    """``feature_set.json``: the feature set's own serialized definition, which serving rebuilds."""

    name: Name
    spec: Optional[Text] = None
    fingerprint: Fingerprint
    feature_fingerprints: dict[Name, Fingerprint]
    input_schema: dict[Name, _Field]
    output_schema: dict[Name, _Field]
    definition: dict[Name, JsonValue]


class GoldenRow(_Strict):
    inputs: dict[Name, JsonValue]
    features: dict[Name, JsonValue]
    #: one float (binary, regression) or one per class (multiclass)
    score: Union[StrictFloat, dict[Literal["float"], Literal["nan", "inf", "-inf"]],
                 Annotated[list[Union[StrictFloat, dict[Literal["float"], Literal["nan", "inf", "-inf"]]]],
                           Field(min_length=2, max_length=10_000)]]


class GoldenFile(_Strict):
    about: Text
    input_dtypes: dict[Name, dict[Name, JsonValue]]
    feature_dtypes: dict[Name, dict[Name, JsonValue]]
    rows: Annotated[list[GoldenRow], Field(max_length=100_000)]


class GoldenState(_Strict):
    """``golden_state.json``: per entity table, the rows the golden rows' lookups read (bundle codec values)."""

    about: Text
    tables: Annotated[dict[Name, Annotated[list[dict[Name, JsonValue]], Field(max_length=1_000_000)]],
                      Field(max_length=64)]


class GoldenEvents(_Strict):
    """``golden_events.json``: per event source, the events the golden rows' windows read, column by column
    (bundle codec values)."""

    about: Text
    sources: Annotated[dict[Name, Annotated[dict[Name, Annotated[list[JsonValue], Field(max_length=10_000_000)]],
                                            Field(max_length=10_000)]], Field(max_length=64)]


class BuildFeatureSet(_Strict):
    name: Name
    spec: Optional[Text]
    fingerprint: Fingerprint
    feature_fingerprints: dict[Name, Fingerprint]
    fitted: StrictBool
    state_fingerprint: Optional[Hex64]


class BuildRecord(_Strict):
    """``build.json``: what a feature build was made from and where its files are."""

    format: Literal["skewless.build"]
    format_version: Literal[1]
    created_at: Text
    feature_set: BuildFeatureSet
    source: dict[Name, JsonValue]
    event_time: dict[Name, JsonValue]
    label: dict[Name, JsonValue]
    split: dict[Name, JsonValue]
    rows: dict[Name, StrictInt]
    columns: dict[Name, Text]
    feature_columns: list[Name]
    files: dict[Literal["train", "valid", "test"], list[Annotated[StrictStr, Field(max_length=1024)]]]
    fitted_artifact: Optional[FileName]
    golden_inputs: FileName
    stats: FileName
    data_hash: Hex64
    versions: dict[Name, Optional[Text]]
    git: Optional[dict[Name, JsonValue]]
    timings_seconds: dict[Name, JsonValue] = {}
    #: The entity tables the lookups were joined from (name -> kind, rows, files and their hash).
    entity_tables: dict[Name, JsonValue] = {}
    #: ``golden_state.json`` (feature sets with lookups): the rows the golden inputs' lookups read.
    golden_state: Optional[FileName] = None
    #: The event sources the windows were computed from (name -> kind, rows, files and their hash).
    event_sources: dict[Name, JsonValue] = {}
    #: ``golden_events.json`` (feature sets with windows): the events the golden inputs' windows read.
    golden_events: Optional[FileName] = None
    #: The engine of a build not made by the single-process polars engine (``{"name": "ray", ...}``).
    engine: dict[Name, JsonValue] = {}
