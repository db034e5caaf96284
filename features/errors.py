"""Exceptions raised by skewless. All derive from :class:`SkewlessError`."""

from __future__ import annotations


class SkewlessError(Exception):
    """Base class of every error skewless raises on purpose."""


class SchemaError(SkewlessError, TypeError):
    """A dtype or input schema is invalid or does not match the data."""


class ExprTypeError(SkewlessError, TypeError):
    """An expression is ill-typed (raised while inferring types, before a feature name is known)."""


class DefinitionError(SkewlessError, TypeError):
    """A feature set definition is invalid. Names the feature and the offending expression."""

    def __init__(self, message: str, *, feature: str | None = None, expr: str | None = None):
        self.feature = feature
        self.expr = expr
        self.reason = message
        parts = []
        if feature is not None:
            parts.append(f"feature {feature!r}")
        if expr is not None:
            parts.append(f"in {expr}")
        prefix = ": ".join([" ".join(parts)]) if parts else ""
        super().__init__(f"{prefix}: {message}" if prefix else message)


class CompileError(SkewlessError):
    """A backend has no rule for an op, or declares it a gap. Names the op, the backend and the feature."""


class InvalidOperationError(SkewlessError, ValueError):
    """Raised at run time where polars raises ``InvalidOperationError`` (e.g. a strict cast failing)."""
