"""The examples in app.domain docstrings are part of the contract: keep them true."""

import doctest
import importlib
import pkgutil

import pytest

import app.domain

MODULES = sorted(m.name for m in pkgutil.iter_modules(app.domain.__path__))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"app.domain.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_examples_exist_where_promised():
    attempted = 0
    for name in MODULES:
        attempted += doctest.testmod(importlib.import_module(f"app.domain.{name}")).attempted
    assert attempted >= 10
