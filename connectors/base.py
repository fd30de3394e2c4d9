"""The channel seam: what every connector (web, HTTP API, Telegram, terminal) shares.

An `InputChannel` takes users' messages from its transport (a terminal, Telegram, the web) and
hands their text to `Conversation.send`; an `OutputChannel` shows the `Reply` of the turn in
its medium. Channels render the reply's typed `parts` (see `assistant.render.parts`) and fall
back to `Reply.text`, the parts' plain rendering, when there are none or they cannot show them.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from pydantic import BaseModel, Field

from assistant.answers.answering import SourceRef
from assistant.dialogue.conversation import Conversation
from assistant.dialogue.turn import TurnResult
from assistant.orientation.contacts import Recommendation, Step
from assistant.render.parts import Part

__all__ = [
    "CollectingOutput",
    "InputChannel",
    "OutputChannel",
    "Reply",
    "deliver",
]


class Reply(BaseModel):
    """What a channel shows for one turn; the same for every channel."""

    text: str
    parts: list[Part] = Field(default_factory=list)
    quick_replies: list[str] = Field(default_factory=list)
    contacts: list[Recommendation] = Field(default_factory=list)
    next_steps: list[Step] = Field(default_factory=list)
    sources: list[SourceRef] = Field(default_factory=list)
    action: str = "reply"

    @classmethod
    def from_turn(cls, turn: TurnResult) -> Reply:
        return cls(
            text=turn.reply,
            parts=turn.parts,
            quick_replies=turn.quick_replies,
            contacts=turn.contacts,
            next_steps=turn.next_steps,
            sources=turn.sources,
            action=turn.action,
        )


class OutputChannel(Protocol):
    """Sends a reply to one recipient of a channel (a Telegram chat, the terminal's user…)."""

    async def send(self, recipient_id: str, reply: Reply) -> None:
        """Deliver the reply: its parts as the medium can show them, quick replies included."""
        ...


class CollectingOutput:
    """An `OutputChannel` that keeps what it is given, in order.

    Request/response channels (an HTTP API answering with the reply) collect the turn's reply
    and return it; tests use it to see a turn's reply exactly as a channel would get it.
    """

    def __init__(self) -> None:
        self.sent: list[tuple[str, Reply]] = []

    async def send(self, recipient_id: str, reply: Reply) -> None:
        self.sent.append((recipient_id, reply))

    @property
    def last(self) -> Reply:
        """The latest reply (IndexError when nothing was sent)."""
        return self.sent[-1][1]


class InputChannel(Protocol):
    """Where users' messages come from: one per transport, each a thin layer over the core.

    A channel is started in one of two ways:

    - it *runs* on its own: `run()` blocks, serving its users until they leave or the process
      is stopped (the terminal's `aiguillage chat`, Telegram's long polling `aiguillage
      telegram`);
    - or it is *mounted* into the web server started by `aiguillage serve`: a FastAPI router
      (the web chat and HTTP API, Telegram's webhook) whose requests carry the messages.

    Either way it maps each user to one session id, passes the text of each message to
    `Conversation.send` (see `deliver`) and shows the reply through an `OutputChannel`.
    """

    @property
    def name(self) -> str:
        """The channel's short name ("terminal", "telegram", "web"), for logs and settings."""
        ...

    def run(self) -> None:
        """Serve users until they leave or the process is stopped (blocking)."""
        ...


async def deliver(
    conversation: Conversation,
    session_id: str,
    text: str,
    output: OutputChannel,
    recipient: str,
    message_id: str | None = None,
) -> TurnResult:
    """One user message through the core, once, then out through the channel.

    The core is synchronous (SQLite, ChromaDB): it runs in a worker thread so an async
    connector keeps serving other users meanwhile. `message_id` names a message the channel
    may deliver twice: the second delivery gets the stored reply (Conversation.send).
    """
    turn = await asyncio.to_thread(conversation.send, session_id, text, message_id)
    await output.send(recipient, Reply.from_turn(turn))
    return turn
