"""Usage by partner on the memory store: sessions seeded from two partners' frames and others
opened without one, grouped; an erased or purged session no longer counts; the panel of /admin
and its JSON, reached through the embed as a partner's visitor would. The SQL stores are in
tests/integration/test_usage_sql.py."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from html import unescape

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from assistant.curation.usage import SITE_LABEL, PartnerUsage, group_usage
from assistant.dialogue.conversation import Conversation
from assistant.dialogue.state import DiagnosticState
from assistant.render.parts import NoticePart
from assistant.runtime import Runtime
from assistant.sessions.base import SessionOpening
from assistant.sessions.memory import MemorySessionStore
from connectors.web.app import create_app
from connectors.web.embed import EMBED_COOKIE, place_of

TOKEN = "jeton-de-test-usage"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
# Orients in one message (tests/fast/test_engine.py), and names Guéret (Creuse, 23).
ORIENTING = (
    "Bonjour, je préside une asso à Guéret, on a 4 salariés. On galère avec la trésorerie, "
    "on voudrait pérenniser les postes"
)
T0 = dt.datetime(2025, 3, 1, 10, 0, tzinfo=dt.UTC)


@pytest.fixture()
def conversation(runtime: Runtime) -> Conversation:
    """The real engine over a store of its own, so the counts are this test's only."""
    return Conversation(runtime.engine, MemorySessionStore(), runtime.fiche_builder, 30)


def _seed(conversation: Conversation, runtime: Runtime, code: str, partner: str | None) -> str:
    place = place_of(code, runtime.territories)
    assert place is not None
    return conversation.start_seeded(place, partner, [NoticePart(text="Territoire indiqué.")])


def _by_label(rows: list[PartnerUsage]) -> dict[str, PartnerUsage]:
    return {row.label: row for row in rows}


# --------------------------------------------------------------------------- the grouping


def test_sessions_are_grouped_by_the_partner_of_their_seed_turn(
    conversation: Conversation, runtime: Runtime
) -> None:
    oriented = _seed(conversation, runtime, "87", "cress-na")
    conversation.send(oriented, ORIENTING)  # the person names Guéret: it ends in the Creuse
    _seed(conversation, runtime, "87", "cress-na")
    _seed(conversation, runtime, "2A", "dla-corse")
    _seed(conversation, runtime, "974", None)  # a frame without a partner slug
    plain, _ = conversation.start()  # the web chat: no seed turn at all
    conversation.send(plain, "Bonjour")

    rows = group_usage(conversation.store.partner_openings())
    assert [row.label for row in rows] == ["cress-na", "dla-corse", SITE_LABEL]
    by = _by_label(rows)
    cress = by["cress-na"]
    assert (cress.partner, cress.conversations, cress.oriented) == ("cress-na", 2, 1)
    assert [(d.departement, d.count) for d in cress.departements] == [("23", 1), ("87", 1)]
    assert cress.no_departement == 0 and cress.oriented_percent == 50
    today = dt.datetime.now(dt.UTC).date()
    assert cress.first == cress.last == today
    corse = by["dla-corse"]
    assert (corse.conversations, corse.oriented, corse.no_departement) == (1, 0, 0)
    assert [(d.departement, d.count) for d in corse.departements] == [("2A", 1)]
    site = by[SITE_LABEL]
    assert (site.partner, site.conversations, site.oriented) == (None, 2, 0)
    assert [(d.departement, d.count) for d in site.departements] == [("974", 1)]
    assert site.no_departement == 1  # the web chat session said only « Bonjour »


def test_an_erased_or_purged_session_no_longer_counts(
    conversation: Conversation, runtime: Runtime
) -> None:
    kept = _seed(conversation, runtime, "23", "cress-na")
    erased = _seed(conversation, runtime, "33", "cress-na")
    alone = _seed(conversation, runtime, "2B", "dla-corse")
    before = _by_label(group_usage(conversation.store.partner_openings()))
    assert before["cress-na"].conversations == 2 and "dla-corse" in before

    assert (
        conversation.send(erased, "effacer mes données").action == "forget"
    )  # « oubli » in the chat
    assert conversation.forget(alone)
    after = _by_label(group_usage(conversation.store.partner_openings()))
    assert list(after) == ["cress-na"]
    assert after["cress-na"].conversations == 1
    assert [d.departement for d in after["cress-na"].departements] == ["23"]

    conversation.get(kept)  # still there until retention
    conversation.purge_expired(now=dt.datetime.now(dt.UTC) + dt.timedelta(days=31))
    assert group_usage(conversation.store.partner_openings()) == []


def test_only_a_seed_turn_names_a_partner() -> None:
    store = MemorySessionStore()
    session = store.create()
    # A later reply whose meta happens to carry a "partner" key is no seed.
    store.save_turn(session.id, "bonjour", "Bonjour.", DiagnosticState(), {"partner": "faux"})
    empty = store.create()
    store.save_turn(empty.id, "", "…", DiagnosticState(), {"action": "seed", "partner": ""})
    assert [o.partner for o in store.partner_openings()] == [None, None]


def test_dates_orders_and_counts_of_the_grouping() -> None:
    def opening(partner: str | None, days: int, dep: str | None, oriented: bool) -> SessionOpening:
        return SessionOpening(
            opened=T0 + dt.timedelta(days=days), partner=partner, oriented=oriented, departement=dep
        )

    rows = group_usage(
        [
            opening(None, 0, "75", True),
            opening("b-reseau", 5, "69", False),
            opening("a-cress", 3, "13", True),
            opening("b-reseau", 1, "69", True),
            opening("b-reseau", 9, "01", False),
            opening("b-reseau", 2, None, False),
            opening("c-dla", 4, "13", False),
            opening("a-cress", 9, "13", False),
        ]
    )
    # Most conversations first, then by slug; the site last whatever its count.
    assert [row.label for row in rows] == ["b-reseau", "a-cress", "c-dla", SITE_LABEL]
    reseau = rows[0]
    assert (reseau.conversations, reseau.oriented, reseau.no_departement) == (4, 1, 1)
    assert (reseau.first, reseau.last) == (dt.date(2025, 3, 2), dt.date(2025, 3, 10))
    assert [(d.departement, d.count) for d in reseau.departements] == [("69", 2), ("01", 1)]
    assert reseau.oriented_percent == 25
    cress = rows[1]
    assert [(d.departement, d.count) for d in cress.departements] == [("13", 2)]
    assert (cress.first, cress.last) == (dt.date(2025, 3, 4), dt.date(2025, 3, 10))
    assert group_usage([]) == []


def test_an_opening_late_in_the_evening_in_paris_is_counted_on_its_utc_day() -> None:
    paris = dt.timezone(dt.timedelta(hours=1))
    late = dt.datetime(2025, 3, 1, 0, 30, tzinfo=paris)  # 28 February, 23:30 UTC
    (row,) = group_usage(
        [SessionOpening(opened=late, partner="p", oriented=False, departement=None)]
    )
    assert row.first == row.last == dt.date(2025, 2, 28)


# --------------------------------------------------------------------------- the page


@pytest.fixture()
def admin_runtime(runtime: Runtime) -> Runtime:
    return Runtime(
        runtime.settings.model_copy(update={"admin_token": SecretStr(TOKEN), "rate_limit": ""}),
        embedder=runtime.embedder,
        retriever=runtime.retriever,
        store=MemorySessionStore(),
    )


@pytest.fixture()
def app_client(admin_runtime: Runtime) -> Iterator[TestClient]:
    app = create_app(admin_runtime)
    app.state.rate_limiter = None
    with TestClient(app, base_url="https://testserver") as client:
        yield client


def _visit(client: TestClient, frame: str, text: str) -> str:
    """A visitor of a partner's page writes once in its frame; their session id."""
    client.cookies.clear()
    sent = client.post("/embed/chat", data={"text": text, "next": frame}, follow_redirects=False)
    assert sent.status_code == 303
    session = client.cookies.get(EMBED_COOKIE)
    assert session
    return session


def _panel(html: str) -> str:
    match = re.search(r'<section id="usage".*?</section>', html, re.S)
    assert match is not None
    return match.group(0)


def _row(panel: str, label: str) -> list[str]:
    for row in re.findall(r"<tr>(.*?)</tr>", panel, re.S):
        cells = [
            unescape(re.sub(r"<[^>]+>", "", c)).strip()
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        if cells and cells[0] == label:
            return cells
    raise AssertionError(f"no row for {label!r} in the panel")


def test_the_admin_page_shows_usage_by_partner(
    app_client: TestClient, admin_runtime: Runtime
) -> None:
    _visit(app_client, "/embed?territoire=87&partenaire=cress-na", ORIENTING)
    _visit(app_client, "/embed?territoire=87&partenaire=cress-na", "bonjour")
    erased = _visit(app_client, "/embed?territoire=2A&partenaire=dla-corse", "bonjour")
    _visit(app_client, "/embed?territoire=33&partenaire=dla-gironde", "bonjour")
    app_client.cookies.clear()
    assert app_client.post("/chat", data={"text": "bonjour"}).status_code in (200, 303)

    assert admin_runtime.conversation.forget(erased)
    assert app_client.get("/admin").status_code == 401  # no token, no figures
    page = app_client.get("/admin", headers=BEARER)
    assert page.status_code == 200
    assert '<a href="#usage">Usage par partenaire</a>' in page.text
    panel = _panel(page.text)
    today = dt.datetime.now(dt.UTC).date().strftime("%d/%m/%Y")
    assert _row(panel, "cress-na") == [
        "cress-na",
        "2",
        "1 (50 %)",
        today,
        today,
        "23 Creuse : 1 · 87 Haute-Vienne : 1",
    ]
    assert _row(panel, "dla-gironde")[1:3] == ["1", "0 (0 %)"]
    assert _row(panel, SITE_LABEL)[1:3] == ["1", "0 (0 %)"]
    assert "dla-corse" not in page.text  # its only session was erased
    assert "bonjour" not in panel.lower() and "trésorerie" not in panel  # no message text

    data = app_client.get("/admin/donnees.json", headers=BEARER).json()
    usage = {row["label"]: row for row in data["usage"]}
    assert list(usage) == ["cress-na", "dla-gironde", SITE_LABEL]
    assert usage["cress-na"]["conversations"] == 2 and usage["cress-na"]["oriented"] == 1
    assert usage["cress-na"]["departements"] == [
        {"departement": "23", "count": 1},
        {"departement": "87", "count": 1},
    ]
    assert usage[SITE_LABEL]["partner"] is None
    assert set(usage["cress-na"]) == {
        "partner",
        "label",
        "conversations",
        "oriented",
        "first",
        "last",
        "departements",
        "no_departement",
    }  # no session id, no text
