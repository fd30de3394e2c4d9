"""A reply as typed parts: what the engine says, before any channel decides how it looks.

Channels render parts (web cards, Telegram MarkdownV2, terminal text); none of them parses the
French text. Every part also carries `text`, its plain rendering from `prompts/parts/`, which
makes the whole reply (`TurnResult.reply`) and serves channels that only show text.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, TypeAdapter

from assistant.answers.answering import SourceRef
from assistant.orientation.contacts import Recommendation, Step

__all__ = [
    "PARTS",
    "AckPart",
    "AnswerPart",
    "ContactsPart",
    "GuidesPart",
    "NoticePart",
    "Part",
    "QuestionPart",
    "StepsPart",
]


class AckPart(BaseModel):
    """What was understood from the message ("territoire : Guéret (Creuse)")."""

    type: Literal["ack"] = "ack"
    text: str = ""
    items: list[str] = Field(default_factory=list)


class AnswerPart(BaseModel):
    """A grounded answer to a free question, with the cards it cites (or a decline)."""

    type: Literal["answer"] = "answer"
    text: str = ""
    body: str = ""  # the answer without its list of sources (channels fold `citations`)
    citations: list[SourceRef] = Field(default_factory=list)
    declined: bool = False


class ContactsPart(BaseModel):
    """Local contacts, most useful first; `title` introduces them."""

    type: Literal["contacts"] = "contacts"
    text: str = ""
    title: str
    contacts: list[Recommendation] = Field(default_factory=list)
    # Ids of contacts in `contacts` shown in full in an earlier reply: channels name them
    # briefly instead of repeating their details.
    already_shown: list[str] = Field(default_factory=list)
    again: str = ""  # the line that names them ("Toujours valables (détails plus haut) : …")

    def fresh(self) -> list[Recommendation]:
        """The contacts to show in full."""
        return [c for c in self.contacts if c.id not in self.already_shown]


class StepsPart(BaseModel):
    type: Literal["steps"] = "steps"
    text: str = ""
    title: str
    steps: list[Step] = Field(default_factory=list)


class GuidesPart(BaseModel):
    """The guides (cards) behind the contacts and steps: sources, shown once, folded."""

    type: Literal["guides"] = "guides"
    text: str = ""
    title: str
    guides: list[SourceRef] = Field(default_factory=list)


class QuestionPart(BaseModel):
    """The next question of the diagnostic, with its quick replies."""

    type: Literal["question"] = "question"
    text: str = ""
    slot: str | None = None
    quick_replies: list[str] = Field(default_factory=list)


class NoticePart(BaseModel):
    """A remark on the turn itself: not understood, "je ne sais pas" noted, restarted…"""

    type: Literal["notice"] = "notice"
    text: str = ""


Part = Annotated[
    AckPart | AnswerPart | ContactsPart | StepsPart | GuidesPart | QuestionPart | NoticePart,
    Field(discriminator="type"),
]
# Stored parts (a transcript's meta) read back as parts: a page redrawn, a reply replayed.
PARTS: TypeAdapter[list[Part]] = TypeAdapter(list[Part])
