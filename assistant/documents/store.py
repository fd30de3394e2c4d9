"""Documents on disk: one Markdown file per document in knowledge/documents/, its metadata
(title, publisher, date, licence, origin, hash of the original) in a YAML front matter and its
text cut by `<!-- page N -->` / `<!-- section: … -->` markers, so that a curator can read,
review and diff it like a card. Writes are atomic: a failed write leaves the old file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import unicodedata
import uuid
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from assistant import yamlfile
from assistant.documents.extraction import Format, Segment
from assistant.errors import DocumentError, KnowledgeError, describe
from assistant.search.cards import http_url

README = "readme.md"
RESERVED = {"readme", "drafts"}
_MARKER = re.compile(r"^<!-- (?:page (\d+)|section: (.*)) -->$", re.MULTILINE)


class DocumentRecord(BaseModel):
    """A stored document: what its citation shows, where it comes from, and its text."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    publisher: str | None = None
    date: dt.date | None = None  # the document's own date (publication), as cited
    url: str | None = None
    licence: str = "non précisée"
    origin: str  # the file name it was added from, or its URL
    format: Format
    sha256: str  # of the original file: the same file added again is recognised
    added: dt.date
    updated: dt.date
    segments: list[Segment] = Field(default_factory=list, exclude=True)

    _url_is_http = field_validator("url")(http_url)

    @property
    def content_hash(self) -> str:
        """What the index, the citations and the curator see: the text and the metadata, not
        the record's own dates nor the original's bytes (a PDF exported again differs in its
        creation stamp, not in its text)."""
        payload = self.model_dump_json(exclude={"added", "updated", "sha256"}) + "".join(
            s.model_dump_json() for s in self.segments
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def same_content(self, other: DocumentRecord) -> bool:
        return self.content_hash == other.content_hash


def render(record: DocumentRecord) -> str:
    header = yaml.safe_dump(
        record.model_dump(mode="json", exclude_none=True),
        allow_unicode=True,
        sort_keys=False,
        width=100,
    )
    parts = [f"---\n{header}---\n"]
    for segment in record.segments:
        if segment.page is not None:
            parts.append(f"<!-- page {segment.page} -->\n\n{segment.text}\n")
        elif segment.section is not None:
            # "--" would close the HTML comment early.
            heading = " ".join(segment.section.replace("--", "—").split())
            parts.append(f"<!-- section: {heading} -->\n\n{segment.text}\n")
        else:
            parts.append(f"{segment.text}\n")
    return "\n".join(parts)


def parse(text: str, where: str = "") -> DocumentRecord:
    if not text.startswith("---\n"):
        raise KnowledgeError(f"{where}: a document starts with a '---' YAML front matter block")
    front, sep, body = text[4:].partition("\n---\n")
    if not sep:
        raise KnowledgeError(f"{where}: the front matter is not closed by a '---' line")
    try:
        header = yamlfile.safe_load(front) or {}
        record = DocumentRecord.model_validate(header)
    except yamlfile.YAMLError as exc:
        raise KnowledgeError(f"{where}: front matter is not valid YAML: {exc}") from exc
    except ValidationError as exc:
        raise KnowledgeError(f"{where}: {describe(exc, 'document')}") from exc
    record.segments = _segments(body)
    return record


def _segments(body: str) -> list[Segment]:
    segments: list[Segment] = []
    marks = list(_MARKER.finditer(body))
    lead = body[: marks[0].start()] if marks else body
    if lead.strip():
        segments.append(Segment(text=lead.strip()))
    for n, mark in enumerate(marks):
        end = marks[n + 1].start() if n + 1 < len(marks) else len(body)
        text = body[mark.end() : end].strip()
        if not text:
            continue
        page, section = mark.group(1), mark.group(2)
        segments.append(Segment(page=int(page) if page else None, section=section, text=text))
    return segments


def slug(text: str, limit: int = 50) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    return "-".join(words)[:limit].strip("-") or "document"


class DocumentStore:
    """The documents folder: list, read, find the same document, write, remove."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, doc_id: str) -> Path:
        return self.directory / f"{doc_id}.md"

    def files(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        # Only the top level: drafts/ holds card skeletons, not documents.
        return sorted(p for p in self.directory.glob("*.md") if p.name.lower() != README)

    def all(self) -> list[DocumentRecord]:
        return [parse(p.read_text("utf-8"), str(p)) for p in self.files()]

    def get(self, doc_id: str) -> DocumentRecord:
        path = self.path(doc_id)
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", doc_id) or not path.is_file():
            known = ", ".join(p.stem for p in self.files()) or "aucun"
            raise DocumentError(f"Aucun document « {doc_id} » (documents connus : {known}).")
        return parse(path.read_text("utf-8"), str(path))

    def find_same(self, sha256: str, origin: str) -> DocumentRecord | None:
        """The stored document this one is a version of: the same original file (wherever it
        came from), else the same origin (URL or file name) with new content."""
        records = self.all()
        by_hash = [r for r in records if r.sha256 == sha256]
        by_origin = [r for r in records if r.origin == origin]
        found = by_hash or by_origin
        return found[0] if found else None

    def new_id(self, origin: str) -> str:
        base = slug(Path(origin.rstrip("/")).stem or origin)
        if base in RESERVED:  # the folder's own README and drafts/ keep their names
            base = f"{base}-document"
        taken = {p.stem for p in self.files()}
        candidate, n = base, 2
        while candidate in taken:
            candidate, n = f"{base}-{n}", n + 1
        return candidate

    def save(self, record: DocumentRecord) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path(record.id)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        tmp.write_text(render(record), encoding="utf-8")
        os.replace(tmp, path)
        return path

    def remove(self, doc_id: str) -> DocumentRecord:
        record = self.get(doc_id)
        self.path(doc_id).unlink()
        return record
