"""Per-request backend: generated straight-line Python, no polars."""
