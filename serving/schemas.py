"""Request and response models generated from a feature set's declared schemas.

Input dtypes map to strict pydantic types (a bool is not an int, a string is not a number):

=============  ==========================================================================
Int64          ``StrictInt`` (in the signed 64-bit range)
Float64        strict float; an integer JSON number is accepted and becomes a float;
               NaN/inf refused unless ``allow_non_finite``
Boolean        ``StrictBool``
String         ``StrictStr``
Datetime(tz)   ISO 8601 string **with an offset** (naive ones are refused with 422), converted
               to the declared zone; a naive Datetime input takes a naive string
               (one with an offset is refused)
Date           ISO date string
Duration       ISO 8601 duration string

Temporal values must be strings (numbers such as unix times are refused).
=============  ==========================================================================

Nullable inputs are ``Optional`` but still required (send ``null`` explicitly). Unknown
fields are refused (``extra="forbid"``) unless the settings say ``ignore``.

Batch requests (:func:`batch_model`) are ``{"rows": [row, ...]}`` with at most ``max_rows`` rows
(``maxItems`` in the OpenAPI document); an error's ``loc`` is ``["body", "rows", index, field]``.

Responses are written with the one typed JSON codec (:mod:`skewless.bundle.codec`, also used by
the bundle's golden rows and the feature log): Float64 feature values (and scores) that are not
finite are ``{"float": "nan"}`` / ``"inf"`` / ``"-inf"`` (JSON has no NaN); Datetime and Date
features are ISO 8601 strings; Duration features are ISO 8601 durations exact to the microsecond
(``P1DT3.000005S``: the form inputs accept).
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, create_model

from skewless.bundle.codec import encode_duration, encode_float
from skewless.dtypes import Boolean, Date, Datetime, Duration, Float64, Int64, String
# The request types are the library's (skewless.requests), so checked_row_fn accepts exactly what the service does.
from skewless.requests import I64, input_type

__all__ = ["request_model", "batch_model", "features_model", "NonFinite", "FeatureEncoder", "encode_features", "I64"]



class NonFinite(BaseModel):
    """A float that JSON cannot write: NaN, inf or -inf."""

    float: Literal["nan", "inf", "-inf"]


def output_type(dtype: Any) -> Any:
    if isinstance(dtype, Float64):
        return Union[float, NonFinite]
    if isinstance(dtype, Int64):
        return int
    if isinstance(dtype, Boolean):
        return bool
    if isinstance(dtype, String):
        return str
    if isinstance(dtype, Datetime):
        return _dt.datetime
    if isinstance(dtype, Date):
        return _dt.date
    if isinstance(dtype, Duration):
        return Annotated[str, Field(description="ISO 8601 duration, exact to the microsecond (P1DT3.000005S)")]
    raise TypeError(f"no response type for dtype {dtype!r}")


def _fields(schema: dict[str, Any], make) -> dict[str, Any]:
    out = {}
    for name, f in schema.items():
        t = make(f.dtype)
        out[name] = (Optional[t] if f.nullable else t, ...)
    return out


def request_model(name: str, schema: dict[str, Any], *, extra: str = "forbid",
                  allow_non_finite: bool = False, example: dict[str, Any] | None = None) -> type[BaseModel]:
    """A model for one request row of the feature set's input ``schema`` (name -> Field).

    ``example`` (a JSON row, e.g. a golden row's inputs) is shown in the OpenAPI document.
    """
    config = ConfigDict(extra=extra)
    if example is not None:
        config["json_schema_extra"] = {"examples": [example]}
    return create_model(f"{name}_inputs", __config__=config,
                        **_fields(schema, lambda d: input_type(d, allow_non_finite=allow_non_finite)))


def batch_model(name: str, inputs: type[BaseModel], max_rows: int,
                example: dict[str, Any] | None = None) -> type[BaseModel]:
    """A batch request: ``{"rows": [inputs, ...]}`` with at most ``max_rows`` rows (may be empty).

    Over ``max_rows`` the error is pydantic's ``too_long`` (a 422 whose message names the limit).
    """
    config = ConfigDict(extra="forbid")
    if example is not None:
        config["json_schema_extra"] = {"examples": [{"rows": [example]}]}
    return create_model(f"{name}_batch", __config__=config,
                        rows=(Annotated[list[inputs], Field(max_length=max_rows)], ...))  # type: ignore[valid-type]


def features_model(name: str, schema: dict[str, Any]) -> type[BaseModel]:
    """A model of the feature values of one row (the feature set's output ``schema``)."""
    return create_model(f"{name}_features", __config__=ConfigDict(extra="forbid"), **_fields(schema, output_type))


def non_finite(v: float) -> dict[str, str]:
    """The :class:`NonFinite` form of a NaN or infinite float (the codec's spelling)."""
    return encode_float(v)


class FeatureEncoder:
    """JSON-ready feature values for one schema, with the per-dtype decisions taken once.

    Same output as :func:`encode_features`; used on the request path (only the Float64 and
    temporal features are looked at, the others are copied as they are).
    """

    def __init__(self, schema: dict[str, Any]):
        self.names = tuple(schema)
        self.floats = tuple(n for n, f in schema.items() if isinstance(f.dtype, Float64))
        self.iso = tuple(n for n, f in schema.items() if isinstance(f.dtype, (Datetime, Date)))
        self.seconds = tuple(n for n, f in schema.items() if isinstance(f.dtype, Duration))

    def __call__(self, values: dict[str, Any]) -> dict[str, Any]:
        out = {n: values[n] for n in self.names}
        isfinite = math.isfinite
        for n in self.floats:
            v = out[n]
            if v is not None and not isfinite(v):
                out[n] = non_finite(v)
        for n in self.iso:
            v = out[n]
            if v is not None:
                out[n] = v.isoformat()
        for n in self.seconds:
            v = out[n]
            if v is not None:
                out[n] = encode_duration(v)
        return out


def encode_features(values: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """JSON-ready feature values: :func:`skewless.bundle.codec.encode_value` of each."""
    from skewless.bundle.codec import encode_value

    return {name: encode_value(values[name], f.dtype) for name, f in schema.items()}
