"""Import every category of python rules so that :data:`RULES` is complete."""

from . import core, hashing, numeric, strings, temporal, applied, udf  # noqa: F401  (registration)
from .table import RULES

__all__ = ["RULES"]
