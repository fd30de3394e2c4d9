"""Curators' documents (PDF, HTML, Markdown): the second layer of the knowledge, under cards.

Owns: extracting a file's text by page or section (`extraction`), storing it with its
metadata, licence and origin in knowledge/documents/ (`store`), the `knowledge add` flow that
updates a known document in place (`ingest`), cutting stored documents into citable passages
for the search index (`passages`), and card skeletons drafted from a document (`drafting`).
Answering from the passages, and citing them, is assistant/answers' job.
"""

from __future__ import annotations

from assistant.documents.drafting import CardDraft, draft_cards, write_drafts
from assistant.documents.extraction import Extracted, Segment, extract
from assistant.documents.ingest import AddResult, DocumentInfo, add_document, parse_date
from assistant.documents.passages import (
    DOCUMENT_KIND,
    DOCUMENT_PREFIX,
    load_passage_sets,
    passage_set,
    unit_id,
)
from assistant.documents.store import DocumentRecord, DocumentStore

__all__ = [
    "DOCUMENT_KIND",
    "DOCUMENT_PREFIX",
    "AddResult",
    "CardDraft",
    "DocumentInfo",
    "DocumentRecord",
    "DocumentStore",
    "Extracted",
    "Segment",
    "add_document",
    "draft_cards",
    "extract",
    "load_passage_sets",
    "parse_date",
    "passage_set",
    "unit_id",
    "write_drafts",
]
