"""Cutting cards into passages small enough to embed well and to quote."""

from __future__ import annotations

import datetime as dt
import re

from pydantic import BaseModel

from assistant.search.cards import Card

MAX_WORDS = 180


class PassageOrigin(BaseModel):
    """Where a passage that is not a card's comes from: a curator's document (the second
    layer, see assistant/documents), with what its citation shows."""

    document_id: str
    title: str
    publisher: str | None = None
    date: dt.date | None = None
    url: str | None = None
    page: int | None = None  # PDF
    section: str | None = None  # HTML or Markdown heading


class Chunk(BaseModel):
    """A passage of a card (or of a document), with the card's metadata copied for filtering."""

    id: str
    card_id: str
    position: int
    title: str
    text: str
    keywords: list[str]
    kind: str
    stages: list[str]
    needs: list[str]
    profiles: list[str]
    structure_kinds: list[str]
    national: bool
    regions: list[str]
    departements: list[str]
    question: bool = False  # one of the card's `questions`, not a passage of its text
    origin: PassageOrigin | None = None  # set for a document's passage, None for a card's

    @property
    def search_text(self) -> str:
        """What the lexical and dense indexes see: the title and keywords carry the topic; a
        question is embedded alone, as a question, to meet questions phrased like it."""
        if self.question:
            return self.text
        return f"{self.title}. {' ; '.join(self.keywords)}\n{self.text}".strip()


def _paragraphs(body: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]


def group_paragraphs(body: str, max_words: int = MAX_WORDS) -> list[str]:
    """Whole paragraphs grouped up to `max_words`; a longer paragraph is cut by words."""
    pieces: list[str] = []
    current: list[str] = []
    count = 0
    for paragraph in _paragraphs(body):
        n = len(paragraph.split())
        if n > max_words:
            if current:
                pieces.append("\n\n".join(current))
                current, count = [], 0
            tokens = paragraph.split()
            pieces.extend(
                " ".join(tokens[i : i + max_words]) for i in range(0, len(tokens), max_words)
            )
            continue
        if count + n > max_words and current:
            pieces.append("\n\n".join(current))
            current, count = [], 0
        current.append(paragraph)
        count += n
    if current:
        pieces.append("\n\n".join(current))
    return pieces


class PassageSet(BaseModel):
    """A unit of the index that is not a card (a curator's document), its passages cut."""

    id: str  # never a card id: documents use "document:<id>"
    content_hash: str
    chunks: list[Chunk]


def chunk_card(card: Card, max_words: int = MAX_WORDS) -> list[Chunk]:
    """Group whole paragraphs up to `max_words`; a longer paragraph is cut by words."""
    pieces = group_paragraphs(card.body, max_words) or [card.title]
    texts = [(f"{card.id}#{i}", text, False) for i, text in enumerate(pieces)]
    texts += [(f"{card.id}#q{i}", q, True) for i, q in enumerate(card.questions)]
    return [
        Chunk(
            id=ident,
            card_id=card.id,
            position=i,
            title=card.title,
            text=text,
            keywords=card.keywords,
            kind=card.kind,
            stages=list(card.stages),
            needs=list(card.needs),
            profiles=list(card.profiles),
            structure_kinds=list(card.structure_kinds),
            national=card.territory.national,
            regions=card.territory.regions,
            departements=card.territory.departements,
            question=is_question,
        )
        for i, (ident, text, is_question) in enumerate(texts)
    ]
