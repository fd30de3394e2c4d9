"""A conversation = the engine + a session store: load, handle, commit, answer.

A turn is acknowledged (returned to the channel) only after the store committed it.
Logs carry session ids and actions, never what the user wrote.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from assistant.answers.answering import SourceRef
from assistant.dialogue.engine import Engine
from assistant.dialogue.state import DiagnosticState
from assistant.dialogue.turn import TurnResult
from assistant.errors import MessageIdConflictError, SessionNotFoundError
from assistant.orientation.contacts import OrientationResult
from assistant.render.fiche import Fiche, FicheBuilder
from assistant.render.parts import (
    PARTS,
    AnswerPart,
    ContactsPart,
    GuidesPart,
    Part,
    StepsPart,
)
from assistant.render.reply import reply_text
from assistant.sessions.base import SessionRecord, SessionStore, TranscriptEntry
from assistant.territory.index import Resolution

log = logging.getLogger(__name__)

ID_REUSED = (
    "Cet identifiant de message (Idempotency-Key) a déjà servi pour un autre message de cette "
    "conversation : choisissez-en un nouveau pour chaque message."
)


def replayed(meta: dict[str, Any], state: DiagnosticState) -> TurnResult:
    """A stored reply as the turn that gave it: its parts carry the contacts, steps and
    sources; the state is the session's now (the same, unless later turns came)."""
    parts = PARTS.validate_python(meta.get("parts", []))
    sources: dict[str, SourceRef] = {}
    for part in parts:
        if isinstance(part, AnswerPart):
            sources.update((ref.id, ref) for ref in part.citations)
        elif isinstance(part, GuidesPart):
            sources.update((ref.id, ref) for ref in part.guides)
    return TurnResult(
        reply=reply_text(parts),
        parts=parts,
        quick_replies=[str(label) for label in meta.get("quick_replies", [])],
        state=state,
        contacts=[c for p in parts if isinstance(p, ContactsPart) for c in p.contacts],
        next_steps=[s for p in parts if isinstance(p, StepsPart) for s in p.steps],
        sources=list(sources.values()),
        action=meta.get("action", "reply"),
        declined=bool(meta.get("declined")),
    )


def _stored_reply(record: SessionRecord, message_id: str, text: str) -> TurnResult | None:
    """The reply already given to `message_id`, rebuilt from its stored typed parts. The same
    id with another text is a client's mistake: it would silently lose a message."""
    transcript = record.transcript
    for index in range(len(transcript) - 1, 0, -1):
        meta = transcript[index].meta or {}
        if transcript[index].role == "assistant" and meta.get("message_id") == message_id:
            if transcript[index - 1].text != text:
                raise MessageIdConflictError(ID_REUSED)
            return replayed(meta, record.state)
    return None


class Conversation:
    """The one entry point every channel uses."""

    def __init__(
        self, engine: Engine, store: SessionStore, fiche: FicheBuilder, retention_days: int
    ) -> None:
        self.engine = engine
        self.store = store
        self.fiche_builder = fiche
        self.retention = dt.timedelta(days=retention_days)

    def start(self) -> tuple[str, TurnResult]:
        """A new session and its greeting."""
        record = self.store.create()
        log.info("session created", extra={"session": record.id[:6]})
        return record.id, self.engine.greeting(record.state)

    def start_seeded(
        self, place: Resolution | None, partner: str | None, opening: list[Part]
    ) -> str:
        """A new session opened where the territory is already known (a partner's page, via
        /embed): its state starts with `place` (a found resolution), `opening` (what the
        channel says of it) is stored as its first reply, and `partner` goes in that reply's
        meta for the usage reports, never in what a person reads. The store keeps a state only
        with a turn, so this one has an empty user side, which channels do not draw."""
        record = self.store.create()
        state = DiagnosticState()
        if place is not None and place.status == "found":
            state.departement, state.region = place.departement, place.region
            state.commune, state.commune_code = place.commune, place.commune_code
            state.territory_preset = True
            if place.departement and place.departement.startswith("97"):
                state.context.append("outre-mer")
        meta = {
            "action": "seed",
            "partner": partner,
            "parts": [part.model_dump(mode="json") for part in opening],
        }
        self.store.save_turn(record.id, "", reply_text(opening), state, meta)
        log.info("session created", extra={"session": record.id[:6], "partner": partner})
        return record.id

    def open(self, session_id: str) -> tuple[TurnResult, bool]:
        """Get or create a session under a channel-derived id; (greeting, created)."""
        try:
            return self.resume(session_id), False
        except SessionNotFoundError:
            record = self.store.create(session_id=session_id)
            return self.engine.greeting(record.state), True

    def resume(self, session_id: str) -> TurnResult:
        """What to show when a user comes back to an existing session."""
        return self.engine.greeting(self.store.get(session_id).state)

    def send(self, session_id: str, text: str, message_id: str | None = None) -> TurnResult:
        """One user message, handled once. A channel that may deliver a message twice (a
        client retrying after a broken connection, on any replica) names it with
        `message_id`: the second delivery gets the stored reply, the turn is not run again."""
        with self.store.turn_lock(session_id):
            record = self.store.get(session_id)  # read once: the replay check and the turn
            if message_id is not None:
                stored = _stored_reply(record, message_id, text)
                if stored is not None:
                    log.info("turn replayed", extra={"session": session_id[:6]})
                    return stored
            return self._send(record, text, message_id)

    def _send(self, record: SessionRecord, text: str, message_id: str | None) -> TurnResult:
        session_id = record.id
        result = self.engine.handle(record.state, text)
        if result.action == "forget":
            self.store.delete(session_id)
        elif result.action == "restart":
            self.store.reset(session_id)
        else:
            meta: dict[str, Any] = {
                "sources": [s.id for s in result.sources],
                "contacts": [c.id for c in result.contacts],
                "action": result.action,
                "declined": result.declined,
                # What the buttons under this reply say: a channel resolves a pressed button
                # against them, from any replica (Telegram keeps no button memory of its own).
                "quick_replies": result.quick_replies,
                # The typed parts, so a channel can redraw the turn later (web page reload).
                "parts": [part.model_dump(mode="json") for part in result.parts],
            }
            if message_id is not None:
                meta["message_id"] = message_id
            self.store.save_turn(session_id, text, result.reply, result.state, meta)
        log.info("turn", extra={"session": session_id[:6], "action": result.action})
        return result

    def offered_replies(self, session_id: str) -> list[str]:
        """The quick replies the session offers now: those of the last stored reply, or the
        greeting's when the last turn left none in the transcript (start, resume, restart)."""
        record = self.store.get(session_id)
        last = record.transcript[-1] if record.transcript else None
        if last is not None and last.role == "assistant" and last.meta:
            stored = last.meta.get("quick_replies")
            if isinstance(stored, list):
                return [str(label) for label in stored]
        return self.engine.greeting(record.state).quick_replies

    def get(self, session_id: str) -> SessionRecord:
        return self.store.get(session_id)

    def orientation(self, session_id: str) -> OrientationResult:
        return self.engine.orientation_for(self.store.get(session_id).state)

    def fiche(self, session_id: str) -> Fiche:
        state = self.store.get(session_id).state
        return self.fiche_builder.build(state, self.engine.orientation_for(state))

    def unanswered(self, limit: int = 100) -> list[TranscriptEntry]:
        """Questions users asked that the knowledge could not answer, newest first."""
        return self.store.unanswered(limit)

    def forget(self, session_id: str) -> bool:
        """GDPR erasure: the session, its state and its transcript are deleted."""
        deleted = self.store.delete(session_id)
        log.info("session erased", extra={"session": session_id[:6], "found": deleted})
        return deleted

    def purge_expired(self, now: dt.datetime | None = None) -> int:
        """Delete sessions idle for longer than the retention limit."""
        now = now or dt.datetime.now(dt.UTC)
        purged = self.store.purge_older_than(now - self.retention)
        if purged:
            log.info("sessions purged", extra={"count": purged})
        return purged
