"""The partner embed: the chat on a partner's site, with one script tag.

- `GET /embed.js`: the script a partner pastes once (static/embed.js, with the territory codes
  of the real tables written in). It adds a launcher and, when opened, a frame on this origin.
- `GET /embed?territoire=…&partenaire=…&couleur=…`: the chat in a compact page for that frame,
  through the same code as the web chat (chat.py's `render_chat` and form posts, with the
  embed's `Door`). A known territory is set from the start and said in the first reply; the
  partner is recorded with the session (usage reports), never shown. An invalid or unknown
  value is ignored: the frame starts as the web chat does.
- `GET /embed/demo`: a sample partner page.

Framing: the /embed pages carry CSP `frame-ancestors` from AIGUILLAGE_EMBED_ORIGINS (empty:
any site) and no X-Frame-Options; every other page keeps refusing to be framed (app.py).
The frame keeps its session in its own cookie, SameSite=None, Secure and Partitioned: the
browser keys it to the partner's site, so partners and the web chat never share a session.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from typing import Annotated
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.responses import Response

from assistant.render.parts import AckPart, NoticePart, Part
from assistant.render.reply import reply_text
from assistant.runtime import Runtime
from assistant.territory.index import Resolution, TerritoryIndex
from connectors.web.chat import (
    ChatMessage,
    Door,
    fiche_response,
    forget_and_return,
    post_and_return,
    render_chat,
    session_json,
)
from connectors.web.deps import STATIC_DIR, RuntimeDep, page_csp, templates

__all__ = ["EMBED_COOKIE", "Embed", "accent_of", "place_of", "router"]

router = APIRouter(include_in_schema=False)

EMBED_COOKIE = "aiguillage_embed"
# A département ("23", "2A", "974"), a region ("R75": region codes are also département
# codes), or a commune's INSEE code ("23096", "2A004", "97411").
TERRITORY = re.compile(r"(?P<dep>\d\d|2[AB]|97\d)|R(?P<region>\d\d)|(?:\d\d|2[AB])\d{3}")
PARTNER = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?")  # a short slug
COLOUR = re.compile(r"#(?:[0-9a-f]{3}){1,2}")
MIN_CONTRAST = 4.5  # the accent is text on white, and white text on it (WCAG AA)
TINT = 0.1  # the assistant's bubbles: the accent at 10 % on white

CHANGE_PLACE = (
    "Si votre projet se situe ailleurs, écrivez simplement votre commune ou votre département."
)


# --------------------------------------------------------------------------- the options


def place_of(raw: str | None, territories: TerritoryIndex) -> Resolution | None:
    """The territory a partner's code names, from the real tables; None if it names none."""
    code = (raw or "").strip().upper()
    match = TERRITORY.fullmatch(code)
    if match is None:
        return None
    if match["region"]:
        region = match["region"]
        region_name = territories.region_name(region)
        if region_name is None:
            return None
        deps = territories.departements_of(region)
        dep = deps[0] if len(deps) == 1 else None  # Guyane, La Réunion…: one département
        return Resolution(
            status="found",
            query=code,
            kind="region",
            matched=region_name,
            region=region,
            region_name=region_name,
            departement=dep,
            departement_name=territories.departement_name(dep) if dep else None,
        )
    commune = None if match["dep"] else territories.commune(code)
    if commune is None and not match["dep"]:
        return None
    dep = commune[1] if commune else code
    dep_name = territories.departement_name(dep)
    region = territories.region_of(dep)
    if dep_name is None or region is None:
        return None
    return Resolution(
        status="found",
        query=code,
        kind="insee_code" if commune else "departement",
        matched=commune[0] if commune else dep_name,
        commune=commune[0] if commune else None,
        commune_code=code if commune else None,
        departement=dep,
        departement_name=dep_name,
        region=region,
        region_name=territories.region_name(region),
    )


def place_label(place: Resolution) -> str:
    """ "Guéret (Creuse)", "Creuse (23)", "Nouvelle-Aquitaine"."""
    if place.commune:
        return f"{place.commune} ({place.departement_name})"
    if place.kind == "departement":
        return f"{place.departement_name} ({place.departement})"
    return place.region_name or ""


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def accent_of(raw: str | None) -> str | None:
    """A partner's accent colour as #rrggbb, if it is one and reads on white (4.5:1)."""
    value = (raw or "").strip().lower()
    if not COLOUR.fullmatch(value):
        return None
    if len(value) == 4:
        value = "#" + "".join(c * 2 for c in value[1:])
    return value if 1.05 / (_luminance(value) + 0.05) >= MIN_CONTRAST else None


def tint(hex_colour: str) -> str:
    channels = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{round(255 - (255 - c) * TINT):02x}" for c in channels)


@dataclass(frozen=True)
class Embed:
    """The frame's options, each kept only when valid (an invalid one is dropped)."""

    territory: str | None = None
    place: Resolution | None = None
    partner: str | None = None
    accent: str | None = None

    @classmethod
    def read(cls, params: Mapping[str, str], territories: TerritoryIndex) -> Embed:
        place = place_of(params.get("territoire"), territories)
        partner = (params.get("partenaire") or "").strip()
        return cls(
            territory=place.query if place else None,
            place=place,
            partner=partner if PARTNER.fullmatch(partner) else None,
            accent=accent_of(params.get("couleur")),
        )

    @classmethod
    def back_from(cls, next_page: str, territories: TerritoryIndex) -> Embed:
        """The options carried by a form's `next` (only its /embed query is read)."""
        url = urlsplit(next_page)
        return cls.read(dict(parse_qsl(url.query)) if url.path == "/embed" else {}, territories)

    def url(self, path: str) -> str:
        """`path` with the options, for links and for where form posts return."""
        values = {"territoire": self.territory, "partenaire": self.partner, "couleur": self.accent}
        query = urlencode({k: v for k, v in values.items() if v})
        return f"{path}?{query}" if query else path

    def door(self) -> Door:
        return Door(
            cookie=EMBED_COOKIE,
            embedded=True,
            routes={
                "home": self.url("/embed"),
                "chat": "/embed/chat",
                "forget": "/embed/forget",
                "fiche": self.url("/embed/fiche"),
                "fiche_md": "/embed/fiche.md",
                "start": self.url("/embed/session"),
            },
            back=self.url("/embed"),
        )

    def opening(self) -> list[Part]:
        """What the first reply says of the territory, and how to change it."""
        if self.place is None:
            return []
        label = place_label(self.place)
        if self.place.departement:
            said = f"Votre territoire est déjà indiqué : {label}."
        else:  # a region: the département is asked in its turn
            said = f"Votre région est déjà indiquée : {label}."
        return [
            AckPart(text=said, items=[f"territoire : {label}"]),
            NoticePart(text=CHANGE_PLACE),
        ]

    def start(self, runtime: Runtime) -> str:
        """A new session for this frame: its territory set, its partner recorded."""
        if self.place is None and self.partner is None:
            return runtime.conversation.start()[0]
        return runtime.conversation.start_seeded(self.place, self.partner, self.opening())


# --------------------------------------------------------------------------- framing


def frame_ancestors(runtime: Runtime) -> str:
    origins = runtime.settings.embed_origins
    return " ".join(["'self'", *origins]) if origins else "*"


def framed(response: Response, runtime: Runtime) -> Response:
    """Let the partners' sites frame this page: its CSP names them (app.py then adds no
    X-Frame-Options), and allows exactly its inline <style> blocks."""
    html = bytes(response.body).decode()
    csp = page_csp(html).replace(
        "frame-ancestors 'none'", f"frame-ancestors {frame_ancestors(runtime)}"
    )
    response.headers["content-security-policy"] = csp
    return response


# --------------------------------------------------------------------------- routes


def from_the_frame(request: Request) -> None:
    """The frame's posts come from the frame itself (same origin). Its cookie is SameSite=None,
    so another site's form could otherwise post with it: browsers that send Fetch Metadata
    say where a request comes from, and a cross-site one is refused."""
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        raise HTTPException(403, "Requête refusée : elle ne vient pas de la fenêtre d'Aiguillage.")


FromTheFrame = [Depends(from_the_frame)]


@lru_cache(maxsize=4)
def _script(departements: tuple[str, ...], regions: tuple[str, ...]) -> tuple[bytes, bytes]:
    """static/embed.js with the tables' codes written in, its header comment and indentation
    left out (every partner's visitor downloads it): as is, and gzipped."""
    text = (STATIC_DIR / "embed.js").read_text(encoding="utf-8")
    text = re.sub(r"^\s+", "", text.split("*/", 1)[1], flags=re.M)  # keeps every line break
    text = text.replace("__DEPARTEMENTS__", " ".join(departements))
    body = text.replace("__REGIONS__", " ".join(regions)).encode()
    return body, gzip.compress(body, mtime=0)


@router.get("/embed.js")
def embed_script(runtime: RuntimeDep, request: Request) -> Response:
    """The partner's script, loaded on every page of their site: cached for an hour, and
    gzipped for the browsers that say they take it (all of them)."""
    territories = runtime.territories
    plain, packed = _script(tuple(territories.departement_codes), tuple(territories.region_codes))
    headers = {"cache-control": "public, max-age=3600", "vary": "accept-encoding"}
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["content-encoding"] = "gzip"
        return Response(packed, media_type="text/javascript; charset=utf-8", headers=headers)
    return Response(plain, media_type="text/javascript; charset=utf-8", headers=headers)


@router.get("/embed", response_class=HTMLResponse)
def embed_page(runtime: RuntimeDep, request: Request) -> Response:
    embed = Embed.read(request.query_params, runtime.territories)
    parts = embed.opening()
    opening = [ChatMessage(role="assistant", text=reply_text(parts), parts=parts)] if parts else []
    accent = {"accent": embed.accent, "accent_bg": tint(embed.accent)} if embed.accent else {}
    page = render_chat(runtime, request, "/embed", embed.door(), opening, **accent)
    return framed(page, runtime)


@router.post("/embed/chat", dependencies=FromTheFrame)
def embed_post(
    runtime: RuntimeDep,
    request: Request,
    text: Annotated[str, Form()] = "",
    next_page: Annotated[str, Form(alias="next")] = "/embed",
) -> Response:
    """The frame without JavaScript: the web chat's form post, back to the frame."""
    embed = Embed.back_from(next_page, runtime.territories)
    target = embed.url("/embed")
    return post_and_return(
        runtime, request, text, target, embed.door(), lambda: embed.start(runtime)
    )


@router.post("/embed/session", dependencies=FromTheFrame)
def embed_session(runtime: RuntimeDep, request: Request) -> JSONResponse:
    """For chat.js in the frame: the frame's session, started with its territory if needed."""
    embed = Embed.read(request.query_params, runtime.territories)
    return session_json(runtime, request, embed.door(), lambda: embed.start(runtime))


@router.post("/embed/forget", dependencies=FromTheFrame)
def embed_forget(
    runtime: RuntimeDep,
    request: Request,
    next_page: Annotated[str, Form(alias="next")] = "/embed",
) -> Response:
    embed = Embed.back_from(next_page, runtime.territories)
    return forget_and_return(runtime, request, embed.url("/embed"), embed.door())


@router.get("/embed/fiche")
def embed_fiche(runtime: RuntimeDep, request: Request) -> Response:
    """The printable summary inside the frame, with a way back to the conversation."""
    embed = Embed.read(request.query_params, runtime.territories)
    response = fiche_response(runtime, request, markdown=False, door=embed.door())
    if not isinstance(response, HTMLResponse):
        return response  # no session: back to the frame
    back = f'<p><a href="{escape(embed.url("/embed"))}">← Retour à la conversation</a></p>'
    html = bytes(response.body).decode().replace("<body>", f"<body>\n{back}", 1)
    page = HTMLResponse(html, headers={"cache-control": "no-store"})
    return framed(page, runtime)


@router.get("/embed/fiche.md")
def embed_fiche_markdown(runtime: RuntimeDep, request: Request) -> Response:
    return fiche_response(runtime, request, markdown=True, door=Embed().door())


@router.get("/embed/demo", response_class=HTMLResponse)
def embed_demo(request: Request) -> HTMLResponse:
    """A sample partner page: the one line, as a partner pastes it, at work."""
    origin = str(request.base_url).rstrip("/")
    return templates.TemplateResponse(request, "embed_demo.html", {"origin": origin})
