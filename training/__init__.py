"""Batch training jobs: feature builds with statistics, LightGBM training, bundles, run tracking, model comparison.

Python API (the ``skewless build / train / compare`` commands are thin wrappers):

* :func:`skewless.training.build.build_dataset` — time-split train/valid/test feature files, fitted state, ``stats.json``;
* :func:`skewless.training.train.train` — LightGBM with early stopping, a bundle (``skewless.training.bundle``), an MLflow run;
* :func:`skewless.training.compare.compare` — score and state differences between two bundles on the same data;
* :func:`skewless.training.bundle.load_bundle`, :func:`skewless.training.tracking.find_run`.
"""

if not __name__.startswith("skewless"):  # the repository folder imported under its own name
    raise ImportError(
        f"this folder is the package skewless{'' if __name__ == 'features' else '.' + __name__}; "
        f"import it as such (pip install -e . maps the repository's folders into the skewless namespace)"
    )


import os as _os

# LightGBM's OpenMP threads busy-wait by default; on a small shared machine (2 cores, tests running
# in parallel) that turns seconds into minutes. Must be set before libgomp is loaded.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
