"""Adviser mode: ESS traits, verdict and orientation for one description, on the real knowledge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.errors import KnowledgeError
from assistant.orientation.adviser import AdviserReport, TraitFinding, load_lexicon
from assistant.runtime import Runtime
from connectors.cli.main import app

INSERTION_GUERET = (
    "Mon client préside une association d'insertion à Guéret, créée en 2012, avec 8 salariés "
    "en parcours. Ils veulent pérenniser leurs emplois et consolider leur modèle."
)
SAS_LYON = (
    "Ma cliente a créé une SAS à Lyon qui emploie des personnes en situation de handicap. "
    "Les décisions se prennent selon le principe une personne une voix et les bénéfices sont "
    "réinvestis dans l'activité."
)
SARL_RESTAURANT = (
    "Le porteur ouvre un restaurant traditionnel à Bordeaux en SARL, il cherche un prêt "
    "bancaire pour financer les travaux."
)
VAGUE_IDEA = "Mon client a une vague idée de projet, il ne sait pas encore quoi."
NEGATIONS = (
    "Ma cliente monte une SAS de conseil à Nantes pour l'insertion des jeunes, mais pas de "
    "gouvernance partagée et on ne réinvestit pas les bénéfices."
)
ALL = [INSERTION_GUERET, SAS_LYON, SARL_RESTAURANT, VAGUE_IDEA, NEGATIONS]


@pytest.fixture(scope="module")
def reports(runtime: Runtime) -> dict[str, AdviserReport]:
    return {text: runtime.adviser.analyse(text) for text in ALL}


def _trait(report: AdviserReport, name: str) -> TraitFinding:
    return next(t for t in report.traits if t.trait == name)


def test_association_d_insertion_in_gueret_is_ess(reports: dict[str, AdviserReport]) -> None:
    report = reports[INSERTION_GUERET]
    assert report.ess_verdict == "ess"
    assert report.for_client
    assert report.stage == "consolidation"
    assert report.departement == "23" and report.region == "75"
    assert _trait(report, "legal_form").status == "observed"
    assert _trait(report, "social_utility").status == "observed"
    kinds = {c.kind for c in report.contacts}
    assert {"dla", "cress"} <= kinds
    assert report.text.startswith("Verdict ESS : Relève de l'ESS")


def test_sas_with_the_three_criteria_is_ess(reports: dict[str, AdviserReport]) -> None:
    # A company whose statutes (as described) hold the 2014 law's three criteria is ESS.
    report = reports[SAS_LYON]
    assert report.ess_verdict == "ess"
    assert report.legal_form_family == "commercial"
    for name in ("social_utility", "democratic_governance", "limited_profit"):
        assert _trait(report, name).status == "observed", name
    assert "ESUS" in report.explanation and "ESUS" in report.text
    assert "agrement-esus" in {s.id for s in report.sources}
    assert report.departement == "69"


def test_classic_sarl_restaurant_is_not_ess(reports: dict[str, AdviserReport]) -> None:
    report = reports[SARL_RESTAURANT]
    assert report.ess_verdict in {"hors-ess", "a-preciser"}
    assert _trait(report, "legal_form").forms == ["SARL"]
    for name in ("social_utility", "democratic_governance", "limited_profit", "esus"):
        assert _trait(report, name).status == "missing", name
    assert report.questions  # what to ask the client about the missing traits


def test_vague_idea_is_to_be_clarified(reports: dict[str, AdviserReport]) -> None:
    report = reports[VAGUE_IDEA]
    assert report.ess_verdict == "a-preciser"
    assert report.legal_form_family == "unknown"
    assert all(t.status != "observed" for t in report.traits)
    assert len(report.questions) == len(report.traits)


def test_negations_are_not_observed(reports: dict[str, AdviserReport]) -> None:
    report = reports[NEGATIONS]
    governance = _trait(report, "democratic_governance")
    profit = _trait(report, "limited_profit")
    assert governance.status == "missing" and governance.evidence
    assert profit.status == "missing" and profit.evidence
    assert _trait(report, "social_utility").status == "observed"
    assert report.ess_verdict == "hors-ess"


@pytest.mark.parametrize(
    ("text", "trait"),
    [
        ("L'association n'a pas de gouvernance partagée.", "democratic_governance"),
        ("Dans cette SAS on ne réinvestit pas les bénéfices.", "limited_profit"),
        ("La SAS n'a pas l'agrément ESUS.", "esus"),
        ("Ce n'est pas une association, c'est une SARL.", "legal_form"),
    ],
)
def test_negated_trait_words(runtime: Runtime, text: str, trait: str) -> None:
    assert _trait(runtime.adviser.analyse(text), trait).status != "observed"


def test_restriction_is_not_a_negation(runtime: Runtime) -> None:
    report = runtime.adviser.analyse("Sa SAS n'emploie que des personnes handicapées.")
    assert _trait(report, "social_utility").status == "observed"


def test_evidence_is_quoted_from_the_description(reports: dict[str, AdviserReport]) -> None:
    for text, report in reports.items():
        for trait in report.traits:
            for fragment in trait.evidence:
                assert fragment in text, (trait.trait, fragment)
                assert 0 < len(fragment) <= 80


def test_sources_are_real_cards(runtime: Runtime, reports: dict[str, AdviserReport]) -> None:
    for report in reports.values():
        ids = [s.id for s in report.sources]
        assert ids and set(ids) <= set(runtime.cards)
        assert len(ids) == len(set(ids))
        for trait in report.traits:
            assert trait.sources and {s.id for s in trait.sources} <= set(runtime.cards)
        for step in report.next_steps:
            assert set(step.cards) <= set(runtime.cards)


def test_lexicon_rejects_unknown_cards(runtime: Runtime, tmp_path: Path) -> None:
    source = runtime.settings.knowledge_dir / "diagnostic" / "ess_traits.yaml"
    broken = tmp_path / "ess_traits.yaml"
    broken.write_text(
        source.read_text(encoding="utf-8").replace("[agrement-esus]", "[carte-inconnue]"),
        encoding="utf-8",
    )
    load_lexicon(source, runtime.cards.keys())
    with pytest.raises(KnowledgeError, match="carte-inconnue"):
        load_lexicon(broken, runtime.cards.keys())


@pytest.mark.parametrize("command", ["conseiller", "adviser"])
def test_cli_json(runtime: Runtime, command: str) -> None:
    result = CliRunner().invoke(
        app,
        [command, SAS_LYON, "--json"],
        env={"AIGUILLAGE_DATA_DIR": str(runtime.settings.data_dir)},
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    report = AdviserReport.model_validate(payload)
    assert report.ess_verdict == "ess"
    assert {"traits", "contacts", "sources", "text", "stage", "departement"} <= set(payload)


def test_cli_text(runtime: Runtime) -> None:
    result = CliRunner().invoke(
        app,
        ["conseiller", INSERTION_GUERET],
        env={"AIGUILLAGE_DATA_DIR": str(runtime.settings.data_dir)},
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Verdict ESS")


def test_social_utility_and_one_more_trait_is_ess_compatible(runtime: Runtime) -> None:
    report = runtime.adviser.analyse(
        "EURL d'auto-école sociale : permis à tarif réduit pour des jeunes en parcours "
        "d'insertion. Le gérant ne se verse pas de dividendes et réinvestit tout le résultat."
    )
    assert _trait(report, "limited_profit").status == "observed"
    assert report.ess_verdict == "ess-compatible"


def test_a_company_with_no_ess_trait_is_not_ess(runtime: Runtime) -> None:
    report = runtime.adviser.analyse(
        "Micro-entrepreneur graphiste, clientèle de PME locales, veut augmenter ses tarifs."
    )
    assert report.ess_verdict == "hors-ess"


def test_a_named_form_is_not_asked_again(runtime: Runtime) -> None:
    report = runtime.adviser.analyse("SAS de livraison à vélo à Lyon, deux associés")
    legal_form = _trait(report, "legal_form")
    assert legal_form.forms == ["SAS"] and legal_form.question is None


def test_refugees_served_and_profits_kept_in_the_company_are_ess_traits(
    runtime: Runtime,
) -> None:
    report = runtime.adviser.analyse(
        "Une SAS à Nantes qui forme des réfugiés au numérique, les salariés votent les grandes "
        "décisions, une personne une voix, et les bénéfices restent dans l'entreprise"
    )
    assert _trait(report, "social_utility").status == "observed"
    assert _trait(report, "limited_profit").status == "observed"
    assert report.ess_verdict == "ess"


@pytest.mark.parametrize(
    ("description", "verdict"),
    [
        # "=" between the two halves of the rule, as advisers write it in notes
        (
            "SAS de mobilier, 5 travailleurs handicapés. Statuts : un associé = une voix, "
            "70 % des bénéfices en réserves impartageables.",
            "ess",
        ),
        ("CUMA de 14 exploitants, achat d'une presse partagée.", "ess"),
        ("SA familiale de transport routier, 60 salariés.", "hors-ess"),
        (
            "SARL qui embauche des jeunes décrocheurs ; les statuts plafonnent les dividendes, "
            "le reste est mis en réserve. Le gérant décide seul.",
            "ess-compatible",
        ),
        (
            "EURL de vente en ligne de produits solidaires, mais les statuts sont standards : "
            "associé unique.",
            "hors-ess",
        ),
    ],
)
def test_verdicts_from_notes(runtime: Runtime, description: str, verdict: str) -> None:
    assert runtime.adviser.analyse(description).ess_verdict == verdict
