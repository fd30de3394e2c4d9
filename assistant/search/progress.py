"""The index build's progress seam: the CLI plugs a rich progress bar in, tests use the no-op.

Its own small module so that the CLI can name it without importing ChromaDB.
"""

from __future__ import annotations

__all__ = ["Progress"]


class Progress:
    """Reports the phases of a long job; this base class reports nothing."""

    def start(self, total: int, description: str) -> None:
        """A phase of `total` steps begins."""

    def advance(self, steps: int = 1) -> None:
        """`steps` more steps are done."""
