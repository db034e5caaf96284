"""Batch training jobs: feature builds with statistics, LightGBM training, bundles, run tracking, model comparison.

Python API (the ``skewless build / train / compare`` commands are thin wrappers):

* :func:`training.build.build_dataset` — time-split train/valid/test feature files, fitted state, ``stats.json``;
* :func:`training.train.train` — LightGBM with early stopping, a bundle (``training.bundle``), an MLflow run;
* :func:`training.compare.compare` — score and state differences between two bundles on the same data;
* :func:`training.bundle.load_bundle`, :func:`training.tracking.find_run`.
"""

import os as _os

# LightGBM's OpenMP threads busy-wait by default; on a small shared machine (2 cores, tests running
# in parallel) that turns seconds into minutes. Must be set before libgomp is loaded.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
