"""Where correction proposals wait for a curator: a table beside the sessions (same SQLAlchemy
engine, so SQLite or PostgreSQL alike), or a list in memory for the fast tests."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

from sqlalchemy import BigInteger, Integer, String, Text, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

from assistant.curation.corrections import Proposal, ProposalDraft, ProposalStatus
from assistant.sessions.base import utc
from assistant.sessions.store import _WRITE, _UtcDateTime

__all__ = ["MemoryProposalStore", "SqlProposalStore"]


class MemoryProposalStore:
    """Same behaviour as SqlProposalStore, in a list."""

    def __init__(self) -> None:
        self._rows: list[Proposal] = []
        self._lock = threading.Lock()

    def add(self, draft: ProposalDraft, now: dt.datetime | None = None) -> Proposal:
        with self._lock:
            proposal = _new(len(self._rows) + 1, draft, utc(now))
            self._rows.append(proposal)
            return proposal.model_copy()

    def get(self, proposal_id: int) -> Proposal | None:
        with self._lock:
            found = next((p for p in self._rows if p.id == proposal_id), None)
            return found.model_copy() if found else None

    def list(self, status: ProposalStatus | None = None, limit: int = 200) -> list[Proposal]:
        with self._lock:
            rows = [p for p in reversed(self._rows) if status is None or p.status == status]
            return [p.model_copy() for p in rows[:limit]]

    def decide(
        self, proposal_id: int, status: ProposalStatus, now: dt.datetime | None = None
    ) -> Proposal:
        with self._lock:
            for position, row in enumerate(self._rows):
                if row.id == proposal_id:
                    decided = row.model_copy(update={"status": status, "decided_at": utc(now)})
                    self._rows[position] = decided
                    return decided.model_copy()
        raise KeyError(proposal_id)

    def forget_emails(self, decided_before: dt.datetime) -> int:
        cutoff = utc(decided_before)
        with self._lock:
            old = [
                i
                for i, p in enumerate(self._rows)
                if p.email and p.decided_at is not None and p.decided_at < cutoff
            ]
            for i in old:
                self._rows[i] = self._rows[i].model_copy(update={"email": None})
            return len(old)


def _new(proposal_id: int, draft: ProposalDraft, moment: dt.datetime) -> Proposal:
    return Proposal.model_validate(
        {
            "id": proposal_id,
            "structure_id": draft.structure_id,
            "field": draft.field,
            "value": draft.value,
            "page_url": draft.page_url,
            "email": draft.email or None,
            "created_at": moment,
        }
    )


class _Base(DeclarativeBase):
    pass


class _ProposalRow(_Base):
    __tablename__ = "correction_proposals"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    structure_id: Mapped[str] = mapped_column(String(128), index=True)
    field: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(Text)
    page_url: Mapped[str] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)  # only for replying
    created_at: Mapped[dt.datetime] = mapped_column(_UtcDateTime)
    status: Mapped[str] = mapped_column(String(16), index=True, default="pending")
    decided_at: Mapped[dt.datetime | None] = mapped_column(_UtcDateTime, nullable=True)


def _proposal(row: _ProposalRow) -> Proposal:
    return Proposal.model_validate(
        {
            "id": row.id,
            "structure_id": row.structure_id,
            "field": row.field,
            "value": row.value,
            "page_url": row.page_url,
            "email": row.email,
            "created_at": row.created_at,
            "status": row.status,
            "decided_at": row.decided_at,
        }
    )


class SqlProposalStore:
    """Proposals in the sessions' database (pass `SqlSessionStore.engine`)."""

    def __init__(self, engine: Engine) -> None:
        _Base.metadata.create_all(engine)
        self._read = sessionmaker(engine, expire_on_commit=False)
        # SQLite: a writing transaction takes the lock up front (see store._configure_sqlite).
        options: dict[str, Any] = {_WRITE: True}
        self._write = sessionmaker(engine.execution_options(**options), expire_on_commit=False)

    def add(self, draft: ProposalDraft, now: dt.datetime | None = None) -> Proposal:
        row = _ProposalRow(
            structure_id=draft.structure_id,
            field=draft.field,
            value=draft.value,
            page_url=draft.page_url,
            email=draft.email or None,
            created_at=utc(now),
            status="pending",
        )
        with self._write() as db, db.begin():
            db.add(row)
            db.flush()
            return _proposal(row)

    def get(self, proposal_id: int) -> Proposal | None:
        with self._read() as db:
            row = db.get(_ProposalRow, proposal_id)
            return _proposal(row) if row else None

    def list(self, status: ProposalStatus | None = None, limit: int = 200) -> list[Proposal]:
        query = select(_ProposalRow).order_by(_ProposalRow.id.desc()).limit(limit)
        if status is not None:
            query = query.where(_ProposalRow.status == status)
        with self._read() as db:
            return [_proposal(row) for row in db.scalars(query)]

    def decide(
        self, proposal_id: int, status: ProposalStatus, now: dt.datetime | None = None
    ) -> Proposal:
        with self._write() as db, db.begin():
            row = db.get(_ProposalRow, proposal_id)
            if row is None:
                raise KeyError(proposal_id)
            row.status = status
            row.decided_at = utc(now)
            db.flush()
            return _proposal(row)

    def forget_emails(self, decided_before: dt.datetime) -> int:
        forget = (
            update(_ProposalRow)
            .where(_ProposalRow.email.is_not(None))
            .where(_ProposalRow.decided_at.is_not(None))
            .where(_ProposalRow.decided_at < utc(decided_before))
            .values(email=None)
        )
        with self._write() as db, db.begin():
            return int(getattr(db.execute(forget), "rowcount", 0) or 0)
