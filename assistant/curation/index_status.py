"""What the curators' page says about the search index and the documents: the live
generation, its passages, when it was built and how long that took, and the documents on disk.

Read from files only (the index's CURRENT pointer and manifest, the documents' front matter):
nothing is opened that a request would hold, and a missing index or folder is a state, not an
error.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from pydantic import BaseModel

from assistant import yamlfile
from assistant.search.index import current_generation

__all__ = ["DocumentInfo", "IndexStatus", "index_status", "list_documents"]

_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.S)


class IndexStatus(BaseModel):
    built: bool
    generation: str | None = None
    built_at: dt.datetime | None = None
    build_seconds: float | None = None  # recorded by builds since the curators' page
    cards: int = 0
    documents: int = 0
    passages: int = 0
    embedder: str | None = None


def index_status(index_dir: Path) -> IndexStatus:
    generation = current_generation(index_dir)
    if generation is None:
        return IndexStatus(built=False)
    try:
        manifest = json.loads((generation / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return IndexStatus(built=False, generation=generation.name)
    units: dict[str, list[str]] = manifest.get("chunks", {})
    documents = sum(1 for unit in units if unit.startswith("document:"))
    return IndexStatus(
        built=True,
        generation=generation.name,
        built_at=manifest.get("built_at"),
        build_seconds=manifest.get("build_seconds"),
        cards=len(units) - documents,
        documents=documents,
        passages=sum(len(chunks) for chunks in units.values()),
        embedder=manifest.get("embedder"),
    )


class DocumentInfo(BaseModel):
    id: str
    title: str
    publisher: str | None = None
    date: str | None = None
    added: str | None = None
    updated: str | None = None
    url: str | None = None


def list_documents(documents_dir: Path) -> list[DocumentInfo]:
    """The documents' metadata (front matter of knowledge/documents/*.md); none if absent."""
    found: list[DocumentInfo] = []
    if not documents_dir.is_dir():
        return found
    for path in sorted(documents_dir.glob("*.md")):
        if path.name.lower() == "readme.md":
            continue
        try:
            match = _FRONT_MATTER.match(path.read_text(encoding="utf-8"))
            meta = yamlfile.safe_load(match.group(1)) if match else None
        except (OSError, UnicodeDecodeError, yamlfile.YAMLError):
            meta = None
        meta = meta if isinstance(meta, dict) else {}

        def text(key: str, meta: dict[str, object] = meta) -> str | None:
            value = meta.get(key)
            return None if value is None else str(value)

        found.append(
            DocumentInfo(
                id=text("id") or path.stem,
                title=text("title") or path.stem,
                publisher=text("publisher"),
                date=text("date"),
                added=text("added"),
                updated=text("updated"),
                url=text("url"),
            )
        )
    return found
