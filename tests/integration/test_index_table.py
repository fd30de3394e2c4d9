"""The passage table (assistant/search/table.py): an index opens without parsing its passages,
and searches exactly as a generation read whole; the shortcuts of a query (one embedding per
question, filters applied after an unfiltered dense query) change no result.

Real ChromaDB and bm25s in tmp_path, over every shipped card and one curator's document, with
`HashEmbedder` (the model is not what these tests are about).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import pytest

import assistant.search.retrieval as retrieval_module
from assistant.search.base import SearchFilter
from assistant.search.cards import Card, load_cards
from assistant.search.chunks import Chunk, PassageOrigin, PassageSet, chunk_card
from assistant.search.embeddings import Vector
from assistant.search.fakes import HashEmbedder
from assistant.search.index import CURRENT_FILE, IndexBuilder, current_generation, read_manifest
from assistant.search.retrieval import HybridRetriever
from assistant.search.table import CARD_TERMS_FILE, CHUNKS_FILE, TABLE_FILE, TABLE_VERSION
from assistant.settings import Settings
from assistant.text import terms

QUERIES = (
    "c'est quoi une Scic ?",
    "agrément ESUS entreprise solidaire d'utilité sociale",
    "financer les salaires de l'association",
    "accompagnement DLA en Creuse",
    "guide du bénévolat",
    "zzz inconnu",
)
FILTERS = (
    None,
    SearchFilter(departement="23", region="75"),
    SearchFilter(stage="creation"),
    SearchFilter(departement="44", region="52", stage="developpement"),
    SearchFilter(card_kinds=("programme", "structure")),
    SearchFilter(departement="00", region="00"),
)


def _document() -> PassageSet:
    origin = PassageOrigin(document_id="guide-benevolat", title="Guide du bénévolat")
    text = "Le guide du bénévolat explique comment accueillir et former les bénévoles."
    chunk = Chunk(
        id="document:guide-benevolat#0",
        card_id="document:guide-benevolat",
        position=0,
        title="Guide du bénévolat",
        text=text,
        keywords=[],
        kind="document",
        stages=[],
        needs=[],
        profiles=[],
        structure_kinds=[],
        national=True,
        regions=[],
        departements=[],
        origin=origin,
    )
    return PassageSet(id="document:guide-benevolat", content_hash="h1", chunks=[chunk])


@pytest.fixture(scope="module")
def cards() -> list[Card]:
    return load_cards(Settings().cards_dir)


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory, cards: list[Card]) -> Path:
    folder = tmp_path_factory.mktemp("table-index")
    IndexBuilder(folder, HashEmbedder()).build(cards, documents=[_document()])
    return folder


def _results(retriever: HybridRetriever) -> list[object]:
    found: list[object] = []
    for query in QUERIES:
        for search_filter in FILTERS:
            for mode in ("lexical", "dense", "hybrid"):
                hits = retriever.search(query, k=5, search_filter=search_filter, mode=mode)
                found.append([h.model_dump() for h in hits])
    return found


def test_opening_parses_no_passage_and_a_search_only_what_it_shows(index_dir: Path) -> None:
    retriever = HybridRetriever.open(index_dir, HashEmbedder())
    assert len(retriever.table) > 600
    assert retriever.table._parsed == {}
    assert retriever.table._card_terms == {}

    hits = retriever.search(QUERIES[0], k=3)

    assert hits
    assert 0 < len(retriever.table._parsed) <= 6
    assert len(retriever.table._card_terms) <= 3


def test_a_generation_read_whole_searches_alike(index_dir: Path) -> None:
    lazy = HybridRetriever.open(index_dir, HashEmbedder())
    # The same generation without its table, as `aiguillage index` wrote it before the table:
    # opened the old way, every passage parsed. (The same folder: ChromaDB answers a second
    # client over a copy with slightly different approximate neighbours.)
    generation = current_generation(index_dir)
    assert generation is not None
    table = generation / TABLE_FILE
    aside = generation.parent / "table.aside"
    table.rename(aside)
    try:
        whole = HybridRetriever.open(index_dir, HashEmbedder())
    finally:
        aside.rename(table)
    assert len(whole.table._parsed) == len(lazy.table)

    a, b = lazy.table, whole.table
    assert a.ids == b.ids and a.cards == b.cards
    assert [a.chunk(i) for i in range(len(a))] == [b.chunk(i) for i in range(len(b))]
    assert [a.card_terms(i) for i in range(len(a.cards))] == [
        b.card_terms(i) for i in range(len(b.cards))
    ]
    assert [a.scopes[s] for s in a.scope_of] == [b.scopes[s] for s in b.scope_of]
    assert (a.card_of == b.card_of).all() and (a.question == b.question).all()
    assert (a.document == b.document).all() and a.document.sum() == 1
    assert a.first_passage == b.first_passage
    assert a.document_frequency == b.document_frequency
    assert _results(lazy) == _results(whole)
    assert lazy.card_ids == whole.card_ids
    for term in ("scic", "esus", "associ", "inconnu"):
        assert lazy.term_weight(term) == whole.term_weight(term)


def test_the_generation_files_stay_plain_json(index_dir: Path, cards: list[Card]) -> None:
    generation = current_generation(index_dir)
    assert generation is not None
    chunks = json.loads((generation / CHUNKS_FILE).read_text(encoding="utf-8"))
    expected = [c for card in sorted(cards, key=lambda c: c.id) for c in chunk_card(card)]
    expected += _document().chunks
    expected.sort(key=lambda c: c.card_id)
    assert sorted(c["id"] for c in chunks) == sorted(c.id for c in expected)
    by_id = {c.id: c for c in expected}
    assert all(Chunk.model_validate(c) == by_id[c["id"]] for c in chunks)

    card_terms = json.loads((generation / CARD_TERMS_FILE).read_text(encoding="utf-8"))
    scic = next(c for c in cards if c.id == "coop-scic-multisocietariat")
    assert set(card_terms[scic.id]) == {t for c in chunk_card(scic) for t in terms(c.search_text)}
    assert len(card_terms) == len(cards) + 1  # and the document
    assert read_manifest(generation).table == TABLE_VERSION


def test_a_generation_without_the_table_is_written_anew_by_the_next_build(
    tmp_path: Path, cards: list[Card]
) -> None:
    sample = cards[:4]
    embedder = HashEmbedder()
    first = IndexBuilder(tmp_path, embedder).build(sample)
    generation = tmp_path / first.generation
    (generation / TABLE_FILE).unlink()
    manifest = read_manifest(generation).model_copy(update={"table": 0})
    (generation / "manifest.json").write_text(manifest.model_dump_json(), encoding="utf-8")

    unchanged = IndexBuilder(tmp_path, embedder).build(sample)

    assert unchanged.changed and unchanged.generation != first.generation
    assert unchanged.chunks_embedded == 0  # every vector from the cache
    assert (tmp_path / unchanged.generation / TABLE_FILE).is_file()


@pytest.mark.parametrize("search_filter", [f for f in FILTERS if f is not None])
def test_a_filter_applied_after_the_dense_query_keeps_the_nearest_allowed_passages(
    index_dir: Path, search_filter: SearchFilter, monkeypatch: pytest.MonkeyPatch
) -> None:
    retriever = HybridRetriever.open(index_dir, HashEmbedder())
    allowed = retriever._allowed(search_filter)
    assert allowed is not None
    # Every filter through ChromaDB's `ids`, then every filter after an unfiltered query.
    monkeypatch.setattr(retrieval_module, "_OVERFETCH_SHARE", 2.0)
    by_ids = [retriever.dense(q, 40, search_filter) for q in QUERIES]
    monkeypatch.setattr(retrieval_module, "_OVERFETCH_SHARE", 0.0)
    after = [retriever.dense(q, 40, search_filter) for q in QUERIES]

    for expected, found in zip(by_ids, after, strict=True):
        assert len(found) == len(expected) == min(40, allowed.size)
        assert all(allowed.mask[p] for p, _ in found)
        # Both are approximate neighbours (HNSW) and this embedder has many ties: the best
        # ones agree, by similarity (tied passages may come in either order).
        assert [s for _, s in found[:10]] == pytest.approx([s for _, s in expected[:10]])


def test_too_few_allowed_among_the_nearest_falls_back_to_the_ids_query(
    index_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    retriever = HybridRetriever.open(index_dir, HashEmbedder())
    narrow = SearchFilter(card_kinds=("programme", "structure"))
    allowed = retriever._allowed(narrow)
    assert allowed is not None
    by_ids = retriever._nearest(retriever.embedder.embed_query(QUERIES[2]), 40, allowed.ids)
    calls: list[bool] = []
    nearest = retriever._nearest

    def recorded(vector: Vector, n: int, ids: list[str] | None = None) -> list[tuple[int, float]]:
        calls.append(ids is not None)
        return nearest(vector, n, ids)

    monkeypatch.setattr(retriever, "_nearest", recorded)
    monkeypatch.setattr(retrieval_module, "_OVERFETCH_SHARE", 0.0)
    monkeypatch.setattr(retrieval_module, "_OVERFETCH", 0.1)  # far too few fetched

    found = retriever.dense(QUERIES[2], 40, narrow)

    assert calls == [False, True]
    assert found == by_ids


class _CountingEmbedder(HashEmbedder):
    """Records each query embedded one by one (what a search asks for)."""

    def __init__(self) -> None:
        super().__init__()
        self.queries: list[str] = []

    def embed_query(self, text: str) -> Vector:
        self.queries.append(text)
        return super().embed_query(text)

    def embed_queries(self, texts: Sequence[str]) -> list[Vector]:
        return [HashEmbedder.embed_query(self, t) for t in texts]


def test_a_question_searched_twice_in_a_row_is_embedded_once(index_dir: Path) -> None:
    embedder = _CountingEmbedder()
    retriever = HybridRetriever.open(index_dir, embedder)
    cards_only = SearchFilter(card_kinds=("faq", "synthese"))

    first = retriever.search("guide du bénévolat", k=5)
    retriever.search("guide du bénévolat", k=5, search_filter=cards_only)
    assert embedder.queries == ["guide du bénévolat"]

    retriever.search("c'est quoi une Scic ?", k=5)
    again = retriever.search("guide du bénévolat", k=5)
    # Only the last question is remembered: a question asked again later is embedded again.
    assert embedder.queries == ["guide du bénévolat", "c'est quoi une Scic ?", "guide du bénévolat"]
    assert again == first


def test_a_rewritten_pointer_to_the_same_generation_keeps_the_reader_current(
    tmp_path: Path, cards: list[Card]
) -> None:
    IndexBuilder(tmp_path, HashEmbedder()).build(cards[:3])
    retriever = HybridRetriever.open(tmp_path, HashEmbedder())
    pointer = tmp_path / CURRENT_FILE
    name = pointer.read_text(encoding="utf-8")
    replacement = tmp_path / ".CURRENT.new"
    replacement.write_text(name, encoding="utf-8")
    os.replace(replacement, pointer)  # a new file, the same generation
    assert retriever.is_current(tmp_path)

    replacement.write_text("gen-0", encoding="utf-8")
    os.replace(replacement, pointer)
    assert not retriever.is_current(tmp_path)
    pointer.unlink()
    assert not retriever.is_current(tmp_path)
