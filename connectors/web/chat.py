"""The web chat: the HTML page, its form posts (the no-JavaScript path), the session cookie
and the summary sheet (fiche).

The chat works without JavaScript (forms posting to /chat, then a 303 back to the page) and
better with it (static/chat.js calls the JSON API). Both draw a reply from its typed parts
(assistant/render/parts.py), never by parsing its text. The web session id lives in an
HttpOnly cookie; it is a bearer token, so it is never logged. The partner embed (embed.py)
goes through the same functions with its own `Door`: its cookie, routes and session start.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.responses import Response

from assistant.answers.answering import SourceRef, source_ref
from assistant.dialogue.state import PROJECT_SLOTS, DiagnosticState
from assistant.errors import SessionNotFoundError
from assistant.render.parts import PARTS, ContactsPart, Part
from assistant.runtime import Runtime
from assistant.sessions.store import TranscriptEntry
from connectors.web.deps import (
    COOKIE,
    RETURN_PAGES,
    RuntimeDep,
    action_bar,
    check_text,
    client_wait,
    fiche_page,
    templates,
)

__all__ = [
    "ChatMessage",
    "Door",
    "fiche_response",
    "forget_and_return",
    "post_and_return",
    "render_chat",
    "router",
    "session_json",
]

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)


STATE_SLOTS = (
    *PROJECT_SLOTS,
    "evidence",
    "unknown",
    "asked",
    "last_question",
    "territory_candidates",
    "oriented",
)


class ChatMessage(BaseModel):
    """One bubble of the web chat: its parts, or its text when it has none (user messages,
    assistant turns stored before replies had parts)."""

    role: Literal["user", "assistant"]
    text: str
    parts: list[Part] = Field(default_factory=list)
    sources: list[SourceRef] = Field(default_factory=list)  # only shown without parts
    fiche: bool = False


@dataclass(frozen=True)
class Door:
    """How a page of the chat reaches its session: the web chat's own page, or the partner
    embed (its own cookie, a third-party one, and sessions that start with a territory)."""

    cookie: str = COOKIE
    embedded: bool = False  # SameSite=None; Secure; Partitioned: readable inside a frame
    routes: dict[str, str] = field(
        default_factory=lambda: {
            "home": "/",
            "chat": "/chat",
            "forget": "/chat/forget",
            "fiche": "/fiche",
            "fiche_md": "/fiche.md",
            "start": "/chat/session",
        }
    )
    back: str | None = None  # where form posts return (their `next`); default: the page


CHAT = Door()


def with_query(target: str, query: str) -> str:
    """`target` with one more query parameter (it may already have some)."""
    head, _, anchor = target.partition("#")
    joined = f"{head}{'&' if '?' in head else '?'}{query}"
    return f"{joined}#{anchor}" if anchor else joined


# --------------------------------------------------------------------------- cookie


def cookie_session(runtime: Runtime, request: Request, cookie: str = COOKIE) -> str | None:
    """The session of the cookie, if it still exists."""
    session_id = request.cookies.get(cookie)
    if not session_id:
        return None
    try:
        runtime.conversation.get(session_id)
    except SessionNotFoundError:
        return None
    return session_id


def set_cookie(
    runtime: Runtime, response: Response, request: Request, session_id: str, door: Door = CHAT
) -> None:
    response.set_cookie(
        door.cookie,
        session_id,
        max_age=runtime.settings.session_retention_days * 86400,
        httponly=True,
        # A frame on a partner's site is a third-party context: only a SameSite=None cookie
        # reaches it, Secure by rule, and Partitioned (kept per partner site, CHIPS).
        samesite="none" if door.embedded else "lax",
        secure=door.embedded or request.url.scheme == "https",
        path="/embed" if door.embedded else "/",
    )
    _partition(response, door)


def forget_cookie(response: Response, door: Door) -> None:
    response.delete_cookie(
        door.cookie,
        path="/embed" if door.embedded else "/",
        secure=door.embedded,
        samesite="none" if door.embedded else "lax",
    )
    _partition(response, door)


def _partition(response: Response, door: Door) -> None:
    """Mark the cookie just set as Partitioned (Starlette does it only from Python 3.14)."""
    if door.embedded:
        name, value = response.raw_headers[-1]
        response.raw_headers[-1] = (name, value + b"; Partitioned")


# --------------------------------------------------------------------------- the bubbles


def stored_parts(meta: dict[str, Any]) -> list[Part]:
    """The parts stored with an assistant turn; none for older turns (or unreadable ones)."""
    raw = meta.get("parts")
    if not isinstance(raw, list) or not raw:
        return []
    try:
        return PARTS.validate_python(raw)
    except ValidationError:
        log.warning("stored reply parts unreadable: shown as text")
        return []


def bubble_for(runtime: Runtime, entry: TranscriptEntry) -> ChatMessage:
    message = ChatMessage(role=entry.role, text=entry.text)
    if entry.role == "assistant":
        meta = entry.meta or {}
        message.parts = stored_parts(meta)
        message.fiche = meta.get("action") == "fiche"
        ids = meta.get("sources")
        if not message.parts and isinstance(ids, list):
            cards = runtime.cards
            message.sources = [
                source_ref(cards[i]) for i in ids if isinstance(i, str) and i in cards
            ]
    return message


def messages_for(runtime: Runtime, session_id: str | None) -> tuple[list[ChatMessage], list[str]]:
    """The bubbles to show (greeting + stored transcript) and the current quick replies.

    The last contacts part shows the current orientation, recomputed from the stored state
    (the directory may have changed since); earlier parts are shown as stored.
    """
    conversation = runtime.conversation
    greeting = runtime.engine.greeting()
    messages = [ChatMessage(role="assistant", text=greeting.reply, parts=greeting.parts)]
    if session_id is None:
        return messages, greeting.quick_replies
    record = conversation.get(session_id)
    # An entry without text is bookkeeping (the embed's opening stores its state that way).
    messages += [bubble_for(runtime, entry) for entry in record.transcript if entry.text]
    last = next(
        (p for m in reversed(messages) for p in reversed(m.parts) if isinstance(p, ContactsPart)),
        None,
    )
    if last is not None:
        current = conversation.orientation(session_id).contacts
        if current:
            last.contacts = current
    return messages, conversation.resume(session_id).quick_replies


def _slot_text(value: object) -> str:
    if value is None or value == [] or value == {}:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def render_chat(
    runtime: Runtime,
    request: Request,
    page: str,
    door: Door = CHAT,
    opening: Sequence[ChatMessage] = (),
    **extra: Any,
) -> HTMLResponse:
    """The chat page ("/"), the test page ("/test") or the embed ("/embed"), for the cookie's
    session; `opening` follows the greeting until a session exists (the embed's territory)."""
    session_id = cookie_session(runtime, request, door.cookie)
    messages, quick_replies = messages_for(runtime, session_id)
    if session_id is None:
        messages += opening
    conversation = runtime.conversation
    state = conversation.get(session_id).state if session_id else DiagnosticState()
    bar = action_bar(runtime)
    context = {
        "page": page,
        "session_id": session_id or "",
        "messages": messages,
        "quick_replies": [q for q in quick_replies if q not in bar],
        "action_bar": "|".join(bar),
        "fiche_label": bar[0],
        "restart_label": bar[1],
        "max_chars": runtime.settings.max_message_chars,
        "error": request.query_params.get("erreur"),
        "erased": request.query_params.get("efface") == "1",
        "retention_days": runtime.settings.session_retention_days,
        "state_slots": [(slot, _slot_text(getattr(state, slot))) for slot in STATE_SLOTS],
        "routes": door.routes,
        "next_page": door.back or page,
        **extra,
    }
    template = {"/test": "test.html", "/embed": "embed.html"}.get(page, "chat.html")
    response = templates.TemplateResponse(
        request, template, context, status_code=extra.get("status_code", 200)
    )
    if request.cookies.get(door.cookie) and session_id is None:
        forget_cookie(response, door)  # erased or purged meanwhile
    response.headers["cache-control"] = "no-store"  # the page holds a conversation
    return response


# ------------------------------------------------------ the no-JS posts, shared with the embed


def post_and_return(
    runtime: Runtime,
    request: Request,
    text: str,
    target: str,
    door: Door = CHAT,
    start: Callable[[], str] | None = None,
) -> RedirectResponse:
    """The no-JavaScript path: send the message (starting a session with `start` if there is
    none yet), then 303 back to `target`."""
    if client_wait(request):
        return RedirectResponse(with_query(target, "erreur=trop#saisie"), status_code=303)
    if check_text(text, runtime.settings.max_message_chars):
        code = "vide" if not text.strip() else "long"
        return RedirectResponse(with_query(target, f"erreur={code}#saisie"), status_code=303)
    session_id = cookie_session(runtime, request, door.cookie)
    created = session_id is None
    if session_id is None:
        session_id = start() if start else runtime.conversation.start()[0]
    turn = runtime.conversation.send(session_id, text)
    response = RedirectResponse(f"{target}#dernier", status_code=303)
    if turn.action == "forget":
        forget_cookie(response, door)
        response.headers["location"] = with_query(target, "efface=1")
    elif created:
        set_cookie(runtime, response, request, session_id, door)
    return response


def forget_and_return(
    runtime: Runtime, request: Request, target: str, door: Door = CHAT
) -> RedirectResponse:
    """« Effacer mes données »: erase the session and the cookie."""
    session_id = request.cookies.get(door.cookie)
    if session_id:
        runtime.conversation.forget(session_id)
    response = RedirectResponse(with_query(target, "efface=1"), status_code=303)
    forget_cookie(response, door)
    return response


def fiche_response(
    runtime: Runtime, request: Request, markdown: bool, door: Door = CHAT
) -> Response:
    """The summary sheet of the cookie's session, printable HTML or Markdown to download."""
    session_id = cookie_session(runtime, request, door.cookie)
    if session_id is None:
        return RedirectResponse(door.routes["home"], status_code=303)
    fiche = runtime.conversation.fiche(session_id)
    if not markdown:
        response = fiche_page(fiche.html)
        response.headers["cache-control"] = "no-store"
        return response
    return PlainTextResponse(
        fiche.markdown,
        media_type="text/markdown; charset=utf-8",
        headers={
            "content-disposition": 'attachment; filename="fiche-aiguillage.md"',
            "cache-control": "no-store",
        },
    )


def session_json(
    runtime: Runtime, request: Request, door: Door = CHAT, start: Callable[[], str] | None = None
) -> JSONResponse:
    """For chat.js: the cookie's session, created (with `start`) if needed; 201 when created."""
    session_id = cookie_session(runtime, request, door.cookie)
    if session_id is not None:
        return JSONResponse({"session_id": session_id}, status_code=200)
    session_id = start() if start else runtime.conversation.start()[0]
    response = JSONResponse({"session_id": session_id}, status_code=201)
    set_cookie(runtime, response, request, session_id, door)
    return response


# --------------------------------------------------------------------------- routes


@router.get("/", response_class=HTMLResponse)
def chat_page(runtime: RuntimeDep, request: Request) -> HTMLResponse:
    return render_chat(runtime, request, "/")


@router.post("/chat")
def chat_post(
    runtime: RuntimeDep,
    request: Request,
    text: Annotated[str, Form()] = "",
    next_page: Annotated[str, Form(alias="next")] = "/",
) -> RedirectResponse:
    """The no-JavaScript path: send the message, then 303 back to the page."""
    target = next_page if next_page in RETURN_PAGES else "/"
    return post_and_return(runtime, request, text, target)


@router.post("/chat/session")
def chat_session(runtime: RuntimeDep, request: Request) -> JSONResponse:
    """For chat.js: the cookie's session, created if needed (the cookie is HttpOnly)."""
    return session_json(runtime, request)


@router.post("/chat/forget")
def chat_forget(
    runtime: RuntimeDep, request: Request, next_page: Annotated[str, Form(alias="next")] = "/"
) -> RedirectResponse:
    """« Effacer mes données »: erase the session and the cookie."""
    target = next_page if next_page in RETURN_PAGES else "/"
    return forget_and_return(runtime, request, target)


@router.get("/fiche")
def fiche_html(runtime: RuntimeDep, request: Request) -> Response:
    return fiche_response(runtime, request, markdown=False)


@router.get("/fiche.md")
def fiche_markdown(runtime: RuntimeDep, request: Request) -> Response:
    return fiche_response(runtime, request, markdown=True)
