"""Usage by partner on the SQL store: a SQLite file and, when CI provides one, PostgreSQL
(`eval "$(bash .ci/postgres.sh)"` sets AIGUILLAGE_TEST_POSTGRES_URL), the same answers as the
memory fake (tests/fast/test_usage.py); and the /admin panel over a SQLite store."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from databases import reset_postgres
from fastapi.testclient import TestClient
from pydantic import SecretStr

from assistant.curation.usage import SITE_LABEL, group_usage
from assistant.dialogue.state import DiagnosticState
from assistant.runtime import Runtime
from assistant.search.cards import load_cards
from assistant.search.fakes import HashEmbedder, InMemoryRetriever
from assistant.sessions.base import SessionOpening, SessionStore
from assistant.sessions.memory import MemorySessionStore
from assistant.sessions.store import SqlSessionStore
from assistant.settings import Settings
from connectors.web.app import create_app

POSTGRES_URL = os.environ.get("AIGUILLAGE_TEST_POSTGRES_URL")
T0 = datetime(2025, 1, 15, 9, 30, tzinfo=UTC)
TOKEN = "jeton-de-test-usage"


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SessionStore]:
    kind: str = request.param
    opened: SessionStore
    if kind == "memory":
        opened = MemorySessionStore()
    elif kind == "sqlite":
        opened = SqlSessionStore(f"sqlite:///{tmp_path / 'sessions.sqlite3'}")
    else:
        if not POSTGRES_URL:
            pytest.skip(
                'AIGUILLAGE_TEST_POSTGRES_URL is not set; run `eval "$(bash .ci/postgres.sh)"`'
            )
        reset_postgres(POSTGRES_URL)
        opened = SqlSessionStore(POSTGRES_URL)
    yield opened
    opened.close()


def _seeded(store: SessionStore, partner: str | None, departement: str | None, at: datetime) -> str:
    """A session as `Conversation.start_seeded` writes it (its first turn: the seed)."""
    session = store.create(now=at)
    state = DiagnosticState(departement=departement, territory_preset=departement is not None)
    meta = {"action": "seed", "partner": partner, "parts": [{"kind": "notice", "text": "…"}]}
    store.save_turn(session.id, "", "Votre territoire est déjà indiqué.", state, meta, now=at)
    return session.id


def _turn(
    store: SessionStore, session_id: str, text: str, state: DiagnosticState, at: datetime
) -> None:
    meta = {"action": "reply", "contacts": ["dla-23"] if state.oriented else []}
    store.save_turn(session_id, text, "Réponse.", state, meta, now=at)


def _key(opening: SessionOpening) -> tuple[str, str, bool, str]:
    return (opening.partner or "", opening.departement or "", opening.oriented, str(opening.opened))


def test_partner_openings_read_the_seed_and_the_final_state(store: SessionStore) -> None:
    oriented = _seeded(store, "cress-na", "87", T0)
    _turn(store, oriented, "à Guéret", DiagnosticState(departement="23", oriented=True), T0)
    _seeded(store, "cress-na", "87", T0 + timedelta(days=2))
    _seeded(store, "dla-23", "23", T0 + timedelta(days=1))
    _seeded(store, None, "974", T0)
    plain = store.create(now=T0)
    # A reply echoing what a seed meta looks like is no seed: quotes in a text are escaped.
    echo = '{"action":"seed","partner":"faux"}'
    parts = [{"kind": "ack", "text": f"Vous avez écrit : {echo}"}]
    store.save_turn(
        plain.id, echo, "Réponse.", DiagnosticState(), {"action": "reply", "parts": parts}, now=T0
    )
    store.create(now=T0 + timedelta(days=3))  # opened, never written in

    openings = sorted(store.partner_openings(), key=_key)
    assert [_key(o) for o in openings] == sorted(
        [
            ("", "", False, str(T0)),
            ("", "", False, str(T0 + timedelta(days=3))),
            ("", "974", False, str(T0)),
            ("cress-na", "23", True, str(T0)),
            ("cress-na", "87", False, str(T0 + timedelta(days=2))),
            ("dla-23", "23", False, str(T0 + timedelta(days=1))),
        ]
    )
    assert all(o.opened.tzinfo is not None for o in openings)

    rows = {row.label: row for row in group_usage(openings)}
    assert list(rows) == ["cress-na", "dla-23", SITE_LABEL]
    cress = rows["cress-na"]
    assert (cress.conversations, cress.oriented) == (2, 1)
    assert (cress.first, cress.last) == (T0.date(), (T0 + timedelta(days=2)).date())
    assert rows[SITE_LABEL].conversations == 3 and rows[SITE_LABEL].no_departement == 2


def test_erased_and_purged_sessions_leave_the_report(store: SessionStore) -> None:
    _seeded(store, "cress-na", "23", T0 - timedelta(days=60))
    erased = _seeded(store, "dla-23", "23", T0)
    _seeded(store, "cress-na", "87", T0)
    assert store.delete(erased)
    assert store.purge_older_than(T0 - timedelta(days=30)) == 1
    (row,) = group_usage(store.partner_openings())
    assert (row.label, row.conversations) == ("cress-na", 1)
    assert [d.departement for d in row.departements] == ["87"]


def test_a_restart_keeps_the_session_but_not_its_partner(store: SessionStore) -> None:
    """What « recommencer » does today: `reset` deletes the transcript, seed turn included, so
    the session counts under the site from then on (reported; not changed here)."""
    session = _seeded(store, "cress-na", "23", T0)
    store.reset(session, now=T0 + timedelta(minutes=5))
    (opening,) = store.partner_openings()
    assert (opening.partner, opening.departement) == (None, None)


# --------------------------------------------------------------------------- the page


def test_the_admin_panel_over_a_sqlite_store(tmp_path: Path) -> None:
    store = SqlSessionStore(f"sqlite:///{tmp_path / 'sessions.sqlite3'}")
    settings = Settings(data_dir=tmp_path / "data", rate_limit="", admin_token=SecretStr(TOKEN))
    embedder = HashEmbedder()
    runtime = Runtime(
        settings,
        embedder=embedder,
        retriever=InMemoryRetriever(load_cards(settings.cards_dir), embedder),
        store=store,
    )
    # Within retention: the web app purges expired sessions when it starts.
    first = datetime.now(UTC) - timedelta(days=5)
    last = first + timedelta(days=2)
    oriented = _seeded(store, "cress-na", "87", first)
    _turn(store, oriented, "à Guéret", DiagnosticState(departement="23", oriented=True), first)
    _seeded(store, "cress-na", "87", last)
    _seeded(store, None, None, first)
    try:
        with TestClient(create_app(runtime)) as client:
            assert client.get("/admin/donnees.json").status_code == 401
            page = client.get("/admin", headers={"Authorization": f"Bearer {TOKEN}"})
            assert page.status_code == 200
            panel = re.search(r'<section id="usage".*?</section>', page.text, re.S)
            assert panel is not None
            row = re.search(r"<code>cress-na</code></th>(.*?)</tr>", panel.group(0), re.S)
            assert row is not None
            cells = re.findall(r"<td>(.*?)</td>", row.group(1))
            assert cells == [
                "2",
                "1 (50 %)",
                first.strftime("%d/%m/%Y"),
                last.strftime("%d/%m/%Y"),
                "23 Creuse : 1 · 87 Haute-Vienne : 1",
            ]
            assert '<th scope="row">site Aiguillage</th><td>1</td>' in panel.group(0)
    finally:
        store.close()
