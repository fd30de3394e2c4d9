"""The diagnostic script: a YAML file an accompanier edits, validated into these models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from assistant import yamlfile
from assistant.errors import DiagnosticScriptError, describe
from assistant.vocabulary import NEEDS, PROFILES, STAGES

ASKABLE_SLOTS = ("territory", "profile", "stage", "needs", "employees", "summary")
VOCABULARY: dict[str, tuple[str, ...]] = {"profile": PROFILES, "stage": STAGES, "needs": NEEDS}


class QuickReply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str
    value: str


class Matcher(BaseModel):
    """How a message shows one value of a slot."""

    model_config = ConfigDict(extra="forbid")

    keywords: list[str] = Field(default_factory=list)  # weight 1
    strong_keywords: list[str] = Field(default_factory=list)  # weight 2: nearly decisive
    weak_keywords: list[str] = Field(default_factory=list)  # weight 0.5: a hint
    patterns: list[str] = Field(default_factory=list)
    pattern_weight: float = 1.5
    exclude_phrases: list[str] = Field(default_factory=list)
    # Keywords that count only when another keyword of the same value is also present.
    exclude_keywords_alone: list[str] = Field(default_factory=list)


class Slot(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str | None = None
    # Asked instead of `question` right after a turn that answered something else: the
    # person said more, the same words again would sound as if nothing was heard.
    asked_again: str | None = None
    quick_replies: list[QuickReply] = Field(default_factory=list)
    multiple: bool = False
    values: dict[str, Matcher] = Field(default_factory=dict)
    priority: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _plain_keyword_lists(cls, data: Any) -> Any:
        # `sector: {values: {culture: [musique, …]}}` is shorthand for {keywords: […]}.
        if isinstance(data, dict) and isinstance(data.get("values"), dict):
            data = dict(data)
            data["values"] = {
                k: {"keywords": v} if isinstance(v, list) else v for k, v in data["values"].items()
            }
        return data

    def ordered_values(self) -> list[str]:
        rest = [v for v in self.values if v not in self.priority]
        return [v for v in self.priority if v in self.values] + rest


class Condition(BaseModel):
    """A test on the state used by branches and inferences; every given key must hold."""

    model_config = ConfigDict(extra="forbid")

    profile: list[str] | None = None
    stage: list[str] | None = None
    needs_any: list[str] | None = None
    employees_at_least: int | None = None
    employees_at_most: int | None = None
    # the words so far (evidence, not priors) spoke for one of these stages
    stage_said: list[str] | None = None
    # ... and none of these: an established structure that speaks of growing develops
    stage_not_said: list[str] | None = None
    stage_unknown: bool | None = None


class Branch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    when: Condition
    ask: list[str]


class Inference(BaseModel):
    model_config = ConfigDict(extra="forbid")

    when: Condition
    set: dict[str, str]


class Reinterpretation(BaseModel):
    """Words read differently in a situation: an existing structure that speaks of creating or
    opening something is developing, not being created."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    when: Condition
    slot: str
    from_: str = Field(alias="from")
    to: str


class Prior(BaseModel):
    """Evidence the state itself gives a value when the words are silent or weak
    (e.g. a structure with several employees exists already: consolidation)."""

    model_config = ConfigDict(extra="forbid")

    when: Condition
    slot: str
    value: str
    weight: float = 1.0


class StructureAge(BaseModel):
    """What the age of a structure ("depuis 2011", "ça fait six ans") says of its stage."""

    model_config = ConfigDict(extra="forbid")

    consolidation_from_years: float = Field(default=2, gt=0)
    creation_below_years: float = Field(default=1, gt=0)
    weight: float = Field(default=1.0, gt=0)


class Buttons(BaseModel):
    """The labels of the quick replies every channel offers (pressing one sends its label)."""

    model_config = ConfigDict(extra="forbid")

    contacts: str
    fiche: str
    restart: str


class Messages(BaseModel):
    model_config = ConfigDict(extra="forbid")

    greeting: str
    ready: str
    dont_know_ack: str
    resume: str
    restarted: str
    forgotten: str
    not_understood: str
    nothing_new: str  # after the contacts, a message that changed nothing and asked nothing
    fiche_ready: str
    which_commune: str
    # How a missing slot is named in "Pour affiner, dites-m'en plus sur : …".
    slot_labels: dict[str, str]
    buttons: Buttons
    # How a fact taken from a message is echoed, per slot: "étape : {value}".
    understood: dict[str, str] = Field(default_factory=dict)


class Commands(BaseModel):
    model_config = ConfigDict(extra="forbid")

    restart: list[str]
    contacts: list[str]
    fiche: list[str]
    forget: list[str]
    start: list[str] = Field(default_factory=list)


class HumanEntryPoints(BaseModel):
    """Who a declined question is sent to (ids and kinds of the structure directory)."""

    model_config = ConfigDict(extra="forbid")

    national: list[str] = Field(default_factory=list)
    regional_kinds: list[str] = Field(default_factory=list)


class DiagnosticScript(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int
    messages: Messages
    commands: Commands
    dont_know: list[str]
    human_entry_points: HumanEntryPoints = Field(default_factory=HumanEntryPoints)
    order: list[str]
    branches: list[Branch] = Field(default_factory=list)
    inferences: list[Inference] = Field(default_factory=list)
    priors: list[Prior] = Field(default_factory=list)
    reinterpretations: list[Reinterpretation] = Field(default_factory=list)
    # SMS spellings and abbreviations -> words, read before any keyword (folded, whole words).
    spellings: dict[str, str] = Field(default_factory=dict)
    # Per message, earlier evidence is multiplied by this: what was said last weighs most.
    evidence_decay: float = Field(default=0.75, gt=0, le=1)
    structure_age: StructureAge = Field(default_factory=StructureAge)
    slots: dict[str, Slot]

    @model_validator(mode="after")
    def _consistent(self) -> DiagnosticScript:
        problems: list[str] = []
        asked = [*self.order, *(s for b in self.branches for s in b.ask)]
        for asked_slot in asked:
            if asked_slot not in ASKABLE_SLOTS:
                problems.append(f"'{asked_slot}' cannot be asked (known: {ASKABLE_SLOTS})")
            elif asked_slot not in self.slots or not self.slots[asked_slot].question:
                problems.append(f"slot '{asked_slot}' is asked but has no question")
        for name, allowed in VOCABULARY.items():
            definition = self.slots.get(name)
            if definition is None:
                continue
            for value in [*definition.values, *(q.value for q in definition.quick_replies)]:
                if value not in allowed:
                    problems.append(f"slot '{name}': '{value}' is not in the vocabulary")
        conditions = [b.when for b in self.branches] + [i.when for i in self.inferences]
        conditions += [p.when for p in self.priors]
        for cond in conditions:
            for key, allowed in (("profile", PROFILES), ("stage", STAGES), ("needs_any", NEEDS)):
                for value in getattr(cond, key) or []:
                    if value not in allowed:
                        problems.append(f"condition {key}: '{value}' is not in the vocabulary")
        for prior in self.priors:
            if prior.slot not in VOCABULARY or prior.value not in VOCABULARY[prior.slot]:
                problems.append(f"prior {prior.slot}={prior.value}: not a vocabulary value")
        for rule in self.reinterpretations:
            allowed = VOCABULARY.get(rule.slot, ())
            if rule.from_ not in allowed or rule.to not in allowed:
                problems.append(f"reinterpretation {rule.slot}: not vocabulary values")
        for inference in self.inferences:
            for key, value in inference.set.items():
                if key not in VOCABULARY or value not in VOCABULARY[key]:
                    problems.append(f"inference sets {key}={value}: not a vocabulary value")
        if problems:
            raise ValueError("; ".join(problems))
        return self


def load_script(path: Path) -> DiagnosticScript:
    try:
        data = yamlfile.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yamlfile.YAMLError) as exc:
        raise DiagnosticScriptError(f"{path}: cannot read the diagnostic script: {exc}") from exc
    try:
        return DiagnosticScript.model_validate(data)
    except ValidationError as exc:
        raise DiagnosticScriptError(f"{path}: {describe(exc, 'script')}") from exc
