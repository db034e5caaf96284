"""The shared parity suite: every op, on both runtimes, with edge values."""
