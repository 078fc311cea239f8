"""Every hook spec is documented: a docstring naming each parameter as ``:param name:``."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

from engineio_core.plugin import hookspecs


def _specs() -> list[tuple[str, Callable[..., Any]]]:
    marker = f"{hookspecs.PROJECT_NAME}_spec"
    return [
        (name, function)
        for name, function in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(function, marker)
    ]


def test_there_are_specs() -> None:
    names = {name for name, _ in _specs()}
    assert set(hookspecs.REQUIRED_HOOKS) <= names
    assert set(hookspecs.OPTIONAL_HOOKS) <= names
    assert set(hookspecs.ASYNC_HOOKS) <= names
    assert "eio_mode_selected" in names
    assert all(name.startswith("eio_") for name in names)


@pytest.mark.parametrize(("name", "spec"), _specs(), ids=[name for name, _ in _specs()])
def test_spec_is_documented(name: str, spec: Callable[..., Any]) -> None:
    doc = inspect.getdoc(spec)
    assert doc, f"hook spec {name} has no docstring"
    summary = doc.splitlines()[0]
    assert summary.endswith("."), f"hook spec {name}: the first line should be a sentence"
    for parameter in inspect.signature(spec).parameters:
        assert f":param {parameter}:" in doc, f"hook spec {name} does not document {parameter!r}"


@pytest.mark.parametrize("name", hookspecs.REQUIRED_HOOKS + hookspecs.OPTIONAL_HOOKS)
def test_listed_hooks_have_specs(name: str) -> None:
    assert hasattr(getattr(hookspecs, name, None), f"{hookspecs.PROJECT_NAME}_spec")
