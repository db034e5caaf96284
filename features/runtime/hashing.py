"""Per-request helpers for ``hash_bucket``: XXH64 (seed 0) from the ``xxhash`` package."""

from __future__ import annotations

from xxhash import xxh64_intdigest

__all__ = ["xxh64_intdigest", "hash_text"]


def hash_text(text: str) -> int:
    """Unsigned 64-bit XXH64 of the UTF-8 bytes of ``text``, seed 0."""
    return xxh64_intdigest(text.encode("utf-8"))
