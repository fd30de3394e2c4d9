"""What one turn gives a channel: typed parts to render, and the same as data for the API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from assistant.answers.answering import SourceRef
from assistant.dialogue.state import DiagnosticState
from assistant.orientation.contacts import Recommendation, Step
from assistant.render.parts import Part

__all__ = ["Action", "TurnResult"]

Action = Literal["reply", "restart", "forget", "fiche", "contacts", "start"]


class TurnResult(BaseModel):
    """What a channel shows after one user message: typed `parts` to render, and the same as
    plain text in `reply` (with `quick_replies`, `contacts`, `sources` kept for the HTTP API)."""

    reply: str
    parts: list[Part] = Field(default_factory=list)
    quick_replies: list[str] = Field(default_factory=list)
    state: DiagnosticState
    contacts: list[Recommendation] = Field(default_factory=list)
    next_steps: list[Step] = Field(default_factory=list)
    sources: list[SourceRef] = Field(default_factory=list)
    action: Action = "reply"
    declined: bool = False  # a free question the knowledge could not answer
