"""The web chat: the HTML page, its form posts (the no-JavaScript path), the session cookie
and the summary sheet (fiche).

The chat works without JavaScript (forms posting to /chat, then a 303 back to the page) and
better with it (static/chat.js calls the JSON API). Both draw a reply from its typed parts
(assistant/render/parts.py), never by parsing its text. The web session id lives in an
HttpOnly cookie; it is a bearer token, so it is never logged.
"""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse
from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from starlette.responses import Response

from assistant.answers.answering import SourceRef, source_ref
from assistant.dialogue.state import PROJECT_SLOTS, DiagnosticState
from assistant.errors import SessionNotFoundError
from assistant.render.parts import ContactsPart, Part
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

__all__ = ["ChatMessage", "render_chat", "router"]

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

PARTS = TypeAdapter(list[Part])

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


# --------------------------------------------------------------------------- cookie


def cookie_session(runtime: Runtime, request: Request) -> str | None:
    """The session of the cookie, if it still exists."""
    session_id = request.cookies.get(COOKIE)
    if not session_id:
        return None
    try:
        runtime.conversation.get(session_id)
    except SessionNotFoundError:
        return None
    return session_id


def set_cookie(runtime: Runtime, response: Response, request: Request, session_id: str) -> None:
    response.set_cookie(
        COOKIE,
        session_id,
        max_age=runtime.settings.session_retention_days * 86400,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


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
    messages += [bubble_for(runtime, entry) for entry in record.transcript]
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


def render_chat(runtime: Runtime, request: Request, page: str, **extra: Any) -> HTMLResponse:
    """The chat page ("/") or the test page ("/test"), for the cookie's session."""
    session_id = cookie_session(runtime, request)
    messages, quick_replies = messages_for(runtime, session_id)
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
        **extra,
    }
    template = "test.html" if page == "/test" else "chat.html"
    response = templates.TemplateResponse(
        request, template, context, status_code=extra.get("status_code", 200)
    )
    if request.cookies.get(COOKIE) and session_id is None:
        response.delete_cookie(COOKIE, path="/")  # erased or purged meanwhile
    response.headers["cache-control"] = "no-store"  # the page holds a conversation
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
    if client_wait(request):
        return RedirectResponse(f"{target}?erreur=trop#saisie", status_code=303)
    if check_text(text, runtime.settings.max_message_chars):
        code = "vide" if not text.strip() else "long"
        return RedirectResponse(f"{target}?erreur={code}#saisie", status_code=303)
    session_id = cookie_session(runtime, request)
    created = session_id is None
    if session_id is None:
        session_id, _ = runtime.conversation.start()
    turn = runtime.conversation.send(session_id, text)
    response = RedirectResponse(f"{target}#dernier", status_code=303)
    if turn.action == "forget":
        response.delete_cookie(COOKIE, path="/")
        response.headers["location"] = f"{target}?efface=1"
    elif created:
        set_cookie(runtime, response, request, session_id)
    return response


@router.post("/chat/session")
def chat_session(runtime: RuntimeDep, request: Request) -> JSONResponse:
    """For chat.js: the cookie's session, created if needed (the cookie is HttpOnly)."""
    session_id = cookie_session(runtime, request)
    if session_id is not None:
        return JSONResponse({"session_id": session_id}, status_code=200)
    session_id, _ = runtime.conversation.start()
    response = JSONResponse({"session_id": session_id}, status_code=201)
    set_cookie(runtime, response, request, session_id)
    return response


@router.post("/chat/forget")
def chat_forget(
    runtime: RuntimeDep, request: Request, next_page: Annotated[str, Form(alias="next")] = "/"
) -> RedirectResponse:
    """« Effacer mes données »: erase the session and the cookie."""
    target = next_page if next_page in RETURN_PAGES else "/"
    session_id = request.cookies.get(COOKIE)
    if session_id:
        runtime.conversation.forget(session_id)
    response = RedirectResponse(f"{target}?efface=1", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/fiche")
def fiche_html(runtime: RuntimeDep, request: Request) -> Response:
    session_id = cookie_session(runtime, request)
    if session_id is None:
        return RedirectResponse("/", status_code=303)
    response = fiche_page(runtime.conversation.fiche(session_id).html)
    response.headers["cache-control"] = "no-store"
    return response


@router.get("/fiche.md")
def fiche_markdown(runtime: RuntimeDep, request: Request) -> Response:
    session_id = cookie_session(runtime, request)
    if session_id is None:
        return RedirectResponse("/", status_code=303)
    return PlainTextResponse(
        runtime.conversation.fiche(session_id).markdown,
        media_type="text/markdown; charset=utf-8",
        headers={
            "content-disposition": 'attachment; filename="fiche-aiguillage.md"',
            "cache-control": "no-store",
        },
    )
