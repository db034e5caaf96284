"""Reading user data for a feature set (batch side; imports polars)."""

from __future__ import annotations

import glob
import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import SchemaError, SkewlessError

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

    from .feature_set import FeatureSet

__all__ = ["scan_data", "load_feature_set"]


def scan_data(path: str | Path, fs: "FeatureSet | None" = None) -> "pl.LazyFrame":
    """Lazily scan parquet or CSV file(s) (globs allowed).

    CSV columns are parsed with the feature set's declared input dtypes (so a
    ``Datetime`` input is parsed as such) and ``"NA"`` or an empty field is null.
    Raises :class:`SkewlessError` naming the path when nothing is there.
    """
    import polars as pl

    from .backends.polars.dtypes import to_polars

    text = str(path)
    matches = sorted(glob.glob(text)) if any(ch in text for ch in "*?[") else [text]
    if not matches or not all(Path(m).exists() for m in matches):
        raise SkewlessError(f"no data at {text!r} (file not found)")
    if any(Path(m).is_dir() for m in matches):
        raise SkewlessError(f"{text!r} is a directory; pass a file or a glob such as 'dir/*.parquet'")
    suffixes = {Path(m).suffix.lower() for m in matches}
    if suffixes <= {".parquet", ".pq"}:
        return pl.scan_parquet(matches)
    if suffixes <= {".csv", ".tsv", ".txt"}:
        overrides = {k: to_polars(f.dtype) for k, f in fs.inputs.items()} if fs is not None else None
        try:
            header = pl.read_csv(matches[0], n_rows=0).columns
        except Exception as exc:
            raise SkewlessError(f"cannot read CSV {matches[0]!r}: {exc}") from None
        if overrides:
            overrides = {k: v for k, v in overrides.items() if k in header}
        sep = "\t" if suffixes == {".tsv"} else ","
        return pl.scan_csv(matches, schema_overrides=overrides, null_values=["NA", ""], separator=sep)
    raise SkewlessError(f"unsupported data format {sorted(suffixes)} for {text!r}; use parquet or csv")


def load_feature_set(spec: str) -> "FeatureSet":
    """Load ``"package.module:name"`` and check it is a :class:`FeatureSet`."""
    from .feature_set import FeatureSet

    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise SkewlessError(f"expected MODULE:NAME (e.g. skewless.definitions.flights:flights), got {spec!r}")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise SkewlessError(f"cannot import module {module_name!r}: {exc}") from None
    except SkewlessError as exc:  # e.g. a DefinitionError in the module's feature sets
        raise SkewlessError(f"module {module_name!r} failed to load: {exc}") from None
    except Exception as exc:
        raise SkewlessError(f"module {module_name!r} raised {type(exc).__name__} on import: {exc}") from exc
    try:
        value: Any = getattr(module, attr)
    except AttributeError:
        from .suggest import did_you_mean

        names = [n for n, v in vars(module).items() if isinstance(v, FeatureSet)]
        raise SkewlessError(f"module {module_name!r} has no attribute {attr!r}{did_you_mean(attr, names)}") from None
    if not isinstance(value, FeatureSet):
        raise SchemaError(f"{spec} is a {type(value).__name__}, not a FeatureSet")
    return value
