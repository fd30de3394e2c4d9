"""The session seam: what a conversation stores, and the protocol a store implements.

`SqlSessionStore` (`sql.py`: SQLite file or PostgreSQL) is the real one; `MemorySessionStore`
(`memory.py`) the fake beside it. Session ids are bearer tokens (whoever holds one can read the
conversation), so they are never logged.
"""

from __future__ import annotations

import secrets
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field, TypeAdapter

from assistant.dialogue.state import DiagnosticState
from assistant.settings import Settings

__all__ = [
    "Role",
    "SessionOpening",
    "SessionRecord",
    "SessionStore",
    "TranscriptEntry",
    "new_session_id",
    "purge_expired",
    "seed_partner",
]

Role = Literal["user", "assistant"]


class TranscriptEntry(BaseModel):
    role: Role
    text: str
    at: datetime
    meta: dict[str, Any] | None = None  # e.g. cited cards, on assistant entries


class SessionRecord(BaseModel):
    id: str
    created_at: datetime
    updated_at: datetime
    state: DiagnosticState = Field(default_factory=DiagnosticState)
    transcript: list[TranscriptEntry] = Field(default_factory=list)


class SessionOpening(BaseModel):
    """What the usage report reads of one kept session: no id, no message text."""

    opened: datetime
    partner: str | None  # the slug of the partner whose frame opened it (/embed), if any
    oriented: bool  # contacts were proposed at least once
    departement: str | None  # where the conversation ended


class SessionStore(Protocol):
    def create(
        self, now: datetime | None = None, session_id: str | None = None
    ) -> SessionRecord: ...

    def get(self, session_id: str) -> SessionRecord: ...

    def save_turn(
        self,
        session_id: str,
        user_text: str,
        reply: str,
        state: DiagnosticState,
        meta: dict[str, Any] | None = None,
        *,
        now: datetime | None = None,
    ) -> None: ...

    def reset(self, session_id: str, *, now: datetime | None = None) -> None: ...

    def delete(self, session_id: str) -> bool: ...

    def purge_older_than(self, cutoff: datetime) -> int: ...

    def count(self) -> int: ...

    def turn_lock(self, session_id: str) -> AbstractContextManager[None]:
        """Held for the whole of one turn (load, think, save): two turns of one session never
        interleave, whichever process or replica runs them (PostgreSQL: an advisory lock)."""
        ...

    def claim_once(self, key: str, now: datetime | None = None) -> bool:
        """True the first time `key` is claimed, False ever after (until purged): an event
        delivered twice (a Telegram update retried, a replica retrying) is handled once."""
        ...

    def unanswered(self, limit: int = 100) -> list[TranscriptEntry]:
        """The latest user messages the assistant declined to answer (for curators); they go
        with their session: erased by `delete`, purged by retention."""
        ...

    def partner_openings(self) -> list[SessionOpening]:
        """One line per kept session, for the usage report: the partner recorded by its seed
        turn (`Conversation.start_seeded`), whether it reached an orientation and where."""
        ...

    def close(self) -> None: ...


def new_session_id() -> str:
    return secrets.token_urlsafe(24)  # 192 random bits: unguessable, collisions negligible


def utc(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.now(UTC)
    if moment.tzinfo is None:
        # A naive time is ambiguous (local? UTC?) and would shift retention silently.
        raise ValueError("session times must be timezone-aware")
    return moment.astimezone(UTC)


_META: TypeAdapter[dict[str, Any]] = TypeAdapter(dict[str, Any])


def dump_meta(meta: dict[str, Any] | None) -> str | None:
    return None if meta is None else _META.dump_json(meta).decode()


def load_meta(raw: str | None) -> dict[str, Any] | None:
    return None if raw is None else _META.validate_json(raw)


def seed_partner(meta: dict[str, Any] | None) -> str | None:
    """The partner slug a seed turn's meta records ({"action": "seed", "partner": …})."""
    if not meta or meta.get("action") != "seed":
        return None
    partner = meta.get("partner")
    return partner if isinstance(partner, str) and partner else None


def purge_expired(store: SessionStore, settings: Settings, now: datetime | None = None) -> int:
    """Forget sessions idle for longer than the retention period (GDPR: storage limitation)."""
    return store.purge_older_than(utc(now) - timedelta(days=settings.session_retention_days))
