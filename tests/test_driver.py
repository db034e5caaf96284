"""The compiler driver both backends share: memo, rule lookup and its errors, declared gaps."""

from __future__ import annotations

import pytest

from skewless import CompileError, Float64, Int64, col, lit
from skewless.backends.driver import Driver
from skewless.backends.polars.compiler import PolarsCompiler
from skewless.backends.python.codegen import Emitter
from skewless.backends.registry import RuleTable
from skewless.dtypes import Field
from skewless.ir import core
from skewless.ir import numeric as ops


def _driver(table: RuleTable) -> Driver:
    class Tiny(Driver):
        rules = table

        def compile_column(self, node):
            return node.name

        def compile_literal(self, node):
            return repr(node.value)

        def operand(self, parent, child, value):
            return value

    fields = {}
    d = Tiny(fields)
    d.feature = "f"
    return d


def test_both_backends_use_the_driver():
    assert issubclass(PolarsCompiler, Driver) and issubclass(Emitter, Driver)
    assert PolarsCompiler.expr is Driver.compile and Emitter.value is Driver.compile


def test_rules_are_applied_bottom_up_once_per_node():
    table = RuleTable("tiny")
    calls = []

    @table.register(ops.Abs, ops.Exp)
    def rule(d, node, args):
        calls.append(type(node).__name__)
        return f"{type(node).__name__.lower()}({args[0]})"

    node = ops.Abs(ops.Exp(col("x")._node))
    d = _driver(table)
    assert d.compile(node) == "abs(exp(x))"
    assert d.compile(ops.Exp(col("x")._node)) == "exp(x)"  # memo: no second call
    assert calls == ["Exp", "Abs"]


def test_missing_rule_and_declared_gap_name_op_feature_and_backend():
    table = RuleTable("tiny")
    table.gap(ops.Exp, "tiny cannot raise e to a power, it has no floats at all")
    d = _driver(table)
    with pytest.raises(CompileError, match=r"op Abs has no tiny rule \(feature 'f', in col\('x'\)\.abs\(\)\)"):
        d.compile(ops.Abs(col("x")._node))
    with pytest.raises(CompileError, match=r"op Exp is a declared gap of the tiny backend: tiny cannot .* \(feature 'f'"):
        d.compile(ops.Exp(col("x")._node))


def test_a_gap_and_a_rule_for_one_op_are_refused():
    table = RuleTable("tiny")
    table.register(ops.Abs)(lambda d, n, a: "abs")
    with pytest.raises(RuntimeError, match="already registered"):
        table.gap(ops.Abs, "a reason long enough to be read by a user")
    table.gap(ops.Exp, "a reason long enough to be read by a user")
    with pytest.raises(RuntimeError, match="already registered"):
        table.register(ops.Exp)(lambda d, n, a: "exp")
    with pytest.raises(RuntimeError, match="reason"):
        table.gap(ops.Sin, "no")


def test_python_operands_of_a_null_propagating_op_are_guarded_once():
    x = col("x")._node
    five = lit(5.0)._node
    node = core.Sub(x, five)  # Int64 - Float64: x is converted, after the driver's single None test
    e = Emitter({x: Field(Int64(), True), five: Field(Float64(), False), node: Field(Float64(), True)})
    e.preload(x, "in_x")
    e.compile(node)
    assert e.lines == ["    _t1 = None if in_x is None else float(in_x) - 5.0"]
