"""How scripts/evaluate.py decides that an answer holds the words a right answer needs."""

from __future__ import annotations

import sys

from assistant.answers.answering import Answer
from assistant.paths import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "scripts"))  # as when the script runs
from real_questions import Question, score


def _answer(body: str) -> Answer:
    return Answer(answer=body, body=body, sources=[], declined=False, confidence=0.5)


def test_plain_words_are_found_as_written_and_patterns_as_patterns() -> None:
    question = Question(
        id="q",
        question="combien pour un fonds de dotation ?",
        expect="answer",
        must_contain=("15 ?000", "\\baci\\b|esat", "art. 238"),
    )
    # a non-breaking space in the figure, accents and capitals in the text
    right = score(question, _answer("Au moins 15\u202f000 € ; un ESAT ou un ACI (art. 238 bis)."))
    assert right.right and right.missing == []
    wrong = score(question, _answer("Au moins 15000 € dans une placier (art 238)."))
    assert wrong.missing == ["\\baci\\b|esat", "art. 238"]
    assert not wrong.right
