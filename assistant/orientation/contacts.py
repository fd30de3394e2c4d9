"""Orientation: from a diagnostic state to local contacts, next steps and the guides behind them.

Ranking, in short (details on :meth:`Orientation.recommend`):

1. An entry is eligible when its coverage contains the user's territory; the most local level
   that matches (commune, département, region, national) sets a base score.
2. Stage, profile and needs add to it. An entry whose stages *and* profiles both exclude the
   user is never shown (the DLA for a person alone with an idea); one mismatch only makes it a
   last resort, used to reach two contacts.
3. The local entry points are always kept when they fit: the département's DLA for an employing
   structure that consolidates or develops, the region's CRESS, the regional orientation
   collective at emergence or creation.
4. Kinds are diversified: no kind twice before every kind in the pool had a slot, never two DLA.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from assistant.answers.answering import SourceRef, source_ref
from assistant.dialogue.state import DiagnosticState
from assistant.errors import KnowledgeError
from assistant.orientation.directory import Contact, Structure, StructureSource
from assistant.orientation.reach import Finder, Reach
from assistant.orientation.steps import (
    MAX_STEPS,
    NextSteps,
    Step,
    StepRule,
    StepWhen,
    effective_profile,
)
from assistant.render.composer import Composer
from assistant.search.cards import Card
from assistant.territory.index import TerritoryIndex
from assistant.vocabulary import (
    KIND_LABELS,
    NEED_LABELS,
)

__all__ = [
    "MAX_CONTACTS",
    "MAX_STEPS",
    "MIN_CONTACTS",
    "NextSteps",
    "Orientation",
    "OrientationResult",
    "Recommendation",
    "Step",
    "StepRule",
    "StepWhen",
    "TerritoryLevel",
]

TerritoryLevel = Literal["commune", "departement", "region", "national"]

MIN_CONTACTS = 2
MAX_CONTACTS = 5

# Base score per coverage level: a more local entry wins over a wider one at equal fit.
LEVEL_SCORES: dict[str, float] = {"commune": 40, "departement": 30, "region": 20, "national": 10}
STAGE_FIT = 10.0
PROFILE_FIT = 10.0
NEED_FIT = 5.0  # per need of the user the entry works on
MAX_NEED_MATCHES = 4
NEED_PRECISION = 5.0  # times the share of the entry's needs that match: specialists first
MISMATCH_PENALTY = 100.0
# At equal fit, a contact the person can reach (own site, e-mail, phone, or a finder) first;
# smaller than any fit unit, so it never outweighs what fits the person.
REACHABLE_BONUS = 1.0

EMPLOYING_PROFILES: frozenset[str] = frozenset({"association-employeuse", "siae", "scop-scic"})
DLA_STAGES: frozenset[str] = frozenset({"consolidation", "developpement"})
ORIENTATION_STAGES: frozenset[str] = frozenset({"emergence", "creation"})
# Profile names that keep their capital inside a sentence.
_PROPER_PROFILE_WORDS = frozenset({"Scop"})


# --------------------------------------------------------------------------- results


class Recommendation(BaseModel):
    """One contact: who, why it fits, how to reach it, and only what the directory sources."""

    id: str
    name: str
    kind: str
    kind_label: str
    what: str = ""  # what it is, in a few words
    why: str  # one short sentence: why it fits this person
    how_to_reach: str
    contact: Contact
    finder: Finder | None = None  # a way in when `contact` has no site, e-mail or phone
    carrier: str | None
    verified: bool
    sources: list[StructureSource]
    cards: list[SourceRef]
    score: float
    territory_level: TerritoryLevel
    needs: list[str] = []  # the person's needs this contact helps with (vocabulary ids)


class OrientationResult(BaseModel):
    contacts: list[Recommendation]
    next_steps: list[Step]
    guides: list[SourceRef]
    missing: list[str]  # slots still unknown that would sharpen the result


@dataclass(frozen=True, slots=True)
class _Place:
    departement: str | None
    region: str | None
    commune_code: str | None
    commune_name: str | None

    @property
    def known(self) -> bool:
        return bool(self.departement or self.region)


@dataclass(frozen=True, slots=True)
class _Candidate:
    entry: Structure
    level: TerritoryLevel
    score: float
    mismatches: int
    needs: tuple[str, ...]  # the user's needs the entry works on, in the user's order
    stage_fit: bool
    profile_fit: bool

    @property
    def key(self) -> tuple[float, str]:
        return (-self.score, self.entry.id)


def _is_employing(state: DiagnosticState) -> bool:
    return effective_profile(state) in EMPLOYING_PROFILES or (state.employees or 0) > 0


def lower_label(label: str) -> str:
    """A vocabulary label inside a sentence: no capital, no parenthesised gloss."""
    label = label.split(" (", 1)[0]
    first = label.split(" ", 1)[0]
    return label if first in _PROPER_PROFILE_WORDS else label[:1].lower() + label[1:]


# --------------------------------------------------------------------------- engine


class Orientation:
    """Ranks directory entries for a diagnostic state and gathers next steps and guides."""

    def __init__(
        self,
        structures: list[Structure],
        cards: dict[str, Card],
        territories: TerritoryIndex,
        composer: Composer,
        next_steps: NextSteps,
        reach: Reach | None = None,
    ) -> None:
        self.reach = reach
        missing = sorted(next_steps.card_ids() - cards.keys())
        if missing:
            raise KnowledgeError(f"next steps cite unknown card id(s): {', '.join(missing)}")
        self.structures = sorted(structures, key=lambda s: s.id)
        self.cards = cards
        self.territories = territories
        self.composer = composer
        self.next_steps = next_steps

    # ------------------------------------------------------------------ public

    def recommend(self, state: DiagnosticState, limit: int = MAX_CONTACTS) -> OrientationResult:
        limit = max(MIN_CONTACTS, min(limit, MAX_CONTACTS))
        place = self._place(state)
        candidates = [c for s in self.structures if (c := self._candidate(s, state, place))]
        fit = sorted((c for c in candidates if c.mismatches == 0), key=lambda c: c.key)
        fallback = sorted((c for c in candidates if c.mismatches == 1), key=lambda c: c.key)

        chosen = self._select(fit, self._pinned(fit, state, place), limit)
        if len(chosen) < MIN_CONTACTS:
            chosen = self._fill(chosen, fallback, MIN_CONTACTS)
        chosen.sort(key=lambda c: c.key)

        contacts = [self._recommendation(c, state, place) for c in chosen]
        steps = self.next_steps.for_state(state)
        guide_ids = [ref.id for r in contacts for ref in r.cards]
        guide_ids += [card for step in steps for card in step.cards]
        guides = [source_ref(self.cards[g]) for g in dict.fromkeys(guide_ids) if g in self.cards]
        return OrientationResult(
            contacts=contacts,
            next_steps=steps,
            guides=guides,
            missing=self._missing(state, place),
        )

    # ------------------------------------------------------------------ territory

    def _place(self, state: DiagnosticState) -> _Place:
        departement = state.departement.strip().upper() if state.departement else None
        if departement and departement.isdigit() and len(departement) == 1:
            departement = "0" + departement
        region = (self.territories.region_of(departement) if departement else None) or (
            state.region or None
        )
        commune_name = state.commune
        if state.commune_code and not commune_name:
            found = self.territories.commune(state.commune_code)
            commune_name = found[0] if found else None
        return _Place(departement, region, state.commune_code, commune_name)

    @staticmethod
    def _level(entry: Structure, place: _Place) -> TerritoryLevel | None:
        coverage = entry.coverage
        if place.commune_code and place.commune_code in coverage.communes:
            return "commune"
        if place.departement and place.departement in coverage.departements:
            return "departement"
        if place.region and place.region in coverage.regions:
            return "region"
        return "national" if coverage.national else None

    # ------------------------------------------------------------------ scoring

    def _reachable(self, entry: Structure, place: _Place) -> bool:
        if self.reach is None:
            return bool(entry.contact.way_in())
        return self.reach.reachable(entry, place.region)

    def _candidate(
        self, entry: Structure, state: DiagnosticState, place: _Place
    ) -> _Candidate | None:
        if entry.status == "closed":
            return None
        level = self._level(entry, place)
        if level is None:
            return None
        profile = effective_profile(state)
        stage_fit = state.stage is not None and state.stage in entry.stages
        profile_fit = profile is not None and profile in entry.profiles
        stage_miss = state.stage is not None and not stage_fit
        profile_miss = profile is not None and bool(entry.profiles) and not profile_fit
        mismatches = int(stage_miss) + int(profile_miss)
        if mismatches == 2:
            return None  # wrong stage and wrong public: never, even as a last resort
        needs = tuple(n for n in dict.fromkeys(state.needs) if n in entry.needs)
        score = LEVEL_SCORES[level]
        score += STAGE_FIT * stage_fit + PROFILE_FIT * profile_fit
        score += NEED_FIT * min(len(needs), MAX_NEED_MATCHES)
        if needs and entry.needs:
            score += NEED_PRECISION * len(needs) / len(entry.needs)
        score -= MISMATCH_PENALTY * mismatches
        if self._reachable(entry, place):
            score += REACHABLE_BONUS
        return _Candidate(entry, level, round(score, 2), mismatches, needs, stage_fit, profile_fit)

    # ------------------------------------------------------------------ selection

    @staticmethod
    def _pinned(fit: list[_Candidate], state: DiagnosticState, place: _Place) -> list[_Candidate]:
        """The local entry points that must be shown when they exist and fit."""
        pinned: list[_Candidate] = []

        def best(kind: str, local: bool, region: str | None = None) -> None:
            for c in fit:  # already ranked
                if c.entry.kind != kind or (local and c.level == "national"):
                    continue
                if region and region not in c.entry.coverage.regions:
                    continue
                pinned.append(c)
                return

        if _is_employing(state) and state.stage in DLA_STAGES:
            best("dla", local=False)  # the département's DLA ranks first when it exists
        if state.stage in ORIENTATION_STAGES:
            best("orientation", local=True)
        if place.region:
            before = len(pinned)
            best("cress", local=True, region=place.region)
            if len(pinned) == before:
                best("cress", local=True)
        return pinned

    @staticmethod
    def _select(fit: list[_Candidate], pinned: list[_Candidate], limit: int) -> list[_Candidate]:
        chosen = list(pinned[:limit])
        ids = {c.entry.id for c in chosen}
        kinds = {c.entry.kind for c in chosen}
        # First pass: one slot per kind, best first. Second pass: the rest, never a second DLA.
        for second_pass in (False, True):
            for c in fit:
                if len(chosen) >= limit:
                    return chosen
                kind = c.entry.kind
                if c.entry.id in ids or (kind in kinds and (not second_pass or kind == "dla")):
                    continue
                chosen.append(c)
                ids.add(c.entry.id)
                kinds.add(kind)
        return chosen

    @staticmethod
    def _fill(chosen: list[_Candidate], pool: Iterable[_Candidate], size: int) -> list[_Candidate]:
        result = list(chosen)
        for c in pool:
            if len(result) >= size:
                break
            if c.entry.kind == "dla" and any(r.entry.kind == "dla" for r in result):
                continue
            result.append(c)
        return result

    # ------------------------------------------------------------------ rendering

    def _recommendation(
        self, c: _Candidate, state: DiagnosticState, place: _Place
    ) -> Recommendation:
        entry = c.entry
        return Recommendation(
            id=entry.id,
            name=entry.name,
            kind=entry.kind,
            kind_label=KIND_LABELS[entry.kind],
            what=self.composer.render(
                "what.md.j2", kind=entry.kind, kind_label=KIND_LABELS[entry.kind]
            ),
            why=self._why(c, state, place),
            how_to_reach=entry.how_to_reach,
            contact=entry.contact.model_copy(),
            finder=self.reach.way_in(entry, place.region) if self.reach else None,
            carrier=entry.carrier,
            verified=entry.verified,
            sources=[s.model_copy() for s in entry.sources],
            cards=[source_ref(self.cards[card]) for card in entry.cards if card in self.cards],
            score=c.score,
            territory_level=c.level,
            needs=list(c.needs),
        )

    def _why(self, c: _Candidate, state: DiagnosticState, place: _Place) -> str:
        place_name = {
            "commune": place.commune_name,
            "departement": self.territories.departement_name(place.departement or ""),
            "region": self.territories.region_name(place.region or ""),
            "national": None,
        }[c.level]
        profile = effective_profile(state)
        return self.composer.render(
            "why.md.j2",
            kind=c.entry.kind,
            level=c.level,
            place=place_name,
            employer=profile in EMPLOYING_PROFILES or bool(state.employees),
            stage=state.stage,
            needs=[lower_label(NEED_LABELS[n]) for n in c.needs],
        )

    def _missing(self, state: DiagnosticState, place: _Place) -> list[str]:
        missing: list[str] = []
        if not place.known:
            missing.append("territoire")
        elif not place.departement:
            missing.append("departement")
        elif not place.commune_code and self._has_commune_entries(place.departement):
            missing.append("commune")
        if state.stage is None:
            missing.append("stage")
        if state.profile is None:
            missing.append("profile")
        if not state.needs:
            missing.append("needs")
        return missing

    def _has_commune_entries(self, departement: str) -> bool:
        """Whether knowing the commune could bring in a very local entry of this département."""
        for entry in self.structures:
            for code in entry.coverage.communes:
                found = self.territories.commune(code)
                if found and found[1] == departement:
                    return True
        return False
