"""A stored document as units of the search index: passages that never cross a page or a
section, each carrying what its citation shows (title, publisher, date, page or section)."""

from __future__ import annotations

from pathlib import Path

from assistant.documents.store import DocumentRecord, DocumentStore
from assistant.search.chunks import MAX_WORDS, Chunk, PassageOrigin, PassageSet, group_paragraphs

DOCUMENT_PREFIX = "document:"
DOCUMENT_KIND = "document"


def unit_id(doc_id: str) -> str:
    """The document's id in the index: the prefix keeps it apart from every card id."""
    return f"{DOCUMENT_PREFIX}{doc_id}"


def passage_set(record: DocumentRecord, max_words: int = MAX_WORDS) -> PassageSet:
    unit = unit_id(record.id)
    chunks: list[Chunk] = []
    for segment in record.segments:
        origin = PassageOrigin(
            document_id=record.id,
            title=record.title,
            publisher=record.publisher,
            date=record.date,
            url=record.url,
            page=segment.page,
            section=segment.section,
        )
        for text in group_paragraphs(segment.text, max_words):
            chunks.append(
                Chunk(
                    id=f"{unit}#{len(chunks)}",
                    card_id=unit,
                    position=len(chunks),
                    title=record.title,
                    text=text,
                    # The heading says what the section is about, as a card's keywords do.
                    keywords=[segment.section] if segment.section else [],
                    kind=DOCUMENT_KIND,
                    stages=[],
                    needs=[],
                    profiles=[],
                    structure_kinds=[],
                    national=True,
                    regions=[],
                    departements=[],
                    origin=origin,
                )
            )
    return PassageSet(id=unit, content_hash=record.content_hash, chunks=chunks)


def load_passage_sets(directory: Path) -> list[PassageSet]:
    """Every stored document, ready for IndexBuilder.build(documents=…)."""
    return [passage_set(record) for record in DocumentStore(directory).all()]
