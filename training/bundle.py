"""The model bundle, as training sees it: the format itself lives in :mod:`skewless.bundle`.

Kept so that ``skewless.training.bundle.load_bundle`` and friends still import; serving imports
:mod:`skewless.bundle` directly (never this module). :func:`load_feature_set_for` is training's
own: a *build* names the module its feature set is defined in, and training (which runs the
user's code by nature) imports it from there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from skewless.bundle import (FEATURE_SET_FILE, FITTED_FILE, FORMAT, FORMAT_VERSION, GOLDEN_FILE, MANIFEST_FILE,
                             MODEL_FILE, STATS_FILE, Bundle, BundleError, check_definition, decode_value,
                             encode_value, load_bundle, read_manifest, same_value)

if TYPE_CHECKING:  # pragma: no cover
    from skewless.compiled import CompiledFeatureSet
    from skewless.feature_set import FeatureSet

__all__ = ["Bundle", "BundleError", "load_bundle", "read_manifest", "encode_value", "decode_value", "same_value",
           "load_feature_set_for", "MANIFEST_FILE", "MODEL_FILE", "GOLDEN_FILE", "FEATURE_SET_FILE", "FITTED_FILE",
           "STATS_FILE", "FORMAT", "FORMAT_VERSION"]


def load_feature_set_for(manifest: Mapping[str, Any], feature_set: "CompiledFeatureSet | None" = None, *,
                         where: str) -> "FeatureSet":
    """The feature set a build names (imported from its spec unless given), checked against its fingerprints."""
    from skewless.io import load_feature_set

    info = manifest["feature_set"]
    if feature_set is None:
        spec = info.get("spec")
        if not spec:
            raise BundleError(f"{where} does not say where feature set {info['name']!r} is defined; pass it "
                              f"explicitly (feature_set=...)")
        feature_set = load_feature_set(spec)
    fs = feature_set.definition
    check_definition(fs, info, where)
    return fs
