"""Curators' documents on the core: extraction (a real PDF and a real HTML page made here),
storage, adding again, bad files, passages, drafting, and answering from the second layer.

The PDF is written by fpdf2 (a dev dependency, LGPL, pure Python): its core fonts need no
font file on the machine and cover French accents, and it writes real text objects that any
PDF reader extracts. `make_pdf`, `make_html` and friends serve the integration tests too.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from assistant.answers.answering import Answerer, RelevancePolicy
from assistant.documents import (
    AddResult,
    DocumentInfo,
    DocumentStore,
    add_document,
    draft_cards,
    passage_set,
    write_drafts,
)
from assistant.documents.extraction import extract
from assistant.documents.store import parse, render
from assistant.errors import DocumentError
from assistant.runtime import Runtime
from assistant.search.base import Hit, SearchFilter
from assistant.search.chunks import Chunk
from assistant.text import sentences

MB = 1_000_000
TODAY = dt.date(2026, 11, 30)

PDF_PAGES: list[list[str]] = [
    [
        "Fonds d'amorçage solidaire du Limousin",
        "Le fonds d'amorçage solidaire du Limousin accorde des prêts d'honneur de 5 000 à "
        "15 000 euros aux porteurs de projets de l'économie sociale et solidaire, sans "
        "garantie personnelle ni intérêts.",
        "Le prêt est remboursable sur cinq ans, avec un différé de six mois.",
    ],
    [
        "Bilan de l'année 2025",
        "En 2025, le comité d'engagement du fonds a financé 37 projets, dont 12 en Creuse, "
        "pour un montant total de 410 000 euros.",
        "Les projets financés ont créé ou maintenu 96 emplois sur le territoire.",
    ],
    [
        "Déposer une demande",
        "Pour déposer une demande, le porteur de projet envoie un dossier de candidature au "
        "fonds, qui réunit son comité d'engagement quatre fois par an à Limoges.",
    ],
]
PDF_FOOTER = "Limousin Actif - Bilan 2025"

COOKIE_TEXT = "Nous utilisons des cookies pour mesurer l'audience de ce site"
NAV_TEXT = "Adhérer à la coopérative"
FOOTER_TEXT = "Mentions légales"
HTML_SECTIONS = {
    "L'atelier comptabilité associative": (
        "La Coopérative des Monts de Guéret anime un atelier de comptabilité associative le "
        "premier mardi de chaque mois, à la Maison des associations de Guéret.",
        "L'atelier accueille au plus douze trésoriers bénévoles et dure trois heures.",
    ),
    "S'inscrire à l'atelier": (
        "L'inscription est gratuite pour les associations adhérentes et coûte 20 euros par "
        "séance pour les autres structures.",
    ),
}


def make_pdf(
    path: Path,
    pages: Sequence[Sequence[str]] = PDF_PAGES,
    footer: str = PDF_FOOTER,
    author: str | None = "Limousin Actif",
) -> Path:
    """A real text PDF: a heading and paragraphs per page, a running footer with numbers."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_auto_page_break(False)
    pdf.set_title("Bilan 2025 du fonds d'amorçage solidaire")
    if author:
        pdf.set_author(author)
    for number, (heading, *paragraphs) in enumerate(pages, start=1):
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 16)
        pdf.multi_cell(0, 10, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=11)
        for paragraph in paragraphs:
            pdf.multi_cell(0, 6, paragraph, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(4)
        pdf.set_y(-20)
        pdf.cell(0, 8, f"{footer}   Page {number}/{len(pages)}")
    pdf.output(str(path))
    return path


def make_scanned_pdf(path: Path) -> Path:
    """Pages with only drawings, as a scan is only images: no text to extract."""
    from fpdf import FPDF

    pdf = FPDF()
    for _ in range(2):
        pdf.add_page()
        pdf.set_fill_color(200, 200, 200)
        pdf.rect(20, 20, 170, 250, style="F")
    pdf.output(str(path))
    return path


def make_encrypted_pdf(path: Path, source: Path) -> Path:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(source))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    with path.open("wb") as out:
        writer.write(out)
    return path


def _page(main: str) -> str:
    return f"""<!doctype html>
<html lang="fr"><head><meta charset="utf-8">
<title>Atelier comptabilité | Coopérative des Monts</title>
<meta property="og:site_name" content="Coopérative des Monts de Guéret">
<meta property="article:published_time" content="2025-09-15">
</head><body>
<div id="cookie-banner" class="cookie-consent"><p>{COOKIE_TEXT} et améliorer votre
expérience de navigation. Vous pouvez accepter ou refuser les cookies à tout moment.</p>
<button>Accepter</button><button>Refuser</button></div>
<header><nav><ul><li><a href="/">Accueil</a></li><li><a href="/agenda">Agenda</a></li>
<li><a href="/adherer">{NAV_TEXT}</a></li><li><a href="/contact">Contact</a></li></ul></nav>
</header>
{main}
<footer><p>© 2025 Coopérative des Monts — {FOOTER_TEXT} — Plan du site — Politique de
confidentialité — Nous suivre sur les réseaux sociaux</p></footer>
</body></html>"""


def make_html(path: Path, sections: dict[str, tuple[str, ...]] = HTML_SECTIONS) -> Path:
    """A real page: cookie banner, navigation and footer around one article."""
    body = "".join(
        f"<h2>{heading}</h2>" + "".join(f"<p>{p}</p>" for p in paragraphs)
        for heading, paragraphs in sections.items()
    )
    main = f"<main><article><h1>Atelier comptabilité associative</h1>{body}</article></main>"
    path.write_text(_page(main), encoding="utf-8")
    return path


def make_boilerplate_html(path: Path) -> Path:
    path.write_text(_page("<main></main>"), encoding="utf-8")
    return path


def _add(store: DocumentStore, path: Path, **info: object) -> AddResult:
    return add_document(store, path, DocumentInfo.model_validate(info), 20 * MB, today=TODAY)


# -- extraction ----------------------------------------------------------------------------
def test_pdf_text_by_page_without_running_footer(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "bilan.pdf")
    extracted = extract(pdf.name, pdf.read_bytes())
    assert extracted.format == "pdf"
    assert [s.page for s in extracted.segments] == [1, 2, 3]
    assert extracted.title == "Bilan 2025 du fonds d'amorçage solidaire"
    assert extracted.publisher == "Limousin Actif"
    for segment, (heading, *paragraphs) in zip(extracted.segments, PDF_PAGES, strict=True):
        assert segment.text.split("\n\n")[0] == heading
        for paragraph in paragraphs:  # wrapped lines joined back into whole sentences
            assert paragraph in segment.text.split("\n\n")
        assert PDF_FOOTER not in segment.text and "Page" not in segment.text


def test_html_main_text_by_section_without_boilerplate(tmp_path: Path) -> None:
    page = make_html(tmp_path / "atelier.html")
    extracted = extract(page.name, page.read_bytes())
    assert extracted.format == "html"
    assert extracted.publisher == "Coopérative des Monts de Guéret"
    assert extracted.date == dt.date(2025, 9, 15)
    by_section = {s.section: s.text for s in extracted.segments}
    for heading, paragraphs in HTML_SECTIONS.items():
        assert by_section[heading].split("\n\n") == list(paragraphs)
    text = " ".join(by_section.values())
    for boilerplate in (COOKIE_TEXT, NAV_TEXT, FOOTER_TEXT, "Accepter", "Plan du site"):
        assert boilerplate not in text


def test_html_date_is_never_guessed_from_a_copyright_line(tmp_path: Path) -> None:
    page = make_html(tmp_path / "atelier.html")
    page.write_text(page.read_text("utf-8").replace("article:published_time", "x"), "utf-8")
    assert extract(page.name, page.read_bytes()).date is None


def test_markdown_sections_and_front_matter(tmp_path: Path) -> None:
    md = tmp_path / "note.md"
    md.write_text(
        "---\ntitle: Note sur les tiers-lieux\npublisher: France Tiers-Lieux\n"
        "date: 2024-06-01\n---\n\nIntroduction générale sur les lieux partagés du territoire.\n\n"
        "## Financement\n\nLes tiers-lieux ruraux reçoivent en moyenne 30 % de subventions "
        "publiques, selon [le recensement](https://example.org) de 2023.\n\n"
        "## Gouvernance\n\nLa plupart sont portés par une association ou une SCIC, avec "
        "des bénévoles.\n",
        encoding="utf-8",
    )
    extracted = extract(md.name, md.read_bytes())
    assert (extracted.title, extracted.publisher) == (
        "Note sur les tiers-lieux",
        "France Tiers-Lieux",
    )
    assert extracted.date == dt.date(2024, 6, 1)
    assert [s.section for s in extracted.segments] == [None, "Financement", "Gouvernance"]
    assert "selon le recensement de 2023" in extracted.segments[1].text  # link text kept


# -- bad input -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: make_encrypted_pdf(d / "chiffre.pdf", make_pdf(d / "src.pdf")), "mot de passe"),
        (lambda d: make_scanned_pdf(d / "scan.pdf"), "OCR"),
        (lambda d: make_boilerplate_html(d / "accueil.html"), "pas de contenu principal"),
        (lambda d: _write(d / "faux.pdf", b"<html>pas un pdf</html>"), "pas un PDF valide"),
        (lambda d: _write(d / "tableur.xlsx", b"PK\x03\x04rien"), "Format non reconnu"),
        (lambda d: _write(d / "vide.md", b""), "vide"),
        (lambda d: _write(d / "latin.md", "Texte accentué é".encode("cp1252")), "UTF-8"),
    ],
    ids=["encrypted", "scanned", "boilerplate", "fake-pdf", "unknown", "empty", "not-utf8"],
)
def test_bad_files_get_a_french_message_and_change_nothing(
    tmp_path: Path, make: object, message: str
) -> None:
    store = DocumentStore(tmp_path / "documents")
    _add(store, make_pdf(tmp_path / "bilan.pdf"))
    before = {p.name: p.read_bytes() for p in (tmp_path / "documents").iterdir()}
    assert callable(make)
    bad = make(tmp_path)
    with pytest.raises(DocumentError, match=message):
        _add(store, bad)
    after = {p.name: p.read_bytes() for p in (tmp_path / "documents").iterdir()}
    assert after == before


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_too_large_file_is_refused_before_reading(tmp_path: Path) -> None:
    store = DocumentStore(tmp_path / "documents")
    pdf = make_pdf(tmp_path / "bilan.pdf")
    with pytest.raises(DocumentError, match=r"au-delà de la limite de 0.0001 Mo"):
        add_document(store, pdf, DocumentInfo(), max_bytes=100)
    assert not (tmp_path / "documents").exists()


def test_bad_date_and_url_are_refused(tmp_path: Path) -> None:
    from assistant.documents import parse_date

    with pytest.raises(DocumentError, match="AAAA-MM-JJ"):
        parse_date("15/09/2025")
    with pytest.raises(DocumentError, match="URL invalide"):
        _add(DocumentStore(tmp_path), make_pdf(tmp_path / "b.pdf"), url="www.exemple.fr")


# -- storing, adding again -----------------------------------------------------------------
def test_stored_file_round_trips_with_metadata_and_licence(tmp_path: Path) -> None:
    store = DocumentStore(tmp_path / "documents")
    result = _add(
        store,
        make_html(tmp_path / "atelier.html"),
        url="https://www.exemple.fr/atelier",
        licence="CC BY 4.0",
    )
    record = result.record
    text = store.path(record.id).read_text("utf-8")
    assert "licence: CC BY 4.0" in text and "origin: https://www.exemple.fr/atelier" in text
    assert "<!-- section: S'inscrire à l'atelier -->" in text
    again = parse(text)
    assert again.segments == record.segments
    assert render(again) == text


def test_adding_again_updates_in_place_never_duplicates(tmp_path: Path) -> None:
    store = DocumentStore(tmp_path / "documents")
    pdf = make_pdf(tmp_path / "bilan.pdf")
    first = _add(store, pdf, publisher="Limousin Actif", date="2025-12-01")
    assert first.status == "added"
    doc_id = first.record.id

    same = _add(store, pdf)
    assert same.status == "unchanged"
    # The curator's metadata is kept when adding again without it.
    assert same.record.date == dt.date(2025, 12, 1)

    pages = [list(p) for p in PDF_PAGES]
    pages[1][1] = pages[1][1].replace("37 projets", "41 projets")
    changed = _add(store, make_pdf(tmp_path / "bilan.pdf", pages))  # same name, new content
    assert changed.status == "updated"
    assert changed.record.id == doc_id
    assert "41 projets" in changed.record.segments[1].text

    renamed = tmp_path / "copie-du-bilan.pdf"
    renamed.write_bytes((tmp_path / "bilan.pdf").read_bytes())
    moved = _add(store, renamed)  # the same file under another name: the same document
    assert moved.record.id == doc_id
    assert [p.stem for p in store.files()] == [doc_id]


def test_same_text_in_new_bytes_is_unchanged_and_recognised(tmp_path: Path) -> None:
    store = DocumentStore(tmp_path / "documents")
    pdf = make_pdf(tmp_path / "bilan.pdf")
    first = _add(store, pdf)
    pdf.write_bytes(pdf.read_bytes() + b"\n% exported again\n")  # new bytes, same text
    again = _add(store, pdf)
    assert again.status == "unchanged"
    assert store.get(first.record.id).sha256 != first.record.sha256  # the new file is known
    assert _add(store, pdf).status == "unchanged"


def test_two_documents_with_the_same_name_get_two_ids(tmp_path: Path) -> None:
    store = DocumentStore(tmp_path / "documents")
    a = _add(store, make_pdf(tmp_path / "guide.pdf"), url="https://a.example.org/guide.pdf")
    other = make_html(tmp_path / "guide.html")
    b = _add(store, other, url="https://b.example.org/guide.html")
    assert a.record.id != b.record.id
    assert len(store.files()) == 2


def test_a_file_named_readme_never_replaces_the_folder_readme(tmp_path: Path) -> None:
    store = DocumentStore(tmp_path / "documents")
    (tmp_path / "documents").mkdir()
    (tmp_path / "documents" / "README.md").write_text("Le format des documents.", "utf-8")
    readme = make_html(tmp_path / "README.html")
    assert _add(store, readme).record.id == "readme-document"
    assert (tmp_path / "documents" / "README.md").read_text("utf-8") == "Le format des documents."


def test_remove_unknown_document_says_which_exist(tmp_path: Path) -> None:
    store = DocumentStore(tmp_path / "documents")
    _add(store, make_pdf(tmp_path / "bilan.pdf"))
    with pytest.raises(DocumentError, match="documents connus : bilan"):
        store.remove("inconnu")
    assert store.remove("bilan").id == "bilan"
    assert store.files() == []


# -- passages and citations ----------------------------------------------------------------
def test_passages_keep_their_page_and_never_cross_it(tmp_path: Path) -> None:
    store = DocumentStore(tmp_path / "documents")
    record = _add(store, make_pdf(tmp_path / "bilan.pdf"), date="2025-12-01").record
    unit = passage_set(record)
    assert unit.id == "document:bilan"
    assert {c.origin.page for c in unit.chunks if c.origin} == {1, 2, 3}
    for chunk in unit.chunks:
        assert chunk.origin is not None and chunk.card_id == unit.id
        page_text = record.segments[chunk.origin.page - 1].text
        assert chunk.text in page_text
        assert chunk.origin.publisher == "Limousin Actif"
        assert chunk.origin.date == dt.date(2025, 12, 1)
    assert passage_set(record).content_hash == unit.content_hash


# -- answering: the second layer -----------------------------------------------------------
class StubRetriever:
    """Returns the hits it is given for every query (the ranking is not what is tested)."""

    def __init__(self, hits: list[Hit]) -> None:
        self.hits = hits
        self.filters: list[SearchFilter | None] = []

    def search(
        self, query: str, k: int = 5, search_filter: SearchFilter | None = None
    ) -> list[Hit]:
        self.filters.append(search_filter)
        kinds = search_filter.card_kinds if search_filter else ()
        return [h for h in self.hits if not kinds or h.chunk.kind in kinds][:k]

    def term_weight(self, term: str) -> float:
        return 1.0

    def is_current(self, index_dir: Path) -> bool:
        return True


POLICY = RelevancePolicy(strong_similarity=0.9, min_similarity=0.8, min_term_coverage=0.4)


def _doc_hit(chunk: Chunk, similarity: float) -> Hit:
    return Hit(
        card_id=chunk.card_id,
        chunk=chunk,
        score=similarity,
        dense_similarity=similarity,
        term_coverage=0.9,
    )


@pytest.fixture()
def pdf_chunks(tmp_path: Path) -> list[Chunk]:
    store = DocumentStore(tmp_path / "documents")
    result = _add(store, make_pdf(tmp_path / "bilan.pdf"), date="2025-12-01")
    return passage_set(result.record).chunks


def _answerer(runtime: Runtime, hits: list[Hit]) -> Answerer:
    return Answerer(StubRetriever(hits), runtime.cards, runtime.composer, POLICY)


def test_a_document_answers_when_no_card_does_and_cites_its_page(
    runtime: Runtime, pdf_chunks: list[Chunk]
) -> None:
    page_two = next(c for c in pdf_chunks if c.origin and c.origin.page == 2)
    answer = _answerer(runtime, [_doc_hit(page_two, 0.95)]).answer(
        "Combien de projets le fonds a-t-il financés en 2025 ?"
    )
    assert not answer.declined
    [source] = answer.sources
    assert (source.id, source.kind, source.title) == (
        "bilan",
        "document",
        "Bilan 2025 du fonds d'amorçage solidaire",
    )
    assert source.citation is not None and source.citation.page == 2
    assert source.origin == "Limousin Actif, 01/12/2025, p. 2"
    body, _, cited = answer.answer.partition("Sources :")
    assert "[1] Bilan 2025 du fonds d'amorçage solidaire — Limousin Actif, 01/12/2025, p. 2" in (
        cited
    )
    quoted = [re.sub(r" \[1\]$", "", line) for line in body.splitlines() if line.strip()]
    assert quoted and set(quoted) <= set(sentences(page_two.text))  # verbatim
    assert any("37 projets" in q for q in quoted)


class _DeclinesEverything:
    """A meaning classifier that reads every question as one the cards must decline."""

    def declines(self, question: str) -> bool:
        return True


def test_a_document_answers_a_question_the_cards_decline_by_meaning(
    runtime: Runtime, pdf_chunks: list[Chunk]
) -> None:
    """Local documents hold what the national cards lack: a question declined by its meaning
    is still answered from a curator's document; the cards alone decline it."""
    from assistant.search.chunks import chunk_card

    page_two = next(c for c in pdf_chunks if c.origin and c.origin.page == 2)
    card = chunk_card(runtime.cards["dla-dispositif-local-accompagnement"])[0]
    question = "Combien de projets le fonds a-t-il financés en 2025 ?"
    for hits, declined in (([_doc_hit(page_two, 0.95)], False), ([_doc_hit(card, 0.95)], True)):
        answerer = Answerer(
            StubRetriever(hits),
            runtime.cards,
            runtime.composer,
            POLICY,
            limits=runtime.answerer.limits,
            meaning=_DeclinesEverything(),  # type: ignore[arg-type]
        )
        answer = answerer.answer(question)
        assert answer.declined is declined
        if declined:
            assert answer.limit == "par-le-sens"
        else:
            assert [s.kind for s in answer.sources] == ["document"]


def test_a_card_beats_a_document_passage_when_both_answer(
    runtime: Runtime, pdf_chunks: list[Chunk]
) -> None:
    from assistant.search.chunks import chunk_card

    card = runtime.cards["dla-dispositif-local-accompagnement"]
    card_hit = _doc_hit(chunk_card(card)[0], 0.91)
    better_document = _doc_hit(pdf_chunks[0], 0.97)  # even scored higher
    answerer = _answerer(runtime, [better_document, card_hit])
    answer = answerer.answer("Qu'est-ce que le DLA ?")
    assert [s.id for s in answer.sources] == [card.id]
    assert answerer.document_hits("Qu'est-ce que le DLA ?")  # the document did answer too
    # The cards were searched alone as well, so documents cannot crowd them out.
    assert isinstance(answerer.retriever, StubRetriever)
    assert any(f and "document" not in f.card_kinds for f in answerer.retriever.filters)


def test_a_passage_answers_instead_of_a_card_that_holds_little_of_the_question(
    runtime: Runtime, pdf_chunks: list[Chunk]
) -> None:
    from assistant.search.chunks import chunk_card

    card = runtime.cards["dla-dispositif-local-accompagnement"]
    # The card was let in (e.g. by one of its questions) but holds few of the words asked.
    loose_card = _doc_hit(chunk_card(card)[0], 0.91).model_copy(update={"term_coverage": 0.2})
    page_two = next(c for c in pdf_chunks if c.origin and c.origin.page == 2)
    answerer = _answerer(runtime, [_doc_hit(page_two, 0.95), loose_card])
    answer = answerer.answer("Combien de projets le fonds a-t-il financés en 2025 ?")
    assert [s.kind for s in answer.sources] == ["document"]
    # As close in meaning but not clearly fuller: the card stays first.
    close_card = loose_card.model_copy(update={"term_coverage": 0.8})
    answerer = _answerer(runtime, [_doc_hit(page_two, 0.95), close_card])
    answer = answerer.answer("Combien de projets le fonds a-t-il financés en 2025 ?")
    assert [s.id for s in answer.sources] == [card.id]


def test_a_document_passage_below_the_policy_is_not_quoted(
    runtime: Runtime, pdf_chunks: list[Chunk]
) -> None:
    answer = _answerer(runtime, [_doc_hit(pdf_chunks[0], 0.7)]).answer(
        "Quel est le montant des prêts d'honneur ?"
    )
    assert answer.declined and answer.sources == []


def test_cards_only_answers_are_unchanged_without_documents(runtime: Runtime) -> None:
    """No document in the hits: one search, exactly as before the second layer existed."""
    from assistant.search.chunks import chunk_card

    card = runtime.cards["agrement-esus"]
    retriever = StubRetriever([_doc_hit(chunk_card(card)[0], 0.95)])
    answer = Answerer(retriever, runtime.cards, runtime.composer, POLICY).answer(
        "Comment obtenir l'agrément ESUS ?"
    )
    assert [s.id for s in answer.sources] == [card.id] and answer.sources[0].citation is None
    assert retriever.filters == [None]


# -- drafting ------------------------------------------------------------------------------
def test_draft_lists_the_figures_with_their_page(tmp_path: Path) -> None:
    store = DocumentStore(tmp_path / "documents")
    record = _add(store, make_pdf(tmp_path / "bilan.pdf"), date="2025-12-01").record
    [draft] = draft_cards(record)
    facts = {f.text: f.where for f in draft.facts}
    assert facts[PDF_PAGES[1][1]] == "p. 2"
    assert facts[PDF_PAGES[0][1]] == "p. 1"
    assert all(re.search(r"\d|cinq|six|quatre", text) for text in facts)
    written, kept = write_drafts([draft], tmp_path / "drafts")
    text = written[0].read_text("utf-8")
    assert "BROUILLON" in text and f"« {PDF_PAGES[1][1]} » (p. 2)" in text
    import yaml

    header = yaml.safe_load(text.split("---")[1])
    assert header["sources"][0]["title"].startswith("Bilan 2025 du fonds")
    assert "p. 1" in header["sources"][0]["section"]
    # A draft being finished is never overwritten silently.
    written[0].write_text("travail en cours", encoding="utf-8")
    again, kept = write_drafts([draft], tmp_path / "drafts")
    assert again == [] and kept == written
    assert written[0].read_text("utf-8") == "travail en cours"


def test_html_drafts_one_skeleton_per_section_with_figures(tmp_path: Path) -> None:
    store = DocumentStore(tmp_path / "documents")
    record = _add(store, make_html(tmp_path / "atelier.html")).record
    drafts = draft_cards(record)
    assert [d.title for d in drafts] == list(HTML_SECTIONS)
    assert all(f.where == f"§ {d.title}" for d in drafts for f in d.facts)


def test_knowledge_validate_checks_the_documents(tmp_path: Path) -> None:
    from assistant.curation.validation import validate_knowledge

    knowledge = tmp_path / "knowledge"
    (knowledge / "cards").mkdir(parents=True)
    (knowledge / "structures").mkdir()
    store = DocumentStore(knowledge / "documents")
    good = _add(store, make_html(tmp_path / "atelier.html"), licence="CC BY 4.0").record
    unlicensed = _add(store, make_pdf(tmp_path / "bilan.pdf")).record
    (knowledge / "documents" / "casse.md").write_text("pas de front matter\n", "utf-8")
    moved = store.path(good.id).read_text("utf-8")
    (knowledge / "documents" / "autre-nom.md").write_text(moved, "utf-8")

    report = validate_knowledge(knowledge, None, set(), set(), 730, today=TODAY)
    problems = {(p.level, p.where.removeprefix("document ")) for p in report.problems}
    assert ("error", "casse.md") in problems  # unreadable
    assert ("error", "autre-nom.md") in problems  # its id is another file's
    assert ("warning", f"{unlicensed.id}.md") in problems  # no licence stated
    assert not any(where == f"{good.id}.md" for _, where in problems)
    assert report.documents == 3  # the readable ones
