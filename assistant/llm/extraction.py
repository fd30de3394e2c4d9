"""Understanding with a chat model: the diagnostic slots of a free message, as structured output.

`LLMExtractor` is the optional `refine` hook of `Extractor`: it asks the model for a
`SlotGuess` (LangChain structured output into a pydantic model) and merges it into the
rule-based `Extraction`. The rules keep the upper hand: the model's stage or profile only adds
evidence, its needs are added to the ones the rules found, and a place or head count is used
only where the rules found none. Anything outside the shared vocabulary, a place that is not
in the message or does not resolve to a territory, is discarded. Any failure leaves the
rule-based extraction untouched.
"""

from __future__ import annotations

import logging

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from assistant.errors import LLMUnavailableError
from assistant.llm.chat import ChatLLM
from assistant.render.composer import Composer
from assistant.territory.index import TerritoryIndex
from assistant.text import normalise
from assistant.understanding.extraction import Extraction
from assistant.understanding.script import DiagnosticScript
from assistant.vocabulary import NEED_LABELS, NEEDS, PROFILE_LABELS, PROFILES, STAGE_LABELS, STAGES

logger = logging.getLogger(__name__)

EXTRACT_SHARE = 0.4  # of the LLM time budget: the turn may still need an answer after this
LLM_EVIDENCE = 1.0  # as much as one ordinary keyword: the rules' strong keywords outweigh it
MIN_WORDS = 3  # a quick reply or a one-word answer is the rules' job
MAX_EMPLOYEES = 100_000


class SlotGuess(BaseModel):
    """What the model reads in one message. Free strings: the code checks the vocabulary."""

    stage: str | None = Field(default=None, description="étape du projet")
    profile: str | None = Field(default=None, description="qui porte le projet")
    needs: list[str] = Field(default_factory=list, description="besoins exprimés")
    sector: str | None = Field(default=None, description="secteur d'activité")
    place: str | None = Field(default=None, description="commune, code postal ou département")
    employees: int | None = Field(default=None, description="nombre de salariés")


class LLMExtractor:
    """The `Extractor.refine` hook: rule-based extraction + the model's reading, merged."""

    def __init__(
        self,
        llm: ChatLLM,
        composer: Composer,
        script: DiagnosticScript,
        territories: TerritoryIndex,
    ) -> None:
        self.llm = llm
        self.composer = composer
        self.script = script
        self.territories = territories

    def __call__(self, message: str, rule: Extraction) -> Extraction:
        if len(message.split()) < MIN_WORDS or rule.dont_know:
            return rule
        guess = self.guess(message)
        return rule if guess is None else self.merge(message, rule, guess)

    def guess(self, message: str) -> SlotGuess | None:
        sectors = self.script.slots["sector"].values if "sector" in self.script.slots else {}
        system = self.composer.render(
            "llm_extract.md.j2",
            part="system",
            stages=[{"value": v, "label": STAGE_LABELS[v]} for v in STAGES],
            profiles=[{"value": v, "label": PROFILE_LABELS[v]} for v in PROFILES],
            needs=[{"value": v, "label": NEED_LABELS[v]} for v in NEEDS],
            sectors=[{"value": v} for v in sectors],
        )
        user = self.composer.render(
            "llm_extract.md.j2", part="user", message=message.replace("</message>", " ")
        )
        try:
            guess = self.llm.structured(
                [SystemMessage(system), HumanMessage(user)],
                SlotGuess,
                self.llm.timeout_seconds * EXTRACT_SHARE,
            )
        except LLMUnavailableError as exc:
            logger.warning(
                "llm extraction skipped, rules only: reason=%s",
                exc.reason,
                extra={"llm_outcome": f"extract-fallback:{exc.reason}"},
            )
            return None
        return guess

    def merge(self, message: str, rule: Extraction, guess: SlotGuess) -> Extraction:
        result = rule.model_copy(deep=True)
        discarded = 0
        allowed = {"stage": STAGES, "profile": PROFILES}
        for slot in ("stage", "profile"):
            value = getattr(guess, slot)
            if value is None:
                continue
            # A question names options, not the project (the rules' own reasoning).
            if value not in allowed[slot] or rule.question:
                discarded += 1
                continue
            evidence = result.evidence.setdefault(slot, {})
            evidence[value] = evidence.get(value, 0.0) + LLM_EVIDENCE
            setattr(result, slot, max(evidence, key=lambda v: evidence[v]))
        for need in guess.needs:
            if need not in NEEDS:
                discarded += 1
            elif need not in result.needs:
                result.needs.append(need)
        if guess.sector is not None and result.sector is None:
            sectors = self.script.slots["sector"].values if "sector" in self.script.slots else {}
            if guess.sector in sectors:
                result.sector = guess.sector
            else:
                discarded += 1
        if guess.employees is not None and result.employees is None:
            if 0 <= guess.employees <= MAX_EMPLOYEES:
                result.employees = guess.employees
            else:
                discarded += 1
        if guess.place and (result.territory is None or result.territory.status == "not_found"):
            place = normalise(guess.place)
            # Only a place the user actually wrote, and one that resolves without doubt.
            resolved = (
                self.territories.resolve(guess.place) if place in normalise(message) else None
            )
            if resolved is not None and resolved.status == "found":
                result.territory = resolved
            else:
                discarded += 1
        logger.info(
            "llm extraction merged: slots=%s discarded=%d",
            ",".join(result.slots_found) or "-",
            discarded,
            extra={"llm_outcome": "extract"},
        )
        return result
