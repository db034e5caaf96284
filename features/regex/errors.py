"""The dialect's error and limits."""

from __future__ import annotations

from ..errors import ExprTypeError

__all__ = ["RegexDialectError", "MAX_REPEAT"]

MAX_REPEAT = 1000


class RegexDialectError(ExprTypeError):
    """A pattern outside the shared dialect (or invalid), raised when the feature set is defined."""
