"""`aiguillage knowledge validate`: every check a curator needs before re-indexing."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from assistant import yamlfile
from assistant.curation.truth import Renamed, TextCheck, load_renamed
from assistant.errors import KnowledgeError, describe
from assistant.orientation.directory import Structure, parse_directory_file
from assistant.search.cards import Card, iter_card_files, parse_card
from assistant.territory.tables import PAYS_FILE, TOWNS_FILE

Level = Literal["error", "warning"]

# Contact details belong in the directory, where each one is tied to a source.
PHONE = re.compile(r"(?<!\d)(?:\+33\s?|0)[1-9](?:[ .-]?\d{2}){4}(?!\d)")
# French short service numbers (e.g. 3949 for France Travail) are valid in the directory.
SHORT_NUMBER = re.compile(r"3\d{3}")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_URL = re.compile(r"https?://|www\.", re.IGNORECASE)
MIN_CARD_WORDS = 40


class Problem(BaseModel):
    level: Level
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.level.upper()} {self.where}: {self.message}"


class ValidationReport(BaseModel):
    cards: int
    structures: int
    documents: int = 0
    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "warning"]


def _duplicates(ids: Iterable[str]) -> list[str]:
    return sorted(i for i, n in Counter(ids).items() if n > 1)


class SourceDocument(BaseModel):
    """One entry of knowledge/sources.yaml: a document the cards are written from."""

    model_config = ConfigDict(extra="forbid")

    file: str
    title: str
    publisher: str
    year: int | None
    what: str


def _source_documents(knowledge_dir: Path, add: Callable[[Level, str, str], None]) -> set[str]:
    path = knowledge_dir / "sources.yaml"
    try:
        raw = yamlfile.safe_load(path.read_text(encoding="utf-8")) or []
        return {SourceDocument.model_validate(item).file for item in raw}
    except (OSError, yamlfile.YAMLError, ValidationError, TypeError) as exc:
        add("error", "sources.yaml", f"cannot read the source documents: {describe(exc)}")
        return set()


@dataclass
class _Context:
    """What every check of one validation run needs: the references and the dates."""

    add: Callable[[Level, str, str], None]
    card_ids: set[str]
    structure_ids: set[str]
    known_documents: set[str]
    present_texts: set[str] | None  # None: the full source texts are not here
    known_departements: set[str]
    known_regions: set[str]
    today: dt.date
    stale_before: dt.date
    text_check: TextCheck


def validate_knowledge(
    knowledge_dir: Path,
    sources_dir: Path | None,
    known_departements: set[str],
    known_regions: set[str],
    stale_after_days: int,
    today: dt.date | None = None,
) -> ValidationReport:
    today = today or dt.date.today()
    problems: list[Problem] = []

    def add(level: Level, where: str, message: str) -> None:
        problems.append(Problem(level=level, where=where, message=message))

    cards = _load_cards(knowledge_dir / "cards", add)
    structures = _load_structures(knowledge_dir / "structures", add)
    for dup in _duplicates(c.id for c in cards):
        paths = ", ".join(c.path for c in cards if c.id == dup)
        add("error", f"card {dup}", f"duplicate card id in {paths}")
    for dup in _duplicates(s.id for s in structures):
        files = ", ".join(s.file for s in structures if s.id == dup)
        add("error", f"structure {dup}", f"duplicate structure id in {files}")
    context = _Context(
        add=add,
        card_ids={c.id for c in cards},
        structure_ids={s.id for s in structures},
        known_documents=_source_documents(knowledge_dir, add),
        present_texts=(
            {p.name for p in sources_dir.iterdir()}
            if sources_dir and sources_dir.is_dir()
            else None
        ),
        known_departements=known_departements,
        known_regions=known_regions,
        today=today,
        stale_before=today - dt.timedelta(days=stale_after_days),
        text_check=TextCheck(_renamed(knowledge_dir, add), today, add),
    )
    for card in cards:
        _check_card(card, context)
    for structure in structures:
        _check_structure(structure, context)
    documents = _check_documents(knowledge_dir / "documents", add)
    return ValidationReport(
        cards=len(cards), structures=len(structures), documents=documents, problems=problems
    )


def _check_documents(directory: Path, add: Callable[[Level, str, str], None]) -> int:
    """Curators' documents (knowledge add): each readable, named by its id, with text, and
    with its licence stated (a document is stored and quoted only if its licence allows it)."""
    from assistant.documents.store import DocumentStore, parse

    count = 0
    for path in DocumentStore(directory).files():
        where = f"document {path.name}"
        try:
            record = parse(path.read_text("utf-8"), str(path))
        except KnowledgeError as exc:
            add("error", where, str(exc))
            continue
        count += 1
        if record.id != path.stem:
            add("error", where, f"id '{record.id}' differs from the file name")
        if not any(segment.text.strip() for segment in record.segments):
            add("error", where, "no text: add it again or remove it (knowledge remove)")
        if record.licence.strip().lower() in {"", "non précisée", "non precisee"}:
            add("warning", where, "licence not stated: say under which terms it may be quoted")
    return count


def _load_cards(cards_dir: Path, add: Callable[[Level, str, str], None]) -> list[Card]:
    cards: list[Card] = []
    for path in iter_card_files(cards_dir):
        if path.name.lower() == "readme.md":
            continue
        rel = f"cards/{path.relative_to(cards_dir)}"
        try:
            cards.append(parse_card(path.read_text(encoding="utf-8"), rel))
        except KnowledgeError as exc:
            add("error", rel, str(exc).split(": ", 1)[-1])
    return cards


def _load_structures(
    structures_dir: Path, add: Callable[[Level, str, str], None]
) -> list[Structure]:
    structures: list[Structure] = []
    for path in sorted(structures_dir.rglob("*.yaml")):
        rel = f"structures/{path.relative_to(structures_dir)}"
        try:
            structures.extend(parse_directory_file(path.read_text(encoding="utf-8"), rel))
        except KnowledgeError as exc:
            add("error", rel, str(exc).split(": ", 1)[-1])
    return structures


def _check_document(document: str | None, where: str, context: _Context) -> None:
    if not document:
        return
    if document not in context.known_documents:
        context.add("error", where, f"source document '{document}' not in sources.yaml")
    elif context.present_texts is not None and document not in context.present_texts:
        context.add("error", where, f"source document '{document}' not found")


def _check_card(card: Card, context: _Context) -> None:
    where, add = card.path, context.add
    for ref in card.structures:
        if ref not in context.structure_ids:
            add("error", where, f"refers to unknown structure '{ref}'")
    for ref in card.related:
        if ref not in context.card_ids:
            add("error", where, f"related card '{ref}' does not exist")
    if len(card.body.split()) < MIN_CARD_WORDS:
        add("error", where, f"body has fewer than {MIN_CARD_WORDS} words")
    for pattern, what in ((PHONE, "phone number"), (EMAIL, "e-mail"), (_URL, "URL")):
        if pattern.search(card.body):
            add("error", where, f"a {what} in a card body: contacts go in the directory")
    _check_territory(
        add,
        where,
        card.territory.departements,
        card.territory.regions,
        context.known_departements,
        context.known_regions,
    )
    for source in card.sources:
        if source.document is None and source.url is None:
            add("error", where, "a source names a document or a url")
        _check_document(source.document, where, context)
    if card.updated < context.stale_before:
        add("warning", where, f"not updated since {card.updated} (stale)")
    if card.updated > context.today:
        add("error", where, f"updated date {card.updated} is in the future")
    _check_reviewed(card.reviewed, where, context)
    context.text_check.check(where, [card.title, card.body])


def _check_structure(structure: Structure, context: _Context) -> None:
    where, add = f"{structure.file} {structure.id}", context.add
    for ref in structure.cards:
        if ref not in context.card_ids:
            add("error", where, f"refers to unknown card '{ref}'")
    _check_territory(
        add,
        where,
        structure.coverage.departements,
        structure.coverage.regions,
        context.known_departements,
        context.known_regions,
    )
    _check_contact(structure, where, add)
    for source in structure.sources:
        _check_document(source.document, where, context)
        if source.seen and source.seen > context.today:
            add("error", where, f"source seen on {source.seen}, a future date")
        elif source.seen and source.seen < context.stale_before:
            add("warning", where, f"source page seen on {source.seen} (stale): check it again")
    if structure.verified_on and structure.verified_on < context.stale_before:
        add("warning", where, f"verified on {structure.verified_on}, too long ago")
    _check_reviewed(structure.reviewed, where, context)
    if structure.status == "active":
        context.text_check.check(
            where,
            [structure.name, structure.description, structure.how_to_reach, structure.carrier],
        )


def _check_reviewed(reviewed: dt.date | None, where: str, context: _Context) -> None:
    if reviewed is None:
        context.add("error", where, "no `reviewed` date: when was it last checked?")
    elif reviewed > context.today:
        context.add("error", where, f"reviewed date {reviewed} is in the future")
    elif reviewed < context.stale_before:
        context.add("warning", where, f"not reviewed since {reviewed}: see `knowledge stale`")


def _renamed(knowledge_dir: Path, add: Callable[[Level, str, str], None]) -> list[Renamed]:
    path = knowledge_dir / "renamed.yaml"
    if not path.exists():
        return []
    try:
        return load_renamed(path)
    except KnowledgeError as exc:
        add("error", "renamed.yaml", str(exc).split(": ", 1)[-1])
        return []


def _check_contact(
    structure: Structure, where: str, add: Callable[[Level, str, str], None]
) -> None:
    contact = structure.contact
    if not contact.is_empty() and not any(s.url or s.document for s in structure.sources):
        add("error", where, "contact details without a source")
    if contact.email and not EMAIL.fullmatch(contact.email):
        add("error", where, f"e-mail '{contact.email}' is malformed")
    if (
        contact.phone
        and not PHONE.search(contact.phone)
        and not SHORT_NUMBER.fullmatch(contact.phone)
    ):
        add("error", where, f"phone '{contact.phone}' is not a French number")
    if contact.website and not contact.website.startswith(("http://", "https://")):
        add("error", where, f"website '{contact.website}' must start with http(s)://")
    if contact.site_page and contact.site_page not in {s.url for s in structure.sources}:
        add("error", where, "site_page must be one of the entry's sources (the page itself)")


def _check_territory(
    add: Callable[[Level, str, str], None],
    where: str,
    departements: list[str],
    regions: list[str],
    known_departements: set[str],
    known_regions: set[str],
) -> None:
    if known_departements:
        for code in departements:
            if code not in known_departements:
                add("error", where, f"unknown département code '{code}'")
    if known_regions:
        for code in regions:
            if code not in known_regions:
                add("error", where, f"unknown region code '{code}'")


def _check_pays(path: Path) -> None:
    """Every traditional area names a département that exists."""
    from assistant.territory.index import load_territories
    from assistant.territory.tables import read_pays

    codes = set(load_territories().departement_codes)
    for name, code in read_pays(path).items():
        if code not in codes:
            raise ValueError(f"{name} : « {code} » n'est pas un code de département")


def _check_towns(path: Path) -> None:
    """Every other name of a town names a commune that exists, and no official name."""
    from assistant.territory.index import load_territories
    from assistant.territory.tables import read_codes
    from assistant.territory.text import name_key

    territories = load_territories()
    for name, code in read_codes(path, "commune").items():
        commune = territories.commune(code)
        if commune is None:
            raise ValueError(f"{name} : « {code} » n'est pas un code de commune")
        if name_key(name) != name_key(commune[0]) and territories.bears_name(name):
            raise ValueError(f"{name} : une commune porte déjà ce nom ; il ne sera pas lu")


def validate_data_files(
    knowledge_dir: Path, prompts_dir: Path, card_ids: set[str], structure_ids: set[str]
) -> list[Problem]:
    """The other curated data: diagnostic script, examples and descriptions, next steps, ESS
    traits, reply templates."""
    from jinja2 import Environment, FileSystemLoader, TemplateSyntaxError

    from assistant.errors import AiguillageError
    from assistant.orientation.adviser import load_lexicon
    from assistant.orientation.contacts import NextSteps
    from assistant.understanding.script import load_script
    from assistant.understanding.semantic import load_descriptions, load_examples

    problems: list[Problem] = []
    script_path = knowledge_dir / "diagnostic" / "script.yaml"
    try:
        script = load_script(script_path)
        for ident in script.human_entry_points.national:
            if ident not in structure_ids:
                problems.append(
                    Problem(
                        level="error",
                        where="diagnostic/script.yaml",
                        message=f"human_entry_points: unknown structure '{ident}'",
                    )
                )
    except AiguillageError as exc:
        problems.append(Problem(level="error", where="diagnostic/script.yaml", message=str(exc)))
    checks = (
        (
            "next_steps.yaml",
            lambda: NextSteps.from_file(knowledge_dir / "next_steps.yaml", card_ids),
        ),
        (
            "diagnostic/ess_traits.yaml",
            lambda: load_lexicon(knowledge_dir / "diagnostic" / "ess_traits.yaml", card_ids),
        ),
        (
            "diagnostic/examples.yaml",
            lambda: load_examples(knowledge_dir / "diagnostic" / "examples.yaml"),
        ),
        (
            "diagnostic/descriptions.yaml",
            lambda: load_descriptions(knowledge_dir / "diagnostic" / "descriptions.yaml"),
        ),
        ("territories/pays.yaml", lambda: _check_pays(knowledge_dir / "territories" / PAYS_FILE)),
        (
            "territories/towns.yaml",
            lambda: _check_towns(knowledge_dir / "territories" / TOWNS_FILE),
        ),
    )
    for where, check in checks:
        try:
            check()
        except (AiguillageError, ValueError) as exc:
            problems.append(Problem(level="error", where=where, message=str(exc)))
    env = Environment(loader=FileSystemLoader(str(prompts_dir)), autoescape=False)
    for template in sorted(prompts_dir.rglob("*.j2")):
        try:
            env.parse(template.read_text(encoding="utf-8"))
        except TemplateSyntaxError as exc:
            where = f"prompts/{template.relative_to(prompts_dir)}"
            problems.append(Problem(level="error", where=where, message=str(exc)))
    return problems
