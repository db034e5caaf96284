"""One-row LightGBM predictions through LightGBM's "fast single row" C API.

:meth:`lightgbm.Booster.predict` costs ~80 µs for one row, almost all of it Python-side set-up
(parameter strings, array checks, a new predictor each call) and OpenMP start-up; the trees
themselves take a few µs. LightGBM's C API has a path made for serving:
``LGBM_BoosterPredictForMatSingleRowFastInit`` prepares the predictor once (prediction type,
iterations, column count, ``num_threads=1``) and ``LGBM_BoosterPredictForMatSingleRowFast`` then
scores one float64 row. It runs the same tree walk and sum as the matrix predict, so the scores
are bitwise equal (the startup self-check compares them with the batch scores of the golden rows;
the tests compare every served score with the batch one).

Only the booster's own shared library is used (``lightgbm.basic._LIB``, through :mod:`ctypes`):
no new dependency. A multiclass model's row gives one probability per class (a list). When the API
is missing or the model's outputs per row are not the expected number,
:func:`single_row_predictor` returns None and the caller uses ``Booster.predict``.
"""

from __future__ import annotations

import ctypes
import logging
import threading
from typing import Any, Optional, Sequence

__all__ = ["SingleRowPredictor", "single_row_predictor"]

log = logging.getLogger("skewless.serving")

_PREDICT_NORMAL = 0  # C_API_PREDICT_NORMAL: with the objective's transform (sigmoid for binary)
_DTYPE_FLOAT64 = 1  # C_API_DTYPE_FLOAT64


class SingleRowPredictor:
    """Scores one row at a time with a prepared LightGBM ``FastConfig``.

    Parameters
    ----------
    booster : lightgbm.Booster
        Must outlive this object (the config points into it).
    n_features : int
        Columns of a row.
    num_iteration : int
        Iterations used (``<= 0``: all), as :meth:`lightgbm.Booster.predict` would choose.
    outputs : int
        Values per row: 1, or a multiclass model's number of classes (then a call returns a list).
    """

    def __init__(self, booster: Any, n_features: int, num_iteration: int, outputs: int = 1):
        from lightgbm.basic import _LIB, _safe_call

        self._lib, self._safe_call = _LIB, _safe_call
        self._booster = booster  # keeps the booster (and its handle) alive
        self._n = n_features
        self._config = ctypes.c_void_p()
        _safe_call(_LIB.LGBM_BoosterPredictForMatSingleRowFastInit(
            booster._handle, ctypes.c_int(_PREDICT_NORMAL), ctypes.c_int(0), ctypes.c_int(num_iteration),
            ctypes.c_int(_DTYPE_FLOAT64), ctypes.c_int32(n_features), ctypes.c_char_p(b"num_threads=1"),
            ctypes.byref(self._config)))
        self._row = (ctypes.c_double * n_features)()
        self._k = outputs
        self._out = (ctypes.c_double * outputs)()
        self._out_len = ctypes.c_int64(0)
        self._fast = _LIB.LGBM_BoosterPredictForMatSingleRowFast
        self._args = (self._config, self._row, ctypes.byref(self._out_len), self._out)
        # The row and output buffers are shared: one prediction at a time.
        self._lock = threading.Lock()

    def __call__(self, row: Sequence[float]) -> float | list[float]:
        """The score of one encoded row (``n_features`` floats); a list of ``outputs`` floats when more than one."""
        with self._lock:
            self._row[:] = row
            if self._fast(*self._args) != 0:
                self._safe_call(-1)  # raises LightGBMError with LightGBM's last error message
            if self._out_len.value != self._k:
                raise RuntimeError(f"LightGBM returned {self._out_len.value} values for one row, expected {self._k}")
            return self._out[0] if self._k == 1 else self._out[:]

    def close(self) -> None:
        """Free the LightGBM config (also done when garbage-collected)."""
        config, self._config = self._config, None
        if config is not None and config.value:
            self._lib.LGBM_FastConfigFree(config)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: the library may be gone already
            pass


def single_row_predictor(booster: Any, n_features: int, outputs: int = 1) -> Optional[SingleRowPredictor]:
    """A :class:`SingleRowPredictor` for ``booster`` (``outputs`` values per row: 1, or a multiclass model's
    number of classes), or None when it cannot be used."""
    try:
        if booster.num_model_per_iteration() != outputs:
            return None
        # Booster.predict's default: best_iteration (-1 when unknown: every iteration)
        return SingleRowPredictor(booster, n_features, booster.best_iteration, outputs)
    except Exception as exc:  # an older LightGBM, a missing symbol: Booster.predict still works
        log.warning("LightGBM's single-row API is not usable (%s: %s); using Booster.predict",
                    type(exc).__name__, exc)
        return None
