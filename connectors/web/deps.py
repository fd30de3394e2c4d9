"""What the web routers share: the runtime (from `app.state`), the templates, the checks.

Nothing here holds a runtime: `create_app` stores it in `app.state.runtime` and the routes
reach it through the `RuntimeDep` dependency, so several apps (one per test server) coexist.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from pathlib import Path
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.templating import Jinja2Templates
from pydantic import SecretStr
from starlette.responses import Response

from assistant.runtime import Runtime
from connectors.ratelimit import RateLimiter

__all__ = [
    "COOKIE",
    "CSP",
    "NOT_FOUND",
    "RETURN_PAGES",
    "STATIC_DIR",
    "Limited",
    "RuntimeDep",
    "action_bar",
    "check_text",
    "client_wait",
    "fiche_page",
    "get_runtime",
    "keep_token",
    "page_csp",
    "problem",
    "templates",
    "token_matches",
]

HERE = Path(__file__).resolve().parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"

COOKIE = "aiguillage_session"
RETURN_PAGES = ("/", "/test")
NOT_FOUND = "Session inconnue ou effacée."

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))  # autoescape is on


def get_runtime(request: Request) -> Runtime:
    """The runtime of the app serving this request (set by `create_app`)."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def action_bar(runtime: Runtime) -> tuple[str, str]:
    """Quick replies the web page always offers in its action bar: not repeated by the input."""
    buttons = runtime.engine.buttons
    return (buttons.fiche, buttons.restart)


def client_wait(request: Request) -> int:
    """Seconds this client must wait before its next message (0: go on, and it is counted)."""
    limiter: RateLimiter | None = request.app.state.rate_limiter
    if limiter is None:
        return 0
    return limiter.wait(f"ip:{request.client.host if request.client else 'unknown'}")


def rate_limited(request: Request) -> None:
    """Dependency of the message endpoints: 429 with Retry-After when a client floods."""
    seconds = client_wait(request)
    if seconds:
        raise HTTPException(
            status_code=429,
            detail=RateLimiter.message(seconds),
            headers={"Retry-After": str(seconds)},
        )


Limited = Depends(rate_limited)


def check_text(text: str, max_chars: int) -> str | None:
    """The French reason a message cannot be sent, or None."""
    if not text.strip():
        return "Le message est vide."
    if len(text) > max_chars:
        return f"Message trop long : {max_chars} caractères au plus."
    return None


def token_matches(given: str, expected: SecretStr) -> bool:
    """A token given by a client is the configured one (constant time: no timing leak)."""
    return hmac.compare_digest(given.encode(), expected.get_secret_value().encode())


def keep_token(response: Response, request: Request, cookie: str, token: str, path: str) -> None:
    """Remember a checked token in an HttpOnly, same-site cookie (the test and admin pages)."""
    secure = request.url.scheme == "https"
    response.set_cookie(cookie, token, httponly=True, samesite="strict", secure=secure, path=path)


def problem(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


def sha256_sources(blocks: list[str]) -> str:
    """CSP hash sources allowing exactly these inline blocks."""
    return " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(b.encode()).digest()).decode() + "'"
        for b in blocks
    )


def page_csp(html: str) -> str:
    """The CSP of a page we generate, allowing exactly its inline <style> blocks."""
    blocks = re.findall(r"<style[^>]*>(.*?)</style>", html, flags=re.S)
    return CSP.replace("style-src 'self'", f"style-src 'self' {sha256_sources(blocks)}".rstrip())


def fiche_page(html: str) -> HTMLResponse:
    return HTMLResponse(html, headers={"content-security-policy": page_csp(html)})
