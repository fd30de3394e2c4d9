"""Corrections proposed by structures: checks on the form, the stores, and the edit of a
directory file (only the lines it changes; the result validates)."""

from __future__ import annotations

import datetime as dt
import shutil
from collections import Counter
from pathlib import Path

import pytest

from assistant.curation.corrections import Proposal, ProposalDraft, check_draft, clean
from assistant.curation.directory_edit import apply_correction
from assistant.curation.validation import validate_knowledge
from assistant.errors import KnowledgeError
from assistant.orientation.directory import Structure, load_directory
from assistant.runtime import Runtime
from assistant.sessions.proposals import MemoryProposalStore, SqlProposalStore
from assistant.sessions.store import SqlSessionStore
from assistant.settings import REPO_ROOT

TODAY = dt.date(2026, 11, 30)
KNOWLEDGE = REPO_ROOT / "knowledge"


@pytest.fixture()
def structures_copy(tmp_path: Path) -> Path:
    target = tmp_path / "structures"
    shutil.copytree(KNOWLEDGE / "structures", target)
    return target


def _directory(path: Path) -> dict[str, Structure]:
    return {s.id: s for s in load_directory(path)}


def _proposal(structure_id: str, field: str, value: str, url: str) -> Proposal:
    return Proposal(
        id=1,
        structure_id=structure_id,
        field=field,  # type: ignore[arg-type]
        value=value,
        page_url=url,
        created_at=dt.datetime(2026, 11, 30, tzinfo=dt.UTC),
    )


def _changed_lines(before: str, after: str) -> list[str]:
    """Lines removed ("-…") and added ("+…"), as multisets: what an edit really changed."""
    old, new = Counter(before.splitlines()), Counter(after.splitlines())
    removed = [f"-{line}" for line, n in (old - new).items() for _ in range(n)]
    return sorted(removed + [f"+{line}" for line, n in (new - old).items() for _ in range(n)])


# --------------------------------------------------------------------------- the form


def test_a_good_draft_passes_and_each_bad_field_is_named_in_french(runtime: Runtime) -> None:
    good = ProposalDraft(
        structure_id="dla-23",
        field="phone",
        value="05 55 12 34 56",
        page_url="https://exemple.fr/dla-creuse",
    )
    assert check_draft(good, runtime.structures) == {}
    bad = ProposalDraft(
        structure_id="inconnue", field="siret", value="", page_url="ftp://x", email="pas-un-mail"
    )
    errors = check_draft(bad, runtime.structures)
    assert set(errors) == {"structure_id", "field", "value", "page_url", "email"}
    assert "annuaire" in errors["structure_id"]
    assert errors["page_url"].startswith("L'adresse de la page")


@pytest.mark.parametrize(
    ("field", "value", "ok"),
    [
        ("phone", "05 55 12 34 56", True),
        ("phone", "+33 5 55 12 34 56", True),
        ("phone", "12 34", False),
        ("email", "contact@dla-creuse.fr", True),
        ("email", "contact(at)dla", False),
        ("website", "https://www.dla-creuse.fr/", True),
        ("website", "www.dla-creuse.fr", False),
        ("address", "2 rue de la Mairie 23000 Guéret", True),
    ],
)
def test_values_are_checked_by_kind(runtime: Runtime, field: str, value: str, ok: bool) -> None:
    draft = ProposalDraft(
        structure_id="dla-23", field=field, value=value, page_url="https://exemple.fr/p"
    )
    assert ("value" not in check_draft(draft, runtime.structures)) is ok


def test_the_current_value_is_not_a_correction(runtime: Runtime) -> None:
    structure = next(s for s in runtime.structures.values() if s.contact.website)
    draft = ProposalDraft(
        structure_id=structure.id,
        field="website",
        value=structure.contact.website or "",
        page_url="https://exemple.fr/p",
    )
    assert "déjà" in check_draft(draft, runtime.structures)["value"]


def test_clean_collapses_pasted_whitespace() -> None:
    draft = clean(
        ProposalDraft(
            structure_id=" dla-23 ",
            field="phone ",
            value=" 05 55\n12 34 56 ",
            page_url=" https://a.fr ",
        )
    )
    assert (draft.structure_id, draft.field, draft.value, draft.page_url) == (
        "dla-23",
        "phone",
        "05 55 12 34 56",
        "https://a.fr",
    )


# --------------------------------------------------------------------------- the stores


def _exercise(store: MemoryProposalStore | SqlProposalStore) -> None:
    first = store.add(
        ProposalDraft(
            structure_id="dla-23",
            field="phone",
            value="05 55 12 34 56",
            page_url="https://a.fr/1",
            email="moi@exemple.fr",
        )
    )
    second = store.add(
        ProposalDraft(
            structure_id="dla-87", field="website", value="https://b.fr/", page_url="https://b.fr/"
        )
    )
    assert first.status == "pending" and first.email == "moi@exemple.fr"
    assert second.email is None  # an empty e-mail is not stored
    assert [p.id for p in store.list()] == [second.id, first.id]  # newest first
    decided = store.decide(first.id, "accepted")
    assert decided.status == "accepted" and decided.decided_at is not None
    assert [p.id for p in store.list("pending")] == [second.id]
    assert store.get(first.id) == decided
    assert store.get(9999) is None
    with pytest.raises(KeyError):
        store.decide(9999, "rejected")


def _emails_forgotten_after_the_retention(store: MemoryProposalStore | SqlProposalStore) -> None:
    from assistant.curation.corrections import forget_old_emails

    t0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    draft = ProposalDraft(
        structure_id="dla-23",
        field="phone",
        value="05 55 12 34 56",
        page_url="https://a.fr/1",
        email="moi@exemple.fr",
    )
    old = store.add(draft, now=t0)
    store.decide(old.id, "rejected", now=t0)
    recent = store.add(draft, now=t0)
    store.decide(recent.id, "accepted", now=t0 + dt.timedelta(days=60))
    waiting = store.add(draft, now=t0)  # never decided: the curator may still answer
    later = t0 + dt.timedelta(days=100)
    assert forget_old_emails(store, retention_days=90, now=later) == 1
    by_id = {p.id: p for p in store.list()}
    assert by_id[old.id].email is None and by_id[old.id].status == "rejected"  # kept, no e-mail
    assert by_id[recent.id].email == "moi@exemple.fr"
    assert by_id[waiting.id].email == "moi@exemple.fr"
    assert forget_old_emails(store, retention_days=90, now=later) == 0


def test_memory_proposal_store() -> None:
    _exercise(MemoryProposalStore())
    _emails_forgotten_after_the_retention(MemoryProposalStore())


def test_sql_proposal_store_forgets_old_emails(tmp_path: Path) -> None:
    sessions = SqlSessionStore(f"sqlite:///{tmp_path / 's.sqlite3'}")
    try:
        _emails_forgotten_after_the_retention(SqlProposalStore(sessions.engine))
    finally:
        sessions.close()


def test_sql_proposal_store_shares_the_sessions_database(tmp_path: Path) -> None:
    sessions = SqlSessionStore(f"sqlite:///{tmp_path / 's.sqlite3'}")
    try:
        _exercise(SqlProposalStore(sessions.engine))
        # A second process opening the same database sees the same proposals.
        again = SqlProposalStore(sessions.engine)
        assert [p.status for p in again.list()] == ["pending", "accepted"]
    finally:
        sessions.close()


# --------------------------------------------------------------------------- the file edit


def test_accepting_edits_only_the_lines_of_the_correction(structures_copy: Path) -> None:
    path = structures_copy / "dla.yaml"
    before = path.read_text(encoding="utf-8")
    old = _directory(structures_copy)
    structure = old["dla-23"]
    proposal = _proposal("dla-23", "phone", "05 55 12 34 56", "https://exemple.fr/dla-creuse")

    applied = apply_correction(structures_copy, structure, proposal, TODAY)

    after = path.read_text(encoding="utf-8")
    assert _changed_lines(before, after) == sorted(
        [
            "-  contact: {}",
            "+  contact:",
            '+    phone: "05 55 12 34 56"',
            '+    - {url: "https://exemple.fr/dla-creuse", title: "Correction signalée par la '
            'structure (phone), acceptée le 30/11/2026", seen: 2026-11-30}',
            f"-  reviewed: {structure.reviewed}",
            "+  reviewed: 2026-11-30",
        ]
    )
    new = _directory(structures_copy)
    assert new["dla-23"].contact.phone == "05 55 12 34 56"
    assert new["dla-23"].reviewed == TODAY
    assert new["dla-23"].sources[-1].url == "https://exemple.fr/dla-creuse"
    assert new["dla-23"].sources[-1].seen == TODAY
    assert applied.structure == new["dla-23"]
    assert {k: v for k, v in new.items() if k != "dla-23"} == {
        k: v for k, v in old.items() if k != "dla-23"
    }


def test_a_block_style_file_keeps_its_style_and_comments(structures_copy: Path) -> None:
    path = structures_copy / "avise-2018.yaml"
    before = path.read_text(encoding="utf-8")
    structure = next(s for s in _directory(structures_copy).values() if s.file == path.name)
    proposal = _proposal(
        structure.id, "how_to_reach", "Écrire à « l'accueil » : oui", "https://a.fr/x"
    )
    apply_correction(structures_copy, structure, proposal, TODAY)
    after = path.read_text(encoding="utf-8")
    assert after.splitlines()[:2] == before.splitlines()[:2]  # the file's comments stay
    added = [line for line in _changed_lines(before, after) if line.startswith("+")]
    assert '+  how_to_reach: "Écrire à « l\'accueil » : oui"' in added
    assert '+  - url: "https://a.fr/x"' in added  # block items, as the file writes them
    assert _directory(structures_copy)[structure.id].how_to_reach == "Écrire à « l'accueil » : oui"


def test_a_page_already_cited_is_seen_again_not_duplicated(structures_copy: Path) -> None:
    structure = _directory(structures_copy)["dla-01"]
    cited = structure.sources[0]
    assert cited.url
    proposal = _proposal("dla-01", "phone", "04 74 23 12 34", cited.url)
    apply_correction(structures_copy, structure, proposal, TODAY)
    new = _directory(structures_copy)["dla-01"]
    assert [s.url for s in new.sources].count(cited.url) == 1
    again = next(s for s in new.sources if s.url == cited.url)
    assert (again.title, again.seen) == (cited.title, TODAY)


def test_the_first_and_last_entry_of_every_file_can_be_corrected(structures_copy: Path) -> None:
    """The text edit copes with every way the directory files are written (first entries sit
    under the file's comments, last ones end the file). Every entry of every file was checked
    once by hand the same way (167 of 167); sampling keeps the fast tier fast."""
    fields = ["phone", "website", "name", "how_to_reach", "email", "address", "carrier"]
    values = {"phone": "05 55 12 34 56", "website": "https://exemple.fr/", "email": "a@b.fr"}
    by_file: dict[str, list[Structure]] = {}
    for structure in load_directory(structures_copy):
        by_file.setdefault(structure.file, []).append(structure)
    chosen = [
        s
        for entries in by_file.values()
        for s in {entries[0].id: entries[0], entries[-1].id: entries[-1]}.values()
    ]
    for n, structure in enumerate(chosen):
        field = fields[n % len(fields)]
        value = values.get(field, 'Nouvelle valeur « citée » avec "guillemets"')
        url = f"https://exemple.fr/{structure.id}"
        apply_correction(
            structures_copy, structure, _proposal(structure.id, field, value, url), TODAY
        )
    after = _directory(structures_copy)
    assert len(after) == len(load_directory(KNOWLEDGE / "structures"))
    assert all(after[s.id].reviewed == TODAY for s in chosen)
    assert len(by_file) >= 5


def test_the_corrected_copy_still_validates(tmp_path: Path, runtime: Runtime) -> None:
    knowledge = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, knowledge)
    structure = _directory(knowledge / "structures")["dla-23"]
    proposal = _proposal(
        "dla-23", "website", "https://www.exemple-dla23.fr/", "https://www.exemple-dla23.fr/"
    )
    apply_correction(knowledge / "structures", structure, proposal, dt.date.today())
    territories = runtime.territories
    report = validate_knowledge(
        knowledge,
        sources_dir=None,
        known_departements=set(territories.departement_codes),
        known_regions=set(territories.region_codes),
        stale_after_days=runtime.settings.stale_after_days,
    )
    assert report.errors == []


def test_an_entry_that_cannot_be_found_leaves_the_file_untouched(structures_copy: Path) -> None:
    path = structures_copy / "dla.yaml"
    structure = _directory(structures_copy)["dla-23"]
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("- id: dla-23\n", "- {id: dla-23}\n"), encoding="utf-8")
    broken = path.read_text(encoding="utf-8")
    with pytest.raises(KnowledgeError):
        apply_correction(
            structures_copy,
            structure,
            _proposal("dla-23", "phone", "05 55 12 34 56", "https://a.fr"),
            TODAY,
        )
    assert path.read_text(encoding="utf-8") == broken
