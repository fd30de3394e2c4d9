"""The shipped knowledge (cards + structure directory) and the curator's validator."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from assistant.curation.validation import ValidationReport, validate_knowledge
from assistant.errors import KnowledgeError
from assistant.orientation.directory import Structure, load_directory
from assistant.search.cards import iter_card_files, load_cards, parse_card
from assistant.settings import REPO_ROOT, Settings
from assistant.territory.index import TerritoryIndex, load_territories
from connectors.cli.main import app

# The full source texts sit beside the clone in development and CI; the checks against them
# run only where they are present (the repository itself carries their metadata).
_SHARED_SOURCES = REPO_ROOT.parent / "shared" / "sources"
SOURCES_DIR = _SHARED_SOURCES if _SHARED_SOURCES.is_dir() else None
LISTED_DOCUMENTS = {
    d["file"] for d in yaml.safe_load((REPO_ROOT / "knowledge" / "sources.yaml").read_text())
}


def _newest_date_in_knowledge() -> dt.date:
    """The latest `updated`/`seen`/`reviewed` date the shipped knowledge carries: the tests'
    "today", so they depend on the content, not on the day they run."""
    found = re.findall(
        r"\b(?:updated|seen|reviewed|verified_on):\s*\"?(\d{4}-\d{2}-\d{2})",
        "\n".join(
            p.read_text(encoding="utf-8")
            for p in (REPO_ROOT / "knowledge").rglob("*")
            if p.suffix in {".md", ".yaml"}
        ),
    )
    return max(dt.date.fromisoformat(d) for d in found)


TODAY = _newest_date_in_knowledge()


@pytest.fixture(scope="module")
def territories() -> TerritoryIndex:
    return load_territories(Settings().territories_dir / "territories.json.gz")


@pytest.fixture(scope="module")
def structures() -> list[Structure]:
    return load_directory(Settings().structures_dir)


def _validate(
    knowledge: Path, territories: TerritoryIndex, today: dt.date = TODAY
) -> ValidationReport:
    return validate_knowledge(
        knowledge,
        sources_dir=SOURCES_DIR,
        known_departements=set(territories.departement_codes),
        known_regions=set(territories.region_codes),
        stale_after_days=730,
        today=today,
    )


# -- the shipped knowledge -----------------------------------------------------------------


def test_every_card_loads_with_unique_ids(knowledge_dir: Path) -> None:
    files = [p for p in iter_card_files(knowledge_dir / "cards") if p.name.lower() != "readme.md"]
    cards = load_cards(knowledge_dir / "cards")
    assert len(cards) == len(files)
    assert len({c.id for c in cards}) == len(cards)
    assert all(c.path.endswith(".md") for c in cards)
    assert len(cards) >= 60


def test_every_card_file_is_named_after_its_id(knowledge_dir: Path) -> None:
    for card in load_cards(knowledge_dir / "cards"):
        assert Path(card.path).stem == card.id, card.path


def test_every_directory_entry_loads(knowledge_dir: Path, structures: list[Structure]) -> None:
    entries = 0
    for path in (knowledge_dir / "structures").rglob("*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        entries += len(data)
    assert len(structures) == entries > 0
    assert len({s.id for s in structures}) == len(structures)


def test_shipped_knowledge_validates_without_errors(
    knowledge_dir: Path, territories: TerritoryIndex
) -> None:
    report = validate_knowledge(
        knowledge_dir,
        sources_dir=SOURCES_DIR,
        known_departements=set(territories.departement_codes),
        known_regions=set(territories.region_codes),
        stale_after_days=Settings().stale_after_days,
    )
    assert report.errors == [], [str(p) for p in report.errors]
    assert report.cards >= 60
    assert report.structures == len(load_directory(knowledge_dir / "structures"))


def test_cli_knowledge_validate_exits_zero() -> None:
    result = CliRunner().invoke(app, ["knowledge", "validate"])
    assert result.exit_code == 0, result.output
    assert "0 erreur" in result.output


def test_a_dla_for_every_departement(
    territories: TerritoryIndex, structures: list[Structure]
) -> None:
    covered = {d for s in structures if s.kind == "dla" for d in s.coverage.departements}
    codes = set(territories.departement_codes)
    assert len(codes) == 101
    assert codes <= covered, sorted(codes - covered)


def test_a_cress_for_every_region(territories: TerritoryIndex, structures: list[Structure]) -> None:
    covered = {r for s in structures if s.kind == "cress" for r in s.coverage.regions}
    codes = set(territories.region_codes)
    assert len(codes) == 18
    assert codes <= covered, sorted(codes - covered)


def test_every_contact_detail_has_a_source(structures: list[Structure]) -> None:
    with_contact = [s for s in structures if not s.contact.is_empty()]
    assert with_contact, "the directory should carry at least some sourced contacts"
    for structure in with_contact:
        assert any(src.url or src.document for src in structure.sources), structure.id
        for src in structure.sources:
            if src.url:
                assert src.seen is not None, f"{structure.id}: url source without 'seen'"
            if src.document:
                assert src.document in LISTED_DOCUMENTS, src.document
                if SOURCES_DIR is not None:
                    assert (SOURCES_DIR / src.document).is_file(), src.document


def test_card_references_resolve(knowledge_dir: Path, structures: list[Structure]) -> None:
    cards = {c.id: c for c in load_cards(knowledge_dir / "cards")}
    structure_ids = {s.id for s in structures}
    for card in cards.values():
        assert set(card.structures) <= structure_ids, card.id
        assert set(card.related) <= set(cards), card.id
    for structure in structures:
        assert set(structure.cards) <= set(cards), structure.id


# -- the validator on broken copies ----------------------------------------------------------


@pytest.fixture()
def copy(tmp_path: Path, knowledge_dir: Path) -> Path:
    """A copy of the cards and directory, to break on purpose."""
    target = tmp_path / "knowledge"
    shutil.copytree(knowledge_dir / "cards", target / "cards")
    shutil.copytree(knowledge_dir / "structures", target / "structures")
    shutil.copy(knowledge_dir / "sources.yaml", target / "sources.yaml")
    return target


CARD = "cards/ecosysteme/dla-dispositif-local-accompagnement.md"
CARD_ID = "dla-dispositif-local-accompagnement"


def _edit_card(
    copy: Path, rel: str, change: Callable[[dict[str, Any]], None], body: str | None = None
) -> None:
    path = copy / rel
    text = path.read_text(encoding="utf-8")
    _, header_text, old_body = text.split("---\n", 2)
    header = yaml.safe_load(header_text)
    change(header)
    new = "---\n" + yaml.safe_dump(header, allow_unicode=True, sort_keys=False) + "---\n"
    path.write_text(new + (body if body is not None else old_body), encoding="utf-8")


def _edit_structure(
    copy: Path, file: str, ident: str, change: Callable[[dict[str, Any]], None]
) -> None:
    path = copy / "structures" / file
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    entry = next(e for e in entries if e["id"] == ident)
    change(entry)
    path.write_text(yaml.safe_dump(entries, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _messages(report: ValidationReport, level: str) -> list[str]:
    return [f"{p.where}: {p.message}" for p in report.problems if p.level == level]


def test_pristine_copy_is_clean(copy: Path, territories: TerritoryIndex) -> None:
    report = _validate(copy, territories)
    assert report.errors == []
    assert report.warnings == []


def test_duplicate_card_id(copy: Path, territories: TerritoryIndex) -> None:
    shutil.copy(copy / CARD, copy / "cards" / "national" / "dla-copy.md")
    report = _validate(copy, territories)
    assert any(
        p.level == "error" and CARD_ID in p.where and "duplicate" in p.message
        for p in report.problems
    ), _messages(report, "error")


def test_duplicate_structure_id(copy: Path, territories: TerritoryIndex) -> None:
    entries = yaml.safe_load((copy / "structures" / "dla.yaml").read_text(encoding="utf-8"))
    dla_23 = next(e for e in entries if e["id"] == "dla-23")
    (copy / "structures" / "extra.yaml").write_text(
        yaml.safe_dump([dla_23], allow_unicode=True), encoding="utf-8"
    )
    report = _validate(copy, territories)
    assert any("dla-23" in p.where and "duplicate" in p.message for p in report.errors)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("stages", ["incubation"]),
        ("needs", ["argent"]),
        ("kind", "article"),
        ("profiles", ["asso"]),
    ],
)
def test_unknown_vocabulary_value_in_a_card(
    copy: Path, territories: TerritoryIndex, field: str, value: object
) -> None:
    _edit_card(copy, CARD, lambda h: h.__setitem__(field, value))
    report = _validate(copy, territories)
    assert any(p.where == CARD and field in p.message for p in report.errors), _messages(
        report, "error"
    )


def test_unknown_structure_kind(copy: Path, territories: TerritoryIndex) -> None:
    _edit_structure(copy, "dla.yaml", "dla-23", lambda e: e.__setitem__("kind", "incubator"))
    report = _validate(copy, territories)
    assert any(p.where == "structures/dla.yaml" and "dla-23" in p.message for p in report.errors)


def test_unknown_departement_code(copy: Path, territories: TerritoryIndex) -> None:
    _edit_structure(
        copy, "dla.yaml", "dla-23", lambda e: e.__setitem__("coverage", {"departements": ["99"]})
    )
    report = _validate(copy, territories)
    assert any("dla-23" in p.where and "'99'" in p.message for p in report.errors)


def test_reference_to_a_missing_structure(copy: Path, territories: TerritoryIndex) -> None:
    _edit_card(copy, CARD, lambda h: h.__setitem__("structures", ["dla-ghost"]))
    report = _validate(copy, territories)
    assert any(p.where == CARD and "dla-ghost" in p.message for p in report.errors)


def test_reference_to_a_missing_card(copy: Path, territories: TerritoryIndex) -> None:
    _edit_card(copy, CARD, lambda h: h.__setitem__("related", ["no-such-card"]))
    _edit_structure(copy, "dla.yaml", "dla-23", lambda e: e.__setitem__("cards", ["ghost-card"]))
    report = _validate(copy, territories)
    assert any(p.where == CARD and "no-such-card" in p.message for p in report.errors)
    assert any("dla-23" in p.where and "ghost-card" in p.message for p in report.errors)


@pytest.mark.parametrize(
    ("added", "what"),
    [
        ("Appelez le 05 55 12 34 56 pour un rendez-vous.", "phone"),
        ("Appelez le +33 5 55 12 34 56 pour un rendez-vous.", "phone"),
        ("Écrivez à accueil@dla-creuse.fr pour un rendez-vous.", "e-mail"),
        ("Tout est sur https://www.info-dla.fr pour un rendez-vous.", "URL"),
        ("Tout est sur www.info-dla.fr pour un rendez-vous.", "URL"),
    ],
)
def test_contact_details_in_a_card_body(
    copy: Path, territories: TerritoryIndex, added: str, what: str
) -> None:
    body = (copy / CARD).read_text(encoding="utf-8").split("---\n", 2)[2]
    _edit_card(copy, CARD, lambda h: None, body=body + "\n" + added + "\n")
    report = _validate(copy, territories)
    assert any(p.where == CARD and what in p.message for p in report.errors), _messages(
        report, "error"
    )


def test_figures_and_years_in_a_body_are_not_phone_numbers(
    copy: Path, territories: TerritoryIndex
) -> None:
    body = (copy / CARD).read_text(encoding="utf-8").split("---\n", 2)[2]
    extra = "En 2018, 6 000 structures et 103 DLA ; budget de 1 200 000 euros sur 2019-2021.\n"
    _edit_card(copy, CARD, lambda h: None, body=body + "\n" + extra)
    assert _validate(copy, territories).errors == []


def test_stale_card_is_a_warning_not_an_error(copy: Path, territories: TerritoryIndex) -> None:
    _edit_card(copy, CARD, lambda h: h.__setitem__("updated", TODAY - dt.timedelta(days=800)))
    report = _validate(copy, territories)
    assert report.errors == []
    assert any(p.where == CARD and "stale" in p.message for p in report.warnings)


def test_stale_url_source_is_a_warning(copy: Path, territories: TerritoryIndex) -> None:
    old = TODAY - dt.timedelta(days=1000)

    def age(entry: dict[str, Any]) -> None:
        for source in entry["sources"]:
            if "url" in source:
                source["seen"] = old

    _edit_structure(copy, "dla.yaml", "dla-national", age)
    report = _validate(copy, territories)
    assert report.errors == []
    assert any("dla-national" in p.where and "stale" in p.message for p in report.warnings)


def test_future_updated_date_is_an_error(copy: Path, territories: TerritoryIndex) -> None:
    _edit_card(copy, CARD, lambda h: h.__setitem__("updated", TODAY + dt.timedelta(days=30)))
    report = _validate(copy, territories)
    assert any(p.where == CARD and "future" in p.message for p in report.errors)


def test_future_seen_date_is_an_error(copy: Path, territories: TerritoryIndex) -> None:
    def future(entry: dict[str, Any]) -> None:
        entry["sources"][1]["seen"] = TODAY + dt.timedelta(days=3)

    _edit_structure(copy, "dla.yaml", "dla-national", future)
    report = _validate(copy, territories)
    assert any("dla-national" in p.where and "future" in p.message for p in report.errors)


def test_contact_without_a_source(copy: Path, territories: TerritoryIndex) -> None:
    def unsourced(entry: dict[str, Any]) -> None:
        entry["contact"] = {"phone": "05 55 12 34 56"}
        entry["sources"] = [{"title": "entendu dire"}]

    _edit_structure(copy, "dla.yaml", "dla-23", unsourced)
    report = _validate(copy, territories)
    assert any(p.where == "structures/dla.yaml" and "dla-23" in p.message for p in report.errors)


def test_url_source_without_seen_date(copy: Path, territories: TerritoryIndex) -> None:
    def undated(entry: dict[str, Any]) -> None:
        entry["contact"] = {"website": "https://example.org/dla23"}
        entry["sources"] = [{"url": "https://example.org/dla23", "title": "page"}]

    _edit_structure(copy, "dla.yaml", "dla-23", undated)
    report = _validate(copy, territories)
    assert any("dla-23" in p.message and "seen" in p.message for p in report.errors)


@pytest.mark.parametrize(
    ("contact", "fragment"),
    [
        ({"website": "www.dla-creuse.fr"}, "website"),
        ({"email": "accueil-at-dla.fr"}, "e-mail"),
        ({"phone": "12 34"}, "phone"),
    ],
)
def test_malformed_contact(
    copy: Path, territories: TerritoryIndex, contact: dict[str, str], fragment: str
) -> None:
    _edit_structure(copy, "dla.yaml", "dla-23", lambda e: e.__setitem__("contact", contact))
    report = _validate(copy, territories)
    assert any("dla-23" in p.where and fragment in p.message for p in report.errors), _messages(
        report, "error"
    )


def test_short_service_number_is_accepted(copy: Path, territories: TerritoryIndex) -> None:
    _edit_structure(
        copy, "dla.yaml", "dla-23", lambda e: e.__setitem__("contact", {"phone": "3949"})
    )
    assert _validate(copy, territories).errors == []


def test_missing_source_document(copy: Path, territories: TerritoryIndex) -> None:
    def missing(header: dict[str, Any]) -> None:
        header["sources"][0]["document"] = "999_does_not_exist.txt"

    _edit_card(copy, CARD, missing)
    _edit_structure(
        copy,
        "dla.yaml",
        "dla-23",
        lambda e: e.__setitem__("sources", [{"document": "998_nope.txt", "title": "x"}]),
    )
    report = _validate(copy, territories)
    assert any(p.where == CARD and "999_does_not_exist.txt" in p.message for p in report.errors)
    assert any("dla-23" in p.where and "998_nope.txt" in p.message for p in report.errors)


def test_short_card_body(copy: Path, territories: TerritoryIndex) -> None:
    _edit_card(copy, CARD, lambda h: None, body="Le DLA aide les associations employeuses.\n")
    report = _validate(copy, territories)
    assert any(p.where == CARD and "fewer than" in p.message for p in report.errors)


def test_every_problem_is_collected_not_only_the_first(
    copy: Path, territories: TerritoryIndex
) -> None:
    _edit_card(copy, CARD, lambda h: h.__setitem__("structures", ["ghost-1"]))
    _edit_card(
        copy,
        "cards/national/agrement-esus.md",
        lambda h: h.__setitem__("updated", TODAY + dt.timedelta(days=1)),
    )
    (copy / "cards" / "national" / "broken.md").write_text("no front matter\n", encoding="utf-8")
    report = _validate(copy, territories)
    wheres = {p.where for p in report.errors}
    assert {CARD, "cards/national/agrement-esus.md", "cards/national/broken.md"} <= wheres


def test_cli_validate_fails_on_errors(copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _edit_card(copy, CARD, lambda h: h.__setitem__("structures", ["dla-ghost"]))
    shutil.copytree(REPO_ROOT / "knowledge" / "territories", copy / "territories")
    monkeypatch.setenv("AIGUILLAGE_KNOWLEDGE_DIR", str(copy))
    result = CliRunner().invoke(app, ["knowledge", "validate"])
    assert result.exit_code == 1
    assert "dla-ghost" in result.output


def test_parse_card_errors_name_the_file() -> None:
    with pytest.raises(KnowledgeError, match=r"x\.md"):
        parse_card("no front matter", "x.md")
    with pytest.raises(KnowledgeError, match=r"x\.md"):
        parse_card("---\nid: a\n", "x.md")
