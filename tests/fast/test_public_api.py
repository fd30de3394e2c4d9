"""The public API is explicit: `assistant.__all__` is sorted, importable, and names every
exception of assistant/errors.py."""

from __future__ import annotations

import inspect

import assistant
import assistant.errors


def test_all_is_sorted_and_importable() -> None:
    assert assistant.__all__ == sorted(assistant.__all__)
    for name in assistant.__all__:
        assert getattr(assistant, name) is not None


def test_every_project_exception_is_public_and_documented() -> None:
    errors = {
        name
        for name, value in inspect.getmembers(assistant.errors, inspect.isclass)
        if issubclass(value, assistant.errors.AiguillageError)
    }
    assert errors <= set(assistant.__all__)
    tree = assistant.errors.__doc__ or ""
    assert all(name in tree for name in errors), "errors.py docstring draws every exception"
