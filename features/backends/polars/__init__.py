"""Batch backend: polars expressions and a lazy, streaming-capable transform."""
