"""Grounded answers to free questions (Answerer) and `aiguillage ask`."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from assistant.answers.answering import Answer, Answerer, RelevancePolicy, source_ref
from assistant.answers.picking import quoted
from assistant.runtime import Runtime
from assistant.search.base import Hit, SearchFilter
from assistant.search.chunks import Chunk
from assistant.settings import Settings
from assistant.text import sentences
from connectors.cli.main import app

IN_SCOPE = [
    (
        "Combien de structures le DLA accompagne-t-il chaque année ?",
        "dla-combien-de-structures-par-an",  # the card on exactly this question
    ),
    ("Qu'est-ce que la Fabrique à initiatives ?", "fabrique-a-initiatives"),
    ("Comment obtenir l'agrément ESUS ?", "agrement-esus"),
    ("Qu'est-ce que la franchise sociale de Messidor ?", "essaimage-franchise-sociale-messidor"),
    ("Faut-il un guichet unique de l'accompagnement ESS à Nantes ?", "nantes-guichet-unique-debat"),
    (
        "Quel est le taux de survie des entreprises sociales accompagnées ?",
        "chorum-survie-entreprises-accompagnees",
    ),
    ("Je n'ai pas de SIRET, qui peut m'aider au stade de l'idée ?", "faq-pas-de-siret-emergence"),
]
OUT_OF_SCOPE = [
    "Donne-moi une recette de cuisine pour la tarte aux pommes",
    "Quel temps fera-t-il demain à Lyon ?",
    "Quelle est la météo à Brest ce week-end ?",
    "Qui a gagné la coupe du monde de football 2018 ?",
]
HUMAN_CONTACT = "Pour en parler avec une personne"


def _body_and_sources(answer: Answer) -> tuple[list[str], list[str]]:
    head, _, tail = answer.answer.partition("Sources :")
    return [line for line in head.splitlines() if line.strip()], [
        line for line in tail.splitlines() if line.strip()
    ]


@pytest.fixture(scope="module")
def answerer(runtime: Runtime) -> Answerer:
    return runtime.answerer


@pytest.mark.parametrize(("question", "card_id"), IN_SCOPE)
def test_answer_cites_its_sources(
    answerer: Answerer, runtime: Runtime, question: str, card_id: str
) -> None:
    answer = answerer.answer(question)
    assert not answer.declined
    assert answer.sources and answer.sources[0].id == card_id
    assert "Sources" in answer.answer
    _, source_lines = _body_and_sources(answer)
    assert len(source_lines) == len(answer.sources)
    for n, (line, ref) in enumerate(zip(source_lines, answer.sources, strict=True), start=1):
        card = runtime.cards[ref.id]
        assert line.startswith(f"[{n}] {card.title}")
        assert ref.title == card.title
        assert ref == source_ref(card)
    assert 0.0 < answer.confidence <= 1.0


@pytest.mark.parametrize(("question", "card_id"), IN_SCOPE)
def test_answer_quotes_only_the_cited_cards(
    answerer: Answerer, runtime: Runtime, question: str, card_id: str
) -> None:
    answer = answerer.answer(question)
    lines, _ = _body_and_sources(answer)
    assert lines
    for line in lines:
        match = re.fullmatch(r"(.+) \[(\d+)\]", line)
        assert match, line
        ref = answer.sources[int(match.group(2)) - 1]
        card_sentences = {quoted(s) for s in sentences(runtime.cards[ref.id].body)}
        assert match.group(1) in card_sentences, (ref.id, line)


@pytest.mark.parametrize(("question", "card_id"), IN_SCOPE)
def test_answer_leads_with_a_sentence_of_the_top_card(
    answerer: Answerer, runtime: Runtime, question: str, card_id: str
) -> None:
    answer = answerer.answer(question)
    first = answer.answer.splitlines()[0]
    assert first.endswith(" [1]")
    top = runtime.cards[answer.sources[0].id]
    assert first.removesuffix(" [1]") in {quoted(s) for s in sentences(top.body)}


def test_dla_answer_carries_the_figures(answerer: Answerer) -> None:
    answer = answerer.answer("Combien de structures le DLA accompagne-t-il chaque année ?")
    assert "6 000" in answer.answer


@pytest.mark.parametrize("question", OUT_OF_SCOPE)
def test_out_of_scope_question_is_declined(answerer: Answerer, question: str) -> None:
    answer = answerer.answer(question)
    assert answer.declined
    assert answer.sources == []
    assert answer.confidence == 0.0
    # nothing found, or a question outside the domain said as such ("recette de cuisine"),
    # by a pattern or by its meaning (declines.yaml)
    said = "Je n'ai pas trouvé de réponse fiable" in answer.answer
    assert said or answer.limit in {"hors-domaine", "par-le-sens"}
    assert "Sources" not in answer.answer


@pytest.mark.parametrize("question", OUT_OF_SCOPE[:2])
def test_declined_answer_points_to_a_human_contact(
    answerer: Answerer, runtime: Runtime, question: str
) -> None:
    answer = answerer.answer(question)
    assert answer.declined
    assert HUMAN_CONTACT in answer.answer
    assert any(s.name in answer.answer for s in runtime.structures.values())


def test_filter_keeps_answers_to_the_users_territory(answerer: Answerer) -> None:
    question = "Faut-il un guichet unique de l'accompagnement ESS à Nantes ?"
    in_nantes = answerer.answer(question, SearchFilter(departement="44", region="52"))
    assert in_nantes.sources[0].id == "nantes-guichet-unique-debat"
    elsewhere = answerer.answer(question, SearchFilter(departement="13", region="93"))
    assert all(not s.id.startswith("nantes-") for s in elsewhere.sources)


def _hit(similarity: float | None, coverage: float) -> Hit:
    chunk = Chunk(
        id="c#0",
        card_id="c",
        position=0,
        title="t",
        text="x",
        keywords=[],
        kind="faq",
        stages=[],
        needs=[],
        profiles=[],
        structure_kinds=[],
        national=True,
        regions=[],
        departements=[],
    )
    return Hit(
        card_id="c", chunk=chunk, score=0.03, dense_similarity=similarity, term_coverage=coverage
    )


def test_relevance_policy() -> None:
    policy = RelevancePolicy(strong_similarity=0.87, min_similarity=0.8, min_term_coverage=0.5)
    assert policy.accepts(_hit(0.9, 0.0))  # very similar: enough alone
    assert policy.accepts(_hit(0.82, 0.5))  # fairly similar and shares the terms
    assert not policy.accepts(_hit(0.82, 0.4))
    assert not policy.accepts(_hit(0.79, 1.0))
    assert not policy.accepts(_hit(None, 1.0))  # lexical-only hit: never enough
    settings = Settings(
        strong_dense_similarity=0.9,
        min_dense_similarity=0.7,
        min_term_coverage=0.3,
        min_question_similarity=0.93,
        english_min_dense_similarity=0.8,
    )
    assert RelevancePolicy.from_settings(settings) == RelevancePolicy(
        strong_similarity=0.9,
        min_similarity=0.7,
        min_term_coverage=0.3,
        min_question_similarity=0.93,
        english_min_similarity=0.8,
    )
    # In English, meaning alone decides, from its own threshold.
    english = RelevancePolicy.from_settings(settings).for_english()
    assert english.accepts(_hit(0.82, 0.0)) and not english.accepts(_hit(0.79, 0.0))
    # A question phrased like one of the card's `questions` is enough, whatever the prose.
    asked = RelevancePolicy.from_settings(settings)
    close = _hit(0.5, 0.0).model_copy(update={"question_similarity": 0.95})
    assert asked.accepts(close)
    assert not asked.accepts(close.model_copy(update={"question_similarity": 0.92}))


def test_strict_policy_declines_everything(runtime: Runtime) -> None:
    strict = RelevancePolicy(strong_similarity=1.01, min_similarity=1.01, min_term_coverage=1.0)
    answerer = Answerer(runtime.retriever, runtime.cards, runtime.composer, strict)
    assert answerer.answer("Qu'est-ce que la Fabrique à initiatives ?").declined


@pytest.mark.parametrize(
    ("question", "card_id"),
    [
        (
            "Can our donors get a tax break if we're a small nonprofit?",
            "fin-dons-particuliers-recu-fiscal",
        ),
        (
            "I'm a bank adviser: which French network guarantees bank loans for social "
            "enterprises?",
            "france-active",
        ),
    ],
)
def test_an_english_question_reaches_the_french_card(
    runtime: Runtime, question: str, card_id: str
) -> None:
    """The French words of the glossary bring an English question to the card that answers;
    without them the bundled model alone leaves it too far from any card."""
    glossed = runtime.answerer.answer(question)
    assert not glossed.declined and card_id in [source.id for source in glossed.sources]
    plain = Answerer(
        runtime.retriever,
        runtime.cards,
        runtime.composer,
        RelevancePolicy.from_settings(runtime.settings),
        spell=runtime.respeller.readable,
    ).answer(question)
    assert plain.declined or card_id not in [source.id for source in plain.sources]


# -- the command line ----------------------------------------------------------------------


@pytest.fixture()
def cli_env(runtime: Runtime, settings: Settings) -> dict[str, str]:
    return {
        "AIGUILLAGE_DATA_DIR": str(settings.data_dir),
        "AIGUILLAGE_DATABASE_URL": str(settings.database_url),
    }


def test_cli_ask_json(cli_env: dict[str, str], runtime: Runtime) -> None:
    result = CliRunner().invoke(
        app, ["ask", "Qu'est-ce que l'agrément ESUS ?", "--json"], env=cli_env
    )
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1  # one JSON object, nothing else on stdout
    payload = json.loads(lines[0])
    assert isinstance(payload["answer"], str) and payload["answer"]
    assert payload["sources"] and payload["sources"][0]["id"] == "agrement-esus"
    for source in payload["sources"]:
        assert set(source) >= {"id", "title"}
        assert source["title"] == runtime.cards[source["id"]].title
        assert source["title"] in payload["answer"]


def test_cli_ask_plain_text(cli_env: dict[str, str]) -> None:
    result = CliRunner().invoke(
        app, ["ask", "Qu'est-ce que la Fabrique à initiatives ?"], env=cli_env
    )
    assert result.exit_code == 0, result.output
    assert "Sources" in result.stdout
    assert "Fabrique à initiatives" in result.stdout


def test_cli_ask_json_declines(cli_env: dict[str, str]) -> None:
    result = CliRunner().invoke(
        app,
        ["ask", "Donne-moi une recette de cuisine pour la tarte aux pommes", "--json"],
        env=cli_env,
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["sources"] == []
    assert payload["declined"] is True


@pytest.mark.parametrize("question", ["", "   "])
def test_cli_ask_empty_question(cli_env: dict[str, str], question: str) -> None:
    result = CliRunner().invoke(app, ["ask", question, "--json"], env=cli_env)
    assert result.exit_code == 2
    assert result.stdout == ""
