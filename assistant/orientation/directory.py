"""The structure directory: support structures a user can be sent to, with sourced contacts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from assistant import yamlfile
from assistant.errors import KnowledgeError, describe
from assistant.vocabulary import Need, Profile, Stage, StructureKind


class Coverage(BaseModel):
    """Where a structure works. A national structure serves every territory."""

    model_config = ConfigDict(extra="forbid")

    national: bool = False
    regions: list[str] = Field(default_factory=list)
    departements: list[str] = Field(default_factory=list)
    communes: list[str] = Field(default_factory=list)  # INSEE codes, for very local structures

    @model_validator(mode="after")
    def _somewhere(self) -> Coverage:
        if not (self.national or self.regions or self.departements or self.communes):
            raise ValueError("coverage must name a territory or be national")
        return self


class Contact(BaseModel):
    """Contact details. Each field exists only if a source (document or dated page) gives it."""

    model_config = ConfigDict(extra="forbid")

    website: str | None = None
    # A page of the body's own site that is not its home page (a presentation, an article):
    # still a way in when no source gives the home page. It must be one of the entry's sources.
    site_page: str | None = None
    email: str | None = None
    phone: str | None = None
    address: str | None = None

    def is_empty(self) -> bool:
        return not any((self.website, self.site_page, self.email, self.phone, self.address))

    def way_in(self) -> str | None:
        """The first detail a person can use to get in touch (an address alone is not one)."""
        return self.website or self.site_page or self.email or self.phone


class StructureSource(BaseModel):
    """A shared source document, or a public page with the day it was seen."""

    model_config = ConfigDict(extra="forbid")

    document: str | None = None
    url: str | None = None
    title: str | None = None
    seen: dt.date | None = None

    @model_validator(mode="after")
    def _document_or_dated_url(self) -> StructureSource:
        if not (self.document or self.url):
            raise ValueError("a source names a document or a url")
        if self.url and not self.seen:
            raise ValueError("a url source needs the date it was seen ('seen')")
        return self


class Structure(BaseModel):
    """One entry of the directory."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    kind: StructureKind
    coverage: Coverage
    stages: list[Stage] = Field(min_length=1)
    needs: list[Need] = Field(default_factory=list)
    profiles: list[Profile] = Field(default_factory=list)
    description: str
    carrier: str | None = None  # the organisation that runs it (e.g. which body carries a DLA)
    how_to_reach: str  # always present: where to look when no contact detail is sourced
    contact: Contact = Field(default_factory=Contact)
    sources: list[StructureSource] = Field(min_length=1)
    cards: list[str] = Field(default_factory=list)  # knowledge cards that back this entry
    verified: bool = False
    verified_on: dt.date | None = None
    reviewed: dt.date | None = None  # last checked against its sources (knowledge validate)
    # "closed": kept for the record (and the coverage report) but never proposed to a user.
    status: Literal["active", "closed"] = "active"
    file: str = ""  # relative path of the YAML file, filled by the loader

    @model_validator(mode="after")
    def _contact_needs_a_source_with_it(self) -> Structure:
        if self.verified and not self.verified_on:
            raise ValueError("verified entries need verified_on")
        return self


def parse_directory_file(text: str, path: str = "") -> list[Structure]:
    try:
        data = yamlfile.safe_load(text)
    except yamlfile.YAMLError as exc:
        raise KnowledgeError(f"{path}: not valid YAML: {exc}") from exc
    if data is None:
        return []
    if not isinstance(data, list):
        raise KnowledgeError(f"{path}: a directory file is a YAML list of structures")
    structures: list[Structure] = []
    for position, entry in enumerate(data, start=1):
        if not isinstance(entry, dict):
            raise KnowledgeError(f"{path}: entry {position} is not a mapping")
        try:
            structures.append(Structure(**entry, file=path))
        except ValidationError as exc:
            ident = entry.get("id", f"#{position}")
            raise KnowledgeError(f"{path}: {ident}: {describe(exc)}") from exc
        except TypeError as exc:
            raise KnowledgeError(f"{path}: entry {position}: {exc}") from exc
    return structures


def load_directory(structures_dir: Path) -> list[Structure]:
    result: list[Structure] = []
    for path in sorted(structures_dir.rglob("*.yaml")):
        rel = str(path.relative_to(structures_dir))
        result.extend(parse_directory_file(path.read_text(encoding="utf-8"), rel))
    return result
