"""What the cards must not answer: a figure that depends on the person, on today's date or on
one local office, a personal legal case. Kept as data (knowledge/answers/limits.yaml) so that
a curator adds a case without Python; each case says why and who can answer instead."""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant import yamlfile
from assistant.errors import KnowledgeError, describe

__all__ = ["Limit", "Limits", "Reason", "load_limits"]


class Reason(BaseModel):
    """Why a question is declined (`say`) and who can answer instead (`ask`)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    say: str
    ask: str


class Limit(Reason):
    patterns: list[str] = Field(min_length=1)
    figure: bool = False  # applies only when the question asks for an amount, rate, ceiling


class Limits(BaseModel):
    model_config = ConfigDict(extra="forbid")

    figure: list[str] = Field(default_factory=list)
    given: list[str] = Field(default_factory=list)  # amounts stated as context, not asked
    limits: list[Limit] = Field(default_factory=list)
    # What is said when no pattern matched but the question reads, by its meaning, as one to
    # decline (declines.yaml, assistant/answers/meaning.py).
    by_meaning: Reason | None = None

    @cached_property
    def _compiled(self) -> tuple[list[re.Pattern[str]], list[tuple[Limit, list[re.Pattern[str]]]]]:
        figure = [re.compile(p) for p in self.figure]
        return figure, [(limit, [re.compile(p) for p in limit.patterns]) for limit in self.limits]

    @cached_property
    def _given(self) -> list[re.Pattern[str]]:
        return [re.compile(p) for p in self.given]

    def find(self, folded_question: str) -> Limit | None:
        """The first limit the question falls under (`folded_question`: normalised, SMS
        spellings written out), or None."""
        figure_patterns, limits = self._compiled
        asked = folded_question
        for given in self._given:
            asked = given.sub(" ", asked)
        asks_figure = any(p.search(asked) for p in figure_patterns)
        for limit, patterns in limits:
            if limit.figure and not asks_figure:
                continue
            if any(p.search(folded_question) for p in patterns):
                return limit
        return None


def load_limits(path: Path) -> Limits:
    try:
        limits = Limits.model_validate(yamlfile.safe_load(path.read_text(encoding="utf-8")))
        limits.find("")  # compile every pattern now: a bad one is the curator's error
    except (OSError, yamlfile.YAMLError, ValidationError, re.error) as exc:
        raise KnowledgeError(f"{path}: {describe(exc, 'limits')}") from exc
    return limits
