"""Time zones for the per-request runtime, read from the pinned ``tzdata`` package.

Polars ships its own copy of the IANA database (compiled into chrono-tz), while
Python's :mod:`zoneinfo` reads the operating system's copy first. Two copies of
different vintages disagree on recent rule changes, and every such disagreement
is silent training/serving skew. skewless therefore loads zones from the
``tzdata`` package (a pinned dependency, identical on every machine) instead of
the system, and :func:`skewless.backends.polars.tzcheck.compare_with_polars`
checks, on the batch side, that polars and this database agree for the zones a
feature set uses.
"""

from __future__ import annotations

import functools
import importlib.resources
from datetime import tzinfo
from zoneinfo import ZoneInfo

from ..errors import SchemaError

__all__ = ["get_zone", "check_zone", "tzdata_version"]


@functools.cache
def get_zone(key: str) -> tzinfo:
    """Return the zone ``key`` from the ``tzdata`` package (never from the OS)."""
    if key == "UTC":
        from datetime import timezone

        return timezone.utc
    try:
        resource = importlib.resources.files("tzdata.zoneinfo").joinpath(*key.split("/"))
        with resource.open("rb") as fh:
            return ZoneInfo.from_file(fh, key=key)
    except (FileNotFoundError, IsADirectoryError, ValueError, OSError) as exc:
        raise SchemaError(f"unknown time zone {key!r}") from exc


def check_zone(key: str) -> None:
    """Raise :class:`SchemaError` unless ``key`` is an IANA zone known to ``tzdata``."""
    if not isinstance(key, str) or not key or ".." in key or key.startswith("/"):
        raise SchemaError(f"invalid time zone {key!r}")
    get_zone(key)


def tzdata_version() -> str:
    from importlib.metadata import version

    return version("tzdata")
