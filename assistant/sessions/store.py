"""Conversation sessions: the diagnostic state and the transcript of each conversation.

`SessionStore` is the seam; `SqlSessionStore` is the real one (SQLite file or PostgreSQL),
`MemorySessionStore` a fake for unit tests of other modules. Session ids are bearer
tokens (whoever holds one can read the conversation), so they are never logged.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal, Protocol, cast

from pydantic import BaseModel, Field, TypeAdapter
from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    TypeDecorator,
    create_engine,
    delete,
    event,
    func,
    select,
    update,
)
from sqlalchemy.engine import Connection, CursorResult, Dialect, Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.sql import Executable

from assistant.dialogue.state import DiagnosticState
from assistant.errors import SessionNotFoundError
from assistant.settings import Settings

log = logging.getLogger(__name__)

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

    def unanswered(self, limit: int = 100) -> list[TranscriptEntry]:
        """The latest user messages the assistant declined to answer (for curators); they go
        with their session: erased by `delete`, purged by retention."""
        ...

    def close(self) -> None: ...


def new_session_id() -> str:
    return secrets.token_urlsafe(24)  # 192 random bits: unguessable, collisions negligible


def _utc(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.now(UTC)
    if moment.tzinfo is None:
        # A naive time is ambiguous (local? UTC?) and would shift retention silently.
        raise ValueError("session times must be timezone-aware")
    return moment.astimezone(UTC)


# --- SQL ------------------------------------------------------------------------------------


class _UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out: SQLite drops the offset, PostgreSQL keeps it."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else _utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class _Base(DeclarativeBase):
    pass


class _SessionRow(_Base):
    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(_UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(_UtcDateTime, index=True)  # purge scans it
    state: Mapped[str] = mapped_column(Text)  # DiagnosticState as JSON


class _MessageRow(_Base):
    __tablename__ = "messages"

    # Insertion order is transcript order. SQLite only autoincrements INTEGER keys.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    session_id: Mapped[str] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(_UtcDateTime)
    meta: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON


# JSON through pydantic, so datetimes, enums etc. in `meta` are serialisable.
_META: TypeAdapter[dict[str, Any]] = TypeAdapter(dict[str, Any])


def _dump_meta(meta: dict[str, Any] | None) -> str | None:
    return None if meta is None else _META.dump_json(meta).decode()


def _load_meta(raw: str | None) -> dict[str, Any] | None:
    return None if raw is None else _META.validate_json(raw)


def _entry(row: _MessageRow) -> TranscriptEntry:
    return TranscriptEntry.model_validate(
        {"role": row.role, "text": row.text, "at": row.at, "meta": _load_meta(row.meta)}
    )


def _run(db: Session, statement: Executable) -> int:
    """Execute a bulk UPDATE/DELETE and return the row count. Nothing is loaded in these
    short sessions, so there is no identity map to synchronise."""
    result = db.execute(statement, execution_options={"synchronize_session": False})
    return int(cast("CursorResult[Any]", result).rowcount)


_WRITE = "aiguillage_write"  # execution option: this transaction will write


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN away from the sqlite3 driver (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            # WAL: readers do not block the writer; busy_timeout: writers wait for
            # each other instead of failing with "database is locked".
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A deferred transaction that reads then writes cannot wait for the lock (SQLite
        # returns SQLITE_BUSY at once to avoid deadlock); writers take it up front.
        write = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


class SqlSessionStore:
    """Sessions in a SQL database (SQLAlchemy URL). Safe to share between threads."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        sqlite = parsed.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {}
        if sqlite:
            database = parsed.database or ""
            if database in ("", ":memory:"):
                # Each pooled connection would get its own empty database.
                raise ValueError("SqlSessionStore needs a SQLite file; use MemorySessionStore")
            if not database.startswith("file:"):  # URI filenames are the caller's business
                Path(database).parent.mkdir(parents=True, exist_ok=True)
        else:
            kwargs["pool_pre_ping"] = True  # survive a database restart behind a web server
        self._engine = create_engine(parsed, **kwargs)
        if sqlite:
            _configure_sqlite(self._engine)
        _Base.metadata.create_all(self._engine)
        self._read = sessionmaker(self._engine, expire_on_commit=False)
        self._write = sessionmaker(
            self._engine.execution_options(**{_WRITE: True}), expire_on_commit=False
        )
        log.info("session store ready (%s)", parsed.get_backend_name())

    @property
    def engine(self) -> Engine:
        return self._engine

    @contextmanager
    def _writing(self) -> Iterator[Session]:
        """One transaction, committed before returning (a turn is acknowledged only then)."""
        with self._write() as db, db.begin():
            yield db

    def close(self) -> None:
        self._engine.dispose()

    def create(self, now: datetime | None = None, session_id: str | None = None) -> SessionRecord:
        """A new session; `session_id` lets a channel derive its own unguessable id
        (Telegram: a keyed hash of the chat id), otherwise a random one is drawn."""
        moment = _utc(now)
        record = SessionRecord(
            id=session_id or new_session_id(), created_at=moment, updated_at=moment
        )
        with self._writing() as db:
            db.add(
                _SessionRow(
                    id=record.id,
                    created_at=moment,
                    updated_at=moment,
                    state=record.state.model_dump_json(),
                )
            )
        return record

    def get(self, session_id: str) -> SessionRecord:
        # One statement, so the state and the transcript come from the same snapshot.
        query = (
            select(_SessionRow, _MessageRow)
            .outerjoin(_MessageRow, _MessageRow.session_id == _SessionRow.id)
            .where(_SessionRow.id == session_id)
            .order_by(_MessageRow.id)
        )
        with self._read() as db:
            rows = db.execute(query).all()
        if not rows:
            raise SessionNotFoundError("no such session")
        head: _SessionRow = rows[0][0]
        return SessionRecord(
            id=head.id,
            created_at=head.created_at,
            updated_at=head.updated_at,
            state=DiagnosticState.model_validate_json(head.state),
            transcript=[_entry(message) for _, message in rows if message is not None],
        )

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
        moment = _utc(now)
        with self._writing() as db:
            self._touch(db, session_id, state, moment)
            db.add_all(
                [
                    _MessageRow(session_id=session_id, role="user", text=user_text, at=moment),
                    _MessageRow(
                        session_id=session_id,
                        role="assistant",
                        text=reply,
                        at=moment,
                        meta=_dump_meta(meta),
                    ),
                ]
            )

    def reset(self, session_id: str, *, now: datetime | None = None) -> None:
        moment = _utc(now)
        with self._writing() as db:
            self._touch(db, session_id, DiagnosticState(), moment)
            _run(db, delete(_MessageRow).where(_MessageRow.session_id == session_id))

    def delete(self, session_id: str) -> bool:
        with self._writing() as db:
            # Explicit, not only ON DELETE CASCADE: a SQLite connection opened elsewhere
            # without the foreign_keys pragma must not leave the messages behind.
            _run(db, delete(_MessageRow).where(_MessageRow.session_id == session_id))
            return _run(db, delete(_SessionRow).where(_SessionRow.id == session_id)) > 0

    def purge_older_than(self, cutoff: datetime) -> int:
        limit = _utc(cutoff)
        stale = select(_SessionRow.id).where(_SessionRow.updated_at < limit)
        with self._writing() as db:
            _run(db, delete(_MessageRow).where(_MessageRow.session_id.in_(stale)))
            purged = _run(db, delete(_SessionRow).where(_SessionRow.updated_at < limit))
        log.info("purged %d session(s)", purged)
        return purged

    def count(self) -> int:
        with self._read() as db:
            return int(db.scalar(select(func.count()).select_from(_SessionRow)) or 0)

    def unanswered(self, limit: int = 100) -> list[TranscriptEntry]:
        with self._read() as db:
            replies = db.scalars(
                select(_MessageRow)
                .where(_MessageRow.role == "assistant", _MessageRow.meta.like('%"declined":true%'))
                .order_by(_MessageRow.id.desc())
                .limit(limit)
            ).all()
            found: list[TranscriptEntry] = []
            for reply in replies:
                question = db.scalars(
                    select(_MessageRow)
                    .where(
                        _MessageRow.session_id == reply.session_id,
                        _MessageRow.role == "user",
                        _MessageRow.id < reply.id,
                    )
                    .order_by(_MessageRow.id.desc())
                    .limit(1)
                ).first()
                if question is not None:
                    found.append(_entry(question))
            return found

    @staticmethod
    def _touch(db: Session, session_id: str, state: DiagnosticState, moment: datetime) -> None:
        # Write first, check after: the update is also the existence test.
        touched = _run(
            db,
            update(_SessionRow)
            .where(_SessionRow.id == session_id)
            .values(state=state.model_dump_json(), updated_at=moment),
        )
        if not touched:
            raise SessionNotFoundError("no such session")


# --- Memory ---------------------------------------------------------------------------------


class MemorySessionStore:
    """Same behaviour as SqlSessionStore, in a dict. Records are copied in and out, as a
    database would, so callers cannot change stored sessions by mutating what they got."""

    def __init__(self) -> None:
        self._sessions: dict[str, SessionRecord] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        pass

    def create(self, now: datetime | None = None, session_id: str | None = None) -> SessionRecord:
        """A new session; `session_id` lets a channel derive its own unguessable id
        (Telegram: a keyed hash of the chat id), otherwise a random one is drawn."""
        moment = _utc(now)
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
        moment = _utc(now)
        entries = [
            TranscriptEntry(role="user", text=user_text, at=moment),
            # Through JSON, as in the database, so tests see what production would.
            TranscriptEntry(
                role="assistant", text=reply, at=moment, meta=_load_meta(_dump_meta(meta))
            ),
        ]
        with self._lock:
            record = self._find(session_id)
            record.state = state.model_copy(deep=True)
            record.transcript.extend(entry.model_copy(deep=True) for entry in entries)
            record.updated_at = moment

    def reset(self, session_id: str, *, now: datetime | None = None) -> None:
        moment = _utc(now)
        with self._lock:
            record = self._find(session_id)
            record.state = DiagnosticState()
            record.transcript = []
            record.updated_at = moment

    def delete(self, session_id: str) -> bool:
        with self._lock:
            return self._sessions.pop(session_id, None) is not None

    def purge_older_than(self, cutoff: datetime) -> int:
        limit = _utc(cutoff)
        with self._lock:
            stale = [key for key, record in self._sessions.items() if record.updated_at < limit]
            for key in stale:
                del self._sessions[key]
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

    def count(self) -> int:
        with self._lock:
            return len(self._sessions)

    def _find(self, session_id: str) -> SessionRecord:
        try:
            return self._sessions[session_id]
        except KeyError:
            raise SessionNotFoundError("no such session") from None


# --- Wiring ---------------------------------------------------------------------------------


def open_store(settings: Settings) -> SessionStore:
    return SqlSessionStore(settings.sessions_url)


def purge_expired(store: SessionStore, settings: Settings, now: datetime | None = None) -> int:
    """Forget sessions idle for longer than the retention period (GDPR: storage limitation)."""
    return store.purge_older_than(_utc(now) - timedelta(days=settings.session_retention_days))
