"""Every docstring example of the skewless package runs and gives what it shows.

Examples run with the names ``from skewless import *`` gives (``col``, ``lit``,
``when``, ``standardize``, ...) already defined, as polars' examples assume ``pl``;
anything else they import themselves. The methods generated from IR classes
(``expr_method = True``) are checked too.

(``pytest --doctest-modules`` cannot collect these files: it imports them by their
repository paths, ``features/...``, which are not the installed ``skewless`` names.)
"""

from __future__ import annotations

import doctest
import importlib
import io
import pkgutil
import tomllib
from pathlib import Path

import pytest

import skewless
from skewless.api.expr import _NAMESPACES
from skewless.ir.base import OPS



def _modules() -> list[str]:
    """Every module of the distribution: the packages pyproject.toml installs and their modules
    (``__main__`` excluded: importing it runs the CLI)."""
    config = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    packages = config["tool"]["setuptools"]["packages"]
    names = set(packages)
    for package in packages:
        path = importlib.import_module(package).__path__
        names.update(f"{package}.{m.name}" for m in pkgutil.iter_modules(path) if not m.ispkg and m.name != "__main__")
    return sorted(names)


MODULES = _modules()
NAMESPACE = {name: getattr(skewless, name) for name in skewless.__all__}
FLAGS = doctest.ELLIPSIS


def _run(test: doctest.DocTest) -> tuple[int, int, str]:
    out = io.StringIO()
    result = doctest.DocTestRunner(optionflags=FLAGS).run(test, out=out.write)
    return result.attempted, result.failed, out.getvalue()


def _module_tests(name: str) -> list[doctest.DocTest]:
    module = importlib.import_module(name)
    return [t for t in doctest.DocTestFinder().find(module, name, extraglobs=NAMESPACE) if t.examples]


@pytest.mark.parametrize("name", MODULES)
def test_module_examples(name):
    failures = []
    for test in _module_tests(name):
        _, failed, report = _run(test)
        if failed:
            failures.append(report)
    assert not failures, "\n".join(failures)


def test_generated_method_examples():
    generated = [op for op in OPS.values() if op.expr_method]
    assert generated, "no IR class declares expr_method"
    parser = doctest.DocTestParser()
    for op in generated:
        method = getattr(_NAMESPACES[op.namespace], op.method)
        test = parser.get_doctest(method.__doc__, dict(NAMESPACE), f"{op.__name__}.{op.method}", None, 0)
        attempted, failed, report = _run(test)
        assert attempted and not failed, report


def test_examples_are_found():
    # The examples are there to be run: a finder that found none would make the tests above vacuous.
    total = sum(len(t.examples) for name in MODULES for t in _module_tests(name))
    assert total >= 100, total
