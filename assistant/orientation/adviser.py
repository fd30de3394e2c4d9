"""Adviser mode: one description of a client's project in, an ESS reading of it out.

For a classic-entrepreneurship adviser (CCI, BGE, France Travail, a bank). The report says
which ESS traits the description shows (legal form, social utility, democratic governance,
limited profit, ESUS approval), with quoted evidence and the cards behind each trait, a
verdict, and the local ESS structures to send the client to.

The lexicon and the verdict rules are data (knowledge/diagnostic/ess_traits.yaml); stage,
profile, needs and territory come from feeding the description to the chat engine on a fresh
state, so they follow exactly the same extraction rules as the conversation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from assistant.answers.answering import Answerer, SourceRef, source_ref
from assistant.dialogue.engine import Engine
from assistant.dialogue.state import DiagnosticState
from assistant.errors import AiguillageError
from assistant.orientation.contacts import Recommendation, Step
from assistant.orientation.ess_traits import (
    LegalFamily,
    RuleWhen,
    TraitLexicon,
    TraitName,
    TraitStatus,
    Verdict,
    VerdictRule,
    compile_pattern,
    load_lexicon,
)
from assistant.render.composer import Composer
from assistant.search.cards import Card
from assistant.text import fold
from assistant.vocabulary import NEED_LABELS, PROFILE_LABELS, STAGE_LABELS

__all__ = [
    "Adviser",
    "AdviserReport",
    "TraitFinding",
    "TraitLexicon",
    "load_lexicon",
]


MAX_EVIDENCE_CHARS = 80
MAX_EVIDENCE = 3  # quotes per trait: enough to check, short enough to read
TEMPLATE = "adviser.md.j2"
_EVIDENCE_BREAK = re.compile(r"[.;!?\n()]")
_CLAUSE_END = re.compile(r"[,:]")
MIN_CLAUSE_CHARS = 25  # a shorter clause ("avec 8 salariés") is quoted with its sentence
# A negation stops at a clause: "ne se verse pas de dividendes et réinvestit tout" negates
# the dividends, not the reinvestment.
_CLAUSE_BREAK = re.compile(r"[,.;:!?()]| mais | et puis | et | cependant | pourtant ")
_QUESTION_SENTENCE = re.compile(r"[^.!?\n]*\?")


# ------------------------------------------------------------------ the lexicon (data)


class TraitFinding(BaseModel):
    """One ESS trait as read in the description."""

    trait: TraitName
    label: str
    status: TraitStatus
    evidence: list[str]  # fragments quoted verbatim from the description
    why: str
    sources: list[SourceRef]
    forms: list[str] = Field(default_factory=list)  # legal_form only: the forms named
    question: str | None = None  # what to ask the client when not observed


class AdviserReport(BaseModel):
    """What `aiguillage conseiller` and POST /api/adviser return."""

    ess_verdict: Verdict
    verdict_label: str
    verdict_rule: str  # id of the rule of ess_traits.yaml that decided
    explanation: str
    legal_form_family: LegalFamily
    traits: list[TraitFinding]
    stage: str | None
    profile: str | None
    needs: list[str]
    departement: str | None
    region: str | None
    commune: str | None
    for_client: bool  # the description was written about someone else ("mon client")
    contacts: list[Recommendation]
    next_steps: list[Step]
    questions: list[str]  # to put to the client, for the traits not observed
    missing: list[str]  # diagnostic slots still unknown (territory, stage…)
    sources: list[SourceRef]
    text: str


# ------------------------------------------------------------------ matching


@dataclass(frozen=True)
class _Folded:
    """The folded description, with the position in the original of each folded char."""

    text: str
    origin: list[int]

    @classmethod
    def of(cls, description: str) -> _Folded:
        chars: list[str] = []
        origin: list[int] = []
        for index, char in enumerate(description):
            char = "'" if char in "’‘`" else char
            folded = " " if char.isspace() or char in "-_/" else fold(char)
            for piece in folded:
                if piece == " " and (not chars or chars[-1] == " "):
                    continue
                chars.append(piece)
                origin.append(index)
        return cls("".join(chars), origin)

    def span_in_original(self, start: int, end: int) -> tuple[int, int]:
        return self.origin[start], self.origin[max(end - 1, start)] + 1


HitKind = Literal["observed", "unclear", "against"]
_KINDS: tuple[HitKind, ...] = ("observed", "unclear", "against")


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    kind: HitKind
    negated: bool
    form: str | None = None


def _around(text: str, start: int, end: int, *breaks: re.Pattern[str]) -> tuple[int, int]:
    """The widest span around [start, end) that crosses none of `breaks`."""

    def breaking(char: str) -> bool:
        return any(b.match(char) for b in breaks)

    left, right = start, end
    while left > 0 and not breaking(text[left - 1]):
        left -= 1
    while right < len(text) and not breaking(text[right]):
        right += 1
    return left, right


def _quote(description: str, start: int, end: int) -> str:
    """A verbatim fragment around [start, end), within its sentence, at most 80 characters."""
    left, right = _around(description, start, end, _EVIDENCE_BREAK, _CLAUSE_END)
    if len(description[left:right].strip()) < MIN_CLAUSE_CHARS:
        left, right = _around(description, start, end, _EVIDENCE_BREAK)
    if right - left > MAX_EVIDENCE_CHARS:
        if end - start >= MAX_EVIDENCE_CHARS:
            left, right = start, start + MAX_EVIDENCE_CHARS
        else:
            spare = MAX_EVIDENCE_CHARS - (end - start)
            left = max(left, start - spare // 2)
            right = min(right, end + (spare - (start - left)))
            left = max(left, right - MAX_EVIDENCE_CHARS)
        # Cut on word boundaries, never inside the matched words.
        while left < start and left > 0 and not description[left - 1].isspace():
            left += 1
        while right > end and right < len(description) and not description[right].isspace():
            right -= 1
    return description[left:right].strip(" ,:;\t\n")


class _Matcher:
    """Compiled lexicon: finds trait hits in a folded description."""

    def __init__(self, lexicon: TraitLexicon) -> None:
        self.lexicon = lexicon
        self.negation = re.compile(lexicon.negation.pattern)
        self.negation_except = (
            re.compile(lexicon.negation.except_) if lexicon.negation.except_ else None
        )
        self.ignore = [compile_pattern(p, "ignore") for p in lexicon.ignore]
        self.patterns: dict[str, list[tuple[HitKind, str | None, re.Pattern[str]]]] = {}
        for name, spec in lexicon.traits.items():
            compiled: list[tuple[HitKind, str | None, re.Pattern[str]]] = []
            for form_id, form in spec.forms.items():
                compiled += [("observed", form_id, compile_pattern(p, name)) for p in form.observed]
            for kind in _KINDS:
                compiled += [(kind, None, compile_pattern(p, name)) for p in getattr(spec, kind)]
            self.patterns[name] = compiled

    def blank_ignored(self, text: str) -> str:
        for pattern in self.ignore:
            text = pattern.sub(lambda m: " " * len(m.group(0)), text)
        return text

    def negated(self, text: str, start: int) -> bool:
        """A negation word shortly before `start`, in the same clause."""
        before = text[:start]
        clause_start = max((m.end() for m in _CLAUSE_BREAK.finditer(before)), default=0)
        window = " ".join(before[clause_start:].split()[-self.lexicon.negation.window :])
        found = list(self.negation.finditer(window))
        if not found:
            return False
        after = window[found[-1].end() :]
        return not (self.negation_except and self.negation_except.search(after))

    def hits(self, trait: str, text: str) -> list[_Hit]:
        found: list[_Hit] = []
        taken: list[tuple[int, int]] = []
        # Longest matches first, so "pas de dividendes" is read whole, not as "dividendes".
        candidates = [
            (m.start(), m.end(), kind, form)
            for kind, form, pattern in self.patterns[trait]
            for m in pattern.finditer(text)
            if m.end() > m.start()
        ]
        for start, end, kind, form in sorted(candidates, key=lambda c: (c[0] - c[1], c[0])):
            if any(start < b and a < end for a, b in taken):
                continue
            taken.append((start, end))
            found.append(_Hit(start, end, kind, self.negated(text, start), form))
        return sorted(found, key=lambda h: h.start)


# ------------------------------------------------------------------ the adviser


def _no_answers() -> Answerer:
    # Adviser mode reads facts; it never answers free questions (no retrieval, no index).
    raise AiguillageError("no free answers in adviser mode")


def _facts_only(description: str) -> str:
    """The description without its question sentences ("est-ce de l'ESS ?"): the engine
    reads no stage or profile in a question, and the adviser's questions are not facts."""
    facts = _QUESTION_SENTENCE.sub(" ", description).strip()
    return facts if len(facts.split()) >= 2 else description.replace("?", ".")


class Adviser:
    """Reads a project description for ESS traits and orients it."""

    def __init__(
        self,
        engine: Engine,
        cards: Mapping[str, Card],
        traits_path: Path,
        composer: Composer | None = None,
    ) -> None:
        self.cards = cards
        self.lexicon = load_lexicon(traits_path, cards.keys())
        self.composer = composer or engine.composer
        self._matcher = _Matcher(self.lexicon)
        # Same script, extractor and orientation as the chat; only free answers are off.
        self.engine = Engine(
            script=engine.script,
            extractor=engine.extractor,
            orientation=engine.orientation,
            answerer=_no_answers,
            composer=engine.composer,
            territories=engine.territories,
        )

    # -- entry point ---------------------------------------------------------------------
    def analyse(self, description: str) -> AdviserReport:
        description = description.strip()
        folded = _Folded.of(description)
        text = self._matcher.blank_ignored(folded.text)
        traits = [self._finding(name, description, folded, text) for name in self.lexicon.traits]
        by_name = {t.trait: t for t in traits}
        family = self._legal_family(by_name["legal_form"])
        rule = self._rule(by_name, family)

        turn = self.engine.handle(DiagnosticState(), _facts_only(description))
        state = turn.state
        result = self.engine.orientation_for(state)

        steps = [
            Step(id=f"conseiller-{rule.verdict}-{n}", text=s.text, cards=s.cards)
            for n, s in enumerate(self.lexicon.adviser_steps.get(rule.verdict, []), start=1)
        ]
        steps += result.next_steps
        questions = [t.question for t in traits if t.question]
        sources = self._sources(
            [
                *rule.cards,
                *(c for t in self.lexicon.traits.values() for c in t.cards),
                *(c for s in steps for c in s.cards),
            ],
            [*(r for c in result.contacts for r in c.cards), *result.guides],
        )
        labels = self.lexicon.verdicts.labels
        context = {
            "verdict": rule.verdict,
            "verdict_label": labels[rule.verdict],
            "reason": rule.reason,
            "family": family,
            "traits": traits,
            "state": state,
            "stage_label": STAGE_LABELS.get(state.stage or "", None),
            "profile_label": PROFILE_LABELS.get(state.profile or "", None),
            "need_labels": [NEED_LABELS[n] for n in state.needs],
            "territory": self._territory_label(state),
            "contacts": result.contacts,
            "steps": steps,
            "questions": questions,
            "missing": result.missing,
            "sources": sources,
        }
        explanation = self.composer.render(TEMPLATE, part="explanation", **context)
        return AdviserReport(
            ess_verdict=rule.verdict,
            verdict_label=labels[rule.verdict],
            verdict_rule=rule.id,
            explanation=explanation,
            legal_form_family=family,
            traits=traits,
            stage=state.stage,
            profile=state.profile,
            needs=list(state.needs),
            departement=state.departement,
            region=state.region,
            commune=state.commune,
            for_client=state.speaking_for_client,
            contacts=result.contacts,
            next_steps=steps,
            questions=questions,
            missing=result.missing,
            sources=sources,
            text=self.composer.render(TEMPLATE, part="report", **context),
        )

    # -- traits --------------------------------------------------------------------------
    def _finding(
        self, name: TraitName, description: str, folded: _Folded, text: str
    ) -> TraitFinding:
        spec = self.lexicon.traits[name]
        hits = self._matcher.hits(name, text)
        positive = [h for h in hits if h.kind != "against" and not h.negated]
        # A negated trait word is a statement against it; a negated "against" says nothing.
        contrary = [h for h in hits if (h.kind == "against" and not h.negated)] + [
            h for h in hits if h.kind != "against" and h.negated
        ]
        forms: list[str] = []
        why = spec.why
        if name == "legal_form":
            forms = list(dict.fromkeys(h.form for h in positive if h.form))
            families = {spec.forms[f].family for f in forms}
            status: TraitStatus = (
                "unclear" if len(families) > 1 else "observed" if "ess" in families else "missing"
            )
            if len(families) == 1 and (family := families.pop()) in spec.families:
                why = spec.families[family].note
            shown = positive or contrary
            form_labels = [spec.forms[f].label for f in forms]
        else:
            observed = [h for h in positive if h.kind == "observed"]
            if observed and not contrary:
                status = "observed"
            elif positive:
                status = "unclear"  # a hint only, or said and contradicted
            else:
                status = "missing"
            shown = observed if status == "observed" else contrary + positive
            form_labels = []
        evidence: list[str] = []
        for hit in sorted(shown, key=lambda h: h.start):
            quote = _quote(description, *folded.span_in_original(hit.start, hit.end))
            if quote and quote not in evidence:
                evidence.append(quote)
        return TraitFinding(
            trait=name,
            label=spec.label,
            status=status,
            evidence=evidence[:MAX_EVIDENCE],
            why=why,
            sources=[source_ref(self.cards[c]) for c in spec.cards],
            forms=form_labels,
            # a named form (a SAS: "missing" only because the form alone is not ESS) is not
            # asked again
            question=None if status == "observed" or form_labels else spec.ask,
        )

    @staticmethod
    def _legal_family(finding: TraitFinding) -> LegalFamily:
        if finding.status == "observed":
            return "ess"
        if finding.status == "unclear":
            return "mixed"
        return "commercial" if finding.forms else "unknown"

    # -- verdict -------------------------------------------------------------------------
    def _rule(self, traits: Mapping[TraitName, TraitFinding], family: LegalFamily) -> VerdictRule:
        def holds(when: RuleWhen) -> bool:
            status = {name: t.status for name, t in traits.items()}
            return (
                (when.legal_form is None or family in when.legal_form)
                and all(status[t] == "observed" for t in when.observed)
                and all(status[t] == "missing" for t in when.missing)
                and all(status[t] == "unclear" for t in when.unclear)
                and all(status[t] != "observed" for t in when.not_observed)
                and (
                    not when.observed_any or any(status[t] == "observed" for t in when.observed_any)
                )
                and (
                    not when.contradicted_any
                    or any(
                        status[t] == "missing" and traits[t].evidence for t in when.contradicted_any
                    )
                )
            )

        # The last rule has an empty `when` (checked at load), so one always matches.
        return next(rule for rule in self.lexicon.verdicts.rules if holds(rule.when))

    # -- helpers -------------------------------------------------------------------------
    def _sources(self, card_ids: Iterable[str], refs: Iterable[SourceRef]) -> list[SourceRef]:
        seen: dict[str, SourceRef] = {}
        for card_id in card_ids:
            if card_id in self.cards and card_id not in seen:
                seen[card_id] = source_ref(self.cards[card_id])
        for ref in refs:
            seen.setdefault(ref.id, ref)
        return list(seen.values())

    def _territory_label(self, state: DiagnosticState) -> str | None:
        territories = self.engine.territories
        if state.departement:
            name = territories.departement_name(state.departement)
            dep = f"{name} ({state.departement})"
            return f"{state.commune}, {dep}" if state.commune else dep
        return None
