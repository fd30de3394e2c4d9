"""The partner embed in a real headless Chromium: a partner page served from another site on
loopback (http://localhost:P, while the assistant is http://127.0.0.1:Q) pastes the one line;
the launcher opens the frame, messages round-trip, the territory is known, answers show their
sources, the keyboard alone is enough, the conversation survives a reload (the frame's
partitioned cookie), the frame works without JavaScript, and a site outside
AIGUILLAGE_EMBED_ORIGINS is refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from browser import launched, require_chromium
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from playwright.sync_api import Browser, BrowserContext, Page, expect
from webserver import running_server

from assistant.runtime import Runtime
from assistant.settings import REPO_ROOT
from connectors.web.app import create_app

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

ARTIFACTS = REPO_ROOT / "test-artifacts"
STEP_MS = 20_000
PARTNER = "reseau-test"
LAUNCHER = "Trouver un accompagnement ESS"
FRAME = "iframe[title^='Aiguillage']"

require_chromium()

PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Réseau Test</title><link rel="icon" href="data:,"></head><body>
<h1>Réseau Test</h1><p><a href="#actus">Nos actualités</a></p>
<script src="{assistant}/embed.js" {options} async></script>
</body></html>"""
NO_JS_PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Sans JS</title>
<link rel="icon" href="data:,"></head><body>
<iframe src="{assistant}/embed?territoire=23&amp;partenaire={partner}" title="Aiguillage"
style="width:400px;height:700px"></iframe></body></html>"""


@dataclass
class Sites:
    assistant: str
    partner: str  # in AIGUILLAGE_EMBED_ORIGINS
    stranger: str  # the same partner server under another origin: not listed
    runtime: Runtime


def partner_app(where: dict[str, str]) -> FastAPI:
    """A partner's site with a strict CSP: scripts and frames from the assistant only, no
    inline style (the embed styles through the CSSOM)."""
    app = FastAPI()

    def csp() -> dict[str, str]:
        assistant = where["assistant"]
        return {
            "content-security-policy": f"default-src 'self'; script-src {assistant}; "
            f"frame-src {assistant}; style-src 'self'; img-src data:"
        }

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request) -> HTMLResponse:
        options = request.query_params.get("options") or (
            f'data-territoire="23" data-partenaire="{PARTNER}" data-couleur="#226644"'
        )
        return HTMLResponse(
            PAGE.format(assistant=where["assistant"], options=options), headers=csp()
        )

    @app.get("/sans-js", response_class=HTMLResponse)
    def no_js() -> HTMLResponse:
        return HTMLResponse(NO_JS_PAGE.format(assistant=where["assistant"], partner=PARTNER))

    return app


@pytest.fixture(scope="module")
def sites(runtime: Runtime) -> Iterator[Sites]:
    where: dict[str, str] = {}
    with running_server(partner_app(where)) as stranger:
        partner = stranger.replace("127.0.0.1", "localhost")  # another site for the browser
        settings = runtime.settings.model_copy(update={"embed_origins": [partner]})
        embedded = Runtime(
            settings, embedder=runtime.embedder, retriever=runtime.retriever, store=runtime.store
        )
        with running_server(create_app(embedded)) as assistant:
            where["assistant"] = assistant
            yield Sites(assistant, partner, stranger, embedded)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launched() as chromium:
        yield chromium


@dataclass
class Visit:
    page: Page
    context: BrowserContext
    console: list[tuple[str, str]]


def visit(browser: Browser, **options: Any) -> Visit:
    context = browser.new_context(locale="fr-FR", **options)
    context.set_default_timeout(STEP_MS)
    page = context.new_page()
    console: list[tuple[str, str]] = []
    page.on("console", lambda msg: console.append((msg.type, msg.text)))
    page.on("pageerror", lambda exc: console.append(("pageerror", str(exc))))
    return Visit(page, context, console)


@pytest.fixture()
def desk(browser: Browser) -> Iterator[Visit]:
    v = visit(browser, viewport={"width": 1280, "height": 860})
    yield v
    v.context.close()


def tab_to(page: Page, check: str, limit: int = 30, key: str = "Tab") -> None:
    for _ in range(limit):
        page.keyboard.press(key)
        if page.evaluate(check):
            return
    raise AssertionError(f"Tab never reached: {check}")


def test_partner_page_keyboard_only(desk: Visit, sites: Sites) -> None:
    p = desk.page
    p.goto(f"{sites.partner}/")
    launcher = p.get_by_role("button", name=LAUNCHER)
    expect(launcher).to_be_visible()
    assert launcher.evaluate("b => getComputedStyle(b.getRootNode().host).position") == "fixed"
    assert launcher.get_attribute("aria-expanded") == "false"

    tab_to(p, f"document.activeElement.shadowRoot?.activeElement?.textContent === {LAUNCHER!r}")
    with p.expect_response(lambda r: "/embed?" in r.url) as loaded:
        p.keyboard.press("Enter")
    assert loaded.value.status == 200
    assert (
        "frame-ancestors 'self' " + sites.partner in loaded.value.headers["content-security-policy"]
    )
    assert launcher.get_attribute("aria-expanded") == "true"
    dialog = p.get_by_role("dialog", name="Aiguillage, assistant d'orientation ESS")
    expect(dialog).to_be_visible()
    iframe = p.locator(FRAME)
    src = iframe.get_attribute("src") or ""
    assert src == f"{sites.assistant}/embed?territoire=23&partenaire={PARTNER}&couleur=%23226644"
    frame = p.frame_locator(FRAME)
    log = frame.locator("#messages")
    expect(log.locator(".part-ack")).to_have_text(
        "Votre territoire est déjà indiqué : Creuse (23)."
    )
    box = dialog.bounding_box()
    assert box and box["width"] == 400 and box["height"] == 600  # a panel on a desktop

    # Focus went into the frame (waited for, not assumed: on a loaded machine the frame's
    # load, which moves focus in, can come late); then Tab reaches its skip link, which lands
    # in the message box.
    content = iframe.element_handle().content_frame()
    assert content is not None
    content.wait_for_function("document.hasFocus()", timeout=5000)
    p.keyboard.press("Tab")
    expect(frame.locator("a.skip")).to_be_focused()
    p.keyboard.press("Enter")
    box_in_frame = frame.locator("#saisie")
    expect(box_in_frame).to_be_focused()
    with p.expect_response(lambda r: "/embed/session" in r.url) as started:
        p.keyboard.type(
            "Bonjour, on veut ouvrir un café associatif, on est encore une bande d'amis"
        )
        p.keyboard.press("Enter")
    session_id = started.value.json()["session_id"]
    expect(log.locator(".msg")).to_have_count(4)  # greeting, territory, message, reply
    expect(log.locator(".msg-assistant").last).not_to_contain_text("Où se trouve votre projet")

    record = sites.runtime.conversation.get(session_id)
    assert record.state.departement == "23"
    assert (record.transcript[1].meta or {})["partner"] == PARTNER
    expect(frame.locator("body")).not_to_contain_text(PARTNER)  # never shown

    # A free question: the answer shows its sources, folded, opened from the keyboard.
    p.keyboard.type("c'est quoi une SCIC ?")
    p.keyboard.press("Enter")
    expect(log.locator(".msg")).to_have_count(6)
    answer = log.locator(".msg-assistant").last.locator(".part-answer")
    summary = answer.locator("details.sources summary")
    expect(summary).to_contain_text("Sources (")
    summary.focus()
    p.keyboard.press("Enter")
    expect(answer.locator("details.sources li").first).to_be_visible()

    # Escape inside the frame closes the panel and gives the focus back to the launcher.
    box_in_frame.focus()
    p.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(launcher).to_be_focused()
    assert launcher.get_attribute("aria-expanded") == "false"

    # Reopened: the same conversation, the keyboard inside the frame again (where it was);
    # Shift+Tab leads out of the frame to the panel's close button.
    p.keyboard.press("Enter")
    expect(log.locator(".msg")).to_have_count(6)
    p.keyboard.press("Tab")
    inside = p.frames[1].evaluate("document.hasFocus() && document.activeElement.tagName")
    assert inside in ("A", "BUTTON", "TEXTAREA", "SUMMARY"), inside
    tab_to(
        p,
        "document.activeElement.shadowRoot?.activeElement?.textContent === 'Fermer'",
        40,
        "Shift+Tab",
    )
    p.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(launcher).to_be_focused()

    # A reload of the partner's page finds the conversation (the frame's partitioned cookie).
    p.reload()
    p.get_by_role("button", name=LAUNCHER).click()
    expect(p.frame_locator(FRAME).locator("#messages .msg")).to_have_count(6)
    ARTIFACTS.mkdir(exist_ok=True)
    p.screenshot(path=str(ARTIFACTS / "embed-desktop.png"))
    assert [m for m in desk.console if m[0] in ("error", "pageerror", "warning")] == []


def test_phone_full_screen(browser: Browser, sites: Sites) -> None:
    v = visit(browser, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    p = v.page
    p.goto(f"{sites.partner}/")
    p.get_by_role("button", name=LAUNCHER).tap()
    dialog = p.get_by_role("dialog")
    expect(p.frame_locator(FRAME).locator(".part-ack")).to_contain_text("Creuse (23)")
    box = dialog.bounding_box()
    assert box == {"x": 0, "y": 0, "width": 390, "height": 844}
    width = p.frame_locator(FRAME).locator("html").evaluate("h => h.scrollWidth")
    assert width <= 390  # no sideways scroll inside the frame
    p.screenshot(path=str(ARTIFACTS / "embed-phone.png"))
    p.get_by_role("button", name="Fermer").tap()
    expect(dialog).to_be_hidden()
    v.context.close()


def test_wrong_options_warn_and_are_ignored(desk: Visit, sites: Sites) -> None:
    p = desk.page
    options = 'data-territoire="99" data-partenaire="Pas Bon" data-couleur="#ffff00"'
    p.goto(f"{sites.partner}/?options={quote(options)}")
    p.get_by_role("button", name=LAUNCHER).click()
    expect(p.frame_locator(FRAME).locator("#messages .msg")).to_have_count(1)  # greeting only
    assert p.locator(FRAME).get_attribute("src") == f"{sites.assistant}/embed"
    warnings = [text for kind, text in desk.console if kind == "warning"]
    assert len(warnings) == 3, warnings
    assert all(w.startswith("Aiguillage : data-") and "ignoré" in w for w in warnings)
    assert not [m for m in desk.console if m[0] in ("error", "pageerror")]


def test_a_site_outside_the_list_is_refused(desk: Visit, sites: Sites) -> None:
    p = desk.page
    p.goto(f"{sites.stranger}/")  # 127.0.0.1:P is not the listed localhost:P
    with p.expect_response(lambda r: "/embed?" in r.url) as loaded:
        p.get_by_role("button", name=LAUNCHER).click()
    assert (
        "frame-ancestors 'self' " + sites.partner in loaded.value.headers["content-security-policy"]
    )
    p.wait_for_timeout(500)
    frame = next(f for f in p.frames if f != p.main_frame)
    assert frame.url.startswith("chrome-error://")  # Chromium's error page instead of the chat
    assert p.frame_locator(FRAME).locator("#messages").count() == 0
    refusals = [
        text for kind, text in desk.console if kind == "error" and "frame-ancestors" in text
    ]
    assert len(refusals) == 1 and "violates" in refusals[0]


def test_the_frame_without_javascript(browser: Browser, sites: Sites) -> None:
    v = visit(browser, java_script_enabled=False)
    p = v.page
    p.goto(f"{sites.partner}/sans-js")
    frame = p.frame_locator("iframe")
    expect(frame.locator(".part-ack")).to_contain_text("Creuse (23)")
    frame.locator("#saisie").fill("On monte une recyclerie en association, on cherche un local")
    frame.locator("#envoi button[type=submit]").click()
    log = frame.locator("#messages")
    expect(log.locator(".msg")).to_have_count(4)
    frame.locator("#saisie").fill("c'est quoi une SCIC ?")
    frame.locator("#envoi button[type=submit]").click()
    expect(log.locator(".msg")).to_have_count(6)  # the frame's cookie kept the session
    expect(log.locator(".msg-assistant").last.locator("details.sources summary")).to_contain_text(
        "Sources ("
    )
    v.context.close()


def test_the_demo_page_and_what_a_visitor_downloads(desk: Visit, sites: Sites) -> None:
    p = desk.page
    sizes: dict[str, int] = {}

    def count(request: Any) -> None:
        got = request.sizes()  # the first load of each address counts (then: cache)
        size = got["responseBodySize"] + got["responseHeadersSize"]
        sizes[request.url] = sizes.get(request.url) or size

    p.on("requestfinished", count)
    p.goto(f"{sites.assistant}/embed/demo")
    expect(p.locator("pre code")).to_contain_text(f'<script src="{sites.assistant}/embed.js"')
    p.get_by_role("button", name=LAUNCHER).click()
    expect(p.frame_locator(FRAME).locator(".part-ack")).to_contain_text("Creuse (23)")
    p.wait_for_load_state("networkidle")
    script = sizes[f"{sites.assistant}/embed.js"]
    frame = {u: n for u, n in sizes.items() if re.search(r"/embed\?|/static/(chat|embed)\.", u)}
    first_load = sum(frame.values()) + script  # the frame's embed.js, had it not been cached
    print(f"transferred: embed.js {script} B, the frame's first load {first_load} B: {frame}")
    assert script <= 5_000 and first_load <= 60_000
    p.screenshot(path=str(ARTIFACTS / "embed-demo.png"))
    assert [m for m in desk.console if m[0] in ("error", "pageerror", "warning")] == []
