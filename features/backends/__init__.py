"""Compilers from the IR to each runtime: ``polars`` (batch) and ``python`` (per request)."""
