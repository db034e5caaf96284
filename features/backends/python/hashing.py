"""Python rules: hashing."""

from __future__ import annotations

from .table import RULES  # noqa: F401
