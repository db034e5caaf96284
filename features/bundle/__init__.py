"""The bundle format, shared by training (which writes bundles) and serving (which loads them).

A bundle is a directory; ``manifest.json`` lists every other file with its SHA-256::

    manifest.json      strict pydantic model (:mod:`.manifest`): files and hashes, fingerprints, model
                       inputs (feature name, name inside the model, encoding), threshold, golden-row
                       coverage, metrics, provenance, the check ``train`` ran
    signature.json     optional HMAC-SHA256 of manifest.json's bytes (:mod:`.seal`)
    model.txt          LightGBM model, native text format (no pickle)
    feature_set.json   the feature set's serialized definition (IR, entity lookups included), which serving rebuilds
    fitted.json        the fitted state (skewless.artifact format) when anything is fitted
    golden_rows.json   input rows with their batch-computed features and model scores (the inputs include the
                       looked-up columns the batch join gave)
    golden_state.json  with lookups: the entity-table rows the golden rows read (the self-check replays the
                       golden requests through a private store holding only these)
    stats.json         statistics of the data the model was trained on (copied from the build)

The embedded online store's file ``state.db`` (and its ``-wal``/``-shm``) may sit in the directory too:
mutable state, never sealed (the service's default store; ``skewless materialize`` writes it).

Values are written with one codec (:mod:`.codec`), also used by HTTP responses and the feature log.
This package imports neither polars nor anything from ``skewless.training`` or ``skewless.serving``.
"""

from .codec import decode_value, encode_value, same_value
from .encoding import ColumnEncoding, ModelInputs
from .loader import (FEATURE_SET_FILE, FITTED_FILE, GOLDEN_FILE, MANIFEST_FILE, MODEL_FILE, STATS_FILE, Bundle,
                     BundleError, check_definition, feature_diff, golden_coverage, load_bundle, read_manifest)
from .manifest import FORMAT, FORMAT_VERSION, MIN_GOLDEN_ROWS, BundleManifest, BuildRecord
from .seal import SIGNATURE_FILE

__all__ = ["Bundle", "BundleError", "load_bundle", "read_manifest", "check_definition", "feature_diff",
           "golden_coverage", "encode_value", "decode_value", "same_value", "ModelInputs", "ColumnEncoding",
           "BundleManifest", "BuildRecord", "FORMAT", "FORMAT_VERSION", "MIN_GOLDEN_ROWS", "MANIFEST_FILE",
           "MODEL_FILE", "GOLDEN_FILE", "FEATURE_SET_FILE", "FITTED_FILE", "STATS_FILE", "SIGNATURE_FILE"]
