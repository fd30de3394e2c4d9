"""The web connector: the JSON API of PRODUCT.md, the web chat and the accompaniers' test mode.

`create_app(runtime)` builds everything from a `Runtime`, kept in `app.state.runtime`;
nothing lives in module globals. The routes are in `api.py` (JSON API), `chat.py` (the chat
page, its form posts, the fiche), `testmode.py` (/test) and `embed.py` (the partner embed,
the only pages other sites may frame); `deps.py` holds what they share.
This module adds the security headers, the body limit, the French errors, /docs, and mounts
Telegram's webhook router (imported only here, when an app is built).

The web session id lives in an HttpOnly cookie; it is a bearer token, so it is never logged
(see `RedactingAccessFilter`).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from assistant.curation.corrections import forget_old_emails
from assistant.errors import IndexNotBuiltError, MessageIdConflictError, SessionNotFoundError
from assistant.runtime import Runtime
from connectors.ratelimit import RateLimiter
from connectors.web import admin, api, chat, corrections, embed, testmode
from connectors.web.deps import CSP, NOT_FOUND, STATIC_DIR, sha256_sources

__all__ = ["SECURITY_HEADERS", "RedactingAccessFilter", "create_app"]

log = logging.getLogger(__name__)

# A JSON string may escape each character as \uXXXX (6 bytes): room for the longest message.
BODY_BYTES_PER_CHAR = 6
MIN_BODY_LIMIT = 16 * 1024

SECURITY_HEADERS: dict[str, str] = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


# --------------------------------------------------------------------------- ASGI plumbing

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _problem_bytes(detail: str) -> bytes:
    return json.dumps({"detail": detail}, ensure_ascii=False).encode()


class SecurityHeaders:
    """Adds the security headers to every response; a route may set its own CSP first. A
    route whose CSP lets some sites frame it (the partner embed) gets no X-Frame-Options:
    that header cannot name sites, and DENY would refuse them all."""

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
                csp = b"".join(v for n, v in headers if n.lower() == b"content-security-policy")
                if b"frame-ancestors" in csp and b"frame-ancestors 'none'" not in csp:
                    present.add(b"x-frame-options")  # framed on purpose: CSP names who may
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


# --------------------------------------------------------------------------- the app


def add_error_handlers(app: FastAPI) -> None:
    """Clear 4xx in French, never a 5xx for bad input."""

    @app.exception_handler(RequestValidationError)
    async def on_invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e.get("loc", ())), "type": e.get("type")} for e in exc.errors()]
        # The input itself is not echoed back: it may be personal data.
        return JSONResponse({"detail": _french(exc), "errors": errors}, status_code=422)

    @app.exception_handler(SessionNotFoundError)
    async def on_unknown(_request: Request, _exc: SessionNotFoundError) -> JSONResponse:
        return JSONResponse({"detail": NOT_FOUND}, status_code=404)

    @app.exception_handler(MessageIdConflictError)
    async def on_reused_id(_request: Request, exc: MessageIdConflictError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

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


def favicon() -> Response:
    return Response(status_code=204)  # no icon: spares browsers a 404 per page


def docs() -> HTMLResponse:
    """Swagger UI, with a CSP that allows exactly its inline scripts and its CDN."""
    page = get_swagger_ui_html(openapi_url="/openapi.json", title="Aiguillage — API")
    html = bytes(page.body).decode()
    hashes = sha256_sources(re.findall(r"<script>(.*?)</script>", html, flags=re.S))
    cdn = "https://cdn.jsdelivr.net"
    csp = (
        f"default-src 'self'; script-src 'self' {cdn} {hashes}; style-src 'self' {cdn}; "
        f"img-src 'self' data: https://fastapi.tiangolo.com; object-src 'none'; "
        f"base-uri 'none'; frame-ancestors 'none'"
    )
    return HTMLResponse(html, headers={"content-security-policy": csp})


def app_from_environment() -> FastAPI:
    """The app of one `serve --workers N` process: its runtime from the environment."""
    logging.getLogger("uvicorn.access").addFilter(RedactingAccessFilter())
    return create_app(Runtime())


def create_app(runtime: Runtime) -> FastAPI:
    """The whole web connector for one runtime (tests build one per server)."""
    from connectors.telegram.bot import webhook_router  # Telegram code only once serving

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        purged = runtime.conversation.purge_expired()
        forgotten = forget_old_emails(runtime.proposals, runtime.settings.session_retention_days)
        log.info("web connector ready", extra={"purged": purged, "emails_forgotten": forgotten})
        yield

    app = FastAPI(
        title="Aiguillage",
        summary="Orientation des projets de l'ESS vers le bon accompagnement local.",
        version="0.1.0",
        docs_url=None,  # served below, with a CSP that allows exactly Swagger UI
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    rule = runtime.settings.rate_limit
    app.state.rate_limiter = RateLimiter(rule) if rule.strip() else None
    app.add_middleware(
        BodyLimit,
        limit=max(MIN_BODY_LIMIT, runtime.settings.max_message_chars * BODY_BYTES_PER_CHAR + 1024),
        upload_limit=testmode.MAX_SCENARIO_BYTES + 16 * 1024,
    )
    app.add_middleware(SecurityHeaders)
    add_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # Telegram's webhook mode (PRODUCT.md: via `serve`); answers 403 without the secret.
    app.include_router(webhook_router(runtime))
    app.include_router(api.router)
    app.include_router(chat.router)
    app.include_router(testmode.router)
    app.include_router(embed.router)
    app.include_router(admin.router)
    app.include_router(corrections.router)
    app.add_api_route("/favicon.ico", favicon, include_in_schema=False)
    app.add_api_route("/docs", docs, include_in_schema=False)
    return app
