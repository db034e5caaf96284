"""IR ops. Importing this package registers every op in :data:`skewless.ir.base.OPS`."""

from . import base, core, numeric, strings, temporal, hashing, applied, fitted, udf  # noqa: F401  (registration)
from .base import OPS, Column, Literal, Node, render, walk

__all__ = ["OPS", "Column", "Literal", "Node", "render", "walk"]
