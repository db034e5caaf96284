"""Windowed per-entity aggregations, exact by construction and bitwise identical online and offline.

Declared in polars' words (:mod:`skewless.windows.spec`), computed in batch with polars and numpy
(:mod:`skewless.windows.batch`) and online from per-entity state in an :class:`~skewless.state.OnlineStore`
(:mod:`skewless.windows.online`); every aggregate is defined once, exactly (:mod:`skewless.windows.exact`).
:mod:`skewless.windows.replay` proves the two equal on an event log.

This package's ``__init__``, ``spec``, ``exact``, ``timing`` and ``online`` never import polars.
"""

from __future__ import annotations

from skewless.windows.online import (
    ConcurrentIngest, EventConflict, IngestResult, InvalidEvent, LateEvent, OnlineWindows, RequestBeforeHorizon,
)
from skewless.windows.spec import EventSource, Windows, WindowAgg, col

__all__ = ["ConcurrentIngest", "EventConflict", "EventSource", "IngestResult", "InvalidEvent", "LateEvent", "OnlineWindows",
           "RequestBeforeHorizon", "WindowAgg", "Windows", "col"]
