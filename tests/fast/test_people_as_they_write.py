"""Wordings met in outside sets once they were no longer a fresh measure (session 16): a
person's years are not a structure's, a second shop is growth, towns misspelt as they sound,
said short or in the region's language, and a place put right by naming the wrong one."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from talking import talk

from assistant.dialogue.state import DiagnosticState
from assistant.runtime import Runtime
from assistant.territory.index import DEFAULT_PATH, TerritoryIndex, load_territories
from assistant.territory.tables import TOWNS_FILE, Tables
from assistant.text import normalise
from assistant.understanding.extraction import Extractor
from assistant.understanding.plans import NEW_VENTURE
from assistant.understanding.quantities import structure_age

TODAY = date(2026, 12, 2)


@pytest.fixture(scope="module")
def ix() -> TerritoryIndex:
    return load_territories(DEFAULT_PATH)


@pytest.mark.parametrize(
    "said",
    [
        "Nous sommes un couple anglais, nous habitons à Duras, Lot-et-Garonne, depuis 2019.",
        "je suis malgache, j'habite Le Port, La Réunion, depuis 2018.",
        "j'ai soixante-dix-huit ans, je suis veuve depuis dix ans et j'habite Salers",
        "avec mon mari et deux couples d'amis on marche en montagne depuis quarante ans.",
    ],
)
def test_a_persons_life_is_not_a_structures_age(said: str) -> None:
    assert structure_age(normalise(said), TODAY) is None


@pytest.mark.parametrize(
    ("said", "years"),
    [
        ("j'habite Lyon et notre asso existe depuis 2010", 16.0),
        ("on habite Nantes, l'asso tourne depuis 2015", 11.0),
        ("je suis à la retraite et je m'occupe de l'asso depuis dix ans", 10.0),
        ("la scop est installée à Tulle depuis 2019", 7.0),
        ("jai une micro entreprise de paniers péi depuis 1 an", 1.0),
    ],
)
def test_a_structure_named_beside_a_life_keeps_its_age(said: str, years: float) -> None:
    assert structure_age(normalise(said), TODAY) == years


@pytest.mark.parametrize(
    ("said", "grows"),
    [
        ("mende. on veut une 2e boutique à marvejols", True),
        ("on a un projet de deuxième salle dans une friche", True),
        ("je veux acheter deuxième pirogue", True),
        ("on veut vendre à l'export", True),
        ("on veut embaucher 10 personnes de plus", True),
        ("une ressourcerie de vêtements de seconde main", False),
        ("c'est la deuxième fois qu'on demande une subvention", False),
        ("la seconde salariée part en juin", False),
        ("notre association à Marseille 3e arrondissement fait des cours", False),
        ("troisième exercice déficitaire de suite", False),
    ],
)
def test_a_second_of_something_is_growth(said: str, grows: bool) -> None:
    assert bool(NEW_VENTURE.search(normalise(said))) is grows


@pytest.mark.parametrize(
    "turns",
    [
        ("bonjour", "SCIC recyclerie, 6 salariés", "Mende. on veut une 2e boutique à Marvejols"),
        # the years said after the form, then more hires
        (
            "bonjour",
            "entreprise d'insertion",
            "60100 Creil, depuis 2011. on veut embaucher 10 personnes de plus",
        ),
    ],
)
def test_an_established_structure_that_grows_develops(
    runtime: Runtime, turns: tuple[str, ...]
) -> None:
    *_, last = talk(runtime.engine, *turns)
    assert last.state.stage == "developpement"


@pytest.mark.parametrize(
    ("message", "dep"),
    [
        ("je suis en service civique dans une assoc a kimper", "29"),  # Quimper
        ("on a repris la boulangerie du village a coté de nior", "79"),  # Niort
        ("asso de soutien scolaire a troie, 2 salariés", "10"),  # Troyes
        ("notre assos de quartier a clermon ferand", "63"),  # Clermont-Ferrand
        ("je suis a bordo", "33"),  # Bordeaux, not Borgo by one letter
        ("ACI espaces verts a charleville, 14 salariés", "08"),  # Charleville-Mézières
        ("une bande de jeunes de Carhaix", "29"),  # Carhaix-Plouguer
        ("une scop de sérigraphie à Sainté", "42"),  # Saint-Étienne
        ("Bonghjornu! Sò d'Aiacciu.", "2A"),
        ("simu una scic in Corti", "2B"),
        ("Sèm un collectiu de parents de Tolosa", "31"),
        ("un atelier bisiklèt a Kayenn", "973"),
    ],
)
def test_towns_as_people_write_them(ix: TerritoryIndex, message: str, dep: str) -> None:
    found = ix.find_in_text(message)
    assert found is not None and found.departement == dep


@pytest.mark.parametrize(
    "message",
    ["on pense a monter une structure", "on a du mal a payer les salaires", "a la banque"],
)
def test_a_french_word_does_not_sound_like_a_town(ix: TerritoryIndex, message: str) -> None:
    assert ix.find_in_text(message) is None


@pytest.mark.parametrize(
    "message",
    ["on a cinq salariées", "je suis chargée de mission au conseil départemental des Landes"],
)
def test_a_word_of_french_is_no_town_said_short(ix: TerritoryIndex, message: str) -> None:
    found = ix.find_in_text(message)  # not Cinq-Mars-la-Pile, not Les Landes-Genusson
    assert found is None or found.departement == "40"


def test_a_short_name_keeps_a_town_of_its_own_size(ix: TerritoryIndex) -> None:
    found = ix.find_in_text("on est au Blanc dans l'Indre")
    assert found is not None and found.commune_code == "36018"  # not Le Blanc-Mesnil


def test_the_towns_file_hides_no_commune_and_names_real_ones(tmp_path: Path) -> None:
    from assistant.curation.validation import validate_data_files

    towns = tmp_path / "territories" / TOWNS_FILE
    towns.parent.mkdir()
    prompts = tmp_path / "prompts"
    prompts.mkdir()

    def about_towns() -> list[str]:
        found = validate_data_files(tmp_path, prompts, set(), set())
        return [p.message for p in found if p.where == f"territories/{TOWNS_FILE}"]

    towns.write_text('Sainté: "42218"\n', encoding="utf-8")
    assert about_towns() == []
    towns.write_text('Sainté: "99999"\n', encoding="utf-8")
    assert any("99999" in message for message in about_towns())
    towns.write_text('Maule: "64371"\n', encoding="utf-8")  # Maule is a town of the Yvelines
    assert any("porte déjà ce nom" in message for message in about_towns())


def test_another_name_never_hides_a_commune(tmp_path: Path) -> None:
    shutil.copy(DEFAULT_PATH, tmp_path / DEFAULT_PATH.name)
    (tmp_path / TOWNS_FILE).write_text('Maule: "64371"\nSainté: "42218"\n', encoding="utf-8")
    tables = Tables(tmp_path / DEFAULT_PATH.name)
    assert [e.commune_code for e in tables.names["maule"]] == ["78380"]
    assert [e.commune_code for e in tables.names["sainte"]] == ["42218"]


@pytest.mark.parametrize(
    ("turns", "dep"),
    [
        (
            (
                "Bonjour, nous sommes une Scic de restauration à Montreuil, 12 salariés",
                "Montreuil-sur-Mer, dans le Pas-de-Calais, pas le 93 ! Il nous faut des clients",
            ),
            "62",
        ),
        (
            (
                "On a un projet de laverie solidaire à Saint-Laurent",
                "Saint-Laurent-du-Var, pas du Maroni. On a déclaré l'asso, on cherche un local",
            ),
            "06",  # not the Saint-Laurent of the Cher: "cher" is not in "on cherche"
        ),
    ],
)
def test_a_place_put_right_by_naming_the_wrong_one(
    runtime: Runtime, turns: tuple[str, ...], dep: str
) -> None:
    *_, last = talk(runtime.engine, *turns)
    assert last.state.departement == dep


def test_a_place_denied_must_be_the_one_known(runtime: Runtime) -> None:
    *_, last = talk(
        runtime.engine,
        "je voudrais ouvrir un café-librairie associatif à Arlanc, dans le Puy-de-Dôme",
        "Je cherche un bâtiment à louer pas cher, les jeunes ne viennent pas aux réunions",
    )
    assert last.state.departement == "63"  # not "pas cher" (18), nor "pas aux réunions"


def test_pas_le_temps_is_no_correction_of_the_place(runtime: Runtime) -> None:
    *_, last = talk(
        runtime.engine, "on est à Lyon", "on a pas le temps d'aller à Paris, il faut un local"
    )
    assert last.state.departement == "69"


def test_pas_encor_is_not_yet(extractor: Extractor) -> None:
    said = "on est 6, on a pas encor de structure, on sais pas si faut une scic ou une cae"
    assert extractor.extract(said).stage != "consolidation"
    assert "financement" in extractor.extract("jai pas d'argant").needs


def test_how_one_sets_up_a_thing_is_a_question_not_a_creation(extractor: Extractor) -> None:
    said = "on a aucune idée de comment on monte un truc pareil"
    assert "creation" not in extractor.extract(said).evidence["stage"]


@pytest.mark.parametrize(
    "said",
    [
        "en fait on est quatre, on a déclaré l'asso en préfecture la semaine dernière",
        "Avec 4 femmes on a fait association en juin, maintenant on veut un local",
    ],
)
def test_a_structure_declared_weeks_ago_is_being_created(extractor: Extractor, said: str) -> None:
    assert extractor.extract(said).stage == "creation"


def test_fillers_of_dictated_speech_do_not_hide_a_plan(extractor: Extractor) -> None:
    said = "avec des voisins on voudrait euh faire une CUMA ou une coopérative on sait pas trop"
    found = extractor.extract(said)
    assert found.profile == "collectif"
    assert "scop-scic" in found.planned


def test_learning_how_a_coop_works_is_not_being_one(extractor: Extractor) -> None:
    said = "Ils cherchent quelqu'un pour les former au fonctionnement d'une coopérative"
    assert extractor.extract(said).evidence["profile"].get("scop-scic", 0.0) == 0.0


def test_doubling_the_activity_is_growth() -> None:
    said = normalise("Nous venons de signer deux gros contrats qui doublent notre activité.")
    assert NEW_VENTURE.search(said)


@pytest.mark.parametrize(
    "said",
    [
        "on est 6, on a pas de structure, on sais pas si faut une scic ou une cae",
        "Ma fille et moi on sait pas si asso ou scic c mieux",
    ],
)
def test_a_form_one_hesitates_over_is_planned(extractor: Extractor, said: str) -> None:
    found = extractor.extract(said)
    assert found.evidence["profile"].get("scop-scic", 0.0) == 0.0
    assert "scop-scic" in found.planned


@pytest.mark.parametrize(
    ("said", "speaker"),
    [
        # an option hedged ("peut-être dans une coopérative"), an idea only
        (
            "Elle aimerait vendre ses plats, peut-être dans une coopérative, "
            "mais elle n'en est qu'à l'idée.",
            "individuel",
        ),
        # a conditional, after a comma
        ("On a dit qu'on pourrait le rouvrir nous-mêmes, en coopérative.", "collectif"),
        # still hesitating between two forms
        ("On a décidé de monter une coop, on hésite encore entre scic et sica.", "collectif"),
        # statutes ready to sign are not a registered Scic
        (
            "C'est décidé : on crée une Scic, la conserverie coopérative, les statuts sont "
            "prêts et on les signe jeudi chez l'avocate.",
            "collectif",
        ),
        # written for others: "cinq de mes élèves … entre eux"
        (
            "Cinq de mes élèves ont une idée : une association pour recycler les bouteilles. "
            "Pour l'instant ils en parlent entre eux.",
            "collectif",
        ),
    ],
)
def test_a_form_hedged_or_about_to_be_signed_is_not_who_speaks(
    extractor: Extractor, said: str, speaker: str
) -> None:
    found = extractor.extract(said)
    assert found.profile == speaker


# -- session 21, from the tuning set people17 ------------------------------------------------


@pytest.mark.parametrize(
    ("said", "profile"),
    [
        # the writer works for the comcom; the project is the association written for
        (
            "Je suis chargée de mission à la communauté de communes et je vous écris pour "
            "l'association Le Panier, à Domfront. Elle gère une épicerie avec deux salariées.",
            "association-employeuse",
        ),
        # an association in Alsatian; its thirty volunteers are not a group without structure
        (
            "Ich bin d'Presidentin vun unserem Verein à Colmar, une épicerie solidaire depuis "
            "2013, quatre salariées et une trentaine de bénévoles.",
            "association-employeuse",
        ),
    ],
)
def test_who_carries_the_project_through_who_writes(
    runtime: Runtime, said: str, profile: str
) -> None:
    assert runtime.engine.handle(DiagnosticState(), said).state.profile == profile


@pytest.mark.parametrize(
    ("said", "stage"),
    [
        ("l'association est déclarée depuis quinze jours, on est trois au bureau", "creation"),
        ("on a reçu le récépissé de la préfecture, on est trois au bureau", "creation"),
        # an established Scop buying another printer to grow
        (
            "mon frère est cogérant d'une Scop d'imprimerie, quinze salariés, ils veulent "
            "racheter une petite imprimerie à Autun pour s'agrandir",
            "developpement",
        ),
    ],
)
def test_a_structure_just_born_or_growing_by_a_purchase(
    extractor: Extractor, said: str, stage: str
) -> None:
    assert extractor.extract(said).stage == stage


@pytest.mark.parametrize(
    ("said", "departement"),
    [
        ("une ressourcerie à Aix", "13"),  # Aix-en-Provence, not the Aix of 352 in Corrèze
        ("un tiers-lieu à Gif", "91"),
        ("on est six à Tulle", "19"),  # a number is no town said short
    ],
)
def test_a_big_town_said_by_three_letters(ix: TerritoryIndex, said: str, departement: str) -> None:
    found = ix.find_in_text(said)
    assert found is not None and found.departement == departement


def test_a_place_put_right_after_oh_la_pardon(runtime: Runtime) -> None:
    """ "Oh là, pardon, je suis fatiguée : Bagnols-en-Forêt, dans le Var !" corrects the
    place taken from the first turn (Bagnols-sur-Cèze, Gard)."""
    *_, last = talk(
        runtime.engine,
        "Bonjour, on est un collectif de parents à Bagnols, dans le Gard, on veut monter une "
        "micro-crèche associative.",
        "Oh là, pardon, je suis fatiguée: Bagnols-en-Forêt, dans le Var ! Bagnols-sur-Cèze, "
        "c'est ma sœur.",
    )
    assert last.state.departement == "83"


def test_a_town_said_in_full_puts_right_its_short_name(runtime: Runtime) -> None:
    """ "à Villefranche" is read as Villefranche-sur-Saône; "Villefranche-de-Lauragais" said
    next, with no word of correction, is the place."""
    first, last = talk(
        runtime.engine,
        "je voudrais créer une asso pour accueillir des personnes en réinsertion à la ferme, "
        "à Villefranche.",
        "Villefranche-de-Lauragais, en Haute-Garonne.",
    )
    assert first.state.departement == "69"
    assert last.state.departement == "31"
