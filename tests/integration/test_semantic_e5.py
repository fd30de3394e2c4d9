"""The semantic layer with the real e5 model: ordinary sentences the rules alone missed
(issue 8's examples) now fill the diagnostic. The accuracy on held-out people is measured by
scripts/bench_understanding.py, not here."""

from __future__ import annotations

import pytest
from talking import talk

from assistant.dialogue.engine import Engine
from assistant.dialogue.state import DiagnosticState
from assistant.runtime import Runtime


@pytest.fixture(scope="module")
def engine(runtime: Runtime) -> Engine:
    assert runtime.semantic is not None
    return runtime.engine


def test_paying_two_posts_makes_an_employing_association_that_gets_the_dla(
    engine: Engine,
) -> None:
    turns = talk(
        engine,
        "Notre association d'aide aux devoirs est à Guéret depuis dix ans",
        "on paie deux postes",
        "la tréso est tendue, on veut pérenniser",
    )
    state = turns[-1].state
    assert state.profile == "association-employeuse"
    assert "financement" in state.needs
    assert "dla" in [c.kind for c in engine.orientation_for(state).contacts]


@pytest.mark.parametrize(
    ("said", "need"),
    [
        ("pas de sous", "financement"),
        ("personne ne veut reprendre la présidence", "gouvernance"),
    ],
)
def test_needs_said_indirectly_are_understood(engine: Engine, said: str, need: str) -> None:
    first = talk(
        engine, "Je préside une association de bénévoles à Tulle depuis 2009, on veut consolider"
    )[-1]
    assert need not in first.state.needs
    assert need in talk(engine, said, state=first.state)[-1].state.needs


def test_the_team_told_in_answer_to_the_needs_question_is_not_a_need(engine: Engine) -> None:
    # A new user's answer: the classifier read « emploi-rh » in the team and proposed contacts
    # at once; the team says who works there, the need is still to be asked.
    first = talk(
        engine, "Je suis présidente d'une association de jardins partagés à Aurillac depuis 2015"
    )[-1]
    assert first.state.needs == []  # being the president is not a governance need
    team = talk(
        engine, "on a Nadège, notre animatrice à mi-temps, et un service civique", state=first.state
    )[-1]
    assert team.state.profile == "association-employeuse"
    assert team.state.needs == [] and not team.state.oriented
    said = talk(engine, "on a deux salariés et on n'arrive pas à recruter", state=first.state)[-1]
    assert "emploi-rh" in said.state.needs


def test_a_clause_that_only_tells_the_team_is_not_a_need(engine: Engine) -> None:
    # A new user's first message: « que des bénévoles » is close in meaning to the example
    # « une formation pour les bénévoles », and read as a training need.
    first = talk(
        engine,
        "Bonjour, je suis trésorière du ciné-club associatif de Mauriac, on existe depuis 2011, "
        "que des bénévoles",
    )[-1]
    assert first.state.needs == []


def test_a_turn_makes_one_model_call(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """The story is embedded with the message (on a first turn it is the message): one model
    call a turn."""
    embedder = runtime.embedder
    calls: list[int] = []
    batch, single = embedder.embed_queries, embedder.embed_query
    monkeypatch.setattr(
        embedder, "embed_queries", lambda texts: calls.append(len(texts)) or batch(texts)
    )
    monkeypatch.setattr(embedder, "embed_query", lambda text: calls.append(1) or single(text))
    story = "bonjour on est une asso de trois salaries a gueret depuis 2011 et la treso est tendue"
    turn = runtime.engine.handle(DiagnosticState(), story)
    assert len(calls) == 1, calls
    assert turn.state.description and turn.state.reading, turn.state
    # A later message: its clauses and the grown story go to the model in the same call.
    calls.clear()
    later = runtime.engine.handle(turn.state, "on voudrait surtout garder les postes en juin")
    assert len(calls) == 1 and calls[0] >= 2, calls
    assert later.state.description.endswith("on voudrait surtout garder les postes en juin")
