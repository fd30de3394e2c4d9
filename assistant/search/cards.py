"""Knowledge cards: Markdown files with YAML front matter, one fact-sheet each."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from assistant import yamlfile
from assistant.errors import KnowledgeError, describe
from assistant.vocabulary import CardKind, Need, Profile, Stage, StructureKind


def http_url(value: str | None) -> str | None:
    """A source's address: a web page (http or https), or none."""
    if value is not None and not value.startswith(("http://", "https://")):
        raise ValueError("url must start with http:// or https://")
    return value


class CardSource(BaseModel):
    """Where a card's facts come from: a shared source document or a public page."""

    model_config = ConfigDict(extra="forbid")

    document: str | None = None  # file name in ../shared/sources, e.g. 002_502d0dd9a2f49886.txt
    url: str | None = None
    title: str
    section: str | None = None
    seen: dt.date | None = None  # for a URL: the day the page was read

    _url_is_http = field_validator("url")(http_url)


class TerritoryScope(BaseModel):
    """Which territories a card is about; empty lists and national=True mean all of France."""

    model_config = ConfigDict(extra="forbid")

    national: bool = True
    regions: list[str] = Field(default_factory=list)
    departements: list[str] = Field(default_factory=list)


class Card(BaseModel):
    """One knowledge card, written in the project's own words from a named source."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    kind: CardKind
    stages: list[Stage] = Field(default_factory=list)
    needs: list[Need] = Field(default_factory=list)
    profiles: list[Profile] = Field(default_factory=list)
    structure_kinds: list[StructureKind] = Field(default_factory=list)
    territory: TerritoryScope = Field(default_factory=TerritoryScope)
    sources: list[CardSource] = Field(min_length=1)
    structures: list[str] = Field(default_factory=list)  # ids in the structure directory
    related: list[str] = Field(default_factory=list)  # ids of other cards
    # YAML reads `2018` as a number; a keyword is always text.
    keywords: list[Annotated[str, BeforeValidator(str)]] = Field(default_factory=list)
    # How people ask what this card answers ("le DLA c'est gratuit ?"): matched by meaning
    # against a question, more reliably than the card's prose is.
    questions: list[str] = Field(default_factory=list)
    updated: dt.date
    reviewed: dt.date | None = None  # last checked against its sources (knowledge validate)
    body: str
    path: str = ""  # relative path, filled by the loader

    @property
    def content_hash(self) -> str:
        """Hash of everything that goes into the index, so unchanged cards are not re-embedded."""
        payload = self.model_dump_json(exclude={"path"})
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


FRONT_MATTER_DELIMITER = "---"


def parse_card(text: str, path: str = "") -> Card:
    """Parse one card file's text; raises KnowledgeError with the path on any problem."""
    if not text.startswith(FRONT_MATTER_DELIMITER):
        raise KnowledgeError(f"{path}: a card starts with a '---' YAML front matter block")
    parts = text.split("\n" + FRONT_MATTER_DELIMITER, 1)
    if len(parts) != 2:
        raise KnowledgeError(f"{path}: the front matter is not closed by a '---' line")
    header_text = parts[0][len(FRONT_MATTER_DELIMITER) :]
    body = parts[1].split("\n", 1)[1] if "\n" in parts[1] else ""
    try:
        header = yamlfile.safe_load(header_text) or {}
    except yamlfile.YAMLError as exc:
        raise KnowledgeError(f"{path}: front matter is not valid YAML: {exc}") from exc
    if not isinstance(header, dict):
        raise KnowledgeError(f"{path}: front matter must be a mapping")
    try:
        return Card(**header, body=body.strip(), path=path)
    except ValidationError as exc:
        raise KnowledgeError(f"{path}: {describe(exc, 'card')}") from exc
    except TypeError as exc:
        raise KnowledgeError(f"{path}: {exc}") from exc


def iter_card_files(cards_dir: Path) -> Iterator[Path]:
    yield from sorted(cards_dir.rglob("*.md"))


def load_cards(cards_dir: Path) -> list[Card]:
    """Load every card; raises on the first invalid one (the validator collects them all)."""
    return [
        parse_card(p.read_text(encoding="utf-8"), str(p.relative_to(cards_dir)))
        for p in iter_card_files(cards_dir)
        if p.name.lower() != "readme.md"
    ]
