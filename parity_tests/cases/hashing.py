"""Parity cases: hashing (``hash_bucket`` on String, Int64, Boolean and Date)."""

from __future__ import annotations

import datetime as dt

from skewless import Boolean, Date, Int64, String, col, lit

from . import case

# Bucket counts: 1 (everything in bucket 0), small primes, a power of two, and the largest
# (the modulo of the unsigned 64-bit hash must stay non-negative and fit Int64).
_NS = (1, 2, 7, 1024, 1_000_003, 2**62 + 1, 2**63 - 1)

case(
    "hashing.hash_bucket_string",
    {"s": String},
    {f"s_{i}": col("s").hash_bucket(n) for i, n in enumerate(_NS)}
    | {"empty_lit": lit("").hash_bucket(10), "null_lit": lit(None).hash_bucket(3),
       "concat": (col("s") + "|x").hash_bucket(97)},
    rows=[{"s": s} for s in ("Nobody inspects the spammish repetition", "UA", "AA", "DL", "a" * 1000, "\U0010ffff")],
)
case(
    "hashing.hash_bucket_int",
    {"i": Int64},
    {f"i_{k}": col("i").hash_bucket(n) for k, n in enumerate(_NS)}
    | {"as_string_same": col("i").hash_bucket(1024) == col("i").cast(String).hash_bucket(1024)},
)
case(
    "hashing.hash_bucket_bool_date",
    {"p": Boolean, "d": Date},
    {"p_2": col("p").hash_bucket(2), "p_big": col("p").hash_bucket(2**63 - 1), "d_13": col("d").hash_bucket(13),
     "d_big": col("d").hash_bucket(2**63 - 1)},
    rows=[{"p": True, "d": dt.date(999, 5, 6)}, {"p": False, "d": dt.date(2024, 2, 29)}],
)
