"""Orientation engine against the shipped directory, cards, territories and next steps."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest
import yaml

from assistant.dialogue.state import DiagnosticState
from assistant.errors import KnowledgeError
from assistant.orientation.contacts import (
    MAX_STEPS,
    NextSteps,
    Orientation,
    OrientationResult,
    StepRule,
)
from assistant.orientation.directory import Structure, load_directory
from assistant.render.composer import Composer
from assistant.search.cards import load_cards
from assistant.territory.index import TerritoryIndex, load_territories
from assistant.vocabulary import NEEDS, PROFILES, STAGES

ROOT = Path(__file__).resolve().parent.parent.parent
KNOWLEDGE = ROOT / "knowledge"
NEXT_STEPS = KNOWLEDGE / "next_steps.yaml"
EMPLOYING = ("association-employeuse", "siae", "scop-scic")


@pytest.fixture(scope="module")
def structures() -> list[Structure]:
    return load_directory(KNOWLEDGE / "structures")


@pytest.fixture(scope="module")
def card_ids() -> set[str]:
    return {card.id for card in load_cards(KNOWLEDGE / "cards")}


@pytest.fixture(scope="module")
def territories() -> TerritoryIndex:
    return load_territories(KNOWLEDGE / "territories" / "territories.json.gz")


@pytest.fixture(scope="module")
def next_steps() -> NextSteps:
    return NextSteps.from_file(NEXT_STEPS)


@pytest.fixture(scope="module")
def engine(
    structures: list[Structure], territories: TerritoryIndex, next_steps: NextSteps
) -> Orientation:
    cards = {card.id: card for card in load_cards(KNOWLEDGE / "cards")}
    return Orientation(structures, cards, territories, Composer(ROOT / "prompts"), next_steps)


def ids(result: OrientationResult) -> list[str]:
    return [c.id for c in result.contacts]


def by_id(structures: list[Structure]) -> dict[str, Structure]:
    return {s.id: s for s in structures}


def covers(entry: Structure, dep: str | None, region: str | None) -> bool:
    c = entry.coverage
    return c.national or (dep in c.departements) or (region in c.regions)


def fits(entry: Structure, state: DiagnosticState) -> bool:
    stage_ok = state.stage is None or state.stage in entry.stages
    profile_ok = state.profile is None or not entry.profiles or state.profile in entry.profiles
    return stage_ok and profile_ok


# --------------------------------------------------------------------------- local entry points


def test_employing_association_in_creuse_gets_its_dla_and_cress(engine: Orientation) -> None:
    state = DiagnosticState(
        stage="consolidation",
        profile="association-employeuse",
        needs=["financement", "emploi-rh"],
        departement="23",
        employees=4,
    )
    result = engine.recommend(state)
    found = ids(result)
    assert "dla-23" in found
    assert "cress-75" in found
    assert [c.id for c in result.contacts if c.kind == "dla"] == ["dla-23"]
    dla = next(c for c in result.contacts if c.id == "dla-23")
    assert dla.territory_level == "departement"
    # The why speaks to this person (an employer who consolidates), not the filters again.
    assert "employeur" in dla.why and "« financement »" in dla.why
    assert "DLA" not in dla.why and "Creuse" not in dla.why
    assert dla.why.count(".") == 1 and "\n" not in dla.why and len(dla.why.split()) <= 30
    assert dla.what and "employeuses" in dla.what


def test_association_with_employees_counts_as_employing(engine: Orientation) -> None:
    state = DiagnosticState(
        stage="consolidation", profile="association", employees=2, departement="23"
    )
    assert "dla-23" in ids(engine.recommend(state))


def test_individual_with_an_idea_in_rennes(
    engine: Orientation, structures: list[Structure]
) -> None:
    state = DiagnosticState(
        stage="emergence",
        profile="individuel",
        needs=["modele-economique"],
        departement="35",
        commune="Rennes",
        commune_code="35238",
    )
    result = engine.recommend(state)
    assert all(c.kind != "dla" for c in result.contacts)
    assert "cress-53" in ids(result)
    collectives = [
        s.id for s in structures if s.kind == "orientation" and "53" in s.coverage.regions
    ]
    if collectives:
        assert set(collectives) & set(ids(result))


@pytest.mark.parametrize("dep", ["2A", "2B", "974", "971", "976"])
def test_overseas_and_corsica_get_their_own_cress_and_dla(
    engine: Orientation, structures: list[Structure], territories: TerritoryIndex, dep: str
) -> None:
    region = territories.region_of(dep)
    state = DiagnosticState(stage="consolidation", profile="siae", departement=dep)
    result = engine.recommend(state)
    own_cress = {s.id for s in structures if s.kind == "cress" and region in s.coverage.regions}
    own_dla = {s.id for s in structures if s.kind == "dla" and dep in s.coverage.departements}
    assert own_cress and own_dla, "the directory has a CRESS and a DLA for every région"
    assert own_cress & set(ids(result))
    assert [c.id for c in result.contacts if c.kind == "dla"] == sorted(own_dla)


def test_lowercase_departement_code_is_understood(engine: Orientation) -> None:
    state = DiagnosticState(stage="developpement", profile="scop-scic", departement="2a")
    assert "dla-2a" in ids(engine.recommend(state))


def test_unknown_territory_falls_back_to_national(
    engine: Orientation, structures: list[Structure]
) -> None:
    entries = by_id(structures)
    for stage, profile in itertools.product([None, *STAGES], [None, *PROFILES]):
        state = DiagnosticState.model_validate({"stage": stage, "profile": profile})
        result = engine.recommend(state)
        assert "territoire" in result.missing
        assert result.contacts
        for contact in result.contacts:
            assert entries[contact.id].coverage.national
            assert contact.territory_level == "national"


def test_missing_commune_only_when_a_commune_level_entry_exists(engine: Orientation) -> None:
    # The Rennes area has entries that cover a list of communes; the Creuse has none.
    rennes = engine.recommend(DiagnosticState(stage="creation", departement="35"))
    assert "commune" in rennes.missing
    creuse = engine.recommend(DiagnosticState(stage="creation", departement="23"))
    assert "commune" not in creuse.missing
    full = DiagnosticState(
        stage="creation",
        profile="collectif",
        needs=["local"],
        departement="35",
        commune="Rennes",
        commune_code="35238",
    )
    assert engine.recommend(full).missing == []


def test_region_only_asks_for_the_departement(engine: Orientation) -> None:
    result = engine.recommend(DiagnosticState(stage="creation", region="53"))
    assert "departement" in result.missing and "territoire" not in result.missing
    assert "cress-53" in ids(result)
    assert all(c.territory_level in ("region", "national") for c in result.contacts)


# --------------------------------------------------------------------------- sweep


SWEEP_DEPS = [None, "23", "35", "33", "2A", "974", "75", "13", "69", "25", "34", "44"]


def sweep_states() -> list[DiagnosticState]:
    needs_options: list[list[str]] = [[], ["financement", "emploi-rh"], ["local", "reseau"]]
    return [
        DiagnosticState.model_validate(
            {"stage": stage, "profile": profile, "departement": dep, "needs": needs}
        )
        for dep in SWEEP_DEPS
        for stage in [None, *STAGES]
        for profile in [None, *PROFILES]
        for needs in needs_options
    ]


def test_sweep_invariants(
    engine: Orientation, structures: list[Structure], territories: TerritoryIndex
) -> None:
    entries = by_id(structures)
    for state in sweep_states():
        result = engine.recommend(state)
        region = territories.region_of(state.departement) if state.departement else None
        eligible = [s for s in structures if covers(s, state.departement, region)]
        fitting = [s for s in eligible if fits(s, state)]
        label = f"{state.departement} {state.stage} {state.profile} {state.needs}"

        # 2–5 contacts whenever two eligible entries exist; never one that does not exist.
        assert len(result.contacts) <= 5, label
        if len(fitting) >= 2:
            assert len(result.contacts) >= 2, label
        assert len(set(ids(result))) == len(result.contacts), label
        for contact in result.contacts:
            assert contact.id in entries, label
            assert covers(entries[contact.id], state.departement, region), label

        # Never two DLA, never a DLA for someone alone at the idea or creation stage.
        kinds = [c.kind for c in result.contacts]
        assert kinds.count("dla") <= 1, label
        if state.profile in ("individuel", "collectif") and state.stage in (
            "emergence",
            "creation",
        ):
            assert "dla" not in kinds, label
        if state.departement:
            for contact in result.contacts:
                if contact.kind == "dla":
                    dla = entries[contact.id]
                    assert not dla.coverage.departements or (
                        state.departement in dla.coverage.departements
                    ), label

        # Diversity: a kind repeats only once every fitting kind has a slot.
        if len(set(kinds)) < len(kinds):
            assert {s.kind for s in fitting} <= set(kinds), label

        # Ranked by score, ties by id.
        keys = [(-c.score, c.id) for c in result.contacts]
        assert keys == sorted(keys), label

        # Local entry points: the region's CRESS when a CRESS of the region exists.
        if region and any(
            s.kind == "cress" and region in s.coverage.regions and fits(s, state) for s in eligible
        ):
            assert any(c.kind == "cress" for c in result.contacts), label

        assert len(result.next_steps) <= MAX_STEPS, label


def test_employing_structures_always_get_their_departements_dla(
    engine: Orientation, structures: list[Structure]
) -> None:
    for dep, stage, profile in itertools.product(
        ["01", "23", "35", "59", "2B", "972"], ["consolidation", "developpement"], EMPLOYING
    ):
        state = DiagnosticState.model_validate(
            {"stage": stage, "profile": profile, "departement": dep}
        )
        result = engine.recommend(state)
        own = [s.id for s in structures if s.kind == "dla" and dep in s.coverage.departements]
        assert [c.id for c in result.contacts if c.kind == "dla"] == own, (dep, stage, profile)


def test_orientation_collective_at_emergence_and_creation(
    engine: Orientation, structures: list[Structure], territories: TerritoryIndex
) -> None:
    collectives = [s for s in structures if s.kind == "orientation" and not s.coverage.national]
    assert collectives
    for entry in collectives:
        for region in entry.coverage.regions:
            dep = territories.departements_of(region)[0]
            for stage in ("emergence", "creation"):
                state = DiagnosticState(stage=stage, profile="collectif", departement=dep)
                result = engine.recommend(state)
                assert any(c.kind == "orientation" for c in result.contacts), (region, stage)


# --------------------------------------------------------------------------- grounding


def test_contact_fields_come_from_the_directory(
    engine: Orientation, structures: list[Structure]
) -> None:
    entries = by_id(structures)
    for state in sweep_states()[::7]:
        for contact in engine.recommend(state).contacts:
            entry = entries[contact.id]
            assert contact.name == entry.name
            assert contact.kind == entry.kind
            assert contact.how_to_reach == entry.how_to_reach
            assert contact.carrier == entry.carrier
            assert contact.verified == entry.verified
            assert contact.contact.model_dump() == entry.contact.model_dump()
            assert set(contact.contact.model_dump()) == {
                "website",
                "site_page",
                "email",
                "phone",
                "address",
            }
            assert [s.model_dump() for s in contact.sources] == [
                s.model_dump() for s in entry.sources
            ]
            assert [ref.id for ref in contact.cards] == entry.cards
            # The sentence never carries contact details: those live in `contact` only.
            for value in entry.contact.model_dump().values():
                if value:
                    assert value not in contact.why


def test_guides_back_contacts_and_steps(engine: Orientation) -> None:
    state = DiagnosticState(
        stage="creation", profile="collectif", needs=["juridique", "local"], departement="44"
    )
    result = engine.recommend(state)
    guide_ids = [g.id for g in result.guides]
    assert len(guide_ids) == len(set(guide_ids))
    for contact in result.contacts:
        assert {ref.id for ref in contact.cards} <= set(guide_ids)
    for step in result.next_steps:
        assert set(step.cards) <= set(guide_ids)
    assert all(g.title and g.origin for g in result.guides)


def test_deterministic(engine: Orientation, structures: list[Structure]) -> None:
    state = DiagnosticState(stage="developpement", profile="entreprise", departement="69")
    first = engine.recommend(state)
    assert engine.recommend(state) == first
    shuffled = list(structures)
    random.Random(7).shuffle(shuffled)
    other = Orientation(
        shuffled, engine.cards, engine.territories, engine.composer, engine.next_steps
    )
    assert other.recommend(state) == first


def test_limit_is_respected(engine: Orientation) -> None:
    state = DiagnosticState(stage="creation", profile="individuel", departement="35")
    assert len(engine.recommend(state, limit=3).contacts) == 3
    assert len(engine.recommend(state, limit=50).contacts) == 5


# --------------------------------------------------------------------------- next steps


def test_next_steps_file_is_complete_and_grounded(
    next_steps: NextSteps, card_ids: set[str]
) -> None:
    assert next_steps.card_ids() <= card_ids
    for stage, profile in itertools.product(STAGES, [None, *PROFILES]):
        state = DiagnosticState.model_validate({"stage": stage, "profile": profile})
        assert 2 <= len(next_steps.for_state(state)) <= 3, (stage, profile)
    for need, profile in itertools.product(NEEDS, [None, *PROFILES]):
        state = DiagnosticState.model_validate({"needs": [need], "profile": profile})
        assert 1 <= len(next_steps.for_state(state)) <= 2, (need, profile)


def test_next_steps_order_and_limit(engine: Orientation, next_steps: NextSteps) -> None:
    rules = {rule.id: rule for rule in next_steps.rules}
    state = DiagnosticState(
        stage="creation",
        profile="association",
        needs=["local", "financement", "impact", "numerique", "gouvernance"],
        departement="87",
    )
    steps = engine.recommend(state).next_steps
    assert len(steps) == MAX_STEPS
    assert len({s.id for s in steps}) == len(steps)
    whens = [rules[s.id].when for s in steps]
    stage_part = [w for w in whens if w.need is None]
    assert whens[: len(stage_part)] == stage_part  # stage steps first
    need_order = [w.need for w in whens if w.need is not None]
    assert need_order == sorted(need_order, key=state.needs.index)
    assert all(rules[s.id].text == s.text for s in steps)


def test_profile_restricted_steps(next_steps: NextSteps) -> None:
    employing = next_steps.for_state(
        DiagnosticState(stage="consolidation", profile="association-employeuse")
    )
    alone = next_steps.for_state(DiagnosticState(stage="consolidation", profile="individuel"))
    assert "consolidation-dla" in [s.id for s in employing]
    assert "consolidation-dla" not in [s.id for s in alone]


def write_steps(tmp_path: Path, steps: list[dict[str, object]]) -> Path:
    path = tmp_path / "next_steps.yaml"
    path.write_text(yaml.safe_dump(steps, allow_unicode=True), encoding="utf-8")
    return path


VALID: dict[str, object] = {
    "id": "ok",
    "when": {"need": "financement"},
    "text": "Un texte.",
    "cards": ["c1"],
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"when": {"need": "argent"}}, "need"),
        ({"when": {"stage": "idee"}}, "stage"),
        ({"when": {"need": "financement", "profiles": ["startup"]}}, "profiles"),
        ({"when": {}}, "stage or a need"),
        ({"cards": ["carte-inexistante"]}, "carte-inexistante"),
        ({"cards": []}, "cards"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_invalid_next_steps_raise(tmp_path: Path, change: dict[str, object], message: str) -> None:
    path = write_steps(tmp_path, [{**VALID, **change}])
    with pytest.raises(KnowledgeError, match=message):
        NextSteps.from_file(path, card_ids={"c1"})


def test_duplicate_step_ids_and_bad_shapes_raise(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError, match="twice"):
        NextSteps.from_file(write_steps(tmp_path, [VALID, VALID]), card_ids={"c1"})
    path = tmp_path / "bad.yaml"
    path.write_text("id: not-a-list\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match="list"):
        NextSteps.from_file(path, card_ids={"c1"})


def test_default_card_check_uses_the_cards_folder(tmp_path: Path) -> None:
    # An empty cards/ folder next to the file: every card id is unknown.
    (tmp_path / "cards").mkdir()
    with pytest.raises(KnowledgeError, match="c1"):
        NextSteps.from_file(write_steps(tmp_path, [VALID]))


def test_engine_refuses_steps_citing_unknown_cards(engine: Orientation) -> None:
    steps = NextSteps([StepRule.model_validate({**VALID, "cards": ["absente"]})])
    with pytest.raises(KnowledgeError, match="absente"):
        Orientation(engine.structures, engine.cards, engine.territories, engine.composer, steps)


def test_closed_structures_are_never_proposed(
    engine: Orientation, structures: list[Structure]
) -> None:
    closed = [s for s in structures if s.status == "closed"]
    assert closed, "the directory should mark the liquidated CRESS Normandie as closed"
    for entry in closed:
        for departement in entry.coverage.departements or ["14", "76"]:
            for stage in ("emergence", "consolidation"):
                state = DiagnosticState(
                    departement=departement,
                    region=entry.coverage.regions[0] if entry.coverage.regions else None,
                    stage=stage,
                    profile="association-employeuse",
                )
                assert entry.id not in ids(engine.recommend(state))
