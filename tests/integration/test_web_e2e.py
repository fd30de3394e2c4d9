"""The web chat in a real headless Chromium (Debian's, driven by Playwright) against a real
uvicorn server on 127.0.0.1: a conversation with JavaScript, a reload, erasure, and a
keyboard-only pass. Few and bounded: each waits at most a few seconds per step."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser import launched, require_chromium
from playwright.sync_api import Browser, Page, expect
from webserver import running_server

from assistant.runtime import Runtime
from assistant.settings import REPO_ROOT
from connectors.web.app import create_app

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

ARTIFACTS = REPO_ROOT / "test-artifacts"
STEP_MS = 20_000  # one turn of the core, with room for a slow shared machine
FIRST = "Bonjour, je suis presidente d'une asso a Gueret, on a 4 salariés (animation + accueil)"

require_chromium()


@pytest.fixture(scope="module")
def base_url(runtime: Runtime) -> Iterator[str]:
    with running_server(create_app(runtime)) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launched() as chromium:
        yield chromium


@pytest.fixture()
def page(browser: Browser, base_url: str) -> Iterator[Page]:
    context = browser.new_context(base_url=base_url, locale="fr-FR")
    context.set_default_timeout(STEP_MS)
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda exc: problems.append(str(exc)))
    tab.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    yield tab
    context.close()
    assert not problems, problems  # CSP violations and script errors show up here


def test_conversation_with_javascript(page: Page) -> None:
    p = page
    p.goto("/")
    log = p.locator("#messages")
    assert log.get_attribute("aria-live") == "polite"
    expect(log.locator(".msg")).to_have_count(1)  # the greeting

    p.fill("#saisie", FIRST)
    p.click("#envoi button[type=submit]")
    expect(log.locator(".msg")).to_have_count(3)
    expect(log.locator(".msg-assistant").last).to_contain_text("Guéret")
    assert p.evaluate("performance.getEntriesByType('navigation').length") == 1  # no reload

    with p.expect_response(lambda r: r.url.endswith("/messages")) as sent:
        p.locator("#reponses button", has_text="Financement").click()
    reply = sent.value.json()
    contacts_parts = [part for part in reply["parts"] if part["type"] == "contacts"]
    assert len(contacts_parts) == 1 and contacts_parts[0]["contacts"] == reply["contacts"]
    turn = log.locator(".msg").last
    cards = turn.locator(".contact")
    expect(cards.first).to_be_visible()
    # Cards drawn from the `contacts` part, not cut out of the reply's text.
    expect(cards).to_have_count(len(reply["contacts"]))
    assert 2 <= cards.count() <= 5
    expect(turn.locator(".part-contacts .part-title")).to_have_text(contacts_parts[0]["title"])
    expect(turn).not_to_contain_text("Comment le joindre :")  # the plain-text list
    expect(turn.locator(".part-steps li").first).to_be_visible()
    guides = turn.locator("details.part-guides")
    expect(guides).to_have_count(1)
    assert guides.get_attribute("open") is None  # the guides are folded
    first = reply["contacts"][0]
    badge = "" if first["verified"] else "à vérifier "
    expect(cards.first.locator(".what")).to_have_text(badge + first["what"])
    expect(log.locator(".contact", has_text="DLA de la Creuse")).to_have_count(1)
    expect(log.locator(".badge", has_text="à vérifier").first).to_be_visible()

    details = cards.first.locator("details")
    details.locator("summary").click()
    expect(details.locator("li").first).to_be_visible()
    assert details.get_attribute("open") is not None

    # The contacts turn, details folded, fits about two phone screens (390 x 844).
    details.locator("summary").click()
    assert details.get_attribute("open") is None
    p.set_viewport_size({"width": 390, "height": 844})
    height = turn.evaluate("node => node.getBoundingClientRect().height")
    print(f"contacts turn at 390 px: {height:.0f} px")
    assert height <= 2.15 * 844  # about two screens
    assert p.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll

    ARTIFACTS.mkdir(exist_ok=True)
    turn.screenshot(path=str(ARTIFACTS / "web-chat-phone.png"))
    p.set_viewport_size({"width": 1000, "height": 900})
    p.screenshot(path=str(ARTIFACTS / "web-chat.png"), full_page=True)

    p.reload()
    expect(log.locator(".msg")).to_have_count(5)  # greeting + two exchanges, from the store
    expect(log.locator(".contact", has_text="DLA de la Creuse")).to_have_count(1)
    expect(log.locator(".msg").last.locator(".contact")).to_have_count(len(reply["contacts"]))

    # A need added later: the contacts already shown are only named ("Déjà proposé plus haut").
    with p.expect_response(lambda r: r.url.endswith("/messages")) as sent:
        p.fill("#saisie", "on aurait aussi besoin d'aide pour recruter")
        p.click("#envoi button[type=submit]")
    again = next(part for part in sent.value.json()["parts"] if part["type"] == "contacts")
    assert again["already_shown"]
    named = log.locator(".msg").last.locator(".contact-again")
    expect(named).to_have_count(len(again["already_shown"]))
    expect(named.first).to_contain_text("Déjà proposé plus haut.")
    fresh = log.locator(".msg").last.locator(".contact:not(.contact-again)")
    expect(fresh).to_have_count(len(again["contacts"]) - len(again["already_shown"]))

    p.click("text=Effacer mes données")
    expect(p.locator(".notice")).to_contain_text("effacées")
    expect(log.locator(".msg")).to_have_count(1)
    assert not [c for c in p.context.cookies() if c["name"] == "aiguillage_session"]


def test_keyboard_only(page: Page) -> None:
    p = page
    p.goto("/")

    p.keyboard.press("Tab")
    assert p.evaluate("document.activeElement.className") == "skip"
    p.keyboard.press("Enter")  # the skip link lands in the message box
    assert p.evaluate("document.activeElement.id") == "saisie"
    outline = p.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # focus is visible

    p.keyboard.type(FIRST)
    p.keyboard.press("Enter")
    expect(p.locator("#messages .msg")).to_have_count(3)
    expect(p.locator("#reponses button").first).to_be_visible()

    def tab_to(selector: str, limit: int = 20) -> None:
        for _ in range(limit):
            p.keyboard.press("Tab")
            if p.evaluate(f"document.activeElement.matches({selector!r})"):
                return
        raise AssertionError(f"Tab never reached {selector}")

    tab_to("#reponses button")
    label = p.evaluate("document.activeElement.textContent")
    p.keyboard.press("Enter")
    expect(p.locator("#messages .msg-user").last).to_have_text(f"Vous{label}", use_inner_text=False)
    expect(p.locator("#messages .contact").first).to_be_visible()
    assert p.evaluate("document.activeElement.id") == "saisie"  # focus back in the chat

    tab_to("button.danger")
    p.keyboard.press("Enter")
    expect(p.locator(".notice")).to_contain_text("effacées")
