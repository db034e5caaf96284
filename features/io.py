"""Reading user data and feature-set code (batch side; imports polars).

* :func:`scan_data` — parquet or CSV files as users have them: undeclared columns are
  never parsed (dropped, or kept and inferred over the whole file on request), CSV
  separator, null values and encoding are options, a semicolon file is named as such.
* :class:`CsvSource` — CSV file(s) with their reading options, accepted wherever a build takes a path
  (the source, an entity table, an event source), so ``build.json`` still records the files and their hash.
* :func:`load_feature_set` / :func:`load_object` — ``"package.module:name"`` (imported
  like uvicorn and pytest do: the current directory is searched too) or
  ``"path/to/file.py:name"``.
"""

from __future__ import annotations

import glob
import hashlib
import importlib
import importlib.util
import io
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from .errors import SchemaError, SkewlessError

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

    from .compiled import CompiledFeatureSet

__all__ = ["scan_data", "CsvSource", "load_feature_set", "load_object", "DEFAULT_NULL_VALUES"]

#: What an empty CSV field or the text ``NA`` means: null (R's and pandas' writers use them).
DEFAULT_NULL_VALUES = ("NA", "")
# polars reads these two itself (streaming); anything else is decoded by Python first.
_POLARS_ENCODINGS = {"utf8": "utf8", "utf-8": "utf8", "utf8-lossy": "utf8-lossy"}
_OTHER_SEPARATORS = (";", "\t", "|")


#: What an object-store URL starts with (polars reads these itself, credentials from the environment).
OBJECT_STORE_SCHEMES = ("s3://", "s3a://", "gs://", "gcs://", "az://", "abfs://", "abfss://", "http://", "https://")


def is_url(path: Any) -> bool:
    """Whether ``path`` is an object-store URL (``s3://bucket/key``, ``gs://...``, ...), not a local path."""
    return isinstance(path, str) and path.lower().startswith(OBJECT_STORE_SCHEMES)


def _paths(path: str | Path) -> list[str]:
    text = str(path)
    if is_url(path):  # polars lists, globs and reads it (a missing object fails the scan, naming it)
        if not text.lower().endswith((".parquet", ".pq")):
            raise SkewlessError(f"{text!r}: only parquet is read from an object store (a CSV there cannot be "
                                f"checked and parsed as local CSV files are); convert it to parquet")
        return [text]
    matches = sorted(glob.glob(text)) if any(ch in text for ch in "*?[") else [text]
    if not matches or not all(Path(m).exists() for m in matches):
        raise SkewlessError(f"no data at {text!r} (file not found)")
    if any(Path(m).is_dir() for m in matches):
        raise SkewlessError(f"{text!r} is a directory; pass a file or a glob such as 'dir/*.parquet'")
    return matches


def scan_data(
    path: str | Path,
    fs: "CompiledFeatureSet | None" = None,
    *,
    columns: "str | Sequence[str] | None" = None,
    separator: str | None = None,
    null_values: Sequence[str] | None = None,
    encoding: str = "utf8",
) -> "pl.LazyFrame":
    """Lazily scan parquet or CSV file(s) (globs allowed).

    Parameters
    ----------
    path : a file or a glob (``data/*.parquet``); ``.parquet``/``.pq`` or ``.csv``/``.tsv``/``.txt``.
    fs : FeatureSet or FittedFeatureSet, optional
        CSV columns it declares as inputs are parsed with the declared dtypes (a
        ``Datetime`` input is parsed as such).
    columns : None, ``"all"`` or a list of column names
        Which columns besides the declared inputs to keep. ``None`` (with ``fs``):
        only the declared inputs — the other CSV columns are read as text and
        dropped, never parsed, so a column the set does not use cannot fail the
        scan. ``"all"`` (or no ``fs``): every column; undeclared CSV columns get
        dtypes inferred over the whole file. A list: the inputs plus those.
    separator : CSV field separator; default ``","`` (``"\\t"`` for ``.tsv``).
    null_values : CSV texts read as null; default ``("NA", "")``.
    encoding : ``"utf8"`` (default), ``"utf8-lossy"``, or any Python codec name
        (``"latin-1"``, ``"cp1252"``, ...; such files are decoded in memory).

    Raises
    ------
    SkewlessError
        Naming the path: nothing there, a directory, an unknown format, an
        unknown encoding, a CSV that is not valid in that encoding, or a header
        of one column that looks separated by another character.
    """
    import polars as pl

    matches = _paths(path)
    text = str(path)
    inputs = _input_fields(fs)
    suffixes = {Path(m).suffix.lower() for m in matches}
    if suffixes <= {".parquet", ".pq"}:
        lf = pl.scan_parquet(matches)
        try:
            names = lf.collect_schema().names()
        except Exception as exc:
            if not is_url(text):
                raise
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise SkewlessError(f"cannot read {text!r} from the object store: {reason[:300]}") from None
        return _select(lf, names, inputs, columns)
    if not suffixes <= {".csv", ".tsv", ".txt"}:
        raise SkewlessError(f"unsupported data format {sorted(suffixes)} for {text!r}; use parquet or csv")
    return _scan_csv(matches, inputs, columns, separator, null_values, encoding,
                     "\t" if suffixes == {".tsv"} else ",")


class CsvSource:
    """CSV file(s) read with given options: what :func:`scan_data` reads, as a value a build accepts.

    ``build_dataset(fs, CsvSource("absences.csv", separator=";"), ...)`` (also as an entity table or an event
    source) reads the file as ``scan_data(path, ..., separator=";")`` does and records the paths, the options
    and the files' hash in ``build.json``, as for a plain path. The options are checked here, when the value
    is made (a separator of more than one character, an unknown encoding).

    Parameters
    ----------
    path : a CSV file or a glob (``.csv``, ``.tsv``, ``.txt``), or a list of them
    separator, null_values, encoding : as :func:`scan_data`'s

    Examples
    --------
    >>> from skewless.io import CsvSource
    >>> CsvSource("absences.csv", separator=";")
    CsvSource('absences.csv', separator=';')
    """

    __slots__ = ("paths", "separator", "null_values", "encoding")

    def __init__(self, path: "str | Path | Sequence[str | Path]", *, separator: str | None = None,
                 null_values: Sequence[str] | None = None, encoding: str = "utf8") -> None:
        paths = [path] if isinstance(path, (str, Path)) else list(path)
        if not paths or not all(isinstance(p, (str, Path)) for p in paths):
            raise SkewlessError(f"CsvSource: path must be a file, a glob or a list of them, not {path!r}")
        if any(is_url(p) for p in paths):
            _paths(next(p for p in paths if is_url(p)))  # the object-store refusal of CSV, worded once
        if separator is not None and (not isinstance(separator, str) or len(_separator(separator)) != 1):
            raise SkewlessError(f"CsvSource: a CSV separator is one character, got {separator!r}")
        if null_values is not None and (isinstance(null_values, str)
                                        or not all(isinstance(v, str) for v in null_values)):
            raise SkewlessError(f"CsvSource: null_values must be a list of texts, not {null_values!r}")
        if not isinstance(encoding, str):
            raise SkewlessError(f"CsvSource: encoding must be a text such as 'latin-1', not {encoding!r}")
        if encoding.lower() not in _POLARS_ENCODINGS:
            import codecs

            try:
                codecs.lookup(encoding)
            except LookupError:
                raise SkewlessError(f"CsvSource: unknown encoding {encoding!r} (e.g. utf8, latin-1, cp1252)") from None
        self.paths = tuple(str(p) for p in paths)
        self.separator = separator
        self.null_values = None if null_values is None else tuple(null_values)
        self.encoding = encoding

    def options(self) -> dict[str, Any]:
        """The reading options that differ from :func:`scan_data`'s defaults (what ``build.json`` records)."""
        given = {"separator": self.separator, "null_values": self.null_values,
                 "encoding": None if self.encoding == "utf8" else self.encoding}
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in given.items() if v is not None}

    def files(self) -> list[str]:
        """The files the paths name now (globs expanded), in order; refuses a path with nothing there."""
        return [m for p in self.paths for m in _paths(p)]

    def scan(self, fs: "CompiledFeatureSet | None" = None, *, columns: "str | Sequence[str] | None" = None
             ) -> "pl.LazyFrame":
        """:func:`scan_data` of every path with these options (several paths concatenated in order)."""
        import polars as pl

        frames = [scan_data(p, fs, columns=columns, separator=self.separator, null_values=self.null_values,
                            encoding=self.encoding) for p in self.paths]
        if any(Path(m).suffix.lower() not in (".csv", ".tsv", ".txt") for m in self.files()):
            raise SkewlessError(f"CsvSource {list(self.paths)}: only CSV files (.csv, .tsv, .txt) take CSV options")
        try:
            return frames[0] if len(frames) == 1 else pl.concat(frames, how="vertical")
        except Exception as exc:  # the files' columns differ
            raise SkewlessError(f"cannot combine the CSV files {list(self.paths)}: {exc}") from None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CsvSource) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def _key(self) -> tuple:
        return self.paths, self.separator, self.null_values, self.encoding

    def __repr__(self) -> str:
        path = self.paths[0] if len(self.paths) == 1 else list(self.paths)
        opts = "".join(f", {k}={v!r}" for k, v in self.options().items())
        return f"CsvSource({path!r}{opts})"


def _separator(sep: str) -> str:
    """``"\\t"`` and ``"tab"`` (as typed on a command line) mean a tab."""
    return "\t" if sep in ("\\t", "tab") else sep


def _input_fields(fs: Any) -> dict[str, Any]:
    return {} if fs is None else dict(fs.input_schema())


def _select(lf: "pl.LazyFrame", names: list[str], inputs: dict[str, Any], columns: Any) -> "pl.LazyFrame":
    if not inputs or columns == "all":
        return lf
    keep = set(inputs) | set(columns or ())
    return lf.select([n for n in names if n in keep])


def _scan_csv(matches: list[str], inputs: dict[str, Any], columns: Any, separator: str | None,
              null_values: Sequence[str] | None, encoding: str, default_sep: str) -> "pl.LazyFrame":
    import polars as pl

    from .backends.polars.dtypes import to_polars

    sep = default_sep if separator is None else _separator(separator)
    if len(sep) != 1:
        raise SkewlessError(f"a CSV separator is one character, got {sep!r}")
    nulls = list(DEFAULT_NULL_VALUES if null_values is None else null_values)
    enc = _POLARS_ENCODINGS.get(encoding.lower())
    sources: list[Any] = matches
    if enc is None:  # a codec polars does not read: decode in Python, hand polars UTF-8 bytes
        import codecs

        try:
            codecs.lookup(encoding)
        except LookupError:
            raise SkewlessError(f"unknown encoding {encoding!r} (e.g. utf8, latin-1, cp1252)") from None
        sources = []
        for m in matches:
            try:
                sources.append(io.BytesIO(Path(m).read_text(encoding=encoding).encode("utf-8")))
            except UnicodeDecodeError as exc:
                raise SkewlessError(f"CSV {m!r} is not valid {encoding}: {exc.reason} at byte {exc.start}") from None
        enc = "utf8"
    elif enc == "utf8":
        for m in matches:
            _check_utf8(m)
    try:
        first = sources[0]
        header = pl.read_csv(first, n_rows=0, separator=sep, encoding=enc).columns
        if isinstance(first, io.BytesIO):
            first.seek(0)
    except Exception as exc:
        if enc == "utf8" and "utf-8" in str(exc).lower():
            raise SkewlessError(f"CSV {matches[0]!r} is not UTF-8 text; pass its encoding (e.g. encoding='latin-1', "
                                f"--encoding latin-1)") from None
        raise SkewlessError(f"cannot read CSV {matches[0]!r}: {exc}") from None
    if len(header) == 1:
        other = [s for s in _OTHER_SEPARATORS if s != sep and s in header[0]]
        if other:
            raise SkewlessError(
                f"CSV {matches[0]!r} has a single column {header[0][:60]!r} with separator {sep!r}; it looks "
                f"separated by {other[0]!r}: pass separator={other[0]!r} (--separator {other[0]!r})")
    keep_all = not inputs or columns == "all"
    extra = set(columns) if isinstance(columns, (list, tuple, set, frozenset)) else set()
    overrides = {k: to_polars(f.dtype) for k, f in inputs.items() if k in header}
    if not keep_all:
        # What is not kept is read as text: never parsed, so it cannot fail the scan.
        overrides.update({k: pl.String for k in header if k not in overrides and k not in extra})
    # Undeclared columns that are kept get dtypes inferred from the whole file, not its first rows.
    infer = None if keep_all or extra else 0
    kwargs = dict(schema_overrides=overrides, null_values=nulls, separator=sep, encoding=enc,
                  infer_schema_length=infer)
    try:
        if isinstance(sources[0], io.BytesIO):
            lf = pl.concat([pl.read_csv(s, **kwargs).lazy() for s in sources], how="vertical")
        else:
            lf = pl.scan_csv(sources, **kwargs)
    except Exception as exc:
        raise SkewlessError(f"cannot read CSV {matches[0]!r}: {exc}") from None
    return _select(lf, header, inputs, columns)


def _check_utf8(file: str, chunk: int = 1 << 20) -> None:
    """Refuse a CSV that is not UTF-8 before polars fails on it mid-scan (a fast C decode, in chunks)."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    done = 0
    with open(file, "rb") as fh:
        while True:
            block = fh.read(chunk)
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                raise SkewlessError(f"CSV {file!r} is not UTF-8 text (byte {done + exc.start}); pass its encoding "
                                    f"(e.g. encoding='latin-1', --encoding latin-1)") from None
            if not block:
                return
            done += len(block)


# --------------------------------------------------------------------------- feature-set code


def _import_module(module_name: str) -> Any:
    """Import ``module_name``; like uvicorn and pytest, the current directory is searched too."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        top = module_name.partition(".")[0]
        cwd = os.getcwd()
        if exc.name not in (module_name, top) or cwd in sys.path or "" in sys.path:
            raise
    sys.path.insert(0, cwd)
    module = importlib.import_module(module_name)
    if getattr(module, "__file__", None):
        # Recorded in build and bundle manifests as a path, so `train`/`serve` started elsewhere find it.
        module.__skewless_file__ = str(Path(module.__file__).resolve())
    return module


def _load_file(file: str) -> Any:
    """Import a ``.py`` file as a module (its folder on ``sys.path``, as when it is run as a script)."""
    path = Path(file).expanduser().resolve()
    if not path.is_file():
        raise SkewlessError(f"no Python file at {file!r}")
    for module in list(sys.modules.values()):
        if getattr(module, "__skewless_file__", None) == str(path):
            return module
    name = path.stem if path.stem.isidentifier() and path.stem not in sys.modules else \
        f"_skewless_{path.stem if path.stem.isidentifier() else 'file'}_{hashlib.sha1(str(path).encode()).hexdigest()[:8]}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SkewlessError(f"cannot import {file!r} as Python")
    module = importlib.util.module_from_spec(spec)
    module.__skewless_file__ = str(path)
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def load_object(spec: str) -> Any:
    """Load ``"package.module:name"`` or ``"path/to/file.py:name"`` and return the object (any type).

    Errors (import failures, a missing name) are :class:`SkewlessError` naming the module.
    """
    module_name, sep, attr = str(spec).rpartition(":")
    if not sep or not module_name or not attr or not attr.isidentifier():
        raise SkewlessError(f"expected MODULE:NAME or path/to/file.py:NAME (e.g. skewless.definitions.flights:flights), "
                            f"got {spec!r}")
    is_file = module_name.endswith(".py") or "/" in module_name or os.sep in module_name
    try:
        module = _load_file(module_name) if is_file else _import_module(module_name)
    except SkewlessError as exc:  # e.g. a DefinitionError in the module's feature sets
        if is_file and str(exc).startswith("no Python file"):
            raise
        raise SkewlessError(f"module {module_name!r} failed to load: {exc}") from None
    except ModuleNotFoundError as exc:
        raise SkewlessError(f"cannot import module {module_name!r}: {exc}") from None
    except SyntaxError as exc:
        raise SkewlessError(f"module {module_name!r} has a syntax error: {exc.msg} ({exc.filename}, line {exc.lineno})") from None
    except Exception as exc:
        raise SkewlessError(f"module {module_name!r} raised {type(exc).__name__} on import: {exc}") from None
    try:
        return getattr(module, attr)
    except AttributeError:
        from .feature_set import FeatureSet
        from .fitting import FittedFeatureSet
        from .suggest import did_you_mean

        names = [n for n, v in vars(module).items() if isinstance(v, (FeatureSet, FittedFeatureSet))]
        raise SkewlessError(f"module {module_name!r} has no attribute {attr!r}{did_you_mean(attr, names)}") from None


def load_feature_set(spec: str, *, fitted: bool = False) -> "Any":
    """Load ``"package.module:name"`` (or ``"path/to/file.py:name"``) and check it is a :class:`FeatureSet`.

    With ``fitted=True`` any :class:`~skewless.compiled.CompiledFeatureSet` (e.g. a
    :class:`~skewless.fitting.FittedFeatureSet`) is accepted too.
    """
    from .compiled import CompiledFeatureSet
    from .feature_set import FeatureSet

    value = load_object(spec)
    kinds = CompiledFeatureSet if fitted else FeatureSet
    if not isinstance(value, kinds):
        want = "a FeatureSet or FittedFeatureSet" if fitted else "a FeatureSet"
        raise SchemaError(f"{spec} is a {type(value).__name__}, not {want}")
    return value
