"""Small helpers shared by the training jobs: atomic output directories, hashes, provenance, JSON."""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from skewless.errors import SkewlessError

if TYPE_CHECKING:  # pragma: no cover
    from skewless.feature_set import FeatureSet

__all__ = ["atomic_dir", "sha256_files", "git_info", "versions", "now_iso", "spec_of", "write_json", "json_safe"]


@contextlib.contextmanager
def atomic_dir(out_dir: Path, *, marker: str, overwrite: bool) -> Iterator[Path]:
    """Yield a fresh temporary directory next to ``out_dir``; on success it *becomes* ``out_dir``.

    The temporary directory is a hidden sibling (``.NAME.tmp-XXXX``) on the same
    file system, so the final step is a rename: readers never see a half-written
    ``out_dir``. On any exception the temporary directory is removed and
    ``out_dir`` is left as it was. An existing ``out_dir`` is replaced only with
    ``overwrite`` and only when it holds ``marker`` (a file this job writes), so
    that a typo cannot delete an unrelated directory.
    """
    out_dir = Path(out_dir)
    if out_dir.exists():
        if not out_dir.is_dir():
            raise SkewlessError(f"output path {str(out_dir)!r} exists and is not a directory")
        if not overwrite:
            raise SkewlessError(f"output directory {str(out_dir)!r} already exists; pass overwrite=True (--overwrite)")
        if any(out_dir.iterdir()) and not (out_dir / marker).exists():
            raise SkewlessError(
                f"refusing to replace {str(out_dir)!r}: it is not empty and has no {marker} (not written by skewless)"
            )
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out_dir)
    tag = uuid.uuid4().hex[:8]
    tmp = out_dir.parent / f".{out_dir.name}.tmp-{tag}"
    tmp.mkdir()
    owner = tmp.with_name(tmp.name + ".pid")  # beside it, not in it: the directory holds only the output
    owner.write_text(f"{os.getpid()}\n", encoding="ascii")
    try:
        yield tmp
        old = None
        if out_dir.exists():
            old = out_dir.parent / f".{out_dir.name}.old-{tag}"
            os.replace(out_dir, old)
        os.replace(tmp, out_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        owner.unlink(missing_ok=True)


#: A temporary directory without an owner file (written by a skewless before 2026-12) is stale after this.
STALE_UNOWNED_SECONDS = 24 * 3600


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_stale_temporaries(out_dir: Path) -> list[Path]:
    """Remove the hidden temporary directories of earlier jobs on ``out_dir`` that were killed (SIGKILL, OOM).

    A job's temporary directory ``.NAME.tmp-XXXX`` has an owner file ``.NAME.tmp-XXXX.pid`` beside
    it; a directory whose owner process is gone is removed (a running job's is left alone). The
    removed paths are returned.
    """
    import time

    removed = []
    for tmp in out_dir.parent.glob(f".{out_dir.name}.tmp-*"):
        if not tmp.is_dir():
            continue
        owner = tmp.with_name(tmp.name + ".pid")
        try:
            pid = int(owner.read_text(encoding="ascii").strip())
            stale = not _alive(pid)
        except FileNotFoundError:
            stale = time.time() - tmp.stat().st_mtime > STALE_UNOWNED_SECONDS
        except (OSError, ValueError):
            stale = True
        if stale:
            shutil.rmtree(tmp, ignore_errors=True)
            owner.unlink(missing_ok=True)
            removed.append(tmp)
    for owner in out_dir.parent.glob(f".{out_dir.name}.tmp-*.pid"):  # an owner file left without its directory
        if not owner.with_suffix("").exists():
            owner.unlink(missing_ok=True)
    return removed


def sha256_files(paths: Iterable[Path]) -> str:
    """SHA-256 over the bytes of ``paths`` (in the given order, each prefixed by its name and size)."""
    h = hashlib.sha256()
    for p in paths:
        p = Path(p)
        h.update(f"{p.name}\0{p.stat().st_size}\0".encode())
        with p.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def git_info(*dirs: Path | str | None) -> dict[str, Any] | None:
    """``{"commit": sha, "dirty": bool, "repo": path}`` of the first of ``dirs`` (then the cwd) inside a git work tree."""
    for d in [*dirs, os.getcwd()]:
        if d is None:
            continue
        d = Path(d)
        if d.is_file():
            d = d.parent
        if not d.is_dir():
            continue
        try:
            commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=d, capture_output=True, text=True, timeout=10)
            if commit.returncode != 0:
                continue
            top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=d, capture_output=True, text=True,
                                 timeout=10)
            status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=d,
                                    capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.SubprocessError):
            return None
        return {"commit": commit.stdout.strip(), "dirty": bool(status.stdout.strip()) if status.returncode == 0 else None,
                "repo": top.stdout.strip() or None}
    return None


def versions(*packages: str) -> dict[str, str | None]:
    """Installed versions of ``packages`` (plus python and skewless)."""
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {"python": ".".join(map(str, sys.version_info[:3]))}
    for name in ("skewless", *packages):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def spec_of(obj: "FeatureSet") -> str | None:
    """``"module:name"`` under which the feature set ``obj`` can be imported again, if any.

    A module that merely re-imports the object is a worse answer than the one
    defining it: names equal to the object's own ``name`` are preferred, then
    the module imported first (the defining module is imported before its importers).
    """
    found: list[tuple[int, int, str]] = []  # (not its own name, import order, spec)
    own = obj.name
    for mod_name, module in list(sys.modules.items()):
        if module is None or mod_name == "__main__":
            continue
        try:
            items = list(vars(module).items())
        except TypeError:  # pragma: no cover
            continue
        for name, value in items:
            if value is obj and not name.startswith("_"):
                # A module loaded from a file (or from the current directory) by skewless.io is recorded by
                # its path, so jobs started from another directory find it again.
                where = getattr(module, "__skewless_file__", None) or mod_name
                found.append((0 if name == own else 1, len(found), f"{where}:{name}"))
    return min(found)[2] if found else None


def json_safe(value: Any) -> Any:
    """Replace non-finite floats by strings (``"NaN"``, ``"inf"``, ``"-inf"``) and temporal values by ISO text."""
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return value
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, _dt.timedelta):
        return f"{value.total_seconds()}s"
    if isinstance(value, Path):
        return str(value)
    return value


def write_json(path: Path, data: Any, *, compact_depth: int | None = None) -> None:
    """Write ``data`` as readable JSON (objects nested deeper than ``compact_depth`` on one line)."""
    text = dumps_readable(json_safe(data), compact_depth=compact_depth)
    Path(path).write_text(text + "\n", encoding="utf-8")


def dumps_readable(data: Any, *, compact_depth: int | None = None, _depth: int = 0, _indent: str = "") -> str:
    if compact_depth is not None and _depth >= compact_depth or not isinstance(data, (dict, list)) or not data:
        return json.dumps(data, ensure_ascii=False, allow_nan=False)
    inner = _indent + "  "
    if isinstance(data, list):
        items = [dumps_readable(v, compact_depth=compact_depth, _depth=_depth + 1, _indent=inner) for v in data]
        return "[\n" + ",\n".join(inner + i for i in items) + "\n" + _indent + "]"
    items = [
        json.dumps(str(k), ensure_ascii=False) + ": "
        + dumps_readable(v, compact_depth=compact_depth, _depth=_depth + 1, _indent=inner)
        for k, v in data.items()
    ]
    return "{\n" + ",\n".join(inner + i for i in items) + "\n" + _indent + "}"
