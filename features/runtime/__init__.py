"""Helpers called by generated per-request code. Pure Python: never imports polars."""
