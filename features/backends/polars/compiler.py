"""Compile a feature set to polars expressions and a ``LazyFrame -> LazyFrame`` transform."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping

from ...dtypes import DataType, Field
from ...errors import SchemaError
from ...ir.base import Column, Literal, Node
from ..driver import Driver
from ..registry import OperandInfo
from .dtypes import literal_expr, to_polars
from .lazy import pl
from .rules import RULES

if TYPE_CHECKING:
    from ...feature_set import FeatureSet


@dataclass(frozen=True, slots=True)
class PArg(OperandInfo):
    """An operand as a polars rule sees it: its polars expression, static field and IR node."""

    expr: Any
    field: Field
    node: Node


class PolarsCompiler(Driver):
    """Compiles IR nodes to polars expressions through the rule table (see :class:`~skewless.backends.driver.Driver`).

    ``per_batch`` (default): kernels that polars' streaming engine would run on a whole gathered
    column (``replace_strict``, ``search_sorted``) are called per batch instead, so memory stays
    bounded on any number of rows; ``per_batch=False`` emits them natively (the same values; faster
    on tiny in-memory frames, where polars runs them in parallel without the GIL).
    """

    rules = RULES

    def __init__(self, fields: Mapping[Node, Field], *, per_batch: bool = True):
        super().__init__(fields)
        self.per_batch = per_batch

    def dtype(self, node: Node) -> DataType:
        return self.fields[node].dtype

    def compile_column(self, node: Column) -> Any:
        return pl.col(node.name)

    def compile_literal(self, node: Literal) -> Any:
        return literal_expr(node.value, node.dtype)

    def operand(self, parent: Node, child: Node, value: Any) -> PArg:
        return PArg(value, self.fields[child], child)

    #: The polars expression of a node (the driver's :meth:`~skewless.backends.driver.Driver.compile`).
    expr = Driver.compile


def compile_exprs(fs: "FeatureSet", *, per_batch: bool = True) -> dict[str, Any]:
    """One aliased polars expression per output column, in definition order (``per_batch``: see PolarsCompiler)."""
    comp = PolarsCompiler(fs._fields, per_batch=per_batch)
    out = {}
    for name, feat in fs.features.items():
        comp.feature = name
        value = comp.expr(feat.node)
        if feat.columns == (name,):
            out[name] = value.alias(name)
        else:  # an op with several output columns (a lowered one_hot): one expression per column
            out.update((column, expr.alias(column)) for column, expr in zip(feat.columns, value))
    return out


# Lossless widenings accepted from data sources: a parquet file with Int32 or
# Float32 columns should feed an Int64 / Float64 input without a manual cast.
_WIDENINGS = {
    "Int64": {"Int8", "Int16", "Int32", "UInt8", "UInt16", "UInt32"},
    "Float64": {"Float32"},
    "String": {"Categorical", "Enum"},
}


def _base_name(dtype: Any) -> str:
    # ``to_polars`` gives classes (pl.Int64) for plain dtypes, schemas give instances: compare base names.
    return dtype.base_type().__name__


def conform_inputs(fs: "FeatureSet", schema: Mapping[str, Any]) -> list[Any]:
    """Expressions selecting the used inputs with their declared dtypes; raises naming the column."""
    return _conform(fs, schema)[0]


def _conform(fs: "FeatureSet", schema: Mapping[str, Any]) -> tuple[list[Any], bool]:
    """:func:`conform_inputs`, plus whether any input needs a cast (False: the step is an identity)."""
    exprs = []
    casts = False
    for name in fs.used_inputs():
        declared = fs.inputs[name]
        want = to_polars(declared.dtype)
        if name not in schema:
            from ...suggest import did_you_mean

            raise SchemaError(f"input column {name!r} is missing from the data{did_you_mean(name, schema)}")
        have = schema[name]
        if have == want:
            exprs.append(pl.col(name))
            continue
        casts = True
        if have == pl.Null:
            exprs.append(pl.col(name).cast(want))
        elif _base_name(have) in _WIDENINGS.get(_base_name(want), ()) or (
            isinstance(have, pl.Datetime) and isinstance(want, pl.Datetime) and have.time_zone == want.time_zone
        ):
            exprs.append(pl.col(name).cast(want))
        else:
            raise SchemaError(f"input column {name!r} has dtype {have}, but the feature set declares {want}")
    return exprs, casts


def transform(fs: "FeatureSet", frame: Any, *, keep: tuple[str, ...] = (), per_batch: bool = True) -> Any:
    """``LazyFrame -> LazyFrame`` computing every feature; ``keep`` columns pass through first.

    ``per_batch=False`` compiles the lookup kernels natively (see :class:`PolarsCompiler`).
    """
    from ...frames import as_polars

    frame = as_polars(frame, fs)  # pandas, pyarrow, paths: converted losslessly or refused naming the column
    lf = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
    schema = lf.collect_schema()
    for k in keep:
        if k not in schema:
            raise SchemaError(f"column {k!r} to keep is missing from the data")
    inputs, casts = _conform(fs, schema)
    exprs = fs._compiled_polars(per_batch)  # compiled once per feature set (and per_batch)
    clash = set(keep) & set(exprs)
    if clash:
        raise SchemaError(f"kept columns {sorted(clash)} clash with feature names")
    if casts:  # otherwise every input already has its declared dtype: no identity step in the plan
        lf = lf.with_columns(inputs)
    if not keep and not fs.used_inputs():
        # A select of scalars only gives one row; with_columns broadcasts them to the frame's height.
        # (A feature that reads no input is a literal after normalisation, skewless.ir.normalize, or
        # one_hot's columns of one; next to a column, select broadcasts them itself.)
        return lf.with_columns(*exprs.values()).select(list(exprs))
    return lf.select([*(pl.col(k) for k in keep), *exprs.values()])
