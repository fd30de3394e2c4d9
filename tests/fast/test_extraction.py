"""Reading slots out of messy French (Extractor), driven by the shipped diagnostic script."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from assistant.errors import DiagnosticScriptError
from assistant.settings import Settings
from assistant.territory.index import load_territories
from assistant.text import normalise
from assistant.understanding.extraction import Extractor
from assistant.understanding.quantities import structure_age
from assistant.understanding.script import DiagnosticScript, load_script

SCRIPT = Settings().knowledge_dir / "diagnostic" / "script.yaml"


@pytest.fixture(scope="module")
def script() -> DiagnosticScript:
    return load_script(SCRIPT)


@pytest.fixture(scope="module")
def extractor(script: DiagnosticScript) -> Extractor:
    return Extractor(script, load_territories(Settings().territories_dir / "territories.json.gz"))


def test_normalise() -> None:
    assert normalise("Ça coûte—combien ?") == "ca coute—combien ?"
    assert normalise("  L’Économie   sociale-et_solidaire ") == "l'economie sociale et solidaire"


def test_several_slots_from_one_message(extractor: Extractor) -> None:
    e = extractor.extract(
        "Bonjour, je préside une asso à Guéret, on a 4 salariés, on galère avec la trésorerie"
    )
    assert e.profile == "association"
    assert e.stage == "consolidation"
    assert "financement" in e.needs
    assert e.employees == 4
    assert e.territory is not None
    assert (e.territory.departement, e.territory.region, e.territory.commune) == (
        "23",
        "75",
        "Guéret",
    )
    assert set(e.slots_found) >= {"profile", "stage", "needs", "employees", "territory"}
    assert not e.question and not e.dont_know and not e.correction


def test_needs_in_order_of_appearance(extractor: Extractor) -> None:
    e = extractor.extract("il nous faut un local, puis du financement et un site internet")
    assert e.needs == ["local", "financement", "numerique"]


@pytest.mark.parametrize(
    ("message", "need"),
    [
        ("on a besoin d'un financment", "financement"),
        ("on galere avec la tresorie", "financement"),
        ("comment trouver un mentorr", "mentorat"),
    ],
)
def test_typos_in_needs(extractor: Extractor, message: str, need: str) -> None:
    assert need in extractor.extract(message).needs


def test_typo_in_stage_keyword(extractor: Extractor) -> None:
    e = extractor.extract("on voudrait perreniser nos emplois")
    assert e.stage == "consolidation"
    assert "emploi-rh" in e.needs


def test_typo_in_town(extractor: Extractor) -> None:
    e = extractor.extract("je suis a limoge")
    assert e.territory is not None
    assert (e.territory.departement, e.territory.commune, e.territory.fuzzy) == (
        "87",
        "Limoges",
        True,
    )


def test_short_words_are_not_fuzzy_matched(extractor: Extractor) -> None:
    # "acheter" is not a typo of "racheter": fuzzy matching needs the same first letter.
    assert extractor.extract("on voudrait acheter un camion").stage != "creation"


@pytest.mark.parametrize(
    ("message", "departement"),
    [("on est en 23200", "23"), ("code postal 87000", "87"), ("c'est au 19000", "19")],
)
def test_postal_codes(extractor: Extractor, message: str, departement: str) -> None:
    e = extractor.extract(message)
    assert e.territory is not None and e.territory.status == "found"
    assert e.territory.departement == departement


def test_pres_de(extractor: Extractor) -> None:
    e = extractor.extract("je suis près de Millau, dans un petit village")
    assert e.territory is not None
    assert (e.territory.departement, e.territory.region, e.territory.commune) == (
        "12",
        "76",
        "Millau",
    )
    assert "rural" in e.context


def test_commune_deleguee(extractor: Extractor) -> None:
    e = extractor.extract("on habite à Blaudeix")
    assert e.territory is not None
    assert e.territory.kind == "commune-deleguee"
    assert (e.territory.commune, e.territory.departement, e.territory.region) == (
        "Parsac",
        "23",
        "75",
    )


def test_ambiguous_commune(extractor: Extractor) -> None:
    e = extractor.extract("c'est à Saint-Denis")
    assert e.territory is not None and e.territory.status == "ambiguous"
    assert {"93", "974"} <= {c.departement for c in e.territory.candidates}
    assert "territory" in e.slots_found


def test_bare_place_answers_a_pending_territory_question(extractor: Extractor) -> None:
    e = extractor.extract("Creuse", pending="territory")
    assert e.territory is not None and e.territory.departement == "23"


@pytest.mark.parametrize(
    "message",
    [
        "ah non, c'est à Limoges",
        "en fait on est déjà une asso",
        "pardon, plutôt à Tulle",
        "Désolée, REIMS pas Rennes !! dans la Marne",  # people12, a tuning set
        "Enfin, je me reprends : nous sommes passés en Scic",
        "Excusez-moi, erreur de ma part : Mortagne-sur-Sèvre, en Vendée !",
        "Petite correction : on a tous quitté Apt, on vit à Manosque",  # people17, tuning
        "Je précise : Aix-les-Bains, en Savoie, pas Aix-en-Provence !",  # people16, tuning
    ],
)
def test_corrections_are_flagged(extractor: Extractor, message: str) -> None:
    assert extractor.extract(message).correction


def test_correction_content(extractor: Extractor) -> None:
    e = extractor.extract("ah non, c'est à Limoges")
    assert e.territory is not None and e.territory.departement == "87"
    e = extractor.extract("en fait on est déjà une asso")
    assert e.profile == "association"
    assert not extractor.extract("on est à Limoges").correction


@pytest.mark.parametrize("message", ["je ne sais pas", "je sais pas", "aucune idée", "jsp", "bof"])
def test_dont_know(extractor: Extractor, message: str) -> None:
    e = extractor.extract(message)
    assert e.dont_know
    assert e.slots_found == []


def test_dont_know_with_an_answer_is_an_answer(extractor: Extractor) -> None:
    e = extractor.extract("je sais pas trop, on est à Guéret")
    assert not e.dont_know
    assert e.territory is not None and e.territory.departement == "23"


def test_long_message_mentioning_not_knowing_is_not_a_dont_know(extractor: Extractor) -> None:
    e = extractor.extract(
        "je ne sais pas encore comment on va faire mais on veut ouvrir une ressourcerie "
        "avec des voisins pour réduire les déchets du village"
    )
    assert not e.dont_know


@pytest.mark.parametrize(
    ("message", "needs"),
    [
        ("pas besoin de financement", []),
        ("pas besoin de financement, plutôt un local", ["local"]),
        ("sans subvention, on cherche un local", ["local"]),
        ("on n'a pas besoin d'argent mais de mentorat", ["mentorat"]),
    ],
)
def test_negations(extractor: Extractor, message: str, needs: list[str]) -> None:
    assert extractor.extract(message).needs == needs


def test_a_form_left_behind_is_not_who_speaks(extractor: Extractor) -> None:
    e = extractor.extract("on n'est plus une association, on est passés en Scic l'an dernier")
    assert "association" not in e.evidence["profile"]
    assert e.profile == "scop-scic"


def test_negation_keeps_the_keyword_that_carries_it(extractor: Extractor) -> None:
    e = extractor.extract("j'ai pas de siret, c'est juste une idée")
    assert e.stage == "emergence"


@pytest.mark.parametrize(
    ("message", "employees"),
    [
        ("on a 4 salariés", 4),
        ("deux salariés", 2),
        ("12 ETP", 12),
        ("on n'a aucun salarié, que des bénévoles", 0),
        ("une association sympa", None),
        ("l'association emploie deux aides à domicile et une coordinatrice", 2),
        ("on a Nadège, notre animatrice à trois-quarts temps", 1),
        ("on cherche une animatrice à mi-temps", None),
        ("je suis une animatrice en CDI dans un centre social", None),
        ("elle emploie deux heures par semaine à la compta", None),
        ("nous avons quatorze aides à domicile salariées", 14),
        ("j'suis salariée, la seule, les autres c'est des bénévoles", 1),
        ("je suis salarié dans une banque et je veux créer une asso", None),
    ],
)
def test_employees(extractor: Extractor, message: str, employees: int | None) -> None:
    assert extractor.extract(message).employees == employees


def test_questions_name_options_not_the_project(extractor: Extractor) -> None:
    e = extractor.extract("asso ou scop ?")
    assert e.question
    assert e.profile is None and e.stage is None
    assert "juridique" in e.needs
    assert extractor.extract("c'est quoi une scic").question  # no question mark


def test_a_list_of_legal_forms_weighs_little(extractor: Extractor) -> None:
    hesitant = extractor.extract("on hésite entre une scop, une scic ou une asso")
    sure = extractor.extract("on est une scop")
    assert hesitant.evidence["profile"]["scop-scic"] < sure.evidence["profile"]["scop-scic"]


def test_a_structure_to_create_is_not_who_speaks(extractor: Extractor) -> None:
    # A plan is not the present: the group or the person planning it speaks today.
    assert extractor.extract("on veut créer une asso").profile == "collectif"
    assert extractor.extract("avec 4 collègues on veut monter une scic").profile == "collectif"
    # Employees who want to take over their workshop as a Scop: the Scop is to come, a group
    # of employees speaks today (what outside advisers labelled, descriptions7-9).
    assert extractor.extract("on veut reprendre l'atelier en scop").profile == "collectif"
    assert extractor.extract("nous écrivons les statuts d'une Scop traiteur").profile == "collectif"
    assert extractor.extract("on prépare la création d'une scic").profile == "collectif"
    # Said done, it is who speaks.
    assert extractor.extract("on a repris l'atelier en scop l'an dernier").profile == "scop-scic"
    assert extractor.extract("je voudrais monter une coopérative").profile == "individuel"
    assert extractor.extract("on est une asso").profile == "association"
    assert extractor.extract("on vient de créer une asso").profile == "association"
    # Registered in the same breath: the structure exists.
    assert extractor.extract("nous créons une SAS, le Kbis est arrivé").profile == "entreprise"


def test_adviser_speaking_for_a_client(extractor: Extractor) -> None:
    e = extractor.extract(
        "je suis conseillère BGE, ma cliente veut ouvrir une épicerie solidaire à Tulle"
    )
    assert e.for_client
    assert "mentorat" not in e.needs  # "conseillère" is the adviser, not a need
    assert e.sector == "alimentation"
    assert e.territory is not None and e.territory.departement == "19"


def test_english_message(extractor: Extractor) -> None:
    e = extractor.extract("we are a group of neighbours with just an idea in Guéret")
    assert (e.profile, e.stage) == ("collectif", "emergence")


@pytest.mark.parametrize(
    "message",
    ["Notre épicerie solidaire a deux salariés", "notre associaton a trois salariés"],
)
def test_has_n_employees_is_not_a_collective(extractor: Extractor, message: str) -> None:
    e = extractor.extract(message)
    assert "collectif" not in e.evidence["profile"]


# -- the script as data -----------------------------------------------------------------------


def test_shipped_script_is_consistent(script: DiagnosticScript) -> None:
    assert script.order == ["territory", "profile", "stage", "needs"]
    for slot in script.order:
        assert script.slots[slot].question


def test_invalid_script_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    text = SCRIPT.read_text(encoding="utf-8").replace(
        '{label: "Une association", value: association}',
        '{label: "Une association", value: asso-loi-1901}',
    )
    bad = tmp_path / "script.yaml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(DiagnosticScriptError, match="asso-loi-1901"):
        load_script(bad)
    with pytest.raises(DiagnosticScriptError, match="cannot read"):
        load_script(tmp_path / "missing.yaml")


@pytest.mark.parametrize(
    ("said", "count"),
    [
        ("nous employons deux personnes", 2),
        ("une salariée à mi-temps", 1),
        ("on paie deux postes", 2),
        ("emploie 3 personnes", 3),
        ("on a embauché notre première coordinatrice", 1),
        ("2 ETP", 2),
        ("que des bénévoles", 0),
        ("0 salarié", 0),
        ("je paie une facture", None),
        ("on emploie des bénévoles", None),
        ("notre SAS a 8 livreurs salariés", 8),
        ("nous sommes 3 anciens salariés de l'usine", None),
        ("j'ai un emploi salarié à côté", None),
        ("2 non salariés", None),
        ("l'association emploie une trentaine de personnes", 30),
        ("on vient d'embaucher notre 1ère salariée en PEC", 1),
        ("on vient de recruter une animatrice", 1),
        ("on voudrait embaucher un premier salarié", None),  # a plan, not an employer
        ("nout association na point de salarié", 0),
        ("créée en 1995, rien qu'avec des bénévoles", 0),
        ("il n'y a plus de salarié depuis l'an dernier", 0),
        ("on est plus de salariés que de bénévoles", None),
    ],
)
def test_employment_is_a_quantity(extractor: Extractor, said: str, count: int | None) -> None:
    assert extractor.extract(said).employees == count


def test_without_employees_the_association_is_not_an_employer(extractor: Extractor) -> None:
    result = extractor.extract("on vient de créer une asso de surf, 0 salarié")
    assert "association-employeuse" not in result.evidence["profile"]
    assert result.profile == "association"


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ("bjr jsuis ds 1 asso", "bonjour je suis dans un association"),
        ("c pr la treso", "c'est pour la tresorerie"),
        ("ce projet", "ce projet"),  # "ce" is a word, not an abbreviation
        ("10 salaries", "10 salaries"),  # only the whole token "1"
    ],
)
def test_sms_spellings_are_written_out(extractor: Extractor, typed: str, written: str) -> None:
    assert extractor.spelled_out(normalise(typed)) == written


def test_a_structure_that_counts_its_members_is_not_a_group(extractor: Extractor) -> None:
    assert extractor.extract("on a une Scop à Hyères, on est sept").profile == "scop-scic"
    # a structure only planned leaves the group as it is
    planned = extractor.extract("on est cinq et on veut créer une Scop")
    assert planned.profile == "collectif"


def test_the_town_hall_as_a_third_party_is_only_a_hint(extractor: Extractor) -> None:
    told = extractor.extract("notre association de bénévoles : la mairie nous reprend la salle")
    assert told.profile == "association"


@pytest.mark.parametrize(
    "said", ["on voudrait ouvrir un deuxième atelier", "un nouveau site à Saint-Louis"]
)
def test_a_new_site_is_an_implantation_need(extractor: Extractor, said: str) -> None:
    assert "implantation" in extractor.extract(said).needs


def test_a_dozen_young_people_are_a_group(extractor: Extractor) -> None:
    assert extractor.extract("une dizaine de jeunes du village").profile == "collectif"


@pytest.mark.parametrize(
    ("message", "need"),
    [
        ("on cherche des garages pour travaillé ensemble", "cooperation"),
        ("on a plus de sous pour payé le vétérinaire", "financement"),
        ("le président veut arrêter et personne ne veut le remplacé", "gouvernance"),
    ],
)
def test_keyword_phrases_survive_typos(extractor: Extractor, message: str, need: str) -> None:
    assert need in extractor.extract(message).needs


def test_a_typo_only_counts_inside_a_long_word(extractor: Extractor) -> None:
    # "la commune au capital" is not "la commune a" (a commune speaking for itself).
    found = extractor.extract("on veut faire entrer la commune au capital de la scic")
    assert found.evidence.get("profile", {}).get("collectivite", 0.0) < 1.0


# --------------------------------------------------------------------------- session 4


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("l'association fait de la distribution depuis 2011", 15.0),
        ("ca fait six ans qu'on tourne", 6.0),
        ("on existe depuis une vingtaine d'annees", 20.0),
        ("10 ans d'existence", 10.0),
        ("fondee il y a 12 ans", 12.0),
        ("creee en mars 2026", 0.0),
        ("depuis 3 mois", None),
        ("on a 2 salaries et un local", None),
    ],
)
def test_structure_age(text: str, years: float | None) -> None:
    from datetime import date

    from assistant.understanding.extraction import structure_age

    assert structure_age(text, today=date(2026, 11, 30)) == years


def test_the_age_of_a_structure_speaks_for_its_stage(extractor: Extractor) -> None:
    old = extractor.extract("On est une quinzaine de bénévoles, l'asso tourne depuis 2011")
    assert old.stage == "consolidation"
    assert old.profile == "association"  # "l'asso": an elided article still starts a word


def test_sms_je_before_a_verb(extractor: Extractor) -> None:
    assert extractor.spelled_out("jveux lancer un truc, jsais pas si jdois") == (
        "je veux lancer un truc, je sais pas si je dois"
    )
    assert extractor.spelled_out("j'ai un projet, jean aussi") == "j'ai un projet, jean aussi"


def test_a_plural_names_others_not_who_speaks(extractor: Extractor) -> None:
    e = extractor.extract("je cherche des gens motivés ou des assos du coin à qui en parler")
    assert e.evidence["profile"].get("association", 0.0) == 0.0
    e = extractor.extract("pour les sociétés du village")
    assert "entreprise" not in e.evidence["profile"]
    # For needs, a plural is still the need.
    assert "financement" in extractor.extract("j'aimerais trouver des financements").needs


def test_a_pattern_is_not_hidden_by_a_weaker_keyword_inside_it(extractor: Extractor) -> None:
    # "nous sommes cinq" (a group, pattern) over "nous sommes" (a weak hint) within it.
    e = extractor.extract("nous sommes cinq mamans, nous créons une association de couture")
    assert e.profile == "collectif"


def test_who_creates_is_said_now_only_the_object_is_planned(extractor: Extractor) -> None:
    e = extractor.extract("elle crée seule une entreprise de réparation")
    assert e.evidence["profile"]["individuel"] > e.evidence["profile"].get("entreprise", 0.0)


def test_several_people_named_beside_the_speaker_are_a_group(extractor: Extractor) -> None:
    assert extractor.extract("avec deux amies on veut monter une recyclerie").profile == (
        "collectif"
    )
    # The people served are not the people who carry the project.
    e = extractor.extract("je fais du réemploi de meubles avec des jeunes du quartier")
    assert e.evidence["profile"].get("collectif", 0.0) < 1.0


def test_a_negated_verb_is_not_evidence(extractor: Extractor) -> None:
    e = extractor.extract("le boulanger part à la retraite et personne ne reprend")
    assert "creation" not in e.evidence["stage"]


def test_a_wish_to_create_is_an_idea(extractor: Extractor) -> None:
    e = extractor.extract("on aimerait la reprendre à plusieurs, on n'a jamais fait ça")
    assert e.evidence["stage"].get("emergence", 0.0) >= 1.0


def test_a_description_that_ends_with_a_question_still_describes(extractor: Extractor) -> None:
    e = extractor.extract("on est 5 potes, pas encore d'asso. il faut quoi comme statut ?")
    assert e.question
    assert (e.profile, e.stage) == ("collectif", "emergence")
    assert "juridique" in e.needs
    # The question alone still names options, not the project.
    only = extractor.extract("asso ou scop ?")
    assert only.profile is None


def test_people_on_a_contract_are_employees(extractor: Extractor) -> None:
    assert extractor.extract("ils ont deux éducateurs sportifs en CDI").employees == 2
    assert extractor.extract("notre asso emploie cinq conseillers numériques").employees == 5


def test_a_local_councillor_speaks_for_the_commune(extractor: Extractor) -> None:
    e = extractor.extract("je suis conseillère municipale à Villeneuve-sur-Lot")
    assert not e.for_client
    assert e.profile == "collectivite"


def test_statutes_being_signed_mean_creation(extractor: Extractor) -> None:
    e = extractor.extract("on monte 1 coopérative à 3, on signe les statuts la semaine pro")
    assert (e.stage, e.profile) == ("creation", "collectif")


def test_an_insertion_company_is_not_a_classic_company(extractor: Extractor) -> None:
    e = extractor.extract("je rectifie, c'est une entreprise d'insertion conventionnée")
    assert e.correction
    assert e.profile == "siae"
    assert "entreprise" not in e.evidence["profile"]


@pytest.mark.parametrize(
    "text",
    ["on paie un loyer trop cher", "j'ai un emploi à temps plein à côté", "on a une salle"],
)
def test_a_rent_or_a_day_job_is_not_an_employee(extractor: Extractor, text: str) -> None:
    assert extractor.extract(text).employees is None


def test_an_existing_structure_is_not_a_group_planning_one(extractor: Extractor) -> None:
    e = extractor.extract("on voudrait modifier les statuts de notre association")
    assert e.profile == "association"
    e = extractor.extract("notre recyclerie emploie 6 personnes, on veut passer en scic")
    assert e.profile != "collectif"


def test_a_plan_is_not_made_real_by_a_question_or_a_negation(extractor: Extractor) -> None:
    assert not extractor.extract("on veut créer une asso. est-ce qu'il faut un kbis ?").exists
    assert not extractor.extract("on veut créer une asso, pas encore de kbis").exists
    assert not extractor.extract("on a déjà lancé une cagnotte pour l'asso à créer").exists
    assert extractor.extract("le kbis est arrivé la semaine dernière").exists


def test_a_mairie_that_sent_us_is_not_the_profile(extractor: Extractor) -> None:
    e = extractor.extract("on est un collectif d'habitants, c'est la mairie qui nous a orientés")
    assert e.profile == "collectif"


def test_oups_pardon_corrects(extractor: Extractor) -> None:
    assert extractor.extract("Oups pardon, Châteaulin, dans le Finistère").correction


def test_a_regie_de_quartier_is_an_insertion_structure(extractor: Extractor) -> None:
    assert extractor.extract("régie de quartier à Hérouville, 3 encadrants").profile == "siae"


def test_an_established_structure_that_opens_something_grows(extractor: Extractor) -> None:
    # Years or employees, and a plan to open or launch: growth, not a first idea.
    grows = [
        "association créée en 2009, on voudrait ouvrir une deuxième boutique",
        "EI de nettoyage à Caen, 30 salariés, on ouvre une activité laverie",
        "festival associatif depuis 2008, 2 salariés. On veut lancer une webradio, qui aide ?",
        # a new market or public is growth too
        "Scop de nettoyage, 22 salariés, nous voulons répondre aux grands marchés des hôpitaux",
        "ressourcerie asso 12 salariés a Niort, on veut se mettre a vendre en ligne",
    ]
    for message in grows:
        assert extractor.extract(message).stage == "developpement", message
    # A person's years are not a structure's; a file or a job is not something new.
    assert (
        extractor.extract(
            "je suis aide-soignante depuis quinze ans et je voudrais monter ma structure"
        ).stage
        == "emergence"
    )
    assert (
        extractor.extract(
            "notre asso existe depuis 2011, 5 salariés, il faudrait monter un dossier de subvention"
        ).stage
        == "consolidation"
    )


def test_a_structure_born_days_or_months_ago_is_being_created(extractor: Extractor) -> None:
    for message in (
        "on est une asso maintenant, déclarée hier !",
        "asso créée en septembre, que des bénévoles",
        "je viens d'entrer en CAE à Nantes",
        "I just registered as micro-entrepreneur",
        "les statuts de la Scop sont en préparation",
    ):
        assert extractor.extract(message).stage == "creation", message
    # A month with a year is a date, not a recent birth.
    assert extractor.extract("association créée en janvier 2009").stage != "creation"


def test_a_persons_years_in_a_place_are_not_a_structures_age() -> None:
    today = date(2026, 11, 30)
    assert structure_age("je suis a auxerre depuis 2022. je suis cuisiniere", today) is None
    assert structure_age("j'habite la creuse depuis dix ans", today) is None
    said = "on est a brest depuis 3 ans, notre asso a ete creee en 2015"
    assert structure_age(said, today) == 11.0
    assert structure_age("la scop est installee a tulle depuis 2019") is not None


def test_fear_of_layoffs_is_consolidation(extractor: Extractor) -> None:
    said = "un gros client nous lâche en mars, sinon on devra licencier"
    assert extractor.extract(said).stage == "consolidation"


def test_a_structure_being_founded_is_not_yet_who_speaks(extractor: Extractor) -> None:
    # Named as if it existed, but not registered yet: its founders speak.
    for said in (
        "on fait l'assemblée constitutive de notre association samedi prochain",
        "on écrit les statuts de notre asso de covoiturage",
        "on monte une asso de baby-sitting solidaire, statuts presque finis",
    ):
        assert extractor.extract(said).profile == "collectif", said
    assert extractor.extract("je rédige les statuts de ma SAS").profile == "individuel"
    # Registered: it is who speaks.
    said = "notre association est déclarée, l'assemblée constitutive a eu lieu en mai"
    assert extractor.extract(said).profile == "association"


@pytest.mark.parametrize(
    ("said", "stage"),
    [
        # A structure's own daily work is not its creation (review of session 8).
        ("notre asso de 3 salariés, on monte un dossier de subvention", None),
        ("notre asso, on vient de déposer un dossier FSE", None),
        ("nous sommes en activité depuis 2012, la tréso est tendue", "consolidation"),
    ],
)
def test_daily_work_is_not_a_birth(extractor: Extractor, said: str, stage: str | None) -> None:
    assert extractor.extract(said).stage == stage


def test_a_registered_structure_changing_its_statutes_still_speaks(extractor: Extractor) -> None:
    assert extractor.extract("notre association, modification des statuts en cours").profile == (
        "association"
    )
    said = "association employeuse, pas encore déclaré la nouvelle salariée"
    assert extractor.extract(said).profile == "association-employeuse"


def test_what_is_told_before_a_question_still_speaks(extractor: Extractor) -> None:
    # one sentence that tells a wish, then asks: the wish counts
    told = extractor.extract("jveux me lancer ds la permaculture vers Niort, y a des formations?")
    assert told.stage == "emergence"
    # a question about associations is not a person saying they have one
    asked = extractor.extract("Une association de loi 1901, est-ce que ça peut embaucher ?")
    assert asked.profile is None


def test_a_board_role_speaks_for_an_association(extractor: Extractor) -> None:
    said = extractor.extract("je suis trésorier bénévole d'une ressourcerie, on a cinq salariés")
    assert (said.profile, said.employees) == ("association", 5)  # an employing association


def test_an_option_or_a_how_to_is_not_the_form_one_has(extractor: Extractor) -> None:
    option = extractor.extract("rien de créé, faudrait savoir si on fait une asso ou autre chose")
    assert option.profile != "association" and "association" in option.planned
    how_to = extractor.extract("je voudrais apprendre comment on gère une association")
    assert how_to.profile != "association"
    # "on l'a déjà créée" says the planned structure exists
    assert extractor.extract("Enfin créer, on l'a déjà créée en 2022").exists


@pytest.mark.parametrize(
    "said",
    [
        # found by a review: ordinary sentences that are no need
        "on est prêts à démarrer en janvier",
        "quelle est la forme la plus adaptée pour nous ?",
        "je suis diplômée d'un BTS agricole",
        "il n'y a pas de maison de santé dans le village",
        "je cherche une maison d'édition",
        "on aide les personnes à la rue",
        "on se réunit plus souvent",
    ],
)
def test_ordinary_sentences_are_no_need(extractor: Extractor, said: str) -> None:
    assert extractor.extract(said).needs == []


@pytest.mark.parametrize(
    ("said", "count"),
    [
        ("on a 5 salariés, les administrateurs sont tous bénévoles", 5),
        ("il y a plus de salariés que de bénévoles, on a 12 salariés", 12),
        ("on vient de recruter 3 bénévoles", None),
        ("on vient d'engager un service civique", None),
    ],
)
def test_volunteers_beside_a_count_leave_it(
    extractor: Extractor, said: str, count: int | None
) -> None:
    assert extractor.extract(said).employees == count


def test_a_short_first_clause_answers_the_territory_question(extractor: Extractor) -> None:
    answered = extractor.extract("Vesoul. juste une idée, il faut un terrain", "territory")
    assert answered.territory is not None and answered.territory.departement == "70"
    # a town that is a sentence of its own says where, asked or not (session 21: "Asso.
    # Troyes."); a small one may be a signature, and a greeting is no place
    unasked = extractor.extract("Vesoul. juste une idée, il faut un terrain").territory
    assert unasked is not None and unasked.departement == "70"
    assert extractor.extract("Une asso de vélo. Merci. Margaux.").territory is None
    assert extractor.extract("Bonjour, je ne sais pas encore", "territory").territory is None
