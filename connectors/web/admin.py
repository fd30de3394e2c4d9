"""The curators' page (/admin): coverage map, unanswered questions, usage by partner,
correction proposals to review, what to check again, documents and index. Off unless
AIGUILLAGE_ADMIN_TOKEN is set.

The token comes as `Authorization: Bearer …` (scripts) or once through the login form, which
keeps it in an HttpOnly, SameSite=Strict cookie limited to /admin (the same cookie logic as the
test page, `deps.keep_token`); without it: the login form (401) or a 401/403, never data. The
page reads without JavaScript: a département of the map is a link to `?departement=CODE`;
static/admin.js only loads the gaps in place.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.responses import Response

from assistant.curation.corrections import FIELD_LABELS, Proposal, current_value
from assistant.curation.coverage import coverage_report
from assistant.curation.departement_map import (
    COVERAGE_LEVELS,
    DepartementGaps,
    DepartementMap,
    coverage_level,
    departement_gaps,
    load_departement_map,
    share_covered,
)
from assistant.curation.directory_edit import apply_correction
from assistant.curation.index_status import index_status, list_documents
from assistant.curation.truth import review_list
from assistant.curation.unanswered import group_unanswered
from assistant.curation.usage import group_usage
from assistant.errors import KnowledgeError
from assistant.runtime import Runtime
from assistant.vocabulary import NEEDS, STAGES
from connectors.ratelimit import RateLimiter
from connectors.web.deps import RuntimeDep, get_runtime, keep_token, templates, token_matches

__all__ = ["ADMIN_COOKIE", "router"]

ADMIN_COOKIE = "aiguillage_admin"
LOGIN_LIMIT = "10/minute;50/hour"  # a token is guessed by nobody at this pace
STALE_SHOWN = 40
DISABLED = "La page des curateurs est désactivée : définissez AIGUILLAGE_ADMIN_TOKEN."

router = APIRouter(include_in_schema=False)


# --------------------------------------------------------------------------- access


def _given_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(ADMIN_COOKIE, "")


def admin_allowed(runtime: Runtime, request: Request) -> bool:
    token = runtime.settings.admin_token
    if token is None:
        raise HTTPException(404, DISABLED)
    given = _given_token(request)
    return bool(given) and token_matches(given, token)


def require_admin(runtime: Annotated[Runtime, Depends(get_runtime)], request: Request) -> None:
    """Dependency of every admin action: 401 without a token, 403 with a wrong one."""
    if admin_allowed(runtime, request):
        return
    if _given_token(request):
        raise HTTPException(403, "Jeton de curateur refusé.")
    raise HTTPException(
        401, "Cette page demande le jeton des curateurs.", {"WWW-Authenticate": "Bearer"}
    )


Admin = Depends(require_admin)


def _limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter | None = getattr(request.app.state, "admin_login_limiter", None)
    if limiter is None:
        limiter = request.app.state.admin_login_limiter = RateLimiter(LOGIN_LIMIT)
    return limiter


def _page(request: Request, template: str, context: dict[str, Any], status: int = 200) -> Response:
    response = templates.TemplateResponse(request, template, context, status_code=status)
    response.headers["cache-control"] = "no-store"  # holds what only curators may read
    return response


def _login(request: Request, error: str | None = None, status: int = 401) -> Response:
    return _page(request, "admin_login.html", {"error": error}, status)


# --------------------------------------------------------------------------- what is shown


@lru_cache(maxsize=4)
def _map_at(path: Path) -> DepartementMap:
    return load_departement_map(path)


def _map(runtime: Runtime) -> DepartementMap:
    return _map_at(runtime.settings.territories_dir / "departements.svg")


def _map_rows(runtime: Runtime) -> list[dict[str, Any]]:
    """One row per département: name, local entries, share covered, level (colour)."""
    report = coverage_report(runtime.structures.values(), runtime.territories)
    names = {row.departement: row.name for row in report.departements}
    shapes = {shape.code: shape.d for shape in _map(runtime).shapes}
    rows = []
    for code in runtime.territories.departement_codes:
        share, local = share_covered(report, code)
        level = coverage_level(share, local)
        rows.append(
            {
                "code": code,
                "name": names.get(code, code),
                "d": shapes.get(code, ""),
                "local": local,
                "percent": round(share * 100),
                "level": level,
                "level_label": COVERAGE_LEVELS[level][1],
            }
        )
    return rows


def _gaps(runtime: Runtime, code: str | None) -> DepartementGaps | None:
    if not code or code not in runtime.territories.departement_codes:
        return None
    return departement_gaps(runtime.structures.values(), runtime.territories, code)


def _proposal_row(runtime: Runtime, proposal: Proposal) -> dict[str, Any]:
    structure = runtime.structures.get(proposal.structure_id)
    return {
        "p": proposal,
        "structure": structure.name if structure else proposal.structure_id,
        "file": structure.file if structure else None,
        "label": FIELD_LABELS.get(proposal.field, proposal.field),
        "current": current_value(structure, proposal.field) if structure else None,
    }


def _overview(runtime: Runtime, code: str | None) -> dict[str, Any]:
    settings = runtime.settings
    proposals = runtime.proposals.list()
    cutoff = dt.date.today() - dt.timedelta(days=settings.stale_after_days)
    review = review_list(runtime.cards.values(), runtime.structures.values())
    stale = [item for item in review if item.reviewed is None or item.reviewed < cutoff]
    rows = _map_rows(runtime)
    return {
        "map": _map(runtime),
        "rows": rows,
        "names": {row["code"]: row["name"] for row in rows},
        "levels": COVERAGE_LEVELS,
        "pairs": len(STAGES) * len(NEEDS),
        "gaps": _gaps(runtime, code),
        "asked": code,
        "unanswered": group_unanswered(runtime.conversation.unanswered(500)),
        "usage": group_usage(runtime.store.partner_openings()),
        "pending": [_proposal_row(runtime, p) for p in proposals if p.status == "pending"],
        "decided": [_proposal_row(runtime, p) for p in proposals if p.status != "pending"][:20],
        "stale": stale[:STALE_SHOWN],
        "stale_total": len(stale),
        "review_total": len(review),
        "stale_days": settings.stale_after_days,
        "index": index_status(settings.index_dir),
        "documents": list_documents(settings.knowledge_dir / "documents"),
    }


# --------------------------------------------------------------------------- routes


@router.get("/admin", response_class=HTMLResponse)
def admin_page(runtime: RuntimeDep, request: Request) -> Response:
    if not admin_allowed(runtime, request):
        if _given_token(request):
            return _login(request, "Jeton refusé : reconnectez-vous.", 403)
        return _login(request)
    code = request.query_params.get("departement")
    context = _overview(runtime, code)
    context["notice"] = {
        "acceptee": "Proposition acceptée : l'annuaire est corrigé.",
        "rejetee": "Proposition rejetée.",
    }.get(request.query_params.get("fait", ""))
    status = 404 if code and context["gaps"] is None else 200
    return _page(request, "admin.html", context, status)


@router.post("/admin/connexion", response_class=HTMLResponse)
def admin_login(
    runtime: RuntimeDep, request: Request, jeton: Annotated[str, Form()] = ""
) -> Response:
    token = runtime.settings.admin_token
    if token is None:
        raise HTTPException(404, DISABLED)
    client = request.client.host if request.client else "unknown"
    wait = _limiter(request).wait(f"admin-login:{client}")
    if wait:
        return _login(request, RateLimiter.message(wait), 429)
    if not jeton.strip() or not token_matches(jeton.strip(), token):
        return _login(request, "Jeton incorrect.", 401)
    response = RedirectResponse("/admin", status_code=303)
    keep_token(response, request, ADMIN_COOKIE, jeton.strip(), "/admin")
    return response


@router.post("/admin/deconnexion", dependencies=[Admin])
def admin_logout() -> Response:
    response = RedirectResponse("/admin", status_code=303)
    response.delete_cookie(ADMIN_COOKIE, path="/admin")
    return response


@router.get("/admin/lacunes/{code}", response_class=HTMLResponse, dependencies=[Admin])
def admin_gaps(runtime: RuntimeDep, request: Request, code: str) -> Response:
    """The gaps panel alone, for admin.js to load in place (the page works without it)."""
    gaps = _gaps(runtime, code)
    if gaps is None:
        raise HTTPException(404, "Département inconnu.")
    return _page(request, "admin_gaps.html", {"gaps": gaps})


@router.post("/admin/propositions/{proposal_id}/{decision}", dependencies=[Admin])
def admin_decide(
    runtime: RuntimeDep, request: Request, proposal_id: int, decision: str
) -> Response:
    if decision not in ("accepter", "rejeter"):
        raise HTTPException(404, "Action inconnue.")
    proposal = runtime.proposals.get(proposal_id)
    if proposal is None:
        raise HTTPException(404, "Proposition inconnue.")
    if proposal.status != "pending":
        raise HTTPException(409, "Cette proposition a déjà été traitée.")
    if decision == "rejeter":
        runtime.proposals.decide(proposal_id, "rejected")
        return RedirectResponse("/admin?fait=rejetee#propositions", status_code=303)
    structure = runtime.structures.get(proposal.structure_id)
    try:
        if structure is None:
            raise KnowledgeError(f"{proposal.structure_id}: no longer in the directory")
        apply_correction(runtime.settings.structures_dir, structure, proposal, dt.date.today())
    except KnowledgeError as exc:
        context = _overview(runtime, None)
        context["error"] = (
            f"La correction n°{proposal_id} n'a pas pu être appliquée ; l'annuaire n'a pas "
            f"changé. Corrigez le fichier à la main puis rejetez la proposition. ({exc})"
        )
        return _page(request, "admin.html", context, 422)
    runtime.proposals.decide(proposal_id, "accepted")
    runtime.reload_directory()
    return RedirectResponse("/admin?fait=acceptee#propositions", status_code=303)


@router.get("/admin/donnees.json", dependencies=[Admin])
def admin_data(runtime: RuntimeDep) -> JSONResponse:
    """The same figures for scripts (Authorization: Bearer …)."""
    overview = _overview(runtime, None)
    payload = {
        "coverage": [{k: v for k, v in row.items() if k != "d"} for row in overview["rows"]],
        "unanswered": [q.model_dump(mode="json") for q in overview["unanswered"]],
        "usage": [u.model_dump(mode="json") for u in overview["usage"]],
        "proposals": [
            p.model_dump(mode="json", exclude={"email"}) for p in runtime.proposals.list()
        ],
        "stale_total": overview["stale_total"],
        "index": overview["index"].model_dump(mode="json"),
        "documents": [d.model_dump(mode="json") for d in overview["documents"]],
    }
    return JSONResponse(payload, headers={"cache-control": "no-store"})
