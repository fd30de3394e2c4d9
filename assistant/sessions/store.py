"""The real session store over SQLAlchemy: a SQLite file (WAL) or PostgreSQL, by URL."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from pydantic import BaseModel
from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    TypeDecorator,
    and_,
    create_engine,
    delete,
    event,
    func,
    select,
    update,
)
from sqlalchemy.engine import Connection, CursorResult, Dialect, Engine, make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.sql import Executable

from assistant.dialogue.state import DiagnosticState
from assistant.errors import SessionNotFoundError, SessionStoreUnavailableError
from assistant.sessions.base import (
    SessionOpening,
    SessionRecord,
    SessionStore,
    TranscriptEntry,
    dump_meta,
    load_meta,
    new_session_id,
    purge_expired,
    seed_partner,
    utc,
)
from assistant.sessions.memory import MemorySessionStore
from assistant.settings import Settings

# Re-exported: the seam's names are also reachable from here.
__all__ = [
    "MemorySessionStore",
    "SessionRecord",
    "SessionStore",
    "SqlSessionStore",
    "TranscriptEntry",
    "new_session_id",
    "open_store",
    "purge_expired",
]

log = logging.getLogger(__name__)
CREATE_ATTEMPTS = 4  # replicas starting together on a fresh database (see _create_tables)

# --- SQL ------------------------------------------------------------------------------------


class _UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out: SQLite drops the offset, PostgreSQL keeps it."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else utc(value)

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


class _ClaimRow(_Base):
    """Keys of events already handled (idempotency), e.g. "telegram-update:123"."""

    __tablename__ = "claims"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    claimed_at: Mapped[datetime] = mapped_column(_UtcDateTime, index=True)


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


# How dump_meta writes a seed turn's meta (compact JSON): a quote inside a message's text is
# escaped there, so only a real seed matches; the meta is checked again once parsed.
_SEED_META = '%"action":"seed"%'


class _StateDigest(BaseModel):
    """The two fields of a stored DiagnosticState that the usage report reads."""

    departement: str | None = None
    oriented: bool = False


# JSON through pydantic, so datetimes, enums etc. in `meta` are serialisable.


def _entry(row: _MessageRow) -> TranscriptEntry:
    return TranscriptEntry.model_validate(
        {"role": row.role, "text": row.text, "at": row.at, "meta": load_meta(row.meta)}
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
        self._create_tables(parsed.render_as_string(hide_password=True))
        self._turn_locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._read = sessionmaker(self._engine, expire_on_commit=False)
        self._write = sessionmaker(
            self._engine.execution_options(**{_WRITE: True}), expire_on_commit=False
        )
        log.info("session store ready (%s)", parsed.get_backend_name())

    def _create_tables(self, where: str) -> None:
        """Create what is missing. Replicas starting together race on a fresh database (both
        see no table, one CREATE loses): the loser tries again and finds the tables there."""
        for attempt in range(CREATE_ATTEMPTS):
            try:
                _Base.metadata.create_all(self._engine)
                return
            except SQLAlchemyError as exc:
                if attempt + 1 < CREATE_ATTEMPTS:
                    time.sleep(0.2 * (attempt + 1))
                    continue
                raise SessionStoreUnavailableError(
                    f"la base des sessions ({where}) ne peut pas être ouverte : "
                    f"{type(exc).__name__}. Vérifiez AIGUILLAGE_DATABASE_URL et que la base "
                    "répond."
                ) from exc

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
        moment = utc(now)
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
        moment = utc(now)
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
                        meta=dump_meta(meta),
                    ),
                ]
            )

    def reset(self, session_id: str, *, now: datetime | None = None) -> None:
        moment = utc(now)
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
        limit = utc(cutoff)
        stale = select(_SessionRow.id).where(_SessionRow.updated_at < limit)
        with self._writing() as db:
            _run(db, delete(_MessageRow).where(_MessageRow.session_id.in_(stale)))
            purged = _run(db, delete(_SessionRow).where(_SessionRow.updated_at < limit))
            _run(db, delete(_ClaimRow).where(_ClaimRow.claimed_at < limit))
        with self._locks_guard:  # the per-session locks of idle sessions go too
            self._turn_locks = {k: v for k, v in self._turn_locks.items() if v.locked()}
        log.info("purged %d session(s)", purged)
        return purged

    @contextmanager
    def turn_lock(self, session_id: str) -> Iterator[None]:
        # In this process, a lock per session; across processes (replicas), PostgreSQL's
        # advisory lock on a key derived from the id, held on its own connection. SQLite has
        # no such lock: several processes over one SQLite file do not serialise a session.
        with self._local_lock(session_id):
            if self._engine.dialect.name != "postgresql":
                yield
                return
            key = int.from_bytes(hashlib.sha256(session_id.encode()).digest()[:8], signed=True)
            with self._engine.connect() as conn:
                conn.exec_driver_sql("SELECT pg_advisory_lock(%s)", (key,))
                try:
                    yield
                finally:
                    conn.exec_driver_sql("SELECT pg_advisory_unlock(%s)", (key,))
                    conn.commit()

    def _local_lock(self, session_id: str) -> threading.Lock:
        with self._locks_guard:
            return self._turn_locks.setdefault(session_id, threading.Lock())

    def claim_once(self, key: str, now: datetime | None = None) -> bool:
        # The primary key decides, in the database: two replicas claiming at once get one
        # True and one IntegrityError, whatever the isolation level.
        try:
            with self._writing() as db:
                db.add(_ClaimRow(key=key[:128], claimed_at=utc(now)))
        except IntegrityError:
            return False
        return True

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

    def partner_openings(self) -> list[SessionOpening]:
        # One statement (one snapshot): every session beside its seed reply, if it has one.
        # The meta is plain text on SQLite and PostgreSQL alike: filtered with LIKE, read in
        # Python, so one code path serves both. No transcript is loaded.
        query = (
            select(_SessionRow.id, _SessionRow.created_at, _SessionRow.state, _MessageRow.meta)
            .outerjoin(
                _MessageRow,
                and_(
                    _MessageRow.session_id == _SessionRow.id,
                    _MessageRow.role == "assistant",
                    _MessageRow.meta.like(_SEED_META),
                ),
            )
            .order_by(_MessageRow.id)
        )
        with self._read() as db:
            rows = db.execute(query).all()
        openings: dict[str, SessionOpening] = {}
        for session_id, created_at, state, meta in rows:
            if session_id in openings:  # a second seed reply (never written): the first wins
                continue
            digest = _StateDigest.model_validate_json(state)
            openings[session_id] = SessionOpening(
                opened=created_at,
                partner=seed_partner(load_meta(meta)),
                oriented=digest.oriented,
                departement=digest.departement,
            )
        return list(openings.values())

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


def open_store(settings: Settings) -> SessionStore:
    return SqlSessionStore(settings.sessions_url)
