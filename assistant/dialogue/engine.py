"""The conversation engine: one message in, one reply out, over a `DiagnosticState`.

The engine is pure with respect to storage: it takes the current state and returns the new
one; `conversation.py` loads and saves around it. Every channel goes through here once:
connector -> engine -> (extraction, retrieval, orientation) -> composer -> connector.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from functools import cached_property
from typing import Any

from assistant.answers.answering import Answer, Answerer
from assistant.dialogue.conditions import holds
from assistant.dialogue.evidence import (
    EXPLICIT_WEIGHT,
    READING_WEIGHT,
    add_evidence,
    needs_kept,
    plan_made_real,
    reading_weight,
)
from assistant.dialogue.slots import SCORED, SLOTS, Understood, set_value
from assistant.dialogue.state import BOOKKEEPING, DiagnosticState
from assistant.dialogue.story import grown_story, told_in
from assistant.dialogue.turn import Action, TurnResult
from assistant.errors import AiguillageError
from assistant.orientation.contacts import Orientation, OrientationResult
from assistant.render.composer import Composer
from assistant.render.parts import Part
from assistant.render.reply import ReplyWriter, reply_text
from assistant.search.base import SearchFilter
from assistant.territory.agreement import said_in_full, said_not_denied
from assistant.territory.index import Resolution, TerritoryIndex, found
from assistant.text import normalise
from assistant.understanding.extraction import Extraction, Extractor
from assistant.understanding.script import Buttons, DiagnosticScript

log = logging.getLogger(__name__)

MAX_ASKS = 2  # a question ignored twice is not asked a third time
RECENT_QUESTIONS = 3
SHORT_ANSWER_WORDS = 3
SUMMARY_MIN_WORDS = 6
SUMMARY_MAX_CHARS = 200


class Engine:
    """Runs the diagnostic script over a conversation state."""

    def __init__(
        self,
        script: DiagnosticScript,
        extractor: Extractor,
        orientation: Orientation,
        answerer: Callable[[], Answerer],
        composer: Composer,
        territories: TerritoryIndex,
        describe: Callable[[str], dict[str, str]] | None = None,
    ) -> None:
        self.writer = ReplyWriter(composer)
        # Reads all the person said so far as one description (semantic.py's classifiers).
        self.describe = describe
        self.script = script
        self.extractor = extractor
        self.orientation = orientation
        self._answerer = answerer  # a factory: the index may be rebuilt while we run
        self.composer = composer
        self.territories = territories

    # -- entry points ------------------------------------------------------------------
    def greeting(self, state: DiagnosticState | None = None) -> TurnResult:
        state = state or DiagnosticState()
        if state.last_question or state.stage or state.territory_candidates:
            question, replies = self._question_for(state, state.last_question)
            parts = self.writer.notice(self.script.messages.resume if question else None)
            parts += self.writer.question(question, state.last_question, replies)
            return self._result(parts, state, quick_replies=replies)
        parts = self.writer.notice(self.script.messages.greeting)
        return self._result(parts, state, action="start")

    def handle(self, state: DiagnosticState, message: str) -> TurnResult:
        text = normalise(message)
        if not text:
            return self._not_understood(state)
        command = self._command(text)
        if command == "restart":
            parts = self.writer.notice(self.script.messages.restarted)
            return self._result(parts, DiagnosticState(), action="restart")
        if command == "forget":
            parts = self.writer.notice(self.script.messages.forgotten)
            return self._result(parts, DiagnosticState(), action="forget")
        if command == "start":
            return self.greeting(state)
        if command == "contacts":
            return self._orientation_turn(state, action="contacts", understood=self._understood())
        if command == "fiche":
            parts = self.writer.notice(self.script.messages.fiche_ready)
            replies = [self.buttons.contacts, self.buttons.restart]
            return self._result(parts, state, quick_replies=replies, action="fiche")
        return self._diagnostic_turn(state, message, text)

    def orientation_for(self, state: DiagnosticState) -> OrientationResult:
        return self.orientation.recommend(state)

    # -- the diagnostic turn -------------------------------------------------------------
    def _diagnostic_turn(self, state: DiagnosticState, message: str, text: str) -> TurnResult:
        new = state.model_copy(deep=True)
        pending = new.last_question
        understood = self._understood()  # facts taken from this message, echoed back
        notes: list[str] = []  # remarks on the turn itself

        if self._apply_quick_reply(new, pending, text, understood):
            extraction = Extraction()
        else:
            if new.territory_candidates and self._pick_candidate(new, text, understood):
                pending = None
            told, story = self._story_to_read(new, message)
            extraction = self.extractor.extract(message, pending, story)
            self._merge(new, extraction, pending, understood)
            self._read_description(new, told, extraction)
            if extraction.dont_know and pending and not new.is_known(pending):
                new.unknown.append(pending)
                notes.append(self.script.messages.dont_know_ack)
            answered = not (extraction.dont_know or extraction.question)
            if pending == "summary" and answered and len(text.split()) >= 3:
                new.summary = message.strip()[:SUMMARY_MAX_CHARS]
        self._decide(new, understood)
        self._infer(new, understood)
        self._decide(new, understood)
        understood.keep_changes(state, new, SCORED)
        if (
            new.summary is None
            and pending is None  # a spontaneous description, not an answer to a question
            and not extraction.question
            and len(text.split()) >= SUMMARY_MIN_WORDS
            and (new.stage or new.profile)
        ):
            new.summary = message.strip()[:SUMMARY_MAX_CHARS]

        answer: Answer | None = None
        if extraction.question:
            answer = self._answer(message, new, told=bool(understood))
            new.recent_questions = [*new.recent_questions, message.strip()][-RECENT_QUESTIONS:]

        changed = new.model_dump(exclude=BOOKKEEPING) != state.model_dump(exclude=BOOKKEEPING)
        next_slot = self._next_slot(new)
        if (
            next_slot is None
            and (changed or not new.oriented)
            and not (answer and not answer.declined and not changed)
        ):
            new_needs = [n for n in new.needs if n not in state.needs]
            return self._orientation_turn(
                new, action="reply", understood=understood, answer=answer, new_needs=new_needs
            )

        if answer is None and not changed and pending == next_slot and next_slot is not None:
            # Nothing understood: say so once, then re-ask (it counts as an ask).
            notes.append(self.script.messages.not_understood)

        new.reworded = (asked_again := changed and pending == next_slot) and not state.reworded
        question, replies = self._question_for(new, next_slot, again=new.reworded)
        if next_slot is not None:
            # Asked again after a turn that taught something: not a second ask (only an ignored
            # question counts towards MAX_ASKS), in the other wording, never twice running.
            if not asked_again:
                new.asked.append(next_slot)
            new.last_question = next_slot
        else:
            new.last_question = None
            replies = [self.buttons.contacts, self.buttons.fiche, self.buttons.restart]
            if not (understood or notes or answer):  # never an empty reply
                notes.append(self.script.messages.nothing_new)
        parts = self.writer.ack(understood.texts())
        for note in notes:
            parts += self.writer.notice(note)
        parts += self.writer.answer(answer)
        parts += self.writer.question(question, next_slot, replies)
        return self._result(
            parts,
            new,
            quick_replies=replies,
            sources=answer.sources if answer else [],
            declined=bool(answer and answer.declined),
        )

    def _orientation_turn(
        self,
        state: DiagnosticState,
        action: Action,
        understood: Understood,
        answer: Answer | None = None,
        new_needs: Sequence[str] = (),
    ) -> TurnResult:
        new = state.model_copy(deep=True)
        result = self.orientation.recommend(new)
        new.oriented = True
        new.last_question = None
        parts = self.writer.ack(understood.texts())
        parts += self.writer.answer(answer)
        ready = not result.missing and not state.oriented  # said once
        parts += self.writer.notice(self.script.messages.ready if ready else None)
        labels = self.script.messages.slot_labels
        # Contacts already shown in full are named, not repeated; the button shows them all.
        seen = state.shown_contacts if action == "reply" else []
        new.shown_contacts = [c.id for c in result.contacts]
        missing = [labels.get(m, m) for m in result.missing]
        shown = [i for i in new.shown_contacts if i in seen]
        parts += self.writer.orientation(result, missing, shown, new_needs)
        sources = list(result.guides)
        if answer:
            sources = [
                *answer.sources,
                *(s for s in sources if s.id not in {a.id for a in answer.sources}),
            ]
        return self._result(
            parts,
            new,
            quick_replies=[self.buttons.fiche, self.buttons.restart],
            contacts=result.contacts,
            next_steps=result.next_steps,
            sources=sources,
            action=action,
            declined=bool(answer and answer.declined),
        )

    # -- helpers -----------------------------------------------------------------------
    @property
    def buttons(self) -> Buttons:
        return self.script.messages.buttons

    def _understood(self) -> Understood:
        return Understood(self.script.messages.understood)

    @cached_property
    def _commands(self) -> dict[str, str]:
        """Normalised command phrase -> command, built once from the script."""
        table = {
            normalise(self.buttons.contacts): "contacts",
            normalise(self.buttons.fiche): "fiche",
        }
        # Later entries override earlier ones: on a shared phrase, "restart" has priority.
        for name in ("start", "forget", "fiche", "contacts", "restart"):
            table.update({normalise(c): name for c in getattr(self.script.commands, name)})
        return table

    def _command(self, text: str) -> str | None:
        return self._commands.get(text.strip(" .!?"))

    def _apply_quick_reply(
        self, state: DiagnosticState, pending: str | None, text: str, understood: Understood
    ) -> bool:
        if pending is None or pending not in self.script.slots:
            return False
        for reply in self.script.slots[pending].quick_replies:
            if normalise(reply.label) == text.strip(" .!"):
                self._set_slot(state, pending, reply.value, understood)
                return True
        return False

    def _read_description(self, state: DiagnosticState, told: str, extraction: Extraction) -> None:
        """Add what the message `told` of the project to the story, and read the story again,
        unless no reading could change the decision (a model call is most of a turn)."""
        if self.describe is None or extraction.dont_know:
            return
        if extraction.correction:
            state.reading = {}  # read again below, or left to the corrected words
        story = grown_story(state.description, told)
        if story is None:  # a question, or a story already full
            return
        state.description = story
        if len(told.split()) <= SHORT_ANSWER_WORDS or self._settled(state):
            return  # "Guéret" changes no reading
        try:
            state.reading = self.describe(story)
        except Exception as exc:  # a reading is a help, never a reason to fail a turn
            log.warning("description reading failed: %s", type(exc).__name__)

    def _story_to_read(self, state: DiagnosticState, message: str) -> tuple[str, str | None]:
        """What the message tells of the project, and the story this turn may read (or None).
        The semantic layer embeds that story in the same model call as the message's clauses:
        one call a turn instead of two."""
        told = told_in(message, self.extractor.spelled_out(message))
        story = grown_story(state.description, told)
        # a settled story is not embedded ahead (_read_description does if the message unsettles)
        long_enough = len(told.split()) > SHORT_ANSWER_WORDS
        reads = self.describe is not None and long_enough and not self._settled(state)
        return told, story if reads else None

    def _settled(self, state: DiagnosticState) -> bool:
        """Stage and profile each lead by more than a reading weighs: it would change nothing."""
        for slot in SCORED:
            ranked = sorted(self._scores(state, slot, with_reading=False).values(), reverse=True)
            if (ranked[0] if ranked else 0.0) - (ranked[1:2] or [0.0])[0] <= READING_WEIGHT:
                return False
        return True

    def _scores(
        self, state: DiagnosticState, slot: str, with_reading: bool = True
    ) -> dict[str, float]:
        """A scored slot's evidence, with the priors that hold and the description's reading."""
        scores = dict(state.evidence.get(slot, {}))
        if with_reading and slot in state.reading:
            value = state.reading[slot]
            employs = bool(state.employees)
            peak = state.stage_peak
            if weight := reading_weight(slot, value, scores, state.planned, employs, peak):
                scores[value] = scores.get(value, 0.0) + weight
        for prior in self.script.priors:
            if prior.slot == slot and holds(prior.when, state):
                scores[prior.value] = scores.get(prior.value, 0.0) + prior.weight
        return scores

    def _decide(self, state: DiagnosticState, understood: Understood) -> None:
        """Set stage and profile to the value with most evidence, priors and the description
        classifier's reading included."""
        for slot in SCORED:
            scores = self._scores(state, slot)
            if not scores:
                continue
            order = self.script.slots[slot].ordered_values()
            rank = {value: i for i, value in enumerate(order)}
            best = min(scores, key=lambda v: (-scores[v], rank.get(v, len(order))))
            if best != getattr(state, slot):
                self._set_slot(state, slot, best, understood, record=False)

    def _set_slot(
        self,
        state: DiagnosticState,
        slot: str,
        value: str,
        understood: Understood,
        record: bool = True,
    ) -> None:
        """Set a slot; `record` makes it decisive (a quick reply, an inference)."""
        if record and SLOTS[slot].kind == "scored":
            state.evidence[slot] = {value: EXPLICIT_WEIGHT}
        set_value(state, slot, value, understood)

    def _merge(
        self,
        state: DiagnosticState,
        extraction: Extraction,
        pending: str | None,
        understood: Understood,
    ) -> None:
        if extraction.for_client:
            state.speaking_for_client = True
        add_evidence(state, extraction, pending, self.script.evidence_decay, self._reinterpreted)
        plan_made_real(state, extraction)
        state.needs = needs_kept(state, extraction, pending)
        # "Valence dans le Tarn-et-Garonne !" only says where: no need read by its meaning
        where_only = extraction.territory is not None and not (
            extraction.named_needs or any(extraction.evidence.values())
        )
        for need in extraction.named_needs if where_only else extraction.needs:
            self._set_slot(state, "needs", need, understood)
        if extraction.employees is not None and (
            not state.employees  # unknown, or none until now: people hire
            or extraction.correction
            or pending == "employees"
        ):
            state.employees = extraction.employees
        if extraction.sector and state.sector is None:
            state.sector = extraction.sector
        for context in extraction.context:
            if context not in state.context:
                state.context.append(context)  # type: ignore[arg-type]
        if extraction.territory is not None:
            replace = (
                state.departement is None
                or state.territory_preset
                or extraction.correction
                or state.departement in extraction.denied_departements
                or pending == "territory"
                or bool(state.territory_candidates)
                or said_in_full(state.commune, extraction.territory.commune)
            )
            if replace:
                self._set_territory(state, extraction.territory, understood)

    def _reinterpreted(
        self, slot: str, scores: dict[str, float], state: DiagnosticState
    ) -> dict[str, float]:
        """The message's evidence as the situation so far reads it (script reinterpretations)."""
        moved = dict(scores)
        for rule in self.script.reinterpretations:
            if rule.slot == slot and rule.from_ in moved and holds(rule.when, state):
                weight = moved.pop(rule.from_)
                moved[rule.to] = moved.get(rule.to, 0.0) + weight
        return moved

    def _set_territory(
        self, state: DiagnosticState, resolution: Resolution, understood: Understood
    ) -> None:
        if resolution.status == "found" and resolution.departement:
            state.territory_preset = False  # the person's own words from now on
            state.departement = resolution.departement
            state.region = resolution.region or self.territories.region_of(resolution.departement)
            state.commune = resolution.commune
            state.commune_code = resolution.commune_code
            state.territory_candidates = []
            if "territory" in state.unknown:
                state.unknown.remove("territory")
            if resolution.departement.startswith("97") and "outre-mer" not in state.context:
                state.context.append("outre-mer")
            place = resolution.commune or resolution.departement_name or resolution.region_name
            dep_name = self.territories.departement_name(resolution.departement)
            label = f"{place} ({dep_name})" if resolution.commune else f"{place}"
            understood.add("territory", label)
        elif resolution.status == "found" and resolution.region:
            # A region alone: keep it, and still ask for the département to be precise.
            state.region = resolution.region
            understood.add("region", resolution.region_name or "")
        elif resolution.status == "ambiguous" and resolution.candidates:
            nearby = [c for c in resolution.candidates if c.departement == state.departement]
            if len(nearby) == 1:
                # "ah non, c'est à Murat" after Saint-Flour: the Murat of the same département.
                self._set_territory(state, found(nearby[0], resolution.query), understood)
                return
            state.territory_candidates = list(resolution.candidates[:6])

    def _pick_candidate(self, state: DiagnosticState, text: str, understood: Understood) -> bool:
        candidates = state.territory_candidates
        stripped = text.strip(" .!")
        for index, candidate in enumerate(candidates, start=1):
            labels = {normalise(candidate.label), str(index)}
            dep = normalise(candidate.departement_name)
            code = candidate.departement.lower()
            coded = code in stripped.split() and said_not_denied(code, stripped)
            if stripped in labels or coded or said_not_denied(dep, stripped):
                self._set_territory(state, found(candidate, text), understood)
                return True
        return False

    def _infer(self, state: DiagnosticState, understood: Understood) -> None:
        for inference in self.script.inferences:
            if holds(inference.when, state):
                for key, value in inference.set.items():
                    if getattr(state, key) != value:
                        self._set_slot(state, key, value, understood)

    def _slots_to_ask(self, state: DiagnosticState) -> list[str]:
        slots = list(self.script.order)
        for branch in self.script.branches:
            if holds(branch.when, state):
                slots.extend(s for s in branch.ask if s not in slots)
        return slots

    def _next_slot(self, state: DiagnosticState) -> str | None:
        for slot in self._slots_to_ask(state):
            known = (
                state.departement is not None
                if slot == "territory"
                else state.employees is not None
                if slot == "employees"
                else state.is_known(slot)
            )
            if slot == "territory" and state.territory_candidates:
                return slot
            if not known and slot not in state.unknown and state.asked.count(slot) < MAX_ASKS:
                return slot
        return None

    def _question_for(
        self, state: DiagnosticState, slot: str | None, again: bool = False
    ) -> tuple[str | None, list[str]]:
        if slot is None:
            return None, []
        if slot == "territory" and state.territory_candidates:
            labels = [c.label for c in state.territory_candidates]
            return self.script.messages.which_commune, labels
        definition = self.script.slots[slot]
        question = (again and definition.asked_again) or definition.question
        return question, [q.label for q in definition.quick_replies]

    def _answer(self, message: str, state: DiagnosticState, told: bool) -> Answer | None:
        search_filter = SearchFilter(departement=state.departement, region=state.region)
        try:
            answer = self._answerer().answer(message, search_filter, state.recent_questions)
        except AiguillageError as exc:
            # The diagnostic goes on without the answer; the log says why (never the text).
            log.warning("free question not answered: %s", type(exc).__name__, exc_info=exc)
            return None
        # "…pas de local, c possible ?": the diagnostic answers; "no card answers" is noise there
        return None if told and answer.declined and answer.limit is None else answer

    def _not_understood(self, state: DiagnosticState) -> TurnResult:
        question, replies = self._question_for(state, state.last_question)
        parts = self.writer.notice(self.script.messages.not_understood)
        parts += self.writer.question(question, state.last_question, replies)
        return self._result(parts, state, quick_replies=replies)

    @staticmethod
    def _result(parts: list[Part], state: DiagnosticState, **fields: Any) -> TurnResult:
        return TurnResult(reply=reply_text(parts), parts=parts, state=state, **fields)
