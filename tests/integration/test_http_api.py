"""The HTTP contract of PRODUCT.md against a real uvicorn server on 127.0.0.1, plus the
no-JavaScript chat flow, the security headers, bad inputs and the first-load page weight."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from typer.testing import CliRunner
from webserver import running_server

from assistant.runtime import Runtime
from assistant.settings import Settings
from connectors.cli.main import app as cli_app
from connectors.web.app import create_app

SCENARIOS = Path(__file__).parent.parent / "scenarios"
GUERET = [
    "Bonjour, je suis presidente d'une asso a Gueret, on a 4 salariés (animation + accueil)",
    "on galere avec la tresorerie, les subventions arrivent toujours en retard",
    "on voudrait surtout pérenniser les postes, 2 sont en PEC qui finissent en juin",
]
PAGE_BUDGET = 60 * 1024
PART_TYPES = ("ack", "answer", "contacts", "steps", "guides", "question", "notice")


@pytest.fixture(scope="module")
def base_url(runtime: Runtime) -> Iterator[str]:
    with running_server(create_app(runtime)) as url:
        yield url


@pytest.fixture()
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=60) as c:
        yield c


def new_session(client: httpx.Client) -> str:
    response = client.post("/api/sessions")
    assert response.status_code == 201
    session_id = response.json()["session_id"]
    assert isinstance(session_id, str) and session_id
    return session_id


def assert_french_problem(response: httpx.Response, *statuses: int) -> None:
    assert response.status_code in statuses, (response.status_code, response.text)
    detail = response.json()["detail"]
    assert isinstance(detail, str) and detail


# --------------------------------------------------------------------------- contract


def test_healthz(client: httpx.Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_openapi_and_docs(client: httpx.Client) -> None:
    schema = client.get("/openapi.json").json()
    for path in ("/api/sessions", "/api/sessions/{session_id}/messages", "/healthz"):
        assert path in schema["paths"]
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assert "unsafe-inline" not in docs.headers["content-security-policy"]


def test_openapi_documents_the_reply_parts(client: httpx.Client) -> None:
    schema = client.get("/openapi.json").json()
    parts = schema["components"]["schemas"]["MessageOut"]["properties"]["parts"]
    for kind in PART_TYPES:
        assert f"`{kind}`" in parts["description"]
    mapping = parts["items"]["discriminator"]["mapping"]
    assert set(mapping) == set(PART_TYPES)
    for ref in mapping.values():
        assert ref.rsplit("/", 1)[-1] in schema["components"]["schemas"]


def test_three_turn_conversation_then_erasure(client: httpx.Client) -> None:
    session_id = new_session(client)
    body: dict[str, object] = {}
    for text in GUERET:
        response = client.post(f"/api/sessions/{session_id}/messages", json={"text": text})
        assert response.status_code == 200, response.text
        body = response.json()
        assert {"reply", "quick_replies", "state", "contacts", "sources"} <= body.keys()
        assert isinstance(body["reply"], str) and body["reply"]
        assert all(isinstance(q, str) for q in body["quick_replies"])  # type: ignore[attr-defined]
    state = body["state"]
    assert isinstance(state, dict)
    assert {"stage", "profile", "needs", "departement", "region"} <= state.keys()
    assert state["departement"] == "23" and state["region"] == "75"
    assert state["profile"] == "association-employeuse"
    assert "description" not in state  # the story stays in the session store
    contacts = body["contacts"]
    assert isinstance(contacts, list) and 2 <= len(contacts) <= 5
    for contact in contacts:
        assert {"id", "name", "kind", "why"} <= contact.keys()
    kinds = {c["kind"] for c in contacts}
    assert {"dla", "cress"} <= kinds
    sources = body["sources"]
    assert isinstance(sources, list) and sources
    assert all({"id", "title"} <= s.keys() for s in sources)

    record = client.get(f"/api/sessions/{session_id}")
    assert record.status_code == 200
    data = record.json()
    assert data["state"]["departement"] == "23"
    assert "description" not in data["state"]
    roles = [e["role"] for e in data["transcript"]]
    assert roles == ["user", "assistant"] * 3
    assert data["transcript"][0]["text"] == GUERET[0]

    orientation = client.get(f"/api/sessions/{session_id}/contacts").json()
    assert {"dla", "cress"} <= {c["kind"] for c in orientation["contacts"]}

    markdown = client.get(f"/api/sessions/{session_id}/fiche", params={"format": "md"})
    assert markdown.status_code == 200
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert "Creuse" in markdown.text
    html = client.get(f"/api/sessions/{session_id}/fiche", params={"format": "html"})
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    csp = html.headers["content-security-policy"]
    assert "'sha256-" in csp and "unsafe-inline" not in csp
    assert client.get(f"/api/sessions/{session_id}/fiche?format=pdf").status_code == 422

    assert client.delete(f"/api/sessions/{session_id}").status_code == 204
    base = f"/api/sessions/{session_id}"
    assert_french_problem(client.get(base), 404)
    assert_french_problem(client.post(f"{base}/messages", json={"text": "Bonjour"}), 404)
    assert_french_problem(client.get(f"{base}/contacts"), 404)
    assert_french_problem(client.get(f"{base}/fiche"), 404)
    assert_french_problem(client.delete(base), 404)


def test_contacts_turn_is_typed_parts(client: httpx.Client) -> None:
    session_id = new_session(client)
    url = f"/api/sessions/{session_id}/messages"
    assert client.post(url, json={"text": GUERET[0]}).status_code == 200
    response = client.post(url, json={"text": "Financement"})
    assert response.status_code == 200, response.text
    body = response.json()
    parts = body["parts"]
    types = [p["type"] for p in parts]
    assert set(types) <= set(PART_TYPES)
    # The orientation turn: what was understood, the contacts, the steps, the guides.
    for kind in ("ack", "contacts", "steps", "guides"):
        assert types.count(kind) == 1, types
    assert types.index("ack") < types.index("contacts") < types.index("steps")
    assert types.index("steps") < types.index("guides")
    by_type = {p["type"]: p for p in parts}

    contacts = by_type["contacts"]
    assert contacts["title"] and contacts["text"]
    assert body["contacts"] and contacts["contacts"] == body["contacts"]
    for contact in contacts["contacts"]:
        assert contact["what"] and contact["why"] and contact["how_to_reach"]
    assert "DLA de la Creuse" in {c["name"] for c in contacts["contacts"]}
    steps = by_type["steps"]
    assert steps["title"] and steps["steps"] == body["next_steps"]
    guides = by_type["guides"]
    assert guides["title"] and guides["guides"]
    assert all({"id", "title", "origin"} <= g.keys() for g in guides["guides"])
    # Each part's text is its plain rendering, and the reply is made of them.
    for part in parts:
        assert part["text"] and part["text"].strip() in body["reply"]

    # The transcript keeps the parts, so the page can redraw the turn on reload.
    stored = client.get(f"/api/sessions/{session_id}").json()["transcript"][-1]
    assert stored["role"] == "assistant" and stored["meta"]["parts"] == parts


def test_unknown_session_is_404(client: httpx.Client) -> None:
    for response in (
        client.get("/api/sessions/nope"),
        client.post("/api/sessions/nope/messages", json={"text": "Bonjour"}),
        client.get("/api/sessions/nope/contacts"),
        client.get("/api/sessions/nope/fiche?format=html"),
        client.delete("/api/sessions/nope"),
    ):
        assert_french_problem(response, 404)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("content", "headers", "statuses"),
    [
        pytest.param(
            b'{"text": "Bonjour"', {"content-type": "application/json"}, (422,), id="json"
        ),
        pytest.param(b"{}", {"content-type": "application/json"}, (422,), id="missing-text"),
        pytest.param(b"", {"content-type": "application/json"}, (422,), id="empty-body"),
        pytest.param(b'{"text": ""}', {"content-type": "application/json"}, (422,), id="empty"),
        pytest.param(
            b'{"text": "  \\n "}', {"content-type": "application/json"}, (422,), id="blank"
        ),
        pytest.param(b'{"text": 42}', {"content-type": "application/json"}, (422,), id="number"),
        pytest.param(b'["Bonjour"]', {"content-type": "application/json"}, (422,), id="list"),
        pytest.param(b'{"text": "Bonjour"}', {"content-type": "text/plain"}, (415, 422), id="type"),
        pytest.param(b"text=Bonjour", {}, (415, 422), id="form-encoded"),
    ],
)
def test_bad_message_is_a_clear_4xx(
    client: httpx.Client, content: bytes, headers: dict[str, str], statuses: tuple[int, ...]
) -> None:
    session_id = new_session(client)
    response = client.post(f"/api/sessions/{session_id}/messages", content=content, headers=headers)
    assert_french_problem(response, *statuses)


def test_too_long_text_and_oversized_body(client: httpx.Client, runtime: Runtime) -> None:
    session_id = new_session(client)
    url = f"/api/sessions/{session_id}/messages"
    too_long = "a" * (runtime.settings.max_message_chars + 1)
    response = client.post(url, json={"text": too_long})
    assert_french_problem(response, 413, 422)
    assert "trop long" in response.json()["detail"]
    huge = b'{"text": "' + b"a" * 2_000_000 + b'"}'
    assert_french_problem(
        client.post(url, content=huge, headers={"content-type": "application/json"}), 413
    )

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit still holds
        yield b'{"text": "'
        for _ in range(40):
            yield b"a" * 50_000
        yield b'"}'

    chunked = client.post(url, content=chunks(), headers={"content-type": "application/json"})
    assert_french_problem(chunked, 413)
    # The session still works after all that.
    ok = client.post(url, json={"text": "Bonjour, un projet de ressourcerie à Limoges"})
    assert ok.status_code == 200


def test_unknown_route_and_method(client: httpx.Client) -> None:
    assert_french_problem(client.get("/api/nothing"), 404)
    assert_french_problem(client.put("/api/sessions"), 405)


# --------------------------------------------------------------------------- headers


@pytest.mark.parametrize(
    "path", ["/", "/test", "/healthz", "/api/sessions/nope", "/static/chat.js"]
)
def test_security_headers(client: httpx.Client, path: str) -> None:
    headers = client.get(path).headers
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"


# --------------------------------------------------------------------------- web chat, no JS


def test_no_js_chat_flow(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=60) as browser:
        first = browser.get("/")
        assert first.status_code == 200 and 'lang="fr"' in first.text
        assert "aiguillage_session" not in browser.cookies  # no session until one speaks

        sent = browser.post("/chat", data={"text": GUERET[0]})
        assert sent.status_code == 303 and sent.headers["location"].startswith("/")
        cookie = sent.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie

        page = browser.get("/").text
        assert "Gueret, on a 4 salari" in page  # the user's message, from the transcript
        assert "Guéret (Creuse)" in page  # the assistant's reply
        replies = re.findall(r'name="text" value="([^"]+)"', page)
        assert "Financement" in replies  # the quick replies of the pending question

        assert browser.post("/chat", data={"text": "Financement"}).status_code == 303
        page = browser.get("/").text
        assert 'class="contact"' in page and "à vérifier" in page
        assert "<details" in page
        # Drawn from the stored parts: one card per contact, the plain-text list not shown.
        session_id = browser.cookies["aiguillage_session"]
        contacts = browser.get(f"/api/sessions/{session_id}/contacts").json()["contacts"]
        assert page.count('<li class="contact">') == len(contacts) >= 2
        assert "Comment le joindre :" not in page
        assert page.count('class="part part-guides sources"') == 1

        empty = browser.post("/chat", data={"text": "   "})
        assert empty.status_code == 303 and "erreur=vide" in empty.headers["location"]
        assert "Le message est vide." in browser.get(empty.headers["location"]).text

        fiche = browser.get("/fiche")
        assert fiche.status_code == 200 and "Fiche de synthèse" in fiche.text
        download = browser.get("/fiche.md")
        assert "attachment" in download.headers["content-disposition"]

        hostile = "<script>alert('x')</script> à Tulle"
        browser.post("/chat", data={"text": hostile})
        page = browser.get("/").text
        assert "<script>alert" not in page and "&lt;script&gt;alert" in page

        erased = browser.post("/chat/forget", data={})
        assert erased.status_code == 303 and "efface=1" in erased.headers["location"]
        assert "aiguillage_session" not in browser.cookies
        page = browser.get(erased.headers["location"]).text
        assert "Vos données ont été effacées" in page and "Gueret, on a 4" not in page


def test_no_js_page_shows_a_turn_stored_without_parts_as_text(
    base_url: str, runtime: Runtime
) -> None:
    """Turns stored before replies had parts are shown from their text."""
    record = runtime.store.create()
    old_reply = "Une ancienne réponse <b>en texte</b>, sans parties."
    runtime.store.save_turn(
        record.id, "Bonjour", old_reply, record.state, {"sources": [], "action": "ask"}
    )
    with httpx.Client(base_url=base_url, timeout=60) as browser:
        browser.cookies.set("aiguillage_session", record.id)
        page = browser.get("/").text
    assert "Une ancienne réponse &lt;b&gt;en texte&lt;/b&gt;, sans parties." in page
    assert page.count('<div class="text">') == 2  # the user's message and the old reply
    assert 'class="parts"' in page  # the greeting, drawn from its parts


def test_test_mode_runs_an_uploaded_scenario(client: httpx.Client) -> None:
    page = client.get("/test")
    assert page.status_code == 200 and 'data-slot="stage"' in page.text
    path = SCENARIOS / "01-asso-employeuse-gueret.yaml"
    ran = client.post("/test/scenario", files={"scenario": (path.name, path.read_bytes())})
    assert ran.status_code == 200
    assert "RÉUSSI" in ran.text and "DLA" in ran.text and path.name in ran.text
    broken = client.post("/test/scenario", files={"scenario": ("x.yaml", b"name: [unclosed")})
    assert broken.status_code == 422 and "x.yaml" in broken.text
    failing = (
        "name: faux\nturns: ['Bonjour, asso à Guéret']\nexpect: {departement: '75'}\n".encode()
    )
    ran = client.post("/test/scenario", files={"scenario": ("f.yaml", failing)})
    assert "ÉCHEC" in ran.text and "departement: expected" in ran.text


# --------------------------------------------------------------------------- page weight


def test_first_load_page_weight(client: httpx.Client) -> None:
    """Product requirement: the first page load (HTML + CSS + JS) is at most 60 KB."""
    html = client.get("/").content
    assets = re.findall(rb'(?:href|src)="(/static/[^"]+)"', html)
    assert any(a.endswith(b".css") for a in assets) and any(a.endswith(b".js") for a in assets)
    total = len(html) + sum(len(client.get(a.decode()).content) for a in assets)
    print(f"first-load weight: {total} bytes")
    assert total <= PAGE_BUDGET


# --------------------------------------------------------------------------- startup


def test_startup_purges_expired_sessions(runtime: Runtime) -> None:
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=runtime.settings.session_retention_days + 1)
    stale = runtime.store.create(now=old).id
    fresh = runtime.store.create().id
    with running_server(create_app(runtime)) as url, httpx.Client(base_url=url) as client:
        assert client.get(f"/api/sessions/{stale}").status_code == 404
        assert client.get(f"/api/sessions/{fresh}").status_code == 200


def test_healthz_is_503_without_an_index(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 's.sqlite3'}")
    bare = Runtime(settings)
    try:
        with running_server(create_app(bare)) as url:
            assert_french_problem(httpx.get(f"{url}/healthz"), 503)
    finally:
        bare.store.close()


def test_adviser_endpoint_reports_ess_traits(client: httpx.Client) -> None:
    description = (
        "Mon client monte une SAS à Lyon qui emploie des personnes handicapées ; "
        "une personne une voix à l'assemblée générale et les bénéfices sont réinvestis."
    )
    response = client.post("/api/adviser", json={"text": description})
    assert response.status_code == 200
    report = response.json()
    assert report["ess_verdict"] == "ess"  # the three criteria of the 2014 law, as described
    assert report["departement"] == "69"
    assert report["sources"] and all("id" in s and "title" in s for s in report["sources"])
    assert client.post("/api/adviser", json={"text": ""}).status_code == 422


def test_telegram_webhook_is_mounted_and_refuses_without_secret(client: httpx.Client) -> None:
    # No secret is configured in tests: the route exists and refuses everyone.
    response = client.post("/telegram/webhook", json={"update_id": 1})
    assert response.status_code == 403


def test_test_mode_can_be_switched_off(runtime: Runtime) -> None:
    settings = runtime.settings.model_copy(update={"test_mode": False})
    closed = Runtime(settings, embedder=runtime.embedder)
    with running_server(create_app(closed)) as url, httpx.Client(base_url=url) as client:
        assert client.get("/test").status_code == 404
        assert client.get("/").status_code == 200


def test_test_mode_is_off_on_a_public_address_unless_configured(runtime: Runtime) -> None:
    public = runtime.settings.model_copy(update={"host": "0.0.0.0"})
    assert runtime.settings.test_mode_on and not public.test_mode_on
    assert public.model_copy(update={"test_mode": True}).test_mode_on


def test_test_mode_with_a_token_asks_for_it(runtime: Runtime) -> None:
    settings = runtime.settings.model_copy(
        update={"test_mode": True, "test_token": SecretStr("jeton-de-test")}
    )
    guarded = Runtime(settings, embedder=runtime.embedder)
    with running_server(create_app(guarded)) as url, httpx.Client(base_url=url) as client:
        refused = client.get("/test")
        assert refused.status_code == 403 and "jeton" in refused.json()["detail"]
        assert client.get("/test?jeton=devine").status_code == 403
        assert client.get("/test?jeton=jeton-de-test").status_code == 200
        assert client.get("/test").status_code == 200  # the cookie keeps it for the session
        assert client.get("/").status_code == 200  # the chat itself needs no token


def test_serve_refuses_a_public_test_mode_without_token(runtime: Runtime) -> None:
    env = {
        "AIGUILLAGE_DATA_DIR": str(runtime.settings.data_dir),
        "AIGUILLAGE_TEST_MODE": "true",
    }
    result = CliRunner().invoke(cli_app, ["serve", "--host", "0.0.0.0", "--port", "1"], env=env)
    assert result.exit_code == 2 and "AIGUILLAGE_TEST_TOKEN" in result.output


def test_a_message_sent_twice_with_its_key_is_handled_once(client: httpx.Client) -> None:
    """A client retrying after a broken connection names its message: the second POST gets
    the first reply, and the session holds the message once."""
    session_id = new_session(client)
    url = f"/api/sessions/{session_id}/messages"
    headers = {"Idempotency-Key": "msg-7f3a"}
    first = client.post(url, json={"text": GUERET[0]}, headers=headers)
    again = client.post(url, json={"text": GUERET[0]}, headers=headers)
    assert first.status_code == again.status_code == 200, again.text
    for key in ("reply", "parts", "quick_replies", "state", "contacts", "action"):
        assert again.json()[key] == first.json()[key], key
    other = client.post(url, json={"text": GUERET[1]}, headers={"Idempotency-Key": "msg-7f3b"})
    assert other.status_code == 200
    transcript = client.get(f"/api/sessions/{session_id}").json()["transcript"]
    assert [e["text"] for e in transcript if e["role"] == "user"] == GUERET[:2]
    # The same key for another message: refused in French, not silently dropped.
    reused = client.post(url, json={"text": GUERET[2]}, headers=headers)
    assert_french_problem(reused, 422)
    assert "Idempotency-Key" in reused.json()["detail"]
    # A key that is not a short token is refused in French, and nothing is stored.
    bad = client.post(url, json={"text": GUERET[2]}, headers={"Idempotency-Key": "a b/c" * 40})
    assert_french_problem(bad, 422)
    assert "Idempotency-Key" in bad.json()["detail"]
    transcript = client.get(f"/api/sessions/{session_id}").json()["transcript"]
    assert len([e for e in transcript if e["role"] == "user"]) == 2
