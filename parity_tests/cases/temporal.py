"""Parity cases: temporal."""

from __future__ import annotations

from . import case  # noqa: F401
