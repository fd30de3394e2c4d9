"""The ESS-traits lexicon of adviser mode, as data (knowledge/diagnostic/ess_traits.yaml):
legal forms and their families, the patterns of each trait with their negations, and the
verdict rules. Loaded and checked here; applied in `adviser.py`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from assistant import yamlfile
from assistant.errors import KnowledgeError, describe
from assistant.text import fold

__all__ = [
    "FormFamily",
    "LegalFamily",
    "RuleWhen",
    "TraitLexicon",
    "TraitName",
    "TraitStatus",
    "Verdict",
    "VerdictRule",
    "compile_pattern",
    "load_lexicon",
]

TraitName = Literal[
    "legal_form", "social_utility", "democratic_governance", "limited_profit", "esus"
]
TraitStatus = Literal["observed", "missing", "unclear"]
Verdict = Literal["ess", "ess-compatible", "hors-ess", "a-preciser"]
FormFamily = Literal["ess", "commercial"]
LegalFamily = Literal["ess", "commercial", "mixed", "unknown"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NegationSpec(_Strict):
    pattern: str
    window: int = Field(ge=1, le=10)
    except_: str | None = Field(default=None, alias="except")


class FormSpec(_Strict):
    label: str
    family: FormFamily
    observed: list[str] = Field(min_length=1)


class FamilySpec(_Strict):
    note: str


class TraitSpec(_Strict):
    label: str
    why: str
    ask: str
    cards: list[str] = Field(min_length=1)
    observed: list[str] = Field(default_factory=list)
    unclear: list[str] = Field(default_factory=list)
    against: list[str] = Field(default_factory=list)
    forms: dict[str, FormSpec] = Field(default_factory=dict)
    families: dict[FormFamily, FamilySpec] = Field(default_factory=dict)


class RuleWhen(_Strict):
    """Conditions of a verdict rule; all must hold (an empty `when` always holds)."""

    legal_form: list[LegalFamily] | None = None
    observed: list[TraitName] = Field(default_factory=list)
    missing: list[TraitName] = Field(default_factory=list)
    unclear: list[TraitName] = Field(default_factory=list)
    not_observed: list[TraitName] = Field(default_factory=list)
    contradicted_any: list[TraitName] = Field(default_factory=list)
    observed_any: list[TraitName] = Field(default_factory=list)


class VerdictRule(_Strict):
    id: str
    verdict: Verdict
    when: RuleWhen
    reason: str
    cards: list[str] = Field(default_factory=list)


class VerdictSpec(_Strict):
    labels: dict[Verdict, str]
    rules: list[VerdictRule] = Field(min_length=1)

    @model_validator(mode="after")
    def _complete(self) -> VerdictSpec:
        if set(self.labels) != set(get_args(Verdict)):
            raise ValueError(f"verdicts.labels must name exactly {list(get_args(Verdict))}")
        if self.rules[-1].when != RuleWhen():
            raise ValueError("the last verdict rule must have an empty 'when' (the default)")
        return self


class AdviserStep(_Strict):
    text: str
    cards: list[str] = Field(default_factory=list)


class TraitLexicon(_Strict):
    """The whole of ess_traits.yaml, validated."""

    version: int
    negation: NegationSpec
    ignore: list[str] = Field(default_factory=list)
    traits: dict[TraitName, TraitSpec]
    verdicts: VerdictSpec
    adviser_steps: dict[Verdict, list[AdviserStep]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _all_traits(self) -> TraitLexicon:
        absent = set(get_args(TraitName)) - set(self.traits)
        if absent:
            raise ValueError(f"traits missing from the lexicon: {sorted(absent)}")
        if not self.traits["legal_form"].forms:
            raise ValueError("legal_form needs its 'forms'")
        return self

    def card_ids(self) -> set[str]:
        ids = {c for t in self.traits.values() for c in t.cards}
        ids |= {c for r in self.verdicts.rules for c in r.cards}
        ids |= {c for steps in self.adviser_steps.values() for s in steps for c in s.cards}
        return ids


def _fold_pattern(pattern: str) -> str:
    """Fold the letters of a regex written by a curator, leaving its escapes (\\b, \\w) alone."""
    out: list[str] = []
    escaped = False
    for char in pattern:
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            out.append(char)
            escaped = True
        else:
            out.append(fold(char.replace("’", "'")))
    return "".join(out)


def compile_pattern(pattern: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(rf"(?<![a-z0-9])(?:{_fold_pattern(pattern)})(?![a-z0-9])")
    except re.error as exc:
        raise KnowledgeError(f"{where}: invalid pattern {pattern!r}: {exc}") from exc


def load_lexicon(path: Path, card_ids: Iterable[str]) -> TraitLexicon:
    """Read and validate the lexicon; every card it cites must exist."""
    try:
        data = yamlfile.safe_load(path.read_text(encoding="utf-8"))
        lexicon = TraitLexicon.model_validate(data)
    except (OSError, yamlfile.YAMLError, ValidationError) as exc:
        raise KnowledgeError(f"{path}: invalid ESS trait lexicon: {describe(exc)}") from exc
    unknown = lexicon.card_ids() - set(card_ids)
    if unknown:
        raise KnowledgeError(f"{path}: unknown card ids {sorted(unknown)}")
    return lexicon


# ------------------------------------------------------------------ the report (API)
