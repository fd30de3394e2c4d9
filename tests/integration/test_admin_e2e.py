"""The curators' page and the correction form in a real headless Chromium against a real
uvicorn server on 127.0.0.1, sessions and proposals in SQLite, the directory in a COPY of the
knowledge (accepting edits it): closed without the token, the map's 101 départements, a click
showing the gaps (with and without JavaScript, and by keyboard), and a proposal sent from a
contact card of the chat, accepted by the curator, then in the directory file, which still
validates."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import launched, require_chromium
from playwright.sync_api import Browser, BrowserContext, Page, expect
from pydantic import SecretStr
from webserver import running_server

from assistant.orientation.directory import load_directory
from assistant.runtime import Runtime
from assistant.settings import REPO_ROOT, Settings
from connectors.web.app import create_app

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

ARTIFACTS = REPO_ROOT / "test-artifacts"
STEP_MS = 20_000
TOKEN = "jeton-curateurs-e2e"
FIRST = "Bonjour, je suis presidente d'une asso a Gueret, on a 4 salariés (animation + accueil)"

require_chromium()


@pytest.fixture(scope="module")
def knowledge(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped knowledge with the directory copied (accepting edits the copy only)."""
    target = tmp_path_factory.mktemp("admin") / "knowledge"
    shutil.copytree(REPO_ROOT / "knowledge", target)
    return target


@pytest.fixture(scope="module")
def admin_runtime(
    runtime: Runtime, knowledge: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Runtime]:
    # The shared runtime fixture built the test index; this one reads it, with its own
    # knowledge copy and its own SQLite database (sessions and proposals together).
    database = tmp_path_factory.mktemp("admin-db") / "sessions.sqlite3"
    settings = Settings(
        data_dir=runtime.settings.data_dir,
        knowledge_dir=knowledge,
        database_url=f"sqlite:///{database}",
        rate_limit="",
        admin_token=SecretStr(TOKEN),
    )
    rt = Runtime(settings, embedder=runtime.embedder)
    yield rt
    rt.store.close()


@pytest.fixture(scope="module")
def base_url(admin_runtime: Runtime) -> Iterator[str]:
    with running_server(create_app(admin_runtime)) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launched() as chromium:
        yield chromium


def _context(browser: Browser, base_url: str, javascript: bool = True) -> BrowserContext:
    context = browser.new_context(base_url=base_url, locale="fr-FR", java_script_enabled=javascript)
    context.set_default_timeout(STEP_MS)
    return context


@pytest.fixture()
def page(browser: Browser, base_url: str) -> Iterator[Page]:
    context = _context(browser, base_url)
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda exc: problems.append(str(exc)))
    tab.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    yield tab
    context.close()
    # CSP violations and script errors show up here; our 401/403/422 pages log their status.
    assert not [p for p in problems if "responded with a status of 4" not in p], problems


def _login(p: Page) -> None:
    p.goto("/admin")
    p.fill("#jeton", TOKEN)
    p.click("form.login button[type=submit]")
    expect(p.locator("h1")).to_have_text("Espace des curateurs")
    expect(p.locator("#carte")).to_be_visible()


def test_closed_without_the_token(page: Page) -> None:
    response = page.goto("/admin")
    assert response is not None and response.status == 401
    expect(page.locator("#jeton")).to_be_visible()
    assert page.locator("#carte").count() == 0
    assert "propositions" not in page.content()
    for path in ("/admin/donnees.json", "/admin/lacunes/23"):
        assert page.request.get(path).status == 401
    wrong = page.request.get("/admin", headers={"Authorization": "Bearer faux"})
    assert wrong.status == 403 and "carte" not in wrong.text()
    page.fill("#jeton", "faux")
    page.click("form.login button[type=submit]")
    expect(page.locator(".error")).to_have_text("Jeton incorrect.")
    assert page.locator("#carte").count() == 0


def test_the_map_shows_101_departements_and_a_click_shows_the_gaps(page: Page) -> None:
    p = page
    _login(p)
    departements = p.locator("#carte a.dep")
    expect(departements).to_have_count(101)
    for code in ("01", "2A", "2B", "75", "971", "972", "973", "974", "976"):
        expect(p.locator(f'#carte a.dep[data-code="{code}"]')).to_have_count(1)
    box = p.locator('#carte a.dep[data-code="974"]').bounding_box()
    assert box is not None and box["width"] > 5 and box["height"] > 5  # an inset, drawn
    p.set_viewport_size({"width": 1280, "height": 1000})
    ARTIFACTS.mkdir(exist_ok=True)
    p.locator("#couverture").screenshot(path=str(ARTIFACTS / "admin-map.png"))

    p.locator('#carte a.dep[data-code="23"]').click()
    panel = p.locator("#lacunes")
    expect(panel.locator("h3")).to_contain_text("Creuse (23)")
    expect(panel.locator(".missing li")).to_have_count(4)  # one line per stage
    assert p.evaluate("performance.getEntriesByType('navigation').length") == 1  # in place
    assert p.url.endswith("/admin?departement=23#lacunes")
    expect(p.locator("#carte a.dep.selected")).to_have_attribute("data-code", "23")
    expect(panel).to_be_focused()

    # Keyboard only: a département is a link; Enter opens its gaps.
    p.locator('#carte a.dep[data-code="2A"]').focus()
    p.keyboard.press("Enter")
    expect(p.locator("#lacunes h3")).to_contain_text("Corse-du-Sud (2A)")
    p.go_back()
    expect(p.locator("#lacunes h3")).to_contain_text("Creuse (23)")


def test_the_page_reads_without_javascript(browser: Browser, base_url: str) -> None:
    context = _context(browser, base_url, javascript=False)
    try:
        p = context.new_page()
        _login(p)
        p.locator('#carte a.dep[data-code="48"]').click()
        expect(p.locator("#lacunes h3")).to_contain_text("Lozère (48)")
        p.locator("details.map-text summary").click()
        expect(p.locator("details.map-text tbody tr")).to_have_count(101)
        expect(p.locator("#questions")).to_be_visible()
        expect(p.locator("#index")).to_contain_text("Passages")
    finally:
        context.close()


def test_a_correction_from_a_contact_card_accepted_into_the_directory(
    page: Page, browser: Browser, base_url: str, admin_runtime: Runtime, knowledge: Path
) -> None:
    p = page
    p.goto("/")
    p.fill("#saisie", FIRST)
    p.click("#envoi button[type=submit]")
    expect(p.locator("#messages .msg")).to_have_count(3)
    p.locator("#reponses button", has_text="Financement").click()
    card = p.locator("#messages .contact", has_text="DLA de la Creuse")
    expect(card).to_have_count(1)
    for contact in p.locator("#messages .contact").all():
        expect(contact.locator(".correct a")).to_have_text(
            "Vous êtes cette structure ? Signaler une correction"
        )
    card.locator("details.sources > summary").click()  # folded with the details
    card.locator(".correct a").click()
    expect(p.locator("h1")).to_have_text("Signaler une correction")
    expect(p.locator("main")).to_contain_text("DLA de la Creuse")

    # A wrong page address: a French error, nothing lost.
    p.select_option("#field", "phone")
    p.fill("#value", "05 55 12 34 56")
    p.fill("#page_url", "dla-creuse.fr/contact")
    p.fill("#email", "accueil@exemple.fr")
    p.click("form.correction-form button[type=submit]")
    expect(p.locator("#page_url-erreur")).to_contain_text("doit commencer par https://")
    expect(p.locator("#value")).to_have_value("05 55 12 34 56")
    expect(p.locator("#email")).to_have_value("accueil@exemple.fr")
    expect(p.locator("#field")).to_have_value("phone")
    p.fill("#page_url", "https://www.exemple.fr/dla-creuse/contact")
    p.click("form.correction-form button[type=submit]")
    expect(p.locator("[role=status]")).to_contain_text("proposition n°")

    directory = knowledge / "structures" / "dla.yaml"
    assert "05 55 12 34 56" not in directory.read_text(encoding="utf-8")  # not published

    curator = _context(browser, base_url).new_page()
    try:
        _login(curator)
        proposal = curator.locator(".proposal", has_text="DLA de la Creuse")
        expect(proposal).to_contain_text("05 55 12 34 56")
        expect(proposal).to_contain_text("accueil@exemple.fr")
        proposal.locator("button", has_text="Accepter").click()
        expect(curator.locator(".notice")).to_contain_text("Proposition acceptée")
        expect(curator.locator(".proposal", has_text="DLA de la Creuse")).to_have_count(0)
    finally:
        curator.context.close()

    entry = {s.id: s for s in load_directory(knowledge / "structures")}["dla-23"]
    assert entry.contact.phone == "05 55 12 34 56"
    assert entry.sources[-1].url == "https://www.exemple.fr/dla-creuse/contact"
    assert [pr.status for pr in admin_runtime.proposals.list()] == ["accepted"]

    # The chat now shows the corrected contact (the directory was reloaded).
    p.goto("/")
    expect(p.locator("#messages .contact", has_text="DLA de la Creuse")).to_contain_text(
        "05 55 12 34 56"
    )

    # And `aiguillage knowledge validate` passes on the edited copy.
    env = {**os.environ, "AIGUILLAGE_KNOWLEDGE_DIR": str(knowledge)}
    env.pop("AIGUILLAGE_SOURCES_DIR", None)
    done = subprocess.run(
        [str(Path(sys.executable).with_name("aiguillage")), "knowledge", "validate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
