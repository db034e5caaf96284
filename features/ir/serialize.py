"""Canonical JSON form of IR trees, used for fingerprints and artifacts."""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any

from ..dtypes import DataType
from .base import Node


def value_to_data(value: Any) -> Any:
    """JSON-able, type-tagged form of a literal or parameter value."""
    if isinstance(value, Node):
        return node_to_data(value)
    if isinstance(value, DataType):
        return {"dtype": value.to_json()}
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value) or (value == 0.0 and math.copysign(1.0, value) < 0):
            return {"float": repr(value)}
        return value
    if isinstance(value, tuple):
        return [value_to_data(v) for v in value]
    if isinstance(value, _dt.datetime):
        return {"datetime": value.isoformat(), "tz": getattr(value.tzinfo, "key", None)}
    if isinstance(value, _dt.date):
        return {"date": value.isoformat()}
    if isinstance(value, _dt.timedelta):
        return {"timedelta_us": value // _dt.timedelta(microseconds=1)}
    raise TypeError(f"cannot serialise {value!r}")


def node_to_data(node: Node) -> dict[str, Any]:
    data: dict[str, Any] = {"op": type(node).__name__}
    for name in type(node)._operands(node):
        value = getattr(node, name)
        data[name] = node_to_data(value) if isinstance(value, Node) else [node_to_data(v) for v in value]
    for key, value in node.params().items():
        data[key] = value_to_data(value)
    return data
