"""benchmarks (see the README; grows with later issues)."""
