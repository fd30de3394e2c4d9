"""Knowledge that stays true: renamed or closed bodies, periods that have ended, review dates.

`knowledge/renamed.yaml` lists bodies that changed name or closed (Pôle emploi → France Travail,
CRESS Normandie closed…). A card or directory text may still name the old body as history, but
then the same sentence says what it became (names the new body) or that it closed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from assistant import yamlfile
from assistant.errors import KnowledgeError, describe
from assistant.orientation.directory import Structure
from assistant.search.cards import Card
from assistant.text import fold, sentences

__all__ = ["Renamed", "TextCheck", "load_renamed", "review_list"]

# Words that say, in the sentence itself, that a body closed.
_CLOSED = re.compile(r"\b(ferme|fermee|dissous|dissoute|liquid\w*|n'existe plus|a cesse|disparu)")
# A period written "2023-2025", "2023 à 2025", "pour 2021–2027"…
_PERIOD = re.compile(r"\b(?:19|20)\d\d\s*(?:-|–|—|à|a|au)\s*((?:19|20)\d\d)\b")
# Words that set a sentence in the past: an ended period is then told as history.
_PAST = re.compile(
    r"\b(a ete|ont ete|etait|etaient|avait|avaient|fut|furent|s'est|se sont|a pris fin|"
    r"achevee?s?|terminee?s?|ecoulee?s?|passee?s?|ancien|ancienne|a l'epoque|precedent|"
    r"precedente|jusqu'en|de l'epoque|dernier en date|a porte|a couvert|a mobilise|"
    r"s'etait|historiquement|anciens?|anciennes?|non datee?|vers (?:19|20)\d\d)\b"
    r"|\b\w+(?:ait|aient)\b"  # an imperfect tense ("l'enveloppe couvrait") tells the past
)


class PageSource(BaseModel):
    url: str
    title: str
    seen: dt.date


class Renamed(BaseModel):
    model_config = ConfigDict(extra="forbid")

    old: str
    new: str | None = None
    change: Literal["renamed", "closed"]
    year: int | None = None
    patterns: list[str]
    allowed_after_new: bool = False  # the old name is part of the new one ("Humanis")
    source: PageSource | None = None
    note: str | None = None

    @cached_property
    def _compiled(self) -> list[re.Pattern[str]]:
        return [re.compile(rf"(?<![\w-]){re.escape(fold(p))}(?![\w-])") for p in self.patterns]

    def stale_in(self, sentence: str) -> bool:
        """The sentence names the old body without saying what became of it."""
        text = fold(sentence)
        if self.allowed_after_new and self.new:
            text = text.replace(fold(self.new), " ")
        if not any(p.search(text) for p in self._compiled):
            return False
        if self.change == "closed":
            return not _CLOSED.search(text)
        return not (self.new and fold(self.new) in fold(sentence))


def load_renamed(path: Path) -> list[Renamed]:
    try:
        raw = yamlfile.safe_load(path.read_text(encoding="utf-8")) or []
        return [Renamed.model_validate(item) for item in raw]
    except (OSError, yamlfile.YAMLError, ValidationError, TypeError) as exc:
        raise KnowledgeError(f"{path}: {describe(exc, 'renamed')}") from exc


@dataclass
class TextCheck:
    """Checks one text a person may read (a card body, a directory description)."""

    renamed: list[Renamed]
    today: dt.date
    add: Callable[[Literal["error", "warning"], str, str], None]

    @cached_property
    def _suspect(self) -> re.Pattern[str]:
        """Anything worth a sentence-by-sentence look: an old name or a period."""
        names = [re.escape(fold(p)) for body in self.renamed for p in body.patterns]
        return re.compile("|".join([*names, _PERIOD.pattern]))

    def check(self, where: str, texts: Iterable[str | None]) -> None:
        for text in texts:
            if not text or not self._suspect.search(fold(text)):
                continue  # most texts: nothing to look at closely
            for sentence in sentences(text):
                self._names(where, sentence)
                self._period(where, sentence)

    def _names(self, where: str, sentence: str) -> None:
        for body in self.renamed:
            if body.stale_in(sentence):
                what = (
                    f"became {body.new}" + (f" in {body.year}" if body.year else "")
                    if body.change == "renamed"
                    else "closed" + (f" in {body.year}" if body.year else "")
                )
                self.add(
                    "error",
                    where,
                    f"« {body.old} » {what}: update the name, or say so in the same sentence "
                    f"(« {_excerpt(sentence)} »)",
                )

    def _period(self, where: str, sentence: str) -> None:
        folded = fold(sentence)
        for match in _PERIOD.finditer(folded):
            if int(match.group(1)) < self.today.year and not _PAST.search(folded):
                self.add(
                    "warning",
                    where,
                    f"a period that ended in {match.group(1)} stated as current: tell it in the "
                    f"past or update it (« {_excerpt(sentence)} »)",
                )


def _excerpt(sentence: str, size: int = 90) -> str:
    return sentence if len(sentence) <= size else sentence[: size - 1] + "…"


@dataclass(frozen=True)
class ReviewItem:
    what: Literal["card", "structure"]
    id: str
    reviewed: dt.date | None
    where: str
    recheck: list[str]  # the pages and documents to read again


def review_list(cards: Iterable[Card], structures: Iterable[Structure]) -> list[ReviewItem]:
    """What to check again against its sources, oldest review first (never reviewed first)."""
    items = [
        ReviewItem(
            "card",
            c.id,
            c.reviewed,
            f"cards/{c.path}",
            [s.url or f"document {s.document}" for s in c.sources],
        )
        for c in cards
    ] + [
        ReviewItem(
            "structure",
            s.id,
            s.reviewed,
            f"structures/{s.file}",
            [src.url or f"document {src.document}" for src in s.sources],
        )
        for s in structures
        if s.status == "active"
    ]
    return sorted(items, key=lambda i: (i.reviewed or dt.date.min, i.what, i.id))
