"""The accompaniers' test mode: the chat beside the session's whole diagnostic state, and a
scenario file replayed against the engine. Off on a public server unless configured
(AIGUILLAGE_TEST_MODE and AIGUILLAGE_TEST_TOKEN)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse

from assistant.dialogue.scenarios import ScenarioResult, load_scenario, run_scenario
from assistant.errors import ScenarioError
from assistant.runtime import Runtime
from connectors.web.chat import render_chat
from connectors.web.deps import RuntimeDep, get_runtime, keep_token, token_matches

__all__ = ["MAX_SCENARIO_BYTES", "router"]

MAX_SCENARIO_BYTES = 256 * 1024


TEST_COOKIE = "aiguillage_test"


def require_test_mode(runtime: Annotated[Runtime, Depends(get_runtime)], request: Request) -> None:
    """The test page shows a session's whole state: off on a public server unless configured,
    and then only for whoever brings the token (once, as ?jeton=…; a cookie keeps it)."""
    settings = runtime.settings
    if not settings.test_mode_on:
        raise HTTPException(404, "Le mode test est désactivé sur ce serveur.")
    if settings.test_token is None:
        return
    given = request.query_params.get("jeton") or request.cookies.get(TEST_COOKIE) or ""
    if not token_matches(given, settings.test_token):
        raise HTTPException(403, "Le mode test demande le jeton fourni par l'administrateur.")


router = APIRouter(include_in_schema=False, dependencies=[Depends(require_test_mode)])


@router.get("/test", response_class=HTMLResponse)
def test_page(runtime: RuntimeDep, request: Request) -> HTMLResponse:
    page = render_chat(runtime, request, "/test")
    token = request.query_params.get("jeton")
    if token:  # checked by require_test_mode: keep it, so the page works without it in the URL
        keep_token(page, request, TEST_COOKIE, token, "/")
    return page


def run_uploaded(runtime: Runtime, name: str, raw: bytes) -> tuple[ScenarioResult | None, str]:
    """The result of a scenario file, or the French reason it could not run."""
    if len(raw) > MAX_SCENARIO_BYTES:
        return None, f"Fichier trop volumineux ({MAX_SCENARIO_BYTES // 1024} Ko au plus)."
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scenario.yaml"
        path.write_bytes(raw)
        try:
            return run_scenario(runtime.engine, load_scenario(path)), ""
        except ScenarioError as exc:
            return None, str(exc).replace(str(path), name)
        except UnicodeDecodeError:
            return None, f"{name} : le fichier doit être du texte UTF-8."


@router.post("/test/scenario", response_class=HTMLResponse)
def test_scenario(
    runtime: RuntimeDep, request: Request, scenario: Annotated[UploadFile, File()]
) -> HTMLResponse:
    """Run an uploaded scenario file against the engine (no session is touched)."""
    name = Path(scenario.filename or "scenario.yaml").name
    result, error = run_uploaded(runtime, name, scenario.file.read(MAX_SCENARIO_BYTES + 1))
    return render_chat(
        runtime,
        request,
        "/test",
        scenario_name=name,
        scenario_result=result,
        scenario_state=json.dumps(result.state, ensure_ascii=False, indent=2) if result else "",
        scenario_error=error or None,
        status_code=422 if error else 200,
    )
