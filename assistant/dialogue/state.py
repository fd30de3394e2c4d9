"""The diagnostic state: what the conversation has learned about the project so far."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from assistant.territory.index import Candidate
from assistant.vocabulary import Need, Profile, Stage

# The slots that describe the project (what scenarios report and channels show first).
PROJECT_SLOTS = (
    "stage",
    "profile",
    "needs",
    "departement",
    "region",
    "commune",
    "employees",
    "sector",
    "context",
    "summary",
)

Context = Literal["rural", "qpv", "urbain", "outre-mer", "montagne"]


class DiagnosticState(BaseModel):
    """Slots of the diagnostic. `None` means not known yet; `unknown` lists slots the user
    said they do not know, so they are not asked again."""

    stage: Stage | None = None
    profile: Profile | None = None
    needs: list[Need] = Field(default_factory=list)
    departement: str | None = None
    region: str | None = None
    commune: str | None = None
    commune_code: str | None = None
    sector: str | None = None
    context: list[Context] = Field(default_factory=list)
    summary: str | None = None
    employees: int | None = None
    speaking_for_client: bool = False  # an adviser describing someone else's project
    # The territory came from a partner's page (/embed), not from the person: any place the
    # person names replaces it.
    territory_preset: bool = False
    # Evidence gathered over the conversation for single-valued slots (slot -> value ->
    # weight): the value with most evidence wins, so one stray word cannot flip a slot.
    evidence: dict[str, dict[str, float]] = Field(default_factory=dict)
    # The strongest a stage was ever said in words (no decay): an established structure that
    # spoke of growing is still developing three messages later.
    stage_peak: dict[str, float] = Field(default_factory=dict)
    # Legal forms named so far only as plans ("on veut créer une asso"), in case a later
    # message says the structure now exists ("les statuts sont déposés").
    planned: dict[str, float] = Field(default_factory=dict)
    # What the person has said of the project so far (their messages that were not
    # questions, joined, capped), and the description classifier's confident reading of it
    # (slot -> value): the reading counts in each decision like one more keyword. Part of the
    # session, erased with it, as the transcript is.
    description: str = ""
    reading: dict[str, str] = Field(default_factory=dict)
    unknown: list[str] = Field(default_factory=list)
    territory_candidates: list[Candidate] = Field(default_factory=list)
    asked: list[str] = Field(default_factory=list)  # slots already asked, in order
    # The last free questions, so a follow-up ("et pour une Scic ?") can be made
    # self-contained by an LLM rewriter; part of the session, erased with it.
    recent_questions: list[str] = Field(default_factory=list)
    last_question: str | None = None  # slot of the question awaiting an answer
    reworded: bool = False  # that question was asked in its `asked_again` wording
    oriented: bool = False  # contacts were proposed at least once
    shown_contacts: list[str] = Field(default_factory=list)  # ids, last orientation shown

    def is_known(self, slot: str) -> bool:
        value = getattr(self, slot, None)
        return bool(value) or slot in self.unknown


# State a turn changes without the person seeing it (evidence decays on every message, the
# story grows): a turn that changed only these taught nothing.
BOOKKEEPING = {
    "asked",
    "last_question",
    "reworded",
    "evidence",
    "recent_questions",
    "description",
    "reading",
    "shown_contacts",
}
