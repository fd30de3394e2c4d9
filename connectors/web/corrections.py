"""« Vous êtes cette structure ? Signaler une correction » : the short form behind every contact
card. What is sent is stored as a proposal for the curators (never published by itself),
checked field by field (a clear French error, the form refilled), and rate-limited per client
address (AIGUILLAGE_CORRECTION_RATE_LIMIT), counted only when a proposal is stored.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from assistant.curation.corrections import (
    FIELD_LABELS,
    MAX_VALUE_CHARS,
    ProposalDraft,
    check_draft,
    clean,
)
from assistant.runtime import Runtime
from connectors.ratelimit import RateLimiter
from connectors.web.deps import RuntimeDep, templates

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _limiter(request: Request, runtime: Runtime) -> RateLimiter | None:
    rule = runtime.settings.correction_rate_limit
    if not rule.strip():
        return None
    limiter: RateLimiter | None = getattr(request.app.state, "correction_limiter", None)
    if limiter is None:
        limiter = request.app.state.correction_limiter = RateLimiter(rule)
    return limiter


def _form(
    runtime: Runtime,
    request: Request,
    draft: ProposalDraft,
    errors: dict[str, str] | None = None,
    status: int = 200,
    **extra: Any,
) -> Response:
    structure = runtime.structures.get(draft.structure_id)
    context = {
        "draft": draft,
        "structure": structure,
        "fields": FIELD_LABELS,
        "errors": errors or {},
        "max_chars": MAX_VALUE_CHARS,
        "retention_days": runtime.settings.session_retention_days,
        **extra,
    }
    response = templates.TemplateResponse(request, "correction.html", context, status_code=status)
    response.headers["cache-control"] = "no-store"
    return response


@router.get("/correction", response_class=HTMLResponse)
def correction_form(runtime: RuntimeDep, request: Request, structure: str = "") -> Response:
    draft = ProposalDraft(structure_id=structure, field="", value="", page_url="")
    if structure not in runtime.structures:
        errors = {"structure_id": "Cette structure n'est pas dans l'annuaire."}
        return _form(runtime, request, draft, errors, 404)
    return _form(runtime, request, draft)


@router.post("/correction", response_class=HTMLResponse)
def correction_post(
    runtime: RuntimeDep,
    request: Request,
    structure_id: Annotated[str, Form()] = "",
    field: Annotated[str, Form()] = "",
    value: Annotated[str, Form()] = "",
    page_url: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
) -> Response:
    draft = clean(
        ProposalDraft(
            structure_id=structure_id, field=field, value=value, page_url=page_url, email=email
        )
    )
    errors = check_draft(draft, runtime.structures)
    if errors:
        return _form(runtime, request, draft, errors, 422)
    limiter = _limiter(request, runtime)
    client = request.client.host if request.client else "unknown"
    wait = limiter.wait(f"correction:{client}") if limiter else 0
    if wait:
        response = _form(
            runtime,
            request,
            draft,
            {"form": "Trop de propositions envoyées d'ici : réessayez plus tard."},
            429,
        )
        response.headers["retry-after"] = str(wait)
        return response
    proposal = runtime.proposals.add(draft)
    return _form(runtime, request, draft, status=201, sent=proposal)
