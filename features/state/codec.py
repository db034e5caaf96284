"""Bytes for keys and rows: exact, typed, and the same in every store.

Keys are canonical JSON arrays (``["N14228"]``, ``[2013, "EWR"]``), so ``1``, ``"1"`` and ``true`` are three
different entities, as they are in polars. Rows are JSON objects in which every float keeps its bits
(``repr`` round-trips; ``NaN``, ``Infinity``, ``-Infinity`` and ``-0.0`` are written as such) and temporal
values are tagged arrays: ``["dt", micros, zone]`` (zone ``null`` for naive), ``["d", days]``,
``["td", micros]``; a nested JSON document (the windows' per-entity state: lists and dicts of JSON scalars) is
``["j", document]``, kept as is (one parse, no string escaping). ``bytes`` values (the windows' columnar event
arrays) are ``["b", offset, length]`` into a binary tail: the row is then its JSON text, one ``\n`` (JSON
written compactly never contains a raw newline) and the concatenated bytes, so a large binary value is
neither escaped nor parsed, only sliced. JSON rather than pickle: a store is shared with other processes and
pickle would execute what it reads.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from typing import Any

from skewless.runtime.tz import get_zone
from skewless.state.protocol import InvalidKey, Key, Row

_EPOCH_UTC = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_EPOCH_NAIVE = _dt.datetime(1970, 1, 1)
_EPOCH_DATE = _dt.date(1970, 1, 1)
_KEY_TYPES = (str, int, bool)


# Text json.dumps(..., ensure_ascii=True) writes as itself: printable ASCII except '"' and '\\'.
_PLAIN_TEXT = re.compile(r'[ !#-\[\]-~]*\Z')


def encode_key(table: str, key: Key) -> str:
    """The canonical text of ``key``; :class:`InvalidKey` for a null, float or non-tuple key."""
    if type(key) is tuple and len(key) == 1:  # the common key, on every request: what json.dumps writes
        part = key[0]
        if type(part) is str and _PLAIN_TEXT.match(part):
            return f'["{part}"]'
        if type(part) is int:
            return f"[{part}]"
    if type(key) is not tuple or not key:
        raise InvalidKey(f"table {table!r}: an entity key is a non-empty tuple, got {key!r}")
    for part in key:
        if part is None:
            raise InvalidKey(f"table {table!r}: null in entity key {key!r} (a null key identifies no entity)")
        if type(part) not in _KEY_TYPES:
            raise InvalidKey(f"table {table!r}: entity key {key!r} has a {type(part).__name__} part; "
                             "key parts are int, str or bool")
    return json.dumps(list(key), separators=(",", ":"), ensure_ascii=True)


def micros(value: _dt.datetime) -> int:
    """Microseconds since the Unix epoch (UTC) of an aware ``datetime``."""
    if value.tzinfo is None:
        raise ValueError(f"event time {value!r} has no time zone")
    delta = value - _EPOCH_UTC
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _encode_value(value: Any, tail: list[bytes] | None = None) -> Any:
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, _dt.datetime):
        tz = value.tzinfo
        if tz is None:
            delta = value - _EPOCH_NAIVE
            zone = None
        else:
            zone = "UTC" if tz is _dt.timezone.utc else getattr(tz, "key", None)
            if zone is None:
                raise TypeError(f"datetime {value!r}: only zoneinfo zones (or UTC) can be stored")
            delta = value - _EPOCH_UTC
        return ["dt", (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds, zone]
    if isinstance(value, _dt.date):
        return ["d", (value - _EPOCH_DATE).days]
    if isinstance(value, _dt.timedelta):
        return ["td", (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds]
    if type(value) in (list, dict):
        return ["j", value]
    if type(value) is bytes and tail is not None:
        offset = sum(map(len, tail))
        tail.append(value)
        return ["b", offset, len(value)]
    raise TypeError(f"a {type(value).__name__} value cannot be stored: {value!r}")


def encode_row(row: Row) -> bytes:
    """``row`` as UTF-8 JSON bytes; ``TypeError`` naming a value no dtype maps to."""
    tail: list[bytes] = []
    try:
        out = {str(name): _encode_value(value, tail) for name, value in row.items()}
    except AttributeError:
        raise TypeError(f"a state row is a mapping of column to value, got {type(row).__name__}") from None
    text = json.dumps(out, separators=(",", ":"), ensure_ascii=True, allow_nan=True).encode()
    return text + b"\n" + b"".join(tail) if tail else text


def _decode_value(value: Any, tail: bytes = b"") -> Any:
    if type(value) is not list:
        return value
    tag = value[0]
    if tag == "dt":
        _, us, zone = value
        if zone is None:
            return _EPOCH_NAIVE + _dt.timedelta(microseconds=us)
        return (_EPOCH_UTC + _dt.timedelta(microseconds=us)).astimezone(get_zone(zone))
    if tag == "d":
        return _EPOCH_DATE + _dt.timedelta(days=value[1])
    if tag == "td":
        return _dt.timedelta(microseconds=value[1])
    if tag == "j":
        return value[1]
    if tag == "b":
        _, offset, length = value
        if offset + length > len(tail):
            raise ValueError(f"tagged bytes {value!r} reach past the row's binary tail ({len(tail)} bytes)")
        return tail[offset:offset + length]
    raise ValueError(f"unknown tagged value {value!r} in a stored row")


def decode_row(data: bytes | str) -> dict[str, Any]:
    """The row :func:`encode_row` wrote."""
    tail = b""
    if type(data) is bytes:
        cut = data.find(b"\n")
        if cut >= 0:
            data, tail = data[:cut], data[cut + 1:]
    row = json.loads(data)
    for name, value in row.items():
        if type(value) is list:  # only tagged values need decoding (assigning keeps the dict's size)
            row[name] = _decode_value(value, tail)
    return row
