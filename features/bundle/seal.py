"""Sealing a bundle: the SHA-256 of every file in the manifest, and an optional HMAC signature.

What the seal protects against, and what it does not:

* **Damage and accidents** — a flipped digit in ``model.txt``, a truncated ``golden_rows.json``,
  a file copied in from another bundle, a stray file dropped into the directory: every file's
  SHA-256 and size is in ``manifest.json``; a bundle whose files differ, miss or add to that list
  is refused at load, naming the file, before LightGBM (or any parser) reads it. The manifest itself
  is validated strictly (:mod:`skewless.bundle.manifest`).
* **Not malice, on its own.** Anyone who can write the bundle can also rewrite the manifest's
  hashes. A deployment that must refuse bundles not made by its own pipeline sets a key
  (``SKEWLESS_BUNDLE_KEY`` when training, ``SKEWLESS_SERVE_BUNDLE_KEY`` when serving): ``train``
  writes ``signature.json``, an HMAC-SHA256 of the exact bytes of ``manifest.json`` (which hold
  every other file's hash), and the service refuses a bundle whose signature is missing or wrong.
  The key is a shared secret: whoever holds it can sign. It does not protect a running process,
  the Python environment or the key itself.
* Serving never imports or executes anything from a bundle: the feature set is rebuilt from its
  serialized IR (:mod:`skewless.bundle.definition`), the fitted state is data, the model is
  LightGBM's text format read by LightGBM (no pickle). A hash-valid model can still be a bad model:
  the golden rows' scores are replayed at every start.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Mapping

__all__ = ["file_entry", "seal_files", "sign", "verify_signature", "SIGNATURE_FILE", "SealError"]

SIGNATURE_FILE = "signature.json"
ALGORITHM = "hmac-sha256"


class SealError(ValueError):
    """A bundle's files or signature do not match its manifest."""


def file_entry(data: bytes) -> dict[str, object]:
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def seal_files(directory: Path, names: list[str]) -> dict[str, dict[str, object]]:
    """``{name: {"sha256": ..., "bytes": ...}}`` of the files ``names`` of ``directory``."""
    return {name: file_entry((Path(directory) / name).read_bytes()) for name in sorted(names)}


def check_file(name: str, data: bytes, entry: Mapping[str, object]) -> None:
    """Raise :class:`SealError` naming ``name`` unless ``data`` has the size and SHA-256 of ``entry``."""
    if len(data) != entry["bytes"]:
        raise SealError(f"{name} is {len(data):,} bytes, the manifest says {entry['bytes']:,}: the file was changed "
                        f"after the bundle was written")
    digest = hashlib.sha256(data).hexdigest()
    if digest != entry["sha256"]:
        raise SealError(f"{name} does not match the SHA-256 in the manifest ({digest[:16]}... vs "
                        f"{str(entry['sha256'])[:16]}...): the file was changed after the bundle was written")


def _key_bytes(key: str | bytes) -> bytes:
    return key.encode("utf-8") if isinstance(key, str) else bytes(key)


def sign(manifest_bytes: bytes, key: str | bytes) -> dict[str, str]:
    """The content of ``signature.json`` for these exact manifest bytes."""
    mac = hmac.new(_key_bytes(key), manifest_bytes, hashlib.sha256).hexdigest()
    return {"algorithm": ALGORITHM, "manifest_sha256": hashlib.sha256(manifest_bytes).hexdigest(), "hmac": mac}


def write_signature(directory: Path, key: str | bytes) -> None:
    data = (Path(directory) / "manifest.json").read_bytes()
    (Path(directory) / SIGNATURE_FILE).write_text(json.dumps(sign(data, key), indent=2) + "\n", encoding="utf-8")


def verify_signature(directory: Path, manifest_bytes: bytes, key: str | bytes) -> None:
    """Raise :class:`SealError` unless ``signature.json`` is a valid HMAC of ``manifest_bytes`` under ``key``."""
    file = Path(directory) / SIGNATURE_FILE
    if not file.is_file():
        raise SealError(f"the bundle is not signed (no {SIGNATURE_FILE}) and a bundle key is set: refusing it")
    try:
        raw = file.read_bytes()
        if len(raw) > 4096:
            raise ValueError("too large")
        doc = json.loads(raw)
        algorithm, mac = doc["algorithm"], doc["hmac"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SealError(f"{SIGNATURE_FILE} is unreadable ({type(exc).__name__}): refusing the bundle") from None
    if algorithm != ALGORITHM or not isinstance(mac, str):
        raise SealError(f"{SIGNATURE_FILE}: unknown algorithm {algorithm!r} (expected {ALGORITHM!r})")
    want = hmac.new(_key_bytes(key), manifest_bytes, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, mac):
        raise SealError(f"{SIGNATURE_FILE} does not verify with the configured key: the bundle was not signed "
                        f"by this pipeline, or manifest.json was changed")


def reseal(directory: Path, key: str | bytes | None = None) -> None:
    """Rewrite ``manifest.json``'s file list for the files as they are now (and sign it again with ``key``).

    For tools and tests that change a bundle on purpose; this is also what anyone with write
    access could do, which is why a deployment that must trust its bundles sets a key.
    """
    directory = Path(directory)
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    from .loader import UNLISTED  # the manifest, the signature and the embedded store's files

    names = [p.name for p in directory.iterdir() if p.name not in UNLISTED]
    manifest["files"] = seal_files(directory, names)
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    if key:
        write_signature(directory, key)
