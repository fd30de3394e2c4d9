"""The channel seam: what every connector (web, HTTP API, Telegram, terminal) shares.

A connector turns its transport's payload into text for `Conversation.send`, and turns the
`TurnResult` into its medium through an `OutputChannel`. Rich parts (quick replies,
contacts, sources) fall back to plain text when a channel cannot show them.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from pydantic import BaseModel, Field

from assistant.answers.answering import SourceRef
from assistant.dialogue.conversation import Conversation
from assistant.dialogue.engine import TurnResult
from assistant.orientation.contacts import Recommendation
from assistant.render.parts import Part


class Reply(BaseModel):
    """What a channel shows for one turn; the same for every channel."""

    text: str
    parts: list[Part] = Field(default_factory=list)
    quick_replies: list[str] = Field(default_factory=list)
    contacts: list[Recommendation] = Field(default_factory=list)
    sources: list[SourceRef] = Field(default_factory=list)
    action: str = "reply"

    @classmethod
    def from_turn(cls, turn: TurnResult) -> Reply:
        return cls(
            text=turn.reply,
            parts=turn.parts,
            quick_replies=turn.quick_replies,
            contacts=turn.contacts,
            sources=turn.sources,
            action=turn.action,
        )


class OutputChannel(Protocol):
    """Sends a reply to one recipient of a channel."""

    async def send(self, recipient_id: str, reply: Reply) -> None:
        """Deliver the reply (text first; richer parts if the channel supports them)."""
        ...


class CollectingOutput:
    """An output channel that keeps what it is given: for request/response channels and tests."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Reply]] = []

    async def send(self, recipient_id: str, reply: Reply) -> None:
        self.sent.append((recipient_id, reply))


async def deliver(
    conversation: Conversation, session_id: str, text: str, output: OutputChannel, recipient: str
) -> TurnResult:
    """One user message through the core, once, then out through the channel.

    The core is synchronous (SQLite, ChromaDB): it runs in a worker thread so an async
    connector keeps serving other users meanwhile.
    """
    turn = await asyncio.to_thread(conversation.send, session_id, text)
    await output.send(recipient, Reply.from_turn(turn))
    return turn
