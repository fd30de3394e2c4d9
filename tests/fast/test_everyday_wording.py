"""Everyday wordings the rules must read right: a need said as settled, staff of the past, a
closure that is not an age, a word typed right that is not a typo of another, options listed
after a colon, a partner who only comments."""

from __future__ import annotations

from datetime import date

import pytest

from assistant.dialogue.evidence import READING_WEIGHT, reading_weight
from assistant.dialogue.state import DiagnosticState
from assistant.runtime import Runtime
from assistant.settings import Settings
from assistant.territory.index import load_territories
from assistant.understanding.extraction import Extractor
from assistant.understanding.quantities import employees, structure_age
from assistant.understanding.script import load_script
from assistant.understanding.told import described


@pytest.fixture(scope="module")
def extractor() -> Extractor:
    """The rules alone, as the script ships."""
    settings = Settings()
    return Extractor(
        load_script(settings.knowledge_dir / "diagnostic" / "script.yaml"),
        load_territories(settings.territories_dir / "territories.json.gz"),
    )


@pytest.mark.parametrize(
    ("message", "absent", "present"),
    [
        ("le local c'est réglé, il nous faut recruter un encadrant", "local", "emploi-rh"),
        (
            "on a signé le bail la semaine dernière, reste à trouver des clients",
            "local",
            "commercial",
        ),
        ("le financement, c'est bon. on cherche surtout des bénévoles formés", "financement", None),
    ],
)
def test_a_need_said_settled_is_not_a_need(
    extractor: Extractor, message: str, absent: str, present: str | None
) -> None:
    read = extractor.extract(message)
    assert absent not in read.needs
    assert absent in read.settled_needs
    if present:
        assert present in read.needs


def test_a_need_settled_later_leaves_the_conversation(runtime: Runtime) -> None:
    engine = runtime.engine
    state = engine.handle(DiagnosticState(), "notre asso cherche un local à Guéret").state
    assert "local" in state.needs
    state = engine.handle(state, "bon, le local c'est réglé, on l'a trouvé").state
    assert "local" not in state.needs


def test_a_need_still_open_stays(extractor: Extractor) -> None:
    assert "local" in extractor.extract("le local, on le cherche toujours").needs


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("nous avons eu jusqu'a trois salaries dans les annees 2000", None),
        ("il y avait deux permanents, maintenant on a 1 salarie", 1),
        ("nous sommes revenus au benevolat", 0),
        ("on a 3 salaries", 3),
    ],
)
def test_staff_of_the_past_is_not_counted(text: str, count: int | None) -> None:
    assert employees(text) == count


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("la commune a rachete le bistrot qui est ferme depuis 2 ans", None),
        ("je suis au chomage depuis 3 ans", None),
        ("l'asso tourne depuis 2 ans", 2.0),
    ],
)
def test_a_closure_is_not_an_age(text: str, years: float | None) -> None:
    assert structure_age(text, today=date(2026, 12, 1)) == years


def test_a_word_typed_right_is_not_a_typo_of_another(extractor: Extractor) -> None:
    # "trésorerie" (money) is not a misspelt "trésorière" (an association's officer)
    read = extractor.extract("le problème c'est la trésorerie, les clients paient à 90 jours")
    assert "association" not in read.evidence["profile"]
    assert "financement" in read.needs


def test_a_participle_is_not_a_typo_of_the_noun(extractor: Extractor) -> None:
    read = extractor.extract("la mairie nous a repris en juin la salle qu'elle nous prêtait")
    assert "creation" not in read.evidence["stage"]


@pytest.mark.parametrize(
    "message",
    [
        "bonjour, nous sommes 4 employés dans une petite entreprise de traduction",
        "on est 22 dont 15 en insertion, une blanchisserie",
        "je suis présidente, ma femme dit que j'y passe trop de temps",
    ],
)
def test_staff_or_family_named_are_not_a_group(extractor: Extractor, message: str) -> None:
    # at most the weak "nous sommes" / "on est": not the pattern of a group counting itself
    assert extractor.extract(message).evidence["profile"].get("collectif", 0.0) <= 0.5


@pytest.mark.parametrize(
    "message",
    [
        "avec ma femme on veut ouvrir une épicerie",
        "mon mari et moi on veut reprendre la ferme",
        "j'ai déjà 10 femmes avec moi mais rien de déclaré",
    ],
)
def test_people_carrying_it_with_me_are_a_group(extractor: Extractor, message: str) -> None:
    assert extractor.extract(message).profile == "collectif"


def test_options_listed_after_a_colon_are_asked_not_told() -> None:
    told = described(
        "nous ne connaissons pas les regles en france : association, entreprise, "
        "cooperative, quoi est mieux pour nous ?"
    )
    assert "association" not in told
    assert told.startswith("nous ne connaissons pas les regles")


def test_not_yet_an_association_is_not_one(extractor: Extractor) -> None:
    read = extractor.extract("nous voulons faire un atelier de couture. pas encore association")
    assert "association" not in read.evidence["profile"]


def test_nothing_yet_is_nothing_at_all(extractor: Extractor) -> None:
    online = extractor.extract("on a rien en ligne, notre site date de 2010")
    assert "emergence" not in online.evidence["stage"]
    assert extractor.extract("non, on a rien. on en parle entre amis").stage == "emergence"


def test_a_volunteer_president_speaks_for_an_association(extractor: Extractor) -> None:
    read = extractor.extract("je suis président bénévole de l'école de musique de Guingamp")
    assert read.profile == "association"


def test_the_reading_does_not_overrule_a_form_named_in_words() -> None:
    scop_named = {"scop-scic": 0.8, "collectif": 0.1}
    assert reading_weight("profile", "association-employeuse", scop_named) == 0.0
    # within the same family it may still tell an employer from a volunteer association
    assert (
        reading_weight("profile", "association-employeuse", {"association": 1.0}) == READING_WEIGHT
    )
    assert reading_weight("stage", "consolidation", scop_named) == READING_WEIGHT
