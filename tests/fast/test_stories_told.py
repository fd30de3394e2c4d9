"""Wordings met in long stories (session 11, from the people7 tuning set): a person's own years
are not a structure's age, staff still to hire are not staff, a cooperative's manager manages a
cooperative, an association that runs an insertion workshop is one structure, a planned form
is not read as present, bodies and ordinary words are not places, Creole spellings."""

from __future__ import annotations

from datetime import date

import pytest

from assistant.dialogue.evidence import READING_WEIGHT, reading_weight
from assistant.dialogue.state import DiagnosticState
from assistant.runtime import Runtime
from assistant.text import fold
from assistant.understanding.extraction import Extractor
from assistant.understanding.quantities import employees, structure_age


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("je suis graphiste salarie depuis 8 ans, j'ai envie de me lancer", None),
        ("je suis ukrainienne, a metz depuis 2022. le mois dernier nous avons cree", None),
        ("je suis syrien, en france depuis 2016", None),
        ("l'entreprise a ete reprise par ses salaries en 2011", 15.0),
    ],
)
def test_a_persons_years_are_not_the_structures(text: str, years: float | None) -> None:
    assert structure_age(text, today=date(2026, 12, 1)) == years


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("depuis 2021 on a un entraineur salarie a temps partiel", 1),
        ("il faudrait un animateur salarie pour tenir la caisse", None),
        ("avec un loyer un salarie pour les permanences", None),
        ("je cherche un emploi salarie", None),
        ("nou se on asosyasyon, ni 2 anplwaye", None),  # folded only: the script respells
    ],
)
def test_staff_to_come_is_not_staff(text: str, count: int | None) -> None:
    assert employees(text) == count


def test_creole_spellings_are_read(extractor: Extractor) -> None:
    read = extractor.extract(
        "bonjou, nou sé on asosyasyon a Capesterre-Belle-Eau, dépi 2014. ni 2 anplwayé."
    )
    # (the engine reads an association that pays people as an employing one)
    assert (read.profile, read.employees, read.territory and read.territory.departement) == (
        "association",
        2,
        "971",
    )


def test_a_cooperatives_manager_speaks_for_a_cooperative(extractor: Extractor) -> None:
    read = extractor.extract(
        "Il est gérant d'une Scop de maçonnerie à Millau depuis 1991, douze salariés. "
        "L'entreprise tourne bien."
    )
    assert read.profile == "scop-scic"


def test_an_association_running_an_insertion_workshop_is_one(extractor: Extractor) -> None:
    read = extractor.extract(
        "ce n'est pas une association classique, on est conventionnés atelier chantier "
        "d'insertion, 22 salariés en parcours"
    )
    assert read.profile == "siae"
    assert "association" not in read.evidence["profile"]


def test_a_form_not_made_yet_is_planned(extractor: Extractor) -> None:
    read = extractor.extract("nou la fé in ti group pou fé in jardin, nou la pa ankor fé l'asso")
    assert read.profile == "collectif"
    assert "association" in read.planned


def test_the_reading_of_a_planned_form_adds_nothing() -> None:
    planned = {"association": 1.0}
    assert reading_weight("profile", "association", {"collectif": 1.0}, planned) == 0.0
    # unless people are paid: a structure then exists, whatever its words
    assert (
        reading_weight("profile", "association", {"collectif": 1.0}, planned, employs=True)
        == READING_WEIGHT
    )
    assert reading_weight("profile", "collectif", {"collectif": 1.0}, planned) == READING_WEIGHT


def test_a_place_correction_keeps_the_cooperative(runtime: Runtime) -> None:
    engine = runtime.engine
    state = engine.handle(
        DiagnosticState(), "on est une Scop de menuiserie à Lorient, 9 salariés associés"
    ).state
    state = engine.handle(
        state, "Pardon, l'entreprise est à Quimperlé, pas Lorient. Lorient c'est là où j'habite."
    ).state
    assert (state.profile, state.departement) == ("scop-scic", "29")


@pytest.mark.parametrize(
    ("message", "departement"),
    [
        ("asso d'aide aux devoirs a Charleville-Mezieres, que des benevoles (12)", "08"),
        ("je suis a rodez (12)", "12"),
        ("avec deux copines bénévoles de la Croix-Rouge, à Vesoul", "70"),
        ("je travaille à la Ville d'Alençon", "61"),
        ("c'est de savoir si un lieu pareil peut tenir, à Cluny", "71"),
        ("on n'a nulle part où aller avec nos élèves à Alès", "30"),
    ],
)
def test_bodies_and_words_are_not_places(
    extractor: Extractor, message: str, departement: str
) -> None:
    place = extractor.extract(message).territory
    assert place is not None and place.departement == departement


@pytest.mark.parametrize(
    ("message", "stage"),
    [
        (
            "on se connait depuis des annees et on voudrait ouvrir un magasin, c'est une idee",
            "emergence",
        ),
        ("une SAS de 15 salariés, je ne cherche pas à grossir, je veux que ça tienne", None),
        ("trois communes voisines nous ont demandé d'ouvrir une séance chez elles", None),
    ],
)
def test_stage_words_in_stories(extractor: Extractor, message: str, stage: str | None) -> None:
    read = extractor.extract(message)
    if stage:
        assert read.stage == stage
    else:
        assert "developpement" not in read.evidence["stage"] or read.new_venture


@pytest.mark.parametrize(
    ("message", "need"),
    [
        ("Il n'a aucun apport et la banque dit non", "financement"),
        ("on sait pas combien il faudrait vendre pour que ca tourne", "modele-economique"),
        ("il faut que nos compagnons se forment au label", "formation"),
        ("je voudrais une personne qui a déjà fait ça et qui me guide", "mentorat"),
        ("nous ne connaissons pas les autres associations de Metz", "reseau"),
        ("plus personne veut etre au conseil d'admin", "gouvernance"),
        ("il nous faut réunir tout le monde autour de la table", "cooperation"),
        ("il nous manque un atelier pour les machines", "local"),
    ],
)
def test_needs_told_in_stories(extractor: Extractor, message: str, need: str) -> None:
    assert need in extractor.extract(message).needs


def test_money_said_fine_leaves_the_needs(runtime: Runtime) -> None:
    engine = runtime.engine
    state = engine.handle(
        DiagnosticState(), "association de danse à Alès, quatre salariés, un problème d'argent"
    ).state
    assert "financement" in state.needs
    state = engine.handle(
        state, "Je corrige : l'argent ça va à peu près. Il nous faut une salle"
    ).state
    assert "financement" not in state.needs


def test_the_departement_denied_is_not_the_answer(runtime: Runtime) -> None:
    engine = runtime.engine
    state = engine.handle(
        DiagnosticState(),
        "on est une association d'aide à domicile qui emploie 3 personnes à Valence",
    ).state
    assert state.territory_candidates
    state = engine.handle(state, "Valence dans le Tarn-et-Garonne hein, pas la Drôme !").state
    assert state.departement == "82"


def test_opening_elsewhere_said_alone_is_growth_and_implantation(runtime: Runtime) -> None:
    engine = runtime.engine
    state = engine.handle(DiagnosticState(), "siae à Alès").state
    state = engine.handle(state, "conventionnée ACI, 25 salariés").state
    state = engine.handle(state, "ouvrir à Nîmes").state
    assert state.stage == "developpement"
    assert "implantation" in state.needs


@pytest.mark.parametrize(
    ("message", "departement"),
    [
        ("on a une asso de danse a st-denis (93 hein) 2 salariés", "93"),
        ("je suis né à Bourganeuf, la commune l'a vendue l'an dernier", "23"),
    ],
)
def test_more_places_read_right(extractor: Extractor, message: str, departement: str) -> None:
    place = extractor.extract(message).territory
    assert place is not None and place.departement == departement


def test_a_form_asked_how_to_make_is_planned(extractor: Extractor) -> None:
    read = extractor.extract(
        "on est un groupe de six étudiants, il faut comprendre comment on fait une asso"
    )
    assert read.profile == "collectif"
    assert "juridique" in read.needs


def test_english_staff_are_counted() -> None:
    assert employees("i run a social business, we employ 3 refugees as cooks") == 3
    assert employees("we employ 3 volunteers") is None


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("on n'arrive plus à payer les 6 salariés de l'asso", 6),
        ("il faut garder nos 5 salariés", 5),
        ("je suis une maman salariée, je veux monter une asso", None),
    ],
)
def test_staff_one_has_is_counted_even_when_hard_to_pay(text: str, count: int | None) -> None:
    assert employees(fold(text)) == count


def test_a_structures_own_place_and_year_still_speak() -> None:
    assert structure_age("a metz depuis 2015, notre asso fait", today=date(2026, 12, 1)) == 11.0
    assert structure_age("nous avons un salarie depuis 2018", today=date(2026, 12, 1)) == 8.0


@pytest.mark.parametrize(
    ("message", "absent"),
    [
        ("une de mes salariées voudrait passer à temps partiel", "individuel"),
        ("on est une asso, on travaille avec une entreprise d'insertion du coin", "siae"),
        ("on veut rester en association", "collectif"),
        ("le maire souhaite nous aider, on est un collectif d'habitants", "collectivite"),
    ],
)
def test_partners_and_plans_do_not_speak(extractor: Extractor, message: str, absent: str) -> None:
    assert extractor.extract(message).profile != absent


def test_enfin_that_adds_keeps_the_needs(runtime: Runtime) -> None:
    engine = runtime.engine
    state = engine.handle(
        DiagnosticState(), "on a une Scop de 8 salariés à Lyon, on cherche des financements"
    ).state
    state = engine.handle(state, "enfin, il nous faudrait aussi un local").state
    assert {"financement", "local"} <= set(state.needs)


@pytest.mark.parametrize(
    ("message", "planned"),
    [
        ("on est un collectif de 10 personnes, l'asso sera créée en septembre", "association"),
        ("je pourrais leur apprendre à coudre, peut-être avec une association", "association"),
    ],
)
def test_forms_to_come_are_plans(extractor: Extractor, message: str, planned: str) -> None:
    read = extractor.extract(message)
    assert planned in read.planned and read.profile != planned


def test_a_project_that_exists_since_a_year_is_made_real(runtime: Runtime) -> None:
    engine = runtime.engine
    state = engine.handle(DiagnosticState(), "On a un projet de Scic d'énergie à Decazeville").state
    assert state.profile == "collectif"
    state = engine.handle(state, "Enfin projet... elle existe depuis 2019, on a 3 centrales").state
    assert state.profile == "scop-scic"


def test_how_one_is_is_not_how_many(extractor: Extractor) -> None:
    read = extractor.extract("seuls on est trop petits pour répondre aux marchés")
    assert "collectif" not in read.evidence["profile"]
    assert extractor.extract("le plus dur c'est de connaître les producteurs").territory is None


def test_a_message_that_only_says_where_adds_no_need(runtime: Runtime) -> None:
    engine = runtime.engine
    state = engine.handle(
        DiagnosticState(), "on est trois copines à Valence, une épicerie vrac"
    ).state
    state = engine.handle(state, "Valence dans le Tarn-et-Garonne, pas la Drôme !").state
    assert state.departement == "82"
    assert state.needs == []


@pytest.mark.parametrize(
    ("turns", "stage"),
    [
        # an insertion structure only planned, then its steps: it is being created
        (
            [
                "on veut creer une entreprise d'insertion a clermont ferand",
                "les questions c'est l'agrément IAE et le financement des postes d'insertion",
            ],
            "creation",
        ),
        (
            [
                "je suis en train de créer une entreprise d'insertion",
                "on dépose les statuts le mois prochain",
            ],
            "creation",
        ),
        # one that exists and opens something new grows
        (
            ["nous sommes un chantier d'insertion depuis 2010, on veut créer un atelier vélo"],
            "developpement",
        ),
    ],
)
def test_an_insertion_structure_in_the_making_is_not_growing(
    runtime: Runtime, turns: list[str], stage: str
) -> None:
    state = DiagnosticState()
    for turn in turns:
        state = runtime.engine.handle(state, turn).state
    assert state.profile == "siae"
    assert state.stage == stage
