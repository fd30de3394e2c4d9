"""The JSON API of PRODUCT.md: sessions, messages, adviser, free questions (also streamed as
server-sent events), the /api/echo baseline and /healthz.

The core is synchronous (SQLite, ChromaDB), so every endpoint that reaches it is a plain
`def`: FastAPI runs those in its threadpool and the event loop keeps serving.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, HTTPException, Query
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse
from pydantic import BaseModel, Field, field_serializer
from starlette.responses import Response

from assistant.answers.answering import Answer, Answerer, SourceRef
from assistant.dialogue.state import DiagnosticState
from assistant.orientation.adviser import AdviserReport
from assistant.orientation.contacts import OrientationResult, Recommendation, Step
from assistant.render.parts import Part
from assistant.search.index import current_generation
from assistant.sessions.store import TranscriptEntry
from connectors.base import CollectingOutput, Reply, deliver
from connectors.web.deps import (
    NOT_FOUND,
    Limited,
    RuntimeDep,
    check_text,
    fiche_page,
    problem,
)

__all__ = ["MessageOut", "router", "sse"]

log = logging.getLogger(__name__)

router = APIRouter()

# --------------------------------------------------------------------------- models

PARTS_DOC = (
    "La réponse en parties typées, dans l'ordre où les afficher ; `reply` en est le texte "
    "brut (concaténation des `text`). Chaque partie a `type` (discriminant) et `text`, son "
    "rendu en texte simple ; un canal dessine les autres champs sans jamais analyser le texte. "
    "Types : `ack` (ce qui a été compris : `items`) ; `answer` (réponse sourcée : `body` sans "
    "la liste des sources, `citations` numérotées [1], [2]… dans l'ordre, `declined` quand "
    "l'assistant renvoie vers un humain) ; `contacts` (`title`, puis `contacts`, les plus "
    "utiles d'abord : `name`, `what` — ce que c'est —, `why` — pourquoi ici —, `contact` "
    "(site, téléphone, courriel, adresse), `how_to_reach`, `verified`, `sources`) ; `steps` "
    "(`title`, `steps` : `text`, `cards`) ; `guides` (`title`, `guides` : les fiches derrière "
    "contacts et étapes, à montrer une fois, repliées) ; `question` (la question suivante du "
    "diagnostic, `slot`, `quick_replies`) ; `notice` (remarque sur le tour : accueil, message "
    "non compris, « pour affiner… »)."
)


class MessageIn(BaseModel):
    text: str = Field(description="Le message, ou le libellé d'une réponse proposée.")


class SessionCreated(BaseModel):
    session_id: str


# The story the description classifier reads (the person's own words, joined) stays in the
# session store: a partner logging API responses should not log it a second time.
PRIVATE_STATE = {"description"}


def public_state(state: DiagnosticState) -> dict[str, Any]:
    return state.model_dump(mode="json", exclude=PRIVATE_STATE)


class MessageOut(BaseModel):
    """One turn, as PRODUCT.md's contract; `next_steps`, `action` and `parts` are additions."""

    reply: str = Field(description="La réponse en texte brut (les `text` des `parts`).")
    quick_replies: list[str] = Field(description="Réponses proposées, à montrer en boutons.")
    state: DiagnosticState = Field(description="L'état du diagnostic après ce message.")
    contacts: list[Recommendation] = Field(
        description="Les contacts recommandés (vide tant que l'orientation n'est pas faite)."
    )
    sources: list[SourceRef] = Field(description="Toutes les fiches citées par ce tour.")
    next_steps: list[Step] = Field(description="Les prochaines étapes proposées.")
    action: str = Field(
        description="Ce que le tour a fait : ask, orient, answer, fiche, restart, forget…"
    )
    parts: list[Part] = Field(
        description=PARTS_DOC,
        json_schema_extra={
            "example": [
                {"type": "ack", "text": "C'est noté : Guéret (Creuse).", "items": ["Guéret"]},
                {
                    "type": "question",
                    "text": "De quoi avez-vous besoin ?",
                    "slot": "needs",
                    "quick_replies": ["Financement", "Emploi"],
                },
            ]
        },
    )

    @field_serializer("state")
    def _public(self, state: DiagnosticState) -> dict[str, Any]:
        return public_state(state)

    @classmethod
    def from_reply(cls, reply: Reply, state: DiagnosticState) -> MessageOut:
        return cls(
            reply=reply.text,
            parts=reply.parts,
            quick_replies=reply.quick_replies,
            state=state,
            contacts=reply.contacts,
            sources=reply.sources,
            next_steps=reply.next_steps,
            action=reply.action,
        )


class SessionOut(BaseModel):
    session_id: str
    created_at: str
    updated_at: str
    state: DiagnosticState
    transcript: list[TranscriptEntry] = Field(
        description="Les messages, dans l'ordre ; le `meta.parts` d'une réponse de "
        "l'assistant reprend les `parts` de la réponse à ce message."
    )

    @field_serializer("state")
    def _public(self, state: DiagnosticState) -> dict[str, Any]:
        return public_state(state)


class Problem(BaseModel):
    detail: str


class Echo(BaseModel):
    text: str


# A client that may send a message twice (a retry after a broken connection, through a proxy
# that sends it to another replica) names it: the second POST gets the reply of the first.
IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9._:-]{1,100}")
IDEMPOTENCY_DOC = (
    "Facultatif : un identifiant du message choisi par le client (1 à 100 caractères parmi "
    "lettres, chiffres, « . _ : - »). Renvoyé avec le même identifiant dans la même session, "
    "le message n'est pas traité une seconde fois : la réponse déjà donnée est renvoyée."
)
BAD_IDEMPOTENCY_KEY = (
    "L'en-tête Idempotency-Key doit compter 1 à 100 caractères parmi lettres, chiffres, "
    "« . », « _ », « : » et « - »."
)


def checked(text: str, max_chars: int) -> str:
    """The text, or a French 422 when it cannot be sent."""
    reason = check_text(text, max_chars)
    if reason:
        raise HTTPException(422, reason)
    return text


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


# --------------------------------------------------------------------------- service


@router.get("/healthz", tags=["service"], responses={503: {"model": Problem}})
def healthz(runtime: RuntimeDep) -> JSONResponse:
    """200 when the index is present and the session store answers."""
    if current_generation(runtime.settings.index_dir) is None:
        return problem(503, "Index de recherche absent : lancez « aiguillage index ».")
    runtime.conversation.store.count()
    return JSONResponse({"status": "ok"})


@router.get("/api/echo", tags=["service"], responses={422: {"model": Problem}})
def echo_get(runtime: RuntimeDep, text: Annotated[str, Query()] = "") -> Echo:
    """Baseline of scripts/bench_http.py: the `text` parameter back, through the same
    middlewares and threadpool hop as a turn, without touching the core."""
    max_chars = runtime.settings.max_message_chars
    if len(text) > max_chars:
        raise HTTPException(422, f"Message trop long : {max_chars} caractères au plus.")
    return Echo(text=text)


@router.post(
    "/api/echo", tags=["service"], responses={413: {"model": Problem}, 422: {"model": Problem}}
)
def echo_post(runtime: RuntimeDep, message: MessageIn) -> Echo:
    """Baseline of scripts/bench_http.py: a message body parsed and checked as a turn's
    is, then sent back; same middlewares and threadpool hop, no core work."""
    return Echo(text=checked(message.text, runtime.settings.max_message_chars))


# --------------------------------------------------------------------------- sessions


@router.post(
    "/api/sessions",
    status_code=201,
    tags=["api"],
    dependencies=[Limited],
    responses={429: {"model": Problem}},
)
def create_session(runtime: RuntimeDep) -> SessionCreated:
    """Open a new conversation."""
    session_id, _greeting = runtime.conversation.start()
    return SessionCreated(session_id=session_id)


@router.post(
    "/api/sessions/{session_id}/messages",
    tags=["api"],
    dependencies=[Limited],
    responses={
        404: {"model": Problem},
        413: {"model": Problem},
        422: {"model": Problem},
        429: {"model": Problem},
    },
)
async def post_message(
    runtime: RuntimeDep,
    session_id: str,
    message: MessageIn,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", description=IDEMPOTENCY_DOC)
    ] = None,
) -> MessageOut:
    """One user message in; the assistant's reply (as text and as typed `parts`), state,
    contacts and sources out."""
    text = checked(message.text, runtime.settings.max_message_chars)
    if idempotency_key is not None and not IDEMPOTENCY_KEY.fullmatch(idempotency_key):
        raise HTTPException(422, BAD_IDEMPOTENCY_KEY)
    # The HTTP API is a request/response channel: the reply goes to a collecting output.
    output = CollectingOutput()
    turn = await deliver(
        runtime.conversation, session_id, text, output, session_id, idempotency_key
    )
    return MessageOut.from_reply(output.last, turn.state)


@router.get("/api/sessions/{session_id}", tags=["api"], responses={404: {"model": Problem}})
def get_session(runtime: RuntimeDep, session_id: str) -> SessionOut:
    """The session's diagnostic state and transcript."""
    record = runtime.conversation.get(session_id)
    return SessionOut(
        session_id=record.id,
        created_at=record.created_at.isoformat(),
        updated_at=record.updated_at.isoformat(),
        state=record.state,
        transcript=record.transcript,
    )


@router.delete(
    "/api/sessions/{session_id}",
    status_code=204,
    tags=["api"],
    responses={404: {"model": Problem}},
)
def delete_session(runtime: RuntimeDep, session_id: str) -> Response:
    """Erase the session, its state and its transcript (GDPR)."""
    if not runtime.conversation.forget(session_id):
        return problem(404, NOT_FOUND)
    return Response(status_code=204)


@router.get(
    "/api/sessions/{session_id}/contacts", tags=["api"], responses={404: {"model": Problem}}
)
def get_contacts(runtime: RuntimeDep, session_id: str) -> OrientationResult:
    """The orientation for the session's current state."""
    return runtime.conversation.orientation(session_id)


@router.get(
    "/api/sessions/{session_id}/fiche",
    tags=["api"],
    responses={
        200: {"content": {"text/markdown": {}, "text/html": {}, "application/json": {}}},
        404: {"model": Problem},
    },
)
def get_fiche(
    runtime: RuntimeDep,
    session_id: str,
    format: Annotated[Literal["md", "html", "json"], Query()] = "md",
) -> Response:
    """The summary sheet: Markdown (default), a printable HTML page, or both as JSON."""
    fiche = runtime.conversation.fiche(session_id)
    if format == "html":
        return fiche_page(fiche.html)
    if format == "json":
        return JSONResponse(fiche.model_dump())
    return PlainTextResponse(fiche.markdown, media_type="text/markdown; charset=utf-8")


# --------------------------------------------------------------------------- stateless


@router.post(
    "/api/adviser",
    tags=["api"],
    dependencies=[Limited],
    responses={413: {"model": Problem}, 422: {"model": Problem}, 429: {"model": Problem}},
)
def adviser(runtime: RuntimeDep, message: MessageIn) -> AdviserReport:
    """Adviser mode: a client's project description in; ESS traits, verdict, stage,
    territory and the ESS structures to orient to, with sources, out. Nothing stored."""
    text = checked(message.text, runtime.settings.max_message_chars)
    return runtime.adviser.analyse(text)


@router.post(
    "/api/ask",
    tags=["api"],
    dependencies=[Limited],
    responses={
        413: {"model": Problem},
        422: {"model": Problem},
        429: {"model": Problem},
        503: {"model": Problem},
    },
)
def ask(runtime: RuntimeDep, message: MessageIn) -> Answer:
    """A free question in, a sourced answer out (or a decline pointing to a human):
    the object `aiguillage ask --json` prints. No session is created."""
    text = checked(message.text, runtime.settings.max_message_chars)
    return runtime.answerer.answer(text)


@router.post(
    "/api/ask/stream",
    tags=["api"],
    dependencies=[Limited],
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}},
        413: {"model": Problem},
        422: {"model": Problem},
        503: {"model": Problem},
    },
)
async def ask_stream(runtime: RuntimeDep, message: MessageIn) -> StreamingResponse:
    """`/api/ask` as server-sent events. With a language model: one `delta` event per
    line that passed the guards (`{"text"}`), then one `final` event: the /api/ask object
    plus `fallback` (the reason, when the deterministic answer replaced the model's), to
    show in place of the deltas. Without one: a single `final` event. An `error` event
    (`{"detail"}`) ends a stream that failed midway."""
    text = checked(message.text, runtime.settings.max_message_chars)
    # Built off the event loop (it may open the index); a missing index is a 503 here,
    # before the stream has started.
    answerer = await asyncio.to_thread(lambda: runtime.answerer)
    if runtime.llm is None:
        answer = await asyncio.to_thread(answerer.answer, text)
        body: AsyncIterator[bytes] = _single(sse("final", final_payload(answer)))
    else:
        body = _events(answerer, text)
    return StreamingResponse(body, media_type="text/event-stream", headers=SSE_HEADERS)
