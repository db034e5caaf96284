"""Parity cases: strings."""

from __future__ import annotations

from . import case  # noqa: F401
