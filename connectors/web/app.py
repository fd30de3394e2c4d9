"""The web connector: the JSON API of PRODUCT.md, the web chat and the accompaniers' test mode.

`create_app(runtime)` builds everything from a `Runtime`; nothing lives in module globals.
The core is synchronous (SQLite, ChromaDB), so every endpoint that reaches it is a plain
`def`: FastAPI runs those in its threadpool and the event loop keeps serving.

The chat works without JavaScript (forms posting to /chat, then a 303 back to the page) and
better with it (static/chat.js calls the JSON API). The web session id lives in an HttpOnly
cookie; it is a bearer token, so it is never logged (see `RedactingAccessFilter`).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import re
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    StreamingResponse,
)
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from assistant.answers.answering import Answer, Answerer, SourceRef, source_ref
from assistant.dialogue.engine import RESTART, SEE_FICHE, TurnResult
from assistant.dialogue.scenarios import ScenarioResult, load_scenario, run_scenario
from assistant.dialogue.state import PROJECT_SLOTS, DiagnosticState
from assistant.errors import IndexNotBuiltError, ScenarioError, SessionNotFoundError
from assistant.orientation.adviser import AdviserReport
from assistant.orientation.contacts import OrientationResult, Recommendation, Step
from assistant.render.parts import Part
from assistant.runtime import Runtime
from assistant.search.index import current_generation
from assistant.sessions.store import TranscriptEntry
from connectors.telegram.bot import webhook_router

__all__ = ["RedactingAccessFilter", "create_app"]

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"

COOKIE = "aiguillage_session"
MAX_SCENARIO_BYTES = 256 * 1024
# A JSON string may escape each character as \uXXXX (6 bytes): room for the longest message.
BODY_BYTES_PER_CHAR = 6
MIN_BODY_LIMIT = 16 * 1024
RETURN_PAGES = ("/", "/test")
# Quick replies the web page always offers in its action bar: not repeated beside the input.
ACTION_BAR = (SEE_FICHE, RESTART)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS: dict[str, str] = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}

NOT_FOUND = "Session inconnue ou effacée."


# --------------------------------------------------------------------------- API models


class MessageIn(BaseModel):
    text: str = Field(description="Le message, ou le libellé d'une réponse proposée.")


class SessionCreated(BaseModel):
    session_id: str


class MessageOut(BaseModel):
    """One turn, as PRODUCT.md's contract; `next_steps` and `action` are additions."""

    reply: str
    quick_replies: list[str]
    state: DiagnosticState
    contacts: list[Recommendation]
    sources: list[SourceRef]
    next_steps: list[Step]
    action: str
    parts: list[Part] = Field(
        description="La réponse en parties typées (ack, answer, contacts, steps, guides, "
        "question, notice), à afficher par le canal ; `reply` en est le texte brut."
    )

    @classmethod
    def from_turn(cls, turn: TurnResult) -> MessageOut:
        return cls(
            reply=turn.reply,
            parts=turn.parts,
            quick_replies=turn.quick_replies,
            state=turn.state,
            contacts=turn.contacts,
            sources=turn.sources,
            next_steps=turn.next_steps,
            action=turn.action,
        )


class SessionOut(BaseModel):
    session_id: str
    created_at: str
    updated_at: str
    state: DiagnosticState
    transcript: list[TranscriptEntry]


class Problem(BaseModel):
    detail: str


class Echo(BaseModel):
    text: str


# --------------------------------------------------------------------------- server-sent events

# Headers of /api/ask/stream: no caching, no proxy buffering (nginx honours X-Accel-Buffering).
SSE_HEADERS = {"cache-control": "no-store", "x-accel-buffering": "no"}
STREAM_ERROR = "La réponse n'a pas pu être terminée ; réessayez."


def sse(event: str, data: object) -> bytes:
    """One server-sent event; data is JSON, so newlines in the text cannot end the event."""
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"event: {event}\ndata: {payload}\n\n".encode()


def final_payload(answer: Answer, fallback: str | None = None) -> dict[str, Any]:
    """The `final` event: the /api/ask object, plus why the deterministic path answered."""
    return {**answer.model_dump(mode="json"), "fallback": fallback}


# --------------------------------------------------------------------------- ASGI plumbing

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _problem_bytes(detail: str) -> bytes:
    return json.dumps({"detail": detail}, ensure_ascii=False).encode()


class SecurityHeaders:
    """Adds the security headers to every response; a route may set its own CSP first."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in SECURITY_HEADERS.items():
                    if name.encode() not in present:
                        headers.append((name.encode(), value.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Refuses request bodies over a size limit with a 413, before anything parses them.

    The body is read here (it is small by construction) and replayed to the app, so a
    chunked upload without Content-Length is bounded too.
    """

    def __init__(self, app: ASGIApp, limit: int, upload_limit: int) -> None:
        self.app = app
        self.limit = limit
        self.upload_limit = upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        limit = self.upload_limit if scope["path"].startswith("/test/") else self.limit
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._too_large(send, limit)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._too_large(send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    @staticmethod
    async def _too_large(send: Send, limit: int) -> None:
        body = _problem_bytes(f"Requête trop volumineuse ({limit // 1024} Ko au plus).")
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class RedactingAccessFilter(logging.Filter):
    """Keeps session ids (bearer tokens) and client addresses (personal data) out of the
    access log: uvicorn.access records carry (client, method, path, version, status)."""

    _SESSION = re.compile(r"(/api/sessions/)[^/?\s]+")

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:
            _client, method, path, version, status = args
            record.args = ("-", method, self._SESSION.sub(r"\1…", str(path)), version, status)
        return True


# --------------------------------------------------------------------------- French errors

_OBJECT_EXPECTED = (
    'Le corps doit être un objet JSON, par exemple {"text": "Bonjour"}, '
    "envoyé avec Content-Type: application/json."
)
_FIELD_MESSAGES: dict[str, str] = {
    "json_invalid": "Le corps de la requête n'est pas du JSON valide.",
    "missing": "Le champ « text » est obligatoire.",
    "string_type": "Le champ « text » doit être une chaîne de caractères.",
    "model_attributes_type": _OBJECT_EXPECTED,
    "dict_type": _OBJECT_EXPECTED,
}


def _french(exc: RequestValidationError) -> str:
    for error in exc.errors():
        loc = [str(p) for p in error.get("loc", ())]
        kind = str(error.get("type", ""))
        if kind == "missing" and loc == ["body"]:
            return "Le corps de la requête est vide : envoyez un objet JSON avec « text »."
        if loc and loc[0] == "query":
            return f"Paramètre « {loc[-1]} » invalide."
        if kind in _FIELD_MESSAGES:
            return _FIELD_MESSAGES[kind]
    return "Requête invalide."


# --------------------------------------------------------------------------- helpers


def _style_hashes(html: str) -> str:
    """CSP source list allowing exactly the inline <style> blocks of a page we generate."""
    blocks = re.findall(r"<style[^>]*>(.*?)</style>", html, flags=re.S)
    return " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(b.encode()).digest()).decode() + "'"
        for b in blocks
    )


def _page_csp(html: str) -> str:
    return CSP.replace("style-src 'self'", f"style-src 'self' {_style_hashes(html)}".rstrip())


def split_reply(text: str) -> tuple[str, str]:
    """Cut the textual contact list out of an orientation reply: the web shows cards instead.

    Returns (before, after); when the reply does not have the expected shape, (text, "").
    """
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if re.match(r"Voici \d+ contacts?", ln)), None)
    if start is None:
        return text, ""
    end = next(
        (
            i
            for i in range(start + 1, len(lines))
            if re.match(r"(Prochaines étapes|Pour aller plus loin|Pour affiner)", lines[i])
        ),
        len(lines),
    )
    return "\n".join(lines[: start + 1]).strip(), "\n".join(lines[end:]).strip()


class ChatMessage(BaseModel):
    """One bubble of the web chat."""

    role: Literal["user", "assistant"]
    text: str
    after: str = ""  # text shown after the contact cards
    contacts: list[Recommendation] = Field(default_factory=list)
    sources: list[SourceRef] = Field(default_factory=list)
    fiche: bool = False


def _slot_text(value: object) -> str:
    if value is None or value == [] or value == {}:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


STATE_SLOTS = (
    *PROJECT_SLOTS,
    "evidence",
    "unknown",
    "asked",
    "last_question",
    "territory_candidates",
    "oriented",
)


# --------------------------------------------------------------------------- the app


def create_app(runtime: Runtime) -> FastAPI:
    """The whole web connector for one runtime (tests build one per server)."""
    conversation = runtime.conversation
    settings = runtime.settings
    max_chars = settings.max_message_chars

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        purged = conversation.purge_expired()
        log.info("web connector ready", extra={"purged": purged})
        yield

    app = FastAPI(
        title="Aiguillage",
        summary="Orientation des projets de l'ESS vers le bon accompagnement local.",
        version="0.1.0",
        docs_url=None,  # served below, with a CSP that allows exactly Swagger UI
        redoc_url=None,
        lifespan=lifespan,
    )
    app.add_middleware(
        BodyLimit,
        limit=max(MIN_BODY_LIMIT, max_chars * BODY_BYTES_PER_CHAR + 1024),
        upload_limit=MAX_SCENARIO_BYTES + 16 * 1024,
    )
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # Telegram's webhook mode (PRODUCT.md: via `serve`); answers 403 without the secret.
    app.include_router(webhook_router(runtime))
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))  # autoescape is on

    # -- error handlers: clear 4xx in French, never a 5xx for bad input ------------------
    @app.exception_handler(RequestValidationError)
    async def on_invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e.get("loc", ())), "type": e.get("type")} for e in exc.errors()]
        # The input itself is not echoed back: it may be personal data.
        return JSONResponse({"detail": _french(exc), "errors": errors}, status_code=422)

    @app.exception_handler(SessionNotFoundError)
    async def on_unknown(_request: Request, _exc: SessionNotFoundError) -> JSONResponse:
        return JSONResponse({"detail": NOT_FOUND}, status_code=404)

    @app.exception_handler(IndexNotBuiltError)
    async def on_no_index(_request: Request, _exc: IndexNotBuiltError) -> JSONResponse:
        detail = "Index de recherche absent : lancez « aiguillage index »."
        return JSONResponse({"detail": detail}, status_code=503)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else "Erreur."
        if exc.status_code == 404 and detail == "Not Found":
            detail = "Page introuvable."
        elif exc.status_code == 405:
            detail = "Méthode non autorisée."
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)

    def problem(status: int, detail: str) -> JSONResponse:
        return JSONResponse({"detail": detail}, status_code=status)

    def check_text(text: str) -> str | None:
        """The French reason a message cannot be sent, or None."""
        if not text.strip():
            return "Le message est vide."
        if len(text) > max_chars:
            return f"Message trop long : {max_chars} caractères au plus."
        return None

    # -- JSON API (PRODUCT.md) --------------------------------------------------------------
    @app.get("/healthz", tags=["service"], responses={503: {"model": Problem}})
    def healthz() -> JSONResponse:
        """200 when the index is present and the session store answers."""
        if current_generation(settings.index_dir) is None:
            return problem(503, "Index de recherche absent : lancez « aiguillage index ».")
        conversation.store.count()
        return JSONResponse({"status": "ok"})

    @app.post("/api/sessions", status_code=201, tags=["api"])
    def create_session() -> SessionCreated:
        """Open a new conversation."""
        session_id, _greeting = conversation.start()
        return SessionCreated(session_id=session_id)

    @app.post(
        "/api/sessions/{session_id}/messages",
        tags=["api"],
        responses={
            404: {"model": Problem},
            413: {"model": Problem},
            422: {"model": Problem},
        },
    )
    def post_message(session_id: str, message: MessageIn) -> MessageOut:
        """One user message in, the assistant's reply, state, contacts and sources out."""
        reason = check_text(message.text)
        if reason:
            raise HTTPException(422, reason)
        return MessageOut.from_turn(conversation.send(session_id, message.text))

    @app.post(
        "/api/adviser",
        tags=["api"],
        responses={413: {"model": Problem}, 422: {"model": Problem}},
    )
    def adviser(message: MessageIn) -> AdviserReport:
        """Adviser mode: a client's project description in; ESS traits, verdict, stage,
        territory and the ESS structures to orient to, with sources, out. Nothing stored."""
        reason = check_text(message.text)
        if reason:
            raise HTTPException(422, reason)
        return runtime.adviser.analyse(message.text)

    @app.post(
        "/api/ask",
        tags=["api"],
        responses={413: {"model": Problem}, 422: {"model": Problem}, 503: {"model": Problem}},
    )
    def ask(message: MessageIn) -> Answer:
        """A free question in, a sourced answer out (or a decline pointing to a human):
        the object `aiguillage ask --json` prints. No session is created."""
        reason = check_text(message.text)
        if reason:
            raise HTTPException(422, reason)
        return runtime.answerer.answer(message.text)

    @app.post(
        "/api/ask/stream",
        tags=["api"],
        response_class=StreamingResponse,
        responses={
            200: {"content": {"text/event-stream": {}}},
            413: {"model": Problem},
            422: {"model": Problem},
            503: {"model": Problem},
        },
    )
    async def ask_stream(message: MessageIn) -> StreamingResponse:
        """`/api/ask` as server-sent events. With a language model: one `delta` event per
        line that passed the guards (`{"text"}`), then one `final` event: the /api/ask object
        plus `fallback` (the reason, when the deterministic answer replaced the model's), to
        show in place of the deltas. Without one: a single `final` event. An `error` event
        (`{"detail"}`) ends a stream that failed midway."""
        reason = check_text(message.text)
        if reason:
            raise HTTPException(422, reason)
        # Built off the event loop (it may open the index); a missing index is a 503 here,
        # before the stream has started.
        answerer = await asyncio.to_thread(lambda: runtime.answerer)
        if runtime.llm is None:
            answer = await asyncio.to_thread(answerer.answer, message.text)
            body: AsyncIterator[bytes] = _single(sse("final", final_payload(answer)))
        else:
            body = _events(answerer, message.text)
        return StreamingResponse(body, media_type="text/event-stream", headers=SSE_HEADERS)

    async def _single(event: bytes) -> AsyncIterator[bytes]:
        yield event

    async def _events(answerer: Answerer, text: str) -> AsyncIterator[bytes]:
        from assistant.llm.answering import LLMAnswerer  # loaded only in LLM mode

        assert isinstance(answerer, LLMAnswerer)  # runtime.llm is set: see Runtime.answerer
        try:
            async for event in answerer.astream(text):
                if event.kind == "delta":
                    yield sse("delta", {"text": event.text})
                elif event.answer is not None:
                    yield sse("final", final_payload(event.answer, event.fallback))
        except Exception as exc:
            # The status line is sent already: say so in the stream rather than cut it.
            log.error("ask stream failed: %s", type(exc).__name__)
            yield sse("error", {"detail": STREAM_ERROR})

    @app.get("/api/echo", tags=["service"], responses={422: {"model": Problem}})
    def echo_get(text: Annotated[str, Query()] = "") -> Echo:
        """Baseline of scripts/bench_http.py: the `text` parameter back, through the same
        middlewares and threadpool hop as a turn, without touching the core."""
        if len(text) > max_chars:
            raise HTTPException(422, f"Message trop long : {max_chars} caractères au plus.")
        return Echo(text=text)

    @app.post(
        "/api/echo",
        tags=["service"],
        responses={413: {"model": Problem}, 422: {"model": Problem}},
    )
    def echo_post(message: MessageIn) -> Echo:
        """Baseline of scripts/bench_http.py: a message body parsed and checked as a turn's
        is, then sent back; same middlewares and threadpool hop, no core work."""
        reason = check_text(message.text)
        if reason:
            raise HTTPException(422, reason)
        return Echo(text=message.text)

    @app.get("/api/sessions/{session_id}", tags=["api"], responses={404: {"model": Problem}})
    def get_session(session_id: str) -> SessionOut:
        """The session's diagnostic state and transcript."""
        record = conversation.get(session_id)
        return SessionOut(
            session_id=record.id,
            created_at=record.created_at.isoformat(),
            updated_at=record.updated_at.isoformat(),
            state=record.state,
            transcript=record.transcript,
        )

    @app.delete(
        "/api/sessions/{session_id}",
        status_code=204,
        tags=["api"],
        responses={404: {"model": Problem}},
    )
    def delete_session(session_id: str) -> Response:
        """Erase the session, its state and its transcript (GDPR)."""
        if not conversation.forget(session_id):
            return problem(404, NOT_FOUND)
        return Response(status_code=204)

    @app.get(
        "/api/sessions/{session_id}/contacts", tags=["api"], responses={404: {"model": Problem}}
    )
    def get_contacts(session_id: str) -> OrientationResult:
        """The orientation for the session's current state."""
        return conversation.orientation(session_id)

    @app.get(
        "/api/sessions/{session_id}/fiche",
        tags=["api"],
        responses={
            200: {"content": {"text/markdown": {}, "text/html": {}, "application/json": {}}},
            404: {"model": Problem},
        },
    )
    def get_fiche(
        session_id: str,
        format: Annotated[Literal["md", "html", "json"], Query()] = "md",
    ) -> Response:
        """The summary sheet: Markdown (default), a printable HTML page, or both as JSON."""
        fiche = conversation.fiche(session_id)
        if format == "html":
            return fiche_page(fiche.html)
        if format == "json":
            return JSONResponse(fiche.model_dump())
        return PlainTextResponse(fiche.markdown, media_type="text/markdown; charset=utf-8")

    def fiche_page(html: str) -> HTMLResponse:
        return HTMLResponse(html, headers={"content-security-policy": _page_csp(html)})

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)  # no icon: spares browsers a 404 per page

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        page = get_swagger_ui_html(openapi_url="/openapi.json", title="Aiguillage — API")
        html = bytes(page.body).decode()
        scripts = re.findall(r"<script>(.*?)</script>", html, flags=re.S)
        hashes = " ".join(
            "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
            for s in scripts
        )
        cdn = "https://cdn.jsdelivr.net"
        csp = (
            f"default-src 'self'; script-src 'self' {cdn} {hashes}; style-src 'self' {cdn}; "
            f"img-src 'self' data: https://fastapi.tiangolo.com; object-src 'none'; "
            f"base-uri 'none'; frame-ancestors 'none'"
        )
        return HTMLResponse(html, headers={"content-security-policy": csp})

    # -- web chat ---------------------------------------------------------------------------
    def cookie_session(request: Request) -> str | None:
        """The session of the cookie, if it still exists."""
        session_id = request.cookies.get(COOKIE)
        if not session_id:
            return None
        try:
            conversation.get(session_id)
        except SessionNotFoundError:
            return None
        return session_id

    def set_cookie(response: Response, request: Request, session_id: str) -> None:
        response.set_cookie(
            COOKIE,
            session_id,
            max_age=settings.session_retention_days * 86400,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
            path="/",
        )

    def sources_for(ids: object) -> list[SourceRef]:
        cards = runtime.cards
        if not isinstance(ids, list):
            return []
        return [source_ref(cards[i]) for i in ids if isinstance(i, str) and i in cards]

    def messages_for(session_id: str | None) -> tuple[list[ChatMessage], list[str]]:
        """The bubbles to show (greeting + stored transcript) and the current quick replies."""
        greeting = runtime.engine.greeting()
        messages = [ChatMessage(role="assistant", text=greeting.reply)]
        if session_id is None:
            return messages, greeting.quick_replies
        record = conversation.get(session_id)
        last_with_contacts: int | None = None
        for entry in record.transcript:
            meta = entry.meta or {}
            message = ChatMessage(role=entry.role, text=entry.text)
            if entry.role == "assistant":
                message.sources = sources_for(meta.get("sources"))
                message.fiche = meta.get("action") == "fiche"
                if meta.get("contacts"):
                    last_with_contacts = len(messages)
            messages.append(message)
        if last_with_contacts is not None:
            # Contacts are recomputed from the stored state: the directory may have changed.
            shown = messages[last_with_contacts]
            shown.contacts = conversation.orientation(session_id).contacts
            shown.text, shown.after = split_reply(shown.text)
        resume = conversation.resume(session_id)
        return messages, resume.quick_replies

    def render_chat(request: Request, page: str, **extra: Any) -> HTMLResponse:
        session_id = cookie_session(request)
        messages, quick_replies = messages_for(session_id)
        state = conversation.get(session_id).state if session_id else DiagnosticState()
        context = {
            "page": page,
            "session_id": session_id or "",
            "messages": messages,
            "quick_replies": [q for q in quick_replies if q not in ACTION_BAR],
            "action_bar": "|".join(ACTION_BAR),
            "max_chars": max_chars,
            "error": request.query_params.get("erreur"),
            "erased": request.query_params.get("efface") == "1",
            "retention_days": settings.session_retention_days,
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

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def chat_page(request: Request) -> HTMLResponse:
        return render_chat(request, "/")

    @app.post("/chat", include_in_schema=False)
    def chat_post(
        request: Request,
        text: Annotated[str, Form()] = "",
        next_page: Annotated[str, Form(alias="next")] = "/",
    ) -> RedirectResponse:
        """The no-JavaScript path: send the message, then 303 back to the page."""
        target = next_page if next_page in RETURN_PAGES else "/"
        reason = check_text(text)
        if reason:
            code = "vide" if not text.strip() else "long"
            return RedirectResponse(f"{target}?erreur={code}#saisie", status_code=303)
        session_id = cookie_session(request)
        created = session_id is None
        if session_id is None:
            session_id, _ = conversation.start()
        turn = conversation.send(session_id, text)
        response = RedirectResponse(f"{target}#dernier", status_code=303)
        if turn.action == "forget":
            response.delete_cookie(COOKIE, path="/")
            response.headers["location"] = f"{target}?efface=1"
        elif created:
            set_cookie(response, request, session_id)
        return response

    @app.post("/chat/session", include_in_schema=False)
    def chat_session(request: Request) -> JSONResponse:
        """For chat.js: the cookie's session, created if needed (the cookie is HttpOnly)."""
        session_id = cookie_session(request)
        response = JSONResponse({"session_id": session_id}, status_code=200)
        if session_id is None:
            session_id, _ = conversation.start()
            response = JSONResponse({"session_id": session_id}, status_code=201)
            set_cookie(response, request, session_id)
        return response

    @app.post("/chat/forget", include_in_schema=False)
    def chat_forget(
        request: Request, next_page: Annotated[str, Form(alias="next")] = "/"
    ) -> RedirectResponse:
        """« Effacer mes données »: erase the session and the cookie."""
        target = next_page if next_page in RETURN_PAGES else "/"
        session_id = request.cookies.get(COOKIE)
        if session_id:
            conversation.forget(session_id)
        response = RedirectResponse(f"{target}?efface=1", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    def fiche_or_none(request: Request) -> Any:
        session_id = cookie_session(request)
        return None if session_id is None else conversation.fiche(session_id)

    @app.get("/fiche", include_in_schema=False)
    def fiche_html(request: Request) -> Response:
        fiche = fiche_or_none(request)
        if fiche is None:
            return RedirectResponse("/", status_code=303)
        response = fiche_page(fiche.html)
        response.headers["cache-control"] = "no-store"
        return response

    @app.get("/fiche.md", include_in_schema=False)
    def fiche_markdown(request: Request) -> Response:
        fiche = fiche_or_none(request)
        if fiche is None:
            return RedirectResponse("/", status_code=303)
        return PlainTextResponse(
            fiche.markdown,
            media_type="text/markdown; charset=utf-8",
            headers={
                "content-disposition": 'attachment; filename="fiche-aiguillage.md"',
                "cache-control": "no-store",
            },
        )

    # -- test mode for accompaniers -----------------------------------------------------
    def require_test_mode() -> None:
        # The test page shows a session's whole state: switch it off on a public deployment.
        if not settings.test_mode:
            raise HTTPException(404, "Le mode test est désactivé sur ce serveur.")

    @app.get("/test", response_class=HTMLResponse, include_in_schema=False)
    def test_page(request: Request) -> HTMLResponse:
        require_test_mode()
        return render_chat(request, "/test")

    @app.post("/test/scenario", response_class=HTMLResponse, include_in_schema=False)
    def test_scenario(request: Request, scenario: Annotated[UploadFile, File()]) -> HTMLResponse:
        require_test_mode()
        """Run an uploaded scenario file against the engine (no session is touched)."""
        name = Path(scenario.filename or "scenario.yaml").name
        raw = scenario.file.read(MAX_SCENARIO_BYTES + 1)
        result: ScenarioResult | None = None
        scenario_error: str | None = None
        if len(raw) > MAX_SCENARIO_BYTES:
            scenario_error = f"Fichier trop volumineux ({MAX_SCENARIO_BYTES // 1024} Ko au plus)."
        else:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "scenario.yaml"
                path.write_bytes(raw)
                try:
                    result = run_scenario(runtime.engine, load_scenario(path))
                except ScenarioError as exc:
                    scenario_error = str(exc).replace(str(path), name)
                except UnicodeDecodeError:
                    scenario_error = f"{name} : le fichier doit être du texte UTF-8."
        return render_chat(
            request,
            "/test",
            scenario_name=name,
            scenario_result=result,
            scenario_state=json.dumps(result.state, ensure_ascii=False, indent=2) if result else "",
            scenario_error=scenario_error,
            status_code=422 if scenario_error else 200,
        )

    return app
