"""Session stores: the in-memory fake, a SQLite file and, when CI provides one, PostgreSQL
(`eval "$(bash .ci/postgres.sh)"` sets AIGUILLAGE_TEST_POSTGRES_URL)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from databases import reset_postgres
from sqlalchemy import create_engine, event, text
from typer.testing import CliRunner

from assistant.dialogue.state import DiagnosticState
from assistant.errors import SessionNotFoundError
from assistant.runtime import Runtime
from assistant.sessions.store import (
    MemorySessionStore,
    SessionStore,
    SqlSessionStore,
    open_store,
    purge_expired,
)
from assistant.settings import Settings
from connectors.cli.main import app

POSTGRES_URL = os.environ.get("AIGUILLAGE_TEST_POSTGRES_URL")
T0 = datetime(2025, 1, 15, 9, 30, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store URL; "memory" stands for MemorySessionStore."""
    kind: str = request.param
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'nested' / 'sessions.sqlite3'}"
    if kind == "postgres":
        if not POSTGRES_URL:
            pytest.skip(
                'AIGUILLAGE_TEST_POSTGRES_URL is not set; run `eval "$(bash .ci/postgres.sh)"`'
            )
        reset_postgres(POSTGRES_URL)
        return POSTGRES_URL
    return "memory"


@pytest.fixture
def opener(url: str) -> Iterator[Callable[[], SessionStore]]:
    """Opens stores on the same database; a fresh object stands for a restarted server."""
    opened: list[SessionStore] = []
    shared = MemorySessionStore()

    def open_one() -> SessionStore:
        store: SessionStore = shared if url == "memory" else SqlSessionStore(url)
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        store.close()


@pytest.fixture
def store(opener: Callable[[], SessionStore]) -> SessionStore:
    return opener()


def _message_count(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT COUNT(*) FROM messages")).scalar_one())
    finally:
        engine.dispose()


def _state() -> DiagnosticState:
    # From JSON-like data, as the store reads it back; nested models included.
    return DiagnosticState.model_validate(
        {
            "stage": "creation",
            "needs": ["financement"],
            "departement": "23",
            "commune": "Guéret",
            "context": ["rural"],
            "employees": 3,
            "unknown": ["sector"],
            "territory_candidates": [
                {
                    "kind": "commune",
                    "name": "Guéret",
                    "commune": "Guéret",
                    "commune_code": "23096",
                    "departement": "23",
                    "departement_name": "Creuse",
                    "region": "75",
                    "region_name": "Nouvelle-Aquitaine",
                    "population": 12_000,
                }
            ],
            "asked": ["stage", "departement"],
            "last_question": "needs",
        }
    )


def test_create_and_get(store: SessionStore) -> None:
    record = store.create(now=T0)
    assert record.created_at == record.updated_at == T0
    assert record.state == DiagnosticState()
    assert record.transcript == []
    assert store.get(record.id) == record
    assert store.count() == 1


def test_create_defaults_to_now_in_utc(store: SessionStore) -> None:
    before = datetime.now(UTC)
    record = store.get(store.create().id)
    assert before <= record.created_at <= datetime.now(UTC)
    assert record.created_at.utcoffset() == timedelta(0)


def test_naive_times_are_refused(store: SessionStore) -> None:
    with pytest.raises(ValueError, match="timezone"):
        store.create(now=datetime(2025, 1, 1))


def test_ids_are_unguessable_and_unique(store: SessionStore) -> None:
    ids = {store.create().id for _ in range(300)}
    assert len(ids) == 300
    assert all(len(i) == 32 and i.replace("-", "").replace("_", "").isalnum() for i in ids)
    assert store.count() == 300


def test_unknown_session(store: SessionStore) -> None:
    with pytest.raises(SessionNotFoundError):
        store.get("nope")
    with pytest.raises(SessionNotFoundError):
        store.save_turn("nope", "bonjour", "bonjour !", DiagnosticState())
    with pytest.raises(SessionNotFoundError):
        store.reset("nope")
    assert store.delete("nope") is False
    assert store.count() == 0


def test_save_turn_is_durable(opener: Callable[[], SessionStore]) -> None:
    first = opener()
    session_id = first.create(now=T0).id
    later = T0 + timedelta(minutes=2)
    first.save_turn(session_id, "Je crée une SCOP à Guéret", "D’accord.", _state(), now=later)
    first.save_turn(
        session_id, "Financement", "Voici…", _state(), {"cards": ["france-active"]}, now=later
    )
    first.close()

    record = opener().get(session_id)  # a new store object: what a restarted server sees
    assert record.updated_at == later
    assert record.created_at == T0
    assert record.state == _state()
    assert [(e.role, e.text) for e in record.transcript] == [
        ("user", "Je crée une SCOP à Guéret"),
        ("assistant", "D’accord."),
        ("user", "Financement"),
        ("assistant", "Voici…"),
    ]
    assert all(e.at == later for e in record.transcript)
    assert record.transcript[1].meta is None
    assert record.transcript[3].meta == {"cards": ["france-active"]}


def test_state_round_trip(store: SessionStore) -> None:
    session_id = store.create().id
    state = _state()
    store.save_turn(session_id, "a", "b", state)
    got = store.get(session_id).state
    assert got == state
    assert got.model_dump() == state.model_dump()
    assert got.territory_candidates[0].population == 12_000


def test_stored_records_are_not_aliased(store: SessionStore) -> None:
    session_id = store.create().id
    state = _state()
    store.save_turn(session_id, "a", "b", state)
    state.needs.append("local")
    store.get(session_id).state.needs.append("local")
    assert store.get(session_id).state == _state()


def test_reset_clears_state_and_transcript(store: SessionStore) -> None:
    session_id = store.create(now=T0).id
    store.save_turn(session_id, "a", "b", _state(), now=T0)
    store.reset(session_id, now=T0 + timedelta(hours=1))
    record = store.get(session_id)
    assert record.state == DiagnosticState()
    assert record.transcript == []
    assert record.updated_at == T0 + timedelta(hours=1)
    assert record.created_at == T0


def test_delete_erases_everything(store: SessionStore, url: str) -> None:
    kept = store.create().id
    store.save_turn(kept, "garder", "ok", DiagnosticState())
    gone = store.create().id
    store.save_turn(gone, "effacer", "ok", _state())
    store.save_turn(gone, "encore", "ok", _state())

    assert store.delete(gone) is True
    with pytest.raises(SessionNotFoundError):
        store.get(gone)
    assert store.delete(gone) is False
    assert store.count() == 1
    assert len(store.get(kept).transcript) == 2
    if url != "memory":
        assert _message_count(url) == 2  # only the kept session's turn

        store.delete(kept)
        assert _message_count(url) == 0


def test_purge_by_cutoff(store: SessionStore, url: str) -> None:
    old = store.create(now=T0).id
    store.save_turn(old, "vieux", "ok", _state(), now=T0 + timedelta(days=1))
    revived = store.create(now=T0).id
    store.save_turn(revived, "revenu", "ok", _state(), now=T0 + timedelta(days=100))
    fresh = store.create(now=T0 + timedelta(days=100)).id

    assert store.purge_older_than(T0 + timedelta(days=50)) == 1
    with pytest.raises(SessionNotFoundError):
        store.get(old)
    assert {store.get(i).id for i in (revived, fresh)} == {revived, fresh}
    assert store.count() == 2
    if url != "memory":
        assert _message_count(url) == 2
    assert store.purge_older_than(T0 + timedelta(days=50)) == 0


def test_purge_expired_uses_retention(store: SessionStore) -> None:
    settings = Settings(session_retention_days=30)
    stale = store.create(now=T0).id
    recent = store.create(now=T0 + timedelta(days=10)).id
    assert purge_expired(store, settings, now=T0 + timedelta(days=35)) == 1
    with pytest.raises(SessionNotFoundError):
        store.get(stale)
    assert store.get(recent).id == recent


def test_concurrent_turns(opener: Callable[[], SessionStore]) -> None:
    """8 threads sharing one store, as under a web server; on SQLite, no "database is locked"."""
    store = opener()
    threads_n, turns = 8, 25
    ids = [store.create().id for _ in range(threads_n // 2)]
    errors: list[BaseException] = []
    start = threading.Barrier(threads_n)

    def talk(index: int) -> None:
        try:
            start.wait()
            for turn in range(turns):
                # Two threads per session: contention on the same rows too.
                session_id = ids[index % len(ids)]
                store.save_turn(session_id, f"{index}:{turn}", "ok", _state())
                store.get(session_id)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    workers = [threading.Thread(target=talk, args=(i,)) for i in range(threads_n)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert not errors, errors[:3]
    for n, session_id in enumerate(ids):
        entries = store.get(session_id).transcript
        # Turns never interleave (each question is followed by its reply) and none is lost.
        assert [e.role for e in entries] == ["user", "assistant"] * (len(entries) // 2)
        expected = [f"{i}:{t}" for i in range(n, threads_n, len(ids)) for t in range(turns)]
        assert sorted(e.text for e in entries[::2]) == sorted(expected)


# --- SQLite specifics -----------------------------------------------------------------------


def _sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'var' / 'sessions.sqlite3'}"


def test_sqlite_wal_mode(tmp_path: Path) -> None:
    store = SqlSessionStore(_sqlite_url(tmp_path))
    try:
        store.create()
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() > 0
    finally:
        store.close()
    # WAL is a property of the file: a plain connection sees it too.
    engine = create_engine(_sqlite_url(tmp_path))
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
    engine.dispose()


def test_sqlite_delete_without_foreign_keys_leaves_no_orphans(tmp_path: Path) -> None:
    url = _sqlite_url(tmp_path)
    store = SqlSessionStore(url)
    try:
        session_id = store.create().id
        store.save_turn(session_id, "a", "b", _state())

        # As if the file were shared with a connection lacking the pragma (SQLite's default).
        def foreign_keys_off(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
            dbapi_connection.execute("PRAGMA foreign_keys=OFF")

        event.listen(store.engine, "checkout", foreign_keys_off)
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 0
        assert store.delete(session_id) is True
        assert _message_count(url) == 0
    finally:
        store.close()


def test_sqlite_in_memory_is_refused() -> None:
    with pytest.raises(ValueError, match="SQLite file"):
        SqlSessionStore("sqlite://")


def test_open_store_uses_settings(tmp_path: Path) -> None:
    store = open_store(Settings(data_dir=tmp_path / "data"))
    try:
        session_id = store.create().id
        assert (tmp_path / "data" / "sessions.sqlite3").exists()
        assert store.get(session_id).id == session_id
    finally:
        store.close()


def test_serve_refuses_to_start_without_its_database(runtime: Runtime) -> None:
    env = {
        "AIGUILLAGE_DATA_DIR": str(runtime.settings.data_dir),
        "AIGUILLAGE_DATABASE_URL": "postgresql+psycopg://someone:s3cret@127.0.0.1:1/nowhere",
    }
    result = CliRunner().invoke(app, ["serve", "--port", "1"], env=env)
    assert result.exit_code == 2
    assert "base des sessions" in result.output and "AIGUILLAGE_DATABASE_URL" in result.output
    assert "s3cret" not in result.output and "Traceback" not in result.output


def test_an_event_is_claimed_once_across_stores(opener: Callable[[], SessionStore]) -> None:
    """Two replicas (two store objects on one database) racing on one update: one wins."""
    first, second = opener(), opener()
    results: list[bool] = []
    lock = threading.Lock()

    def claim(store: SessionStore) -> None:
        won = store.claim_once("telegram-update:42")
        with lock:
            results.append(won)

    threads = [threading.Thread(target=claim, args=(s,)) for s in (first, second) * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert sorted(results) == [False] * 7 + [True]
    assert first.claim_once("telegram-update:43") and not second.claim_once("telegram-update:43")
    # Claims go with retention, like the sessions.
    later = datetime.now(UTC) + timedelta(days=1)
    first.purge_older_than(later)
    assert second.claim_once("telegram-update:42")


def test_one_sessions_turns_never_interleave_across_stores(
    url: str, opener: Callable[[], SessionStore]
) -> None:
    """Two replicas (two store objects) taking one session's turn lock: the second waits.
    SQLite has no lock across processes: there, two threads of one process (one store)."""
    first = opener()
    second = first if url.startswith("sqlite") else opener()
    held = threading.Event()
    waited: list[float] = []

    def hold() -> None:
        with first.turn_lock("sess-a"):
            held.set()
            time.sleep(0.4)

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(timeout=10)
    started = time.monotonic()
    with second.turn_lock("sess-b"):  # another session: no wait
        waited.append(time.monotonic() - started)
    started = time.monotonic()
    with second.turn_lock("sess-a"):
        waited.append(time.monotonic() - started)
    holder.join(timeout=10)
    assert waited[0] < 0.2 and waited[1] > 0.25, waited
