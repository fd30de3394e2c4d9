"""A message named by its channel is handled once: the second delivery gets the stored reply
(a client retrying after a broken connection, possibly on another replica)."""

from __future__ import annotations

import pytest

from assistant.dialogue.conversation import Conversation
from assistant.errors import MessageIdConflictError
from assistant.runtime import Runtime
from assistant.sessions.memory import MemorySessionStore

STORY = "asso a Gueret, 4 salaries, la tresorerie est tendue, on veut perenniser les postes"


@pytest.fixture()
def conversation(runtime: Runtime) -> Conversation:
    return Conversation(runtime.engine, MemorySessionStore(), runtime.fiche_builder, 30)


def _user_turns(conversation: Conversation, session_id: str) -> list[str]:
    return [e.text for e in conversation.get(session_id).transcript if e.role == "user"]


def test_a_message_delivered_twice_is_handled_once(conversation: Conversation) -> None:
    session_id, _ = conversation.start()
    first = conversation.send(session_id, STORY, message_id="m-1")
    again = conversation.send(session_id, STORY, message_id="m-1")
    assert _user_turns(conversation, session_id) == [STORY]
    assert again.reply == first.reply and again.parts == first.parts
    assert again.quick_replies == first.quick_replies and again.action == first.action
    assert again.state == first.state
    # The story said it all: the turn oriented, and its contacts and steps come back whole.
    assert first.contacts and first.next_steps and first.sources
    assert again.contacts == first.contacts and again.next_steps == first.next_steps
    assert {s.id for s in again.sources} == {s.id for s in first.sources}

    # A later message with its own name is a new turn; the earlier name still replays.
    conversation.send(session_id, "c'est quoi le DLA ?", message_id="m-2")
    late = conversation.send(session_id, STORY, message_id="m-1")
    assert late.reply == first.reply
    assert _user_turns(conversation, session_id) == [STORY, "c'est quoi le DLA ?"]


def test_messages_without_a_name_or_with_new_names_each_count(conversation: Conversation) -> None:
    session_id, _ = conversation.start()
    conversation.send(session_id, "bonjour")
    conversation.send(session_id, "bonjour")
    conversation.send(session_id, "Guéret", message_id="a")
    conversation.send(session_id, "Guéret", message_id="b")
    assert _user_turns(conversation, session_id) == ["bonjour", "bonjour", "Guéret", "Guéret"]


def test_one_name_for_two_different_messages_is_refused(conversation: Conversation) -> None:
    # Reusing an id for another text would silently drop that message: the client is told.
    session_id, _ = conversation.start()
    conversation.send(session_id, "Guéret", message_id="k")
    with pytest.raises(MessageIdConflictError, match="Idempotency-Key"):
        conversation.send(session_id, "Financement", message_id="k")
    assert _user_turns(conversation, session_id) == ["Guéret"]
