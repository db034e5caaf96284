"""Moved to :mod:`skewless.bundle.encoding` (shared by training and serving); kept for imports."""

from skewless.bundle.encoding import KINDS, ColumnEncoding, ModelInputs  # noqa: F401

__all__ = ["ColumnEncoding", "ModelInputs", "KINDS"]
