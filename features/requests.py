"""The per-request contract: ``row_fn`` is the fast, unvalidated hot path; :func:`checked_row_fn` validates.

``fs.row_fn(row)`` trusts its caller: every declared input present, of its declared Python type
(``float`` for Float64, ``datetime`` in the declared zone, ...), ``None`` only where nullable. It
does no checks, so a wrong value gives a wrong answer, not an error: ``row_fn({"x": 7})`` for a
Float64 ``x`` computes with the int 7 (``-x`` is ``0``, not ``-0.0``; ``x.cast(String)`` is ``'7'``,
not ``'7.0'``) — exactly the ints ``json.loads`` produces for ``7``. Call it only with rows you
built or validated.

:func:`checked_row_fn` (and :func:`request_validator`) validate and coerce a row exactly as the
HTTP service does (the same pydantic types as ``skewless.serving.schemas``; a test keeps them
equal), then call ``row_fn``:

=============  ==========================================================================
Int64          an ``int`` in the signed 64-bit range (``True``, ``1.0`` and ``"1"`` refused)
Float64        a ``float``; an ``int`` becomes a float (so ``7`` gives the features of ``7.0``);
               NaN/inf refused unless ``allow_non_finite=True`` (the service's default: JSON has none)
Boolean        a ``bool``
String         a ``str``
Datetime(tz)   an aware ``datetime`` or an ISO 8601 string with an offset, converted to the
               declared zone (naive ones refused); a naive Datetime input takes naive ones only
Date           a ``date`` or an ISO date string
Duration       a ``timedelta`` or an ISO 8601 duration string
=============  ==========================================================================

Every declared input is required (a nullable one may be ``None``; a non-nullable one may not);
unknown keys are refused unless ``extra="ignore"``. Errors are :class:`RequestError` naming each
field.
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
from typing import Any, Callable, Mapping

from .dtypes import Boolean, Date, Datetime, Duration, Float64, Int64, String
from .errors import SkewlessError

__all__ = ["RequestError", "request_validator", "checked_row_fn", "input_type", "I64"]

I64 = (-(2 ** 63), 2 ** 63 - 1)


class RequestError(SkewlessError, ValueError):
    """A request row that does not match the declared inputs; ``errors`` is ``[(field, message), ...]``."""

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"input {name!r}: {msg}" for name, msg in errors))


# ISO 8601 only: pydantic also reads digit strings ("19999999999") as unix times, which the service's
# documentation says are refused. A date or datetime starts with a four-digit year, a duration with P.
_ISO_DATE = re.compile(r"[0-9]{4}-")
_ISO_DURATION = re.compile(r"-?P")


def _iso_text(pattern: "re.Pattern[str]", what: str) -> Any:
    from pydantic import BeforeValidator

    def check(v: Any) -> Any:
        # Temporal values are ISO 8601 text or Python temporal objects: no unix-time numbers, no bools.
        if isinstance(v, str):
            if not pattern.match(v):
                raise ValueError(f"expected an ISO 8601 {what} string")
        elif not isinstance(v, (_dt.date, _dt.timedelta)):
            raise ValueError("expected an ISO 8601 string")
        return v

    return BeforeValidator(check)


def _in_zone(zone: str) -> Callable[[Any], Any]:
    from .runtime.tz import get_zone

    tz = get_zone(zone)

    def convert(v: _dt.datetime) -> _dt.datetime:
        try:
            return v.astimezone(tz)
        except (OverflowError, ValueError):  # 0001-01-01T00:00:00+14:00 is before year 1 in UTC
            raise ValueError(f"datetime out of range once converted to {zone}") from None

    return convert


def input_type(dtype: Any, *, allow_non_finite: bool = False) -> Any:
    """The strict pydantic type of one input of skewless dtype ``dtype``: the service's request types.

    ``skewless.serving`` builds its request models from this function, so a row accepted here is accepted
    by the service and converted the same way.
    """
    from typing import Annotated

    from pydantic import AfterValidator, AwareDatetime, Field, NaiveDatetime, StrictBool, StrictInt, StrictStr

    iso, iso_duration = _iso_text(_ISO_DATE, "date or datetime"), _iso_text(_ISO_DURATION, "duration")
    if isinstance(dtype, Int64):
        # strict: a JSON integer; 1.0 is refused although JSON Schema calls it an integer (the
        # description says so), like True and "1"
        return Annotated[StrictInt, Field(ge=I64[0], le=I64[1], description="a JSON integer (1.0 is refused)")]
    if isinstance(dtype, Float64):
        return Annotated[float, Field(strict=True, allow_inf_nan=allow_non_finite)]  # strict: int -> float, bool refused
    if isinstance(dtype, Boolean):
        return StrictBool
    if isinstance(dtype, String):
        return StrictStr
    if isinstance(dtype, Datetime):
        if dtype.time_zone is None:
            return Annotated[NaiveDatetime, iso]
        # JSON Schema cannot state the range, so the description does: 0001-01-01T00:24:08+01:00 is a valid
        # date-time string whose instant (0000-12-31 in UTC) no Python datetime holds
        return Annotated[AwareDatetime, iso, AfterValidator(_in_zone(dtype.time_zone)),
                         Field(description=f"an ISO 8601 datetime with an offset; refused (422) when its instant "
                                           f"falls outside years 1-9999 in {dtype.time_zone}")]
    if isinstance(dtype, Date):
        return Annotated[_dt.date, iso]
    if isinstance(dtype, Duration):
        return Annotated[_dt.timedelta, iso_duration]
    raise TypeError(f"no request type for dtype {dtype!r}")


@functools.lru_cache(maxsize=256)
def _model(fs: Any, extra: str, allow_non_finite: bool) -> Any:
    from typing import Optional

    from pydantic import ConfigDict, create_model

    fields = {}
    for name, f in fs.request_schema().items():
        t = input_type(f.dtype, allow_non_finite=allow_non_finite)
        fields[name] = (Optional[t] if f.nullable else t, ...)
    return create_model(f"{fs.name}_request", __config__=ConfigDict(extra=extra), **fields)


def request_validator(fs: Any, *, extra: str = "forbid", allow_non_finite: bool = False
                      ) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """``validate(row) -> row``: the row coerced as the service does (see the module docstring).

    Raises
    ------
    RequestError
        Naming every field that is missing, of the wrong type, null where not nullable, or unknown.
    """
    if extra not in ("forbid", "ignore"):
        raise ValueError("extra must be 'forbid' or 'ignore'")
    from pydantic import ValidationError

    model = _model(fs, extra, bool(allow_non_finite))
    names = list(fs.request_schema())

    def validate(row: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(row, Mapping):
            raise RequestError([("<row>", f"expected a mapping of input names to values, got {type(row).__name__}")])
        try:
            m = model.model_validate(row)
        except ValidationError as exc:
            raise RequestError([(".".join(str(p) for p in e["loc"]) or "<row>", _message(e))
                                for e in exc.errors(include_url=False)]) from None
        return {n: getattr(m, n) for n in names}

    return validate


def _message(error: Mapping[str, Any]) -> str:
    kind = error.get("type")
    if kind == "missing":
        return "missing (every declared input is required; send None for a nullable one)"
    if kind == "extra_forbidden":
        return "not a declared input (pass extra='ignore' to drop unknown keys)"
    msg = error.get("msg", "invalid")
    if "none" in str(kind).lower() or error.get("input", 0) is None:
        return f"null, but the input is not nullable ({msg})"
    return f"{msg} (got {error.get('input')!r})"


def checked_row_fn(fs: Any, *, extra: str = "forbid", allow_non_finite: bool = False, store: Any = None
                   ) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """``fn(row) -> features``: validate and coerce ``row`` as the service does, then run ``fs.row_fn``.

    ``fs`` is a FeatureSet or a FittedFeatureSet. An int given for a Float64 input yields the same
    features as the float. A set with lookups validates a request (``fs.request_schema()``: keys and
    time, no looked-up columns) and reads its lookups from ``store`` (``fs.online_row_fn``).
    """
    validate = request_validator(fs, extra=extra, allow_non_finite=allow_non_finite)
    row_fn = fs.online_row_fn(store) if fs.lookups is not None else fs.row_fn

    def checked(row: Mapping[str, Any]) -> dict[str, Any]:
        return row_fn(validate(row))

    return checked
