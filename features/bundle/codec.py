"""The typed JSON value codec: one spelling of skewless values in JSON, everywhere.

Bundles (golden rows), HTTP responses and the served-feature log all write values with these
functions, so a value looks the same wherever it is read and decodes to an equal value of the same
type (floats bitwise, datetimes to the microsecond and in their zone):

==========  ==================================================================================
Int64       JSON integer
Boolean     JSON ``true`` / ``false``
String      JSON string
Float64     JSON number; NaN, inf and -inf (which JSON cannot write) as ``{"float": "nan"}``,
            ``{"float": "inf"}``, ``{"float": "-inf"}``
Datetime    ISO 8601 text (``isoformat()``: with its UTC offset when zoned); decoded into the
            dtype's zone
Date        ISO 8601 date (``2013-10-31``)
Duration    ISO 8601 duration in one fixed form, exact to the microsecond: ``P1DT3.000005S``,
            ``-PT0.000001S``, ``PT0S`` (the form the HTTP API accepts as input)
null        ``null``
==========  ==================================================================================

With a dtype (:func:`encode_value` / :func:`decode_value`) the spelling above is all there is.
Containers that carry no dtype (the feature log's records) use :func:`encode_tagged` /
:func:`decode_tagged`: the same spellings, temporal values wrapped in a one-key tag
(``{"datetime": ..., "zone": "Europe/Paris"}``, ``{"date": ...}``, ``{"duration": ...}``);
skewless inputs and features are flat, so an object there is always a tag.

This module imports neither polars nor numpy.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from typing import Any, Mapping

__all__ = ["encode_value", "decode_value", "encode_float", "decode_float", "encode_duration", "decode_duration",
           "encode_tagged", "decode_tagged", "same_value", "CodecError"]

_US = _dt.timedelta(microseconds=1)
_US_PER_DAY = 86_400 * 1_000_000
_SPECIAL = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
_DURATION = re.compile(r"(-?)P(?:(\d+)D)?(?:T(\d+)(?:\.(\d{6}))?S)?")


class CodecError(ValueError):
    """A JSON value is not the spelling of a value of the expected dtype."""


def encode_float(v: float) -> Any:
    """A float as JSON: itself when finite, else ``{"float": "nan" | "inf" | "-inf"}``."""
    if v - v != 0.0:  # nan - nan and inf - inf are nan
        return {"float": "nan" if v != v else ("inf" if v > 0 else "-inf")}
    return float(v)


def decode_float(data: Any) -> float:
    if isinstance(data, dict):
        if len(data) == 1 and data.get("float") in _SPECIAL:
            return _SPECIAL[data["float"]]
        raise CodecError(f"not a float: {data!r}")
    if isinstance(data, bool) or not isinstance(data, (int, float)):
        raise CodecError(f"not a float: {data!r}")
    return float(data)


def encode_duration(v: _dt.timedelta) -> str:
    """``v`` as ``[-]P<days>DT<seconds>.<microseconds>S`` (parts that are zero left out)."""
    us = v // _US
    sign, us = ("-", -us) if us < 0 else ("", us)
    days, rest = divmod(us, _US_PER_DAY)
    seconds, micros = divmod(rest, 1_000_000)
    text = sign + "P" + (f"{days}D" if days else "")
    if rest or not days:
        text += f"T{seconds}" + (f".{micros:06d}" if micros else "") + "S"
    return text


def decode_duration(data: Any) -> _dt.timedelta:
    m = _DURATION.fullmatch(data) if isinstance(data, str) else None
    if m is None or (m.group(2) is None and m.group(3) is None):
        raise CodecError(f"not a duration in the form P<days>DT<seconds>.<microseconds>S: {data!r}")
    sign, days, seconds, micros = m.groups()
    us = int(days or 0) * _US_PER_DAY + int(seconds or 0) * 1_000_000 + int(micros or 0)
    try:
        return _dt.timedelta(microseconds=-us if sign else us)
    except OverflowError:
        raise CodecError(f"duration out of range: {data!r}") from None


def _kind(dtype: Any) -> str:
    return type(dtype).__name__


def encode_value(value: Any, dtype: Any) -> Any:
    """JSON form of one value of skewless dtype ``dtype`` (decodes to an equal value of the same type)."""
    if value is None:
        return None
    kind = _kind(dtype)
    if kind == "Float64":
        return encode_float(value)
    if kind in ("Datetime", "Date"):
        return value.isoformat()
    if kind == "Duration":
        return encode_duration(value)
    return value


def decode_value(data: Any, dtype: Any) -> Any:
    """Inverse of :func:`encode_value`; :class:`CodecError` when ``data`` is not a value of ``dtype``."""
    if data is None:
        return None
    kind = _kind(dtype)
    try:
        if kind == "Float64":
            return decode_float(data)
        if kind == "Datetime":
            value = _dt.datetime.fromisoformat(_text(data))
            zone = getattr(dtype, "time_zone", None)
            if zone is not None:
                if value.tzinfo is None:
                    raise CodecError(f"a zoned datetime needs an offset: {data!r}")
                from skewless.runtime.tz import get_zone

                value = value.astimezone(get_zone(zone))
            elif value.tzinfo is not None:
                raise CodecError(f"a naive datetime has no offset: {data!r}")
            return value
        if kind == "Date":
            return _dt.date.fromisoformat(_text(data))
        if kind == "Duration":
            return decode_duration(data)
    except (TypeError, OverflowError) as exc:
        raise CodecError(f"not a {kind}: {data!r} ({exc})") from None
    except CodecError:
        raise
    except ValueError as exc:
        raise CodecError(f"not a {kind}: {data!r} ({exc})") from None
    want = {"Int64": int, "Boolean": bool, "String": str}.get(kind)
    if want is not None and (type(data) is not want):
        raise CodecError(f"not a {kind}: {data!r}")
    return data


def _text(data: Any) -> str:
    if not isinstance(data, str):
        raise CodecError(f"expected ISO 8601 text, got {data!r}")
    return data


# --------------------------------------------------------------------------- without a dtype


def encode_tagged(v: Any) -> Any:
    """JSON form of a value whose dtype the reader will not know (the feature log's records)."""
    if isinstance(v, float):
        return encode_float(float(v))
    if isinstance(v, _dt.datetime):
        out = {"datetime": v.isoformat()}
        zone = getattr(v.tzinfo, "key", None)  # an IANA zone; fixed offsets (and UTC) need none
        if zone is not None:
            out["zone"] = zone
        return out
    if isinstance(v, _dt.date):
        return {"date": v.isoformat()}
    if isinstance(v, _dt.timedelta):
        return {"duration": encode_duration(v)}
    return v


class _Zones(dict):
    def __missing__(self, key: str) -> Any:
        from skewless.runtime.tz import get_zone

        zone = self[key] = get_zone(key)
        return zone


_ZONES = _Zones()


def decode_tagged(v: Any) -> Any:
    """Inverse of :func:`encode_tagged` (also reads ``{"duration_us": int}`` of feature logs of 2026-11)."""
    if not isinstance(v, dict):
        return v
    if "float" in v:
        return decode_float(v)
    if "datetime" in v:
        d = _dt.datetime.fromisoformat(v["datetime"])
        return d.astimezone(_ZONES[v["zone"]]) if "zone" in v else d
    if "date" in v:
        return _dt.date.fromisoformat(v["date"])
    if "duration" in v:
        return decode_duration(v["duration"])
    if "duration_us" in v:
        return _dt.timedelta(microseconds=v["duration_us"])
    raise CodecError(f"unknown tagged value {v!r}")


def decode_row(row: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return None if row is None else {k: decode_tagged(v) for k, v in row.items()}


def same_value(a: Any, b: Any) -> bool:
    """Exact equality: same type, floats bitwise (NaN equals NaN, -0.0 differs from 0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (a != a and b != b) or (a == b and math.copysign(1.0, a) == math.copysign(1.0, b))
    if isinstance(a, _dt.datetime):
        return a == b and a.utcoffset() == b.utcoffset()
    if isinstance(a, list):  # a multiclass score: element by element, floats bitwise
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    return a == b
