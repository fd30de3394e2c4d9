"""`knowledge add`: a file in, a stored document out — the same document updated in place.

Everything that can fail (size, format, extraction, metadata) is checked before anything is
written, so bad input changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ValidationError

from assistant.documents.extraction import extract, read_limited
from assistant.documents.store import DocumentRecord, DocumentStore
from assistant.errors import DocumentError, describe


class DocumentInfo(BaseModel):
    """What the curator says about a document (each overrides what the file declares)."""

    url: str | None = None
    title: str | None = None
    publisher: str | None = None
    date: dt.date | None = None
    licence: str | None = None


class AddResult(BaseModel):
    record: DocumentRecord
    status: Literal["added", "updated", "unchanged"]
    missing: list[str]  # citation fields nobody gave: "publisher", "date"


def parse_date(text: str | None) -> dt.date | None:
    """A YYYY-MM-DD option, with a French message when it is not one."""
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise DocumentError(f"Date invalide « {text} » : attendu AAAA-MM-JJ.") from exc


def add_document(
    store: DocumentStore,
    path: Path,
    info: DocumentInfo,
    max_bytes: int,
    today: dt.date | None = None,
) -> AddResult:
    today = today or dt.date.today()
    if info.url is not None and not info.url.startswith(("http://", "https://")):
        raise DocumentError(f"URL invalide « {info.url} » : elle commence par https://.")
    data = read_limited(path, max_bytes)
    extracted = extract(path.name, data, info.url)
    sha256 = hashlib.sha256(data).hexdigest()
    origin = info.url or path.name
    previous = store.find_same(sha256, origin)

    # The curator's word first, then what they said last time, then the file's own metadata.
    def pick(given: str | None, field: str, found: str | None) -> str | None:
        kept = getattr(previous, field) if previous else None
        return given or kept or found

    try:
        record = DocumentRecord(
            id=previous.id if previous else store.new_id(origin),
            title=pick(info.title, "title", extracted.title) or path.stem,
            publisher=pick(info.publisher, "publisher", extracted.publisher),
            date=info.date or (previous.date if previous else None) or extracted.date,
            url=info.url or (previous.url if previous else None),
            licence=pick(info.licence, "licence", None) or "non précisée",
            origin=origin,
            format=extracted.format,
            sha256=sha256,
            added=previous.added if previous else today,
            updated=today,
            segments=extracted.segments,
        )
    except ValidationError as exc:
        raise DocumentError(f"Métadonnées invalides : {describe(exc, 'document')}") from exc
    missing = [f for f in ("publisher", "date") if getattr(record, f) is None]
    if previous and previous.same_content(record):
        if previous.sha256 != record.sha256:  # the same text from new bytes: recognise them
            store.save(previous.model_copy(update={"sha256": record.sha256}))
        return AddResult(record=previous, status="unchanged", missing=missing)
    store.save(record)
    return AddResult(record=record, status="updated" if previous else "added", missing=missing)
