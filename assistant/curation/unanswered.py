"""The questions the assistant declined, grouped for curators: one line per question however
often it was asked, with how many times and when first and last.

They are read from the sessions (`SessionStore.unanswered`), so they go with them: erased with
a session, purged by retention. Nothing but the question's text is shown.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from pydantic import BaseModel

from assistant.sessions.base import TranscriptEntry
from assistant.text import fold

__all__ = ["UnansweredQuestion", "group_unanswered", "question_key"]

_TRAILING = re.compile(r"[\s?!.…]+$")


class UnansweredQuestion(BaseModel):
    text: str  # the latest wording
    count: int
    first: dt.datetime
    last: dt.datetime


def question_key(text: str) -> str:
    """Same question, same key: accents, case, spacing and final punctuation aside."""
    return _TRAILING.sub("", " ".join(fold(text).split()))


def group_unanswered(entries: Iterable[TranscriptEntry]) -> list[UnansweredQuestion]:
    """Most asked first, then most recent."""
    groups: dict[str, UnansweredQuestion] = {}
    for entry in entries:
        key = question_key(entry.text)
        if not key:
            continue
        seen = groups.get(key)
        if seen is None:
            groups[key] = UnansweredQuestion(
                text=entry.text.strip(), count=1, first=entry.at, last=entry.at
            )
            continue
        seen.count += 1
        seen.first = min(seen.first, entry.at)
        if entry.at >= seen.last:
            seen.last, seen.text = entry.at, entry.text.strip()
    return sorted(groups.values(), key=lambda q: (-q.count, -q.last.timestamp()))
