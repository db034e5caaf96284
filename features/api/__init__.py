"""User-facing expression API (no polars needed)."""
