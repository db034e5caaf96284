"""Replay parity of the windows on the served path: what the service computed against the batch, bitwise.

:func:`served_window_parity` reads a served-feature log (:mod:`skewless.serving.feature_log`: each row's
inputs as the service computed them, window outputs included), takes the logged requests (the request
inputs: keys and times) and computes their windows in batch from the event history
(:func:`skewless.windows.batch.compute_windows`, point in time), then compares every logged window value with
the batch one by its bits. 0 mismatches means every window the service read from its store — built by
``POST /v1/events`` as the requests' times advanced — equals the batch value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["served_window_parity"]


def served_window_parity(log: Any, bundle: Any, events: Mapping[str, Any] | None = None) -> Any:
    """A :class:`~skewless.state.replay.ReplayReport` of the logged window values against the batch ones.

    ``bundle``: the served bundle (a path or a loaded one); ``events``: each event source's history (default:
    the declared ``Windowed(source=...)``: but a bundle carries no source, so give them).
    """
    from pathlib import Path

    from skewless.bundle.loader import Bundle, load_bundle
    from skewless.compiled import event_frames
    from skewless.errors import SkewlessError
    from skewless.monitoring.logdata import LogError, load_log, only_bundle, unnest
    from skewless.state.replay import ReplayReport

    served = bundle if isinstance(bundle, Bundle) else load_bundle(Path(bundle))
    fs = served.transformer
    windows = fs.windows
    if windows is None:
        raise SkewlessError(f"bundle {str(served.path)!r} declares no windows")
    frame, _ = only_bundle(load_log(log), served.manifest["bundle_id"])
    if frame.height == 0:
        raise LogError(f"the log holds no rows served by bundle {served.manifest['bundle_id']}")
    inputs = unnest(frame, "inputs")
    outputs = list(windows.outputs)
    missing = [c for c in [*fs.request_schema(), *outputs] if c not in inputs.columns]
    if missing:
        raise LogError(f"the log does not hold the input(s) {', '.join(missing[:5])}")
    requests = inputs.select(list(fs.request_schema()))
    batch = windows.join(requests, event_frames(windows, events)).select(outputs).rows()
    logged = inputs.select(outputs).rows(named=True)
    report = ReplayReport()
    for i, (b, o) in enumerate(zip(batch, logged)):
        report.compare(i, outputs, b, o)
    return report
