"""IR ops: hashing."""

from __future__ import annotations

from dataclasses import dataclass

from ..dtypes import Boolean, Date, Field, Int64, Null, String
from .base import INT64_MAX, InferContext, Node, field_of, require

__all__ = ["HashBucket", "HASHABLE"]

#: Input dtypes of ``hash_bucket``; each is hashed through its polars ``cast(String)`` text.
HASHABLE = (Int64, String, Boolean, Date)


@dataclass(frozen=True, slots=True)
class HashBucket(Node):
    """``hash_bucket(n)``: ``XXH64(utf8(text), seed=0) % n`` as ``Int64`` in ``0 .. n-1``.

    The text is the value's polars ``cast(String)``: strings as they are, Int64
    in decimal (``"-7"``), Boolean as ``"true"``/``"false"``, Date as
    ``"YYYY-MM-DD"``. XXH64 is a published, fixed algorithm, so buckets are
    stable across processes, machines and library versions (Python's ``hash``
    and polars' ``Expr.hash`` are not). The modulo is taken of the unsigned
    64-bit hash. A null value gives null.
    """

    method = "hash_bucket"
    operand: Node
    n: int

    def infer(self, ctx: InferContext, args: tuple[Field, ...]) -> Field:
        (a,) = args
        require(
            type(self.n) is int and 1 <= self.n <= INT64_MAX,
            f"hash_bucket(n): n must be an int literal in 1..{INT64_MAX}, got {self.n!r}",
        )
        require(
            isinstance(a.dtype, (*HASHABLE, Null)),
            f"hash_bucket() hashes Int64, String, Boolean or Date values, got {a.dtype!r}"
            " (cast to String first to choose the text that is hashed)",
        )
        return field_of(Int64(), a)
