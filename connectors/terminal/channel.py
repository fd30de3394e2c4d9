"""The terminal channel: `aiguillage chat`, one conversation, quick replies numbered.

Replies go out through `TerminalOutput`, an `OutputChannel` drawing the reply's typed parts
with rich: contacts as a numbered list with bold names, sources and guides dimmed and shown
once. All text is printed as `rich.text.Text`, never as markup: what the core says stays
literal, brackets included.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from typing import Final

from rich.console import Console
from rich.text import Text

from assistant.answers.answering import SourceRef
from assistant.dialogue.conversation import Conversation
from assistant.orientation.contacts import Recommendation
from assistant.render.parts import (
    AckPart,
    AnswerPart,
    ContactsPart,
    GuidesPart,
    Part,
    StepsPart,
)
from connectors.base import Reply, deliver

__all__ = ["TerminalChannel", "TerminalOutput", "run_terminal"]

RECIPIENT: Final = "terminal"
HELP: Final = (
    "Tapez votre message ; un numéro choisit une réponse proposée ; "
    "« fiche », « recommencer », « oubli » ; Ctrl-D pour quitter."
)
MAX_GUIDES: Final = 4
INDENT: Final = "   "


class TerminalOutput:
    """An `OutputChannel` printing to a rich `Console` (one user: the recipient is ignored)."""

    def __init__(self, console: Console) -> None:
        self.console = console

    async def send(self, recipient_id: str, reply: Reply) -> None:
        self.show(reply)

    def show(self, reply: Reply) -> None:
        out = self.console
        out.print(Text("\nAiguillage :", style="bold"))
        if reply.parts:
            shown: set[str] = set()  # sources already listed in this reply
            for part in reply.parts:
                for text in _part_lines(part, shown):
                    out.print(text)
        else:
            out.print(Text(reply.text))
        for number, label in enumerate(reply.quick_replies, start=1):
            out.print(Text(f"  {number}. {label}"))


def _part_lines(part: Part, shown: set[str]) -> Iterable[Text]:
    if isinstance(part, AckPart):
        yield Text(part.text, style="italic dim")
    elif isinstance(part, AnswerPart):
        yield Text(part.body or part.text)
        yield from _sources_lines(part.citations, shown)
    elif isinstance(part, ContactsPart):
        yield from _contacts_lines(part.title, part.fresh())
        if part.again:
            yield Text(f"\n{part.again}")
    elif isinstance(part, StepsPart):
        if part.steps:
            yield Text(f"\n{part.title}")
            yield from (Text(f"  • {step.text}") for step in part.steps)
    elif isinstance(part, GuidesPart):
        yield from _guides_lines(part.title, part.guides, shown)
    elif part.text:  # question, notice
        yield Text(part.text)


def _sources_lines(citations: Sequence[SourceRef], shown: set[str]) -> Iterable[Text]:
    if not citations:
        return
    shown.update(source.id for source in citations)
    yield Text("Sources :", style="dim")
    for number, source in enumerate(citations, start=1):
        yield Text(f"  [{number}] {source.title}", style="dim")


def _guides_lines(title: str, guides: Sequence[SourceRef], shown: set[str]) -> Iterable[Text]:
    fresh = [guide for guide in guides if guide.id not in shown][:MAX_GUIDES]
    if not fresh:
        return
    shown.update(guide.id for guide in fresh)
    titles = ", ".join(f"« {guide.title} »" for guide in fresh)
    yield Text(f"\n{title.strip().rstrip(' :')} : {titles}.", style="dim")


def _contacts_lines(title: str, contacts: Sequence[Recommendation]) -> Iterable[Text]:
    yield Text(f"\n{title.strip()}")
    for number, contact in enumerate(contacts, start=1):
        heading = Text(f"\n{number}. ")
        heading.append(contact.name, style="bold")
        if contact.what:
            heading.append(f" — {contact.what}")
        yield heading
        if contact.why:
            yield Text(f"{INDENT}{contact.why}")
        details = contact.contact
        site = details.website or details.site_page
        reach = [str(v) for v in (site, details.phone, details.email) if v]
        if details.address:
            reach.append(details.address)
        if reach:
            yield Text(f"{INDENT}Comment le joindre : {' · '.join(reach)}")
        if contact.how_to_reach:
            label = INDENT if reach else f"{INDENT}Comment le joindre : "
            yield Text(f"{label}{contact.how_to_reach}")
        if contact.finder:
            yield Text(f"{INDENT}{contact.finder.label} : {contact.finder.url}")
        if not contact.verified:
            yield Text(f"{INDENT}(coordonnées à vérifier)", style="dim")


def run_terminal(
    conversation: Conversation,
    read: Callable[[str], str] = input,
    console: Console | None = None,
) -> None:
    """Hold one conversation until the user leaves (Ctrl-D) or erases it ("oubli")."""
    output = TerminalOutput(console or Console(highlight=False))
    asyncio.run(_converse(conversation, read, output))


async def _converse(
    conversation: Conversation, read: Callable[[str], str], output: TerminalOutput
) -> None:
    out = output.console
    session_id, turn = conversation.start()
    out.print(Text(HELP, style="dim"))
    await output.send(RECIPIENT, Reply.from_turn(turn))
    while turn.action != "forget":
        if turn.action == "fiche":
            out.print(Text(conversation.fiche(session_id).markdown))
        try:
            text = read("\nVous : ")
        except (EOFError, KeyboardInterrupt):
            out.print("\nÀ bientôt !")
            return
        choice = text.strip()
        if choice.isdigit() and 1 <= int(choice) <= len(turn.quick_replies):
            text = turn.quick_replies[int(choice) - 1]
        turn = await deliver(conversation, session_id, text, output, RECIPIENT)


class TerminalChannel:
    """The terminal as an `InputChannel`: it runs in the foreground, for one user."""

    name: Final = "terminal"

    def __init__(
        self,
        conversation: Conversation,
        read: Callable[[str], str] = input,
        console: Console | None = None,
    ) -> None:
        self.conversation = conversation
        self.read = read
        self.console = console

    def run(self) -> None:
        run_terminal(self.conversation, self.read, self.console)
