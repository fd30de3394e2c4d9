"""Reading the curated YAML: libyaml's C parser when PyYAML has it (ten times faster on the
knowledge, which `knowledge validate` and every start read whole), the pure-Python one else.
Both are the *safe* loader: plain data, never Python objects."""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["YAMLError", "safe_load"]

YAMLError = yaml.YAMLError
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    return yaml.load(text, Loader=_LOADER)
