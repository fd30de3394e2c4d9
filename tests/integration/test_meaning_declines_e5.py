"""Questions declined by their meaning, with the real e5 model and the shipped declines.yaml:
questions no pattern of limits.yaml catches, written for this test (in no example nor
measured set). How many such questions the classifier catches on sets it never saw is
measured by scripts/evaluate.py --split, not here."""

from __future__ import annotations

import pytest

from assistant.runtime import Runtime


@pytest.mark.parametrize(
    "question",
    [
        "quel jour passe le camion poubelle à Aubusson ?",
        "tu connais un bon plombier pas cher a Limoges pour le local ?",
        "combien de jours de congés payés a notre salariée qui a commencé en mars ?",
        "c'est quoi le score du match de rugby de brive ?",
    ],
)
def test_a_question_no_pattern_catches_is_declined_by_its_meaning(
    runtime: Runtime, question: str
) -> None:
    answerer = runtime.answerer
    assert answerer.limits is not None and answerer.limit_for(question) is None
    answer = answerer.answer(question)
    assert answer.declined and answer.limit == "par-le-sens", answer.answer
    assert "de façon fiable" in answer.answer


@pytest.mark.parametrize(
    "question",
    [
        "c'est quoi une scic",
        "le dla c'est pour qui",
        "comment on fait pour devenir associé d'une cae",
        "notre présidente peut-elle être payée par l'asso ?",
    ],
)
def test_ordinary_questions_are_still_answered(runtime: Runtime, question: str) -> None:
    answer = runtime.answerer.answer(question)
    assert not answer.declined, answer.answer


def test_a_question_read_for_a_decline_is_embedded_once(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read by meaning, then searched: one model call."""
    answerer = runtime.answerer
    assert answerer.meaning is not None
    answerer.meaning.warm()
    inner = runtime.embedder.inner
    calls: list[str] = []
    single = inner.embed_query
    monkeypatch.setattr(inner, "embed_query", lambda text: calls.append(text) or single(text))
    answer = answerer.answer("une scic ça marche comment pour les associés ?")
    assert not answer.declined
    assert len(calls) == 1, calls
