"""`aiguillage knowledge add / remove / draft` and `aiguillage ask` on a real index (e5,
ChromaDB, bm25s): a curator adds a PDF and an HTML page, and the answers quote them with
their citation; adding again, removing and bad files; a card still beats a document.

Each test works on its own copy of the shipped knowledge and of the shared test index
(var/test-data, so the cards' vectors come from the cache): only the documents are embedded.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from assistant.runtime import Runtime
from assistant.search.index import current_generation
from assistant.settings import REPO_ROOT, Settings
from assistant.text import sentences
from connectors.cli.main import app

pytestmark = pytest.mark.e2e


def _samples() -> ModuleType:
    """The sample files are made by the fast tier's helpers (one definition of each)."""
    path = REPO_ROOT / "tests" / "fast" / "test_documents.py"
    spec = importlib.util.spec_from_file_location("document_samples", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


samples = _samples()

# Questions no card answers (a card would win: see test_a_card_wins_when_a_document_also_answers).
PDF_QUESTION = (
    "Sur combien d'années le prêt du fonds d'amorçage solidaire du Limousin est-il remboursable ?"
)
HTML_QUESTION = "Quand a lieu l'atelier de comptabilité associative de la Coopérative des Monts ?"


@dataclass
class Curator:
    knowledge: Path
    data: Path
    env: dict[str, str]
    files: Path

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(app, list(args), env=self.env)

    def ask(self, question: str) -> dict[str, Any]:
        result = self.run("ask", question, "--json")
        assert result.exit_code == 0, result.output
        payload: dict[str, Any] = json.loads(result.stdout)
        return payload

    @property
    def documents(self) -> list[str]:
        folder = self.knowledge / "documents"
        return sorted(p.name for p in folder.glob("*.md") if p.name != "README.md")

    def settings(self) -> Settings:
        return Settings(knowledge_dir=self.knowledge, data_dir=self.data, rate_limit="")


@pytest.fixture()
def curator(runtime: Runtime, tmp_path: Path) -> Curator:
    """A fresh clone's knowledge (copied) and the shared test index (copied)."""
    knowledge = tmp_path / "knowledge"
    shutil.copytree(REPO_ROOT / "knowledge", knowledge)
    data = tmp_path / "data"
    shutil.copytree(runtime.settings.index_dir, data / "index")
    env = {
        "AIGUILLAGE_KNOWLEDGE_DIR": str(knowledge),
        "AIGUILLAGE_DATA_DIR": str(data),
        "AIGUILLAGE_RATE_LIMIT": "",
        "AIGUILLAGE_LLM_PROVIDER": "none",
    }
    files = tmp_path / "files"
    files.mkdir()
    return Curator(knowledge, data, env, files)


def _quoted(answer: str) -> list[str]:
    body = answer.partition("Sources :")[0]
    return [re.sub(r" \[\d+\]$", "", line) for line in body.splitlines() if line.strip()]


def _add_pdf(curator: Curator) -> Result:
    pdf = samples.make_pdf(curator.files / "bilan-fonds-2025.pdf")
    return curator.run(
        "knowledge", "add", str(pdf), "--date", "2025-12-01", "--licence", "CC BY 4.0"
    )


def _add_html(curator: Curator) -> Result:
    page = samples.make_html(curator.files / "atelier.html")
    return curator.run(
        "knowledge", "add", str(page), "--url", "https://www.exemple.fr/atelier-compta"
    )


def test_pdf_and_html_answer_with_their_citation_from_the_console_script(
    curator: Curator,
) -> None:
    added = _add_pdf(curator)
    assert added.exit_code == 0, added.output
    assert "Document ajouté : bilan-fonds-2025" in added.stdout
    added = _add_html(curator)
    assert added.exit_code == 0, added.output
    assert curator.documents == ["atelier-compta.md", "bilan-fonds-2025.md"]

    # The real console script, as a curator runs it after `knowledge add`.
    env = os.environ | curator.env
    script = Path(sys.executable).with_name("aiguillage")
    for question, expected in (
        (
            PDF_QUESTION,
            {
                "id": "bilan-fonds-2025",
                "title": "Bilan 2025 du fonds d'amorçage solidaire",
                "publisher": "Limousin Actif",
                "date": "2025-12-01",
                "page": 1,
                "section": None,
            },
        ),
        (
            HTML_QUESTION,
            {
                "id": "atelier-compta",
                "title": "Atelier comptabilité associative",
                "publisher": "Coopérative des Monts de Guéret",
                "date": "2025-09-15",
                "page": None,
                "section": "L'atelier comptabilité associative",
            },
        ),
    ):
        done = subprocess.run(
            [str(script), "ask", question, "--json"],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        payload = json.loads(done.stdout)
        assert set(payload) >= {"answer", "sources"}
        source = payload["sources"][0]
        assert source["id"] == expected["id"] and source["title"] == expected["title"]
        assert source["kind"] == "document"
        citation = source["citation"]
        for key in ("publisher", "date", "page", "section"):
            assert citation[key] == expected[key], key
        where = f"p. {expected['page']}" if expected["page"] else f"« {expected['section']} »"
        assert where in payload["answer"].partition("Sources :")[2]
        stored = (curator.knowledge / "documents" / f"{expected['id']}.md").read_text("utf-8")
        stored_sentences = {s for s in sentences(stored)}
        for line in _quoted(payload["answer"]):
            assert line in stored_sentences, line  # verbatim from the document
        for boilerplate in (samples.COOKIE_TEXT, samples.NAV_TEXT, samples.FOOTER_TEXT, "Page"):
            assert boilerplate not in payload["answer"]


def test_pdf_answer_carries_the_figure_from_its_page(curator: Curator) -> None:
    assert _add_pdf(curator).exit_code == 0
    payload = curator.ask(PDF_QUESTION)
    assert "Le prêt est remboursable sur cinq ans" in payload["answer"]
    assert payload["sources"][0]["citation"]["page"] == 1
    # The page's heading is a title, not an answer: never quoted on its own.
    assert samples.PDF_PAGES[0][0] not in _quoted(payload["answer"])


def test_a_card_wins_when_a_document_also_answers(curator: Curator) -> None:
    """A page about the DLA answers "le DLA est-il gratuit ?" — the DLA card answers first."""
    page = samples.make_html(
        curator.files / "dla-creuse.html",
        {
            "Le DLA en Creuse": (
                "Le dispositif local d'accompagnement (DLA) est gratuit pour les structures "
                "d'utilité sociale employeuses : associations, coopératives, structures "
                "d'insertion.",
                "Le DLA de la Creuse a accompagné 42 associations employeuses en 2023.",
            ),
        },
    )
    assert curator.run("knowledge", "add", str(page), "--publisher", "Ligue 23").exit_code == 0
    question = "Le DLA est-il gratuit pour les associations employeuses ?"
    answerer = Runtime(curator.settings()).answerer
    assert answerer.document_hits(question), "the document answers this question too"
    payload = curator.ask(question)
    assert payload["sources"] and all(s["kind"] != "document" for s in payload["sources"])
    assert payload["sources"][0]["id"] == "dla-dispositif-local-accompagnement"


def test_adding_again_updates_in_place_and_reindexes_only_it(curator: Curator) -> None:
    assert _add_pdf(curator).exit_code == 0
    generation = current_generation(curator.data / "index")
    again = _add_pdf(curator)
    assert again.exit_code == 0 and "déjà à jour" in again.stdout
    assert current_generation(curator.data / "index") == generation  # nothing rebuilt
    assert curator.documents == ["bilan-fonds-2025.md"]

    pages = [list(p) for p in samples.PDF_PAGES]
    pages[0][1] = pages[0][1].replace("5 000 à 15 000 euros", "8 000 à 25 000 euros")
    samples.make_pdf(curator.files / "bilan-fonds-2025.pdf", pages)
    updated = curator.run("knowledge", "add", str(curator.files / "bilan-fonds-2025.pdf"))
    assert updated.exit_code == 0 and "mis à jour : bilan-fonds-2025" in updated.stdout
    assert "1 modifié(s)" in updated.stderr
    assert curator.documents == ["bilan-fonds-2025.md"]
    answer = curator.ask(PDF_QUESTION)["answer"]
    assert "8 000 à 25 000 euros" in answer and "5 000 à 15 000" not in answer
    chunks = json.loads(
        (current_generation(curator.data / "index") / "chunks.json").read_text()  # type: ignore[operator]
    )
    assert not any("5 000 à 15 000" in c["text"] for c in chunks)


def test_remove_takes_it_out_of_the_index(curator: Curator) -> None:
    assert _add_pdf(curator).exit_code == 0
    assert curator.ask(PDF_QUESTION)["sources"][0]["kind"] == "document"
    removed = curator.run("knowledge", "remove", "bilan-fonds-2025")
    assert removed.exit_code == 0, removed.output
    assert curator.documents == []
    chunks = json.loads(
        (current_generation(curator.data / "index") / "chunks.json").read_text()  # type: ignore[operator]
    )
    assert not any(c["card_id"].startswith("document:") for c in chunks)
    assert all(s["kind"] != "document" for s in curator.ask(PDF_QUESTION)["sources"])
    unknown = curator.run("knowledge", "remove", "bilan-fonds-2025")
    assert unknown.exit_code == 2 and "Aucun document" in unknown.stderr


@pytest.mark.parametrize(
    ("make", "extra", "message"),
    [
        (lambda d: samples.make_scanned_pdf(d / "scan.pdf"), (), "OCR"),
        (
            lambda d: samples.make_encrypted_pdf(
                d / "protege.pdf", samples.make_pdf(d / "src.pdf")
            ),
            (),
            "mot de passe",
        ),
        (lambda d: samples.make_boilerplate_html(d / "accueil.html"), (), "contenu principal"),
        (lambda d: samples.make_pdf(d / "gros.pdf"), ("size",), "au-delà de la limite"),
        (lambda d: samples.make_pdf(d / "b.pdf"), ("--date", "2025-13-01"), "AAAA-MM-JJ"),
    ],
    ids=["scanned", "encrypted", "boilerplate", "too-large", "bad-date"],
)
def test_bad_input_is_refused_and_changes_nothing(
    curator: Curator, make: Any, extra: tuple[str, ...], message: str
) -> None:
    assert _add_pdf(curator).exit_code == 0
    documents = {p.name: p.read_bytes() for p in (curator.knowledge / "documents").iterdir()}
    generation = current_generation(curator.data / "index")
    env = dict(curator.env)
    args = list(extra)
    if "size" in args:
        args.remove("size")
        env["AIGUILLAGE_MAX_DOCUMENT_MB"] = "0.001"
    result = CliRunner().invoke(app, ["knowledge", "add", str(make(curator.files)), *args], env=env)
    assert result.exit_code == 2
    assert "Erreur" in result.stderr and message in " ".join(result.stderr.split())
    after = {p.name: p.read_bytes() for p in (curator.knowledge / "documents").iterdir()}
    assert after == documents
    assert current_generation(curator.data / "index") == generation


def test_draft_writes_skeletons_with_pages(curator: Curator) -> None:
    assert _add_pdf(curator).exit_code == 0
    out = curator.files / "brouillons"
    result = curator.run("knowledge", "draft", "bilan-fonds-2025", "--out", str(out))
    assert result.exit_code == 0, result.output
    [draft] = sorted(out.glob("*.md"))
    text = draft.read_text("utf-8")
    assert f"« {samples.PDF_PAGES[1][1]} » (p. 2)" in text
    listed = curator.run("knowledge", "documents")
    assert "bilan-fonds-2025 — Bilan 2025" in listed.stdout and "CC BY 4.0" in listed.stdout
    # A draft is not a card: the corpus still validates and still indexes.
    assert curator.run("knowledge", "validate").exit_code == 0
