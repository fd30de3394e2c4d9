"""The passage table's files and reader (assistant/search/table.py) on the shipped cards, without
ChromaDB or bm25s; a filter judged on a card's scope as on its passages; the embedder's OpenMP
default."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from assistant.search.base import SearchFilter
from assistant.search.cards import Card, load_cards
from assistant.search.chunks import Chunk, chunk_card
from assistant.search.embeddings import E5Embedder, share_cores
from assistant.search.table import CARD_TERMS_FILE, CHUNKS_FILE, PassageTable, Scope, write_table
from assistant.settings import Settings
from assistant.text import terms
from assistant.vocabulary import STAGES


@pytest.fixture(scope="module")
def cards() -> list[Card]:
    return load_cards(Settings().cards_dir)


@pytest.fixture(scope="module")
def chunks(cards: list[Card]) -> list[Chunk]:
    return [chunk for card in sorted(cards, key=lambda c: c.id) for chunk in chunk_card(card)]


def test_each_passage_and_each_cards_terms_read_alone(tmp_path: Path, chunks: list[Chunk]) -> None:
    chunk_terms = [terms(c.search_text) for c in chunks]
    write_table(tmp_path, chunks, chunk_terms)
    table = PassageTable(tmp_path)

    # Read out of order, each from its own bytes.
    for position in reversed(range(len(chunks))):
        assert table.chunk(position) == chunks[position]
    expected: dict[str, set[str]] = {}
    for chunk, found in zip(chunks, chunk_terms, strict=True):
        expected.setdefault(chunk.card_id, set()).update(found)
    assert {card: table.card_terms(i) for i, card in enumerate(table.cards)} == expected
    assert table.ids == [c.id for c in chunks]
    assert [table.cards[i] for i in table.card_of] == [c.card_id for c in chunks]
    assert table.question.tolist() == [c.question for c in chunks]
    assert table.document_frequency["esus"] == sum("esus" in t for t in expected.values())


def test_the_files_stay_whole_json_documents(tmp_path: Path, chunks: list[Chunk]) -> None:
    write_table(tmp_path, chunks, [terms(c.search_text) for c in chunks])
    whole = json.loads((tmp_path / CHUNKS_FILE).read_text(encoding="utf-8"))
    assert [Chunk.model_validate(c) for c in whole] == chunks
    card_terms = json.loads((tmp_path / CARD_TERMS_FILE).read_text(encoding="utf-8"))
    assert set(card_terms) == {c.card_id for c in chunks}


def test_an_empty_index_has_an_empty_table(tmp_path: Path) -> None:
    write_table(tmp_path, [], [])
    table = PassageTable(tmp_path)
    assert len(table) == 0 and table.cards == [] and table.first_passage == {}
    assert json.loads((tmp_path / CHUNKS_FILE).read_text(encoding="utf-8")) == []


def test_a_question_shows_its_cards_first_passage(tmp_path: Path, chunks: list[Chunk]) -> None:
    write_table(tmp_path, chunks, [terms(c.search_text) for c in chunks])
    table = PassageTable(tmp_path)
    asked = [i for i, c in enumerate(chunks) if c.question]
    assert asked
    for position in asked:
        first = table.chunk(table.first_passage[int(table.card_of[position])])
        assert first.card_id == chunks[position].card_id
        assert not first.question and first.position == 0


def test_a_filter_judges_a_scope_as_it_judges_each_passage(chunks: list[Chunk]) -> None:
    filters = [
        SearchFilter(),
        *(SearchFilter(stage=stage) for stage in STAGES),
        SearchFilter(departement="23", region="75"),
        SearchFilter(departement="44", region="52", stage="creation"),
        SearchFilter(region="11"),
        SearchFilter(card_kinds=("faq",)),
    ]
    excluded = 0
    for search_filter in filters:
        verdicts = [search_filter.accepts(c) for c in chunks]
        assert [search_filter.accepts(Scope.of(c)) for c in chunks] == verdicts
        excluded += verdicts.count(False)
    assert excluded  # the filters are not all trivially true here
    scopes = {Scope.of(c) for c in chunks}
    assert len(scopes) < len({c.card_id for c in chunks})  # cards share scopes


def test_the_embedder_lets_openmp_threads_sleep_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OMP_WAIT_POLICY", "unset")  # restored as it was after the test
    monkeypatch.delenv("OMP_WAIT_POLICY")
    E5Embedder()
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")  # an operator's choice
    E5Embedder()
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"


def test_serving_workers_share_the_cores_for_the_model_threads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "unset")  # restored as it was after the test
    monkeypatch.delenv("OMP_NUM_THREADS")
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    share_cores(1)  # one process keeps every core
    assert "OMP_NUM_THREADS" not in os.environ
    share_cores(2)
    assert os.environ["OMP_NUM_THREADS"] == "2"
    monkeypatch.delenv("OMP_NUM_THREADS")
    share_cores(8)  # more workers than cores: one thread each, never zero
    assert os.environ["OMP_NUM_THREADS"] == "1"
    monkeypatch.setenv("OMP_NUM_THREADS", "3")  # an operator's choice
    share_cores(2)
    assert os.environ["OMP_NUM_THREADS"] == "3"
