"""The person's story: what their messages tell of the project, joined. The description
classifier (understanding/semantic.py) reads it whole; the sentences that ask are left out."""

from __future__ import annotations

from assistant.text import normalise
from assistant.understanding.told import described

__all__ = ["DESCRIPTION_CHARS", "grown_story", "told_in"]

DESCRIPTION_CHARS = 1500  # what the classifiers read: the start of the story matters most


def told_in(message: str, spelled: str) -> str:
    """What the message tells of the project. `spelled` is the message with its SMS spellings
    written out: "c quoi la diff entre scop et scic" asks, once spelled out."""
    if not described(spelled):
        return ""
    return described(normalise(message))


def grown_story(description: str, told: str) -> str | None:
    """The story with what the message told, or None when it tells nothing new (a question,
    or a story already full)."""
    story = f"{description} {told}".strip()[:DESCRIPTION_CHARS]
    return story if told and story != description else None
