"""The udfs of a bundle's feature set, and the check ``skewless serve`` runs before it imports any of them.

A bundle never ships code. Its ``feature_set.json`` (sealed: its SHA-256 is in the manifest, and the
manifest's HMAC covers that when the bundle is signed) records, in each :class:`~skewless.ir.udf.Udf`
node, the function's module, qualified name and the SHA-256 of its source. The service imports a
udf's module only when the operator lists it (``SKEWLESS_SERVE_UDF_MODULES``, comma-separated module
names) and refuses the bundle, naming the function and both hashes, when the function's source
now hashes differently. A bundle without udfs imports no module at all, as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Collection

if TYPE_CHECKING:  # pragma: no cover
    from skewless.feature_set import FeatureSet

__all__ = ["UdfRecord", "udf_records", "check_udfs", "parse_modules", "ENV_VAR"]

#: The service's environment variable listing the modules whose udfs it may import.
ENV_VAR = "SKEWLESS_SERVE_UDF_MODULES"


@dataclass(frozen=True)
class UdfRecord:
    """One udf function of a feature set: where it lives, its source hash, the features that use it."""

    module: str
    qualname: str
    source_sha256: str
    features: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.module}:{self.qualname}"


def _udf_nodes(fs: "FeatureSet") -> dict:
    """``{udf node: [features using it]}`` over the definition's features, in order of first use."""
    from skewless.ir.base import walk
    from skewless.ir.udf import Udf

    found: dict = {}
    for name, feat in fs.features.items():
        for n in walk(feat.node):
            if isinstance(n, Udf):
                users = found.setdefault((n.module, n.qualname, n.source_sha256), (n, []))[1]
                if name not in users:
                    users.append(name)
    return found


def udf_records(fs: "FeatureSet") -> list[UdfRecord]:
    """The udf functions of ``fs`` (its definition's features), in order of first use."""
    return [UdfRecord(m, q, h, tuple(users)) for (m, q, h), (_, users) in _udf_nodes(fs).items()]


def parse_modules(text: str | None) -> frozenset[str]:
    """``"a.b, c"`` -> ``{"a.b", "c"}`` (empty entries ignored)."""
    return frozenset(p.strip() for p in (text or "").split(",") if p.strip())


def check_udfs(fs: "FeatureSet", allowed: Collection[str] | None, where: str) -> list[UdfRecord]:
    """Refuse (:class:`~skewless.bundle.BundleError`, one line) unless every udf of ``fs`` may be used.

    ``allowed``: the modules the caller may import (the service: ``SKEWLESS_SERVE_UDF_MODULES``); a
    module not listed is refused before anything is imported. ``None``: no list (a process that defined
    the functions itself, e.g. ``train`` checking the bundle it wrote). Then each function is imported
    and its source hashed: a different SHA-256 than the recorded one is refused, naming both.
    """
    from skewless.ir.udf import UdfError, resolve

    from .loader import BundleError

    nodes = _udf_nodes(fs)
    records = udf_records(fs)
    if allowed is not None:
        for r in records:
            if r.module not in allowed:
                modules = ",".join(sorted({x.module for x in records}))
                listed = f"it lists {','.join(sorted(allowed))}" if allowed else "it is not set"
                raise BundleError(
                    f"{where}: feature {r.features[0]!r} calls the udf {r.name}, and the service imports a udf's "
                    f"module only when {ENV_VAR} lists it ({listed}); set {ENV_VAR}={modules} to serve this bundle")
    for node, users in nodes.values():
        try:
            resolve(node)
        except UdfError as exc:
            raise BundleError(f"{where}: feature {users[0]!r}: {exc}") from None
    return records
