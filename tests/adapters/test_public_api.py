"""The adapters' public surface: every name in ``__all__`` exists and is documented."""

from __future__ import annotations

import importlib

import pytest

MODULES = [
    "reconciler.adapters.athena_engine",
    "reconciler.adapters.aws_errors",
    "reconciler.adapters.duckdb_engine",
    "reconciler.adapters.duckdb_sources",
    "reconciler.adapters.dynamo_state",
    "reconciler.adapters.factory",
    "reconciler.adapters.glue_catalog",
    "reconciler.adapters.local_catalog",
    "reconciler.adapters.local_store",
    "reconciler.adapters.s3_store",
    "reconciler.adapters.sqlite_state",
    "reconciler.sql",
    "reconciler.sql.params",
    "reconciler.sql.rewrite",
]


@pytest.mark.parametrize("name", MODULES)
def test_all_names_exist_and_have_docstrings(name):
    module = importlib.import_module(name)
    assert module.__doc__
    for attr in module.__all__:
        obj = getattr(module, attr)
        if callable(obj):
            assert obj.__doc__, f"{name}.{attr} has no docstring"
