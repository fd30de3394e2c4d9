"""The terminal channel (`aiguillage chat`): `run_terminal` with scripted input, its output
recorded by a rich Console."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Callable, Iterable

from rich.console import Console

from assistant.render.parts import ContactsPart
from assistant.runtime import Runtime
from connectors.base import CollectingOutput, InputChannel, OutputChannel, Reply, deliver
from connectors.terminal.channel import TerminalChannel, TerminalOutput, run_terminal

FIRST_WORDS = "Bonjour, je préside une asso à Guéret, on a 4 salariés"
# Internal ids of the structure directory: "cress-84", "dla-23", "dla-region-75"…
INTERNAL_ID = re.compile(r"\b(?:dla|cress)(?:-[a-z]+)*-\d+[ab]?\b")


def scripted(lines: Iterable[str]) -> tuple[Callable[[str], str], list[str]]:
    """A `read` giving `lines` one by one, then Ctrl-D; it keeps the prompts it was shown."""
    pending = iter(lines)
    prompts: list[str] = []

    def read(prompt: str) -> str:
        prompts.append(prompt)
        try:
            return next(pending)
        except StopIteration:
            raise EOFError from None

    return read, prompts


def recording_console() -> Console:
    return Console(record=True, width=1000, file=io.StringIO(), highlight=False, color_system=None)


def collect(runtime: Runtime, texts: list[str]) -> list[Reply]:
    """The same conversation's replies, as any output channel receives them."""
    conversation = runtime.conversation
    session_id, _greeting = conversation.start()
    output = CollectingOutput()

    async def converse() -> None:
        for text in texts:
            await deliver(conversation, session_id, text, output, "terminal")

    asyncio.run(converse())
    return [reply for _recipient, reply in output.sent]


def test_contacts_turn_shows_names_not_ids(runtime: Runtime) -> None:
    texts = [FIRST_WORDS, "1", "contacts"]
    read, prompts = scripted(texts)
    console = recording_console()
    run_terminal(runtime.conversation, read, console)
    shown = console.export_text()

    assert len(prompts) == len(texts) + 1  # every line read, then Ctrl-D
    assert shown.rstrip().endswith("À bientôt !")
    assert "Guéret (Creuse)" in shown
    # Quick replies are numbered, and a number picks one: "1" chose "Financement".
    assert re.search(r"^  1\. Financement$", shown, re.MULTILINE)
    assert "besoin : financement" in shown

    # The same turns through the output seam: the contacts the terminal had to show.
    replies = collect(runtime, [FIRST_WORDS, "Financement", "contacts"])
    contacts = next(p for p in replies[-1].parts if isinstance(p, ContactsPart)).contacts
    assert contacts
    last_turn = shown[shown.rindex("Aiguillage :") :]
    for number, contact in enumerate(contacts, start=1):
        assert f"{number}. {contact.name}" in last_turn
        assert contact.why in last_turn and contact.how_to_reach in last_turn
        assert not re.search(rf"\b{re.escape(contact.id)}\b", shown), contact.id
    assert not INTERNAL_ID.search(shown), INTERNAL_ID.search(shown)
    assert "Comment le joindre :" in last_turn
    # Guides are listed once per reply, after the contacts.
    assert last_turn.count("Pour aller plus loin") <= 1
    assert re.search(r"^  1\. Voir ma fiche$", last_turn, re.MULTILINE)


def test_terminal_output_styles_names_and_keeps_text_literal(runtime: Runtime) -> None:
    replies = collect(runtime, [FIRST_WORDS, "Financement"])
    reply = replies[-1]
    contacts = next(p for p in reply.parts if isinstance(p, ContactsPart)).contacts
    console = Console(record=True, width=200, file=io.StringIO(), force_terminal=True)
    output: OutputChannel = TerminalOutput(console)
    asyncio.run(output.send("terminal", reply))
    styled = console.export_text(styles=True)
    assert f"\x1b[1m{contacts[0].name}\x1b[0m" in styled  # names in bold

    # Markup-like text from the core is printed as is, not interpreted by rich.
    console = recording_console()
    TerminalOutput(console).show(Reply(text="[bold]pas du gras[/bold]", quick_replies=["Oui"]))
    text = console.export_text()
    assert "[bold]pas du gras[/bold]" in text and "  1. Oui" in text


def test_terminal_is_an_input_channel(runtime: Runtime) -> None:
    read, _prompts = scripted(["oubli"])
    console = recording_console()
    channel: InputChannel = TerminalChannel(runtime.conversation, read, console)
    assert channel.name == "terminal"
    channel.run()
    shown = console.export_text()
    assert "Toutes vos données ont été effacées" in shown
    assert "À bientôt" not in shown  # "oubli" erased the session and ended the conversation
