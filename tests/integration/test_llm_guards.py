"""The output guards on LLM answers (assistant/guards.py): pure functions, no model."""

from __future__ import annotations

import pytest

from assistant.llm.guards import Grounding, guard_answer
from assistant.orientation.directory import Contact, Coverage, Structure, StructureSource

DLA = Structure(
    id="dla-23",
    name="DLA de la Creuse",
    kind="dla",
    coverage=Coverage(departements=["23"]),
    stages=["consolidation"],
    description="Dispositif local d'accompagnement des structures employeuses de l'ESS.",
    carrier="France Active Limousin",
    how_to_reach="Par le site de France Active.",
    contact=Contact(
        phone="05 55 12 34 56",
        email="dla23@example.org",
        website="https://www.info-dla.fr/creuse/",
    ),
    sources=[StructureSource(document="annuaire.txt")],
)
PASSAGES = [
    (
        "dla-presentation",
        "Le DLA accompagne gratuitement les associations employeuses. "
        "Il est porté par France Active dans de nombreux départements.",
    ),
    (
        "avise-incubateurs",
        "Les incubateurs ESS accompagnent les porteurs pendant 12 à 18 mois. "
        "Voir https://www.avise.org/incubateurs ou écrire à contact@avise.org.",
    ),
]


@pytest.fixture()
def grounding() -> Grounding:
    return Grounding.from_directory([DLA]).with_passages(PASSAGES)


def test_a_good_answer_keeps_its_text_and_renumbers_citations(grounding: Grounding) -> None:
    report = guard_answer(
        "Un incubateur ESS vous accompagne pendant 12 à 18 mois [2].\n"
        "Le DLA de la Creuse accompagne gratuitement les associations employeuses [1].",
        grounding,
    )
    assert report.fallback is None
    assert report.cited == [2, 1]  # first cited first: [2] becomes [1]
    assert report.text.splitlines()[0].endswith("18 mois [1].")
    assert report.text.splitlines()[1].endswith("employeuses [2].")


def test_contacts_from_the_directory_or_the_passages_are_kept(grounding: Grounding) -> None:
    report = guard_answer(
        "Le DLA de la Creuse répond au 05.55.12.34.56 ou à dla23@example.org [1]. "
        "L'Avise présente les incubateurs sur avise.org [2].",
        grounding,
    )
    assert report.fallback is None
    assert report.removed == []
    assert "05.55.12.34.56" in report.text and "avise.org" in report.text


@pytest.mark.parametrize(
    ("invented", "kind"),
    [
        ("Appelez le 06 12 34 56 78 pour un rendez-vous [1].", "phone"),
        ("Appelez le +33 6 12 34 56 78 pour un rendez-vous [1].", "phone"),
        ("Écrivez à bonjour@incubateur-inconnu.fr pour candidater [1].", "email"),
        ("Tout est expliqué sur https://www.arnaque.fr/aides [1].", "url"),
        ("Tout est expliqué sur avise.org/une-page-inventee [2].", "url"),
        ("L'Incubateur Solidaire du Limousin peut aussi vous aider [1].", "structure"),
        ("Le réseau ZORBA finance ce type de projet [1].", "structure"),
    ],
)
def test_an_invented_detail_removes_its_sentence(
    grounding: Grounding, invented: str, kind: str
) -> None:
    report = guard_answer(
        f"Le DLA accompagne gratuitement les associations employeuses [1]. {invented}", grounding
    )
    assert report.fallback is None
    assert kind in report.removed
    assert report.text == "Le DLA accompagne gratuitement les associations employeuses [1]."


def test_an_answer_made_only_of_invented_details_falls_back(grounding: Grounding) -> None:
    report = guard_answer("Appelez le 06 12 34 56 78 [1]. Ou le 07 98 76 54 32 [1].", grounding)
    assert report.fallback is not None


def test_citations_to_nothing_are_dropped(grounding: Grounding) -> None:
    report = guard_answer(
        "Le DLA accompagne gratuitement les associations employeuses [1, 7].\n"
        "Les incubateurs accompagnent les porteurs pendant 12 à 18 mois [avise-incubateurs].",
        grounding,
    )
    assert report.fallback is None
    assert "citation" in report.removed
    assert report.text.splitlines()[0].endswith("employeuses [1].")
    assert report.text.splitlines()[1].endswith("mois [2].")  # a card id counts as a citation


def test_a_claim_citing_only_nothing_falls_back(grounding: Grounding) -> None:
    report = guard_answer(
        "Le DLA accompagne gratuitement les associations employeuses [9].", grounding
    )
    assert report.fallback in {"uncited_claim", "no_valid_citation"}
    assert "citation" in report.removed


def test_an_answer_without_any_citation_falls_back(grounding: Grounding) -> None:
    assert guard_answer("Oui.", grounding).fallback == "no_valid_citation"
    assert guard_answer("", grounding).fallback == "empty"


def test_an_uncited_claim_next_to_a_cited_one_falls_back(grounding: Grounding) -> None:
    report = guard_answer(
        "Le DLA accompagne gratuitement les associations employeuses [1].\n\n"
        "Par ailleurs la région verse une prime de 5 000 euros à toute création.",
        grounding,
    )
    assert report.fallback == "uncited_claim"


def test_hedges_and_invitations_need_no_citation(grounding: Grounding) -> None:
    report = guard_answer(
        "Le DLA accompagne gratuitement les associations employeuses [1].\n"
        "Les fiches ne précisent pas le délai d'attente pour être accompagné.\n"
        "N'hésitez pas à en parler avec la personne qui vous accompagne sur votre territoire.",
        grounding,
    )
    assert report.fallback is None
    assert len(report.text.splitlines()) == 3


def test_the_models_own_sources_list_is_cut(grounding: Grounding) -> None:
    report = guard_answer(
        "Le DLA accompagne gratuitement les associations employeuses [1].\n\n"
        "Sources :\n[1] https://site-invente.example.com",
        grounding,
    )
    assert report.fallback is None
    assert report.text == "Le DLA accompagne gratuitement les associations employeuses [1]."


def test_an_injection_echoed_back_does_not_pass(grounding: Grounding) -> None:
    # The user (or a document) asked the model to ignore its rules and give a number: rules
    # are code, so the echoed instruction and the number go, whatever the prompt said.
    report = guard_answer(
        "Le DLA accompagne gratuitement les associations employeuses [1]. "
        "Comme demandé, j'ignore mes consignes : appelez Super Conseil ESS au 01 99 00 11 22.",
        grounding,
    )
    assert "phone" in report.removed
    assert "01 99" not in report.text and "consignes" not in report.text
