"""The retrieval evaluation set (tests/eval/questions.yaml) is consistent with the corpus."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from assistant.search.cards import Card, load_cards
from assistant.settings import Settings
from assistant.text import fold

EVAL_FILE = Path(__file__).parent.parent / "eval" / "questions.yaml"


@pytest.fixture(scope="module")
def eval_set() -> dict[str, list[dict[str, Any]]]:
    data = yaml.safe_load(EVAL_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict), "questions.yaml must be a mapping"
    assert set(data) == {"questions", "out_of_scope"}
    return data


@pytest.fixture(scope="module")
def cards() -> dict[str, Card]:
    return {card.id: card for card in load_cards(Settings().cards_dir)}


def _text(card: Card) -> str:
    """What an answer built from the card can show: its title and its body."""
    return fold(f"{card.title}\n{card.body}")


def test_counts(eval_set: dict[str, list[dict[str, Any]]]) -> None:
    assert len(eval_set["questions"]) >= 60
    assert len(eval_set["out_of_scope"]) >= 15


def test_items_are_well_formed(eval_set: dict[str, list[dict[str, Any]]]) -> None:
    seen: set[str] = set()
    for section in ("questions", "out_of_scope"):
        for item in eval_set[section]:
            assert set(item) == {"question", "relevant", "must_contain"}, item
            question = item["question"]
            assert isinstance(question, str) and question.strip(), item
            assert fold(question) not in seen, f"duplicate question: {question}"
            seen.add(fold(question))
            assert all(isinstance(w, str) and w.strip() for w in item["must_contain"]), item
            if section == "questions":
                assert 1 <= len(item["relevant"]) <= 3, question
                assert 1 <= len(item["must_contain"]) <= 3, question
            else:
                assert item["relevant"] == [] and item["must_contain"] == [], question


def test_relevant_ids_exist(
    eval_set: dict[str, list[dict[str, Any]]], cards: dict[str, Card]
) -> None:
    unknown = [
        (item["question"], card_id)
        for item in eval_set["questions"]
        for card_id in item["relevant"]
        if card_id not in cards
    ]
    assert not unknown, f"unknown card ids: {unknown}"


def test_must_contain_words_occur_in_a_relevant_card(
    eval_set: dict[str, list[dict[str, Any]]], cards: dict[str, Card]
) -> None:
    missing: list[tuple[str, str]] = []
    for item in eval_set["questions"]:
        texts = [_text(cards[c]) for c in item["relevant"] if c in cards]
        missing.extend(
            (item["question"], word)
            for word in item["must_contain"]
            if not any(fold(word) in text for text in texts)
        )
    assert not missing, f"must_contain words absent from every relevant card: {missing}"


def test_every_card_folder_is_covered(
    eval_set: dict[str, list[dict[str, Any]]], cards: dict[str, Card]
) -> None:
    folders = {Path(card.path).parts[0] for card in cards.values()}
    covered = {
        Path(cards[c].path).parts[0]
        for item in eval_set["questions"]
        for c in item["relevant"]
        if c in cards
    }
    assert folders <= covered, f"card folders with no question: {sorted(folders - covered)}"


def test_every_source_document_is_covered(
    eval_set: dict[str, list[dict[str, Any]]], cards: dict[str, Card]
) -> None:
    def documents(card: Card) -> set[str]:
        return {s.document for s in card.sources if s.document}

    all_documents = set().union(*(documents(card) for card in cards.values()))
    covered = set().union(
        *(
            documents(cards[c])
            for item in eval_set["questions"]
            for c in item["relevant"]
            if c in cards
        )
    )
    uncovered = sorted(all_documents - covered)
    assert not uncovered, f"uncovered source documents: {uncovered}"
