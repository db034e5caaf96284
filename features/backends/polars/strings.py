"""Polars rules: strings."""

from __future__ import annotations

from .lazy import pl  # noqa: F401
from .table import RULES  # noqa: F401
