"""Import every category of polars rules so that :data:`RULES` is complete (without importing polars)."""

from . import core, hashing, numeric, strings, temporal, applied, udf  # noqa: F401  (registration)
from .table import RULES

__all__ = ["RULES"]
