"""A feature set rebuilt from its own serialized definition (the bundle's ``feature_set.json``).

A bundle carries the canonical JSON of its feature set's IR (:meth:`FeatureSet.ir_json`: the
inputs and, per feature, the tree of ops with its parameters). Serving rebuilds the feature set
from that data alone: each op is looked up by class name in the IR's registry
(:data:`skewless.ir.base.OPS`, the ops of *this* skewless), its parameters are decoded from their
type-tagged JSON, and the definition is type-checked again as if written in code. No module named
by the bundle is ever imported, and nothing from the bundle is executed: strings become IR
parameters, which the code generator writes only as ``repr`` literals or function constants.

The rebuilt definition must serialize back to exactly the data it was read from and hash to the
fingerprint the manifest records; otherwise loading is refused, naming the feature.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from typing import Any, Mapping

__all__ = ["definition_from_data", "DefinitionDataError"]

#: Deepest IR tree accepted (the demo sets stay under 40; a deeper file is refused, not recursed into).
MAX_DEPTH = 200


class DefinitionDataError(ValueError):
    """The serialized definition cannot be rebuilt; the message names the feature."""


def _value(data: Any, depth: int) -> Any:
    from skewless.dtypes import dtype_from_json

    if depth > MAX_DEPTH:
        raise DefinitionDataError("definition nested too deeply")
    if data is None or isinstance(data, (bool, int, str)):
        return data
    if isinstance(data, float):
        return data
    if isinstance(data, list):
        return tuple(_value(v, depth + 1) for v in data)
    if isinstance(data, dict):
        if "op" in data:
            return _node(data, depth + 1)
        if set(data) == {"dtype"}:
            return dtype_from_json(data["dtype"])
        if set(data) == {"float"} and data["float"] in ("nan", "inf", "-inf", "-0.0"):
            return float(data["float"])
        if set(data) == {"datetime", "tz"}:
            value = _dt.datetime.fromisoformat(data["datetime"])
            if data["tz"] is not None:
                from skewless.runtime.tz import get_zone

                value = value.astimezone(get_zone(data["tz"]))
            return value
        if set(data) == {"date"}:
            return _dt.date.fromisoformat(data["date"])
        if set(data) == {"timedelta_us"} and type(data["timedelta_us"]) is int:
            return _dt.timedelta(microseconds=data["timedelta_us"])
    raise DefinitionDataError(f"unknown parameter value {str(data)[:80]!r}")


def _node(data: Mapping[str, Any], depth: int = 0) -> Any:
    from skewless.ir.base import OPS

    if depth > MAX_DEPTH:
        raise DefinitionDataError("definition nested too deeply")
    if not isinstance(data, Mapping) or not isinstance(data.get("op"), str):
        raise DefinitionDataError(f"not an IR node: {str(data)[:80]!r}")
    cls = OPS.get(data["op"])
    if cls is None:
        raise DefinitionDataError(f"unknown op {data['op']!r} (made by another version of skewless?)")
    operands = set(cls._operands())
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - fields - {"op"}
    if unknown:
        raise DefinitionDataError(f"op {data['op']} has no field(s) {sorted(unknown)}")
    kwargs: dict[str, Any] = {}
    for name in fields:
        if name not in data:
            raise DefinitionDataError(f"op {data['op']} is missing field {name!r}")
        value = data[name]
        if name in operands:
            if isinstance(value, list):
                kwargs[name] = tuple(_node(v, depth + 1) for v in value)
            else:
                kwargs[name] = _node(value, depth + 1)
        else:
            kwargs[name] = _value(value, depth + 1)
    try:
        return cls(**kwargs)
    except Exception as exc:
        raise DefinitionDataError(f"op {data['op']}: {type(exc).__name__}: {exc}") from None


def definition_from_data(data: Mapping[str, Any]) -> Any:
    """The :class:`~skewless.FeatureSet` described by ``data`` (the output of ``FeatureSet.ir_json()``)."""
    from skewless.api.expr import Expr
    from skewless.dtypes import dtype_from_json
    from skewless.errors import SkewlessError
    from skewless.feature_set import FeatureSet, Input
    from skewless.ir.serialize import node_to_data

    try:
        name = data["name"]
        inputs = {k: Input(dtype_from_json(v["dtype"]), bool(v["nullable"])) for k, v in data["inputs"].items()}
        raw = data["features"]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DefinitionDataError(f"not a serialized feature set ({type(exc).__name__}: {exc})") from None
    lookups: tuple = ()
    if "lookups" in data:
        from skewless.state.lookups import Lookups

        try:
            lookups = Lookups.from_json({k: i.field().dtype for k, i in inputs.items()}, data["lookups"]).lookups
        except (SkewlessError, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DefinitionDataError(f"lookups: {type(exc).__name__}: {exc}") from None
    windows: tuple = ()
    if "windows" in data:
        from skewless.windows.declared import FeatureWindows

        try:
            # (name clashes with looked-up columns are checked again by FeatureSet below)
            windows = FeatureWindows.from_json({k: i.field() for k, i in inputs.items()}, data["windows"],
                                               _node).declared
        except (SkewlessError, DefinitionDataError, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DefinitionDataError(f"windows: {type(exc).__name__}: {exc}") from None
    features = {}
    for key, tree in raw.items():
        try:
            node = _node(tree)
        except DefinitionDataError as exc:
            raise DefinitionDataError(f"feature {key!r}: {exc}") from None
        if node_to_data(node) != tree:
            raise DefinitionDataError(f"feature {key!r}: the definition does not serialize back to itself")
        features[key] = Expr(node)
    try:
        return FeatureSet(name, inputs, features, lookups=lookups, windows=windows)
    except (SkewlessError, TypeError, ValueError) as exc:
        raise DefinitionDataError(f"the serialized definition does not type-check: {exc}") from None
