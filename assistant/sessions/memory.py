"""An in-memory session store: the fake beside the SQL one, same behaviour."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from itertools import pairwise
from typing import Any

from assistant.dialogue.state import DiagnosticState
from assistant.errors import SessionNotFoundError
from assistant.sessions.base import (
    SessionOpening,
    SessionRecord,
    TranscriptEntry,
    dump_meta,
    load_meta,
    new_session_id,
    seed_partner,
    utc,
)

__all__ = ["MemorySessionStore"]


class MemorySessionStore:
    """Same behaviour as SqlSessionStore, in a dict. Records are copied in and out, as a
    database would, so callers cannot change stored sessions by mutating what they got."""

    def __init__(self) -> None:
        self._sessions: dict[str, SessionRecord] = {}
        self._claims: dict[str, datetime] = {}
        self._turn_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        pass

    def create(self, now: datetime | None = None, session_id: str | None = None) -> SessionRecord:
        """A new session; `session_id` lets a channel derive its own unguessable id
        (Telegram: a keyed hash of the chat id), otherwise a random one is drawn."""
        moment = utc(now)
        record = SessionRecord(
            id=session_id or new_session_id(), created_at=moment, updated_at=moment
        )
        with self._lock:
            self._sessions[record.id] = record.model_copy(deep=True)
        return record

    def get(self, session_id: str) -> SessionRecord:
        with self._lock:
            return self._find(session_id).model_copy(deep=True)

    def save_turn(
        self,
        session_id: str,
        user_text: str,
        reply: str,
        state: DiagnosticState,
        meta: dict[str, Any] | None = None,
        *,
        now: datetime | None = None,
    ) -> None:
        moment = utc(now)
        entries = [
            TranscriptEntry(role="user", text=user_text, at=moment),
            # Through JSON, as in the database, so tests see what production would.
            TranscriptEntry(
                role="assistant", text=reply, at=moment, meta=load_meta(dump_meta(meta))
            ),
        ]
        with self._lock:
            record = self._find(session_id)
            record.state = state.model_copy(deep=True)
            record.transcript.extend(entry.model_copy(deep=True) for entry in entries)
            record.updated_at = moment

    def reset(self, session_id: str, *, now: datetime | None = None) -> None:
        moment = utc(now)
        with self._lock:
            record = self._find(session_id)
            record.state = DiagnosticState()
            record.transcript = []
            record.updated_at = moment

    def delete(self, session_id: str) -> bool:
        with self._lock:
            return self._sessions.pop(session_id, None) is not None

    def purge_older_than(self, cutoff: datetime) -> int:
        limit = utc(cutoff)
        with self._lock:
            stale = [key for key, record in self._sessions.items() if record.updated_at < limit]
            for key in stale:
                del self._sessions[key]
            for claim in [k for k, at in self._claims.items() if at < limit]:
                del self._claims[claim]
        return len(stale)

    def unanswered(self, limit: int = 100) -> list[TranscriptEntry]:
        with self._lock:
            found: list[TranscriptEntry] = []
            for record in self._sessions.values():
                entries = record.transcript
                for before, after in pairwise(entries):
                    if before.role == "user" and (after.meta or {}).get("declined") is True:
                        found.append(before.model_copy())
            found.sort(key=lambda e: e.at, reverse=True)
            return found[:limit]

    def partner_openings(self) -> list[SessionOpening]:
        with self._lock:
            return [
                SessionOpening(
                    opened=record.created_at,
                    partner=_seed_partner(record),
                    oriented=record.state.oriented,
                    departement=record.state.departement,
                )
                for record in self._sessions.values()
            ]

    @contextmanager
    def turn_lock(self, session_id: str) -> Iterator[None]:
        with self._lock:
            lock = self._turn_locks.setdefault(session_id, threading.Lock())
        with lock:
            yield

    def claim_once(self, key: str, now: datetime | None = None) -> bool:
        with self._lock:
            if key in self._claims:
                return False
            self._claims[key] = utc(now)
            return True

    def count(self) -> int:
        with self._lock:
            return len(self._sessions)

    def _find(self, session_id: str) -> SessionRecord:
        try:
            return self._sessions[session_id]
        except KeyError:
            raise SessionNotFoundError("no such session") from None


def _seed_partner(record: SessionRecord) -> str | None:
    """The partner of the session's seed turn (its first reply, when it has one)."""
    for entry in record.transcript:
        if entry.role == "assistant" and (entry.meta or {}).get("action") == "seed":
            return seed_partner(entry.meta)
    return None
