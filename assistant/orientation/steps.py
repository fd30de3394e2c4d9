"""Next steps: rules kept as data (knowledge/next_steps.yaml) that turn a diagnosed situation
into a short list of things to do, each backed by cards."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from assistant import yamlfile
from assistant.dialogue.state import DiagnosticState
from assistant.errors import KnowledgeError, describe
from assistant.search.cards import load_cards
from assistant.vocabulary import (
    Need,
    Profile,
    Stage,
)

__all__ = ["NextSteps", "Step", "StepRule", "StepWhen", "effective_profile"]

MAX_STEPS = 6


class StepWhen(BaseModel):
    """When a step applies: a stage or a need (or both), optionally only for some profiles."""

    model_config = ConfigDict(extra="forbid")

    stage: Stage | None = None
    need: Need | None = None
    profiles: list[Profile] = Field(default_factory=list)

    @model_validator(mode="after")
    def _stage_or_need(self) -> StepWhen:
        if self.stage is None and self.need is None:
            raise ValueError("'when' names a stage or a need")
        return self

    def allows(self, profile: str | None) -> bool:
        # A step written for some profiles is not shown while the profile is unknown.
        return not self.profiles or profile in self.profiles


class StepRule(BaseModel):
    """One entry of next_steps.yaml."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    when: StepWhen
    text: str = Field(min_length=1)
    cards: list[str] = Field(min_length=1)


class Step(BaseModel):
    """A next step as shown to the user, with the cards that back it."""

    id: str
    text: str
    cards: list[str]


class NextSteps:
    """The next-step rules, validated against the vocabulary and the card ids."""

    def __init__(self, rules: Sequence[StepRule]) -> None:
        self.rules = list(rules)

    @classmethod
    def from_file(cls, path: Path, card_ids: Collection[str] | None = None) -> NextSteps:
        """Load and validate `path`. Card ids are checked against `card_ids`, or by default
        against the cards in the `cards/` folder next to the file."""
        try:
            data = yamlfile.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yamlfile.YAMLError) as exc:
            raise KnowledgeError(f"{path}: cannot read next steps: {exc}") from exc
        if not isinstance(data, list):
            raise KnowledgeError(f"{path}: next steps are a YAML list of steps")
        if card_ids is None:
            card_ids = {card.id for card in load_cards(path.parent / "cards")}
        known = set(card_ids)
        rules: list[StepRule] = []
        seen: set[str] = set()
        for position, entry in enumerate(data, start=1):
            ident = entry.get("id", f"#{position}") if isinstance(entry, dict) else f"#{position}"
            if not isinstance(entry, dict):
                raise KnowledgeError(f"{path}: step {ident} is not a mapping")
            try:
                rule = StepRule.model_validate(entry)
            except ValidationError as exc:
                raise KnowledgeError(f"{path}: step {ident}: {describe(exc)}") from exc
            if rule.id in seen:
                raise KnowledgeError(f"{path}: step id '{rule.id}' is used twice")
            unknown = [c for c in rule.cards if c not in known]
            if unknown:
                raise KnowledgeError(
                    f"{path}: step {rule.id}: unknown card id(s): {', '.join(unknown)}"
                )
            seen.add(rule.id)
            rules.append(rule)
        return cls(rules)

    def card_ids(self) -> set[str]:
        return {card for rule in self.rules for card in rule.cards}

    def for_state(self, state: DiagnosticState, limit: int = MAX_STEPS) -> list[Step]:
        """Stage steps first, then need steps in the user's order: every need gets its first
        step before any need gets a second one, so a long list of needs is not crowded out."""
        profile = effective_profile(state)
        chosen: list[StepRule] = []
        if state.stage:
            chosen.extend(
                r
                for r in self.rules
                if r.when.stage == state.stage and r.when.need is None and r.when.allows(profile)
            )
        per_need = [
            [
                r
                for r in self.rules
                if r.when.need == need
                and r.when.stage in (None, state.stage)
                and r.when.allows(profile)
            ]
            for need in dict.fromkeys(state.needs)
        ]
        depth = max((len(rules) for rules in per_need), default=0)
        for rank in range(depth):
            chosen.extend(rules[rank] for rules in per_need if rank < len(rules))
        steps: list[Step] = []
        seen: set[str] = set()
        for rule in chosen:
            if rule.id in seen or rule.text in seen:
                continue
            seen.update((rule.id, rule.text))
            steps.append(Step(id=rule.id, text=rule.text, cards=list(rule.cards)))
        return steps[:limit]


def effective_profile(state: DiagnosticState) -> str | None:
    """An association that declares employees is an employing association."""
    if state.profile == "association" and (state.employees or 0) > 0:
        return "association-employeuse"
    return state.profile
