"""Engine turns whose outcome depends on the real index's answers (integration tier)."""

from __future__ import annotations

import pytest
from talking import talk

from assistant.dialogue.engine import Engine
from assistant.dialogue.state import DiagnosticState
from assistant.runtime import Runtime


@pytest.fixture(scope="module")
def engine(runtime: Runtime) -> Engine:
    return runtime.engine


def test_question_after_the_orientation_is_answered(engine: Engine) -> None:
    first = talk(
        engine,
        "je préside une asso à Guéret, on a 4 salariés, on galère avec la trésorerie",
    )[0]
    assert first.state.oriented
    (answer,) = talk(engine, "Comment obtenir l'agrément ESUS ?", state=first.state)
    assert answer.sources and answer.sources[0].id == "agrement-esus"
    assert "L'agrément ESUS" in answer.reply
    assert answer.state.departement == "23"


def test_question_after_the_orientation_does_not_repeat_the_contacts(engine: Engine) -> None:
    first = talk(
        engine,
        "je préside une asso à Guéret, on a 4 salariés, on galère avec la trésorerie",
    )[0]
    (answer,) = talk(engine, "C'est quoi la Fabrique à initiatives ?", state=first.state)
    assert answer.state.needs == first.state.needs  # nothing new was learned
    assert answer.sources[0].id == "fabrique-a-initiatives"
    assert answer.contacts == []


def test_a_question_answered_by_something_else_is_not_counted_as_ignored(
    runtime: Runtime,
) -> None:
    engine = runtime.engine
    state = engine.handle(
        DiagnosticState(), "avec des voisins on voudrait ouvrir une épicerie à Felletin"
    ).state
    assert state.last_question == "needs"
    state = engine.handle(state, "ah non pardon, c'est à Aubusson").state  # a correction
    turn = engine.handle(state, "c'est quoi une Scic ?")  # a free question
    # The needs question comes back after the answer: it was never ignored twice.
    assert turn.state.last_question == "needs"
    assert turn.sources
