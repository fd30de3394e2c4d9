"""Where Aiguillage finds its shipped data and where it writes its own.

Curators edit `knowledge/` and `prompts/` in the repository; an installed wheel carries them
as the packages `aiguillage_knowledge` and `aiguillage_prompts` (pyproject's package-dir), so
the same lookup works for an editable install, a wheel, or a clone deleted after `pip install .`.
The index and the sessions go to a per-user data directory unless `AIGUILLAGE_DATA_DIR` says
otherwise: never into the installed package.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from platformdirs import user_data_path

__all__ = ["KNOWLEDGE_DIR", "PROMPTS_DIR", "REPO_ROOT", "default_data_dir"]


def _package_dir(name: str, fallback: Path) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return fallback  # running from a checkout that was never installed


# The checkout this module sits in, when it sits in one (tests and scripts use it).
REPO_ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE_DIR = _package_dir("aiguillage_knowledge", REPO_ROOT / "knowledge")
PROMPTS_DIR = _package_dir("aiguillage_prompts", REPO_ROOT / "prompts")


def default_data_dir() -> Path:
    """Per-user data directory (e.g. ~/.local/share/aiguillage on Linux)."""
    return user_data_path("aiguillage", appauthor=False)
